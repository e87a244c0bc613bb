// The topology view: nodes as lanes of pods (HTML, readable at hundreds of pods) and the
// workload graph (cytoscape, vendored from npm): Deployment -> ReplicaSet -> Pod,
// Service -> Pod, Ingress -> Service.
import cytoscape from "./vendor/cytoscape.esm.min.mjs";
import { h, $ } from "./dom.js";

let cy = null;
let graphKey = "";

function podChip(p, onPick) {
  const cls = ["pod", p.phase, p.ready ? "ready" : ""].join(" ");
  return h("span", { class: cls, title: `${p.namespace}/${p.name}: ${p.phase}${p.ready ? ", ready" : ""}, restarts ${p.restarts}`,
    dataset: { pod: p.name, namespace: p.namespace, phase: p.phase, ready: String(p.ready) },
    onclick: () => onPick("Pod", p.namespace, p.name) },
    p.name, p.restarts ? h("span", { class: "restarts" }, ` ↻${p.restarts}`) : null);
}

export function renderLanes(topo, onPick) {
  const lanes = topo.lanes.map((lane) => h("div", { class: "lane", dataset: { node: lane.name || "(unscheduled)" } },
    h("div", { class: "node" + (lane.ready === false ? " notready" : "") },
      lane.name || "unscheduled",
      lane.ready === false ? " (NotReady)" : "", lane.unschedulable ? " (cordoned)" : "",
      h("div", { class: "muted" }, `${lane.pods.length} pods`)),
    h("div", { class: "pods" }, lane.pods.map((p) => podChip(p, onPick)))));
  $("#lanes").replaceChildren(...lanes);
  const scope = Object.entries(topo.scope || {}).filter(([, ns]) => ns).map(([k, ns]) => `${k} in ${ns}`);
  $("#scope").textContent = (scope.length ? `Namespace-scoped: ${scope.join(", ")}. ` : "") +
    (topo.forbidden && topo.forbidden.length ? `Not allowed to list: ${topo.forbidden.join(", ")}.` : "");
}

function elements(topo) {
  const els = [];
  const pods = new Map();
  for (const lane of topo.lanes) for (const p of lane.pods) pods.set(p.uid, p);
  const short = (name) => (name.length > 20 ? "…" + name.slice(-14) : name);
  const node = (id, label, kind, extra = {}) => els.push({ data: { id, label, short: short(label), kind, ...extra } });
  const edge = (s, t) => els.push({ data: { id: `${s}->${t}`, source: s, target: t } });
  const addPod = (uid) => {
    const p = pods.get(uid);
    if (p && !els.some((e) => e.data.id === uid)) node(uid, p.name, "Pod", { phase: p.phase, ready: p.ready, ns: p.namespace });
    return Boolean(p);
  };
  for (const w of topo.workloads) {
    node(w.uid, w.name, w.kind, { ns: w.namespace });
    for (const rs of w.replicasets || []) {
      node(rs.uid, rs.name, "ReplicaSet", { ns: rs.namespace }); edge(w.uid, rs.uid);
      for (const uid of rs.pods) if (addPod(uid)) edge(rs.uid, uid);
    }
    for (const uid of w.pods || []) if (addPod(uid)) edge(w.uid, uid);
  }
  for (const s of topo.services) {
    node(s.uid, s.name, "Service", { ns: s.namespace });
    for (const uid of s.pods) if (addPod(uid)) edge(s.uid, uid);
    for (const ing of s.ingresses) { const id = `ing:${s.namespace}/${ing}`; if (!els.some((e) => e.data.id === id)) node(id, ing, "Ingress", { ns: s.namespace }); edge(id, s.uid); }
  }
  return els;
}

const STYLE = [
  { selector: "node", style: { label: "data(short)", "font-size": 7, "text-valign": "bottom", width: 14, height: 14, "background-color": "#6c8ebf" } },
  { selector: 'node[kind = "Deployment"]', style: { shape: "round-rectangle", "background-color": "#1d3b66", width: 22, height: 22 } },
  { selector: 'node[kind = "ReplicaSet"]', style: { shape: "round-rectangle", "background-color": "#4a6fa5" } },
  { selector: 'node[kind = "Service"]', style: { shape: "diamond", "background-color": "#8e44ad", width: 20, height: 20 } },
  { selector: 'node[kind = "Ingress"]', style: { shape: "triangle", "background-color": "#d35400" } },
  { selector: 'node[kind = "Pod"]', style: { "background-color": "#c9a100" } },
  { selector: 'node[kind = "Pod"][?ready]', style: { "background-color": "#2e9e4f" } },
  { selector: 'node[phase = "Terminating"]', style: { "background-color": "#aaa" } },
  { selector: "edge", style: { width: 1, "line-color": "#b8c2cf", "target-arrow-shape": "triangle", "target-arrow-color": "#b8c2cf", "curve-style": "bezier", "arrow-scale": 0.6 } },
];

export function renderGraph(topo, onPick) {
  const els = elements(topo);
  const key = els.map((e) => e.data.id).sort().join(",");
  if (!cy) {
    cy = cytoscape({ container: $("#graph"), style: STYLE, wheelSensitivity: 0.2, maxZoom: 2.5 });
    cy.on("tap", "node", (ev) => {
      const d = ev.target.data();
      if (d.kind !== "Ingress") onPick(d.kind, d.ns, d.label);
    });
  }
  if (key === graphKey) {                 // same shape: update the colours only
    for (const e of els) cy.getElementById(e.data.id).data(e.data);
    return;
  }
  graphKey = key;
  cy.elements().remove();
  cy.add(els);
  // layers: Deployments, ReplicaSets, Pods, Services, Ingresses (in the order elements() made them)
  const LAYER = { Deployment: 0, ReplicaSet: 1, Pod: 2, Service: 3, Ingress: 4 };
  const counts = [0, 0, 0, 0, 0];
  const positions = {};
  for (const e of els) {
    if (e.data.source) continue;
    const layer = LAYER[e.data.kind] ?? 2;
    positions[e.data.id] = { x: counts[layer]++ * (layer === 2 ? 70 : 110), y: layer * 90 };
  }
  const widest = Math.max(...counts.map((c, i) => c * (i === 2 ? 70 : 110)));
  for (const [id, pos] of Object.entries(positions)) {       // centre each layer
    const layer = pos.y / 90;
    pos.x += (widest - counts[layer] * (layer === 2 ? 70 : 110)) / 2;
  }
  cy.layout({ name: "preset", positions, padding: 20, animate: false }).run();
  if (cy.zoom() > 1.6) { cy.zoom(1.6); cy.center(); }   // a few objects: keep labels readable
}
