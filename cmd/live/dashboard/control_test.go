package dashboard

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"clapp/actors"
	"clapp/model"
	"clapp/stream"
)

// TestControlErrors: bad requests get a JSON error that names the bad
// input, and change nothing.
func TestControlErrors(t *testing.T) {
	p := testPipeline(t, actors.NightPolicy{Kind: actors.NightControl})
	_, s := startDashboard(t, Config{Pipeline: p})
	base := "http://" + s.Addr().String()
	tests := []struct {
		name, method, path, ctype, body string
		status                          int
		want                            []string // in the error message
	}{
		{"unknown layer", "POST", "/api/freeze", "application/json", `{"layer": 9, "frozen": true}`, 400, []string{"layer 9", "1-6"}},
		{"negative layer", "POST", "/api/freeze", "application/json", `{"layer": -1, "frozen": true}`, 400, []string{"layer -1"}},
		{"missing layer", "POST", "/api/freeze", "application/json", `{"frozen": true}`, 400, []string{`missing "layer"`}},
		{"missing frozen", "POST", "/api/freeze", "application/json", `{"layer": 2}`, 400, []string{`missing "frozen"`}},
		{"empty freeze", "POST", "/api/freeze", "application/json", ``, 400, []string{`missing "layer"`}},
		{"wrong type", "POST", "/api/freeze", "application/json", `{"layer": "two", "frozen": true}`, 400, []string{`"layer"`, "string"}},
		{"unknown field", "POST", "/api/freeze", "application/json", `{"layer": 1, "frozen": true, "colour": "red"}`, 400, []string{`unknown field "colour"`}},
		{"not JSON", "POST", "/api/freeze", "application/json", `layer=1`, 400, []string{"/api/freeze"}},
		{"two values", "POST", "/api/freeze", "application/json", `{"layer": 1, "frozen": true} {}`, 400, []string{"more than one"}},
		{"form post", "POST", "/api/freeze", "application/x-www-form-urlencoded", `layer=1&frozen=true`, 415, []string{"application/x-www-form-urlencoded", "application/json"}},
		{"text post", "POST", "/api/night", "text/plain", `{}`, 415, []string{"text/plain"}},
		{"GET freeze", "GET", "/api/freeze", "", ``, 405, []string{"GET", "/api/freeze", "POST"}},
		{"PUT night", "PUT", "/api/night", "application/json", `{}`, 405, []string{"PUT", "POST"}},
		{"POST state", "POST", "/api/state", "application/json", `{}`, 405, []string{"POST", "GET"}},
		{"night with a body", "POST", "/api/night", "application/json", `{"layer": 3}`, 400, []string{`unknown field "layer"`}},
		{"save without Save", "POST", "/api/save", "application/json", `{}`, 501, []string{"no Save"}},
		{"huge body", "POST", "/api/freeze", "application/json", `{"layer": 1, "frozen": true, "x": "` + strings.Repeat("a", 8000) + `"}`, 413, []string{"too large"}},
		{"unknown endpoint", "POST", "/api/reboot", "application/json", `{}`, 404, []string{"/api/reboot", "/api/freeze"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			r, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Body.Close()
			var e apiError
			if err := decodeJSON(r, &e); err != nil {
				t.Fatalf("%d reply is not a JSON error: %v", r.StatusCode, err)
			}
			if r.StatusCode != tc.status {
				t.Errorf("status %d (%s), want %d", r.StatusCode, e.Error, tc.status)
			}
			for _, w := range tc.want {
				if !strings.Contains(e.Error, w) {
					t.Errorf("error %q does not name %q", e.Error, w)
				}
			}
			if tc.status == 405 && r.Header.Get("Allow") == "" {
				t.Error("405 without an Allow header")
			}
		})
	}
	if p.Paused() {
		t.Error("bad requests paused the pipeline")
	}
	for _, st := range p.Stats() {
		if st.FrozenNow || st.Nights != 0 {
			t.Errorf("bad requests changed layer %d: frozen %v nights %d", st.Layer, st.FrozenNow, st.Nights)
		}
	}
}

