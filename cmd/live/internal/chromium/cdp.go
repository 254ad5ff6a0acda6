package chromium

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// conn is one DevTools WebSocket: calls are matched to their responses by
// id; events go to the handler of their session.
type conn struct {
	ws     *websocket.Conn
	cancel context.CancelFunc

	mu       sync.Mutex
	next     int64
	pending  map[int64]chan response
	handlers map[string]func(method string, params json.RawMessage)
	err      error // set once the reader stops
	done     chan struct{}
}

type request struct {
	ID        int64  `json:"id"`
	Method    string `json:"method"`
	Params    any    `json:"params,omitempty"`
	SessionID string `json:"sessionId,omitempty"`
}

type response struct {
	ID        int64           `json:"id"`
	Result    json.RawMessage `json:"result"`
	Error     *cdpError       `json:"error"`
	Method    string          `json:"method"`
	Params    json.RawMessage `json:"params"`
	SessionID string          `json:"sessionId"`
}

type cdpError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    string `json:"data"`
}

func (e *cdpError) Error() string {
	if e.Data != "" {
		return fmt.Sprintf("%s (%d): %s", e.Message, e.Code, e.Data)
	}
	return fmt.Sprintf("%s (%d)", e.Message, e.Code)
}

// writeTimeout bounds one message's write to the browser.
const writeTimeout = 30 * time.Second

func dial(ctx context.Context, url string) (*conn, error) {
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return nil, fmt.Errorf("chromium: connect %s: %w", url, err)
	}
	// Screenshots arrive as one base64 message.
	ws.SetReadLimit(256 << 20)
	rctx, cancel := context.WithCancel(context.Background())
	c := &conn{ws: ws, cancel: cancel, pending: map[int64]chan response{},
		handlers: map[string]func(string, json.RawMessage){}, done: make(chan struct{})}
	go c.read(rctx)
	return c, nil
}

func (c *conn) read(ctx context.Context) {
	defer close(c.done)
	for {
		_, data, err := c.ws.Read(ctx)
		if err != nil {
			c.mu.Lock()
			c.err = fmt.Errorf("%w: connection lost: %w", ErrClosed, err)
			for id, ch := range c.pending {
				close(ch)
				delete(c.pending, id)
			}
			c.mu.Unlock()
			return
		}
		var r response
		if err := json.Unmarshal(data, &r); err != nil {
			continue // not CDP: nothing to match it with
		}
		c.mu.Lock()
		if r.Method == "" {
			if ch, ok := c.pending[r.ID]; ok {
				delete(c.pending, r.ID)
				ch <- r
			}
			c.mu.Unlock()
			continue
		}
		h := c.handlers[r.SessionID]
		c.mu.Unlock()
		if h != nil {
			h(r.Method, r.Params)
		}
	}
}

// call sends method with params to the session (the browser for "") and
// decodes the result into result unless it is nil.
func (c *conn) call(ctx context.Context, session, method string, params, result any) error {
	ch := make(chan response, 1)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return fmt.Errorf("chromium: %s: %w", method, err)
	}
	c.next++
	id := c.next
	c.pending[id] = ch
	c.mu.Unlock()
	data, err := json.Marshal(request{ID: id, Method: method, Params: params, SessionID: session})
	if err != nil {
		c.forget(id)
		return fmt.Errorf("chromium: %s: %w", method, err)
	}
	if err := ctx.Err(); err != nil {
		c.forget(id)
		return fmt.Errorf("chromium: %s: %w", method, err)
	}
	// The websocket closes the whole connection when a write's context
	// ends mid-write, so the caller's deadline (a WaitFor's, say) governs
	// only the wait for the answer, and the write gets its own.
	wctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	err = c.ws.Write(wctx, websocket.MessageText, data)
	cancel()
	if err != nil {
		c.forget(id)
		return fmt.Errorf("chromium: %s: %w", method, err)
	}
	select {
	case r, ok := <-ch:
		if !ok {
			c.mu.Lock()
			err := c.err
			c.mu.Unlock()
			return fmt.Errorf("chromium: %s: %w", method, err)
		}
		if r.Error != nil {
			return fmt.Errorf("chromium: %s: %w", method, r.Error)
		}
		if result != nil {
			if err := json.Unmarshal(r.Result, result); err != nil {
				return fmt.Errorf("chromium: %s: decode result: %w", method, err)
			}
		}
		return nil
	case <-ctx.Done():
		c.forget(id)
		return fmt.Errorf("chromium: %s: %w", method, ctx.Err())
	}
}

func (c *conn) forget(id int64) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// handle sets the event handler of a session; nil removes it. Handlers
// run on the reader goroutine and must not call back into the conn.
func (c *conn) handle(session string, h func(method string, params json.RawMessage)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h == nil {
		delete(c.handlers, session)
		return
	}
	c.handlers[session] = h
}

func (c *conn) close() {
	_ = c.ws.Close(websocket.StatusNormalClosure, "")
	c.cancel()
	<-c.done
}
