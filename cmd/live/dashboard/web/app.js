// clapp live dashboard: one WebSocket (/ws) brings JSON "hello" and
// "stats" messages and binary heatmap columns; the buttons POST to /api/*.
// The protocol is documented in the Go package's doc.go.
"use strict";

const COL_W = 2;          // pixels per heatmap column
const HEAT_H = 128;       // target heatmap height in pixels
const SPARK_N = 240;      // sparkline points (60 s at 4 stats per second)

// Exposed for people (devtools console) and for the end-to-end tests.
const clapp = window.clapp = {
  connected: false,
  frames: 0,      // binary column messages received
  columns: {},    // columns received per layer
  stats: 0,       // stats messages received
  hello: null,
  last: null,     // the last stats message
  lastAction: null,
};

// viridis, sampled; interpolated into a 256-entry table.
const STOPS = ["440154", "482878", "3e4989", "31688e", "26828e", "1f9e89", "35b779", "6ece58", "b5de2b", "fde725"]
  .map(h => [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)]);
const LUT = new Uint8ClampedArray(256 * 3);
for (let i = 0; i < 256; i++) {
  const x = i / 255 * (STOPS.length - 1), k = Math.min(STOPS.length - 2, Math.floor(x)), f = x - k;
  for (let c = 0; c < 3; c++) LUT[i * 3 + c] = STOPS[k][c] + (STOPS[k + 1][c] - STOPS[k][c]) * f;
}

const $ = sel => document.querySelector(sel);
const layers = new Map();   // layer number -> view

function fmt(v, digits = 3) {
  if (v === undefined || v === null || Number.isNaN(v)) return "–";
  return Number(v).toFixed(digits);
}
function count(v) {
  if (v === undefined || v === null) return "–";
  if (v >= 1e9) return (v / 1e9).toFixed(2) + "G";
  if (v >= 1e6) return (v / 1e6).toFixed(2) + "M";
  if (v >= 1e4) return (v / 1e3).toFixed(1) + "k";
  return String(v);
}
function bytes(v) {
  if (!v) return "0";
  const u = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
  return v.toFixed(i ? 1 : 0) + " " + u[i];
}
function ms(ns) { return ns === undefined ? "–" : (ns / 1e6).toFixed(1) + " ms"; }

function layerView(n) {
  let v = layers.get(n);
  if (v) return v;
  const node = $("#layer-template").content.firstElementChild.cloneNode(true);
  node.id = "layer-" + n;
  node.dataset.layer = n;
  node.querySelector("h2").textContent = "Layer " + n;
  const heat = node.querySelector("canvas.heat");
  v = {
    n, node, heat, g: heat.getContext("2d"), rows: 0, rowPx: 1, pending: [],
    hist: { lp: [], ln: [], ap: [], an: [] }, frozen: false,
    el: name => node.querySelector("." + name),
  };
  node.querySelector("button.freeze").addEventListener("click", () => freeze(n, !v.frozen, node.querySelector("button.freeze")));
  // Keep the layers in order whatever order they first appear in.
  const after = [...layers.keys()].filter(k => k > n).sort((a, b) => a - b)[0];
  $("#layers").insertBefore(node, after === undefined ? null : layers.get(after).node);
  layers.set(n, v);
  return v;
}

function setGeometry(v, geo) {
  if (!geo || !geo.rows) return;
  v.el("geo").textContent = `${geo.channels} channels` + (geo.group > 1 ? ` (${geo.group} per row)` : "") +
    ` · ${geo.rate} frames/s · ${geo.frames_per_column} frames per column`;
}

// Heatmap columns: a binary message, see decodeColumns.
function decodeColumns(buf) {
  const dv = new DataView(buf);
  if (buf.byteLength < 24 || dv.getUint8(0) !== 1) throw new Error("not a column message");
  const m = {
    layer: dv.getUint8(1), rows: dv.getUint16(2, true), cols: dv.getUint16(4, true),
    start: (dv.getUint16(6, true) & 1) !== 0, lo: dv.getFloat32(8, true), hi: dv.getFloat32(12, true),
    t: dv.getFloat64(16, true), data: new Uint8Array(buf, 24),
  };
  if (m.data.length !== m.rows * m.cols) throw new Error("column message of the wrong size");
  return m;
}

