package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// apiError is the body of every error reply.
type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"error":"dashboard: reply not encodable"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}

func writeError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, apiError{Error: fmt.Sprintf(format, args...)})
}

func (d *Dashboard) apiNotFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotFound, "no endpoint %s: the endpoints are GET /api/state, POST /api/freeze, POST /api/night, POST /api/save", r.URL.Path)
}

// allow answers 405 unless r uses method.
func allow(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method || (method == http.MethodGet && r.Method == http.MethodHead) {
		return true
	}
	w.Header().Set("Allow", method)
	writeError(w, http.StatusMethodNotAllowed, "method %s not allowed on %s: use %s", r.Method, r.URL.Path, method)
	return false
}

// maxBody bounds a control request's body.
const maxBody = 4 << 10

// decodeControl checks a control POST and decodes its JSON body into v
// (an empty body leaves v as it is). Only application/json is taken: a
// page of another site can send a form or text/plain to 127.0.0.1
// without asking, but not JSON.
func decodeControl(w http.ResponseWriter, r *http.Request, v any) bool {
	if !allow(w, r, http.MethodPost) {
		return false
	}
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "content type %q on %s: send application/json", ct, r.URL.Path)
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "body of %s: %v", r.URL.Path, err)
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return true
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "body of %s: %s", r.URL.Path, jsonProblem(err))
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "body of %s: more than one JSON value", r.URL.Path)
		return false
	}
	return true
}

// jsonProblem words a decoding error for a person.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q is %s, want %s", te.Field, te.Value, te.Type)
	}
	if s, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return "unknown field " + s
	}
	return err.Error()
}

// State is the reply of GET /api/state.
type State struct {
	Hello Hello `json:"hello"`
	Stats Stats `json:"stats"`
}

func (d *Dashboard) serveState(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	writeJSON(w, http.StatusOK, State{Hello: d.hello(), Stats: d.Stats()})
}

// FreezeRequest is the body of POST /api/freeze.
type FreezeRequest struct {
	// Layer is the layer to freeze or unfreeze; 0 is the global switch
	// (every layer's third factor at once).
	Layer *int `json:"layer"`
	// Frozen freezes learning (true) or lets it go on (false).
	Frozen *bool `json:"frozen"`
}

// FreezeReply answers POST /api/freeze with the state read back from the
// pipeline.
type FreezeReply struct {
	Layer  int  `json:"layer"`
	Frozen bool `json:"frozen"`
	// Confirmed reports that the pipeline reports the requested state; a
	// layer busy with a long night may take longer (202 Accepted).
	Confirmed bool `json:"confirmed"`
	// Paused is the global switch; Layers each layer's own.
	Paused bool          `json:"paused"`
	Layers []LayerFrozen `json:"layers"`
}

// LayerFrozen is one layer's own freeze switch.
type LayerFrozen struct {
	Layer  int  `json:"layer"`
	Frozen bool `json:"frozen"`
}

// freezeConfirm bounds the wait for a layer to take a freeze message.
const freezeConfirm = 2 * time.Second

func (d *Dashboard) serveFreeze(w http.ResponseWriter, r *http.Request) {
	var req FreezeRequest
	if !decodeControl(w, r, &req) {
		return
	}
	switch {
	case req.Layer == nil:
		writeError(w, http.StatusBadRequest, `body of /api/freeze: missing "layer" (0 for every layer, or %d-%d)`, d.first, d.last)
		return
	case req.Frozen == nil:
		writeError(w, http.StatusBadRequest, `body of /api/freeze: missing "frozen" (true or false)`)
		return
	case *req.Layer != 0 && (*req.Layer < d.first || *req.Layer > d.last):
		writeError(w, http.StatusBadRequest, "layer %d is not in this pipeline: want 0 (every layer) or %d-%d", *req.Layer, d.first, d.last)
		return
	}
	n, frozen := *req.Layer, *req.Frozen
	if err := d.cfg.Pipeline.Freeze(n, frozen); err != nil {
		writeError(w, http.StatusBadRequest, "freeze layer %d: %v", n, err)
		return
	}
	d.cfg.Logger.Info("dashboard: freeze", "layer", n, "frozen", frozen, "remote", r.RemoteAddr)
	// A layer takes the switch between two blocks: wait to see it.
	deadline := time.Now().Add(freezeConfirm)
	for {
		rep := d.freezeState(n, frozen)
		if rep.Confirmed || time.Now().After(deadline) || r.Context().Err() != nil {
			status := http.StatusOK
			if !rep.Confirmed {
				status = http.StatusAccepted
			}
			writeJSON(w, status, rep)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (d *Dashboard) freezeState(n int, frozen bool) FreezeReply {
	rep := FreezeReply{Layer: n, Frozen: frozen, Paused: d.cfg.Pipeline.Paused()}
	for _, s := range d.cfg.Pipeline.Stats() {
		rep.Layers = append(rep.Layers, LayerFrozen{Layer: s.Layer, Frozen: s.FrozenNow})
		if s.Layer == n {
			rep.Confirmed = s.FrozenNow == frozen
		}
	}
	if n == 0 {
		rep.Confirmed = rep.Paused == frozen
	}
	return rep
}

// NightReply answers POST /api/night.
type NightReply struct {
	// Requested is true: every layer was told to start a night. Nights is
	// each layer's count of finished nights when it was told; the stats
	// messages show the count going up when the night is over.
	Requested bool          `json:"requested"`
	Nights    []LayerNights `json:"nights"`
}

// LayerNights is a layer's night count.
type LayerNights struct {
	Layer  int   `json:"layer"`
	Nights int64 `json:"nights"`
	Night  bool  `json:"night"`
}

func (d *Dashboard) serveNight(w http.ResponseWriter, r *http.Request) {
	var req struct{}
	if !decodeControl(w, r, &req) {
		return
	}
	rep := NightReply{Requested: true}
	for _, s := range d.cfg.Pipeline.Stats() {
		rep.Nights = append(rep.Nights, LayerNights{Layer: s.Layer, Nights: s.Nights, Night: s.Night})
	}
	d.cfg.Pipeline.Night()
	d.cfg.Logger.Info("dashboard: night", "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, rep)
}

// saveTimeout bounds a save started from the page.
const saveTimeout = 2 * time.Minute

func (d *Dashboard) serveSave(w http.ResponseWriter, r *http.Request) {
	var req struct{}
	if !decodeControl(w, r, &req) {
		return
	}
	if d.cfg.Save == nil {
		writeError(w, http.StatusNotImplemented, "this dashboard saves no checkpoints (no Save function)")
		return
	}
	if !d.saveMu.TryLock() {
		writeError(w, http.StatusConflict, "a save is in progress")
		return
	}
	defer d.saveMu.Unlock()
	d.saveBusy.Store(true)
	defer d.saveBusy.Store(false)
	ctx, cancel := context.WithTimeout(r.Context(), saveTimeout)
	defer cancel()
	start := time.Now()
	path, err := d.cfg.Save(ctx)
	res := &SaveResult{Path: path, Time: time.Now(), Seconds: time.Since(start).Seconds()}
	if err != nil {
		res.Error = err.Error()
		d.lastSave.Store(res)
		d.cfg.Logger.Error("dashboard: save", "err", err)
		writeError(w, http.StatusInternalServerError, "save: %v", err)
		return
	}
	d.lastSave.Store(res)
	d.cfg.Logger.Info("dashboard: saved", "path", path, "seconds", res.Seconds)
	writeJSON(w, http.StatusOK, res)
}
