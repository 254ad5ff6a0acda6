//go:build linux

package blas

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"unsafe"
)

// guarded returns a slice of n float32 in memory that is not Go's, with an
// inaccessible page right before it (head) or right after it (!head), so
// that reading or writing one element outside the slice kills the process
// instead of passing unnoticed.
func guarded(t *testing.T, n int, head bool) []float32 {
	t.Helper()
	if n == 0 {
		return nil
	}
	page := syscall.Getpagesize()
	data := (n*4 + page - 1) / page * page
	mem, err := syscall.Mmap(-1, 0, data+2*page, syscall.PROT_NONE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	if err := syscall.Mprotect(mem[page:page+data], syscall.PROT_READ|syscall.PROT_WRITE); err != nil {
		t.Fatalf("mprotect: %v", err)
	}
	off := page
	if !head {
		off = page + data - n*4
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&mem[off])), n)
}

func guardedCopy(t *testing.T, s []float32, head bool) []float32 {
	g := guarded(t, len(s), head)
	copy(g, s)
	return g
}

// TestOpenBLASStaysInBounds calls the forwarded routines with operands
// exactly as long as gonum's checks require, each flush against an
// inaccessible page on one side and then the other, so that OpenBLAS
// touching memory outside the slices it was given crashes the test.
func TestOpenBLASStaysInBounds(t *testing.T) {
	o := openblasForTest(t)
	forceC(t)
	rng := rand.New(rand.NewPCG(20261101, 6))
	for _, head := range []bool{false, true} {
		for _, s := range gemmShapes {
			for _, tA := range transposes[:2] {
				for _, tB := range transposes[:2] {
					m, n, k := s.m, s.n, s.k
					ar, ac, br, bc := m, k, k, n
					if isTrans(tA) {
						ar, ac = k, m
					}
					if isTrans(tB) {
						br, bc = n, k
					}
					lda, ldb, ldc := max(ac+1, 1), max(bc, 1), n+3
					a := guardedCopy(t, randSlice(rng, max(0, (ar-1)*lda+ac)), head)
					b := guardedCopy(t, randSlice(rng, max(0, (br-1)*ldb+bc)), head)
					c := guardedCopy(t, randSlice(rng, max(0, (m-1)*ldc+n)), head)
					want := append([]float32(nil), c...)
					PureGo{}.Sgemm(tA, tB, m, n, k, 1.5, a, lda, b, ldb, 0.5, want, ldc)
					o.Sgemm(tA, tB, m, n, k, 1.5, a, lda, b, ldb, 0.5, c, ldc)
					for i := range c {
						if !within(c[i], float64(want[i]), 1+absf(want[i]), tolerance(k)*float64(k+1)) {
							t.Fatalf("%c%c %s head=%t: C[%d] = %v, gonum %v", tA, tB, shapeName(s), head, i, c[i], want[i])
						}
					}
				}
			}
		}
		for _, s := range []struct{ m, n int }{{1, 1}, {7, 1}, {1, 9}, {300, 170}} {
			for _, tA := range transposes[:2] {
				for _, inc := range [][2]int{{1, 1}, {-2, 3}} {
					m, n, lda := s.m, s.n, s.n+1
					lenX, lenY := n, m
					if isTrans(tA) {
						lenX, lenY = m, n
					}
					name := fmt.Sprintf("%c M=%d_N=%d inc=%v head=%t", tA, m, n, inc, head)
					a := guardedCopy(t, randSlice(rng, (m-1)*lda+n), head)
					x := guardedCopy(t, randSlice(rng, (lenX-1)*abs(inc[0])+1), head)
					y := guardedCopy(t, randSlice(rng, (lenY-1)*abs(inc[1])+1), head)
					o.Sgemv(tA, m, n, 1, a, lda, x, inc[0], 0.5, y, inc[1])
					xs := guardedCopy(t, randSlice(rng, (m-1)*abs(inc[0])+1), head)
					ys := guardedCopy(t, randSlice(rng, (n-1)*abs(inc[1])+1), head)
					o.Sger(m, n, 1, xs, inc[0], ys, inc[1], a, lda)
					o.Sscal(lenY, 2, y, abs(inc[1]))
					for _, v := range append(append([]float32(nil), a...), y...) {
						if v != v {
							t.Fatalf("%s: NaN in result", name)
						}
					}
				}
			}
		}
	}
}

func abs(x int) int { return max(x, -x) }

func absf(x float32) float64 {
	if x < 0 {
		return -float64(x)
	}
	return float64(x)
}
