package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// runDir is the directory a command writes everything into (its
// configuration, seed, the commit of the code, the data it read, its
// results and plots), so that any number in a report can be traced and
// rerun.
type runDir struct {
	path    string
	started time.Time
}

func newRunDir(root, cmd, name string) (*runDir, error) {
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
	return &runDir{path: path, started: now}, nil
}

func (r *runDir) file(name string) string { return filepath.Join(r.path, name) }

// writeJSON writes v, indented, atomically enough for a report file.
func (r *runDir) writeJSON(name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := r.file(name + ".tmp")
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, r.file(name))
}

func (r *runDir) writeLines(name string, lines []string) error {
	return os.WriteFile(r.file(name), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}

// codeVersion returns the commit of the working tree the command runs
// from, with "+dirty" when it has uncommitted changes, or "unknown".
func codeVersion() string {
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

// runInfo is the header of every run's config.json.
type runInfo struct {
	Command string    `json:"command"`
	Args    []string  `json:"args"`
	Commit  string    `json:"commit"`
	Started time.Time `json:"started"`
	Host    string    `json:"host"`
	GoBLAS  string    `json:"blas"`
}

func newRunInfo(cmd string, args []string, blasName string) runInfo {
	host, _ := os.Hostname()
	return runInfo{Command: cmd, Args: args, Commit: codeVersion(), Started: time.Now().UTC(), Host: host, GoBLAS: blasName}
}
