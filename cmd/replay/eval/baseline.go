package eval

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"clapp/model"
)

// cacheVersion changes whenever the numbers a cached result holds would
// change for the same key: a different grid alignment, probe or MFCC recipe.
const cacheVersion = 1

// Baselines returns the random-init baseline (an encoder of configuration
// mc initialised from seed) and the MFCC baseline on ds, in that order.
// Each is read from the cache when an earlier run computed it with the same
// data, labels, task, encoder configuration, seed and probe settings, and
// computed and stored there otherwise.
func Baselines(ctx context.Context, ds *Dataset, mc model.Config, seed uint64, cfg Config) ([]*Result, error) {
	ri, err := Cached(ctx, ds, KindRandomInit, &mc, seed, cfg, func() (Features, error) { return RandomInit(mc, seed) })
	if err != nil {
		return nil, err
	}
	mf, err := Cached(ctx, ds, KindMFCC, nil, 0, cfg, func() (Features, error) { return MFCC(ds.Task), nil })
	if err != nil {
		return nil, err
	}
	return []*Result{ri, mf}, nil
}

// Cached returns the evaluation of the features that build makes, read from
// Config.CacheDir if it is there under the key of (ds, kind, mc, seed, the
// probe settings of cfg), evaluated and stored otherwise. mc and seed
// identify the features: an encoder's configuration and initialisation
// seed (mc nil for MFCC). Only features that these determine, such as
// baselines, belong in the cache; a trained checkpoint does not.
func Cached(ctx context.Context, ds *Dataset, kind string, mc *model.Config, seed uint64, cfg Config, build func() (Features, error)) (*Result, error) {
	cfg, err := cfg.Fill()
	if err != nil {
		return nil, err
	}
	path := ""
	if !cfg.NoCache {
		dir, err := cacheDir(cfg)
		if err != nil {
			return nil, err
		}
		path = filepath.Join(dir, fmt.Sprintf("%s-%s.json", kind, cacheKey(ds, kind, mc, seed, cfg)))
		if r, err := readCached(path); err == nil {
			r.Cached = true
			cfg.Logger.Info("eval: baseline from cache", "features", kind, "file", path)
			return r, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			cfg.Logger.Warn("eval: unreadable cache entry, recomputing", "file", path, "err", err)
		}
	}
	f, err := build()
	if err != nil {
		return nil, err
	}
	r, err := Evaluate(ctx, ds, f, cfg)
	if err != nil {
		return nil, err
	}
	if path != "" {
		if err := writeJSONAtomic(path, r); err != nil {
			cfg.Logger.Warn("eval: cannot cache baseline", "file", path, "err", err)
		}
	}
	return r, nil
}

func cacheDir(cfg Config) (string, error) {
	dir := cfg.CacheDir
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("%w: no cache directory (%w): set one or turn the cache off", ErrConfig, err)
		}
		dir = filepath.Join(base, "clapp", "eval")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("%w: cache directory %s: %w", ErrConfig, dir, err)
	}
	return dir, nil
}

// cacheKey hashes everything that determines a baseline's numbers: the
// version of this recipe, the kind, the encoder configuration and seed,
// the task and label source, every utterance of both splits with its
// audio length and labels, and the probe and subsampling settings.
func cacheKey(ds *Dataset, kind string, mc *model.Config, seed uint64, cfg Config) string {
	h := sha256.New()
	head, _ := json.Marshal(struct {
		Version int           `json:"version"`
		Kind    string        `json:"kind"`
		Model   *model.Config `json:"model"`
		Seed    uint64        `json:"seed"`
		Task    Task          `json:"task"`
		Labels  string        `json:"labels"`
		Classes int           `json:"classes"`
		Probe   ProbeSettings `json:"probe"`
	}{cacheVersion, kind, mc, seed, ds.Task, labelKind(ds.Labels), ds.Classes, settings(cfg)})
	h.Write(head)
	var b [8]byte
	for _, sp := range []*Split{&ds.Train, &ds.Test} {
		h.Write([]byte(sp.Name))
		for _, u := range sp.Utterances {
			h.Write([]byte(u.ID))
			binary.LittleEndian.PutUint64(b[:], uint64(u.Samples))
			h.Write(b[:])
			binary.LittleEndian.PutUint64(b[:], uint64(len(u.Labels)))
			h.Write(b[:])
			for _, c := range u.Labels {
				binary.LittleEndian.PutUint32(b[:4], uint32(c))
				h.Write(b[:4])
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:24]
}

// labelKind is the scheme of a label source without its path: where the
// labels lie does not change the numbers, the labels themselves (hashed
// per utterance) do.
func labelKind(l string) string {
	if s, _, err := ParseLabels(l); err == nil {
		return s
	}
	return l
}

func readCached(path string) (*Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Result
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, err
	}
	if len(r.Layers) == 0 {
		return nil, fmt.Errorf("no layers in %s", path)
	}
	return &r, nil
}

// writeJSONAtomic writes v as indented JSON through a temporary file in the
// same directory and a rename.
func writeJSONAtomic(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(data, '\n'))
}

func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
