package dashboard

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"clapp/actors"
	"clapp/stream/frame"
)

// Pipeline is what the dashboard needs of a running pipeline;
// *actors.Pipeline has it.
type Pipeline interface {
	Stats() []actors.LayerStats
	Tap(n int, f actors.Tap) (remove func(), err error)
	Layers() (first, last int)
	Freeze(n int, frozen bool) error
	Paused() bool
	Night()
}

var _ Pipeline = (*actors.Pipeline)(nil)

// Config configures a Dashboard. Zero fields take the defaults in their
// comments.
type Config struct {
	// Pipeline is the pipeline to show and control (required).
	Pipeline Pipeline
	// Save writes a checkpoint and returns its path, for the save button;
	// nil disables the button (the endpoint answers 501).
	Save func(ctx context.Context) (path string, err error)
	// ProbeAccuracy returns the live probe accuracy per layer, when labels
	// flow; nil or an empty map shows none.
	ProbeAccuracy func() map[int]float64
	// Run names the run on the page and in the clapp_run_info metric.
	Run string
	// Logger (slog.Default()).
	Logger *slog.Logger

	// MaxRows bounds the rows of a layer's heatmap (64): wider layers
	// average neighbouring channels.
	MaxRows int
	// ColumnsPerSecond is the heatmap's columns per second of audio (25):
	// each column averages a layer's frames over 1/ColumnsPerSecond s.
	ColumnsPerSecond float64
	// StatsInterval is the period of the stats messages (250ms).
	StatsInterval time.Duration
	// TapQueue bounds the blocks waiting between a layer and its heatmap
	// (64); a full queue drops the block and counts it.
	TapQueue int
	// ClientQueue bounds the messages waiting for one browser (256); a
	// full queue drops the message and counts it.
	ClientQueue int
	// WriteTimeout disconnects a browser that takes longer to accept one
	// message (10s).
	WriteTimeout time.Duration
	// Registry receives the dashboard's metrics (a new private registry;
	// never pass prometheus.DefaultRegisterer's registry).
	Registry *prometheus.Registry
}

func (c *Config) defaults() error {
	if c.Pipeline == nil {
		return errors.New("dashboard: no pipeline")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MaxRows <= 0 {
		c.MaxRows = 64
	}
	if c.MaxRows > 65535 {
		return fmt.Errorf("dashboard: MaxRows %d: at most 65535", c.MaxRows)
	}
	if c.ColumnsPerSecond <= 0 {
		c.ColumnsPerSecond = 25
	}
	if c.StatsInterval <= 0 {
		c.StatsInterval = 250 * time.Millisecond
	}
	if c.TapQueue <= 0 {
		c.TapQueue = 64
	}
	if c.ClientQueue <= 0 {
		c.ClientQueue = 256
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.Registry == nil {
		c.Registry = prometheus.NewRegistry()
	}
	return nil
}

//go:embed web
var webFiles embed.FS

// Dashboard serves the page, its WebSocket, the control endpoints and the
// metrics of one pipeline. It is an http.Handler.
type Dashboard struct {
	cfg    Config
	first  int
	last   int
	layers []*layerView
	mux    *http.ServeMux
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // poolers, the stats loop and the WebSocket handlers

	mu      sync.Mutex
	clients map[*client]struct{}
	closed  bool

	sent    atomic.Int64
	dropped atomic.Int64

	saveMu   sync.Mutex // held while a save runs
	saveBusy atomic.Bool
	lastSave atomic.Pointer[SaveResult]
}

// layerView is one layer's heatmap: the tap's queue and the pooler that
// drains it.
type layerView struct {
	n          int
	ch         chan tapItem
	remove     func()
	tapDropped atomic.Int64
	columns    atomic.Int64

	mu     sync.Mutex // guards geo and stream, written by the pooler
	geo    Geometry
	stream string
}

type tapItem struct {
	b *frame.Block
}

// New makes the dashboard and taps every layer of the pipeline. Close
// removes the taps and disconnects the browsers.
func New(cfg Config) (*Dashboard, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &Dashboard{cfg: cfg, ctx: ctx, cancel: cancel, clients: map[*client]struct{}{}}
	d.first, d.last = cfg.Pipeline.Layers()
	for n := d.first; n <= d.last; n++ {
		lv := &layerView{n: n, ch: make(chan tapItem, cfg.TapQueue)}
		remove, err := cfg.Pipeline.Tap(n, lv.tap)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("dashboard: tap layer %d: %w", n, err)
		}
		lv.remove = remove
		d.layers = append(d.layers, lv)
		d.wg.Add(1)
		go d.pool(lv)
	}
	if err := d.registerMetrics(); err != nil {
		d.Close()
		return nil, err
	}
	d.wg.Add(1)
	go d.statsLoop()

	static, err := fs.Sub(webFiles, "web")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.FileServerFS(static)
	m := http.NewServeMux()
	m.Handle("/", pageHeaders(files))
	m.HandleFunc("/ws", d.serveWS)
	m.HandleFunc("/api/", d.apiNotFound)
	m.HandleFunc("/api/state", d.serveState)
	m.HandleFunc("/api/freeze", d.serveFreeze)
	m.HandleFunc("/api/night", d.serveNight)
	m.HandleFunc("/api/save", d.serveSave)
	m.Handle("/metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn), Registry: cfg.Registry,
	}))
	d.mux = m
	return d, nil
}

