package eval

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
)

// Sentinel errors. Every error about an input wraps one of them and names the
// input and what to do about it.
var (
	// ErrConfig reports settings that cannot be honoured: a --labels value
	// without a known scheme, a task that does not exist, flags that
	// contradict each other.
	ErrConfig = errors.New("eval: invalid configuration")
	// ErrData reports data that cannot be evaluated: no utterances of a
	// split in the directory, no labels for any of them, a test utterance
	// of a reader the speaker probe was not trained on.
	ErrData = errors.New("eval: unusable data")
)

// Synthetic is the value of Config.Data that selects the built-in synthetic
// speech (clapp/stream/synth) instead of a directory.
const Synthetic = "synthetic"

// Task is what the probe classifies.
type Task string

// The tasks.
const (
	// TaskPhone classifies every 10 ms frame into phones (40 classes from
	// MFA TextGrids, 41 from the CPC label file, 30 for synthetic speech).
	TaskPhone Task = "phone"
	// TaskSpeaker classifies every 10 ms frame into the readers of the
	// training split.
	TaskSpeaker Task = "speaker"
)

// Label schemes of Config.Labels.
const (
	LabelsTextGrid = "textgrid"
	LabelsCPC      = "cpc"
)

// Defaults of the zero Config fields.
const (
	DefaultTrainFrames     = 200_000
	DefaultTestFrames      = 200_000
	DefaultEpochs          = 20
	DefaultLearningRate    = 1e-3
	DefaultBatchSize       = 256
	DefaultSynthTrain      = 8
	DefaultSynthTest       = 8
	DefaultRandomInitSeed  = 1
	DefaultSubsampleSeed   = 1
	defaultProgressSeconds = 0.1
)

// Config holds every setting of an evaluation. Zero fields take the
// defaults in their comments; Fill returns a copy with them filled in.
type Config struct {
	// Data is a directory of audio in LibriSpeech layout
	// (<reader>/<chapter>/<utt>.flac, at any depth; .wav files are taken
	// too, named by their base name), or Synthetic.
	Data string
	// Labels is the phone label source: "textgrid:DIR" (MFA alignments
	// in LibriSpeech layout, 40 classes) or "cpc:FILE" (the CPC label file,
	// 41 classes). Empty means: for a directory, the alignments found next
	// to it (<root>/librispeech-alignments/<subset> for
	// <root>/LibriSpeech/<subset>, or TextGrids beside the audio); for
	// synthetic speech, the generator's labels. Not used by TaskSpeaker.
	Labels string
	// Task is TaskPhone (default) or TaskSpeaker.
	Task Task
	// TrainSplit and TestSplit are split files (one utterance id a line,
	// as CPC's train_split.txt and test_split.txt). Required for a
	// directory; not used for synthetic speech.
	TrainSplit, TestSplit string

	// SynthSeed selects the synthetic speakers (synth.DefaultConfig's
	// seed when 0). SynthTrain and SynthTest are the utterances per
	// speaker of the train and test sets (8 each): the phone task trains
	// on the generator's training speakers and tests on its held-out
	// speakers; the speaker task uses the training speakers for both, the
	// test set being each speaker's next SynthTest utterances.
	SynthSeed             uint64
	SynthTrain, SynthTest int

	// TrainFrames bounds the training frames kept per layer (200000):
	// when the train split has more, that many are drawn uniformly without
	// replacement (the same frames for every layer), seeded by
	// SubsampleSeed. TestFrames does the same for the test split (200000);
	// a negative value keeps every frame.
	TrainFrames, TestFrames int
	// SubsampleSeed seeds the frame subsampling (1).
	SubsampleSeed uint64

	// Epochs (20), LearningRate (1e-3) and BatchSize (256) set the
	// probe's Adam; ProbeSeed its initialisation and shuffling (the layer
	// number is added, so that every layer gets its own stream).
	Epochs       int
	LearningRate float64
	BatchSize    int
	ProbeSeed    uint64

	// Workers is the number of utterances encoded (and probes fitted) at
	// once; 0 means runtime.GOMAXPROCS(0).
	Workers int
	// CacheDir holds cached baseline results; empty means
	// os.UserCacheDir()/clapp/eval. NoCache turns the cache off.
	CacheDir string
	NoCache  bool
	// Quiet turns the progress bar off. It is drawn on Progress (nil means
	// os.Stderr), and only when that is a terminal.
	Quiet    bool
	Progress io.Writer
	// Logger receives skipped utterances and per-layer results; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Fill returns c with the defaults of its zero fields filled in and checks
// what can be checked without reading anything.
func (c Config) Fill() (Config, error) {
	if c.Task == "" {
		c.Task = TaskPhone
	}
	if c.Task != TaskPhone && c.Task != TaskSpeaker {
		return c, fmt.Errorf("%w: task %q: use %q or %q", ErrConfig, c.Task, TaskPhone, TaskSpeaker)
	}
	if c.Data == "" {
		return c, fmt.Errorf("%w: no data: give a directory of LibriSpeech audio or %q", ErrConfig, Synthetic)
	}
	if c.Labels != "" {
		if _, _, err := ParseLabels(c.Labels); err != nil {
			return c, err
		}
		if c.Task == TaskSpeaker {
			return c, fmt.Errorf("%w: labels %q: the speaker task takes its classes from the utterance ids; drop the labels or use task %q", ErrConfig, c.Labels, TaskPhone)
		}
	}
	if c.Data == Synthetic {
		if c.TrainSplit != "" || c.TestSplit != "" {
			return c, fmt.Errorf("%w: split files are for a directory of audio; synthetic speech has its own train and test speakers", ErrConfig)
		}
		if c.Labels != "" {
			return c, fmt.Errorf("%w: labels %q: synthetic speech brings its own labels", ErrConfig, c.Labels)
		}
	}
	if c.SynthTrain < 0 || c.SynthTest < 0 || c.Epochs < 0 || c.BatchSize < 0 || c.LearningRate < 0 || c.Workers < 0 {
		return c, fmt.Errorf("%w: negative count or rate (synthetic %d/%d, epochs %d, batch %d, lr %g, workers %d)",
			ErrConfig, c.SynthTrain, c.SynthTest, c.Epochs, c.BatchSize, c.LearningRate, c.Workers)
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.SynthTrain, DefaultSynthTrain)
	def(&c.SynthTest, DefaultSynthTest)
	def(&c.TrainFrames, DefaultTrainFrames)
	def(&c.TestFrames, DefaultTestFrames)
	def(&c.Epochs, DefaultEpochs)
	def(&c.BatchSize, DefaultBatchSize)
	def(&c.Workers, runtime.GOMAXPROCS(0))
	if c.LearningRate == 0 {
		c.LearningRate = DefaultLearningRate
	}
	if c.SubsampleSeed == 0 {
		c.SubsampleSeed = DefaultSubsampleSeed
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// ParseLabels splits a --labels value into its scheme (LabelsTextGrid or
// LabelsCPC) and path.
func ParseLabels(spec string) (scheme, path string, err error) {
	scheme, path, ok := strings.Cut(spec, ":")
	if !ok || (scheme != LabelsTextGrid && scheme != LabelsCPC) {
		return "", "", fmt.Errorf("%w: labels %q: write textgrid:DIR (MFA alignments, e.g. textgrid:data/librispeech-alignments/train-clean-100) or cpc:FILE (the CPC label file converted_aligned_phones.txt)", ErrConfig, spec)
	}
	if path == "" {
		return "", "", fmt.Errorf("%w: labels %q: the %s scheme needs a path after the colon", ErrConfig, spec, scheme)
	}
	return scheme, path, nil
}
