package frame

// SampleRate is the rate of every audio stream inside clapp, in Hz.
const SampleRate = 16000

// AudioLayer is the layer number of raw audio samples.
const AudioLayer = 0

// LabelLayer is the layer number of a block of class labels on the
// canonical 10 ms grid (label i is the class at (i+1/2)*10 ms); Data holds
// the class indices as float32 in one column.
const LabelLayer = -1

// Block is a run of Rows consecutive timesteps of one stream, each a row of
// Cols float32 values, row-major in Data.
type Block struct {
	// Stream identifies the stream, e.g. the utterance id "103-1240-0000".
	Stream string
	// Layer is AudioLayer for samples, 1..6 for encoder layers, LabelLayer
	// for labels.
	Layer int
	// First is the index of the first row in the stream, counted in this
	// layer's own timesteps (samples for audio).
	First int64
	Rows  int
	Cols  int
	// Data holds Rows*Cols values, row-major.
	Data []float32
	// Rate is the number of rows per second of audio (16000 for audio,
	// 100 for labels and for layers 5 and 6).
	Rate float64
	// End reports that the stream has no rows after this block. A block
	// with End set may have zero rows.
	End bool
	// Model names the model version that produced the block; empty for
	// audio and labels.
	Model string
}

// Row returns row i of b as a slice aliasing b.Data.
func (b *Block) Row(i int) []float32 { return b.Data[i*b.Cols : (i+1)*b.Cols] }

// Last returns the index in the stream one past the block's last row.
func (b *Block) Last() int64 { return b.First + int64(b.Rows) }
