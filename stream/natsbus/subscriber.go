package natsbus

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go"

	"clapp/stream/frame"
)

// Defaults of SubscriberConfig.
const (
	DefaultPendingMsgs  = 1024
	DefaultPendingBytes = 64 << 20
	DefaultChanLen      = 64
)

// SubscriberConfig configures a Subscriber.
type SubscriberConfig struct {
	// PendingMsgs and PendingBytes bound the messages nats.go holds for the
	// subscription while the handler is busy (Subscription.SetPendingLimits);
	// beyond them nats.go drops messages and reports a slow consumer.
	// 0 means DefaultPendingMsgs and DefaultPendingBytes.
	PendingMsgs, PendingBytes int
	// ChanLen is the capacity of the channel of a SubscribeChan subscriber;
	// 0 means DefaultChanLen.
	ChanLen int
	// Decoder decodes and validates the frames; nil means
	// frame.NewDecoder(). Its counters are the subscriber's.
	Decoder *frame.Decoder
	// Logger receives rejected frames (at most one a second); nil means
	// slog.Default().
	Logger *slog.Logger
}

// SubscriberStats counts what a Subscriber received.
type SubscriberStats struct {
	// Decode counts the frames decoded and, by reason, those rejected.
	Decode frame.DecodeStats
	// Delivered blocks reached the handler or the channel.
	Delivered uint64
	// Dropped counts the messages nats.go dropped because the handler did
	// not keep up (slow consumer); nats.go also reports them to the
	// connection's error handler, which Connect logs.
	Dropped int
}

// Subscriber receives Blocks on a subject, wildcards allowed (e.g.
// clapp.run1.layer.*). Frames that do not decode are counted by reason
// and skipped; a block whose layer contradicts its clapp subject is
// rejected too (frame.Decoder.DecodeMsg).
type Subscriber struct {
	sub     *nats.Subscription
	dec     *frame.Decoder
	log     *limitedLog
	handle  func(frame.Block)
	out     chan frame.Block
	done    chan struct{}
	mu      sync.RWMutex // held for reading while a block is being delivered
	closed  bool
	once    sync.Once
	dropped atomic.Int64 // last Dropped() seen, kept after Close

	delivered atomic.Uint64
}

// Subscribe calls handle with every valid block received on subject, one
// at a time, on a goroutine of nats.go's.
func Subscribe(nc *nats.Conn, subject string, cfg SubscriberConfig, handle func(frame.Block)) (*Subscriber, error) {
	if handle == nil {
		return nil, fmt.Errorf("%w: nil handler", ErrConfig)
	}
	return subscribe(nc, subject, cfg, handle, nil)
}

// SubscribeChan delivers every valid block received on subject on the
// channel C, closed by Close. A full channel holds the messages back in
// nats.go's pending buffer, and beyond its limits they are dropped.
func SubscribeChan(nc *nats.Conn, subject string, cfg SubscriberConfig) (*Subscriber, error) {
	n := cfg.ChanLen
	if n <= 0 {
		n = DefaultChanLen
	}
	return subscribe(nc, subject, cfg, nil, make(chan frame.Block, n))
}

func subscribe(nc *nats.Conn, subject string, cfg SubscriberConfig, handle func(frame.Block), out chan frame.Block) (*Subscriber, error) {
	if cfg.PendingMsgs <= 0 {
		cfg.PendingMsgs = DefaultPendingMsgs
	}
	if cfg.PendingBytes <= 0 {
		cfg.PendingBytes = DefaultPendingBytes
	}
	if cfg.Decoder == nil {
		cfg.Decoder = frame.NewDecoder()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Subscriber{
		dec:    cfg.Decoder,
		log:    &limitedLog{l: cfg.Logger.With("component", "natsbus.subscriber", "subject", subject)},
		handle: handle,
		out:    out,
		done:   make(chan struct{}),
	}
	sub, err := nc.Subscribe(subject, s.onMsg)
	if err != nil {
		return nil, fmt.Errorf("natsbus: subscribe %q: %w", subject, err)
	}
	if err := sub.SetPendingLimits(cfg.PendingMsgs, cfg.PendingBytes); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("natsbus: subscribe %q: %w", subject, err)
	}
	s.sub = sub
	return s, nil
}

func (s *Subscriber) onMsg(m *nats.Msg) {
	b, err := s.dec.DecodeMsg(m.Subject, m.Header, m.Data)
	if err != nil {
		s.log.warn("rejected frame", "err", err)
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return
	}
	if s.handle != nil {
		s.handle(b)
		s.delivered.Add(1)
		return
	}
	select {
	case s.out <- b:
		s.delivered.Add(1)
	case <-s.done:
	}
}

// C returns the channel of a SubscribeChan subscriber (nil for a
// Subscribe one).
func (s *Subscriber) C() <-chan frame.Block { return s.out }

// Stats returns a snapshot of the counters.
func (s *Subscriber) Stats() SubscriberStats {
	if d, err := s.sub.Dropped(); err == nil {
		s.dropped.Store(int64(d))
	}
	return SubscriberStats{Decode: s.dec.Stats(), Delivered: s.delivered.Load(), Dropped: int(s.dropped.Load())}
}

// Close unsubscribes; once it returns the handler is not called again
// and C is closed. Blocks still pending in nats.go are discarded. Close
// waits for a handler call in progress, so the handler must not call it.
func (s *Subscriber) Close() error {
	var err error
	s.once.Do(func() {
		if d, derr := s.sub.Dropped(); derr == nil {
			s.dropped.Store(int64(d))
		}
		err = s.sub.Unsubscribe()
		close(s.done)
		s.mu.Lock() // waits for a delivery in progress
		s.closed = true
		if s.out != nil {
			close(s.out)
		}
		s.mu.Unlock()
	})
	if err != nil && err != nats.ErrConnectionClosed && err != nats.ErrBadSubscription {
		return fmt.Errorf("natsbus: unsubscribe %q: %w", s.sub.Subject, err)
	}
	return nil
}
