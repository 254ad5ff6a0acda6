//go:build portaudio && cgo

package mic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gordonklaus/portaudio"

	"clapp/stream/audio"
	"clapp/stream/frame"
)

// Available reports whether microphone support is built in.
const Available = true

// paMu serialises PortAudio's Initialize and Terminate, whose reference
// count is not safe for concurrent use.
var paMu sync.Mutex

// A Mic captures one endless 16 kHz mono stream from an input device
// through PortAudio's blocking API. A dedicated goroutine reads the device
// into a ring buffer; Next takes blocks from the ring, so a slow consumer
// loses the oldest audio (counted in Stats) instead of overflowing the
// device. Block.First counts samples since capture began, dropped ones
// included: a gap between blocks shows the loss. Next and Close may be
// called from different goroutines; Next is not safe for concurrent use.
type Mic struct {
	cfg    Config
	ring   *ring
	stream *portaudio.Stream
	in     []int16 // the buffer PortAudio reads into (by pointer)
	rs     *audio.Resampler
	stats  Stats // Device, Rate, Channels: fixed at Open

	devOverruns atomic.Int64
	delivered   atomic.Int64
	stop        atomic.Bool
	done        chan struct{}
	closeOnce   sync.Once
	closeErr    error
}

// Open opens the input device and starts capturing. Without an input
// device it returns an error wrapping ErrUnavailable that says what to do.
func Open(cfg Config) (*Mic, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	paMu.Lock()
	err = portaudio.Initialize()
	paMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("%w: PortAudio does not start: %v; %s", ErrUnavailable, err, howTo)
	}
	m := &Mic{cfg: cfg, ring: newRing(cfg.Buffer), done: make(chan struct{})}
	if err := m.open(); err != nil {
		terminate()
		return nil, err
	}
	m.cfg.Logger.Info("mic: capturing", "device", m.stats.Device, "rate", m.stats.Rate, "channels", m.stats.Channels, "resampled", m.rs != nil)
	go m.capture()
	return m, nil
}

func terminate() {
	paMu.Lock()
	portaudio.Terminate()
	paMu.Unlock()
}

// open chooses the device and format and starts the stream: 16 kHz mono if
// the device takes it, else its default rate (resampled) and, if it will
// not do mono, two channels (averaged).
func (m *Mic) open() error {
	dev, err := m.device()
	if err != nil {
		return err
	}
	rates := []float64{frame.SampleRate}
	if r := dev.DefaultSampleRate; r != frame.SampleRate && r > 0 {
		rates = append(rates, r)
	}
	if m.cfg.Rate != 0 {
		rates = []float64{float64(m.cfg.Rate)}
	}
	chans := []int{1}
	if dev.MaxInputChannels >= 2 {
		chans = append(chans, 2)
	}
	if m.cfg.Channels != 0 {
		chans = []int{m.cfg.Channels}
	}
	var tried []string
	for _, rate := range rates {
		for _, ch := range chans {
			p := portaudio.StreamParameters{
				Input:           portaudio.StreamDeviceParameters{Device: dev, Channels: ch, Latency: dev.DefaultHighInputLatency},
				SampleRate:      rate,
				FramesPerBuffer: portaudio.FramesPerBufferUnspecified,
			}
			// Read 10 ms at a time.
			m.in = make([]int16, int(rate/100)*ch)
			if err := portaudio.IsFormatSupported(p, &m.in); err != nil {
				tried = append(tried, fmt.Sprintf("%g Hz x %d: %v", rate, ch, err))
				continue
			}
			if rate != math.Trunc(rate) {
				tried = append(tried, fmt.Sprintf("%g Hz: not a whole number", rate))
				continue
			}
			if rate != frame.SampleRate {
				if m.rs, err = audio.NewResampler(int(rate), frame.SampleRate); err != nil {
					return fmt.Errorf("%w: %s: %v", ErrUnavailable, dev.Name, err)
				}
			}
			s, err := portaudio.OpenStream(p, &m.in)
			if err != nil {
				return fmt.Errorf("%w: opening %s at %g Hz x %d: %v; %s", ErrUnavailable, dev.Name, rate, ch, err, howTo)
			}
			if err := s.Start(); err != nil {
				s.Close()
				return fmt.Errorf("%w: starting %s: %v; %s", ErrUnavailable, dev.Name, err, howTo)
			}
			m.stream = s
			m.stats.Device, m.stats.Rate, m.stats.Channels = dev.Name, int(rate), ch
			return nil
		}
	}
	return fmt.Errorf("%w: %s takes none of the formats tried (%s); %s", ErrUnavailable, dev.Name, strings.Join(tried, "; "), howTo)
}

