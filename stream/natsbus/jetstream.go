package natsbus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"clapp/stream/frame"
)

// AudioStreamName returns the name of the JetStream stream that records
// run's audio: clapp_<run>_audio.
func AudioStreamName(run string) (string, error) {
	if err := frame.ValidateRun(run); err != nil {
		return "", err
	}
	return "clapp_" + run + "_audio", nil
}

// RecordConfig limits a recording; zero values mean no limit.
type RecordConfig struct {
	MaxAge   time.Duration
	MaxBytes int64
}

// RecordAudio makes JetStream record every block published on run's audio
// subject, by creating the stream AudioStreamName(run) with file storage
// (in the server's store directory) if it does not exist yet. An existing
// stream is left as it is. Recording then needs nothing more: publishers
// keep publishing on the plain subject.
func RecordAudio(ctx context.Context, nc *nats.Conn, run string, cfg RecordConfig) (jetstream.Stream, error) {
	name, err := AudioStreamName(run)
	if err != nil {
		return nil, err
	}
	subject, _ := frame.AudioSubject(run)
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("natsbus: record %s: %w", subject, err)
	}
	s, err := js.Stream(ctx, name)
	if err == nil {
		return s, nil
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("natsbus: record %s: stream %s: %w", subject, name, err)
	}
	s, err = js.CreateStream(ctx, jetstream.StreamConfig{
		Name:        name,
		Description: "clapp audio blocks of run " + run,
		Subjects:    []string{subject},
		Storage:     jetstream.FileStorage,
		MaxAge:      cfg.MaxAge,
		MaxBytes:    orUnlimited(cfg.MaxBytes),
		Discard:     jetstream.DiscardOld,
	})
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) { // created meanwhile by someone else
		s, err = js.Stream(ctx, name)
	}
	if err != nil {
		return nil, fmt.Errorf("natsbus: record %s: create stream %s: %w", subject, name, err)
	}
	return s, nil
}

func orUnlimited(n int64) int64 {
	if n <= 0 {
		return -1
	}
	return n
}

// ReplayConfig configures a Replay.
type ReplayConfig struct {
	// Durable names the durable consumer that keeps the replay's place in
	// the recording, across restarts of the server and of this process;
	// empty means "replay". Letters, digits, '_' and '-' only.
	Durable string
	// Paced releases the blocks in real time, by their positions in their
	// streams (First/Rate), instead of as fast as they come.
	Paced bool
	// Follow waits for blocks recorded after the end; without it Next
	// returns io.EOF once every recorded block has been handed out.
	Follow bool
	// Prefetch is how many blocks are fetched from the server at once;
	// 0 means 64, or 1 when Paced.
	Prefetch int
	// AckWait is how long the server waits for the acknowledgement of a
	// delivered block before delivering it again; 0 means 30 s. Blocks
	// handed out are acknowledged when the next is asked for, so a caller
	// that holds a block longer only causes a duplicate, which is skipped.
	AckWait time.Duration
	// PollWait bounds one fetch from the server; 0 means 1 s.
	PollWait time.Duration
	// Decoder validates the blocks; nil means frame.NewAudioDecoder().
	Decoder *frame.Decoder
	// Logger receives retries and skipped blocks; nil means slog.Default().
	Logger *slog.Logger
}

// ReplayStats counts what a Replay did.
type ReplayStats struct {
	// Delivered blocks were returned by Next.
	Delivered uint64
	// Duplicates were blocks delivered again by the server and skipped.
	Duplicates uint64
	// Resets counts the times deliveries were lost (a server restart, a
	// crashed client of the same durable) and the consumer was reset to
	// the replay's place.
	Resets uint64
	// Decode counts the frames decoded and, by reason, those rejected
	// (skipped for good).
	Decode frame.DecodeStats
}

