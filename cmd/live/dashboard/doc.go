// Package dashboard serves the live demo's web page: every layer of a
// running actors.Pipeline learning, drawn while people speak, with the
// buttons to freeze learning, force a night and save a checkpoint, and the
// Prometheus metrics of the same process.
//
// A Dashboard is an http.Handler; Listen serves it on 127.0.0.1 unless
// told otherwise:
//
//	d, err := dashboard.New(dashboard.Config{Pipeline: p, Save: save, Run: run, Logger: log})
//	srv, err := dashboard.Listen(":8080", d, log) // 127.0.0.1:8080
//	...
//	srv.Shutdown(ctx) // ends the WebSockets too
//	d.Close()         // removes the taps
//
// The page is plain HTML, CSS and JavaScript embedded in the binary (no
// framework, no build step, nothing fetched from elsewhere).
//
// # Paths
//
//	GET  /             the page (index.html, app.js, style.css)
//	GET  /ws           the WebSocket the page reads (below)
//	GET  /api/state    {"hello": Hello, "stats": Stats}: what the page shows, as JSON
//	POST /api/freeze   freeze or resume learning (below)
//	POST /api/night    start a night in every layer now
//	POST /api/save     write a checkpoint (Config.Save)
//	GET  /metrics      Prometheus text exposition (a private registry)
//
// # The WebSocket
//
// The server writes and the browser only reads: a data message from the
// browser closes the connection. Text messages are JSON objects with a
// "type"; binary messages are heatmap columns.
//
// The first message is the hello (type Hello):
//
//	{"type": "hello", "run": "demo", "first": 1, "last": 6,
//	 "columns_per_second": 25, "max_rows": 64, "stats_interval_ms": 250,
//	 "save": true, "probe": false,
//	 "layers": [{"layer": 1, "channels": 512, "group": 8, "rows": 64,
//	             "rate": 3200, "frames_per_column": 128}, ...]}
//
// (a layer's geometry is zero until its first frames have passed). The
// second and then every stats_interval_ms while a browser is connected
// comes the stats message (type Stats):
//
//	{"type": "stats", "time": "2026-11-28T03:20:01.5Z", "paused": false,
//	 "layers": [{<every field of actors.LayerStats, by its JSON name>,
//	             "probe_accuracy": 0.42,          (only when known)
//	             "view": {"geometry": {...}, "stream": "103-1240-0000",
//	                      "columns": 1200, "tap_dropped": 0}}, ...],
//	 "dashboard": {"clients": 1, "sent": 5000, "dropped": 0, "tap_dropped": 0, "columns": 7200},
//	 "save": {"path": "...", "error": "", "time": "...", "seconds": 0.2},   (after a save)
//	 "save_busy": false}
//
// Durations in LayerStats are nanoseconds (lag_ns, latency_p50_ns, ...).
// "frozen" is the layer's own switch, "paused" the global one.
//
// Binary messages carry the new heatmap columns of one layer, little-endian:
//
//	offset size
//	0      1    kind: 1 (columns)
//	1      1    layer
//	2      2    rows R (uint16)
//	4      2    columns C (uint16)
//	6      2    flags (uint16): bit 0 = the first column starts a new stream
//	8      4    lo (float32): the activation byte 0 stands for
//	12     4    hi (float32): the activation byte 255 stands for
//	16     8    t (float64): audio seconds from the stream's start to the first column
//	24     R*C  bytes, column after column, R rows each (row 0 = the first channels)
//
// A column is the mean of a layer's activations over frames_per_column
// frames (1/columns_per_second of audio) and, when the layer is wider
// than max_rows, over group neighbouring channels. Each layer's heatmap
// follows one stream at a time (the first it sees, until it ends or is
// silent for 2 s). lo and hi are a slowly decaying range of the layer's
// recent values that always includes 0; DecodeColumns decodes a message.
//
// Nothing waits for a browser: a layer's tap hands its block to a bounded
// queue (TapQueue) and drops it when full; each browser has its own
// bounded queue (ClientQueue) and loses messages when it is slow; a
// browser that accepts nothing for WriteTimeout is disconnected. Every
// drop is counted (stats "dashboard" and the metrics below). With no
// browser connected no stats message is built.
//
// # Controls
//
// Every control is a POST with Content-Type application/json (another
// site's page cannot send that to 127.0.0.1 without the browser asking
// first, and the dashboard never says yes). Replies are JSON; errors are
// {"error": "..."} naming the bad input, with 400 (bad body, unknown
// layer), 404 (unknown endpoint), 405 (wrong method, with Allow), 413
// (body over 4 KiB), 415 (not JSON), 409 (a save in progress), 501 (no
// Save function), 500 (the save failed) or 503 (dashboard closed).
//
//	POST /api/freeze {"layer": 0, "frozen": true}
//	  layer 0 is the global switch (Pipeline.Freeze(0, ...), Paused); 1-6 a
//	  layer's own. The reply is the state read back from the pipeline:
//	  {"layer": 0, "frozen": true, "confirmed": true, "paused": true,
//	   "layers": [{"layer": 1, "frozen": false}, ...]}
//	  A layer takes its switch between two blocks; if it has not within
//	  2 s the reply is 202 with "confirmed": false.
//	POST /api/night {}
//	  {"requested": true, "nights": [{"layer": 1, "nights": 3, "night": false}, ...]}
//	  (the counts before the request; the stats show them go up).
//	POST /api/save {}
//	  {"path": "/runs/demo/checkpoint-000012.safetensors", "time": "...", "seconds": 0.4}
//
// With curl:
//
//	curl -X POST -H 'Content-Type: application/json' -d '{"layer":3,"frozen":true}' http://127.0.0.1:8080/api/freeze
//
// # Metrics
//
// /metrics exposes a private registry (Config.Registry, or a new one;
// never the default registry): per layer (label layer) clapp_layer_blocks_total,
// clapp_layer_frames_total, clapp_layer_frames_per_second,
// clapp_layer_loss{term="pos"|"neg"}, clapp_layer_active_hinge_ratio{term},
// clapp_layer_lag_seconds, clapp_layer_backlog_blocks,
// clapp_layer_learned_blocks_total, clapp_layer_skipped_blocks_total,
// clapp_layer_frozen_blocks_total, clapp_layer_frozen, clapp_layer_night,
// clapp_layer_nights_total, clapp_layer_cycles_total,
// clapp_layer_replayed_records_total, clapp_layer_memory_bytes,
// clapp_layer_memory_capacity_bytes, clapp_layer_memory_fill_ratio,
// clapp_layer_memory_records, clapp_layer_memory_dropped_records_total,
// clapp_layer_bad_input_blocks_total, clapp_layer_refused_updates_total,
// clapp_layer_restarts_total, clapp_layer_streams,
// clapp_layer_probe_accuracy_ratio (when known),
// clapp_dashboard_tap_dropped_blocks_total, clapp_dashboard_columns_total;
// and clapp_learning_paused, clapp_pipeline_latency_p50_seconds,
// clapp_pipeline_latency_p99_seconds (the last layer),
// clapp_run_info{run}, clapp_dashboard_clients,
// clapp_dashboard_sent_messages_total,
// clapp_dashboard_dropped_messages_total, with Go's and the process's
// collectors. The values are read from Pipeline.Stats when scraped.
//
// # Hosts
//
// Listen on a loopback address answers only requests that name a
// loopback host (localhost, 127.0.0.1, [::1]): a page of another site
// cannot reach the controls by DNS rebinding. The WebSocket accepts only
// pages of the same origin.
package dashboard
