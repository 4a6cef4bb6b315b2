// Live dashboard page: plain JS, no framework. Reads /events (Server-Sent Events), draws the
// board's pins, one card with a chart per reading, and the traffic log; buttons and sliders
// POST P2P commands to /api/cmd, which the dashboard's JMQT client sends to the device.
"use strict";

// se: the inputs whose last reading failed, {name: reason}, from the retained status (status.se)
var state = { pins: [], levels: {}, readings: {}, connection: {}, deviceId: "", se: {}, channels: {} };
var MAX_LOG = 200;
var SVG = "http://www.w3.org/2000/svg";

function $(id) { return document.getElementById(id); }
function el(tag, attrs, text) {
  var e = document.createElement(tag);
  for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}
function svgEl(tag, attrs) {
  var e = document.createElementNS(SVG, tag);
  for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
  return e;
}
function clock(t) {
  var d = new Date(t);
  return d.toTimeString().slice(0, 8);
}
function fmt(v) {
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Math.round(v * 1000) / 1000);
  if (v && typeof v === "object") {
    return Object.keys(v).map(function (k) { return k + " " + (typeof v[k] === "number" ? fmt(v[k]) : JSON.stringify(v[k])); }).join(" · ");
  }
  return String(v);
}

// ---- connection badges ----
function showConnection(c) {
  state.connection = c;
  var dev = $("conn-device"), dash = $("conn-dashboard");
  dev.dataset.state = c.device; dev.textContent = "device: " + c.device;
  dash.dataset.state = c.dashboard; dash.textContent = "dashboard: " + c.dashboard;
}

// ---- board drawing: two headers like a DevKit, pin colour = role and level ----
function pinFill(p) {
  var lv = state.levels[p.pin];
  if (p.reserved) return "#1b1f24";
  if (p.kind === "out") return lv ? "#ffc53d" : "#3a3320";
  if (p.kind === "pwm") return "rgba(192,132,252," + (0.2 + 0.8 * (lv || 0)).toFixed(2) + ")";
  if (p.kind === "analog") return "#4fb3ff";
  if (p.kind === "in" || p.kind === "count") return lv ? "#3ecf8e" : "#1f4f3a";
  if (p.kind === "sensor") return state.se[p.name] !== undefined ? "#ff6b6b" : "#e0a040";
  return "#2a3542";
}
function drawBoard() {
  var svg = $("board-svg");
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  var pins = state.pins, half = Math.ceil(pins.length / 2), rowH = 22, top = 46;
  var W = 520, H = top + half * rowH + 24, bx = 170, bw = 180;
  svg.setAttribute("viewBox", "0 0 " + W + " " + H);
  svg.appendChild(svgEl("rect", { x: bx, y: 8, width: bw, height: H - 16, rx: 10, fill: "#1d3b2a", stroke: "#2f6a4a" }));
  svg.appendChild(svgEl("rect", { x: bx + 50, y: 18, width: bw - 100, height: 22, rx: 3, fill: "#9aa4ad" }));
  var chip = svgEl("text", { x: bx + bw / 2, y: 33, "text-anchor": "middle", "font-size": 10, fill: "#222" });
  chip.textContent = state.boardName ? state.boardName.split(" ")[0] : "board";
  svg.appendChild(chip);
  pins.forEach(function (p, i) {
    var left = i < half, row = left ? i : i - half;
    var y = top + row * rowH + 8, x = left ? bx + 12 : bx + bw - 12;
    var c = svgEl("circle", { cx: x, cy: y, r: 7, fill: pinFill(p), stroke: p.kind ? "#dce3ea" : "#4a5866", "stroke-width": p.kind ? 1.5 : 1, "data-pin": p.pin });
    if (p.kind === "sensor" && state.se[p.name] !== undefined) c.setAttribute("data-failing", "1");
    if (p.reserved) c.setAttribute("stroke-dasharray", "2 2");
    svg.appendChild(c);
    var t = svgEl("text", { x: left ? x + 12 : x - 12, y: y + 4, "text-anchor": left ? "start" : "end", "font-size": 11, fill: "#c9d3dc" });
    t.textContent = p.pin;
    svg.appendChild(t);
    if (p.name) {
      var lv = state.levels[p.pin], extra = "";
      if (p.kind === "pwm" && typeof lv === "number") extra = " " + Math.round(lv * 100) + "%";
      else if (p.kind === "out") extra = lv ? " ON" : " off";
      else if (p.kind === "sensor" && state.se[p.name] !== undefined) extra = " ✗";
      else if ((p.kind === "analog" || p.kind === "count" || p.kind === "in") && state.readings[p.name + ""]) extra = "";
      var n = svgEl("text", { x: left ? bx - 10 : bx + bw + 10, y: y + 4, "text-anchor": left ? "end" : "start", "font-size": 12, fill: pinFill(p) === "#2a3542" ? "#c9d3dc" : "#e8eef3", "font-weight": 600 });
      n.textContent = p.name + extra;
      svg.appendChild(n);
      svg.appendChild(svgEl("line", { x1: left ? bx - 6 : bx + bw + 6, y1: y, x2: left ? x - 8 : x + 8, y2: y, stroke: "#4a5866", "stroke-dasharray": "2 3" }));
    }
  });
}

