package eval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"clapp/stream/audio"
	"clapp/stream/labels"
	"clapp/stream/synth"
)

// Utterance is one utterance of a split with its labels on the 10 ms grid.
type Utterance struct {
	ID string `json:"id"`
	// Path is the audio file; empty for synthetic speech, which is made
	// from Speaker and Index.
	Path           string `json:"path,omitempty"`
	Speaker, Index int    `json:"-"`
	// Samples is the length of the audio at 16 kHz as its header gives it.
	Samples int `json:"samples"`
	// Labels holds one class per grid position: Labels[j] is the class at
	// (j + 1/2) x 10 ms. Its length is the number of frames probed.
	Labels []int32 `json:"-"`
}

// Skip names an utterance left out of a split and why.
type Skip struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// Split is the train or the test set of an evaluation.
type Split struct {
	Name string `json:"name"`
	// File is the split file; empty for synthetic speech.
	File string `json:"file,omitempty"`
	// Requested counts the ids of the split file; Missing lists those that
	// are not in the data directory (normal when the directory holds part
	// of the corpus).
	Requested int      `json:"requested"`
	Missing   []string `json:"-"`
	// Skipped lists the utterances present but left out: no labels for
	// them, or labels that do not fit their audio.
	Skipped    []Skip      `json:"skipped,omitempty"`
	Utterances []Utterance `json:"-"`
}

// Frames returns the number of labelled grid positions of the split.
func (s *Split) Frames() int {
	n := 0
	for _, u := range s.Utterances {
		n += len(u.Labels)
	}
	return n
}

// Seconds returns the length of the split's audio.
func (s *Split) Seconds() float64 {
	n := 0
	for _, u := range s.Utterances {
		n += u.Samples
	}
	return float64(n) / float64(labels.Hop*labels.GridRate)
}

// IDs returns the ids of the split's utterances in order.
func (s *Split) IDs() []string {
	ids := make([]string, len(s.Utterances))
	for i, u := range s.Utterances {
		ids[i] = u.ID
	}
	return ids
}

// Summary is one line for a person: how many utterances were used, found,
// missing and skipped.
func (s *Split) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d utterances, %.1f min, %d frames", s.Name, len(s.Utterances), s.Seconds()/60, s.Frames())
	if s.File != "" {
		fmt.Fprintf(&b, "; %d of the %d ids of %s found, %d missing", s.Requested-len(s.Missing), s.Requested, s.File, len(s.Missing))
	}
	if len(s.Skipped) > 0 {
		fmt.Fprintf(&b, "; %d skipped (first: %s: %s)", len(s.Skipped), s.Skipped[0].ID, s.Skipped[0].Reason)
	}
	return b.String()
}

// Dataset is what an evaluation probes: the train and test utterances with
// their labels, and the classes.
type Dataset struct {
	// Data is the directory (absolute) or Synthetic.
	Data string `json:"data"`
	// Labels is the label source as used: "textgrid:DIR", "cpc:FILE",
	// "synthetic" or "speaker".
	Labels     string   `json:"labels"`
	Task       Task     `json:"task"`
	Classes    int      `json:"classes"`
	ClassNames []string `json:"class_names"`
	Train      Split    `json:"train"`
	Test       Split    `json:"test"`

	gen *synth.Generator
}

// LoadDataset lists the utterances of both splits, reads the headers of
// their audio and their labels. It reads no audio beyond the headers.
func LoadDataset(ctx context.Context, cfg Config) (*Dataset, error) {
	cfg, err := cfg.Fill()
	if err != nil {
		return nil, err
	}
	if cfg.Data == Synthetic {
		return loadSynthetic(cfg)
	}
	return loadDirectory(ctx, cfg)
}

