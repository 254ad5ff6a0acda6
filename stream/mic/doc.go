// Package mic captures the microphone as a clapp audio source: one endless
// stream of frame.Blocks, 16 kHz mono float32 in [-1, 1), Layer
// frame.AudioLayer, Stream "mic" unless configured, First counting samples
// since capture began.
//
// The real capture uses PortAudio (github.com/gordonklaus/portaudio) and is
// built only with the portaudio build tag and cgo:
//
//	apt-get install portaudio19-dev
//	go build -tags portaudio ./...
//
// Without them, Open returns an error wrapping ErrUnavailable that says how
// to get the microphone, or to use a file or nats:// input instead; the
// constant Available tells which build this is.
//
// A dedicated goroutine reads the device with PortAudio's blocking API
// (Stream.Read, 10 ms at a time, 16-bit) into a ring buffer of
// Config.Buffer samples. Next takes Config.Chunk samples at a time from the
// ring. A consumer that falls behind does not stall the device: the oldest
// samples are dropped, counted (Stats.RingOverruns, Stats.Dropped), and show
// as a jump in Block.First. Reads that PortAudio reports as overflowed are
// counted in Stats.DeviceOverruns. The device is opened at 16 kHz mono when
// it takes that; otherwise at its default rate (or Config.Rate), resampled
// with stream/audio's Resampler, and in stereo (or Config.Channels),
// averaged.
//
// A device that fails gives an error wrapping ErrDevice from Next once the
// audio read before the failure is handed out; a device that stops
// delivering (unplugged, hung in the driver) gives ErrStalled after
// Config.Stall rather than a Next that never returns. Close stops the
// capture goroutine and releases the device.
//
// Pacing, segmenting the stream into utterances and publishing it are done
// elsewhere.
package mic
