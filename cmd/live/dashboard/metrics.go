package dashboard

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// collector reads the pipeline's statistics when Prometheus scrapes:
// LayerStats are snapshots kept by the layers, so the metrics are exactly
// what the page shows, with nothing updated on the layers' goroutines.
type collector struct {
	d *Dashboard
}

type layerMetric struct {
	desc  *prometheus.Desc
	typ   prometheus.ValueType
	value func(s LayerState, paused bool) float64
}

var (
	layerLabel = []string{"layer"}
	termLabels = []string{"layer", "term"}

	descLoss = prometheus.NewDesc("clapp_layer_loss",
		"Recent mean CLAPP hinge loss per scored pair, by term (pos: positive pairs, neg: negative pairs).", termLabels, nil)
	descActive = prometheus.NewDesc("clapp_layer_active_hinge_ratio",
		"Recent fraction of scored pairs whose hinge was active (the learning gate open), by term.", termLabels, nil)
	descProbe = prometheus.NewDesc("clapp_layer_probe_accuracy_ratio",
		"Live accuracy of the linear probe reading the layer, when labels flow.", layerLabel, nil)
	descPaused = prometheus.NewDesc("clapp_learning_paused",
		"1 when learning is frozen globally (the third factor is off), else 0.", nil, nil)
	// Two gauges, not a summary: the layers keep quantiles of their last
	// blocks, not the count and sum a summary must carry.
	descLatencyP50 = prometheus.NewDesc("clapp_pipeline_latency_p50_seconds",
		"Median delay from audio entering the pipeline to its frames leaving the last layer, over its last 4096 blocks.", nil, nil)
	descLatencyP99 = prometheus.NewDesc("clapp_pipeline_latency_p99_seconds",
		"99th percentile of the delay from audio entering the pipeline to its frames leaving the last layer, over its last 4096 blocks.", nil, nil)
	descRun = prometheus.NewDesc("clapp_run_info",
		"The run the process serves (always 1).", []string{"run"}, nil)
	descClients = prometheus.NewDesc("clapp_dashboard_clients",
		"Browsers connected to the dashboard's WebSocket.", nil, nil)
	descSent = prometheus.NewDesc("clapp_dashboard_sent_messages_total",
		"WebSocket messages written to browsers.", nil, nil)
	descDropped = prometheus.NewDesc("clapp_dashboard_dropped_messages_total",
		"WebSocket messages dropped because a browser's queue was full (the browser was slow).", nil, nil)
	descTapDropped = prometheus.NewDesc("clapp_dashboard_tap_dropped_blocks_total",
		"Blocks of the layer dropped before the heatmap because its queue was full.", layerLabel, nil)
	descColumns = prometheus.NewDesc("clapp_dashboard_columns_total",
		"Heatmap columns made from the layer's frames.", layerLabel, nil)
)

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func layerDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc("clapp_layer_"+name, help, layerLabel, nil)
}

