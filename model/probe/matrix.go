package probe

import "fmt"

// Matrix is a dense row-major float32 matrix: row i is
// Data[i*Cols : (i+1)*Cols]. A frame.Block converts without copying:
// Matrix{Rows: b.Rows, Cols: b.Cols, Data: b.Data}.
type Matrix struct {
	Rows, Cols int
	Data       []float32
}

// NewMatrix returns a zero rows x cols matrix.
func NewMatrix(rows, cols int) Matrix {
	return Matrix{Rows: rows, Cols: cols, Data: make([]float32, rows*cols)}
}

// FromRows copies rows, which must all have the same length, into a Matrix.
func FromRows(rows [][]float32) Matrix {
	if len(rows) == 0 {
		return Matrix{}
	}
	m := NewMatrix(len(rows), len(rows[0]))
	for i, r := range rows {
		if len(r) != m.Cols {
			panic(fmt.Sprintf("probe: row %d has %d values, row 0 has %d", i, len(r), m.Cols))
		}
		copy(m.Row(i), r)
	}
	return m
}

// Row returns row i, aliasing m.Data.
func (m Matrix) Row(i int) []float32 { return m.Data[i*m.Cols : (i+1)*m.Cols] }

// check panics if m's shape does not match its data.
func (m Matrix) check() {
	if m.Rows < 0 || m.Cols < 0 || len(m.Data) != m.Rows*m.Cols {
		panic(fmt.Sprintf("probe: matrix %dx%d with %d values", m.Rows, m.Cols, len(m.Data)))
	}
}

// Splice returns, for every row t of x, the concatenation of rows
// t-before .. t+after (clamped to the first and last row): a frame with its
// context, as fed to frame classifiers.
func Splice(x Matrix, before, after int) Matrix {
	x.check()
	if before < 0 || after < 0 {
		panic(fmt.Sprintf("probe: negative context %d, %d", before, after))
	}
	width := before + 1 + after
	out := NewMatrix(x.Rows, width*x.Cols)
	for t := range x.Rows {
		row := out.Row(t)
		for k := range width {
			s := min(max(t-before+k, 0), x.Rows-1)
			copy(row[k*x.Cols:], x.Row(s))
		}
	}
	return out
}

// Append returns the rows of a followed by the rows of b; both must have
// the same number of columns (or a may be empty).
func Append(a, b Matrix) Matrix {
	if a.Rows == 0 && len(a.Data) == 0 {
		a.Cols = b.Cols
	}
	if a.Cols != b.Cols {
		panic(fmt.Sprintf("probe: appending %d columns to %d", b.Cols, a.Cols))
	}
	return Matrix{Rows: a.Rows + b.Rows, Cols: a.Cols, Data: append(a.Data, b.Data...)}
}
