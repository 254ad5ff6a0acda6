// Package mfcc computes mel-frequency cepstral coefficients on clapp's
// canonical 10 ms grid.
//
// The recipe (every step a Config field):
//
//   - pre-emphasis y[n] = x[n] - 0.97 x[n-1], y[0] = x[0];
//   - frame i is the 400 samples (25 ms) centred on sample 160 i + 80, the
//     centre of the i-th 10 ms hop: samples [160 i - 120, 160 i + 280),
//     whose middle is 160 i + 79.5. A signal of n samples has n/160 frames,
//     one per label of the grid. Beyond the ends the signal is reflected
//     about its first and last sample (numpy's "reflect" pad: y[-k] = y[k],
//     y[n-1+k] = y[n-1-k], repeated for signals shorter than the pad);
//   - a symmetric Hamming window 0.54 - 0.46 cos(2 pi k / 399), zero padding
//     to a 512-point real FFT (gonum's dsp/fourier), power |X_k|^2;
//   - 40 triangular filters with peaks of 1 whose edges are equally spaced
//     on the HTK mel scale 2595 log10(1 + f/700) between 0 and 8000 Hz,
//     weights computed at each bin's frequency k 16000/512;
//   - natural log of each filter's energy, floored at 1e-10;
//   - orthonormal DCT-II, first 13 coefficients (c0 included);
//   - deltas d_t = sum_{n=1..2} n (c_{t+n} - c_{t-n}) / 10 with the edge
//     frames repeated, delta-deltas the same on the deltas;
//   - per-utterance normalisation of each of the 39 columns to zero mean and
//     unit variance.
//
// Everything is computed in float64 and returned as float32, row-major,
// one row per frame. The package does no I/O.
package mfcc

import "errors"

// ErrConfig reports an invalid Config.
var ErrConfig = errors.New("mfcc: invalid config")