func loadSynthetic(cfg Config) (*Dataset, error) {
	sc := synth.Config{Seed: cfg.SynthSeed}
	if sc.Seed == 0 {
		sc.Seed = synth.DefaultConfig().Seed
	}
	g, err := synth.New(sc)
	if err != nil {
		return nil, fmt.Errorf("%w: synthetic speech: %w", ErrConfig, err)
	}
	ds := &Dataset{Data: Synthetic, Task: cfg.Task, gen: g,
		Train: Split{Name: "train"}, Test: Split{Name: "test"}}
	add := func(sp *Split, speaker, first, n int, class func(int) int32) {
		for i := first; i < first+n; i++ {
			u := Utterance{ID: synth.ID(speaker, i), Speaker: speaker, Index: i, Samples: g.Len(speaker, i)}
			l := g.Labels(speaker, i)
			u.Labels = make([]int32, len(l))
			for j, c := range l {
				u.Labels[j] = class(c)
			}
			sp.Utterances = append(sp.Utterances, u)
			sp.Requested++
		}
	}
	switch cfg.Task {
	case TaskPhone:
		ds.Labels = Synthetic
		ds.Classes, ds.ClassNames = synth.NumClasses, synth.PhoneNames()
		phone := func(c int) int32 { return int32(c) }
		for _, s := range g.TrainSpeakers() {
			add(&ds.Train, s, 0, cfg.SynthTrain, phone)
		}
		for _, s := range g.TestSpeakers() {
			add(&ds.Test, s, 0, cfg.SynthTest, phone)
		}
	case TaskSpeaker:
		// Held-out speakers cannot be classified by a speaker probe: test
		// on later utterances of the training speakers instead.
		ds.Labels = "speaker"
		for k, s := range g.TrainSpeakers() {
			ds.ClassNames = append(ds.ClassNames, fmt.Sprintf("s%02d", s))
			class := func(int) int32 { return int32(k) }
			add(&ds.Train, s, 0, cfg.SynthTrain, class)
			add(&ds.Test, s, cfg.SynthTrain, cfg.SynthTest, class)
		}
		ds.Classes = len(ds.ClassNames)
	}
	return ds, nil
}

// labelSource gives the labels of one utterance of samples samples on the
// grid, or a reason to skip it.
type labelSource func(utt string, samples int) (classes []int32, skip string, err error)

func loadDirectory(ctx context.Context, cfg Config) (*Dataset, error) {
	if cfg.TrainSplit == "" || cfg.TestSplit == "" {
		return nil, fmt.Errorf("%w: data %s needs a train split and a test split (files of utterance ids, e.g. CPC's train_split.txt and test_split.txt)", ErrConfig, cfg.Data)
	}
	dir, err := filepath.Abs(cfg.Data)
	if err != nil {
		return nil, fmt.Errorf("%w: data %s: %w", ErrConfig, cfg.Data, err)
	}
	files, err := indexAudio(dir)
	if err != nil {
		return nil, err
	}
	ds := &Dataset{Data: dir, Task: cfg.Task}
	for _, sp := range []struct {
		s    *Split
		name string
		file string
	}{{&ds.Train, "train", cfg.TrainSplit}, {&ds.Test, "test", cfg.TestSplit}} {
		ids, err := audio.ReadSplit(sp.file)
		if err != nil {
			return nil, fmt.Errorf("%w: %s split: %w", ErrData, sp.name, err)
		}
		*sp.s = Split{Name: sp.name, File: sp.file, Requested: len(ids)}
		for _, id := range ids {
			if p, ok := files[id]; ok {
				sp.s.Utterances = append(sp.s.Utterances, Utterance{ID: id, Path: p})
			} else {
				sp.s.Missing = append(sp.s.Missing, id)
			}
		}
		if len(sp.s.Utterances) == 0 {
			return nil, fmt.Errorf("%w: none of the %d ids of the %s split %s is in %s (%d audio files there): check that the split belongs to this corpus",
				ErrData, len(ids), sp.name, sp.file, dir, len(files))
		}
	}
	if err := readLengths(ctx, cfg.Workers, &ds.Train, &ds.Test); err != nil {
		return nil, err
	}

	var src labelSource
	switch cfg.Task {
	case TaskSpeaker:
		src, err = ds.speakerLabels()
	default:
		src, err = ds.phoneLabels(cfg.Labels, dir)
	}
	if err != nil {
		return nil, err
	}
	for _, sp := range []*Split{&ds.Train, &ds.Test} {
		kept := sp.Utterances[:0]
		for _, u := range sp.Utterances {
			cl, skip, err := src(u.ID, u.Samples)
			if err != nil {
				return nil, err
			}
			if skip != "" {
				sp.Skipped = append(sp.Skipped, Skip{u.ID, skip})
				cfg.Logger.Warn("eval: utterance skipped", "split", sp.Name, "utt", u.ID, "reason", skip)
				continue
			}
			u.Labels = cl
			kept = append(kept, u)
		}
		sp.Utterances = kept
		if len(kept) == 0 {
			return nil, fmt.Errorf("%w: no utterance of the %s split has usable labels in %s (%d skipped; first: %s: %s)",
				ErrData, sp.Name, ds.Labels, len(sp.Skipped), sp.Skipped[0].ID, sp.Skipped[0].Reason)
		}
	}
	return ds, nil
}

