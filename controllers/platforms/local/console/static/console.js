// The Ripple console's live parts. No build step, no framework: plain JS on the operations
// API (the JSON the CLI reads): edge figures, redrive and purge, trace search.
"use strict";

const API = "/apis/ripple.dev/v1";
const POLL_MS = 1500;

function text(tag, content, cls) {
  const el = document.createElement(tag);
  if (content !== undefined && content !== null) el.textContent = String(content);
  if (cls) el.className = cls;
  return el;
}

async function api(method, path, body) {
  const init = { method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  let answer = null;
  try { answer = await response.json(); } catch (e) { answer = null; }
  if (!response.ok) {
    const message = answer && answer.message ? answer.message : response.status + " " + response.statusText;
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return answer;
}

// Topology: the figures of every delivery edge.
function figures(item) {
  const rate = item.rate === null || item.rate === undefined ? "–" : item.rate.toFixed(1);
  const errors = item.errorRate === null || item.errorRate === undefined ? "–" : Math.round(item.errorRate * 100) + "%";
  const p99 = item.p99 === null || item.p99 === undefined ? "–" : (item.p99 * 1000).toFixed(item.p99 < 0.01 ? 1 : 0) + "ms";
  const dead = item.deadLetters > 0 ? " · dead " + item.deadLetters : "";
  return rate + "/s · err " + errors + " · p99 " + p99 + " · backlog " + item.backlog + dead;
}

async function pollEdges() {
  const labels = document.querySelectorAll("text.stats[data-stats]");
  if (!labels.length) return;
  // Only the edges this page shows, one request per namespace.
  const wanted = new Map();
  for (const label of labels) {
    const [ns, target] = label.dataset.stats.split("/");
    if (!wanted.has(ns)) wanted.set(ns, new Set());
    wanted.get(ns).add(target);
  }
  try {
    const byTarget = new Map();
    for (const [ns, targets] of wanted) {
      const answer = await api("GET", API + "/namespaces/" + encodeURIComponent(ns) +
                               "/edgestats?targets=" + encodeURIComponent([...targets].join(",")));
      for (const item of answer.items) byTarget.set(item.namespace + "/" + item.target, item);
    }
    for (const label of labels) {
      const item = byTarget.get(label.dataset.stats);
      if (!item) continue;
      label.textContent = figures(item);
      const failing = (item.errorRate || 0) > 0 || item.deadLetters > 0;
      label.classList.toggle("failing", failing);
      label.dataset.deadLetters = item.deadLetters;
    }
    const updated = document.getElementById("updated");
    if (updated) updated.textContent = "Updated " + new Date().toLocaleTimeString() + ".";
  } catch (e) {
    const updated = document.getElementById("updated");
    if (updated) updated.textContent = "Figures unavailable: " + e.message;
  }
}

// Dead letters: redrive or purge one, or all that the page shows.
function say(message) {
  const status = document.getElementById("status");
  if (status) status.textContent = message;
}

async function act(action, button, ids) {
  const ns = button.dataset.namespace || "default";
  const body = { target: button.dataset.target || undefined };
  if (ids) body.ids = ids; else body.all = true;
  if (action === "purge" && !confirm(ids ? "Purge this dead letter? It is deleted for good." :
                                     "Purge every dead letter shown? They are deleted for good.")) return;
  button.disabled = true;
  try {
    const answer = await api("POST", API + "/namespaces/" + encodeURIComponent(ns) + "/deadletters/" + action, body);
    if (action === "redrive") {
      for (const moved of answer.redriven) removeRow(moved.id);
      say("Redriven: " + answer.redriven.length + (answer.missing.length ? "; no longer in the store: " + answer.missing.join(", ") : "") + ".");
    } else {
      if (ids) ids.forEach(removeRow); else document.querySelectorAll("tr.dead-letter").forEach(r => r.remove());
      say("Purged: " + answer.purged + ".");
    }
  } catch (e) {
    say("Failed: " + e.message);
  } finally {
    button.disabled = false;
  }
}

function removeRow(id) {
  document.querySelectorAll("tr.dead-letter").forEach(row => { if (row.dataset.id === id) row.remove(); });
}

// A dead letter's whole event, with its knativeerror* attributes, when its row is opened:
// the page carries 100 rows' names and figures, not 100 events.
async function showEvent(details) {
  const pre = details.querySelector("pre.event");
  if (!details.open || !pre || pre.dataset.loaded) return;
  const ns = details.dataset.namespace || "default";
  pre.textContent = "Loading…";
  try {
    const answer = await api("GET", API + "/namespaces/" + encodeURIComponent(ns) + "/deadletters/" +
                             encodeURIComponent(details.dataset.id) + "?target=" +
                             encodeURIComponent(details.dataset.target));
    pre.textContent = JSON.stringify(answer.items[0].event, null, 2);
    pre.dataset.loaded = "1";
  } catch (e) {
    pre.textContent = "Not available: " + e.message;
  }
}

function wireDeadLetters() {
  // "toggle" does not bubble: listen in the capture phase.
  document.addEventListener("toggle", (event) => {
    if (event.target.matches && event.target.matches("tr.dead-letter details")) showEvent(event.target);
  }, true);
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    if (button.classList.contains("redrive")) act("redrive", button, [button.dataset.id]);
    else if (button.classList.contains("purge")) act("purge", button, [button.dataset.id]);
    else if (button.id === "redrive-all") act("redrive", button, null);
    else if (button.id === "purge-all") act("purge", button, null);
  });
}

