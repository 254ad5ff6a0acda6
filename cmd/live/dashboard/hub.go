package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync/atomic"

	"github.com/coder/websocket"
)

// message is one WebSocket message, shared by every browser (never
// modified after it is made).
type message struct {
	typ  websocket.MessageType
	data []byte
}

// client is one browser: a bounded queue and the goroutine that writes it.
type client struct {
	q       chan message
	dropped atomic.Int64
	cancel  context.CancelFunc // disconnects the browser
}

// broadcast queues m for every browser; a browser whose queue is full
// loses it (counted), so no browser slows another or the layers.
func (d *Dashboard) broadcast(m message) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for c := range d.clients {
		select {
		case c.q <- m:
		default:
			c.dropped.Add(1)
			d.dropped.Add(1)
		}
	}
}

// serveWS upgrades to a WebSocket and streams the hello, stats and column
// messages to the browser until it goes away or the dashboard closes. The
// browser sends nothing (controls are HTTP POSTs); a data message from it
// closes the connection.
func (d *Dashboard) serveWS(w http.ResponseWriter, r *http.Request) {
	// Same origin only (the default): another site's page cannot read the
	// stream through a visitor's browser.
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		d.cfg.Logger.Debug("dashboard: websocket refused", "remote", r.RemoteAddr, "err", err)
		return
	}
	cctx, cancel := context.WithCancel(d.ctx)
	defer cancel()
	c := &client{q: make(chan message, d.cfg.ClientQueue), cancel: cancel}
	hello, _ := json.Marshal(d.hello())
	stats, _ := json.Marshal(d.Stats())
	c.q <- message{websocket.MessageText, hello}
	c.q <- message{websocket.MessageText, stats}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		conn.Close(websocket.StatusGoingAway, "dashboard closed")
		return
	}
	d.clients[c] = struct{}{}
	d.wg.Add(1)
	d.mu.Unlock()
	defer d.wg.Done()
	log := d.cfg.Logger.With("remote", r.RemoteAddr)
	log.Info("dashboard: browser connected")

	// CloseRead answers pings and the close handshake; its context ends
	// when the browser goes away. It closes the connection at once when
	// its own context ends, so it gets one that does not: a disconnect
	// from here sends a close frame first.
	gone := conn.CloseRead(context.Background())
	err = d.write(cctx, gone, conn, c)
	d.mu.Lock()
	delete(d.clients, c)
	d.mu.Unlock()
	switch {
	case cctx.Err() != nil:
		conn.Close(websocket.StatusGoingAway, "dashboard closed")
	case err != nil:
		conn.CloseNow()
	}
	log.Info("dashboard: browser gone", "dropped", c.dropped.Load(), "err", err)
}

var errWriteTimeout = errors.New("dashboard: browser too slow to accept a message")

// write sends c's queue until ctx ends (the dashboard disconnects) or
// gone ends (the browser went away).
func (d *Dashboard) write(ctx, gone context.Context, conn *websocket.Conn, c *client) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	defer context.AfterFunc(gone, stop)()
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-c.q:
			wctx, cancel := context.WithTimeout(ctx, d.cfg.WriteTimeout)
			err := conn.Write(wctx, m.typ, m.data)
			timedOut := errors.Is(wctx.Err(), context.DeadlineExceeded)
			cancel()
			if err != nil {
				if timedOut {
					return errWriteTimeout
				}
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			d.sent.Add(1)
		}
	}
}

// disconnect ends every browser's WebSocket (the page reconnects when it
// can); it does not wait.
func (d *Dashboard) disconnect() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for c := range d.clients {
		c.cancel()
	}
}
