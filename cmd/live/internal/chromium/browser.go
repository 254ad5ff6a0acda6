package chromium

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"time"
)

// ErrNotFound reports that no Chromium could be found to start.
var ErrNotFound = errors.New("chromium: browser not found")

// ErrClosed is returned by calls on a browser or page after Close.
var ErrClosed = errors.New("chromium: closed")

// EnvPath names the environment variable that overrides the browser path.
const EnvPath = "CLAPP_CHROMIUM"

// DefaultPath is where Debian's chromium package puts the browser.
const DefaultPath = "/usr/bin/chromium"

// Path returns the browser to start: $CLAPP_CHROMIUM if set, else
// /usr/bin/chromium, else chromium or chromium-browser on the PATH.
func Path() (string, error) {
	if p := os.Getenv(EnvPath); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			return "", fmt.Errorf("%w: %s=%q: %w", ErrNotFound, EnvPath, p, err)
		}
		return p, nil
	}
	if _, err := exec.LookPath(DefaultPath); err == nil {
		return DefaultPath, nil
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: no %s, no chromium on PATH, %s not set", ErrNotFound, DefaultPath, EnvPath)
}

// Flags are the flags every browser is started with (besides
// --user-data-dir and --remote-debugging-port). The network flags matter
// on a closed network: without them Chromium keeps trying to reach
// Google's hosts.
var Flags = []string{
	"--headless",
	"--no-sandbox",
	"--disable-gpu",
	"--disable-quic",
	"--no-first-run",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
}

// Options configure Start. Zero fields take the defaults in their comments.
type Options struct {
	// Path is the browser (Path()).
	Path string
	// Args are extra flags, after Flags.
	Args []string
	// WindowWidth and WindowHeight size the window and so every page's
	// viewport (1280 x 900).
	WindowWidth, WindowHeight int
	// StartTimeout bounds the wait for the DevTools address (30s).
	StartTimeout time.Duration
	// Stderr receives the browser's stderr (discarded when nil).
	Stderr io.Writer
}

// Browser is a running Chromium and a DevTools connection to it.
type Browser struct {
	cmd     *exec.Cmd
	dir     string
	wsURL   string
	conn    *conn
	stderrR *os.File
	drained chan struct{} // stderr read to its end
	waited  chan struct{}
	waitErr error

	closeOnce sync.Once
	closeErr  error
}

var devtoolsLine = regexp.MustCompile(`DevTools listening on (ws://\S+)`)