// Replay is a Source over a recording made by RecordAudio. It hands out
// the recorded blocks in order, once each. Its place is kept by a durable
// JetStream consumer: a block is acknowledged when the next one is asked
// for (or at Close), so that after a restart of the server, or of the
// process, a Replay with the same Durable resumes at the first block not
// finished with, neither from the start nor skipping one. Acknowledgements
// are sent without waiting (but at Close and at the end): after a crash,
// the few blocks whose acknowledgement had not reached the server are
// handed out again. One Replay per Durable at a time.
//
// Deliveries lost on the way (in flight during a server restart, or held
// by a client that died) would otherwise come back only after AckWait and
// out of order; Replay notices them (a gap in the stream sequence, or
// nothing delivered while the server counts unacknowledged blocks) and
// resets the consumer to its own place (JetStream consumer reset, server
// 2.14 or later; with older servers it waits for AckWait).
type Replay struct {
	js      jetstream.JetStream
	stream  string
	cons    jetstream.Consumer
	cfg     ReplayConfig
	dec     *frame.Decoder
	log     *slog.Logger
	warn    *limitedLog
	life    context.Context
	stop    context.CancelFunc
	mu      sync.Mutex // serialises Next and Close
	closed  atomic.Bool
	buf     []jetstream.Msg // fetched, in order, not yet looked at
	held    jetstream.Msg   // handed out (or being paced), not yet acknowledged
	ready   *frame.Block    // held's block while pacing was interrupted
	lastSeq uint64          // stream sequence of the last message taken; 0 before the first
	atEnd   bool            // the last message fetched said nothing more was pending
	trust   bool            // after a reset: accept the next sequence even past a gap
	pace    pacer

	delivered, duplicates, resets atomic.Uint64
}

// NewReplay opens a replay of run's recorded audio. The recording must
// exist (RecordAudio); the durable consumer is created if missing.
func NewReplay(ctx context.Context, nc *nats.Conn, run string, cfg ReplayConfig) (*Replay, error) {
	name, err := AudioStreamName(run)
	if err != nil {
		return nil, err
	}
	subject, _ := frame.AudioSubject(run)
	if cfg.Durable == "" {
		cfg.Durable = "replay"
	}
	if err := frame.ValidateRun(cfg.Durable); err != nil {
		return nil, fmt.Errorf("%w: durable name: %w", ErrConfig, err)
	}
	if cfg.Prefetch <= 0 {
		cfg.Prefetch = 64
		if cfg.Paced {
			cfg.Prefetch = 1
		}
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = 30 * time.Second
	}
	if cfg.PollWait <= 0 {
		cfg.PollWait = time.Second
	}
	if cfg.Decoder == nil {
		cfg.Decoder = frame.NewAudioDecoder()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("natsbus: replay %s: %w", name, err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, name, jetstream.ConsumerConfig{
		Durable:       cfg.Durable,
		Description:   "clapp replay of " + subject,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckAllPolicy, // an ack covers every block before it: a lost ack is healed by the next
		AckWait:       cfg.AckWait,
		MaxAckPending: cfg.Prefetch + 1, // the fetched blocks and the one handed out
		FilterSubject: subject,
	})
	if err != nil {
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			return nil, fmt.Errorf("natsbus: replay: no recording of run %q (stream %s): %w", run, name, err)
		}
		return nil, fmt.Errorf("natsbus: replay %s: consumer %s: %w", name, cfg.Durable, err)
	}
	r := &Replay{
		js:     js,
		stream: name,
		cons:   cons,
		cfg:    cfg,
		dec:    cfg.Decoder,
		log:    cfg.Logger.With("component", "natsbus.replay", "stream", name, "durable", cfg.Durable),
		atEnd:  true, // ask the server before the first fetch: the recording may be empty
		trust:  true, // the first block may be anywhere: the durable's place
	}
	r.warn = &limitedLog{l: r.log}
	r.life, r.stop = context.WithCancel(context.Background())
	return r, nil
}

