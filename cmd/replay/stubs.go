package main

import (
	"context"
	"fmt"
	"io"
)

// probe and encode are wired to cmd/replay/eval next.
func cmdProbe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return fmt.Errorf("probe is not built yet")
}
func cmdEncode(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return fmt.Errorf("encode is not built yet")
}
