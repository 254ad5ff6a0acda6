// Package synth generates speech-like audio with phone labels: a
// deterministic, seeded formant synthesiser, so that clapp's training, tests
// and live demo run anywhere with nothing downloaded.
//
// # Speakers and utterances
//
// A Generator built from a Config has Config.Speakers synthetic speakers
// (24 by default; even indices male voices, odd ones female). Each differs
// in mean pitch (85-140 Hz or 165-245 Hz), vocal-tract length (a scale of
// 0.92-1.04 or 1.10-1.24 on every formant and frication frequency),
// speaking rate (0.85-1.2), voice quality (glottal open and closing phases,
// breathiness, jitter, shimmer, formant bandwidths) and accent (a personal
// shift of each vowel's formants of several per cent). The last
// Config.TestSpeakers (4) speakers are held out: TrainSpeakers and
// TestSpeakers split them.
//
// Utterance(speaker, index) returns utterance index of a speaker: 2-4 s of
// words of one to three syllables drawn from English-like phonotactics
// ((C)(C)V(C)(C): onset clusters such as /st/, /pr/, /fl/, codas such as
// /nt/, /ks/; no /ng/ in onsets, no /h w y/ in codas), with lexical stress,
// pauses between some words and silence at both ends. The result is the
// same, bit for bit, on every machine for the same seed, speaker and index:
// all randomness comes from math/rand/v2 PCGs seeded with (seed, what,
// speaker, index), and the arithmetic avoids everything that differs
// between platforms (math.Exp's FMA path, fused multiply-adds: see
// dmath.go). The test suite pins hashes of three utterances, checks the
// compiled code for fused instructions, and has passed on amd64 (also with
// GOAMD64=v3), 386, and under qemu on arm64, ppc64le, s390x and riscv64.
//
// # Phones
//
// 30 classes; the class numbers are the constants Sil .. G:
//
//	0 sil                                  silence (and pauses)
//	1-10 iy ih eh ae aa ah uw er ow ay     vowels, ow and ay diphthongs
//	11-14 w y l r                          approximants
//	15-17 m n ng                           nasals
//	18-23 f s sh v z hh                    fricatives and /h/
//	24-29 p t k b d g                      stops
//
// Labels sit on clapp's canonical 10 ms grid: label i is the class at time
// (i + 1/2) x 10 ms, i.e. of sample 160 i + 80, and an utterance of N
// samples has N/160 labels. A stop's label covers its closure, burst and
// aspiration, as in forced alignments of read speech.
//
// # Synthesis
//
// A Klatt-style cascade formant synthesiser at 16 kHz. The voicing source
// is the derivative of a Rosenberg glottal pulse with a pitch contour
// (declination, accents on stressed syllables, slow wander, jitter and
// shimmer), plus aspiration noise gated by the glottal cycle. It feeds a
// nasal pole-zero pair and five resonators: F1-F3 follow the phones, F4
// and F5 scale with the speaker. Formant targets (loci for consonants) are
// placed in each phone and joined by cosine glides across phone boundaries;
// vowels undershoot their targets towards their neighbours the more the
// shorter they are, unstressed vowels are reduced towards the centre of the
// vowel space, consonant loci lean towards the adjacent vowel, and every
// token jitters its targets. Fricatives are noise through two resonances
// and a flat part (/s/ about 5.8 kHz, /sh/ 2.8 kHz, /f v/ broad and weak),
// voiced ones with voicing; stops are a closure (silent, or a voice bar for
// /b d g/), a burst shaped by place (the velar burst on the next vowel's
// F2), then aspiration or voicing; nasals are murmur through the nasal
// pole-zero pair with a place-dependent antiresonance, and nasalise their
// neighbouring vowels. Unless Config.Clean, each utterance then passes a
// random first-order channel, gets a random level, and coloured background
// noise at 10-30 dB SNR.
//
// # How learnable
//
// TestLearnable trains on 6 utterances of each of the 20 training speakers
// (39,810 frames) and tests on 6 of each of the 4 held-out speakers (7,528
// frames), 30 classes, majority class 17.1 %:
//
//	linear probe on raw 10 ms frames (160 samples)   18.4 %   the floor
//	linear probe on 39 MFCCs                          52.1 %
//	MLP (128 ReLU) on 39 MFCCs, +-3 frames            68.1 %   the ceiling
//
// (go test -run TestLearnable -v ./stream/synth; a linear probe on MFCCs of
// LibriSpeech with 40 classes gets about 40-45 %.) Confusions are those of
// real speech: eh/ae, aa/ah, m/n/ng, b/d/g, l/r, p/k with silence.
//
// # Streams
//
// Generator.NewSource returns a Source of frame.Blocks with clapp's source
// convention (Next, io.EOF at the end, Close): audio blocks of
// SourceConfig.Chunk samples (1600), several utterances open at once and
// interleaved round-robin (SourceConfig.Streams, the learner's batch),
// optionally each followed by a frame.LabelLayer block with the labels the
// audio has completed. Stream ids are "synth-s03-u000012"; Source.Labels
// and Generator.LabelsOf give the labels of any id without rendering its
// audio.
//
// Generation runs at 500-700 seconds of audio per second on one core of
// the development machine (BenchmarkUtterance), Labels at about 100,000,
// so synthetic speech is never the bottleneck of a learner.
package synth