function onColumns(m) {
  clapp.frames++;
  clapp.columns[m.layer] = (clapp.columns[m.layer] || 0) + m.cols;
  const v = layerView(m.layer);
  if (v.rows !== m.rows) {
    v.rows = m.rows;
    v.rowPx = Math.max(1, Math.floor(HEAT_H / m.rows));
    v.heat.height = m.rows * v.rowPx;
    v.g.fillStyle = "#000";
    v.g.fillRect(0, 0, v.heat.width, v.heat.height);
  }
  v.pending.push(m);
  v.el("lo").textContent = "colour " + fmt(m.lo, 2) + " … " + fmt(m.hi, 2);
  v.el("hi").textContent = "t = " + (m.t + m.cols / (clapp.hello ? clapp.hello.columns_per_second : 25)).toFixed(1) + " s";
  schedule();
}

let scheduled = false;
function schedule() {
  if (!scheduled) { scheduled = true; requestAnimationFrame(draw); }
}

// draw scrolls each heatmap left by the columns that came since the last
// frame and paints them on the right.
function draw() {
  scheduled = false;
  for (const v of layers.values()) {
    if (!v.pending.length) continue;
    const W = v.heat.width, H = v.heat.height;
    let cols = v.pending.reduce((s, m) => s + m.cols, 0);
    const fit = Math.floor(W / COL_W);
    let skip = Math.max(0, cols - fit); // columns that would scroll out at once
    cols -= skip;
    const w = cols * COL_W;
    v.g.drawImage(v.heat, w, 0, W - w, H, 0, 0, W - w, H);
    const img = v.g.createImageData(w, H);
    const px = img.data;
    let x = 0;
    for (const m of v.pending) {
      if (m.rows !== v.rows) continue;
      for (let c = 0; c < m.cols; c++) {
        if (skip > 0) { skip--; continue; }
        const mark = m.start && c === 0;
        for (let r = 0; r < m.rows; r++) {
          const q = m.data[c * m.rows + r] * 3;
          for (let dy = 0; dy < v.rowPx; dy++) {
            const y = r * v.rowPx + dy;
            for (let dx = 0; dx < COL_W; dx++) {
              const i = (y * w + x * COL_W + dx) * 4;
              if (mark && dx === 0) {
                px[i] = 255; px[i + 1] = 255; px[i + 2] = 255;
              } else {
                px[i] = LUT[q]; px[i + 1] = LUT[q + 1]; px[i + 2] = LUT[q + 2];
              }
              px[i + 3] = 255;
            }
          }
        }
        x++;
      }
    }
    v.g.putImageData(img, W - w, 0);
    v.pending = [];
  }
}

function push(a, x) { a.push(x); if (a.length > SPARK_N) a.shift(); }

// spark draws two series (positive and negative terms); the x axis fills
// up as points come, the y axis is [lo, hi] when given, else the data's.
function spark(canvas, a, b, lo, hi) {
  const g = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
  g.clearRect(0, 0, W, H);
  const all = a.concat(b).filter(Number.isFinite);
  if (!all.length) return;
  if (lo === undefined) lo = Math.min(...all);
  if (hi === undefined) hi = Math.max(...all);
  if (hi - lo < 1e-6) { const m = (hi + lo) / 2; lo = m - 5e-7; hi = m + 5e-7; }
  const step = W / (Math.max(a.length, b.length, 40) - 1);
  for (const [arr, colour] of [[a, "#5bd17a"], [b, "#f0a04b"]]) {
    g.strokeStyle = colour;
    g.lineWidth = 1.5;
    g.beginPath();
    let pen = false;
    arr.forEach((y, i) => {
      if (!Number.isFinite(y)) { pen = false; return; }
      const px = W - (arr.length - 1 - i) * step, py = H - 3 - (y - lo) / (hi - lo) * (H - 6);
      pen ? g.lineTo(px, py) : g.moveTo(px, py);
      pen = true;
    });
    g.stroke();
  }
}

