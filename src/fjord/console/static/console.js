// The console's only script: live cluster states and the live tail, over server-sent events.
// Everything received is written with textContent, never as HTML.
"use strict";

function stateBadge(state) {
  const span = document.createElement("span");
  span.className = "state state-" + state.toLowerCase();
  span.textContent = state;
  return span;
}

function watchClusters() {
  const host = document.querySelector("[data-events]");
  if (!host) return;
  const source = new EventSource(host.dataset.events);
  source.addEventListener("cluster", (event) => {
    const change = JSON.parse(event.data);
    document.querySelectorAll('[data-cluster="' + CSS.escape(change.id) + '"]').forEach((el) => {
      const target = el.querySelector(".cluster-state") || el;
      target.replaceChildren(stateBadge(change.state));
    });
  });
  window.addEventListener("beforeunload", () => source.close());
}

function cell(text, pre) {
  const td = document.createElement("td");
  if (pre) {
    const p = document.createElement("pre");
    p.textContent = text === null ? "null" : text;
    td.appendChild(p);
  } else {
    td.textContent = text;
  }
  return td;
}

function liveTail() {
  const button = document.getElementById("tail-toggle");
  if (!button) return;
  let source = null;
  button.addEventListener("click", () => {
    if (source) {
      source.close();
      source = null;
      button.textContent = "Live tail";
      return;
    }
    const form = document.getElementById("search");
    const params = new URLSearchParams(new FormData(form));
    source = new EventSource(button.dataset.tail + "?" + params.toString());
    button.textContent = "Stop tail";
    const body = document.querySelector("#messages tbody");
    source.addEventListener("record", (event) => {
      const m = JSON.parse(event.data);
      const empty = body.querySelector("tr.empty");
      if (empty) empty.remove();
      const tr = document.createElement("tr");
      tr.className = "record live";
      const headers = document.createElement("td");
      headers.className = "headers";
      for (const [k, v] of m.headers) {
        const div = document.createElement("div");
        const b = document.createElement("b");
        b.textContent = k;
        div.appendChild(b);
        div.appendChild(document.createTextNode(": " + (v === null ? "null" : v)));
        headers.appendChild(div);
      }
      const key = cell(m.key, true); key.className = "key";
      const value = cell(m.value, true); value.className = "value";
      tr.append(cell(String(m.partition)), cell(String(m.offset)), cell(m.time), key, headers, value);
      body.prepend(tr);
    });
  });
}

function human(n) {
  const units = ["", "k", "M", "G", "T"];
  let i = 0;
  while (Math.abs(n) >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return (i === 0 ? n.toFixed(n < 10 ? 1 : 0) : n.toFixed(1)) + units[i];
}

// Throughput charts: the server gives counter totals, the page keeps the last 60 samples.
function liveCharts() {
  const host = document.getElementById("charts");
  if (!host) return;
  const svgNS = "http://www.w3.org/2000/svg";
  const series = {};
  let last = null;
  async function sample() {
    let now;
    try {
      const response = await fetch(host.dataset.metrics, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      now = await response.json();
    } catch (err) {
      return;
    }
    host.querySelectorAll("svg[data-chart]").forEach((svg) => {
      const key = svg.dataset.chart;
      const gauge = svg.dataset.gauge === "1";
      let value = null;
      if (gauge) value = now[key];
      else if (last && now.t > last.t) value = Math.max(0, (now[key] - last[key]) / (now.t - last.t));
      if (value === null || value === undefined) return;
      const points = (series[key] = (series[key] || []).concat([value]).slice(-60));
      const max = Math.max(1, ...points);
      const line = svg.querySelector("polyline") || svg.appendChild(document.createElementNS(svgNS, "polyline"));
      line.setAttribute("points", points.map((v, i) => (i * 300 / 59).toFixed(1) + "," + (58 - v / max * 56).toFixed(1)).join(" "));
      const label = host.querySelector('[data-value="' + key + '"]');
      if (label) label.textContent = human(value) + (key.indexOf("bytes") >= 0 ? "B" : "");
    });
    last = now;
  }
  sample();
  setInterval(sample, 2000);
}

// Long work (a restore) refreshes its own page until it is done.
function autoRefresh() {
  const host = document.querySelector("[data-autorefresh]");
  if (host) setTimeout(() => window.location.reload(), Number(host.dataset.autorefresh) * 1000);
}

document.addEventListener("DOMContentLoaded", () => { watchClusters(); liveTail(); liveCharts(); autoRefresh(); });
