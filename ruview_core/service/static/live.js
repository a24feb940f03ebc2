// The add-on's live view: one room over the API's WebSocket (display messages, decimated by the
// add-on), drawn with uPlot and a plain canvas. Relative URLs only (Home Assistant's ingress path).
"use strict";

const BASE = new URL(".", location.href);
const HEATMAP_COLUMNS = 300; // 30 s at the add-on's 10 columns/s
const MOTION_POINTS = 120; // hops (seconds)
const READINGS = ["presence", "motion", "posture", "breathing_bpm", "heart_bpm", "restlessness", "anomaly", "zone"];
const $ = (id) => document.getElementById(id);

// What a test or a benchmark reads: how many messages arrived and how late, how long drawing took.
const live = window.ruviewLive = { messages: 0, displays: 0, lastLagMs: null, maxLagMs: 0, drawMs: 0,
                                   lastDisplay: null, lastJob: null, firstDataAt: null };
let room = null, socket = null, pending = null, retryMs = 500;
const nodeViews = new Map();

function api(path) { return new URL(`api/v1/${path}`, BASE); }

async function getJson(path) {
  const response = await fetch(api(path));
  if (response.status === 401) {
    throw new Error("not signed in: open RuView from Home Assistant's sidebar (the add-on's ingress)");
  }
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

function showProblem(text) {
  $("problem").hidden = !text;
  $("problem").textContent = text || "";
}

async function start() {
  if (typeof uPlot === "undefined") {
    showProblem("the plotting library is missing from the add-on (static/vendor): run `make live-view-assets`");
    return;
  }
  try {
    const { rooms } = await getJson("rooms");
    const select = $("room");
    for (const r of rooms) select.add(new Option(r.name || r.room_id, r.room_id));
    if (!rooms.length) { showProblem("no room yet: add one in Home Assistant (RuView integration)"); return; }
    room = new URLSearchParams(location.search).get("room") || rooms[0].room_id;
    select.value = room;
    select.addEventListener("change", () => { room = select.value; resetRoom(); subscribe(); });
  } catch (error) { showProblem(error.message); return; }
  connect();
  loadPlacement();
  window.addEventListener("resize", () => nodeViews.forEach(resizeNode));
}

function connect() {
  const url = api("ws");
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  socket = new WebSocket(url);
  socket.onopen = () => { retryMs = 500; setConnection("live", true); subscribe(); };
  socket.onclose = () => {
    setConnection("reconnecting", false);
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 10000);
  };
  socket.onmessage = (event) => receive(JSON.parse(event.data));
}

function setConnection(text, ok) {
  $("connection").textContent = text;
  $("connection").classList.toggle("live", ok);
}

function subscribe() {
  if (socket && socket.readyState === WebSocket.OPEN && room) {
    socket.send(JSON.stringify({ type: "subscribe", rooms: [room], display: true }));
  }
}

function receive(message) {
  live.messages += 1;
  if (message.type === "display" && message.room === room) {
    live.displays += 1;
    if (message.sent_at) {
      live.lastLagMs = Date.now() - message.sent_at * 1000;
      live.maxLagMs = Math.max(live.maxLagMs, live.lastLagMs);
    }
    if (live.firstDataAt === null) live.firstDataAt = performance.now();
    for (const node of message.nodes) queueColumns(node);
    pending = message;
    requestAnimationFrame(draw);
  } else if (message.type === "job" && message.job.room === room) {
    live.lastJob = message.job;
    showJob(message.job);
    if (message.job.state !== "running" && message.job.state !== "queued") loadPlacement();
  }
}

function draw() {
  if (!pending) return;
  const started = performance.now();
  const message = pending;
  pending = null;
  live.lastDisplay = message;
  drawCalibration(message);
  drawEnrollment(message.enrollment);
  drawState(message);
  for (const node of message.nodes) drawNode(node);
  live.drawMs = performance.now() - started;
}

function drawCalibration(message) {
  $("status").textContent = message.status;
  $("next-step").textContent = message.next_step;
}

function drawEnrollment(enrollment) {
  if (!enrollment) return;
  $("enrollment").hidden = false;
  $("anchor").textContent = enrollment.anchor;
  $("instruction").textContent = enrollment.instruction;
  $("progress").value = enrollment.progress || 0;
  $("capture-result").textContent = "capturing: each check is judged on the latest second (moving share: so far)";
  $("capture-result").className = "result";
  const gates = $("gates");
  gates.replaceChildren();
  for (const node of enrollment.gates) {
    for (const check of node.checks) {
      const line = document.createElement("div");
      line.className = `gate ${check.ok ? "ok" : "bad"}`;
      line.dataset.check = check.name;
      const value = check.value === null ? "-" : check.value;
      line.innerHTML = `<span class="mark">${check.ok ? "&#10003;" : "&#10007;"}</span> node ${node.node_id}, `;
      line.append(`${check.name}: ${value} (limit ${check.limit})`);
      if (check.reason) {
        const reason = document.createElement("span");
        reason.className = "reason";
        reason.textContent = ` - ${check.reason}`;
        line.append(reason);
      }
      gates.append(line);
    }
  }
}

