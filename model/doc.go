// Package model is the mathematics of CLAPP for audio, and nothing else: no
// goroutines, no I/O but its own checkpoints.
//
// # Tensors and BLAS
//
// Values are float32, matrices row-major; every product goes through
// gonum's blas.Float32 interface, by default the backend package
// model/blas selects on first use (OpenBLAS loaded at run time when the
// machine has it, pure Go otherwise; CLAPP_BLAS forces one). Signals are
// time-major: T frames of C channels are a T x C matrix.
//
// # Layers
//
// Conv1d is PyTorch's strided cross-correlation with zero padding and its
// default initialisation; its weight is kept (Cout, kernel, Cin) so a window
// of input frames is one contiguous row and the convolution is a few GEMMs
// on strided views (checkpoints convert to PyTorch's (Cout, Cin, kernel)).
// GRU has PyTorch's gate order (r, z, n) and layout; it learns with exact
// back-propagation through time over a window (GRU.Backward) or with
// e-prop: EpropStream runs it one step at a time, forward in time, and
// computes the exact gradient of the paper's Eqs. 15-18 with eligibility
// traces in memory that does not grow with the stream. A context's
// learning signal is complete only K steps later: the traces wait for it
// by keeping the trace at the last complete step and, for younger steps,
// only their compact factors, folded in with two GEMMs per matrix once
// their signals are complete. Dense is a fully connected layer.
//
// # The CLAPP rule
//
// A Head holds one W_k per prediction step and scores a context c[t]
// against a target z[t+k] as u = z[t+k] . (W_k c[t]). Scorer computes the
// predictions of a set of contexts once (Head.Score) and accumulates the
// hinge terms relu(1 - u) of positives and relu(1 + u) of negatives
// separately (Scorer.Hinge), each pair contributing only when its hinge is
// active: the gate is the third factor. The symmetric rule (Eqs. 3-4)
// sends the gradient through contexts and targets; the split,
// weight-transport-free rule (Appendix C, Eq. 10 with its 1/2) scores each
// pair with W (the target half, reaching the layer through its targets)
// and Wc (the context half, through its contexts), each half gated by its
// own score. A layer's update is built from its own input, output and gate
// only: nothing here reaches another layer's internals.
//
// ConvLayer and GRULayer run a layer over streams: frames arrive in blocks
// of any size, outputs leave as soon as their window is complete, and Learn
// scores the positives of the block just forwarded, negatives against
// another window, or a coin per context (the paper's CLAPP), with contexts
// subsampled to 100 Hz by default (Config.ContextRate, Greedy InfoMax's
// --subsample) or at every frame. A window can be captured and recomputed
// later with the weights of that time: the night's replay.
//
// # Baselines
//
// Scorer.InfoNCE is the loss of CPC and Greedy InfoMax (Eq. 1). Module
// stacks layers trained as one, gradients back-propagated inside the module
// only (1 module: end-to-end CPC or hinge-CPC; 6: layer-wise Greedy
// InfoMax or CLAPP; the paper's Table 5 in between); it needs the input
// gradients of the convolution and the GRU, which CLAPP itself never uses.
//
// # Optimisers
//
// SGD and Adam apply gradients in cycles, additively within a cycle: a
// positive part applied by day and a negative part by night move the
// weights exactly as their sum would, so day and night share one optimiser
// state in every mode. Adam warms up as plain Adam on each cycle's summed
// gradient, then uses the second moment of the cycles before; see Adam.
// An update that would make a weight NaN or Inf is refused.
//
// # Checkpoints
//
// Checkpoint writes safetensors with PyTorch's names and layouts (the
// tensors of CLAPP-SPEC.md), optimiser moments, and the configuration and
// counters as JSON metadata, atomically; LoadCheckpoint checks every name,
// shape and size and never panics on a bad file.
//
// # Conformance
//
// TestConformance drives the conv1d, conv1d_split, gru_bptt and gru_eprop
// kinds of ../shared/conformance/vectors through the same code the actors
// use (e-prop one timestep at a time) and compares loss, outputs and
// gradients, positive and negative parts apart, with the vectors'
// tolerance.
package model
