// Package chromium drives a headless Chromium through the Chrome DevTools
// Protocol (CDP), for the dashboard's end-to-end tests: start the browser,
// open a page, evaluate JavaScript, click, take a screenshot, and kill the
// browser with all its children.
//
// It is deliberately small: the standard library and
// github.com/coder/websocket, one WebSocket to the browser, and CDP's flat
// sessions (Target.attachToTarget with flatten) to talk to each page over
// that same connection.
//
// The browser is Debian's /usr/bin/chromium, or the program named by the
// CLAPP_CHROMIUM environment variable. It is started as
//
//	chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run
//	  --disable-background-networking --disable-component-update --disable-sync
//	  --user-data-dir=<temporary directory> --remote-debugging-port=0 about:blank
//
// and the DevTools address is read from the "DevTools listening on ws://..."
// line it prints on stderr. HOME is set to the temporary directory too, so
// nothing is written to the user's profile. The browser runs in its own
// process group (and, on Linux, dies with the process that started it),
// so Close can kill it and every helper process it forked; the crash
// handlers it daemonises out of the group are found by the temporary
// directory on their command line and killed by process id.
//
// Tests that need a browser call Path first and skip when it returns
// ErrNotFound:
//
//	if _, err := chromium.Path(); err != nil {
//		t.Skipf("no Chromium (apt-get install chromium, or set CLAPP_CHROMIUM): %v", err)
//	}
//	b, err := chromium.Start(ctx, chromium.Options{})
//	...
//	defer b.Close()
//	p, err := b.NewPage(ctx, url)
//	var n int
//	err = p.Eval(ctx, `window.clapp.frames`, &n)
//	err = p.Click(ctx, "#freeze-all")
//	err = p.Screenshot(ctx, filepath.Join(t.TempDir(), "page.png"))
package chromium
