// Package probe reads labels out of frozen features: the linear phone
// probe of the paper's evaluation (softmax regression with a bias, as in
// Greedy InfoMax), and a small MLP with one hidden ReLU layer for
// reference ceilings.
//
// Batch use (the replay command's evaluation):
//
//	p, err := probe.Fit(train, trainLabels, classes, probe.Config{Standardize: true})
//	acc := p.Accuracy(test, testLabels)
//
// Fit runs Config.Epochs (20) passes of Adam (Config.LearningRate 1e-3,
// betas 0.9, 0.999) over minibatches of Config.BatchSize (64) rows,
// reshuffled every epoch by a PCG seeded with Config.Seed, so a fit is
// reproducible. GIM's probe used Adam at 1e-4 for 20 epochs with whole
// utterances as batches; set LearningRate and BatchSize to match it. With
// Config.Standardize, each feature is mapped to zero mean and unit
// variance with statistics of the training set, stored in the probe and
// applied to everything it later sees. Rows whose label is negative are
// unlabelled and skipped.
//
// Online use (probe actors learning while the encoder trains): Step takes
// one block of frames and labels, updates running standardisation
// statistics, predicts the block (these predictions, made before learning
// from the block, feed RecentAccuracy over the last Config.Window frames),
// then takes one Adam step on it. A block with a NaN or infinite value or
// a label out of range is rejected whole with an error, before it changes
// anything.
//
// Features and labels travel as a Matrix (row-major float32, the layout of
// frame.Block.Data) and []int. Matrix products go through the gonum BLAS
// interface blas.Float32 given in Config.BLAS (gonum's pure-Go
// implementation by default), so a faster implementation drops in. The
// analytic gradients are checked against finite differences of an
// independent float64 forward pass in the tests.
//
// A Probe is not safe for concurrent use.
package probe
