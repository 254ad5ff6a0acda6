//go:build linux

package chromium

import "syscall"

// sysProcAttr puts the browser in its own process group and has the
// kernel kill it when the process that started it dies (a test binary
// killed by its timeout leaves no browser behind).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