function onHello(h) {
  clapp.hello = h;
  $("#run").textContent = h.run ? "run " + h.run : "";
  document.title = "clapp live" + (h.run ? " · " + h.run : "");
  for (let n = h.first; n <= h.last; n++) layerView(n);
  for (const geo of h.layers || []) setGeometry(layerView(geo.layer), geo);
  $("#save").disabled = !h.save;
  if (!h.save) $("#save").title = "this process saves no checkpoints";
}

function onStats(s) {
  clapp.stats++;
  clapp.last = s;
  for (const l of s.layers) {
    const h = layerView(l.layer).hist;
    if (l.learned === 0 && l.replayed === 0) continue; // nothing scored yet: no point
    // Negatives are scored at night with a day/night policy: none before
    // the first is a gap, not a zero.
    const negSeen = l.nights > 0 || l.replayed > 0 || l.loss_neg !== 0 || l.active_neg !== 0;
    push(h.lp, l.loss_pos); push(h.ap, l.active_pos);
    push(h.ln, negSeen ? l.loss_neg : NaN); push(h.an, negSeen ? l.active_neg : NaN);
  }
  render(s);
}

// render shows a stats message (the server's state, never a guess).
function render(s) {
  const paused = !!s.paused;
  document.body.classList.toggle("paused", paused);
  $("#global-state").textContent = paused ? "learning frozen" : "learning";
  const fa = $("#freeze-all");
  fa.textContent = paused ? "Resume learning" : "Freeze learning";
  fa.classList.toggle("on", paused);
  fa.dataset.paused = paused;
  $("#stats-count").textContent = count(clapp.stats);
  $("#frames-count").textContent = count(clapp.frames);
  $("#dropped-count").textContent = count(s.dashboard.dropped);
  $("#clients-count").textContent = s.dashboard.clients;
  if (s.save_busy) $("#save").disabled = true;
  else if (clapp.hello && clapp.hello.save) $("#save").disabled = false;
  for (const l of s.layers) {
    const v = layerView(l.layer);
    setGeometry(v, l.view && l.view.geometry);
    v.frozen = !!l.frozen;
    v.node.classList.toggle("frozen", v.frozen);
    v.node.dataset.frozen = v.frozen;
    v.node.dataset.night = !!l.night;
    v.node.dataset.nights = l.nights;
    const fb = v.node.querySelector("button.freeze");
    fb.textContent = v.frozen ? "Unfreeze layer" : "Freeze layer";
    fb.classList.toggle("on", v.frozen);
    const dn = v.el("daynight");
    dn.textContent = l.night ? "night" : "day";
    dn.className = "badge daynight " + (l.night ? "night" : "day");
    const learn = v.el("learn");
    learn.textContent = v.frozen ? "frozen" : paused ? "paused (global)" : "learning";
    learn.classList.toggle("frozen", v.frozen || paused);
    v.el("probe").textContent = l.probe_accuracy === undefined ? "" : "probe accuracy " + (100 * l.probe_accuracy).toFixed(1) + "%";
    const h = v.hist;
    spark(v.el("loss"), h.lp, h.ln);
    spark(v.el("active"), h.ap, h.an, 0, 1);
    v.el("loss-v").innerHTML = `<i class="pos">${fmt(l.loss_pos)}</i> / <i class="neg">${fmt(l.loss_neg)}</i>`;
    v.el("active-v").innerHTML = `<i class="pos">${fmt(l.active_pos, 2)}</i> / <i class="neg">${fmt(l.active_neg, 2)}</i>`;
    v.el("fps").textContent = fmt(l.frames_per_sec, 0);
    v.el("lag").textContent = ms(l.lag_ns);
    v.el("backlog").textContent = l.backlog;
    v.el("blocks").textContent = count(l.blocks);
    v.el("learned").textContent = count(l.learned);
    v.el("skipped").textContent = count(l.skipped);
    v.el("skipped").classList.toggle("alert", l.skipped > 0);
    v.el("frozen-blocks").textContent = count(l.frozen_blocks);
    v.el("nights").textContent = l.nights;
    v.el("replayed").textContent = count(l.replayed);
    const fill = l.memory_capacity ? l.memory_bytes / l.memory_capacity : 0;
    v.el("memory").textContent = bytes(l.memory_bytes) + " (" + (100 * fill).toFixed(1) + "%)";
    v.el("records").textContent = count(l.memory_records);
    v.el("mem-dropped").textContent = count(l.memory_dropped);
    v.el("bad").textContent = count(l.bad_input);
    v.el("bad").classList.toggle("alert", l.bad_input > 0);
    v.el("refused").textContent = count(l.refused);
    v.el("refused").classList.toggle("alert", l.refused > 0);
    v.el("restarts").textContent = count(l.restarts);
    v.el("restarts").classList.toggle("alert", l.restarts > 0);
    v.el("columns").textContent = count(l.view ? l.view.columns : 0);
    v.el("tap-dropped").textContent = count(l.view ? l.view.tap_dropped : 0);
    v.el("latency").textContent = l.latency_p50_ns ? ms(l.latency_p50_ns) + " / " + ms(l.latency_p99_ns) : "–";
    v.el("stream").textContent = l.view && l.view.stream ? l.view.stream : "";
  }
}

