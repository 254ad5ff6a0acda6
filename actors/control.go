package actors

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"clapp/stream/frame"
	"clapp/stream/natsbus"
)

// ControlRequest is a request on clapp.<run>.control (JSON).
//
//	{"op": "freeze", "layer": 3}    freeze layer 3's learning (0 or absent: all layers)
//	{"op": "unfreeze"}              unfreeze every layer
//	{"op": "night"}                 start a night in every layer now
//	{"op": "snapshot"}              take a consistent checkpoint (reply names the file)
//	{"op": "stats"}                 report every layer's statistics
type ControlRequest struct {
	Op    string `json:"op"`
	Layer int    `json:"layer,omitempty"`
}

// ControlReply answers a ControlRequest.
type ControlReply struct {
	OK         bool         `json:"ok"`
	Error      string       `json:"error,omitempty"`
	Stats      []LayerStats `json:"stats,omitempty"`
	Checkpoint string       `json:"checkpoint,omitempty"`
	Paused     bool         `json:"paused"`
}

// Controller executes control requests on a pipeline.
type Controller struct {
	P *Pipeline
	// Save takes and writes a snapshot, returning the file; nil refuses
	// the snapshot operation.
	Save func(ctx context.Context) (string, error)
}

// Do executes one request.
func (c *Controller) Do(ctx context.Context, req ControlRequest) ControlReply {
	fail := func(err error) ControlReply {
		return ControlReply{Error: err.Error(), Paused: c.P.Paused()}
	}
	switch req.Op {
	case "freeze", "unfreeze":
		frozen := req.Op == "freeze"
		if req.Layer == 0 {
			c.P.Freeze(0, frozen)
			if !frozen {
				first, last := c.P.Layers()
				for n := first; n <= last; n++ {
					c.P.Freeze(n, false)
				}
			}
		} else if err := c.P.Freeze(req.Layer, frozen); err != nil {
			return fail(err)
		}
	case "night":
		c.P.Night()
	case "snapshot":
		if c.Save == nil {
			return fail(fmt.Errorf("actors: this process takes no snapshots"))
		}
		path, err := c.Save(ctx)
		if err != nil {
			return fail(err)
		}
		return ControlReply{OK: true, Checkpoint: path, Paused: c.P.Paused()}
	case "stats":
		return ControlReply{OK: true, Stats: c.P.Stats(), Paused: c.P.Paused()}
	default:
		return fail(fmt.Errorf("actors: unknown control op %q: want freeze, unfreeze, night, snapshot or stats", req.Op))
	}
	return ControlReply{OK: true, Paused: c.P.Paused()}
}

// Serve answers requests on clapp.<run>.control until the subscription is
// closed.
func (c *Controller) Serve(nc *nats.Conn, run string) (*nats.Subscription, error) {
	return natsbus.ServeControl(nc, run, func(data []byte) []byte {
		var req ControlRequest
		var rep ControlReply
		if err := json.Unmarshal(data, &req); err != nil {
			rep = ControlReply{Error: fmt.Sprintf("actors: control request is not JSON: %v", err)}
		} else {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			rep = c.Do(ctx, req)
			cancel()
		}
		out, _ := json.Marshal(rep)
		return out
	})
}

// PublishLayers puts every layer's frames on clapp.<run>.layer.<n> through
// pub, which never blocks the layers (a full queue drops and counts). It
// returns a function that stops publishing.
func PublishLayers(p *Pipeline, pub *natsbus.Publisher, run string) (stop func(), err error) {
	first, last := p.Layers()
	var removes []func()
	for n := first; n <= last; n++ {
		subject, err := frame.LayerSubject(run, n)
		if err != nil {
			return nil, err
		}
		rm, err := p.Tap(n, func(b *frame.Block, _ time.Time) { _ = pub.Publish(subject, *b) })
		if err != nil {
			return nil, err
		}
		removes = append(removes, rm)
	}
	return func() {
		for _, rm := range removes {
			rm()
		}
	}, nil
}

// PublishStats puts the pipeline's statistics (JSON, one message with
// every layer) on clapp.<run>.stats every period until ctx ends.
func PublishStats(ctx context.Context, p *Pipeline, nc *nats.Conn, run string, period time.Duration) error {
	subject, err := frame.StatsSubject(run)
	if err != nil {
		return err
	}
	go func() {
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				data, _ := json.Marshal(ControlReply{OK: true, Stats: p.Stats(), Paused: p.Paused()})
				_ = nc.Publish(subject, data)
			}
		}
	}()
	return nil
}