// Trace search: the trace document of GET /apis/ripple.dev/v1/traces, as a timeline.
function hopLine(hop) {
  const when = hop.at ? new Date(hop.at * 1000).toISOString().slice(11, 23) : "";
  if (hop.hop === "accepted") {
    let line = when + " accepted by " + (hop.log || "?");
    if (hop.matched) line += "; matched " + (hop.matched.join(", ") || "nothing");
    if (hop.not_matched && hop.not_matched.length) line += "; did not match " + hop.not_matched.join(", ");
    return line;
  }
  let line = when + " " + (hop.target || "") + " " + (hop.phase || "") + " attempt " + (hop.attempt || "?") +
    " → " + (hop.status === null || hop.status === undefined ? "no answer" : hop.status);
  if (hop.latency !== undefined && hop.latency !== null) line += " in " + (hop.latency * 1000).toFixed(1) + "ms";
  if (hop.outcome) line += ", " + hop.outcome;
  if (hop.delay) line += ", retry in " + hop.delay + "s";
  if (hop.error) line += " (" + hop.error + ")";
  if (hop.flow) line += " [" + hop.flow.kind + " " + hop.flow.name + " step " + hop.flow.step + "]";
  if (hop.reply) line += "; replied " + hop.reply.id;
  return line;
}

function renderTrace(doc) {
  const box = text("section", null, "trace-event");
  box.appendChild(text("h2", doc.id + " (" + (doc.type || "?") + " from " + doc.source + "): " + doc.outcome));
  const list = text("ol", null, "hops");
  for (const hop of doc.hops) list.appendChild(text("li", hopLine(hop)));
  box.appendChild(list);
  for (const reply of doc.replies || []) {
    const nested = text("div", null, "reply");
    nested.appendChild(renderTrace(reply));
    box.appendChild(nested);
  }
  return box;
}

async function searchTrace(id, source) {
  const out = document.getElementById("trace");
  out.replaceChildren();
  if (!id) return;
  say("Tracing " + id + "…");
  let path = API + "/traces?id=" + encodeURIComponent(id);
  if (source) path += "&source=" + encodeURIComponent(source);
  try {
    out.appendChild(renderTrace(await api("GET", path)));
    say("");
  } catch (e) {
    // Without the trace API, the resources' route answers that "traces" is no resource.
    const missing = e.status === 404 && /requested resource "traces"|no API at/.test(e.message);
    say(missing ? "This Ripple has no trace API (ripple event trace)." : e.message);
  }
}

function wireTrace() {
  const form = document.getElementById("trace-form");
  if (!form) return;
  const id = document.getElementById("trace-id"), source = document.getElementById("trace-source");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const url = new URL(location.href);
    url.searchParams.set("id", id.value);
    if (source.value) url.searchParams.set("source", source.value); else url.searchParams.delete("source");
    history.replaceState(null, "", url);
    searchTrace(id.value, source.value);
  });
  if (id.value) searchTrace(id.value, source.value);
}

document.addEventListener("DOMContentLoaded", () => {
  if (document.getElementById("topology")) {
    // The next poll is due POLL_MS after the last answer: a slow server is never asked twice at once.
    const loop = async () => { await pollEdges(); setTimeout(loop, POLL_MS); };
    loop();
  }
  wireDeadLetters();
  wireTrace();
});