// indexAudio maps the utterance ids of the .flac and .wav files under dir
// (their base names) to their paths.
func indexAudio(dir string) (map[string]string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: data %s: %w", ErrData, dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%w: data %s is not a directory: give the directory of the audio (e.g. LibriSpeech/train-clean-100) or %q", ErrData, dir, Synthetic)
	}
	files := make(map[string]string)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if strings.HasPrefix(name, ".") && p != dir {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		ext := strings.ToLower(filepath.Ext(name))
		if d.IsDir() || (ext != ".flac" && ext != ".wav") {
			return nil
		}
		id := strings.TrimSuffix(name, filepath.Ext(name))
		if prev, ok := files[id]; ok {
			return fmt.Errorf("%w: utterance %s twice: %s and %s", ErrData, id, prev, p)
		}
		files[id] = p
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrData) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: data %s: %w", ErrData, dir, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%w: no .flac or .wav files under %s", ErrData, dir)
	}
	return files, nil
}

// readLengths fills in the sample counts of the utterances from their
// headers (decoding the file only when the header does not tell).
func readLengths(ctx context.Context, workers int, splits ...*Split) error {
	var us []*Utterance
	for _, sp := range splits {
		for i := range sp.Utterances {
			us = append(us, &sp.Utterances[i])
		}
	}
	return parallel(ctx, len(us), workers, func(i int) error {
		n, err := audioLength(us[i].Path)
		if err != nil {
			return fmt.Errorf("%w: utterance %s: %w", ErrData, us[i].ID, err)
		}
		us[i].Samples = n
		return nil
	})
}