// ---- controls built from the pins that are outputs ----
function buildControls() {
  var box = $("controls");
  box.innerHTML = "";
  state.pins.filter(function (p) { return p.kind === "out" || p.kind === "pwm"; }).forEach(function (p) {
    var row = el("div", { class: "control", "data-target": p.name });
    var label = el("div");
    label.appendChild(el("span", { class: "name" }, p.name));
    label.appendChild(el("span", { class: "pin" }, p.pin + (p.led ? " · on-board LED" : "") + (p.kind === "pwm" ? " · PWM" : "")));
    row.appendChild(label);
    var acts = el("div", { class: "acts" });
    if (p.kind === "out") {
      var b = el("button", { class: "toggle", "data-target": p.name, id: "toggle-" + p.name }, "toggle");
      b.onclick = function () { send({ cmd: "toggle", target: p.name }); };
      acts.appendChild(b);
      var pb = el("button", { "data-target": p.name }, "pulse 500 ms");
      pb.onclick = function () { send({ cmd: "pulse", target: p.name, ms: 500 }); };
      acts.appendChild(pb);
    } else {
      var s = el("input", { type: "range", min: 0, max: 100, value: 0, id: "slider-" + p.name, "data-target": p.name });
      var out = el("span", { class: "muted" }, "0%");
      s.oninput = function () { out.textContent = s.value + "%"; };
      s.onchange = function () { send({ cmd: "set", target: p.name, value: Number(s.value) / 100 }); };
      acts.appendChild(s);
      acts.appendChild(out);
    }
    row.appendChild(acts);
    box.appendChild(row);
  });
  // inputs of the simulated board: a digital input's level, an analog input's value
  state.pins.filter(function (p) { return p.kind === "in" || p.kind === "count" || p.kind === "analog"; }).forEach(function (p) {
    var row = el("div", { class: "control", "data-input": p.pin });
    var label = el("div");
    label.appendChild(el("span", { class: "name" }, p.name));
    label.appendChild(el("span", { class: "pin" }, p.pin + " · input"));
    row.appendChild(label);
    var acts = el("div", { class: "acts" });
    if (p.kind === "analog") {
      var s = el("input", { type: "range", min: 0, max: 100, value: 50, id: "input-" + p.pin });
      var out = el("span", { class: "muted" }, "50%");
      s.oninput = function () { out.textContent = s.value + "%"; };
      s.onchange = function () { setInput(p.pin, Number(s.value) / 100); };
      acts.appendChild(s);
      acts.appendChild(out);
    } else {
      var b = el("button", { id: "input-" + p.pin }, "set level");
      b.onclick = function () { setInput(p.pin, state.levels[p.pin] ? 0 : 1); };
      acts.appendChild(b);
    }
    row.appendChild(acts);
    box.appendChild(row);
  });
  refreshControls();
}
function refreshControls() {
  state.pins.forEach(function (p) {
    var lv = state.levels[p.pin];
    if (p.kind === "out") {
      var b = $("toggle-" + p.name);
      if (b) { b.classList.toggle("on", !!lv); b.textContent = lv ? "ON · toggle" : "off · toggle"; }
    } else if (p.kind === "pwm") {
      var s = $("slider-" + p.name);
      if (s && document.activeElement !== s && typeof lv === "number") {
        s.value = Math.round(lv * 100);
        s.nextSibling.textContent = s.value + "%";
      }
    }
  });
}