// device finds the input device Config.Device names, or the default one.
func (m *Mic) device() (*portaudio.DeviceInfo, error) {
	if m.cfg.Device == "" {
		dev, err := portaudio.DefaultInputDevice()
		if err != nil || dev == nil || dev.MaxInputChannels < 1 {
			return nil, fmt.Errorf("%w: no default input device (PortAudio: %v); %s", ErrUnavailable, err, howTo)
		}
		return dev, nil
	}
	devs, err := portaudio.Devices()
	if err != nil {
		return nil, fmt.Errorf("%w: listing devices: %v; %s", ErrUnavailable, err, howTo)
	}
	var names []string
	var part *portaudio.DeviceInfo
	for _, d := range devs {
		if d.MaxInputChannels < 1 {
			continue
		}
		if d.Name == m.cfg.Device {
			return d, nil
		}
		if part == nil && strings.Contains(strings.ToLower(d.Name), strings.ToLower(m.cfg.Device)) {
			part = d
		}
		names = append(names, fmt.Sprintf("%q", d.Name))
	}
	if part != nil {
		return part, nil
	}
	return nil, fmt.Errorf("%w: no input device matches %q (inputs: %s); %s", ErrUnavailable, m.cfg.Device, strings.Join(names, ", "), howTo)
}

// capture reads the device until Close, MaxSamples or a device error.
func (m *Mic) capture() {
	defer close(m.done)
	defer func() {
		m.stream.Stop()
		m.stream.Close()
	}()
	ch := m.stats.Channels
	full := m.in
	mono := make([]float32, 0, len(full)/ch)
	var res []float32
	var left int64 = math.MaxInt64 // samples still to capture (at 16 kHz)
	if m.cfg.MaxSamples > 0 {
		left = m.cfg.MaxSamples
	}
	for !m.stop.Load() {
		// Never ask the device for more than MaxSamples needs.
		frames := len(full) / ch
		if m.rs == nil && left < int64(frames) {
			frames = int(left)
		}
		m.in = full[:frames*ch]
		err := m.stream.Read()
		if errors.Is(err, portaudio.InputOverflowed) {
			// The samples read are good; some before them were lost.
			if m.devOverruns.Add(1) == 1 {
				m.cfg.Logger.Warn("mic: device overrun: audio lost before this read", "device", m.stats.Device)
			}
		} else if err != nil {
			m.ring.finish(fmt.Errorf("%w: reading %s: %v (device unplugged?)", ErrDevice, m.stats.Device, err))
			return
		}
		mono = mono[:0]
		for i := 0; i < len(m.in); i += ch {
			var sum int32
			for _, v := range m.in[i : i+ch] {
				sum += int32(v)
			}
			mono = append(mono, float32(sum)*(1.0/32768)/float32(ch))
		}
		out := mono
		if m.rs != nil {
			res = m.rs.Process(res[:0], mono)
			out = res
		}
		if int64(len(out)) > left {
			out = out[:left]
		}
		if d := m.ring.put(out); d > 0 && m.ring.overruns.Load() == 1 {
			m.cfg.Logger.Warn("mic: consumer too slow: oldest audio dropped", "samples", d)
		}
		left -= int64(len(out))
		if left == 0 {
			m.ring.finish(io.EOF)
			return
		}
	}
}

// Next returns the next block of the stream. It waits for the device, but
// no longer than Config.Stall without a sample (ErrStalled); a device that
// fails gives an error wrapping ErrDevice. With Config.MaxSamples the last
// block has End set and Next then returns io.EOF.
func (m *Mic) Next(ctx context.Context) (frame.Block, error) {
	if m.stop.Load() {
		return frame.Block{}, ErrClosed
	}
	b, err := m.ring.take(ctx, m.cfg.Stream, m.cfg.Chunk, m.cfg.Stall)
	m.delivered.Add(int64(b.Rows))
	return b, err
}

// Close stops capturing and releases the device; Next then returns
// ErrClosed. It waits for the read in progress (10 ms of audio), but no
// longer than Config.Stall plus a second: a device hung in the driver makes
// Close return an error wrapping ErrStalled, and the device is released
// when (if) the read returns.
func (m *Mic) Close() error {
	m.closeOnce.Do(func() {
		m.stop.Store(true)
		m.ring.finish(ErrClosed)
		select {
		case <-m.done:
			terminate()
		case <-time.After(m.cfg.Stall + time.Second):
			m.closeErr = fmt.Errorf("%w: %s did not return from a read within %v", ErrStalled, m.stats.Device, m.cfg.Stall+time.Second)
			// Release PortAudio if the read ever returns.
			go func() {
				<-m.done
				terminate()
			}()
		}
	})
	return m.closeErr
}

// Stats returns the counts so far; safe for concurrent use.
func (m *Mic) Stats() Stats {
	s := m.stats
	s.Captured = m.ring.captured.Load()
	s.DeviceOverruns = m.devOverruns.Load()
	s.RingOverruns = m.ring.overruns.Load()
	s.Dropped = m.ring.dropped.Load()
	s.Delivered = m.delivered.Load()
	return s
}