function showJob(job) {
  if (job.kind !== "anchor" && job.kind !== "baseline" && job.kind !== "recalibrate") return;
  $("enrollment").hidden = false;
  $("anchor").textContent = job.anchor || "the empty room";
  $("progress").value = job.progress || 0;
  const result = $("capture-result");
  if (job.state === "succeeded" && job.result) {
    const accepted = job.result.accepted;
    result.className = `result ${accepted ? "accepted" : "refused"}`;
    result.textContent = accepted ? "accepted" : job.result.skipped ? "skipped" : `refused: ${job.result.reason}`;
  } else if (job.state === "failed" || job.state === "cancelled") {
    result.className = "result refused";
    result.textContent = `${job.state}: ${job.error || ""}`;
  }
}

function format(value) {
  if (value === null || value === undefined) return "unknown";
  if (typeof value === "number") return String(Math.round(value * 100) / 100);
  return String(value);
}

function drawState(message) {
  const state = message.state;
  $("state-t").textContent = state ? `t = ${state.t}` : "";
  $("state-t").dataset.t = state ? state.t : "";
  const body = $("readings").tBodies[0];
  body.replaceChildren();
  const why = message.stale_reason || message.attention || (state && state.veto_reason);
  $("state-note").textContent = state ? (why || "") : `no live state: ${why || "none yet (the room's nodes send no frames, or it was just re-loaded)"}`;
  if (!state) return;
  for (const name of READINGS) {
    const reading = state[name] || { value: null, confidence: 0, label: "unknown" };
    const perNode = message.node_readings.filter((n) => n[name])
      .map((n) => `node ${n.node_id}: ${format(n[name].value)} (${n[name].confidence})`).join(", ");
    const row = body.insertRow();
    row.dataset.reading = name;
    for (const [cls, text] of [["name", name], ["value", format(reading.value)],
                               ["confidence", String(reading.confidence)],
                               ["label", reading.label + (perNode ? ` | ${perNode}` : "")]]) {
      const cell = row.insertCell();
      cell.className = cls;
      cell.textContent = text;
    }
  }
}

// -- nodes -------------------------------------------------------------------------------------

function plot(container, series, options = {}) {
  const width = Math.max(container.clientWidth, 240);
  return new uPlot({ width, height: 120, legend: { show: false }, cursor: { show: false },
                     scales: { x: { time: false } }, series: [{}, ...series], ...options },
                   [[], ...series.map(() => [])], container);
}

function nodeView(nodeId) {
  if (nodeViews.has(nodeId)) return nodeViews.get(nodeId);
  const element = $("node-template").content.firstElementChild.cloneNode(true);
  element.dataset.node = nodeId;
  element.querySelector(".node-id").textContent = nodeId;
  $("nodes").append(element);
  const view = { element, heatmap: element.querySelector(".heatmap"), columns: [], scale: null,
                 motion: { t: [], value: [], threshold: [] }, chosenBpm: null };
  view.motionPlot = plot(element.querySelector(".motion-plot"), [
    { label: "motion index", stroke: "#1565c0" }, { label: "threshold", stroke: "#c62828", dash: [4, 4] }]);
  view.wavePlot = plot(element.querySelector(".wave-plot"), [{ label: "breathing", stroke: "#2e7d32" }]);
  view.spectrumPlot = plot(element.querySelector(".spectrum-plot"), [{ label: "power", stroke: "#6a1b9a" }], {
    hooks: { draw: [(u) => markPeak(u, view.chosenBpm)] } });
  nodeViews.set(nodeId, view);
  return view;
}

function markPeak(u, bpm) {
  if (bpm === null || bpm === undefined) return;
  const x = u.valToPos(bpm, "x", true);
  const ctx = u.ctx;
  ctx.save();
  ctx.strokeStyle = "#ef6c00";
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(x, u.bbox.top);
  ctx.lineTo(x, u.bbox.top + u.bbox.height);
  ctx.stroke();
  ctx.restore();
}

function resizeNode(view) {
  for (const [p, selector] of [[view.motionPlot, ".motion-plot"], [view.wavePlot, ".wave-plot"],
                               [view.spectrumPlot, ".spectrum-plot"]]) {
    p.setSize({ width: Math.max(view.element.querySelector(selector).clientWidth, 240), height: 120 });
  }
}

function queueColumns(node) {
  const view = nodeView(node.node_id);
  for (const [, column] of node.columns) view.columns.push(column);
}

