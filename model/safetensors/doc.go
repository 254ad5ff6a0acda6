// Package safetensors reads and writes the safetensors checkpoint format
// (https://github.com/huggingface/safetensors) for float32 tensors, with the
// standard library only.
//
// A file is an 8-byte little-endian header length N, N bytes of UTF-8 JSON,
// and a data section. The JSON object maps each tensor name to
//
//	{"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]}
//
// with offsets relative to the start of the data section, plus an optional
// "__metadata__" object of string to string. Tensors are stored row-major and
// little-endian, back to back in offset order with no gap and no overlap.
//
// The writer lays a file out as the reference implementation does for an
// all-F32 file, so that safetensors.torch.load_file reads it: tensors in
// name order, "__metadata__" first in the header and omitted when empty,
// compact JSON, the header padded with spaces to a multiple of 8 bytes so the
// data section is aligned. The tests pin this against a byte string from the
// reference implementation's own tests.
//
// The reader is strict and never trusts the header: every claim is checked
// against the real length of the input before tensor data are allocated, so
// a hostile file costs memory in proportion to its own size, and no input
// makes it panic (FuzzDecode). It accepts the freedom the format leaves
// writers (a header not padded to 8 bytes, any JSON whitespace after it,
// members and data in any order) and rejects the rest, including unknown
// fields and duplicate keys (which encoding/json alone would collapse). Each
// failure wraps one of the sentinel errors and says what is wrong and where
// (file, tensor, expected and found). Values are not judged: NaN and Inf are
// read and written as they are. Only F32 tensors are read; any other dtype of
// the format gives ErrUnsupportedDType naming the tensor.
//
// Encode and WriteFile return ErrInvalidTensor for a tensor whose Data length
// does not match its Shape (and for duplicate or reserved names) rather than
// panicking, so a bad checkpoint request never replaces a good checkpoint.
// WriteFile is atomic: it writes a temporary file in the target's directory,
// syncs it, renames it over the target and syncs the directory; on failure
// the previous file is intact and the temporary file is removed.
package safetensors
