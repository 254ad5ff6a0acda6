//go:build (darwin || freebsd || linux || netbsd) && !android

package blas

import (
	"fmt"
	"runtime"

	"github.com/ebitengine/purego"
)

// libraryNames lists the names OpenBLAS is tried by, most likely first.
func libraryNames() []string {
	switch runtime.GOOS {
	case "darwin":
		return []string{
			"libopenblas.dylib",
			"/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
			"/usr/local/opt/openblas/lib/libopenblas.dylib",
		}
	default:
		return []string{
			"libopenblas.so.0",  // Debian and Ubuntu libopenblas0, Fedora, Arch
			"libopenblas.so",    // a development symlink, FreeBSD
			"libopenblasp.so.0", // Fedora's pthreads build under its own name
		}
	}
}

func dlopen(name string) (uintptr, error) {
	// The handle is never closed: OpenBLAS lives as long as the process.
	return purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_LOCAL)
}

// register binds the C function name in library h to the Go function
// variable fptr points to, or says it is missing.
func register(fptr any, h uintptr, name string) error {
	sym, err := purego.Dlsym(h, name)
	if err != nil {
		return fmt.Errorf("missing %s: %w", name, err)
	}
	purego.RegisterFunc(fptr, sym)
	return nil
}
