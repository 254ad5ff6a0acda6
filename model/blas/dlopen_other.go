//go:build !((darwin || freebsd || linux || netbsd) && !android)

package blas

import (
	"errors"
	"runtime"
)

func libraryNames() []string { return []string{"libopenblas"} }

func dlopen(string) (uintptr, error) {
	return 0, errors.New("loading C libraries at run time is not supported on " + runtime.GOOS)
}

func register(any, uintptr, string) error { panic("unreachable") }
