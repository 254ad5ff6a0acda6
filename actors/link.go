package actors

import (
	"context"
	"sync/atomic"
)

// link bounds the messages in flight from one stage to the next with
// credits: the sender takes a credit before sending and waits when none is
// left, the receiver returns it when it takes the message up. Queues stay
// bounded whatever the speeds, and a slow layer slows its source instead
// of growing a mailbox.
type link struct {
	credits chan struct{}
	backlog atomic.Int64
}

func newLink(capacity int) *link {
	return &link{credits: make(chan struct{}, max(capacity, 1))}
}

// acquire takes a credit, waiting for one; it fails only when ctx ends.
func (l *link) acquire(ctx context.Context) error {
	select {
	case l.credits <- struct{}{}:
		l.backlog.Add(1)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// release returns a credit.
func (l *link) release() {
	l.backlog.Add(-1)
	<-l.credits
}

// waiting returns the number of messages sent and not yet taken up.
func (l *link) waiting() int64 { return l.backlog.Load() }