// Next returns the next recorded block, io.EOF at the end of the
// recording (unless Follow) or once closed, or the context's error.
// Calling Next acknowledges the block it returned before.
func (r *Replay) Next(ctx context.Context) (frame.Block, error) {
	if r.closed.Load() {
		return frame.Block{}, io.EOF
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(r.life, cancel)()
	fail := func(err error) (frame.Block, error) {
		if r.closed.Load() {
			return frame.Block{}, io.EOF
		}
		return frame.Block{}, err
	}

	if r.ready == nil && r.held != nil {
		r.ack(ctx)
	}
	backoff := 50 * time.Millisecond
	for r.ready == nil {
		if len(r.buf) > 0 {
			m := r.buf[0]
			r.buf[0] = nil
			r.buf = r.buf[1:]
			r.take(ctx, m)
			continue
		}
		if r.atEnd {
			done, err := r.check(ctx)
			if err != nil && ctx.Err() != nil {
				return fail(ctx.Err())
			}
			if done && !r.cfg.Follow {
				return frame.Block{}, io.EOF
			}
		}
		// Take what is there at once; when nothing is, wait for one block.
		batch, err := r.cons.FetchNoWait(r.cfg.Prefetch)
		if err == nil {
			for m := range batch.Messages() {
				r.buf = append(r.buf, m)
			}
			err = batch.Error()
		}
		if len(r.buf) == 0 && (err == nil || errors.Is(err, jetstream.ErrNoMessages)) {
			fctx, fcancel := context.WithTimeout(ctx, r.cfg.PollWait)
			batch, err = r.cons.Fetch(1, jetstream.FetchContext(fctx))
			if err == nil {
				for m := range batch.Messages() {
					r.buf = append(r.buf, m)
				}
				err = batch.Error()
			}
			fcancel()
		}
		if len(r.buf) > 0 {
			backoff = 50 * time.Millisecond
			continue
		}
		if ctx.Err() != nil {
			return fail(ctx.Err())
		}
		if err == nil || errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, jetstream.ErrNoMessages) {
			r.atEnd = true // nothing came: ask the server what is left
			continue
		}
		// Disconnected, server restarting, ...: nats.go reconnects; retry.
		r.log.Debug("fetch failed, retrying", "err", err, "in", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return fail(ctx.Err())
		}
		backoff = min(2*backoff, time.Second)
		r.atEnd = true
	}

	if r.cfg.Paced {
		if err := r.pace.wait(ctx, r.ready); err != nil {
			return fail(err) // the block stays ready for the next call
		}
	}
	b := *r.ready
	r.ready = nil
	r.delivered.Add(1)
	return b, nil
}

// take handles one fetched message: a duplicate is skipped, a gap means
// lost deliveries, a bad frame is acknowledged and skipped, a good block
// becomes ready and held.
func (r *Replay) take(ctx context.Context, m jetstream.Msg) {
	meta, err := m.Metadata()
	if err != nil {
		r.log.Warn("message without JetStream metadata, skipped", "subject", m.Subject(), "err", err)
		_ = m.Term()
		return
	}
	seq := meta.Sequence.Stream
	if seq <= r.lastSeq {
		r.duplicates.Add(1)
		_ = m.Ack() // handed out and finished with already
		return
	}
	if seq > r.lastSeq+1 && !r.trust {
		r.log.Info("deliveries lost, resetting the consumer to its place", "expected", r.lastSeq+1, "got", seq)
		r.reset(ctx)
		return
	}
	r.trust = false
	r.lastSeq = seq
	r.atEnd = meta.NumPending == 0 && len(r.buf) == 0
	b, err := r.dec.DecodeMsg(m.Subject(), m.Headers(), m.Data())
	r.held = m
	if err != nil {
		r.log.Warn("recorded frame rejected, skipped", "seq", seq, "err", err)
		r.ack(ctx)
		return
	}
	r.ready = &b
}

// reset drops what was fetched and makes the server deliver again from
// the replay's place: right after the last message taken, or from the
// durable's acknowledgement floor when nothing was taken yet.
func (r *Replay) reset(ctx context.Context) {
	r.buf = r.buf[:0]
	rctx, cancel := context.WithTimeout(ctx, r.cfg.PollWait)
	defer cancel()
	var err error
	if r.lastSeq == 0 {
		_, err = r.js.ResetConsumer(rctx, r.stream, r.cfg.Durable)
	} else {
		_, err = r.js.ResetConsumerToSequence(rctx, r.stream, r.cfg.Durable, r.lastSeq+1)
	}
	if err != nil {
		// Disconnected: tried again on the next gap or empty fetch. Older
		// server: the deliveries dropped here and the lost ones all come
		// back after AckWait, in order.
		r.warn.warn("consumer reset failed", "err", err)
		return
	}
	r.resets.Add(1)
	r.trust = true
}

// ack acknowledges the held block. At the end of the recording it waits
// for the server's confirmation, so that check sees it.
func (r *Replay) ack(ctx context.Context) {
	var err error
	if r.atEnd {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err = r.held.DoubleAck(actx)
		cancel()
	} else {
		err = r.held.Ack()
	}
	if err != nil {
		// The server delivers it again after AckWait; take skips it then.
		r.log.Debug("ack failed", "err", err)
	}
	r.held = nil
}

// check asks the server what is left, with nothing fetched and nothing
// held: done when nothing is pending. Blocks delivered but not
// acknowledged at that point were lost on the way: the consumer is reset.
func (r *Replay) check(ctx context.Context) (done bool, err error) {
	ictx, cancel := context.WithTimeout(ctx, r.cfg.PollWait)
	info, err := r.cons.Info(ictx)
	cancel()
	if err != nil {
		return false, err
	}
	// Delivered beyond what was taken (or, before the first block, beyond
	// the acknowledged floor): those deliveries were lost. Our own last
	// acknowledgement may still be on its way; it is not counted.
	lost := info.Delivered.Stream > r.lastSeq
	if r.lastSeq == 0 {
		lost = info.NumAckPending > 0
	}
	if lost {
		r.log.Info("deliveries lost, resetting the consumer to its place", "delivered", info.Delivered.Stream, "taken", r.lastSeq, "unacknowledged", info.NumAckPending)
		r.reset(ctx)
		return false, nil
	}
	return info.NumPending == 0 && info.NumAckPending == 0, nil
}

// Stats returns a snapshot of the counters.
func (r *Replay) Stats() ReplayStats {
	return ReplayStats{Delivered: r.delivered.Load(), Duplicates: r.duplicates.Load(), Resets: r.resets.Load(), Decode: r.dec.Stats()}
}

// Close acknowledges the last block handed out, so that the next Replay
// with the same Durable starts after it; blocks fetched but not handed
// out are left to it (it resets the consumer to its place when it starts).
// The consumer is kept. Next returns io.EOF afterwards.
func (r *Replay) Close() error {
	if r.closed.Swap(true) {
		return nil
	}
	r.stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	var err error
	if r.held != nil && r.ready == nil { // handed out, not being paced
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = r.held.DoubleAck(ctx)
		cancel()
	}
	r.held, r.ready, r.buf = nil, nil, nil
	if err != nil {
		return fmt.Errorf("natsbus: replay close: %w", err)
	}
	return nil
}

// pacer releases blocks at the wall-clock time of their position in their
// stream, counted from the first block seen of that stream.
type pacer struct {
	stream string
	wall   time.Time
	pos    float64 // seconds into the stream at wall
}

// lateReset is how late a block may be before the pacer re-anchors
// instead of rushing to catch up (after a stall, e.g. a server restart).
const lateReset = time.Second

func (p *pacer) wait(ctx context.Context, b *frame.Block) error {
	t := float64(b.First) / b.Rate
	now := time.Now()
	if b.Stream != p.stream || t < p.pos || p.wall.IsZero() {
		p.stream, p.wall, p.pos = b.Stream, now, t
		return nil
	}
	d := p.wall.Add(time.Duration((t - p.pos) * float64(time.Second))).Sub(now)
	if d <= 0 {
		if -d > lateReset {
			p.wall, p.pos = now, t
		}
		return nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