// layerMetrics are the per-layer metrics with one value each.
var layerMetrics = []layerMetric{
	{layerDesc("blocks_total", "Blocks the layer produced."), prometheus.CounterValue,
		func(s LayerState, _ bool) float64 { return float64(s.Blocks) }},
	{layerDesc("frames_total", "Frames (timesteps) the layer produced."), prometheus.CounterValue,
		func(s LayerState, _ bool) float64 { return float64(s.Frames) }},
	{layerDesc("frames_per_second", "Recent rate of frames produced."), prometheus.GaugeValue,
		func(s LayerState, _ bool) float64 { return s.FramesPerSec }},
	{layerDesc("lag_seconds", "How long ago the audio of the layer's last block entered the pipeline."), prometheus.GaugeValue,
		func(s LayerState, _ bool) float64 { return s.Lag.Seconds() }},
	{layerDesc("backlog_blocks", "Blocks waiting in front of the layer."), prometheus.GaugeValue,
		func(s LayerState, _ bool) float64 { return float64(s.Backlog) }},
	{layerDesc("learned_blocks_total", "Blocks the layer learned from."), prometheus.CounterValue,
		func(s LayerState, _ bool) float64 { return float64(s.Learned) }},
	{layerDesc("skipped_blocks_total", "Blocks forwarded without learning because the layer was behind."), prometheus.CounterValue,
		func(s LayerState, _ bool) float64 { return float64(s.Skipped) }},
	{layerDesc("frozen_blocks_total", "Blocks not learned from because learning was frozen."), prometheus.CounterValue,
		func(s LayerState, _ bool) float64 { return float64(s.Frozen) }},
	{layerDesc("frozen", "1 when the layer does not learn because it or the whole pipeline is frozen, else 0."), prometheus.GaugeValue,
		func(s LayerState, paused bool) float64 { return b2f(s.FrozenNow || paused) }},
	{layerDesc("night", "1 while the layer replays its negatives (night), else 0."), prometheus.GaugeValue,
		func(s LayerState, _ bool) float64 { return b2f(s.Night) }},
	{layerDesc("nights_total", "Nights the layer finished."), prometheus.CounterValue,
		func(s LayerState, _ bool) float64 { return float64(s.Nights) }},
	{layerDesc("cycles_total", "Optimiser cycles the layer finished."), prometheus.CounterValue,
		func(s LayerState, _ bool) float64 { return float64(s.Cycles) }},
	{layerDesc("replayed_records_total", "Stored negatives replayed by nights."), prometheus.CounterValue,
		func(s LayerState, _ bool) float64 { return float64(s.Replayed) }},
	{layerDesc("memory_bytes", "Bytes held by the layer's store of negatives."), prometheus.GaugeValue,
		func(s LayerState, _ bool) float64 { return float64(s.MemoryBytes) }},
	{layerDesc("memory_capacity_bytes", "Capacity of the layer's store of negatives."), prometheus.GaugeValue,
		func(s LayerState, _ bool) float64 { return float64(s.MemoryCapacity) }},
	{layerDesc("memory_fill_ratio", "Fraction of the store of negatives in use."), prometheus.GaugeValue,
		func(s LayerState, _ bool) float64 {
			if s.MemoryCapacity <= 0 {
				return 0
			}
			return float64(s.MemoryBytes) / float64(s.MemoryCapacity)
		}},
	{layerDesc("memory_records", "Records held by the layer's store of negatives."), prometheus.GaugeValue,
		func(s LayerState, _ bool) float64 { return float64(s.MemoryRecords) }},
	{layerDesc("memory_dropped_records_total", "Records dropped because the store of negatives was full."), prometheus.CounterValue,
		func(s LayerState, _ bool) float64 { return float64(s.MemoryDropped) }},
	{layerDesc("bad_input_blocks_total", "Input blocks rejected (wrong shape, NaN or Inf) or lost to a panic."), prometheus.CounterValue,
		func(s LayerState, _ bool) float64 { return float64(s.BadInput) }},
	{layerDesc("refused_updates_total", "Updates refused because they would have made a weight NaN or Inf."), prometheus.CounterValue,
		func(s LayerState, _ bool) float64 { return float64(s.Refused) }},
	{layerDesc("restarts_total", "Supervisor restarts of the layer's actor."), prometheus.CounterValue,
		func(s LayerState, _ bool) float64 { return float64(s.Restarts) }},
	{layerDesc("streams", "Streams the layer holds state for."), prometheus.GaugeValue,
		func(s LayerState, _ bool) float64 { return float64(s.Streams) }},
}

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range layerMetrics {
		ch <- m.desc
	}
	for _, d := range []*prometheus.Desc{descLoss, descActive, descProbe, descPaused, descLatencyP50, descLatencyP99, descRun,
		descClients, descSent, descDropped, descTapDropped, descColumns} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	st := c.d.Stats()
	for _, s := range st.Layers {
		l := strconv.Itoa(s.Layer)
		for _, m := range layerMetrics {
			ch <- prometheus.MustNewConstMetric(m.desc, m.typ, m.value(s, st.Paused), l)
		}
		ch <- prometheus.MustNewConstMetric(descLoss, prometheus.GaugeValue, s.LossPos, l, "pos")
		ch <- prometheus.MustNewConstMetric(descLoss, prometheus.GaugeValue, s.LossNeg, l, "neg")
		ch <- prometheus.MustNewConstMetric(descActive, prometheus.GaugeValue, s.ActivePos, l, "pos")
		ch <- prometheus.MustNewConstMetric(descActive, prometheus.GaugeValue, s.ActiveNeg, l, "neg")
		if s.ProbeAccuracy != nil {
			ch <- prometheus.MustNewConstMetric(descProbe, prometheus.GaugeValue, *s.ProbeAccuracy, l)
		}
		ch <- prometheus.MustNewConstMetric(descTapDropped, prometheus.CounterValue, float64(s.View.TapDropped), l)
		ch <- prometheus.MustNewConstMetric(descColumns, prometheus.CounterValue, float64(s.View.Columns), l)
	}
	if n := len(st.Layers); n > 0 {
		last := st.Layers[n-1]
		ch <- prometheus.MustNewConstMetric(descLatencyP50, prometheus.GaugeValue, last.LatencyP50.Seconds())
		ch <- prometheus.MustNewConstMetric(descLatencyP99, prometheus.GaugeValue, last.LatencyP99.Seconds())
	}
	ch <- prometheus.MustNewConstMetric(descPaused, prometheus.GaugeValue, b2f(st.Paused))
	ch <- prometheus.MustNewConstMetric(descRun, prometheus.GaugeValue, 1, c.d.cfg.Run)
	ch <- prometheus.MustNewConstMetric(descClients, prometheus.GaugeValue, float64(st.Dashboard.Clients))
	ch <- prometheus.MustNewConstMetric(descSent, prometheus.CounterValue, float64(st.Dashboard.Sent))
	ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(st.Dashboard.Dropped))
}

// registerMetrics puts the dashboard's collector, and Go's and the
// process's, on the registry.
// A registry that already has Go's or the process's collector keeps it.
func (d *Dashboard) registerMetrics() error {
	if err := d.cfg.Registry.Register(collector{d}); err != nil {
		return fmt.Errorf("dashboard: metrics: %w", err)
	}
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		var already prometheus.AlreadyRegisteredError
		if err := d.cfg.Registry.Register(c); err != nil && !errors.As(err, &already) {
			return fmt.Errorf("dashboard: metrics: %w", err)
		}
	}
	return nil
}