// Start starts a headless browser with a fresh profile in a temporary
// directory and connects to it. ctx bounds the start only; call Close to
// end the browser.
func Start(ctx context.Context, o Options) (*Browser, error) {
	if o.Path == "" {
		p, err := Path()
		if err != nil {
			return nil, err
		}
		o.Path = p
	}
	if o.WindowWidth <= 0 || o.WindowHeight <= 0 {
		o.WindowWidth, o.WindowHeight = 1280, 900
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 30 * time.Second
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	dir, err := os.MkdirTemp("", "clapp-chromium-")
	if err != nil {
		return nil, fmt.Errorf("chromium: profile directory: %w", err)
	}
	args := append(append([]string(nil), Flags...),
		"--user-data-dir="+dir,
		"--remote-debugging-port=0",
		fmt.Sprintf("--window-size=%d,%d", o.WindowWidth, o.WindowHeight),
	)
	args = append(args, o.Args...)
	args = append(args, "about:blank")
	// Not exec.CommandContext: ctx bounds the start, not the browser's life.
	cmd := exec.Command(o.Path, args...)
	cmd.SysProcAttr = sysProcAttr()
	// HOME in the profile: nothing is written to the user's ~/.config, and
	// the crash handlers Chromium daemonises (out of its process group)
	// name the directory on their command line, so Close can find them.
	cmd.Env = append(os.Environ(), "HOME="+dir)
	// A pipe of our own rather than StderrPipe: Wait must not wait for
	// the helpers that inherit stderr, only for the browser.
	pr, pw, err := os.Pipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("chromium: %w", err)
	}
	cmd.Stderr = pw
	err = cmd.Start()
	pw.Close()
	if err != nil {
		pr.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("chromium: start %s: %w", o.Path, err)
	}
	b := &Browser{cmd: cmd, dir: dir, stderrR: pr, waited: make(chan struct{}), drained: make(chan struct{})}
	found := make(chan string, 1)
	var tail tailBuffer // the last lines, for an error that says why
	go func() {
		defer close(b.drained)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(o.Stderr, line)
			if !sent {
				tail.add(line)
				if m := devtoolsLine.FindStringSubmatch(line); m != nil {
					found <- m[1]
					sent = true
				}
			}
		}
		// Keep draining so the browser never blocks on a full pipe.
		_, _ = io.Copy(o.Stderr, pr)
	}()
	go func() {
		b.waitErr = cmd.Wait()
		close(b.waited)
	}()

	ctx, cancel := context.WithTimeout(ctx, o.StartTimeout)
	defer cancel()
	select {
	case b.wsURL = <-found:
	case <-b.waited:
		b.Close()
		<-b.drained
		return nil, fmt.Errorf("chromium: %s exited before listening (%v): %s", o.Path, b.waitErr, tail.String())
	case <-ctx.Done():
		b.Close()
		return nil, fmt.Errorf("chromium: no DevTools address from %s: %w: %s", o.Path, ctx.Err(), tail.String())
	}
	c, err := dial(ctx, b.wsURL)
	if err != nil {
		b.Close()
		return nil, err
	}
	b.conn = c
	return b, nil
}

// DevToolsURL returns the browser's DevTools WebSocket address.
func (b *Browser) DevToolsURL() string { return b.wsURL }

// Pid returns the browser's process id.
func (b *Browser) Pid() int { return b.cmd.Process.Pid }

// Version returns the browser's product name and version.
func (b *Browser) Version(ctx context.Context) (string, error) {
	var v struct {
		Product string `json:"product"`
	}
	if err := b.conn.call(ctx, "", "Browser.getVersion", nil, &v); err != nil {
		return "", err
	}
	return v.Product, nil
}

// Close ends the browser: it asks it to close, then kills its process
// group, waits for it and removes its profile directory. It is safe to
// call more than once.
func (b *Browser) Close() error {
	b.closeOnce.Do(func() {
		if b.conn != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = b.conn.call(ctx, "", "Browser.close", nil, nil)
			cancel()
			b.conn.close()
		}
		select {
		case <-b.waited:
		case <-time.After(3 * time.Second):
		}
		// Whatever is left of the group (renderers, zygotes) goes too,
		// and the daemonised crash handlers.
		killGroup(b.cmd)
		killNamed(b.dir)
		select {
		case <-b.waited:
		case <-time.After(10 * time.Second):
			b.closeErr = fmt.Errorf("chromium: process %d did not exit after SIGKILL", b.cmd.Process.Pid)
		}
		// Every writer is gone, so the reader ends; if one survived, do
		// not wait for it.
		select {
		case <-b.drained:
		case <-time.After(2 * time.Second):
		}
		b.stderrR.Close()
		if err := os.RemoveAll(b.dir); err != nil && b.closeErr == nil {
			b.closeErr = fmt.Errorf("chromium: remove profile: %w", err)
		}
	})
	return b.closeErr
}

// Exited is closed when the browser's process has exited.
func (b *Browser) Exited() <-chan struct{} { return b.waited }

// tailBuffer keeps the last few lines of the browser's output.
type tailBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (t *tailBuffer) add(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, s)
	if len(t.lines) > 20 {
		t.lines = t.lines[len(t.lines)-20:]
	}
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == 0 {
		return "(no output)"
	}
	return strings.Join(t.lines, " | ")
}