// TestControls: freezing, nights and saves act on the real pipeline and
// report the state read back from it.
func TestControls(t *testing.T) {
	p := testPipeline(t, actors.NightPolicy{Kind: actors.NightControl})
	dir := t.TempDir()
	_, s := startDashboard(t, Config{Pipeline: p, Save: saver(p, dir)})
	feed(t, p, "synthetic", stream.Options{Realtime: true, Loop: true, Streams: 1})
	base := "http://" + s.Addr().String()
	eventually(t, 30*time.Second, "layer 6 learned", func() bool { return layerStats(p, 6).Learned > 2 })

	t.Run("freeze layer", func(t *testing.T) {
		var rep FreezeReply
		r, body := postJSON(t, base+"/api/freeze", "application/json", `{"layer": 3, "frozen": true}`, &rep)
		if r.StatusCode != 200 || !rep.Confirmed || rep.Layer != 3 || !rep.Frozen || rep.Paused || len(rep.Layers) != 6 {
			t.Fatalf("%d %s", r.StatusCode, body)
		}
		for _, l := range rep.Layers {
			if l.Frozen != (l.Layer == 3) {
				t.Errorf("reply says layer %d frozen=%v", l.Layer, l.Frozen)
			}
		}
		if !layerStats(p, 3).FrozenNow || layerStats(p, 2).FrozenNow {
			t.Error("the pipeline does not report layer 3 alone frozen")
		}
		// Frozen, layer 3 stops learning while the others go on.
		l3, l2 := layerStats(p, 3), layerStats(p, 2)
		eventually(t, 30*time.Second, "layer 2 learning on", func() bool { return layerStats(p, 2).Learned > l2.Learned+2 })
		if got := layerStats(p, 3); got.Learned != l3.Learned || got.Frozen <= l3.Frozen {
			t.Errorf("layer 3 frozen: learned %d -> %d, frozen blocks %d -> %d", l3.Learned, got.Learned, l3.Frozen, got.Frozen)
		}
		r, body = postJSON(t, base+"/api/freeze", "application/json", `{"layer": 3, "frozen": false}`, &rep)
		if r.StatusCode != 200 || !rep.Confirmed || rep.Frozen || layerStats(p, 3).FrozenNow {
			t.Fatalf("unfreeze: %d %s", r.StatusCode, body)
		}
	})

	t.Run("freeze all", func(t *testing.T) {
		var rep FreezeReply
		r, body := postJSON(t, base+"/api/freeze", "application/json; charset=utf-8", `{"layer": 0, "frozen": true}`, &rep)
		if r.StatusCode != 200 || !rep.Confirmed || !rep.Paused || !p.Paused() {
			t.Fatalf("%d %s; pipeline paused %v", r.StatusCode, body, p.Paused())
		}
		var state State
		if r, body := getJSON(t, base+"/api/state", &state); r.StatusCode != 200 || !state.Stats.Paused {
			t.Errorf("state after freezing: %d %s", r.StatusCode, body)
		}
		r, body = postJSON(t, base+"/api/freeze", "application/json", `{"layer": 0, "frozen": false}`, &rep)
		if r.StatusCode != 200 || rep.Paused || p.Paused() {
			t.Fatalf("resume: %d %s", r.StatusCode, body)
		}
	})

	t.Run("night", func(t *testing.T) {
		before := totalNights(p)
		var rep NightReply
		r, body := postJSON(t, base+"/api/night", "application/json", ``, &rep)
		if r.StatusCode != 200 || !rep.Requested || len(rep.Nights) != 6 {
			t.Fatalf("%d %s", r.StatusCode, body)
		}
		eventually(t, 30*time.Second, "a night in every layer", func() bool {
			for _, s := range p.Stats() {
				if s.Nights < 1 {
					return false
				}
			}
			return true
		})
		if totalNights(p) < before+6 {
			t.Errorf("nights %d -> %d", before, totalNights(p))
		}
	})

	t.Run("save", func(t *testing.T) {
		var rep SaveResult
		r, body := postJSON(t, base+"/api/save", "application/json", `{}`, &rep)
		if r.StatusCode != 200 || rep.Path == "" || rep.Error != "" {
			t.Fatalf("%d %s", r.StatusCode, body)
		}
		if !strings.HasPrefix(rep.Path, dir) {
			t.Errorf("saved to %s, outside %s", rep.Path, dir)
		}
		ck, err := model.LoadCheckpoint(rep.Path)
		if err != nil {
			t.Fatalf("the saved checkpoint does not load: %v", err)
		}
		if ck.Encoder.Layers() != 6 {
			t.Errorf("checkpoint of %d layers", ck.Encoder.Layers())
		}
		var state State
		getJSON(t, base+"/api/state", &state)
		if state.Stats.Save == nil || state.Stats.Save.Path != rep.Path {
			t.Errorf("state does not report the save: %+v", state.Stats.Save)
		}
	})
}

// TestSaveInProgress: a second save while one runs is refused, not queued.
func TestSaveInProgress(t *testing.T) {
	p := testPipeline(t, actors.NightPolicy{Kind: actors.NightControl})
	dir := t.TempDir()
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	save := saver(p, dir)
	_, s := startDashboard(t, Config{Pipeline: p, Save: func(ctx context.Context) (string, error) {
		started <- struct{}{}
		<-release // hold the save open while the second request comes
		return save(ctx)
	}})
	feed(t, p, "synthetic", stream.Options{Realtime: true, Loop: true, Streams: 1})
	base := "http://" + s.Addr().String()
	first := make(chan int, 1)
	go func() {
		r, err := http.Post(base+"/api/save", "application/json", strings.NewReader(`{}`))
		if err != nil {
			first <- 0
			return
		}
		r.Body.Close()
		first <- r.StatusCode
	}()
	<-started
	r, body := postJSON(t, base+"/api/save", "application/json", `{}`, nil)
	if r.StatusCode != http.StatusConflict || !strings.Contains(body, "in progress") {
		t.Errorf("second save: %d %s, want 409 in progress", r.StatusCode, body)
	}
	var state State
	if getJSON(t, base+"/api/state", &state); !state.Stats.SaveBusy {
		t.Error("state does not report the save in progress")
	}
	close(release)
	if code := <-first; code != 200 {
		t.Errorf("first save: %d", code)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d files saved, want 1", len(entries))
	}
}

// TestSaveFails: a failed save is a 500 naming the cause, and the page's
// state shows it.
func TestSaveFails(t *testing.T) {
	p := testPipeline(t, actors.NightPolicy{Kind: actors.NightControl})
	missing := filepath.Join(t.TempDir(), "no-such-dir")
	_, s := startDashboard(t, Config{Pipeline: p, Save: saver(p, missing)})
	feed(t, p, "synthetic", stream.Options{Realtime: true, Loop: true, Streams: 1})
	base := "http://" + s.Addr().String()
	r, body := postJSON(t, base+"/api/save", "application/json", `{}`, nil)
	if r.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "no-such-dir") {
		t.Errorf("save into a missing directory: %d %s", r.StatusCode, body)
	}
	var state State
	getJSON(t, base+"/api/state", &state)
	if state.Stats.Save == nil || !strings.Contains(state.Stats.Save.Error, "no-such-dir") || state.Stats.SaveBusy {
		t.Errorf("state after a failed save: %+v", state.Stats.Save)
	}
}
