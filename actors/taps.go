package actors

import (
	"sync"
	"sync/atomic"
	"time"

	"clapp/stream/frame"
)

// Tap receives every block a layer produces, on the layer's goroutine: it
// must not block (hand the block to a bounded queue, drop when full). The
// block is shared and must not be modified.
type Tap func(b *frame.Block, born time.Time)

// tapSet holds a layer's taps; adding and removing never blocks emitting.
type tapSet struct {
	mu   sync.Mutex
	next int
	list atomic.Pointer[[]tapEntry]
}

type tapEntry struct {
	id int
	f  Tap
}

func (t *tapSet) add(f Tap) (remove func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.next++
	id := t.next
	old := t.load()
	list := append(append([]tapEntry(nil), old...), tapEntry{id, f})
	t.list.Store(&list)
	return func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		var keep []tapEntry
		for _, e := range t.load() {
			if e.id != id {
				keep = append(keep, e)
			}
		}
		t.list.Store(&keep)
	}
}

func (t *tapSet) load() []tapEntry {
	if p := t.list.Load(); p != nil {
		return *p
	}
	return nil
}

// emit hands b to every tap and reports whether there was any (which may
// then hold b).
func (t *tapSet) emit(b *frame.Block, born time.Time) bool {
	list := t.load()
	for _, e := range list {
		e.f(b, born)
	}
	return len(list) > 0
}