function setInput(pin, value) {
  var box = $("reply");
  box.className = "reply muted";
  box.textContent = "→ " + pin + " = " + value;
  return fetch("/api/input", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ pin: pin, value: value }) })
    .then(function (r) { return r.json(); })
    .then(function (j) { box.className = "reply"; box.textContent = pin + " = " + value + (j.ok ? "" : ": " + j.err); });
}
function showMemory(m) {
  var e = $("memory");
  if (e) e.textContent = m ? "memory: " + m.usage + " of " + m.total + " blocks in use" : "";
}

function send(dt) {
  var box = $("reply");
  box.className = "reply muted";
  box.textContent = "→ " + JSON.stringify(dt);
  return fetch("/api/cmd", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(dt) })
    .then(function (r) { return r.json(); })
    .then(function (reply) {
      box.className = "reply" + (reply && reply.ok === 1 ? "" : " err");
      box.textContent = "→ " + JSON.stringify(dt) + "\n← " + JSON.stringify(reply, null, 1);
    })
    .catch(function (e) {
      box.className = "reply err";
      box.textContent = "request failed: " + e;
    });
}

// ---- readings: one card per channel with a sparkline ----
function card(r) {
  var id = "card-" + r.cn.replace(/[^a-zA-Z0-9_-]/g, "_");
  var c = $(id);
  if (!c) {
    var none = $("no-readings");
    if (none) none.remove();
    c = el("div", { class: "card", id: id, "data-cn": r.cn, "data-name": r.name });
    var head = el("div", { class: "head" });
    head.appendChild(el("span", { class: "label" }, r.name));
    head.appendChild(el("span", { class: "cn", title: r.cn }, r.cn));
    c.appendChild(head);
    c.appendChild(el("div", { class: "value" }, "–"));
    var svg = svgEl("svg", { viewBox: "0 0 200 54", preserveAspectRatio: "none" });
    svg.appendChild(svgEl("path", { class: "area", fill: "rgba(79,179,255,0.12)", stroke: "none" }));
    svg.appendChild(svgEl("path", { class: "line", fill: "none", stroke: "#4fb3ff", "stroke-width": 1.6, "vector-effect": "non-scaling-stroke" }));
    c.appendChild(svg);
    c.appendChild(el("div", { class: "when" }, ""));
    c.appendChild(el("div", { class: "why" }, ""));
    $("readings").appendChild(c);
  }
  markFailing(c, r.name);
  return c;
}
// a card whose input is in status.se: highlighted, with the reason (the value shown is the last good one)
function markFailing(c, name) {
  var why = state.se[name];
  c.classList.toggle("failing", why !== undefined);
  c.querySelector(".why").textContent = why !== undefined ? "failing: " + why : "";
}
function showStatus(st) {
  state.se = st && st.se && typeof st.se === "object" ? st.se : {};
  document.querySelectorAll(".card").forEach(function (c) { markFailing(c, c.dataset.name); });
  // an input that fails before its first reading gets its card now
  Object.keys(state.se).forEach(function (name) {
    var cn = Object.keys(state.channels).filter(function (k) { return state.channels[k] === name; })[0];
    if (cn && !state.readings[cn]) card({ cn: cn, name: name });
  });
  drawBoard();
}
function drawReading(r) {
  var c = card(r);
  var v = c.querySelector(".value");
  v.textContent = fmt(r.last);
  v.classList.toggle("small", !!r.last && typeof r.last === "object");
  v.classList.add("flash");
  setTimeout(function () { v.classList.remove("flash"); }, 300);
  var h = r.hist || [];
  c.querySelector(".when").textContent = h.length
    ? "min " + fmt(Math.min.apply(null, h.map(function (p) { return p.v; }))) + " · max " + fmt(Math.max.apply(null, h.map(function (p) { return p.v; }))) + " · " + clock(r.t)
    : clock(r.t);
  if (h.length < 2) return;
  var lo = Infinity, hi = -Infinity;
  h.forEach(function (p) { lo = Math.min(lo, p.v); hi = Math.max(hi, p.v); });
  if (hi === lo) { hi += 1; lo -= 1; }
  var t0 = h[0].t, t1 = h[h.length - 1].t || t0 + 1;
  var pts = h.map(function (p) {
    return [((p.t - t0) / Math.max(1, t1 - t0)) * 200, 50 - ((p.v - lo) / (hi - lo)) * 46];
  });
  var d = "M" + pts.map(function (p) { return p[0].toFixed(1) + "," + p[1].toFixed(1); }).join(" L");
  c.querySelector("path.line").setAttribute("d", d);
  c.querySelector("path.area").setAttribute("d", d + " L200,54 L0,54 Z");
}
function addReading(e) {
  var r = state.readings[e.cn];
  if (!r) r = state.readings[e.cn] = { cn: e.cn, name: e.name, hist: [] };
  r.last = e.dt; r.t = e.t;
  if (typeof e.v === "number") {
    r.hist.push({ t: e.t, v: e.v });
    if (r.hist.length > 120) r.hist.shift();
  }
  drawReading(r);
}

