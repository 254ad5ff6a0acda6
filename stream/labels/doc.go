// Package labels puts every source of labels on clapp's one canonical
// grid, and tells where an encoder layer's frames sit on it, so that a
// linear probe can pair frames with classes.
//
// # The grid
//
// Label i of an utterance is the class at time (i + 1/2) x 10 ms; an
// utterance of N samples at 16 kHz has GridLen(N) = floor(N/160) labels.
// Sample u is taken to span [u, u+1), so grid position j is the cell
// [160 j, 160 j + 160) with its centre at 160 j + 80 samples (GridCentre);
// a partial cell at the end of the audio has no label. A Seq holds the
// labels of one utterance (one uint8 class per position) and converts to
// and from frame.Block with Layer frame.LabelLayer, Rate 100 and the class
// as a float32 in one column (Seq.Block, Seq.Append, FromBlocks).
//
// # MFA alignments (40 phone classes)
//
// ParseTextGrid and ReadTextGrid read Praat TextGrids in the long
// ("ooTextFile", as the Montreal Forced Aligner writes them) and the short
// text format, UTF-8 or UTF-16. TextGrid.Phones takes the "phones" tier,
// folds the stress digit of vowels (AH0 -> AH), maps "sil", "sp", "spn"
// and the empty text to silence, and gives each grid position the class of
// the interval [xmin, xmax) that contains its centre. Times are rounded to
// the nearest sample first; a boundary exactly on a grid time goes to the
// later interval (none of the shared files has one); positions no interval
// covers are silence, as Praat shows a gap. The audio length is xmax, which
// MFA sets to the audio's. The classes, fixed and exposed by PhoneNames
// and PhoneClass:
//
//	0 sil   1 AA   2 AE   3 AH   4 AO   5 AW   6 AY   7 B    8 CH   9 D
//	10 DH  11 EH  12 ER  13 EY  14 F   15 G   16 HH  17 IH  18 IY  19 JH
//	20 K   21 L   22 M   23 N   24 NG  25 OW  26 OY  27 P   28 R   29 S
//	30 SH  31 T   32 TH  33 UH  34 UW  35 V   36 W   37 Y   38 Z   39 ZH
//
// An unknown symbol (or a stress digit on a consonant) is an error naming
// the file, the tier, the interval and the symbol. Alignments reads a
// whole tree in LibriSpeech's layout (<reader>/<chapter>/<utt>.TextGrid)
// lazily: Phones(utt) reads one file, All walks the tree file by file.
//
// # The CPC phone-label file (41 classes)
//
// converted_aligned_phones.txt has one line per utterance, "<utt> l0 l1
// ...", classes 0..40 (the file does not name them). Its frame i covers
// samples [160 i, 160 i + 400), centre 160 i + 200, so an utterance has
// CPCFrames(N) = floor((N - 400)/160) + 1 labels: one or two fewer than
// the grid. ReadCPC streams the file keeping only the ids asked for;
// OpenCPC indexes line offsets and reads one utterance at a time.
//
// CPCToGrid checks the label count against the audio length and gives grid
// position j the CPC frame whose centre is nearest the grid time: frame
// j - 1, whose centre is 40 samples later, clamped to the frames there are
// (CPCFrameOf). Two grid positions can have no frame of their own and are
// extrapolated from the nearest one: position 0 always (frame 0's centre
// is 120 samples later, inside its window), and the last position when N
// mod 160 < 80 (the last frame's centre is 200 samples earlier, its window
// ends at that grid time). Of the two sample utterances with audio,
// 4051-11218-0044 (N mod 160 = 0) has both, 2911-12359-0007 (N mod 160 =
// 80) only the first.
//
// # Speakers
//
// Speaker and ParseUttID read the reader from a LibriSpeech id
// ("4088-158077-0001" -> 4088). NewSpeakers maps the readers of a set of
// utterances to classes 0..Len()-1 in ascending numeric reader order, so
// the mapping depends only on which readers occur.
//
// # Encoder frames on the grid
//
// Geometry follows a chain of layers (Conv: kernel, stride, padding per
// layer; a recurrent layer that keeps its input's timing is Conv{1, 1,
// 0}). Layer n's frame t reads frames [t s - p, t s - p + k - 1] of layer
// n - 1, so its receptive field is samples [Start + t Jump, Start + t Jump
// + Width) with Jump the product of the strides; padding makes Start
// negative (the field reaches before the audio) and shifts every centre,
// Start + t Jump + Width/2. Frames counts frames as PyTorch does,
// floor((L + 2p - k)/s) + 1 per layer. Field.Nearest gives the frame whose
// centre is nearest a grid position (clamped to the frames there are; the
// earlier of two equally near); Field.Pool the frames whose centres fall
// inside a grid cell, which a probe may average for layers faster than
// 100 Hz; Field.Cell the inverse, the cell holding a frame's centre. All
// of it is exact integer arithmetic in half samples.
//
// The paper's encoder (PaperEncoder: GIM's five convolutions and the GRU,
// which keeps layer 5's timing). Frame counts are for a window of 20480
// samples (the spec's 4095, 1023, 512, 257, 128); centres in samples; the
// nearest and pooled frames are those of grid position j inside the
// window (clamped to the layer's frames at the far end):
//
//	layer  k/s/p   jump  rate Hz  width  field of t=0  centre of t  frames  nearest  pooled into j
//	0      audio      1  16000      1  [0, 1)       t+0.5       20480  160j+79  [160j, 160j+160)
//	1      10/5/2     5   3200     10  [-2, 8)      5t+3         4095  32j+15   [32j, 32j+32)
//	2      8/4/2     20    800     45  [-12, 33)    20t+10.5     1023  8j+3     [8j, 8j+8)
//	3      4/2/2     40    400    105  [-52, 53)    40t+0.5       512  4j+2     [4j, 4j+4)
//	4      4/2/2     80    200    225  [-132, 93)   80t-19.5      257  2j+1     [2j+1, 2j+3)
//	5      4/2/1    160    100    465  [-212, 253)  160t+20.5     128  j        [j, j+1)
//	6      GRU      160    100    465  [-212, 253)  160t+20.5     128  j        [j, j+1)
//
// Layers 5 and 6 are thus on the grid: frame j is grid position j, its
// centre 59.5 samples (3.7 ms) before the grid time. The GRU's width is
// that of its input; the GRU itself sees the whole past. For a whole
// utterance of N samples, layers 5 and 6 have GridLen(N) frames, and one
// more when N mod 160 >= 41 (its centre lies in the partial last cell,
// which has no label).
//
// CPC label i therefore pairs with layer-5 frame i + 1 (centres 19.5
// samples apart). Trimming the encoder output of a whole utterance from
// the front to the label count, as the spec says GIM's probe does, pairs
// label i with frame i + 2 instead (i + 3 when 41 <= N mod 160 < 80): 10
// to 20 ms after the nearest frame.
//
// # Errors
//
// Errors about an input are *Error values naming the file (or stream),
// the line when there is one, and what is wrong; they wrap one of the
// sentinels ErrTextGrid, ErrNoTier, ErrUnknownSymbol, ErrCPC,
// ErrUtterance, ErrLength or ErrBlock. Parsers never panic on bad input.
package labels