function drawNode(node) {
  const view = nodeView(node.node_id);
  const el = view.element;
  el.querySelector(".rate").textContent = node.rate_hz === null ? "-" : node.rate_hz.toFixed(1);
  el.querySelector(".loss").textContent = node.loss_ratio === null ? "-" : `${(node.loss_ratio * 100).toFixed(1)} %`;
  el.querySelector(".frames").textContent = node.frames === null ? "-" : String(node.frames);
  drawHeatmap(view);
  if (node.t !== undefined && node.t !== null && node.t !== view.motion.t[view.motion.t.length - 1]) {
    const m = view.motion;
    m.t.push(node.t); m.value.push(node.motion); m.threshold.push(node.threshold);
    for (const series of [m.t, m.value, m.threshold]) if (series.length > MOTION_POINTS) series.shift();
    const t0 = m.t[m.t.length - 1];
    view.motionPlot.setData([m.t.map((t) => t - t0), m.value, m.threshold]);
  }
  if (node.motion !== undefined) {
    el.querySelector(".motion-now").textContent =
      `${format(node.motion)} (moving above ${node.threshold}: ${node.moving === null ? "not judged yet" : node.moving ? "moving" : "still"})`;
  }
  const breathing = node.breathing;
  if (breathing) {
    view.chosenBpm = breathing.chosen_bpm;
    const n = breathing.wave.length;
    view.wavePlot.setData([breathing.wave.map((_, i) => (i - n + 1) / breathing.rate_hz), breathing.wave]);
    view.spectrumPlot.setData([breathing.spectrum_bpm, breathing.spectrum]);
    el.querySelector(".breathing-now").textContent = breathing.chosen_bpm === null ? "no peak chosen" :
      breathing.trusted ? `chosen peak ${breathing.chosen_bpm} breaths/min (confidence ${breathing.confidence})`
        : `best peak ${breathing.chosen_bpm} breaths/min, not trusted (confidence ${breathing.confidence}): no rhythm`;
  }
}

function drawHeatmap(view) {
  const canvas = view.heatmap;
  const columns = view.columns.splice(0);
  if (!columns.length) return;
  const rows = columns[0].length;
  if (canvas.height !== rows) { canvas.height = rows; }
  const ctx = canvas.getContext("2d");
  const shift = Math.min(columns.length, HEATMAP_COLUMNS);
  ctx.drawImage(canvas, -shift, 0);
  // Colour scale: a slowly following range of the node's amplitudes (AGC steps would flash otherwise).
  const values = columns.flat().filter(Number.isFinite);
  const low = Math.min(...values), high = Math.max(...values);
  view.scale = view.scale ? [view.scale[0] * 0.9 + low * 0.1, view.scale[1] * 0.9 + high * 0.1] : [low, high];
  const [min, max] = view.scale;
  const image = ctx.createImageData(shift, rows);
  columns.slice(-shift).forEach((column, x) => {
    column.forEach((value, y) => {
      const level = Math.max(0, Math.min(1, (value - min) / ((max - min) || 1)));
      const offset = ((rows - 1 - y) * shift + x) * 4;
      image.data[offset] = 255 * Math.min(1, level * 2);
      image.data[offset + 1] = 255 * Math.max(0, level * 2 - 1);
      image.data[offset + 2] = 255 * (1 - level) * 0.6;
      image.data[offset + 3] = 255;
    });
  });
  ctx.putImageData(image, HEATMAP_COLUMNS - shift, 0);
}

function resetRoom() {
  nodeViews.forEach((view) => view.element.remove());
  nodeViews.clear();
  $("enrollment").hidden = true;
  loadPlacement();
}

// -- placement ---------------------------------------------------------------------------------

async function loadPlacement() {
  if (!room) return;
  let data;
  try { data = await getJson(`rooms/${encodeURIComponent(room)}/placement`); } catch (error) { return; }
  $("margin").textContent = data.presence_margin;
  const spots = Object.keys(data.spots);
  const head = $("placement-table").tHead, body = $("placement-table").tBodies[0];
  head.replaceChildren();
  body.replaceChildren();
  if (!data.nodes.length) {
    body.insertRow().insertCell().textContent = "no capture yet: enroll the room's steps first";
    return;
  }
  const headRow = head.insertRow();
  for (const text of ["node", ...spots, "verdict"]) headRow.append(Object.assign(document.createElement("th"), { textContent: text }));
  for (const node of data.nodes) {
    const row = body.insertRow();
    row.dataset.node = node.node_id;
    row.insertCell().textContent = node.node_id;
    for (const spot of spots) row.insertCell().textContent = spot in node.shift ? node.shift[spot].toFixed(2) : "-";
    const verdict = row.insertCell();
    verdict.className = `verdict verdict-${node.verdict.replaceAll(" ", "-")}`;
    verdict.textContent = `${node.verdict}: ${node.why}`;
  }
}

start();
