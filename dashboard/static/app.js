// The dashboard page: login, tabs, and one Server-Sent Events stream that keeps the
// topology and the timeline live (fed by the server's watches; no polling).
import { h, $, getJSON } from "./dom.js";
import { renderLanes, renderGraph } from "./topology.js";
import { addEntries, currentFilter, showDetail, showPath } from "./timeline.js";

let source = null;
let entries = [];

const pick = (kind, ns, name) => showDetail(kind, ns, name);
const path = (entry) => { selectTab("path"); showPath(entry, pick); };

function selectTab(name) {
  for (const b of document.querySelectorAll("#tabs button")) b.classList.toggle("active", b.dataset.tab === name);
  for (const s of document.querySelectorAll(".tab")) s.hidden = s.id !== name;
}

function renderTopology(topo) {
  renderLanes(topo, pick);
  renderGraph(topo, pick);
}

function connect() {
  if (source) source.close();
  const params = new URLSearchParams(currentFilter());
  source = new EventSource(`/api/stream?${params}`);
  source.addEventListener("open", () => $("#live").classList.add("on"));
  source.addEventListener("error", () => $("#live").classList.remove("on"));   // EventSource retries by itself
  source.addEventListener("snapshot", (ev) => {
    const data = JSON.parse(ev.data);
    entries = data.timeline;
    addEntries(entries, pick, path, { reset: true });
    renderTopology(data.topology);
  });
  source.addEventListener("timeline", (ev) => {
    const e = JSON.parse(ev.data);
    entries.push(e);
    addEntries([e], pick, path);
  });
  source.addEventListener("topology", (ev) => renderTopology(JSON.parse(ev.data)));
}

async function start() {
  try {
    const me = await getJSON("/api/whoami");
    $("#who").textContent = `${me.user} (${me.namespace})`;
    $("#login").hidden = true;
    $("#main").hidden = $("#tabs").hidden = $("#logout").hidden = false;
    document.body.dataset.user = me.user;
    connect();
  } catch (err) {
    if (err.status !== 401) throw err;
    $("#login").hidden = false;
    $("#main").hidden = $("#tabs").hidden = $("#logout").hidden = true;
  }
}

$("#login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const r = await fetch("/login", { method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json" }, body: JSON.stringify(Object.fromEntries(new FormData(ev.target))) });
  const body = await r.json();
  if (!r.ok) { $("#login-error").textContent = body.error; return; }
  ev.target.reset();
  start();
});
$("#logout").addEventListener("click", async () => {
  if (source) source.close();
  await fetch("/logout", { method: "POST", credentials: "same-origin" });
  start();
});
for (const b of document.querySelectorAll("#tabs button")) b.addEventListener("click", () => selectTab(b.dataset.tab));
let refilter = null;
$("#filter").addEventListener("input", () => {   // the server filters what it sends next
  clearTimeout(refilter);
  refilter = setTimeout(connect, 300);
});
$("#detail-close").addEventListener("click", () => { $("#detail").hidden = true; });
start();
