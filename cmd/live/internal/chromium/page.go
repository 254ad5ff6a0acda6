package chromium

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// Page is one tab of the browser.
type Page struct {
	b       *Browser
	target  string
	session string

	mu     sync.Mutex
	loads  chan struct{} // a token per load event
	errors []string      // uncaught exceptions and console errors
}

// NewPage opens a tab, navigates it to url and waits for the page's load
// event.
func (b *Browser) NewPage(ctx context.Context, url string) (*Page, error) {
	var created struct {
		TargetID string `json:"targetId"`
	}
	if err := b.conn.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &created); err != nil {
		return nil, err
	}
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.conn.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": created.TargetID, "flatten": true}, &attached); err != nil {
		return nil, err
	}
	p := &Page{b: b, target: created.TargetID, session: attached.SessionID, loads: make(chan struct{}, 16)}
	b.conn.handle(p.session, p.event)
	for _, m := range []string{"Page.enable", "Runtime.enable"} {
		if err := p.call(ctx, m, nil, nil); err != nil {
			return nil, err
		}
	}
	if err := p.Navigate(ctx, url); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Page) call(ctx context.Context, method string, params, result any) error {
	return p.b.conn.call(ctx, p.session, method, params, result)
}

// event records what tests want to know about: loads, exceptions and
// console errors.
func (p *Page) event(method string, params json.RawMessage) {
	switch method {
	case "Page.loadEventFired":
		select {
		case p.loads <- struct{}{}:
		default:
		}
	case "Runtime.exceptionThrown":
		var e struct {
			ExceptionDetails exceptionDetails `json:"exceptionDetails"`
		}
		if json.Unmarshal(params, &e) == nil {
			p.addError("exception: " + e.ExceptionDetails.String())
		}
	case "Runtime.consoleAPICalled":
		var e struct {
			Type string `json:"type"`
			Args []struct {
				Value       any    `json:"value"`
				Description string `json:"description"`
			} `json:"args"`
		}
		if json.Unmarshal(params, &e) == nil && (e.Type == "error" || e.Type == "assert") {
			var parts []string
			for _, a := range e.Args {
				if a.Description != "" {
					parts = append(parts, a.Description)
				} else {
					parts = append(parts, fmt.Sprint(a.Value))
				}
			}
			p.addError("console." + e.Type + ": " + strings.Join(parts, " "))
		}
	}
}

func (p *Page) addError(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errors = append(p.errors, s)
}

// Errors returns the page's uncaught exceptions and console errors so far.
func (p *Page) Errors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errors...)
}

// Navigate loads url and waits for its load event.
func (p *Page) Navigate(ctx context.Context, url string) error {
	for { // forget earlier loads
		select {
		case <-p.loads:
			continue
		default:
		}
		break
	}
	var nav struct {
		ErrorText string `json:"errorText"`
	}
	if err := p.call(ctx, "Page.navigate", map[string]any{"url": url}, &nav); err != nil {
		return err
	}
	if nav.ErrorText != "" {
		return fmt.Errorf("chromium: navigate %s: %s", url, nav.ErrorText)
	}
	select {
	case <-p.loads:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("chromium: navigate %s: no load event: %w", url, ctx.Err())
	}
}

// RemoteObject is CDP's description of a JavaScript value.
type remoteObject struct {
	Type                string          `json:"type"`
	Subtype             string          `json:"subtype"`
	Value               json.RawMessage `json:"value"`
	UnserializableValue string          `json:"unserializableValue"`
	Description         string          `json:"description"`
}

type exceptionDetails struct {
	Text         string        `json:"text"`
	LineNumber   int           `json:"lineNumber"`
	ColumnNumber int           `json:"columnNumber"`
	URL          string        `json:"url"`
	Exception    *remoteObject `json:"exception"`
}

func (e exceptionDetails) String() string {
	s := e.Text
	if e.Exception != nil && e.Exception.Description != "" {
		s = e.Exception.Description
	}
	if e.URL != "" {
		s += fmt.Sprintf(" (%s:%d:%d)", e.URL, e.LineNumber+1, e.ColumnNumber+1)
	}
	return s
}

// ErrJS reports a JavaScript exception thrown by an evaluated expression.
var ErrJS = errors.New("chromium: JavaScript exception")

// EvalJSON evaluates a JavaScript expression in the page (awaiting it if
// it is a promise) and returns its value as JSON. undefined is null.
func (p *Page) EvalJSON(ctx context.Context, expr string) (json.RawMessage, error) {
	var r struct {
		Result           remoteObject      `json:"result"`
		ExceptionDetails *exceptionDetails `json:"exceptionDetails"`
	}
	err := p.call(ctx, "Runtime.evaluate", map[string]any{
		"expression": expr, "returnByValue": true, "awaitPromise": true, "userGesture": true,
	}, &r)
	if err != nil {
		return nil, err
	}
	if r.ExceptionDetails != nil {
		return nil, fmt.Errorf("%w: %s: in %s", ErrJS, r.ExceptionDetails, short(expr))
	}
	if r.Result.UnserializableValue != "" {
		return nil, fmt.Errorf("chromium: %s is %s, which JSON cannot hold", short(expr), r.Result.UnserializableValue)
	}
	if len(r.Result.Value) == 0 {
		return json.RawMessage("null"), nil
	}
	return r.Result.Value, nil
}

