package natsbus

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"

	"clapp/stream/frame"
)

// Request sends payload on run's control subject and waits for the reply
// (or ctx). The messages are the actors' to define; this only carries
// bytes.
func Request(ctx context.Context, nc *nats.Conn, run string, payload []byte) ([]byte, error) {
	subject, err := frame.ControlSubject(run)
	if err != nil {
		return nil, err
	}
	m, err := nc.RequestWithContext(ctx, subject, payload)
	if err != nil {
		return nil, fmt.Errorf("natsbus: request on %s: %w", subject, err)
	}
	return m.Data, nil
}

// ServeControl answers the requests on run's control subject with handle;
// a nil reply sends an empty one. Unsubscribe the returned subscription
// to stop.
func ServeControl(nc *nats.Conn, run string, handle func(req []byte) (reply []byte)) (*nats.Subscription, error) {
	subject, err := frame.ControlSubject(run)
	if err != nil {
		return nil, err
	}
	sub, err := nc.Subscribe(subject, func(m *nats.Msg) {
		if m.Reply == "" {
			return // not a request: nobody to answer
		}
		_ = m.Respond(handle(m.Data)) // a requester gone is not our error
	})
	if err != nil {
		return nil, fmt.Errorf("natsbus: serve %s: %w", subject, err)
	}
	return sub, nil
}
