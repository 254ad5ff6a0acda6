package labels

import (
	"errors"
	"fmt"
)

// Sentinel errors; every error of the package that concerns an input wraps
// one of them inside an *Error that names the input.
var (
	// ErrTextGrid reports a TextGrid that cannot be read: bad syntax, a bad
	// number, intervals out of order or overlapping, xmax before xmin.
	ErrTextGrid = errors.New("labels: malformed TextGrid")
	// ErrNoTier reports that a TextGrid lacks the tier asked for (or has it
	// twice).
	ErrNoTier = errors.New("labels: no such tier")
	// ErrUnknownSymbol reports an interval whose text maps to no class,
	// such as a phone outside the 39 ARPAbet phones.
	ErrUnknownSymbol = errors.New("labels: unknown symbol")
	// ErrCPC reports a malformed line of a CPC phone-label file.
	ErrCPC = errors.New("labels: malformed CPC label line")
	// ErrUtterance reports an utterance id that is not a LibriSpeech id
	// (reader-chapter-index), or one that a file or mapping does not hold.
	ErrUtterance = errors.New("labels: malformed or unknown utterance id")
	// ErrLength reports labels whose count does not fit the audio length.
	ErrLength = errors.New("labels: label count does not match audio length")
	// ErrBlock reports a frame.Block that does not carry labels.
	ErrBlock = errors.New("labels: not a label block")
)

// Error locates a problem in an input: the file (or stream) name, the line
// when known, and what is wrong. Err is one of the package's sentinels.
type Error struct {
	File string // the input's name, usually a path
	Line int    // 1-based line, 0 when the problem has no single line
	Msg  string // what is wrong, and where inside the file
	Err  error  // the sentinel, for errors.Is
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("labels: %s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("labels: %s: %s", e.File, e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }
