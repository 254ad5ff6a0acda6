package stream

import (
	"context"
	"io"
	"time"

	"clapp/stream/frame"
)

var errEOF = io.EOF

// Paced releases the blocks of src in real time: a block is returned no
// earlier than its stream's start plus the audio time of its end. Several
// interleaved streams each advance at real speed. Label blocks pass at
// once.
func Paced(src Source) Source { return &paced{src: src, start: map[string]time.Time{}} }

type paced struct {
	src   Source
	start map[string]time.Time
}

func (p *paced) Next(ctx context.Context) (frame.Block, error) {
	b, err := p.src.Next(ctx)
	if err != nil || b.Layer == frame.LabelLayer || b.Rate <= 0 {
		return b, err
	}
	s, ok := p.start[b.Stream]
	if !ok {
		// The stream starts now, minus whatever it already delivered.
		s = time.Now().Add(-time.Duration(float64(b.First) / b.Rate * float64(time.Second)))
		p.start[b.Stream] = s
	}
	due := s.Add(time.Duration(float64(b.First+int64(b.Rows)) / b.Rate * float64(time.Second)))
	if b.End {
		delete(p.start, b.Stream)
	}
	if d := time.Until(due); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return frame.Block{}, ctx.Err()
		}
	}
	return b, nil
}

func (p *paced) Close() error { return p.src.Close() }
