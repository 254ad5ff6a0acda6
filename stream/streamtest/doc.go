// Package streamtest finds the shared LibriSpeech data (audio, forced
// alignments, CPC splits and labels) that the tests of clapp's packages
// decode. The data is never copied into the repository: it lives in
// ../shared/data beside the repository root, or where the -clapp.data
// test flag or the CLAPP_DATA environment variable say.
package streamtest
