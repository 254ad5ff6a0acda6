//go:build unix && !linux

package chromium

import "syscall"

// sysProcAttr puts the browser in its own process group.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
