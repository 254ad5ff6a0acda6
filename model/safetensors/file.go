package safetensors

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// ReadFile reads and decodes the safetensors file at path. Errors name the
// file.
func ReadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	return decoder{source: path}.decode(data)
}

// WriteFile writes tensors and metadata to path atomically: the data go to a
// temporary file in the same directory, which is synced, closed and renamed
// over path, and the directory is then synced. On any failure before the
// rename, path is untouched and the temporary file removed. An existing
// file's permissions are kept; a new file gets 0644.
//
// Invalid tensors (see Encode) are rejected before the directory is touched.
func WriteFile(path string, tensors []Tensor, metadata map[string]string) error {
	header, order, err := encodeHeader(tensors, metadata, path)
	if err != nil {
		return err
	}
	perm := fs.FileMode(0o644)
	if info, err := os.Stat(path); err == nil && info.Mode().IsRegular() {
		perm = info.Mode().Perm()
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("safetensors: write %s: %w", path, err)
	}
	if err := commit(tmp, path, perm, func() error { return writeFile(tmp, header, order, tensors) }); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("safetensors: write %s: %w", path, err)
	}
	// The new file is in place; a failure here only means the rename may
	// not survive a crash.
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("safetensors: write %s: sync directory: %w", path, err)
	}
	return nil
}

// commit fills tmp, makes it durable and renames it to path.
func commit(tmp *os.File, path string, perm fs.FileMode, fill func() error) error {
	if err := fill(); err != nil {
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be opened for syncing there
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
