// The timeline (entries from watches and Events, filtered like the server filters), the
// object detail panel and the path of one change.
import { h, $, getJSON } from "./dom.js";

const MAX_ROWS = 2000;

export function currentFilter() {
  const f = new FormData($("#filter"));
  return Object.fromEntries([...f.entries()].filter(([, v]) => v));
}

export function matches(f, e) {
  return (!f.namespace || e.namespace === f.namespace)
    && (!f.kind || e.kind.toLowerCase() === f.kind.toLowerCase())
    && (!f.name || e.name.toLowerCase().includes(f.name.toLowerCase()))
    && (!f.component || (e.component || "").toLowerCase().includes(f.component.toLowerCase()));
}

function row(e, onPick, onPath) {
  const time = (e.time || "").replace("T", " ").replace("Z", "");
  return h("tr", { class: `${e.source} ${e.type}`, dataset: { seq: e.seq, reason: e.reason, kind: e.kind, source: e.source } },
    h("td", {}, e.seq), h("td", {}, time), h("td", {}, e.component),
    h("td", {}, e.kind),
    h("td", {}, h("a", { onclick: () => onPick(e.kind, e.namespace, e.name) }, (e.namespace ? e.namespace + "/" : "") + e.name)),
    h("td", {}, e.source === "event" ? `${e.type} ${e.reason}` : `${e.type}: ${e.reason}`),
    h("td", {}, e.message),
    h("td", {}, e.source === "watch"
      ? h("a", { class: "path", onclick: () => onPath(e) }, "path") : ""));
}

export function addEntries(entries, onPick, onPath, { reset = false } = {}) {
  const body = $("#entries");
  if (reset) body.replaceChildren();
  const f = currentFilter();
  const rows = entries.filter((e) => matches(f, e)).map((e) => row(e, onPick, onPath));
  body.prepend(...rows.reverse());      // newest first
  while (body.children.length > MAX_ROWS) body.lastChild.remove();
}

export async function showPath(entry, onPick) {
  const { steps } = await getJSON(`/api/changepath/${entry.seq}`);
  $("#path-title").textContent = `After ${entry.type} ${entry.kind} ${entry.namespace ? entry.namespace + "/" : ""}${entry.name} (resourceVersion ${entry.rv})`;
  $("#steps").replaceChildren(...steps.map((s) => h("li", { dataset: { actor: s.actor, kind: s.kind } },
    h("span", { class: "actor" }, s.actor),
    `${s.source === "event" ? "Event " + s.what : s.what} — ${s.kind} `,
    h("a", { onclick: () => onPick(s.kind, s.namespace, s.name) }, s.name),
    s.message ? h("span", { class: "muted" }, ` — ${s.message}`) : "",
    h("span", { class: "muted" }, `  rv ${s.rv}${s.component && s.component !== s.actor ? ", recorded as " + s.component : ""}`))));
}

export async function showDetail(kind, namespace, name) {
  const panel = $("#detail");
  panel.hidden = false;
  $("#detail-title").textContent = `${kind} ${namespace ? namespace + "/" : ""}${name}`;
  let d;
  try {
    d = await getJSON(`/api/object/${encodeURIComponent(kind)}/${encodeURIComponent(namespace || "_")}/${encodeURIComponent(name)}`);
  } catch (err) {
    $("#detail-yaml").textContent = err.message;
    for (const id of ["#detail-owners", "#detail-conditions", "#detail-events", "#detail-managers"]) $(id).replaceChildren();
    return;
  }
  $("#detail-owners").replaceChildren(...(d.owners.length ? d.owners.map((o) => h("li", {}, `${o.kind} ${o.name}`, o.visible ? "" : " (not visible to you)"))
    : [h("li", { class: "muted" }, "no owner")]));
  const table = (cols, rows) => [h("tr", {}, cols.map((c) => h("th", {}, c))), ...rows.map((r) => h("tr", {}, cols.map((c) => h("td", {}, r[c] ?? ""))))];
  $("#detail-conditions").replaceChildren(...table(["type", "status", "reason", "lastTransitionTime"], d.conditions));
  $("#detail-events").replaceChildren(...table(["time", "component", "type", "reason", "message", "count"], d.events));
  $("#detail-managers").replaceChildren(...table(["manager", "operation", "subresource", "time"], d.managers));
  $("#detail-yaml").textContent = d.yaml;
}