// ---- traffic log ----
function addLog(e) {
  var ol = $("log");
  var li = el("li");
  li.appendChild(el("span", { class: "t" }, clock(e.t)));
  li.appendChild(el("span", { class: "k k-" + e.kind }, e.kind));
  li.appendChild(document.createTextNode(e.text));
  li.title = e.text;
  var atBottom = ol.scrollTop + ol.clientHeight >= ol.scrollHeight - 4;
  ol.appendChild(li);
  while (ol.children.length > MAX_LOG) ol.removeChild(ol.firstChild);
  if (atBottom) ol.scrollTop = ol.scrollHeight;
}

function applySnapshot(s) {
  state.pins = s.pins; state.levels = s.levels || {}; state.deviceId = s.deviceId; state.boardName = s.boardName;
  state.channels = s.channels || {};
  state.readings = {};
  $("device").textContent = s.deviceId;
  $("board").textContent = s.boardName + (s.engine ? " · " + (s.engine === "espruino" ? "real Espruino interpreter" : "V8 simulator") : "");
  showMemory(s.memory);
  document.title = s.deviceId + " · JMQT dashboard";
  showConnection(s.connection);
  $("readings").innerHTML = "";
  var keys = Object.keys(s.readings || {});
  if (!keys.length) $("readings").appendChild(el("p", { class: "muted", id: "no-readings" }, "waiting for the first reading…"));
  keys.forEach(function (k) { state.readings[k] = s.readings[k]; drawReading(s.readings[k]); });
  $("log").innerHTML = "";
  (s.log || []).forEach(addLog);
  showStatus(s.status);
  buildControls();
}

function connect() {
  var es = new EventSource("/events");
  var page = $("conn-page");
  es.onopen = function () { page.dataset.state = "live"; page.textContent = "page: live"; };
  es.onerror = function () { page.dataset.state = "down"; page.textContent = "page: reconnecting"; };
  es.addEventListener("snapshot", function (m) { applySnapshot(JSON.parse(m.data)); });
  es.addEventListener("reading", function (m) { addReading(JSON.parse(m.data)); drawBoard(); });
  es.addEventListener("log", function (m) { addLog(JSON.parse(m.data)); });
  es.addEventListener("state", function (m) { showConnection(JSON.parse(m.data)); });
  es.addEventListener("memory", function (m) { showMemory(JSON.parse(m.data)); });
  es.addEventListener("status", function (m) { showStatus(JSON.parse(m.data)); });
  es.addEventListener("pins", function (m) { state.levels = JSON.parse(m.data); drawBoard(); refreshControls(); });
}

// ---- firmware update (docs/ota.md): `ota` op state, polled every 2 s while chunks arrive ----
function otaText(r) {
  if (!r || r.ok !== 1) return "firmware update: " + (r && r.err ? r.err : "no answer");
  var t = "firmware update: " + r.st + (r.st === "recv" ? " " + r.v + ", chunk " + r.n + " of " + r.m + " (" + Math.floor((100 * r.n) / (r.m || 1)) + "%)" : "");
  if (r.res) t += " · last: " + r.res.v + " " + (r.res.ok ? "ok" : "failed: " + r.res.err);
  return t;
}
var otaTimer = 0;
function otaState() {
  if (otaTimer) clearTimeout(otaTimer);
  otaTimer = 0;
  return fetch("/api/cmd", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ cmd: "ota", op: "state" }) })
    .then(function (r) { return r.json(); })
    .then(function (r) {
      var e = $("ota");
      e.className = r && r.ok === 1 && r.res && !r.res.ok ? "err" : r && r.ok === 1 ? "" : "muted";
      e.textContent = otaText(r);
      if (r && r.ok === 1 && r.st !== "idle") otaTimer = setTimeout(otaState, 2000);
    })
    .catch(function (e) { $("ota").textContent = "firmware update: " + e; });
}
$("btn-ota").onclick = otaState;

document.querySelectorAll("button[data-cmd]").forEach(function (b) {
  b.onclick = function () { send({ cmd: b.dataset.cmd }); };
});
connect();
