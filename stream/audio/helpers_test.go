package audio

import (
	"errors"
	"os"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// openDecoderFile reads path's header and closes the file again.
func openDecoderFile(path string) (*Decoder, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return NewDecoder(f, path)
}
