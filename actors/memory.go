package actors

// record is one stored candidate negative: the input of a window of
// contexts and of a partner window whose frames serve as negative targets,
// enough to recompute both with the weights of the night that replays
// them.
type record[W any] struct {
	w, partner W
	bytes      int64
}

// memory is a layer's bounded store of negatives. When full it drops the
// oldest records, and counts them.
type memory[W any] struct {
	capacity int64
	used     int64
	q        []record[W]
	head     int
	dropped  int64
	stored   int64
}

func newMemory[W any](capacity int64) *memory[W] { return &memory[W]{capacity: capacity} }

func (m *memory[W]) push(r record[W]) {
	if r.bytes > m.capacity {
		m.dropped++
		return
	}
	for m.used+r.bytes > m.capacity && m.head < len(m.q) {
		m.used -= m.q[m.head].bytes
		var zero record[W]
		m.q[m.head] = zero
		m.head++
		m.dropped++
	}
	m.q = append(m.q, r)
	m.used += r.bytes
	m.stored++
}

// take removes and returns every stored record, oldest first.
func (m *memory[W]) take() []record[W] {
	out := append([]record[W](nil), m.q[m.head:]...)
	m.q, m.head, m.used = m.q[:0], 0, 0
	return out
}

func (m *memory[W]) len() int { return len(m.q) - m.head }
