package natsbus

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"clapp/stream/frame"
)

// Errors returned by Publisher.Publish.
var (
	ErrQueueFull = errors.New("natsbus: publish queue full, block dropped")
	ErrClosed    = errors.New("natsbus: closed")
	ErrSubject   = errors.New("natsbus: bad subject")
)

// DefaultQueueLen is the publish queue length when none is given: about
// ten seconds of 10 ms frames of one layer.
const DefaultQueueLen = 1024

// PublisherConfig configures a Publisher.
type PublisherConfig struct {
	// QueueLen bounds the blocks waiting to be published; 0 means
	// DefaultQueueLen.
	QueueLen int
	// FlushTimeout bounds the final flush in Close; 0 means 2 s.
	FlushTimeout time.Duration
	// Logger receives publish errors (at most one a second); nil means
	// slog.Default().
	Logger *slog.Logger
}

// PublisherStats counts what a Publisher did with the blocks it was given.
type PublisherStats struct {
	// Published blocks were handed to nats.go (while disconnected, to its
	// reconnect buffer).
	Published uint64
	// Dropped blocks found the queue full, or nats.go's reconnect buffer
	// full, or the connection closed.
	Dropped uint64
	// EncodeErrors counts invalid blocks (frame.Block.Validate) and bad
	// subjects, refused by Publish.
	EncodeErrors uint64
	// PublishErrors counts other errors from nats.go, e.g. a block larger
	// than the server's max_payload.
	PublishErrors uint64
}

// Publisher publishes Blocks without ever blocking its callers: Publish
// encodes the block into a bounded queue that one goroutine drains into
// nats.go, and drops the block when the queue is full. Across a server
// restart it goes on: nats.go buffers what is published while
// disconnected (ConnConfig.ReconnectBufSize), the rest is dropped and
// counted, and publishing resumes with the connection.
type Publisher struct {
	nc      *nats.Conn
	q       chan pubItem
	done    chan struct{}
	stopped chan struct{}
	closed  atomic.Bool
	once    sync.Once
	cfg     PublisherConfig
	log     *limitedLog
	bufs    sync.Pool

	published, dropped, encodeErrs, publishErrs atomic.Uint64
}

type pubItem struct {
	subject string
	meta    frame.Block // Data is nil: the payload is already encoded
	payload *[]byte
}

// NewPublisher returns a Publisher on nc and starts its goroutine; Close
// stops it.
func NewPublisher(nc *nats.Conn, cfg PublisherConfig) *Publisher {
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = DefaultQueueLen
	}
	if cfg.FlushTimeout <= 0 {
		cfg.FlushTimeout = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	p := &Publisher{
		nc:      nc,
		q:       make(chan pubItem, cfg.QueueLen),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
		cfg:     cfg,
		log:     &limitedLog{l: cfg.Logger.With("component", "natsbus.publisher")},
	}
	p.bufs.New = func() any { return new([]byte) }
	go p.run()
	return p
}

// validPublishSubject reports whether s can be published to: non-empty
// tokens, no wildcards, no whitespace.
func validPublishSubject(s string) bool {
	if s == "" || strings.ContainsAny(s, " \t\r\n*>") {
		return false
	}
	for _, t := range strings.Split(s, ".") {
		if t == "" {
			return false
		}
	}
	return true
}

// Publish queues b for subject (usually frame.BlockSubject of the block's
// layer) and returns at once. It returns an error wrapping a frame
// sentinel for an invalid block, ErrSubject for a bad subject,
// ErrQueueFull when the block was dropped and ErrClosed after Close; all
// but ErrClosed are counted. b.Data is copied: the caller may reuse it.
func (p *Publisher) Publish(subject string, b frame.Block) error {
	if p.closed.Load() {
		return ErrClosed
	}
	if !validPublishSubject(subject) {
		p.encodeErrs.Add(1)
		return fmt.Errorf("%w: %q", ErrSubject, subject)
	}
	if err := b.Validate(); err != nil {
		p.encodeErrs.Add(1)
		return fmt.Errorf("natsbus: publish to %s: %w", subject, err)
	}
	if len(p.q) == cap(p.q) { // full: skip the encoding, drop now
		p.dropped.Add(1)
		return ErrQueueFull
	}
	buf := p.bufs.Get().(*[]byte)
	*buf = frame.AppendPayload((*buf)[:0], &b)
	b.Data = nil
	select {
	case p.q <- pubItem{subject: subject, meta: b, payload: buf}:
		return nil
	default:
		p.bufs.Put(buf)
		p.dropped.Add(1)
		return ErrQueueFull
	}
}

// Stats returns a snapshot of the counters.
func (p *Publisher) Stats() PublisherStats {
	return PublisherStats{
		Published:     p.published.Load(),
		Dropped:       p.dropped.Load(),
		EncodeErrors:  p.encodeErrs.Load(),
		PublishErrors: p.publishErrs.Load(),
	}
}

// Close stops accepting blocks, publishes those still queued, flushes the
// connection (bounded by FlushTimeout when connected) and stops the
// goroutine. It does not close the connection.
func (p *Publisher) Close() error {
	p.once.Do(func() {
		p.closed.Store(true)
		close(p.done)
	})
	<-p.stopped
	for { // blocks queued by a Publish racing with Close
		select {
		case it := <-p.q:
			p.bufs.Put(it.payload)
			p.dropped.Add(1)
			continue
		default:
		}
		break
	}
	if p.nc.IsConnected() {
		if err := p.nc.FlushTimeout(p.cfg.FlushTimeout); err != nil {
			return fmt.Errorf("natsbus: publisher flush: %w", err)
		}
	}
	return nil
}

func (p *Publisher) run() {
	defer close(p.stopped)
	h := make(nats.Header, 9)
	msg := &nats.Msg{Header: h}
	for {
		select {
		case it := <-p.q:
			p.send(msg, it)
		case <-p.done:
			for {
				select {
				case it := <-p.q:
					p.send(msg, it)
				default:
					return
				}
			}
		}
	}
}

func (p *Publisher) send(msg *nats.Msg, it pubItem) {
	// nats.go copies header and payload into its buffer before
	// PublishMsg returns, so both are reused.
	frame.SetHeaders(msg.Header, &it.meta)
	msg.Subject, msg.Data = it.subject, *it.payload
	err := p.nc.PublishMsg(msg)
	msg.Data = nil
	p.bufs.Put(it.payload)
	switch {
	case err == nil:
		p.published.Add(1)
	case errors.Is(err, nats.ErrReconnectBufExceeded), errors.Is(err, nats.ErrConnectionClosed),
		errors.Is(err, nats.ErrConnectionDraining):
		p.dropped.Add(1)
		p.log.warn("dropping blocks", "subject", it.subject, "err", err)
	default:
		p.publishErrs.Add(1)
		p.log.warn("publish failed", "subject", it.subject, "stream", it.meta.Stream, "err", err)
	}
}

// limitedLog logs at most one warning a second, so that a flood of bad
// frames or drops does not flood the log; the counters keep the numbers.
type limitedLog struct {
	l    *slog.Logger
	last atomic.Int64
}

func (g *limitedLog) warn(msg string, args ...any) {
	now := time.Now().UnixNano()
	last := g.last.Load()
	if now-last < int64(time.Second) || !g.last.CompareAndSwap(last, now) {
		return
	}
	g.l.Warn(msg, args...)
}