function say(text, error) {
  const a = $("#action");
  a.textContent = text;
  a.classList.toggle("error", !!error);
  clapp.lastAction = { text, error: !!error, at: Date.now() };
}

// post sends a control request and returns the reply's JSON; errors are
// shown with the server's words.
async function post(path, body, button) {
  if (button) button.disabled = true;
  try {
    const r = await fetch(path, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {}),
    });
    const j = await r.json().catch(() => ({ error: r.status + " " + r.statusText }));
    if (!r.ok && r.status !== 202) throw new Error(j.error || r.statusText);
    return j;
  } catch (e) {
    say(path + ": " + e.message, true);
    return null;
  } finally {
    if (button) button.disabled = path === "api/save" ? !(clapp.hello && clapp.hello.save) : false;
  }
}

async function freeze(layer, frozen, button) {
  const j = await post("api/freeze", { layer, frozen }, button);
  if (!j) return;
  // Show what the server reports, not what was asked for.
  const state = layer === 0 ? j.paused : (j.layers.find(l => l.layer === layer) || {}).frozen;
  const who = layer === 0 ? "learning of every layer" : "layer " + layer;
  say(`${who}: ${state ? "frozen" : "learning"}` + (j.confirmed ? "" : " (not confirmed yet)"));
  if (clapp.last) {
    clapp.last.paused = j.paused;
    for (const l of clapp.last.layers) {
      const f = j.layers.find(x => x.layer === l.layer);
      if (f) l.frozen = f.frozen;
    }
    render(clapp.last);
  }
}

$("#freeze-all").addEventListener("click", e => freeze(0, !(clapp.last && clapp.last.paused), e.currentTarget));
$("#night").addEventListener("click", async e => {
  const j = await post("api/night", {}, e.currentTarget);
  if (j) say("night requested in every layer (nights so far: " + j.nights.map(l => l.nights).join(", ") + ")");
});
$("#save").addEventListener("click", async e => {
  say("saving…");
  const j = await post("api/save", {}, e.currentTarget);
  if (j) say(`saved ${j.path} in ${j.seconds.toFixed(2)} s`);
});

let retry = 500;
function connect() {
  // Relative to the page, so the dashboard can be mounted under a prefix.
  const u = new URL("ws", location.href);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(u.href);
  ws.binaryType = "arraybuffer";
  const conn = $("#conn");
  ws.onopen = () => {
    retry = 500;
    clapp.connected = true;
    conn.textContent = "connected";
    conn.className = "conn on";
  };
  ws.onmessage = ev => {
    if (typeof ev.data !== "string") {
      onColumns(decodeColumns(ev.data));
      return;
    }
    const m = JSON.parse(ev.data);
    if (m.type === "hello") onHello(m);
    else if (m.type === "stats") onStats(m);
  };
  ws.onclose = () => {
    clapp.connected = false;
    conn.textContent = "disconnected, retrying";
    conn.className = "conn off";
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 5000);
  };
}
connect();
