// Package stream is where audio comes into clapp and frames go out: every
// source behind one name, so that every command takes the same --data and
// --input values.
//
//	synthetic            built-in synthetic speech with phone labels (stream/synth)
//	synthetic:test       the same generator's held-out speakers
//	DIR                  LibriSpeech layout (.flac) or a directory of WAV files (stream/audio)
//	FILE.flac, FILE.wav  one file
//	mic                  the microphone (stream/mic, build tag portaudio)
//	nats://clapp.RUN.audio      audio published live by another process
//	nats://clapp.RUN.layer.N    layer N's frames published by another process
//	nats://clapp_RUN_audio      a recorded JetStream stream, replayed (stream/natsbus)
//
// A Source yields frame.Blocks of one stream at a time (many streams
// interleaved: the learner's batch); Paced releases them in real time and
// Segment cuts an endless live stream into segments.
//
// The sub-packages hold the pieces: frame (the Block type and its wire
// format), audio (FLAC, WAV, resampling), synth (synthetic speech), labels
// (TextGrid and CPC phone labels on the 10 ms grid, encoder geometry), mic
// (PortAudio), natsbus (NATS publishing, subscribing, JetStream, the
// embedded server) and streamtest (where tests find the shared data).
package stream