// pageHeaders keeps the page from loading anything from elsewhere and
// from being framed, and makes browsers revalidate it.
func pageHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}

// ServeHTTP serves the page (/), the WebSocket (/ws), the control
// endpoints (/api/...) and the metrics (/metrics).
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d.ctx.Err() != nil {
		writeError(w, http.StatusServiceUnavailable, "the dashboard is closed")
		return
	}
	d.mux.ServeHTTP(w, r)
}

// Registry returns the registry of the dashboard's metrics, for the
// command to add its own.
func (d *Dashboard) Registry() *prometheus.Registry { return d.cfg.Registry }

// tap runs on the layer's goroutine: it hands the block over or drops it,
// never waits.
func (lv *layerView) tap(b *frame.Block, _ time.Time) {
	select {
	case lv.ch <- tapItem{b: b}:
	default:
		lv.tapDropped.Add(1)
	}
}

// pool turns a layer's blocks into column messages for the browsers.
func (d *Dashboard) pool(lv *layerView) {
	defer d.wg.Done()
	h := newHeatmap(lv.n, d.cfg.MaxRows, d.cfg.ColumnsPerSecond)
	for {
		select {
		case <-d.ctx.Done():
			return
		case it := <-lv.ch:
			m := h.add(it.b, time.Now())
			lv.mu.Lock()
			lv.geo, lv.stream = h.geo, h.stream
			lv.mu.Unlock()
			if m == nil {
				continue
			}
			lv.columns.Add(int64(m.cols))
			d.broadcast(message{typ: websocket.MessageBinary, data: m.encode()})
		}
	}
}

// Counters are the dashboard's own counts.
type Counters struct {
	// Clients is the number of browsers connected.
	Clients int `json:"clients"`
	// Sent counts messages written to browsers; Dropped messages dropped
	// because a browser's queue was full.
	Sent    int64 `json:"sent"`
	Dropped int64 `json:"dropped"`
	// TapDropped counts blocks dropped between the layers and their
	// heatmaps; Columns the heatmap columns made.
	TapDropped int64 `json:"tap_dropped"`
	Columns    int64 `json:"columns"`
}

// Counters returns the dashboard's counts.
func (d *Dashboard) Counters() Counters {
	d.mu.Lock()
	c := Counters{Clients: len(d.clients)}
	d.mu.Unlock()
	c.Sent, c.Dropped = d.sent.Load(), d.dropped.Load()
	for _, lv := range d.layers {
		c.TapDropped += lv.tapDropped.Load()
		c.Columns += lv.columns.Load()
	}
	return c
}

// View is what the dashboard shows of a layer's stream.
type View struct {
	Geometry Geometry `json:"geometry"`
	// Stream is the stream the heatmap follows.
	Stream     string `json:"stream"`
	Columns    int64  `json:"columns"`
	TapDropped int64  `json:"tap_dropped"`
}

func (lv *layerView) view() View {
	lv.mu.Lock()
	defer lv.mu.Unlock()
	return View{Geometry: lv.geo, Stream: lv.stream, Columns: lv.columns.Load(), TapDropped: lv.tapDropped.Load()}
}

