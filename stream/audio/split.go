package audio

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// ReadSplit reads a split file: one LibriSpeech utterance id
// (<reader>-<chapter>-<n>, digits) per line, as in CPC's train_split.txt and
// test_split.txt. Blank lines are ignored. A malformed or repeated id is an
// error naming the file and line; so is a file without ids.
func ReadSplit(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSplit, err)
	}
	defer f.Close()
	var ids []string
	seen := make(map[string]int)
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		id := strings.TrimSpace(sc.Text())
		if id == "" {
			continue
		}
		if !isUtteranceID(id) {
			return nil, fmt.Errorf("%w: %s line %d: %.40q is not an utterance id <reader>-<chapter>-<n>", ErrSplit, path, line, id)
		}
		if prev, ok := seen[id]; ok {
			return nil, fmt.Errorf("%w: %s line %d: %s repeats line %d", ErrSplit, path, line, id, prev)
		}
		seen[id] = line
		ids = append(ids, id)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrSplit, path, err)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%w: %s: no ids", ErrSplit, path)
	}
	return ids, nil
}

// isUtteranceID reports whether id has the form digits-digits-digits.
func isUtteranceID(id string) bool {
	parts := strings.Split(id, "-")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if p == "" {
			return false
		}
		for _, c := range p {
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	return true
}
