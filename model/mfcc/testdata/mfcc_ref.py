"""Reference MFCCs in numpy, written from the recipe in ../doc.go.

Usage: mfcc_ref.py IN OUT
IN holds little-endian float32 samples at 16 kHz; OUT receives the
features as little-endian float32, frames x 39, row-major.
"""
import sys

import numpy as np

RATE, WIN, HOP, NFFT, NMEL, NCEP, PRE, NDELTA = 16000, 400, 160, 512, 40, 13, 0.97, 2


def mel(hz):
    return 2595.0 * np.log10(1.0 + hz / 700.0)


def hz(m):
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


def filterbank():
    edges = hz(np.linspace(mel(0.0), mel(RATE / 2), NMEL + 2))
    freqs = np.arange(NFFT // 2 + 1) * RATE / NFFT
    fb = np.zeros((NMEL, freqs.size))
    for j in range(NMEL):
        lo, c, hi = edges[j], edges[j + 1], edges[j + 2]
        up = (freqs - lo) / (c - lo)
        down = (hi - freqs) / (hi - c)
        fb[j] = np.maximum(0.0, np.minimum(up, down))
    return fb


def dct_matrix():
    k = np.arange(NCEP)[:, None]
    n = np.arange(NMEL)[None, :]
    d = np.sqrt(2.0 / NMEL) * np.cos(np.pi * k * (n + 0.5) / NMEL)
    d[0] /= np.sqrt(2.0)
    return d


def deltas(x):
    padded = np.pad(x, ((NDELTA, NDELTA), (0, 0)), mode="edge")
    t = x.shape[0]
    num = sum(k * (padded[NDELTA + k:NDELTA + k + t] - padded[NDELTA - k:NDELTA - k + t])
              for k in range(1, NDELTA + 1))
    return num / (2.0 * sum(k * k for k in range(1, NDELTA + 1)))


def mfcc(x):
    x = x.astype(np.float64)
    y = np.append(x[0], x[1:] - PRE * x[:-1])
    frames = len(y) // HOP
    left = WIN // 2 - HOP // 2
    padded = np.pad(y, (left, WIN), mode="reflect")
    idx = np.arange(frames)[:, None] * HOP + np.arange(WIN)[None, :]
    spec = np.abs(np.fft.rfft(padded[idx] * np.hamming(WIN), NFFT)) ** 2
    logmel = np.log(np.maximum(spec @ filterbank().T, 1e-10))
    c = logmel @ dct_matrix().T
    d = deltas(c)
    feat = np.hstack([c, d, deltas(d)])
    std = feat.std(axis=0)
    std[std < 1e-8] = np.inf
    return (feat - feat.mean(axis=0)) / std


def main():
    x = np.fromfile(sys.argv[1], dtype="<f4")
    mfcc(x).astype("<f4").tofile(sys.argv[2])


if __name__ == "__main__":
    main()
