// Package frame defines Block, the one type that carries timestepped data
// everywhere in clapp: audio samples from a source, the activations of an
// encoder layer between actors, and the same activations encoded on NATS.
//
// A Block is a run of consecutive timesteps of one stream (an utterance, a
// live session segment). Audio is layer 0 with one column at 16 kHz; layer n
// of the encoder has its own frame rate and width. Labels on the canonical
// 10 ms grid travel as LabelLayer blocks with one column holding the class.
//
// # Subjects
//
// Every subject starts with "clapp" and the run name, a single NATS token
// of ASCII letters, digits, '_' and '-' (see ValidateRun):
//
//	clapp.<run>.layer.<n>   frames of encoder layer n (1..MaxLayer)
//	clapp.<run>.audio       raw audio blocks (layer 0)
//	clapp.<run>.labels      label blocks (LabelLayer)
//	clapp.<run>.control     request/reply, JSON payloads defined by the actors
//	clapp.<run>.stats       statistics, defined by the actors
//
// LayerSubject, AudioSubject, BlockSubject, ... build them; ParseSubject
// reads them back. clapp.<run>.layer.* (AllLayersSubject) matches every
// layer of a run, clapp.<run>.> everything of a run.
//
// # Wire format of one Block
//
// One Block is one NATS message. Its metadata travel as NATS headers
// (names are case-sensitive, one value each), its data as the payload:
// Rows*Cols IEEE 754 float32 values, little-endian, row-major (row i, column
// j at byte offset 4*(i*Cols+j)); no other bytes. A block of zero rows
// (typically the end of a stream) has an empty payload.
//
//	header        value                                       Block field
//	Clapp-Stream  stream id, 1..256 bytes of UTF-8 without     Stream
//	              control characters or edge spaces
//	Clapp-First   decimal int64 >= 0: index of row 0 in the     First
//	              stream, in this layer's timesteps
//	Clapp-Rows    decimal int >= 0: timesteps in the block      Rows
//	Clapp-Cols    decimal int >= 1: values per timestep         Cols
//	Clapp-Dtype   "f32le" (the only dtype so far)               -
//	Clapp-Layer   decimal int, -1 (labels), 0 (audio),          Layer
//	              1..64 (encoder layers)
//	Clapp-Rate    decimal float, finite, > 0: timesteps per     Rate
//	              second of audio (16000 for audio)
//	Clapp-Model   optional: model version that produced it      Model
//	Clapp-End     optional: "true" on the last block of the     End
//	              stream ("false" or absent otherwise)
//
// Row i of a block is timestep First+i of its stream and starts
// (First+i)/Rate seconds into it. The headers of a 10 ms frame of layer 5
// read:
//
//	Clapp-Stream: 103-1240-0000
//	Clapp-First: 4800
//	Clapp-Rows: 1
//	Clapp-Cols: 512
//	Clapp-Dtype: f32le
//	Clapp-Layer: 5
//	Clapp-Rate: 100
//	Clapp-Model: clapp-2026-11-03T10:00:00Z
//
// and its payload is 2048 bytes.
//
// A Decoder rejects, with an error wrapping one sentinel and a count by
// reason (Decoder.Stats): a missing or repeated header (ErrMissingHeader,
// ErrBadHeader), an unparseable value (ErrBadHeader), a value out of range
// (ErrOutOfRange), a dtype other than f32le (ErrDtype), a payload whose
// size is not Rows*Cols*4 (ErrPayloadSize) or larger than the decoder's
// limit (ErrTooLarge), NaN or Inf in the data (ErrNonFinite), audio
// declared at a rate other than 16000 Hz or a rate the receiver cannot
// honour (ErrRate), a layer or width the receiver does not expect, or a
// layer other than the one its subject names (ErrMismatch). Headers this
// package does not know are ignored, so fields can be added.
//
// # Decoding in Go
//
// With nats.go, a message's Header is a map[string][]string already:
//
//	dec := frame.NewDecoder()
//	sub, err := nc.Subscribe("clapp.run1.layer.*", func(m *nats.Msg) {
//		b, err := dec.DecodeMsg(m.Subject, m.Header, m.Data)
//		if err != nil {
//			slog.Warn("bad frame", "err", err) // counted in dec.Stats()
//			return
//		}
//		fmt.Println(b.Stream, b.Layer, b.First, b.Rows, b.Cols, b.Row(0)[:4])
//	})
//
// Package clapp/stream/natsbus does this with bounded buffers, and
// publishes without blocking.
//
// # Decoding in Python
//
// With numpy, given the headers as a dict of strings and the payload as
// bytes (as a NATS client such as nats-py hands them over):
//
//	import numpy as np
//
//	def decode_block(headers, payload):
//	    """Returns (stream, layer, first, rate, end, data[rows, cols])."""
//	    if headers["Clapp-Dtype"] != "f32le":
//	        raise ValueError("unknown dtype %r" % headers["Clapp-Dtype"])
//	    rows, cols = int(headers["Clapp-Rows"]), int(headers["Clapp-Cols"])
//	    if rows < 0 or cols < 1 or len(payload) != rows * cols * 4:
//	        raise ValueError("%d payload bytes for %d x %d" % (len(payload), rows, cols))
//	    data = np.frombuffer(payload, dtype="<f4").reshape(rows, cols)
//	    if not np.isfinite(data).all():
//	        raise ValueError("NaN or Inf in the data")
//	    end = headers.get("Clapp-End", "false") == "true"
//	    return (headers["Clapp-Stream"], int(headers["Clapp-Layer"]),
//	            int(headers["Clapp-First"]), float(headers["Clapp-Rate"]), end, data)
//
// np.frombuffer does not copy: the array is read-only and aliases payload.
package frame
