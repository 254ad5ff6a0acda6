// Package frame defines Block, the one type that carries timestepped data
// everywhere in clapp: audio samples from a source, the activations of an
// encoder layer between actors, and the same activations encoded on NATS.
//
// A Block is a run of consecutive timesteps of one stream (an utterance, a
// live session segment). Audio is layer 0 with one column at 16 kHz; layer n
// of the encoder has its own frame rate and width. Labels on the canonical
// 10 ms grid travel as LabelLayer blocks with one column holding the class.
package frame