// LayerState is one layer in a stats message: the pipeline's statistics,
// the probe's accuracy when there is one, and the heatmap's view.
type LayerState struct {
	actors.LayerStats
	ProbeAccuracy *float64 `json:"probe_accuracy,omitempty"`
	View          View     `json:"view"`
}

// Stats is the stats message.
type Stats struct {
	Type      string       `json:"type"` // "stats"
	Time      time.Time    `json:"time"`
	Paused    bool         `json:"paused"`
	Layers    []LayerState `json:"layers"`
	Dashboard Counters     `json:"dashboard"`
	Save      *SaveResult  `json:"save,omitempty"`
	SaveBusy  bool         `json:"save_busy"`
}

// SaveResult is the outcome of the last save.
type SaveResult struct {
	Path    string    `json:"path,omitempty"`
	Error   string    `json:"error,omitempty"`
	Time    time.Time `json:"time"`
	Seconds float64   `json:"seconds"`
}

// Stats returns what the stats message carries now.
func (d *Dashboard) Stats() Stats {
	st := d.cfg.Pipeline.Stats()
	var probe map[int]float64
	if d.cfg.ProbeAccuracy != nil {
		probe = d.cfg.ProbeAccuracy()
	}
	s := Stats{Type: "stats", Time: time.Now(), Paused: d.cfg.Pipeline.Paused(), Layers: make([]LayerState, len(st)),
		Dashboard: d.Counters(), Save: d.lastSave.Load(), SaveBusy: d.saveBusy.Load()}
	for i, ls := range st {
		s.Layers[i].LayerStats = ls
		if a, ok := probe[ls.Layer]; ok {
			s.Layers[i].ProbeAccuracy = &a
		}
		if v := d.view(ls.Layer); v != nil {
			s.Layers[i].View = v.view()
		}
	}
	return s
}

func (d *Dashboard) view(n int) *layerView {
	if i := n - d.first; i >= 0 && i < len(d.layers) {
		return d.layers[i]
	}
	return nil
}

// Hello is the first message a browser receives.
type Hello struct {
	Type             string     `json:"type"` // "hello"
	Run              string     `json:"run"`
	First            int        `json:"first"`
	Last             int        `json:"last"`
	ColumnsPerSecond float64    `json:"columns_per_second"`
	MaxRows          int        `json:"max_rows"`
	StatsIntervalMS  int64      `json:"stats_interval_ms"`
	Save             bool       `json:"save"`
	Probe            bool       `json:"probe"`
	Layers           []Geometry `json:"layers"`
}

func (d *Dashboard) hello() Hello {
	h := Hello{Type: "hello", Run: d.cfg.Run, First: d.first, Last: d.last, ColumnsPerSecond: d.cfg.ColumnsPerSecond,
		MaxRows: d.cfg.MaxRows, StatsIntervalMS: d.cfg.StatsInterval.Milliseconds(), Save: d.cfg.Save != nil,
		Probe: d.cfg.ProbeAccuracy != nil}
	for _, lv := range d.layers {
		h.Layers = append(h.Layers, lv.view().Geometry)
	}
	return h
}

// statsLoop sends the stats message to the browsers, while there are any.
func (d *Dashboard) statsLoop() {
	defer d.wg.Done()
	t := time.NewTicker(d.cfg.StatsInterval)
	defer t.Stop()
	for {
		select {
		case <-d.ctx.Done():
			return
		case <-t.C:
		}
		d.mu.Lock()
		n := len(d.clients)
		d.mu.Unlock()
		if n == 0 {
			continue
		}
		data, err := json.Marshal(d.Stats())
		if err != nil {
			d.cfg.Logger.Error("dashboard: stats", "err", err)
			continue
		}
		d.broadcast(message{typ: websocket.MessageText, data: data})
	}
}

// Close removes the taps, disconnects the browsers and waits for the
// dashboard's goroutines. The handler answers 503 afterwards.
func (d *Dashboard) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	d.mu.Unlock()
	for _, lv := range d.layers {
		if lv.remove != nil {
			lv.remove()
		}
	}
	d.cancel()
	d.wg.Wait()
	d.cfg.Registry.Unregister(collector{d})
	return nil
}
