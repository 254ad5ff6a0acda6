package mic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"clapp/stream/audio"
	"clapp/stream/frame"
)

// Errors of the microphone.
var (
	// ErrUnavailable reports that no microphone can be opened: support not
	// built in, no input device, or the device refuses every format tried.
	// The error's text says what to do about it.
	ErrUnavailable = errors.New("mic: microphone unavailable")
	// ErrStalled reports a device that delivered nothing for
	// Config.Stall: unplugged, or hung in the driver.
	ErrStalled = errors.New("mic: no audio from the device")
	// ErrDevice reports a device that failed while capturing.
	ErrDevice = errors.New("mic: device failed")
	// ErrClosed reports use of a closed Mic.
	ErrClosed = errors.New("mic: closed")
)

// howTo is appended to ErrUnavailable's text.
const howTo = "to capture from a microphone, install PortAudio (Debian: apt-get install portaudio19-dev), " +
	"build with -tags portaudio (cgo enabled) and make sure an input device is present (arecord -l); " +
	"or use a file or nats:// input instead"

// Defaults of Config.
const (
	DefaultChunk  = 1600       // samples: 100 ms
	DefaultBuffer = 10 * 16000 // samples: 10 s
	DefaultStall  = 2 * time.Second
	DefaultStream = "mic"
)

