package main

import (
	"context"
	"fmt"
	"io"
)

// These commands are wired in the next steps.
func cmdProbe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return fmt.Errorf("probe is not built yet")
}
func cmdEncode(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return fmt.Errorf("encode is not built yet")
}
func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return fmt.Errorf("bench is not built yet")
}
