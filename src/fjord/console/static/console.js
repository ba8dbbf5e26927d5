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

document.addEventListener("DOMContentLoaded", () => { watchClusters(); liveTail(); });
