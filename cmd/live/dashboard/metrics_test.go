package dashboard

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	pmodel "github.com/prometheus/common/model"

	"clapp/actors"
	"clapp/stream"
)

// scrape reads /metrics as Prometheus does, through the text format.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	r, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	if r.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, r.Status)
	}
	p := expfmt.NewTextParser(pmodel.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r.Body)
	if err != nil {
		t.Fatalf("parsing %s: %v", url, err)
	}
	return fams
}

// value returns the value of the family's metric whose labels are lv
// (name, value pairs).
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, lv ...string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no metric %s", name)
	}
next:
	for _, m := range f.Metric {
		for i := 0; i < len(lv); i += 2 {
			found := false
			for _, l := range m.Label {
				found = found || (l.GetName() == lv[i] && l.GetValue() == lv[i+1])
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Untyped != nil:
			return m.Untyped.GetValue()
		}
	}
	t.Fatalf("no metric %s%v", name, lv)
	return 0
}

// TestMetrics scrapes /metrics of a dashboard on a real pipeline and
// checks the per-layer metrics against the pipeline's own statistics.
func TestMetrics(t *testing.T) {
	p := testPipeline(t, actors.NightPolicy{Kind: actors.NightControl})
	reg := prometheus.NewRegistry()
	d, s := startDashboard(t, Config{Pipeline: p, Run: "metrics-test", Registry: reg,
		ProbeAccuracy: func() map[int]float64 { return map[int]float64{5: 0.25} }})
	feed(t, p, "synthetic", stream.Options{Realtime: true, Loop: true, Streams: 1})
	eventually(t, 30*time.Second, "layer 6 learned", func() bool { return layerStats(p, 6).Learned > 3 })
	p.Night()
	eventually(t, 30*time.Second, "a night in every layer", func() bool {
		for _, s := range p.Stats() {
			if s.Nights == 0 {
				return false
			}
		}
		return true
	})
	if err := p.Freeze(0, true); err != nil {
		t.Fatal(err)
	}
	url := "http://" + s.Addr().String() + "/metrics"

	before := p.Stats()
	fams := scrape(t, url)
	after := p.Stats()

	counters := []struct {
		name string
		get  func(actors.LayerStats) int64
	}{
		{"clapp_layer_frames_total", func(s actors.LayerStats) int64 { return s.Frames }},
		{"clapp_layer_blocks_total", func(s actors.LayerStats) int64 { return s.Blocks }},
		{"clapp_layer_learned_blocks_total", func(s actors.LayerStats) int64 { return s.Learned }},
		{"clapp_layer_nights_total", func(s actors.LayerStats) int64 { return s.Nights }},
		{"clapp_layer_skipped_blocks_total", func(s actors.LayerStats) int64 { return s.Skipped }},
		{"clapp_layer_bad_input_blocks_total", func(s actors.LayerStats) int64 { return s.BadInput }},
		{"clapp_layer_refused_updates_total", func(s actors.LayerStats) int64 { return s.Refused }},
		{"clapp_layer_restarts_total", func(s actors.LayerStats) int64 { return s.Restarts }},
		{"clapp_layer_memory_dropped_records_total", func(s actors.LayerStats) int64 { return s.MemoryDropped }},
	}
	for i := range before {
		l := strconv.Itoa(before[i].Layer)
		for _, c := range counters {
			if fams[c.name].GetType() != dto.MetricType_COUNTER {
				t.Errorf("%s is a %v", c.name, fams[c.name].GetType())
			}
			// The stream runs on: the scrape lies between the two reads.
			v := value(t, fams, c.name, "layer", l)
			if lo, hi := float64(c.get(before[i])), float64(c.get(after[i])); v < lo || v > hi {
				t.Errorf("%s{layer=%s} = %g, want within [%g, %g]", c.name, l, v, lo, hi)
			}
		}
		if v := value(t, fams, "clapp_layer_frames_total", "layer", l); v == 0 {
			t.Errorf("layer %s: no frames", l)
		}
		if v := value(t, fams, "clapp_layer_nights_total", "layer", l); v < 1 {
			t.Errorf("layer %s: %g nights, want >= 1", l, v)
		}
		for _, term := range []string{"pos", "neg"} {
			loss := value(t, fams, "clapp_layer_loss", "layer", l, "term", term)
			act := value(t, fams, "clapp_layer_active_hinge_ratio", "layer", l, "term", term)
			if loss < 0 || act < 0 || act > 1 {
				t.Errorf("layer %s %s: loss %g, active %g", l, term, loss, act)
			}
		}
		if v := value(t, fams, "clapp_layer_frozen", "layer", l); v != 1 {
			t.Errorf("layer %s frozen = %g with learning paused", l, v)
		}
		if v := value(t, fams, "clapp_layer_memory_capacity_bytes", "layer", l); v != 8<<20 {
			t.Errorf("layer %s memory capacity %g", l, v)
		}
		for _, g := range []string{"clapp_layer_lag_seconds", "clapp_layer_backlog_blocks", "clapp_layer_memory_fill_ratio",
			"clapp_layer_memory_bytes", "clapp_layer_frames_per_second", "clapp_dashboard_tap_dropped_blocks_total", "clapp_dashboard_columns_total"} {
			if v := value(t, fams, g, "layer", l); v < 0 {
				t.Errorf("%s{layer=%s} = %g", g, l, v)
			}
		}
	}
	if v := value(t, fams, "clapp_layer_probe_accuracy_ratio", "layer", "5"); v != 0.25 {
		t.Errorf("probe accuracy %g, want 0.25", v)
	}
	if len(fams["clapp_layer_probe_accuracy_ratio"].Metric) != 1 {
		t.Errorf("probe accuracy for layers without a probe: %v", fams["clapp_layer_probe_accuracy_ratio"])
	}
	if v := value(t, fams, "clapp_learning_paused"); v != 1 {
		t.Errorf("clapp_learning_paused = %g", v)
	}
	// The last layer's latency quantiles, as LayerStats has them (the
	// layers do not measure them yet: both are 0 until they do).
	p50 := value(t, fams, "clapp_pipeline_latency_p50_seconds")
	p99 := value(t, fams, "clapp_pipeline_latency_p99_seconds")
	if p50 < 0 || p99 < p50 {
		t.Errorf("latency p50 %g p99 %g", p50, p99)
	}
	if last := after[len(after)-1]; last.LatencyP50 == 0 && p50 != 0 {
		t.Errorf("latency p50 %g where the pipeline reports none", p50)
	}
	if v := value(t, fams, "clapp_run_info", "run", "metrics-test"); v != 1 {
		t.Errorf("run info %g", v)
	}
	for _, n := range []string{"clapp_dashboard_dropped_messages_total", "clapp_dashboard_sent_messages_total", "clapp_dashboard_clients",
		"go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := fams[n]; !ok {
			t.Errorf("no %s", n)
		}
	}
	// Unpausing shows at the next scrape.
	if err := p.Freeze(0, false); err != nil {
		t.Fatal(err)
	}
	if v := value(t, scrape(t, url), "clapp_learning_paused"); v != 0 {
		t.Errorf("clapp_learning_paused = %g after resuming", v)
	}

	// The metrics follow Prometheus's naming rules.
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range problems {
		t.Errorf("lint: %s: %s", pr.Metric, pr.Text)
	}
	// The registry is private: nothing went to the default one.
	def, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range def {
		if len(f.GetName()) > 6 && f.GetName()[:6] == "clapp_" {
			t.Errorf("%s on the default registry", f.GetName())
		}
	}
	if d.Registry() != reg {
		t.Error("Registry() is not the configured registry")
	}
}