// Config sets how the microphone is opened.
type Config struct {
	// Device selects the input device by its name, or failing an exact
	// match by a case-insensitive part of it; empty means the default input
	// device.
	Device string
	// Rate, if not 0, is the rate in Hz to open the device at, resampled
	// to 16 kHz; 0 means 16 kHz if the device takes it, else the device's
	// default rate.
	Rate int
	// Channels, if not 0, is the number of channels to open the device
	// with, averaged to mono; 0 means 1 if the device takes it, else 2.
	Channels int
	// Stream is the stream id of the blocks; empty means "mic".
	Stream string
	// Chunk is the number of samples per block; 0 means DefaultChunk.
	Chunk int
	// Buffer is the capacity of the ring between the device and Next, in
	// samples; when the consumer falls this far behind, the oldest samples
	// are dropped (and counted). 0 means DefaultBuffer.
	Buffer int
	// Stall is how long Next waits for the device before it reports
	// ErrStalled; 0 means DefaultStall.
	Stall time.Duration
	// MaxSamples, if positive, ends the stream after that many samples:
	// the last block has End set and Next then returns io.EOF. Zero means
	// an endless stream.
	MaxSamples int64
	// Logger receives a note on the format opened and a warning on the
	// first overrun of each kind; nil means slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.Chunk < 0 || c.Buffer < 0 || c.Stall < 0 || c.MaxSamples < 0 || c.Channels < 0 {
		return c, fmt.Errorf("mic: Config with Chunk %d, Buffer %d, Stall %v, MaxSamples %d, Channels %d", c.Chunk, c.Buffer, c.Stall, c.MaxSamples, c.Channels)
	}
	if c.Rate != 0 && (c.Rate < audio.MinRate || c.Rate > audio.MaxRate) {
		return c, fmt.Errorf("mic: Config with Rate %d Hz (want %d..%d Hz)", c.Rate, audio.MinRate, audio.MaxRate)
	}
	if c.Chunk == 0 {
		c.Chunk = DefaultChunk
	}
	if c.Buffer == 0 {
		c.Buffer = DefaultBuffer
	}
	if c.Buffer < c.Chunk {
		return c, fmt.Errorf("mic: Buffer of %d samples is shorter than a Chunk of %d", c.Buffer, c.Chunk)
	}
	if c.Stall == 0 {
		c.Stall = DefaultStall
	}
	if c.Stream == "" {
		c.Stream = DefaultStream
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// Stats counts what the microphone has done so far.
type Stats struct {
	// Device is the name of the input device; Rate and Channels the
	// format it was opened with (Rate other than 16000 is resampled).
	Device   string
	Rate     int
	Channels int
	// Captured counts the samples put into the ring, at 16 kHz.
	Captured int64
	// DeviceOverruns counts device reads that reported an input overflow:
	// the capture goroutine itself was late and the driver lost audio.
	DeviceOverruns int64
	// RingOverruns counts writes that found the ring full because the
	// consumer was slow; Dropped counts the samples lost that way.
	RingOverruns int64
	Dropped      int64
	// Delivered counts the samples handed out by Next.
	Delivered int64
}

// ring is the buffer between the capture goroutine and Next. The producer
// never waits: when the ring is full the oldest samples are overwritten, so
// a slow consumer never makes the device overflow.
type ring struct {
	mu      sync.Mutex
	buf     []float32
	start   int   // index in buf of the oldest sample
	n       int   // samples held
	first   int64 // stream index of the oldest sample held
	end     error // set by finish: io.EOF or why capture stopped
	notify  chan struct{}
	lastPut time.Time

	captured, overruns, dropped atomic.Int64
}

func newRing(capacity int) *ring {
	return &ring{buf: make([]float32, capacity), notify: make(chan struct{}, 1), lastPut: time.Now()}
}

// put appends p, dropping the oldest samples if it does not fit.
func (r *ring) put(p []float32) (dropped int) {
	total := len(p)
	r.mu.Lock()
	if r.end != nil {
		r.mu.Unlock()
		return 0
	}
	if over := r.n + len(p) - len(r.buf); over > 0 {
		if over > r.n {
			// p alone overflows the ring: only its tail survives.
			skip := over - r.n
			p = p[skip:]
			over = r.n
			r.first += int64(skip)
			dropped += skip
		}
		r.start = (r.start + over) % len(r.buf)
		r.n -= over
		r.first += int64(over)
		dropped += over
	}
	for len(p) > 0 {
		at := (r.start + r.n) % len(r.buf)
		c := copy(r.buf[at:min(len(r.buf), at+len(p))], p)
		r.n += c
		p = p[c:]
	}
	r.lastPut = time.Now()
	r.mu.Unlock()
	r.captured.Add(int64(total))
	if dropped > 0 {
		r.overruns.Add(1)
		r.dropped.Add(int64(dropped))
	}
	r.wake()
	return dropped
}

// finish records that no more samples will come, and why.
func (r *ring) finish(err error) {
	r.mu.Lock()
	if r.end == nil {
		r.end = err
	}
	r.mu.Unlock()
	r.wake()
}

func (r *ring) wake() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// take waits for chunk samples and returns them as a block. After finish it
// hands out what is left: with io.EOF as a last, possibly short, block with
// End set, then io.EOF; with another error, the whole chunks, then the
// error.
func (r *ring) take(ctx context.Context, stream string, chunk int, stall time.Duration) (frame.Block, error) {
	timer := time.NewTimer(stall)
	defer timer.Stop()
	for {
		r.mu.Lock()
		if r.n >= chunk || (r.end == io.EOF && r.n > 0) {
			b := r.pop(stream, min(chunk, r.n))
			if r.end == io.EOF && r.n == 0 {
				b.End = true
				r.end = errEOFDelivered
			}
			r.mu.Unlock()
			return b, nil
		}
		if r.end != nil {
			err := r.end
			if err == io.EOF {
				r.end = errEOFDelivered
				r.mu.Unlock()
				return frame.Block{Stream: stream, Layer: frame.AudioLayer, First: r.first, Cols: 1, Rate: frame.SampleRate, End: true}, nil
			}
			r.mu.Unlock()
			if err == errEOFDelivered {
				err = io.EOF
			}
			return frame.Block{}, err
		}
		idle := time.Since(r.lastPut)
		r.mu.Unlock()
		if idle >= stall {
			return frame.Block{}, fmt.Errorf("%w for %v (device unplugged or hung?)", ErrStalled, idle.Round(time.Millisecond))
		}
		timer.Reset(stall - idle)
		select {
		case <-ctx.Done():
			return frame.Block{}, ctx.Err()
		case <-r.notify:
		case <-timer.C:
		}
	}
}

// errEOFDelivered marks an io.EOF end whose End block has been handed out.
var errEOFDelivered = errors.New("mic: end delivered")

// pop removes n samples as a block; r.mu is held.
func (r *ring) pop(stream string, n int) frame.Block {
	data := make([]float32, n)
	c := copy(data, r.buf[r.start:min(len(r.buf), r.start+n)])
	copy(data[c:], r.buf[:n-c])
	b := frame.Block{
		Stream: stream, Layer: frame.AudioLayer, First: r.first,
		Rows: n, Cols: 1, Data: data, Rate: frame.SampleRate,
	}
	r.start = (r.start + n) % len(r.buf)
	r.n -= n
	r.first += int64(n)
	return b
}
