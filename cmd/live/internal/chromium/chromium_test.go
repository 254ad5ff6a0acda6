package chromium

import (
	"context"
	"errors"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const testPage = `<!doctype html>
<html><head><title>cdp test</title>
<style>body{margin:0;background:#fff} #b{position:absolute;left:40px;top:30px;width:120px;height:40px}
#cover{position:absolute;left:300px;top:30px;width:120px;height:40px} #shade{position:absolute;left:290px;top:20px;width:200px;height:80px;background:rgba(0,0,0,.1)}</style>
</head><body>
<button id="b">press</button>
<button id="cover">hidden</button><div id="shade"></div>
<canvas id="c" width="64" height="32"></canvas>
<script>
window.clicks = 0; window.trusted = 0;
document.getElementById("b").addEventListener("click", e => { window.clicks++; if (e.isTrusted) window.trusted++; });
const g = document.getElementById("c").getContext("2d");
g.fillStyle = "rgb(255,0,0)"; g.fillRect(0, 0, 64, 32);
setTimeout(() => { window.later = "ready" }, 300);
console.error("deliberate", 42);
</script></body></html>`

func startBrowser(t *testing.T) *Browser {
	t.Helper()
	if _, err := Path(); err != nil {
		t.Skipf("skipping: no Chromium to drive (apt-get install chromium, or set %s): %v", EnvPath, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := Start(ctx, Options{WindowWidth: 800, WindowHeight: 600})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	return b
}

func TestBrowser(t *testing.T) {
	b := startBrowser(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(testPage))
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	v, err := b.Version(ctx)
	if err != nil || !strings.Contains(strings.ToLower(v), "chrom") {
		t.Fatalf("version %q, %v", v, err)
	}
	if !strings.HasPrefix(b.DevToolsURL(), "ws://127.0.0.1:") {
		t.Errorf("DevTools on %s, want loopback", b.DevToolsURL())
	}
	p, err := b.NewPage(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("eval", func(t *testing.T) {
		tests := []struct {
			expr string
			want string
		}{
			{`document.title`, `"cdp test"`},
			{`1 + 2`, `3`},
			{`({a: [1, "x", null], b: true})`, `{"a":[1,"x",null],"b":true}`},
			{`undefined`, `null`},
			{`Promise.resolve(7)`, `7`},
			{`Array.from(document.getElementById("c").getContext("2d").getImageData(0, 0, 1, 1).data)`, `[255,0,0,255]`},
		}
		for _, tc := range tests {
			got, err := p.EvalJSON(ctx, tc.expr)
			if err != nil {
				t.Errorf("%s: %v", tc.expr, err)
				continue
			}
			if string(got) != tc.want {
				t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
			}
		}
		_, err := p.EvalJSON(ctx, `(() => { throw new Error("boom") })()`)
		if !errors.Is(err, ErrJS) || !strings.Contains(err.Error(), "boom") {
			t.Errorf("throwing expression: %v, want ErrJS naming boom", err)
		}
		if _, err := p.EvalJSON(ctx, `1/0`); err == nil {
			t.Error("Infinity evaluated without error")
		}
	})

	t.Run("waitfor", func(t *testing.T) {
		if err := p.WaitFor(ctx, `window.later === "ready"`, 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		short, c := context.WithTimeout(ctx, 300*time.Millisecond)
		defer c()
		err := p.WaitFor(short, `window.never`, 50*time.Millisecond)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "window.never") {
			t.Errorf("waiting for what never comes: %v", err)
		}
	})

	t.Run("click", func(t *testing.T) {
		if err := p.Click(ctx, "#b"); err != nil {
			t.Fatal(err)
		}
		if err := p.ClickJS(ctx, "#b"); err != nil {
			t.Fatal(err)
		}
		var got struct{ Clicks, Trusted int }
		if err := p.Eval(ctx, `({Clicks: window.clicks, Trusted: window.trusted})`, &got); err != nil {
			t.Fatal(err)
		}
		// The mouse click is trusted (a real input event), the JS one not.
		if got.Clicks != 2 || got.Trusted != 1 {
			t.Errorf("clicks %d (trusted %d), want 2 (1)", got.Clicks, got.Trusted)
		}
		if err := p.Click(ctx, "#cover"); err == nil || !strings.Contains(err.Error(), "covered") {
			t.Errorf("click on a covered button: %v", err)
		}
		if err := p.Click(ctx, "#nothing"); err == nil || !strings.Contains(err.Error(), "no element") {
			t.Errorf("click on no element: %v", err)
		}
	})

	t.Run("console", func(t *testing.T) {
		found := false
		for _, e := range p.Errors() {
			found = found || strings.Contains(e, "deliberate 42")
		}
		if !found {
			t.Errorf("console.error not recorded: %q", p.Errors())
		}
	})

	t.Run("screenshot", func(t *testing.T) {
		if err := p.SetViewport(ctx, 640, 360); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "page.png")
		if err := p.Screenshot(ctx, path, false); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil {
			t.Fatal(err)
		}
		if sz := img.Bounds().Size(); sz.X != 640 || sz.Y != 360 {
			t.Errorf("screenshot %v, want 640x360", sz)
		}
		// The canvas is drawn: find its red pixel somewhere in the picture.
		red := false
		for y := 0; y < 360 && !red; y++ {
			for x := 0; x < 640; x++ {
				r, g, b, _ := img.At(x, y).RGBA()
				if r>>8 > 240 && g>>8 < 20 && b>>8 < 20 {
					red = true
					break
				}
			}
		}
		if !red {
			t.Error("no red canvas pixel in the screenshot")
		}
	})

	t.Run("navigate", func(t *testing.T) {
		if err := p.Navigate(ctx, srv.URL+"/again"); err != nil {
			t.Fatal(err)
		}
		var clicks int
		if err := p.Eval(ctx, `window.clicks`, &clicks); err != nil || clicks != 0 {
			t.Errorf("after navigating, clicks %d, %v: want a fresh page", clicks, err)
		}
		if err := p.Close(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// TestClose checks that Close leaves no process of the browser's group
// behind and removes the profile.
func TestClose(t *testing.T) {
	b := startBrowser(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := b.NewPage(ctx, "about:blank"); err != nil {
		t.Fatal(err)
	}
	pid, dir := b.Pid(), b.dir
	if n := len(pidsNaming(dir)); n < 2 {
		t.Errorf("%d processes name the profile %s: want the browser and its helpers", n, dir)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.Exited():
	default:
		t.Fatal("browser still running after Close")
	}
	// Killed helpers may linger as zombies when PID 1 does not reap
	// orphans (as here): only living ones count.
	if live := liveInGroup(t, pid); len(live) > 0 {
		t.Errorf("process group %d still has living members after Close: %s", pid, strings.Join(live, ", "))
	}
	for _, p := range pidsNaming(dir) {
		if st := procState(p); st != "" && st != "Z" {
			t.Errorf("process %d (state %s) naming the profile %s still runs after Close", p, st, dir)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("profile %s left behind: %v", dir, err)
	}
	if _, err := b.Version(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("call after Close: %v, want ErrClosed", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestPathOverride(t *testing.T) {
	t.Setenv(EnvPath, filepath.Join(t.TempDir(), "no-such-browser"))
	if _, err := Path(); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "no-such-browser") {
		t.Errorf("Path with a missing override: %v", err)
	}
	if _, err := Start(context.Background(), Options{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Start with a missing override: %v", err)
	}
}

func TestStartFailure(t *testing.T) {
	// A "browser" that exits at once: Start must say so, with its output.
	script := filepath.Join(t.TempDir(), "fake-chromium")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho 'cannot open display' >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := Start(ctx, Options{Path: script})
	if err == nil || !strings.Contains(err.Error(), "exited before listening") || !strings.Contains(err.Error(), "cannot open display") {
		t.Errorf("Start of a failing browser: %v", err)
	}
}

// liveInGroup lists the processes of group pgid that are not zombies.
func liveInGroup(t *testing.T, pgid int) []string {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil || len(stats) == 0 {
		t.Skipf("no /proc to look at: %v", err)
	}
	var live []string
	for _, f := range stats {
		data, err := os.ReadFile(f)
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces.
		s := string(data)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(s[i+1:])
		if len(fields) < 3 || fields[2] != strconv.Itoa(pgid) || fields[0] == "Z" {
			continue
		}
		live = append(live, s[:i+1]+" "+fields[0])
	}
	return live
}

// procState returns a process's state letter, or "" when it is gone.
func procState(pid int) string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if f := strings.Fields(s[i+1:]); i >= 0 && len(f) > 0 {
		return f[0]
	}
	return ""
}