func audioLength(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	d, err := audio.NewDecoder(f, path)
	if err != nil {
		return 0, err
	}
	if fm := d.Format(); fm.Rate == labels.GridRate*labels.Hop && fm.Frames >= 0 {
		return int(fm.Frames), nil
	}
	buf := make([]float32, 1<<16)
	n := 0
	for {
		k, err := d.Read(buf)
		n += k
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// readAudio decodes a whole file at 16 kHz.
func readAudio(path string, hint int) ([]float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, err := audio.NewDecoder(f, path)
	if err != nil {
		return nil, err
	}
	x := make([]float32, 0, hint)
	buf := make([]float32, 1<<16)
	for {
		k, err := d.Read(buf)
		x = append(x, buf[:k]...)
		if err == io.EOF {
			return x, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func (ds *Dataset) speakerLabels() (labelSource, error) {
	spk, err := labels.NewSpeakers(ds.Train.IDs())
	if err != nil {
		return nil, fmt.Errorf("%w: train split %s: %w", ErrData, ds.Train.File, err)
	}
	for _, u := range ds.Test.Utterances {
		if _, err := spk.Class(u.ID); err != nil {
			r, _ := labels.Speaker(u.ID)
			return nil, fmt.Errorf("%w: test utterance %s is read by reader %d, who reads none of the %d train utterances (readers %v): a speaker probe only knows the readers it was trained on; use a test split of the same readers",
				ErrData, u.ID, r, len(ds.Train.Utterances), spk.Readers())
		}
	}
	ds.Labels, ds.Classes = "speaker", spk.Len()
	for _, r := range spk.Readers() {
		ds.ClassNames = append(ds.ClassNames, strconv.Itoa(r))
	}
	return func(utt string, samples int) ([]int32, string, error) {
		c, err := spk.Class(utt)
		if err != nil {
			return nil, "", fmt.Errorf("%w: %w", ErrData, err)
		}
		n := labels.GridLen(samples)
		if n == 0 {
			return nil, "shorter than 10 ms", nil
		}
		l := make([]int32, n)
		for i := range l {
			l[i] = int32(c)
		}
		return l, "", nil
	}, nil
}

func (ds *Dataset) phoneLabels(spec, dir string) (labelSource, error) {
	if spec == "" {
		root, ok := findAlignments(dir, ds.Train.Utterances[0].ID)
		if !ok {
			return nil, fmt.Errorf("%w: no labels given and no MFA alignments found for %s (looked in %s): pass textgrid:DIR or cpc:FILE",
				ErrConfig, dir, strings.Join(alignmentCandidates(dir), ", "))
		}
		spec = LabelsTextGrid + ":" + root
	}
	scheme, path, err := ParseLabels(spec)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("%w: labels %s: %w", ErrConfig, spec, err)
	}
	ds.Labels = scheme + ":" + abs
	switch scheme {
	case LabelsCPC:
		cpc, err := labels.OpenCPC(abs)
		if err != nil {
			return nil, fmt.Errorf("%w: labels %s: %w", ErrData, spec, err)
		}
		ds.Classes = labels.NumCPCClasses
		for i := range ds.Classes {
			ds.ClassNames = append(ds.ClassNames, strconv.Itoa(i))
		}
		return func(utt string, samples int) ([]int32, string, error) {
			if !cpc.Has(utt) {
				return nil, "not in " + abs, nil
			}
			raw, err := cpc.Labels(utt)
			if err != nil {
				return nil, err.Error(), nil
			}
			seq, err := labels.CPCToGrid(utt, raw, samples)
			if err != nil {
				return nil, err.Error(), nil
			}
			return widen(seq.Classes), "", nil
		}, nil
	default:
		al, err := labels.OpenAlignments(abs)
		if err != nil {
			return nil, fmt.Errorf("%w: labels %s: %w: give the directory of MFA TextGrids in LibriSpeech layout", ErrData, spec, err)
		}
		ds.Classes, ds.ClassNames = labels.NumPhones, labels.PhoneNames()
		return func(utt string, samples int) ([]int32, string, error) {
			seq, err := al.Phones(utt)
			if errors.Is(err, fs.ErrNotExist) {
				return nil, "no TextGrid under " + abs, nil
			}
			if err != nil {
				return nil, err.Error(), nil
			}
			// MFA sets xmax to the audio's length; a grid more than one
			// position off belongs to other audio.
			n, g := seq.Len(), labels.GridLen(samples)
			if n > g+1 || n < g-1 {
				return nil, fmt.Sprintf("alignment covers %.2f s, the audio is %.2f s", float64(n)/labels.GridRate, float64(samples)/float64(labels.GridRate*labels.Hop)), nil
			}
			if n == 0 || g == 0 {
				return nil, "shorter than 10 ms", nil
			}
			return widen(seq.Classes[:min(n, g)]), "", nil
		}, nil
	}
}

func widen(c []uint8) []int32 {
	out := make([]int32, len(c))
	for i, v := range c {
		out[i] = int32(v)
	}
	return out
}

// alignmentCandidates lists where MFA alignments of the audio in dir may be:
// <root>/librispeech-alignments/<subset> for <root>/LibriSpeech/<subset>,
// <dir>/../librispeech-alignments when dir is the LibriSpeech root, and dir
// itself (TextGrids beside the audio).
func alignmentCandidates(dir string) []string {
	parent := filepath.Dir(dir)
	return []string{
		filepath.Join(filepath.Dir(parent), "librispeech-alignments", filepath.Base(dir)),
		filepath.Join(parent, "librispeech-alignments"),
		dir,
	}
}

func findAlignments(dir, someUtt string) (string, bool) {
	id, err := labels.ParseUttID(someUtt)
	if err != nil {
		return "", false
	}
	for _, c := range alignmentCandidates(dir) {
		p := filepath.Join(c, strconv.Itoa(id.Reader), strconv.Itoa(id.Chapter), someUtt+labels.TextGridExt)
		if _, err := os.Stat(p); err == nil {
			return c, true
		}
	}
	return "", false
}

// parallel runs f(0..n-1) on workers goroutines and returns the first
// error; after an error or ctx's end no new index is started.
func parallel(ctx context.Context, n, workers int, f func(i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(1, min(workers, n)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					cancel(err)
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && ctx.Err() != nil {
		return err
	}
	return nil
}
