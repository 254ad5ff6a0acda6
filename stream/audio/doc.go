// Package audio reads recorded speech as a clapp audio source: FLAC (the
// LibriSpeech corpus) and WAV files, one file or a whole directory tree,
// as frame.Blocks of 16 kHz mono float32 samples.
//
// # Sources
//
// Open takes a path: a directory in LibriSpeech layout
// (<reader>/<chapter>/<reader>-<chapter>-<n>.flac) if it holds .flac
// files, a directory of .wav files otherwise, or one .flac or .wav file.
// OpenLibriSpeech, OpenWAVDir and OpenFile choose explicitly. A Source
// yields blocks with Layer frame.AudioLayer, Cols 1, Rate 16000, Stream the
// file's stream id (for LibriSpeech the utterance id, e.g.
// "4088-158077-0001"), First the index of the block's first sample in its
// stream, and End set on the last block of each stream:
//
//	src, err := audio.Open(dir, audio.Config{Streams: 8, Shuffle: true, Seed: 1})
//	...
//	for {
//		b, err := src.Next(ctx) // io.EOF when every file has been read
//		...
//	}
//
// Config sets the block length (Chunk, default 1600 samples = 100 ms),
// the number of files read at once with their blocks interleaved
// round-robin (Streams: the batch of the learner), the order (sorted by
// stream id, or shuffled from a seed, anew on every pass), looping over the
// list (Loop), a restriction to the ids of a split file (IDs, see
// ReadSplit), and a callback for damaged files (OnSkip). Stats counts
// streams, blocks, samples, skipped and truncated files. Next does not
// pace: it yields as fast as the files decode.
//
// # Memory
//
// A directory is listed once, by name (a few MB for the 28,539 files of
// LibriSpeech's train-clean-100); files are opened when their turn comes
// and decoded as they are read, one FLAC frame or 64 KiB of WAV at a time.
// Decoded audio is held only for the open streams. Reading a 10-hour tree
// of 3030 files with 8 streams keeps the live heap near 1 MB (see
// BenchmarkTree).
//
// # Damaged files
//
// A file that cannot be opened or decoded at all is skipped: a warning
// naming it is logged with log/slog, it is counted in Stats.Skipped, and
// Config.OnSkip is called; it is not retried on later passes. A file that
// breaks off midway (a truncated FLAC, a WAV whose header announces more
// data than the file holds) ends its stream with an End block after the
// samples decoded so far, and is counted in Stats.Truncated. Neither stops
// the Source. Errors wrap ErrCorrupt, ErrFormat or ErrRate and name the
// file.
//
// # Formats
//
// FLAC is decoded in pure Go with github.com/mewkiz/flac, frame by frame,
// bit-exact with the reference decoder. WAV is RIFF/WAVE with PCM of 8, 16,
// 24 or 32 bits, IEEE float of 32 or 64 bits, plain or
// WAVE_FORMAT_EXTENSIBLE; other format codes are refused with an error
// naming the file and the code. Files are recognised by their first bytes,
// whatever their extension. Integer samples become float32 by dividing by
// 2^(bits-1) (int16/32768: [-1, 1)); channels are averaged to mono.
//
// # Resampling
//
// A file at another rate than 16 kHz is resampled by a Resampler (logged
// once per file): a Kaiser-windowed sinc filter in polyphase form, with
// no delay, flat to within ResampleRippleDB (0.01 dB) up to 0.9 of the lower
// Nyquist frequency (7.2 kHz for a 16 kHz output) and attenuated by at
// least ResampleStopbandDB (80 dB) from that Nyquist frequency up, so that
// nothing above 8 kHz aliases into the output. The filter is designed for
// 90 dB; the tests measure at least 92 dB and 0.0003 dB of ripple at the
// common rates. Rates outside [MinRate, MaxRate] (1 kHz to 768 kHz) are
// refused with an error wrapping ErrRate that names the file and the rate.
// The stream/mic package uses the same Resampler for devices that cannot
// capture at 16 kHz.
//
// The LibriSpeech data used by the tests is by Panayotov, Chen, Povey and
// Khudanpur (ICASSP 2015, openslr.org/12), CC BY 4.0.
package audio
