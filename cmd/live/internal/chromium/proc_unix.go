//go:build unix

package chromium

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// killGroup kills the browser's process group: the browser and every
// helper it forked, which stay in its group.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
}

// killNamed kills, by process id, every process whose command line holds
// dir (the browser's own temporary directory, so only processes this
// package started): the crash handlers Chromium daemonises out of its
// process group. It needs /proc and does nothing without it.
func killNamed(dir string) {
	for _, pid := range pidsNaming(dir) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// pidsNaming lists the processes whose command line contains s.
func pidsNaming(s string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && bytes.Contains(cmdline, []byte(s)) {
			pids = append(pids, pid)
		}
	}
	return pids
}
