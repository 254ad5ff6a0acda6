package eval

import (
	"context"
	"slices"
	"testing"

	"clapp/model"
	"clapp/model/mfcc"
	"clapp/stream/labels"
	"clapp/stream/streamtest"
)

// TestGridAlignsWithLabels checks, on real utterances, that every layer
// comes out with one row per label, that the rows are the frames the
// geometry says (the nearest frame for layers 5 and 6, the mean of the
// frames whose centres fall in the cell for the faster layers), and that
// the inference path gives the frames Encoder.Encode gives.
func TestGridAlignsWithLabels(t *testing.T) {
	cfg := smallConfig(t, 1, 1)
	ctx := context.Background()
	ds, err := LoadDataset(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	mc := model.NarrowConfig(32, 24)
	f, err := RandomInit(mc, 7)
	if err != nil {
		t.Fatal(err)
	}
	geo, err := Geometry(mc)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range append(slices.Clone(ds.Train.Utterances), ds.Test.Utterances...) {
		x, err := ds.audio(&u)
		if err != nil {
			t.Fatal(err)
		}
		if len(x) != u.Samples {
			t.Fatalf("%s: header says %d samples, decoded %d", u.ID, u.Samples, len(x))
		}
		n := len(u.Labels)
		if g := labels.GridLen(len(x)); n != g {
			t.Errorf("%s: %d labels for a grid of %d positions", u.ID, n, g)
		}
		raw := f.Encoder.Encode(x) // the e-prop path, as trained
		view := inference(f.Encoder).Encode(x)
		grid := f.Grid(x, n)
		if len(grid) != 6 {
			t.Fatalf("%s: %d layers", u.ID, len(grid))
		}
		for i, g := range grid {
			layer := i + 1
			w := mc.Width(layer)
			frames := len(raw[i]) / w
			if want := geo.Frames(layer, len(x)); frames != want {
				t.Errorf("%s layer %d: %d frames, geometry says %d", u.ID, layer, frames, want)
			}
			if !slices.Equal(raw[i], view[i]) {
				t.Errorf("%s layer %d: the inference view differs from Encode", u.ID, layer)
			}
			if len(g) != n*w {
				t.Fatalf("%s layer %d: %d values on the grid, want %d rows of %d", u.ID, layer, len(g), n, w)
			}
			for _, j := range []int{0, 1, n / 2, n - 2, n - 1} {
				want := make([]float32, w)
				if layer >= 5 {
					if frames < n {
						t.Fatalf("%s layer %d: %d frames for %d labels", u.ID, layer, frames, n)
					}
					copy(want, raw[i][j*w:(j+1)*w]) // on the grid: frame j
				} else {
					per := labels.Hop / mc.Hop(layer)
					lo, hi := per*j, per*(j+1)
					if layer == 4 {
						lo, hi = lo+1, hi+1 // centres 80t - 19.5: cell j holds frames 2j+1, 2j+2
					}
					hi = min(hi, frames)
					for tt := lo; tt < hi; tt++ {
						for k := range w {
							want[k] += raw[i][tt*w+k] / float32(hi-lo)
						}
					}
				}
				for k := range w {
					if d := g[j*w+k] - want[k]; d > 1e-5 || d < -1e-5 {
						t.Fatalf("%s layer %d position %d channel %d: %g on the grid, want %g", u.ID, layer, j, k, g[j*w+k], want[k])
					}
				}
			}
		}
		m := MFCC(TaskPhone).Grid(x, n)
		want := mfcc.Default().Compute(x)
		if len(m) != 1 || len(m[0]) != n*39 || !slices.Equal(m[0], want[:n*39]) {
			t.Errorf("%s: MFCC grid is not the first %d MFCC frames", u.ID, n)
		}
	}

	// Through Extract, with every frame kept: rows of every layer equal
	// the labels, utterance by utterance.
	cfg.TrainFrames, cfg.TestFrames = -1, -1
	fs, err := Extract(ctx, ds, f, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range fs.Layers {
		if fs.Train[i].Rows != ds.Train.Frames() || fs.Test[i].Rows != ds.Test.Frames() {
			t.Errorf("layer %d: %d/%d rows, labels %d/%d", l, fs.Train[i].Rows, fs.Test[i].Rows, ds.Train.Frames(), ds.Test.Frames())
		}
	}
	row := 0
	for _, u := range ds.Train.Utterances {
		for j, c := range u.Labels {
			if fs.TrainLabels[row+j] != int(c) {
				t.Fatalf("%s position %d: label %d in the frame set, %d in the dataset", u.ID, j, fs.TrainLabels[row+j], c)
			}
		}
		row += len(u.Labels)
	}
}

// TestSubsampling checks the frame budget: exactly that many frames, the
// same for every layer and every run, all of them labelled.
func TestSubsampling(t *testing.T) {
	cfg := smallConfig(t, 1, 1)
	ctx := context.Background()
	ds, err := LoadDataset(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.TrainFrames, cfg.TestFrames = 1000, -1
	a, err := Extract(ctx, ds, MFCC(TaskPhone), cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Extract(ctx, ds, MFCC(TaskPhone), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if a.Train[0].Rows != 1000 || a.TrainAvailable != ds.Train.Frames() || a.Test[0].Rows != ds.Test.Frames() {
		t.Fatalf("train %d rows of %d available, test %d of %d", a.Train[0].Rows, a.TrainAvailable, a.Test[0].Rows, ds.Test.Frames())
	}
	if !slices.Equal(a.Train[0].Data, b.Train[0].Data) || !slices.Equal(a.TrainLabels, b.TrainLabels) {
		t.Error("two runs with the same seed chose different frames")
	}
	cfg.SubsampleSeed = 2
	c, err := Extract(ctx, ds, MFCC(TaskPhone), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(a.Train[0].Data, c.Train[0].Data) {
		t.Error("another seed chose the same frames")
	}
	// The chosen frames are spread over the utterances, not the first 1000.
	plans, rows := planSplit(&ds.Train, false, 1000, 1, 0x7472_6169_6e)
	if rows != 1000 || len(plans) != len(ds.Train.Utterances) {
		t.Errorf("1000 frames of %d utterances land in %d utterances (%d rows)", len(ds.Train.Utterances), len(plans), rows)
	}
}

// TestMFCCProbeBeatsChance fits the MFCC probe on 20 real train utterances
// and tests it on 12.
func TestMFCCProbeBeatsChance(t *testing.T) {
	cfg := smallConfig(t, 5, 3)
	ctx := context.Background()
	ds, err := LoadDataset(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Train.Utterances) != 20 || len(ds.Test.Utterances) != 12 || ds.Classes != labels.NumPhones {
		t.Fatalf("%s; %s; %d classes", ds.Train.Summary(), ds.Test.Summary(), ds.Classes)
	}
	r, err := Evaluate(ctx, ds, MFCC(TaskPhone), cfg)
	if err != nil {
		t.Fatal(err)
	}
	l := r.Layer(0)
	t.Logf("MFCC: test %.3f, train %.3f, chance %.3f", l.TestAcc, l.TrainAcc, r.Chance)
	if r.Chance <= 0 || r.Chance > 0.25 {
		t.Errorf("chance %.3f: silence should be the most frequent class, well below 25 %%", r.Chance)
	}
	if l.TestAcc < 0.30 || l.TestAcc < 2.5*r.Chance {
		t.Errorf("MFCC test accuracy %.3f does not beat chance %.3f by a wide margin", l.TestAcc, r.Chance)
	}
	if l.TrainAcc < l.TestAcc-0.05 {
		t.Errorf("train accuracy %.3f far below test %.3f", l.TrainAcc, l.TestAcc)
	}
}

// TestSpeakerTask classifies the four readers of the shared data.
func TestSpeakerTask(t *testing.T) {
	cfg := smallConfig(t, 3, 2)
	cfg.Labels = ""
	cfg.Task = TaskSpeaker
	ctx := context.Background()
	ds, err := LoadDataset(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Classes != 4 || !slices.Equal(ds.ClassNames, []string{"4088", "4406", "5652", "8226"}) {
		t.Fatalf("%d classes %v, want the four readers", ds.Classes, ds.ClassNames)
	}
	for _, u := range ds.Test.Utterances {
		r, _ := labels.Speaker(u.ID)
		if want := slices.Index(ds.ClassNames, itoa(r)); int(u.Labels[0]) != want || len(u.Labels) != labels.GridLen(u.Samples) {
			t.Fatalf("%s: class %d for %d frames, want %d for %d", u.ID, u.Labels[0], len(u.Labels), want, labels.GridLen(u.Samples))
		}
	}
	r, err := Evaluate(ctx, ds, MFCC(TaskSpeaker), cfg)
	if err != nil {
		t.Fatal(err)
	}
	f, err := RandomInit(model.NarrowConfig(32, 24), 1)
	if err != nil {
		t.Fatal(err)
	}
	e, err := Evaluate(ctx, ds, f, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range append(r.Layers, e.Layers...) {
		t.Logf("speaker, layer %d: test %.3f, train %.3f, chance %.3f", l.Layer, l.TestAcc, l.TrainAcc, r.Chance)
	}
	if l := r.Layer(0); l.TestAcc < r.Chance+0.2 {
		t.Errorf("speaker accuracy of MFCC %.3f not well above chance %.3f", l.TestAcc, r.Chance)
	}
	if l := e.Layer(1); l.TestAcc < r.Chance+0.1 {
		t.Errorf("speaker accuracy of random-init layer 1 %.3f not well above chance %.3f", l.TestAcc, r.Chance)
	}
}

// TestSynthetic runs the whole chain on the built-in synthetic speech: the
// phone task on held-out speakers and the speaker task.
func TestSynthetic(t *testing.T) {
	ctx := context.Background()
	base := Config{Data: Synthetic, SynthTrain: 2, SynthTest: 2, Quiet: true, Logger: quietLogger(), CacheDir: t.TempDir(), Epochs: 10}
	ds, err := LoadDataset(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Train.Utterances) != 40 || len(ds.Test.Utterances) != 8 || ds.Classes != 30 {
		t.Fatalf("%s; %s; %d classes", ds.Train.Summary(), ds.Test.Summary(), ds.Classes)
	}
	f, err := RandomInit(model.NarrowConfig(32, 24), 3)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Evaluate(ctx, ds, f, base)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Evaluate(ctx, ds, MFCC(TaskPhone), base)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Layers) != 6 || r.Classes != 30 {
		t.Fatalf("%d layers, %d classes", len(r.Layers), r.Classes)
	}
	for _, l := range append(r.Layers, m.Layers...) {
		t.Logf("synthetic phones, layer %d: test %.3f train %.3f (chance %.3f)", l.Layer, l.TestAcc, l.TrainAcc, r.Chance)
	}
	if l := m.Layer(0); l.TestAcc < 2*r.Chance {
		t.Errorf("MFCC on synthetic phones: %.3f, chance %.3f", l.TestAcc, r.Chance)
	}
	if l := r.Layer(1); l.TestAcc < 1.5*r.Chance {
		t.Errorf("random-init layer 1 on synthetic phones: %.3f, chance %.3f", l.TestAcc, r.Chance)
	}

	spk := base
	spk.Task = TaskSpeaker
	ds, err = LoadDataset(ctx, spk)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Classes != 20 {
		t.Fatalf("%d speaker classes, want the 20 training speakers", ds.Classes)
	}
	s, err := Evaluate(ctx, ds, MFCC(TaskSpeaker), spk)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("synthetic speakers from MFCC: test %.3f (chance %.3f)", s.Layers[0].TestAcc, s.Chance)
	if s.Layers[0].TestAcc < 1.5*s.Chance {
		t.Errorf("synthetic speaker accuracy %.3f, chance %.3f", s.Layers[0].TestAcc, s.Chance)
	}
}

// TestCPCLabels reads the CPC label sample: the two utterances it covers
// are used, one it does not cover is skipped and named.
func TestCPCLabels(t *testing.T) {
	d := streamtest.DataDir(t)
	cfg := Config{
		Data:       d + "/cpc/audio",
		Labels:     LabelsCPC + ":" + d + "/cpc/converted_aligned_phones.sample.txt",
		TrainSplit: writeSplit(t, "train.txt", []string{"4051-11218-0044", "4397-15668-0003"}),
		TestSplit:  writeSplit(t, "test.txt", []string{"2911-12359-0007", "1737-148989-0038"}),
		Quiet:      true, Logger: quietLogger(), Epochs: 5,
	}
	ctx := context.Background()
	ds, err := LoadDataset(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Classes != labels.NumCPCClasses {
		t.Errorf("%d classes, want %d", ds.Classes, labels.NumCPCClasses)
	}
	if got := sortedIDs(ds.Train.Utterances); !slices.Equal(got, []string{"4051-11218-0044"}) {
		t.Errorf("train utterances %v", got)
	}
	if len(ds.Train.Skipped) != 1 || ds.Train.Skipped[0].ID != "4397-15668-0003" {
		t.Errorf("train skipped %v, want 4397-15668-0003 (no CPC labels)", ds.Train.Skipped)
	}
	if len(ds.Test.Missing) != 1 || ds.Test.Missing[0] != "1737-148989-0038" {
		t.Errorf("test missing %v, want 1737-148989-0038 (labels but no audio)", ds.Test.Missing)
	}
	for _, u := range append(ds.Train.Utterances, ds.Test.Utterances...) {
		if len(u.Labels) != labels.GridLen(u.Samples) {
			t.Errorf("%s: %d labels for a grid of %d", u.ID, len(u.Labels), labels.GridLen(u.Samples))
		}
	}
	if n := ds.Train.Frames() + ds.Test.Frames(); n != 1121+509 {
		// 1119 and 508 CPC frames; N mod 160 = 0 and 80 give two and one more grid positions
		t.Errorf("%d grid positions, want %d", n, 1121+509)
	}
	r, err := Evaluate(ctx, ds, MFCC(TaskPhone), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r.Layers[0].TestFrames != 509 || r.Layers[0].TrainFrames != 1121 {
		t.Errorf("probe used %d/%d frames", r.Layers[0].TrainFrames, r.Layers[0].TestFrames)
	}
}

func itoa(n int) string {
	return string(appendInt(nil, n))
}

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

// TestExtractAllSharesEncoding checks that the phone and the speaker task
// extracted together (each utterance encoded once) give exactly the frames
// and labels that two separate extractions give.
func TestExtractAllSharesEncoding(t *testing.T) {
	ctx := context.Background()
	cfg := smallConfig(t, 1, 1)
	cfg.TrainFrames, cfg.TestFrames = 700, 500
	phone, err := LoadDataset(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	sc := cfg
	sc.Task, sc.Labels = TaskSpeaker, ""
	speaker, err := LoadDataset(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	f, err := RandomInit(smallModel(), 3)
	if err != nil {
		t.Fatal(err)
	}
	both, err := ExtractAll(ctx, []*Dataset{phone, speaker}, f, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(both) != 2 {
		t.Fatalf("%d frame sets for 2 datasets", len(both))
	}
	for i, ds := range []*Dataset{phone, speaker} {
		alone, err := Extract(ctx, ds, f, cfg)
		if err != nil {
			t.Fatal(err)
		}
		got := both[i]
		if !slices.Equal(got.TrainLabels, alone.TrainLabels) || !slices.Equal(got.TestLabels, alone.TestLabels) {
			t.Errorf("%s: labels differ from a separate extraction", ds.Task)
		}
		for li, l := range got.Layers {
			if !slices.Equal(got.Train[li].Data, alone.Train[li].Data) || !slices.Equal(got.Test[li].Data, alone.Test[li].Data) {
				t.Errorf("%s layer %d: frames differ from a separate extraction", ds.Task, l)
			}
		}
	}
	if slices.Equal(both[0].TrainLabels, both[1].TrainLabels) {
		t.Error("phone and speaker labels are the same: the tasks were not kept apart")
	}
}
