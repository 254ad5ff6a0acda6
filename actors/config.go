package actors

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrConfig reports an invalid pipeline configuration.
var ErrConfig = errors.New("actors: invalid configuration")

// NightKind says when a layer replays its stored negatives.
type NightKind int

const (
	// NightEvery replays after every N blocks of day (the default).
	NightEvery NightKind = iota
	// NightIdle replays when the input is silent or idle.
	NightIdle
	// NightNever applies positive and negative terms together on every
	// block: the paper's synchronous CLAPP-s, the baseline.
	NightNever
	// NightAlternate applies, for every context, either its positive or
	// its negative terms with equal probability: the paper's CLAPP.
	NightAlternate
	// NightControl replays only when told to (a control message).
	NightControl
)

// NightPolicy is a NightKind with its parameter.
type NightPolicy struct {
	Kind NightKind
	// Every is the number of day blocks between nights for NightEvery.
	Every int
	// Idle is how long the input must be idle or silent for NightIdle.
	Idle time.Duration
}

// ParseNight reads every:N, idle, idle:DURATION, never, alternate or control.
func ParseNight(s string) (NightPolicy, error) {
	name, arg, _ := strings.Cut(s, ":")
	switch name {
	case "every":
		n, err := strconv.Atoi(arg)
		if err != nil || n < 1 {
			return NightPolicy{}, fmt.Errorf("%w: night policy %q: every:N needs a block count N >= 1", ErrConfig, s)
		}
		return NightPolicy{Kind: NightEvery, Every: n}, nil
	case "idle":
		d := 500 * time.Millisecond
		if arg != "" {
			var err error
			if d, err = time.ParseDuration(arg); err != nil || d <= 0 {
				return NightPolicy{}, fmt.Errorf("%w: night policy %q: idle:DURATION needs a positive duration such as 500ms", ErrConfig, s)
			}
		}
		return NightPolicy{Kind: NightIdle, Idle: d}, nil
	case "never":
		return NightPolicy{Kind: NightNever}, nil
	case "alternate":
		return NightPolicy{Kind: NightAlternate}, nil
	case "control":
		return NightPolicy{Kind: NightControl}, nil
	}
	return NightPolicy{}, fmt.Errorf("%w: night policy %q: want every:N, idle[:DURATION], never, alternate or control", ErrConfig, s)
}

func (p NightPolicy) String() string {
	switch p.Kind {
	case NightEvery:
		return fmt.Sprintf("every:%d", p.Every)
	case NightIdle:
		return "idle:" + p.Idle.String()
	case NightNever:
		return "never"
	case NightAlternate:
		return "alternate"
	}
	return "control"
}

// dayNight reports whether the policy separates day and night.
func (p NightPolicy) dayNight() bool {
	return p.Kind == NightEvery || p.Kind == NightIdle || p.Kind == NightControl
}
