// Package actors is the living system: every layer of the encoder an
// actor (github.com/asynkron/protoactor-go) that learns from the stream
// passing through it with its own CLAPP loss, positives by day and
// negatives by night.
//
// # The pipeline
//
// New spawns one actor per layer, chained source -> layer 1 -> ... ->
// layer 6 (the GRU), under a supervisor. Frames travel as frame.Blocks of
// consecutive timesteps of one stream; many streams interleave (the
// batch). A layer keeps per stream only what its next windows need: the
// tail of its input for the strided convolution, the GRU's hidden state
// and e-prop traces, and the K frames whose contexts still wait for their
// positives. A stream's state is created at its first block and dropped
// at its End, so no pair crosses utterances and the GRU starts each stream
// at h = 0. A layer hands its frames downstream (and to its taps: the NATS
// publisher, the dashboard, probes) before it learns from them, so the
// next layer computes while this one learns.
//
// # Day
//
// When a block arrives, its frames are the positives of the contexts the
// layer holds: the layer scores them at once (contexts at 100 Hz by
// default) and accumulates the gradient of every active hinge. For the GRU
// the targets are layer 5's frames and the update flows forward in time
// through e-prop traces. Every Batch blocks the optimiser applies what was
// gathered.
//
// # Night
//
// By day a layer also stores candidate negatives in a bounded memory
// (MemoryBytes; the oldest are dropped, and counted, when it is full). A
// record holds the input of the block's learning window and of a partner
// window: the previous block of another stream, or of the same stream
// when it is the only one. From these the night recomputes both windows'
// frames with the weights of the night and scores every context against
// the partner's frames at the same positions (the official CLAPP code's
// negative: the same position in another sequence); the gradient reaches
// the layer through the contexts and through the partner's frames.
//
// A convolution's record costs the input rows of its two windows: for the
// paper's encoder and 1.28 s blocks about 0.16 MB at layer 1, 17 MB at
// layer 2, 4.3 MB at layer 3, 2.2 MB at layer 4 and 1.2 MB at layer 5
// (LayerStats.RecordBytes reports the last one stored); with 100 ms blocks
// (live) about 1.5 MB at layer 2. The GRU replays a negative by bounded
// recomputation: its record holds the window's input frames (which are
// also its targets) with K frames before them, and the hidden state before
// those; the night runs the GRU over them from that state with fresh
// e-prop traces (the lead frames warm the traces up) and scores against the
// partner's frames, about 0.6 MB per 1.28 s record.
//
// Night comes by a policy (NightPolicy): every N blocks of day (the
// default), when the input is idle or silent, on a control message, or
// never: then positive and negative terms are applied together on every
// block, the paper's synchronous CLAPP-s. The paper's CLAPP, a coin per
// context choosing its positive or its negative terms, is NightAlternate.
// Day and night share one optimiser state in every mode (model.Optimizer
// is additive within a cycle), so the modes differ only in when terms are
// applied.
//
// The night runs in the layer's own actor, in slices of NightSlice records
// sent to itself: day blocks queued meanwhile are served between slices,
// so frames keep flowing for inference, and each slice uses the weights of
// its own time. The alternatives are a dreamer goroutine replaying the
// whole night on a copy of the weights taken when it starts
// (Config.Dreamer), and the whole night at once in the actor, day blocks
// waiting (what Deterministic does). Measured on the paper encoder with
// OpenBLAS, one run each on the two-core development machine:
//
//	                      as fast as it goes    live, 100 ms blocks paced in real time
//	                      (replay bench         (BenchmarkLiveLatency, top layer)
//	                       --only nights)        p50      p99      learning skipped
//	slices (default)      2.82 s audio/s          65 ms   765 ms   2.1 %
//	dreamer               2.71 s audio/s          47 ms   696 ms   1.8 %
//	whole night at once   2.91 s audio/s         161 ms   547 ms   5.0 %
//
// The whole night at once holds frames up (p50 2.5 times higher, more
// learning skipped to catch up). Slices and the dreamer are within the
// noise of one run of each other; the slices stay the default because
// they replay every negative with the weights of its own time (the
// dreamer's are up to a night old), need no copy of the weights, and a
// panic in them is the layer's, under its supervisor.
//
// # Flow
//
// Credits bound the blocks in flight between stages (Credits), so queues
// never grow: a slow layer slows the stages before it, and the source. For
// live input, which cannot wait, SkipBacklog lets a layer that is behind
// forward its frames without learning from them (counted as skipped).
// Probes and publishers see frames through taps that must not block.
//
// # Faults and control
//
// A layer that panics is restarted by its supervisor around the same core:
// weights, optimiser state and negative memory survive; the stream it was
// processing continues under a new name and the block is counted as bad
// input. A block with the wrong shape, or NaN or Inf, is rejected before
// it reaches a weight; an update that would make a weight NaN or Inf is
// refused and counted. Freeze stops learning per layer or globally (the
// global third factor) while inference goes on; Night starts a night;
// Controller serves these, snapshots and statistics on clapp.RUN.control.
//
// # Snapshots and determinism
//
// Snapshot sends a marker down the pipeline behind the blocks fed so far;
// each layer copies its weights, optimiser state, counters and random
// state as the marker passes, so the checkpoint is consistent without
// stopping the stream. EndRound closes a round of streams (every stream
// fed has ended): each layer applies what it gathered, runs the round's
// night and closes its cycle. With Deterministic set (nights at fixed
// points, run whole), N rounds, a checkpoint and M more rounds give bit for
// bit the weights of N+M rounds; with asynchronous nights a resumed run
// lands as close to an uninterrupted one as two uninterrupted runs do.
//
// # BLAS threads
//
// The layers compute in parallel, so each BLAS call gets one thread
// (Config.BLASThreads): with OpenBLAS's default of one thread per core,
// concurrent calls oversubscribed two cores and a pipeline ran at a third
// of the speed of the same math in one goroutine.
package actors