// Eval evaluates expr and decodes its JSON value into out (which may be
// nil to discard it).
func (p *Page) Eval(ctx context.Context, expr string, out any) error {
	v, err := p.EvalJSON(ctx, expr)
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(v, out); err != nil {
		return fmt.Errorf("chromium: value of %s: %w", short(expr), err)
	}
	return nil
}

// WaitFor evaluates expr every interval until it is truthy, or ctx ends;
// the error then gives the expression's last value.
func (p *Page) WaitFor(ctx context.Context, expr string, interval time.Duration) error {
	if interval <= 0 {
		interval = 100 * time.Millisecond
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var last json.RawMessage // the last value, for the error
	var lastErr error
	for {
		v, err := p.EvalJSON(ctx, "!!("+expr+")")
		if err == nil && string(v) == "true" {
			return nil
		}
		if err != nil {
			lastErr = err
		} else {
			last = v
		}
		select {
		case <-ctx.Done():
			if last == nil && lastErr != nil {
				return fmt.Errorf("chromium: waiting for %s: %w (last error: %v)", short(expr), ctx.Err(), lastErr)
			}
			return fmt.Errorf("chromium: waiting for %s: %w (it stayed %s)", short(expr), ctx.Err(), last)
		case <-t.C:
		}
	}
}

// ClickJS clicks the element matching a CSS selector with
// HTMLElement.click().
func (p *Page) ClickJS(ctx context.Context, selector string) error {
	sel, _ := json.Marshal(selector)
	return p.Eval(ctx, fmt.Sprintf(`(() => { const e = document.querySelector(%s); if (!e) throw new Error("no element " + %s); e.click(); })()`, sel, sel), nil)
}

// Click clicks the middle of the element matching a CSS selector with
// mouse events, as a person would: it must be visible and not covered.
func (p *Page) Click(ctx context.Context, selector string) error {
	sel, _ := json.Marshal(selector)
	var pt struct {
		X, Y float64
		OK   bool
		Why  string
	}
	err := p.Eval(ctx, fmt.Sprintf(`(() => {
		const e = document.querySelector(%s);
		if (!e) return {OK: false, Why: "no element"};
		e.scrollIntoView({block: "center", inline: "center"});
		const r = e.getBoundingClientRect();
		if (r.width === 0 || r.height === 0) return {OK: false, Why: "not visible"};
		const x = r.left + r.width / 2, y = r.top + r.height / 2;
		const top = document.elementFromPoint(x, y);
		if (top !== e && !e.contains(top)) return {OK: false, Why: "covered by " + (top ? top.tagName + "#" + top.id : "nothing")};
		return {X: x, Y: y, OK: true};
	})()`, sel), &pt)
	if err != nil {
		return err
	}
	if !pt.OK {
		return fmt.Errorf("chromium: click %s: %s", selector, pt.Why)
	}
	for _, ev := range []map[string]any{
		{"type": "mouseMoved", "x": pt.X, "y": pt.Y},
		{"type": "mousePressed", "x": pt.X, "y": pt.Y, "button": "left", "clickCount": 1},
		{"type": "mouseReleased", "x": pt.X, "y": pt.Y, "button": "left", "clickCount": 1},
	} {
		if err := p.call(ctx, "Input.dispatchMouseEvent", ev, nil); err != nil {
			return fmt.Errorf("chromium: click %s: %w", selector, err)
		}
	}
	return nil
}

// SetViewport sets the page's viewport size in CSS pixels.
func (p *Page) SetViewport(ctx context.Context, width, height int) error {
	return p.call(ctx, "Emulation.setDeviceMetricsOverride", map[string]any{
		"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false,
	}, nil)
}

// Screenshot writes a PNG of the page to path; with full set it captures
// the whole page, not just the viewport.
func (p *Page) Screenshot(ctx context.Context, path string, full bool) error {
	params := map[string]any{"format": "png"}
	if full {
		var m struct {
			Content struct {
				Width  float64 `json:"width"`
				Height float64 `json:"height"`
			} `json:"cssContentSize"`
		}
		if err := p.call(ctx, "Page.getLayoutMetrics", nil, &m); err != nil {
			return err
		}
		params["captureBeyondViewport"] = true
		params["clip"] = map[string]any{"x": 0, "y": 0, "width": m.Content.Width, "height": m.Content.Height, "scale": 1}
	}
	var r struct {
		Data string `json:"data"`
	}
	if err := p.call(ctx, "Page.captureScreenshot", params, &r); err != nil {
		return err
	}
	png, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		return fmt.Errorf("chromium: screenshot: %w", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return fmt.Errorf("chromium: screenshot: %w", err)
	}
	return nil
}

// Close closes the tab.
func (p *Page) Close(ctx context.Context) error {
	p.b.conn.handle(p.session, nil)
	return p.b.conn.call(ctx, "", "Target.closeTarget", map[string]any{"targetId": p.target}, nil)
}

func short(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
