// Package eval is the linear-probe evaluation behind `replay probe` and
// `replay encode`: freeze an encoder, fit a softmax regression per layer on
// the 10 ms frames of a train split, report frame accuracy on a test split,
// next to the random-init and MFCC baselines (the paper's Table 1 protocol,
// see CLAPP-SPEC.md, "Phone probe").
//
// # Pieces
//
// One Config holds every setting; the command calls, in order:
//
//	ds, err := eval.LoadDataset(ctx, cfg)        // splits, labels on the grid
//	f, err := eval.CheckpointFeatures(path)      // or RandomInit, MFCC
//	res, err := eval.Evaluate(ctx, ds, f, cfg)   // = Extract + Fit
//	bl, err := eval.Baselines(ctx, ds, f.Encoder.Config, seed, cfg) // cached
//	rep := eval.NewReport(ds, res, bl...)        // JSON: {"layers": [...], "baselines": [...]}
//	eval.WriteTable(os.Stdout, rep); eval.Plot("probe.png", rep)
//
// and Encode writes every layer's frames of every utterance as .npy files.
// ExtractAll extracts the frames of several datasets of the same audio
// (the phone and the speaker task) with one encoding pass, then Fit runs
// per dataset. ReadResults and Compare put saved results side by side
// (`replay compare`): mean and spread per layer over seeds.
//
// # Data and labels
//
// Config.Data is a directory of LibriSpeech audio (any depth; utterance id =
// file name) with two split files, or Synthetic. Split ids absent from the
// directory are counted as missing (normal for a part of the corpus); a
// split with none present is an error. Labels are the 40 MFA phone classes
// of TextGrids ("textgrid:DIR", found next to LibriSpeech/<subset> when not
// given), the 41 classes of the CPC label file ("cpc:FILE"), the readers
// of the train split (TaskSpeaker; a test utterance of another reader is an
// error), or the synthetic generator's labels. An utterance the label
// source does not cover, or whose labels do not fit its audio (more than one
// 10 ms position off), is skipped, named in Split.Skipped and counted.
// Synthetic speech trains on the generator's training speakers and tests on
// its held-out ones; its speaker task tests on later utterances of the
// training speakers instead.
//
// # Layers on the 10 ms grid
//
// Label j of an utterance is the class at (j + 1/2) x 10 ms (package
// labels). Every layer is brought to that grid before probing, using the
// receptive-field geometry of the configuration (labels.Geometry):
//
//   - layers faster than 100 Hz (the paper's layers 1-4: 3200, 800, 400 and
//     200 Hz) are averaged: grid position j takes the mean of the frames
//     whose receptive-field centres fall inside the cell [160 j, 160 j + 160)
//     samples (32, 8, 4 and 2 frames; for layer 4 frames 2j+1 and 2j+2, its
//     centres being 80 t - 19.5). Where a cell holds no centre (at the very
//     ends) the nearest frame is taken;
//   - layers at 100 Hz (layer 5 and the GRU) take the frame whose centre is
//     nearest the cell's centre, which is frame j (3.7 ms earlier);
//   - MFCC (layer 0) is computed on the grid itself (mfcc package): frame j
//     is the 25 ms window centred on the cell.
//
// This pairs each label with the frames centred on it, rather than trimming
// the encoder output from the front as GIM's probe does (which puts label j
// 10-20 ms before the frame it is paired with; see package labels). Every
// layer is cut to the label count: for TextGrids that is floor(N/160)
// positions for N samples, for the CPC file the same grid (CPC labels are
// mapped onto it by labels.CPCToGrid).
//
// For the phone task MFCCs are normalised per utterance (the usual
// recipe); for the speaker task they are not, since per-utterance
// normalisation removes the long-term spectrum that distinguishes speakers
// and leaves a linear speaker probe at chance.
//
// # Subsampling and memory
//
// Features stay float32. The full 100-minute set at 512 channels is ~600k
// frames x 2855 values per frame over the six layers, ~7 GB, so at most
// Config.TrainFrames (default 200000) training positions and
// Config.TestFrames (default 200000) test positions are kept, the same
// positions for every layer: when a split has more labelled positions, that
// many are drawn uniformly without replacement by selection sampling
// (Knuth's Algorithm S) over the positions in split order, from a PCG
// seeded with Config.SubsampleSeed. The choice depends only on the
// utterances, their label counts, the budget and the seed, so it is the
// same for every encoder and every run, and it is made before any audio is
// decoded: each worker writes its utterance's kept rows straight into
// preallocated matrices. The encoder runs over each utterance in blocks of
// one second and every layer's frames go onto the grid as they come out,
// so a worker holds one utterance's grid (~11 MB per 10 s at paper size),
// never its 3200 Hz frames. At the default budgets a paper-size encoder
// needs ~2.3 GB for the train split and up to ~2.3 GB for the test split
// (1.4 GB on the shared data). Go's collector lets the heap grow to twice
// what is live before collecting: the shared-data run peaked at 7.6 GB RSS
// for 3.7 GB of features; a command that must stay lower sets a soft limit
// (GOMEMLIMIT or debug.SetMemoryLimit).
//
// # Probe
//
// Per layer, clapp/model/probe's softmax regression with features
// standardised on the training frames, Adam (Config.LearningRate 1e-3,
// minibatches of Config.BatchSize 256, Config.Epochs 20), seeded per layer
// from Config.ProbeSeed. (GIM's probe used lr 1e-4 on unstandardised
// features, batches of whole utterances; standardisation makes the layers
// comparable at one learning rate.) Layers are fitted in parallel, one per
// worker. Result reports train and test frame accuracy per layer plus the
// classes, the frames used, the times and chance: the test accuracy of
// always answering the most frequent training class.
//
// # Parallelism, BLAS and progress
//
// Utterances are encoded one per worker, Config.Workers of them
// (GOMAXPROCS by default), through a view of the encoder that runs its GRU
// without e-prop traces (same weights, same outputs, no writes to the
// layer, so safe to share). ensureBLAS is the one place that chooses a
// BLAS: if the command has not called model.SetBLAS, it installs
// blas.Default() (OpenBLAS when it loads, CLAPP_BLAS overrides) with one
// thread per call when several workers run. A progress bar
// (schollz/progressbar) is drawn on stderr when it is a terminal and
// Config.Quiet is not set.
//
// # Baseline cache
//
// Baselines and Cached store each baseline's Result as JSON in
// Config.CacheDir (default: the user cache directory's clapp/eval), named by
// a SHA-256 of everything that determines its numbers: a recipe version,
// the kind, the encoder configuration and seed, the task, the label scheme,
// every utterance id of both splits with its length and labels, and the
// probe and subsampling settings. A second run with the same inputs reads
// the file and computes nothing.
//
// # Encode
//
// Encode writes <out>/<utterance id>/layer<n>.npy for n = 1..6: NumPy .npy
// version 1.0, '<f4' (little-endian float32), C order, shape (frames,
// channels), at the layer's own frame rate without grid alignment; and
// <out>/index.json with the encoder configuration, each layer's frame rate
// and receptive field (frame t's centre is at field_start + t hop +
// field_width/2 samples, spelled out per layer) and the utterances with
// their frame counts.
//
// LibriSpeech (Panayotov et al., ICASSP 2015) is CC BY 4.0; keep that
// attribution with numbers measured on it.
package eval
