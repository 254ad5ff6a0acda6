package labels

import (
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strings"
)

// TextGridExt is the extension of the alignment files.
const TextGridExt = ".TextGrid"

// Alignments reads the phone labels of a tree of MFA alignments in
// LibriSpeech's layout, <root>/<reader>/<chapter>/<utt>.TextGrid, as the
// "LibriSpeech Alignments" release has it. Nothing is read up front: each
// utterance is parsed when asked for, so a tree of the whole corpus (28k
// files) costs nothing to open. It is safe for concurrent use.
type Alignments struct {
	root string
}

// OpenAlignments returns the alignments under root, which must be a
// directory (e.g. .../librispeech-alignments/train-clean-100).
func OpenAlignments(root string) (*Alignments, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("labels: alignments: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("labels: alignments: %s is not a directory", root)
	}
	return &Alignments{root: root}, nil
}

// Path returns the file that holds the alignment of utt, a LibriSpeech id.
func (a *Alignments) Path(utt string) (string, error) {
	if _, err := ParseUttID(utt); err != nil {
		return "", err
	}
	parts := strings.Split(utt, "-")
	return filepath.Join(a.root, parts[0], parts[1], utt+TextGridExt), nil
}

// TextGrid reads the alignment of utt. A missing file wraps fs.ErrNotExist.
func (a *Alignments) TextGrid(utt string) (*TextGrid, error) {
	path, err := a.Path(utt)
	if err != nil {
		return nil, err
	}
	return ReadTextGrid(path)
}

// Phones returns the phone labels of utt on the canonical grid (see
// TextGrid.Phones).
func (a *Alignments) Phones(utt string) (Seq, error) {
	tg, err := a.TextGrid(utt)
	if err != nil {
		return Seq{}, err
	}
	return tg.Phones()
}

// All walks the tree in lexical order and yields the phone labels of every
// *.TextGrid file, one file at a time. A file that cannot be read or
// parsed yields a Seq with only Utt set and the error, and the walk goes
// on if the caller continues; an error of the walk itself ends it.
func (a *Alignments) All() iter.Seq2[Seq, error] {
	return func(yield func(Seq, error) bool) {
		err := filepath.WalkDir(a.root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !strings.HasSuffix(path, TextGridExt) {
				return nil
			}
			var s Seq
			tg, err := ReadTextGrid(path)
			if err == nil {
				s, err = tg.Phones()
			}
			if err != nil {
				s = Seq{Utt: strings.TrimSuffix(d.Name(), TextGridExt)}
			}
			if !yield(s, err) {
				return fs.SkipAll
			}
			return nil
		})
		if err != nil && !errors.Is(err, fs.SkipAll) {
			yield(Seq{}, fmt.Errorf("labels: alignments: %w", err))
		}
	}
}
