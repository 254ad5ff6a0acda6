package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"
)

// RunDir is the directory a command writes everything into (its
// configuration, seed, the commit of the code, the data it read, its
// results and plots), so that any number in a report can be traced and
// rerun.
type RunDir struct {
	Path    string
	Started time.Time
}

// NewRunDir makes root/<UTC time>-<cmd>[-name], unique.
func NewRunDir(root, cmd, name string) (*RunDir, error) {
	now := time.Now().UTC()
	base := now.Format("20060102-150405") + "-" + cmd
	if name != "" {
		base += "-" + name
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("run directory: %w", err)
	}
	path := filepath.Join(root, base)
	for i := 2; ; i++ {
		err := os.Mkdir(path, 0o755)
		if err == nil {
			break
		}
		if !os.IsExist(err) {
			return nil, fmt.Errorf("run directory: %w", err)
		}
		path = filepath.Join(root, fmt.Sprintf("%s-%d", base, i))
	}
	return &RunDir{Path: path, Started: now}, nil
}

// File returns the path of a file in the run directory.
func (r *RunDir) File(name string) string { return filepath.Join(r.Path, name) }

// WriteJSON writes v indented, through a temporary file.
func (r *RunDir) WriteJSON(name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := r.File(name + ".tmp")
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, r.File(name))
}

// WriteLines writes one line per string.
func (r *RunDir) WriteLines(name string, lines []string) error {
	return os.WriteFile(r.File(name), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}

// CodeVersion returns the commit the binary was built from when the
// build recorded it (go build in a git checkout, unless -buildvcs=false),
// else the commit of the working tree the command runs from (go run from
// the repository); "+dirty" marks uncommitted changes; "unknown" when
// neither is known (a binary built without VCS stamping, run elsewhere).
func CodeVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		var rev, modified string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		if rev != "" {
			if modified == "true" {
				rev += "+dirty"
			}
			return rev
		}
	}
	out, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	v := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
		v += "+dirty"
	}
	return v
}

// RunInfo is the header of every run's config.json.
type RunInfo struct {
	Command string    `json:"command"`
	Args    []string  `json:"args"`
	Commit  string    `json:"commit"`
	Started time.Time `json:"started"`
	Host    string    `json:"host"`
	BLAS    string    `json:"blas"`
}

// NewRunInfo describes a run of cmd with args.
func NewRunInfo(cmd string, args []string, blasName string) RunInfo {
	host, _ := os.Hostname()
	return RunInfo{Command: cmd, Args: args, Commit: CodeVersion(), Started: time.Now().UTC(), Host: host, BLAS: blasName}
}
