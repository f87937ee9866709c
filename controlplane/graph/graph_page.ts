// The service-graph page: static markup, one script and one stylesheet, no
// framework. The script builds every element with createElement/createElementNS
// and sets names only through textContent, never innerHTML, so a workload named
// `<script>` is text; the CSP (dashboard_guard.ts) forbids inline code besides.

/** The page. Nothing in it comes from the mesh. */
export const GRAPH_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Ambit service graph</title>
<link rel="stylesheet" href="/graph.css">
<script src="/graph.js" defer></script>
</head>
<body>
<header><h1>Ambit service graph</h1><span id="status">loading…</span></header>
<main>
<svg id="graph" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="service graph"></svg>
<aside id="details"><p class="hint">Click a workload or service to see its config and recent access log.</p></aside>
</main>
</body>
</html>
`;

/** The stylesheet. */
export const GRAPH_CSS = `
body { font: 13px system-ui, sans-serif; margin: 0; color: #1b1f24; background: #fafbfc; }
header { display: flex; gap: 1em; align-items: baseline; padding: 8px 16px; border-bottom: 1px solid #d0d7de; }
h1 { font-size: 16px; margin: 0; }
#status { color: #57606a; }
main { display: flex; height: calc(100vh - 42px); }
#graph { flex: 1; }
aside { width: 420px; overflow: auto; border-left: 1px solid #d0d7de; padding: 8px 12px; background: #fff; }
aside pre { font-size: 11px; background: #f6f8fa; padding: 6px; overflow: auto; max-height: 45vh; }
.node { cursor: pointer; }
.node rect, .node ellipse { stroke: #57606a; stroke-width: 1.2; }
.node.workload rect { fill: #ddf4ff; }
.node.service ellipse { fill: #fff8c5; }
.node.identity rect { fill: #f6f8fa; stroke-dasharray: 3 2; }
.node.selected rect, .node.selected ellipse { stroke: #0969da; stroke-width: 3; }
.node.denied rect { stroke: #cf222e; stroke-width: 2.5; }
.edge path { fill: none; stroke: #8c959f; stroke-width: 1.6; }
.edge.error path { stroke: #cf222e; }
.edge.tcp path { stroke-dasharray: 5 3; }
.edge text, .node text { font-size: 11px; fill: #1b1f24; }
.edge text.muted { fill: #57606a; }
table { border-collapse: collapse; font-size: 11px; width: 100%; }
td, th { border-bottom: 1px solid #eaeef2; padding: 2px 4px; text-align: left; vertical-align: top; }
.hint { color: #57606a; }
`;

/** The script: polls /api/graph every 2 s and draws it; a click loads the node's details. */
export const GRAPH_JS = String.raw`"use strict";
(() => {
  const SVG = "http://www.w3.org/2000/svg";
  const svg = document.getElementById("graph");
  const statusLine = document.getElementById("status");
  const details = document.getElementById("details");
  let selected = null;

  const el = (ns, tag, attrs = {}, text) => {
    const e = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = String(text);
    return e;
  };
  const rate = (n) => n >= 100 ? n.toFixed(0) : n >= 1 ? n.toFixed(1) : n.toFixed(2);
  const bytes = (n) => n >= 1048576 ? (n / 1048576).toFixed(1) + " MiB/s" : n >= 1024 ? (n / 1024).toFixed(1) + " KiB/s" : n.toFixed(0) + " B/s";
  const label = (n) => n.kind === "service" ? n.name + "." + n.namespace : n.kind === "identity" ? "sa/" + n.name + " (" + n.namespace + ")" : n.name + (n.version ? " (" + n.version + ")" : "");

  // Columns by the longest path from a caller; rows in name order.
  function layout(nodes, edges) {
    const rank = new Map(nodes.map((n) => [n.id, 0]));
    for (let i = 0; i < nodes.length; i++) {
      let moved = false;
      for (const e of edges) {
        const r = (rank.get(e.source) ?? 0) + 1;
        if (r > (rank.get(e.target) ?? 0) && r < nodes.length) { rank.set(e.target, r); moved = true; }
      }
      if (!moved) break;
    }
    const columns = new Map();
    for (const n of nodes) {
      const r = rank.get(n.id);
      if (!columns.has(r)) columns.set(r, []);
      columns.get(r).push(n);
    }
    const at = new Map();
    for (const [r, list] of columns) list.forEach((n, i) => at.set(n.id, { x: 110 + r * 420, y: 60 + i * 110 }));
    return at;
  }

  function edgeText(e) {
    const parts = e.protocol === "tcp"
      ? [bytes(e.bytesPerSecond), rate(e.connectionsPerSecond) + " conn/s"]
      : [rate(e.requestsPerSecond) + " rps", (e.errorRate * 100).toFixed(1) + "% err"].concat(e.p99Ms === undefined ? [] : ["p99 " + e.p99Ms.toFixed(1) + " ms"]);
    return parts.join(" · ");
  }
  function edgeNote(e) {
    const parts = [e.protocol.toUpperCase(), e.mtls === "mutual_tls" ? "mTLS" : e.mtls === "mixed" ? "partly mTLS" : "plaintext"];
    if (e.protocol !== "tcp") parts.push(bytes(e.bytesPerSecond));
    if (e.deniedPerSecond > 0) parts.push(rate(e.deniedPerSecond) + " denied/s");
    if (e.waypoint) parts.push("via waypoint " + e.waypoint);
    return parts.join(" · ");
  }

  function draw(graph) {
    const at = layout(graph.nodes, graph.edges);
    const width = Math.max(...[...at.values()].map((p) => p.x), 0) + 220;
    const height = Math.max(...[...at.values()].map((p) => p.y), 0) + 80;
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.replaceChildren();
    const defs = el(SVG, "defs");
    const marker = el(SVG, "marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
    marker.append(el(SVG, "path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#8c959f" }));
    defs.append(marker);
    svg.append(defs);
    graph.edges.forEach((e, i) => {
      const a = at.get(e.source), b = at.get(e.target);
      if (!a || !b) return;
      const g = el(SVG, "g", { class: "edge " + e.protocol + (e.errorRate > 0 ? " error" : ""), "data-edge": e.id, "data-source": e.source, "data-target": e.target, "data-rps": e.requestsPerSecond, "data-bps": e.bytesPerSecond });
      const x1 = a.x + 80, x2 = b.x - 80, bend = (i % 3 - 1) * 12;
      g.append(el(SVG, "path", { d: "M " + x1 + " " + a.y + " C " + (x1 + 60) + " " + (a.y + bend) + ", " + (x2 - 60) + " " + (b.y + bend) + ", " + x2 + " " + b.y, "marker-end": "url(#arrow)" }));
      const mx = (x1 + x2) / 2, my = (a.y + b.y) / 2 + bend;
      g.append(el(SVG, "text", { x: mx, y: my - 6, "text-anchor": "middle" }, edgeText(e)));
      g.append(el(SVG, "text", { x: mx, y: my + 8, "text-anchor": "middle", class: "muted" }, edgeNote(e)));
      g.append(el(SVG, "title", {}, e.source + " → " + e.target + "\n" + edgeText(e) + "\n" + edgeNote(e)));
      svg.append(g);
    });
    for (const n of graph.nodes) {
      const p = at.get(n.id);
      const g = el(SVG, "g", { class: "node " + n.kind + (n.deniedConnectionsPerSecond > 0 ? " denied" : "") + (n.id === selected ? " selected" : ""), "data-node": n.id, tabindex: 0 });
      g.append(n.kind === "service"
        ? el(SVG, "ellipse", { cx: p.x, cy: p.y, rx: 80, ry: 22 })
        : el(SVG, "rect", { x: p.x - 80, y: p.y - 20, width: 160, height: 40, rx: 6 }));
      g.append(el(SVG, "text", { x: p.x, y: p.y - 3, "text-anchor": "middle" }, label(n).slice(0, 28)));
      g.append(el(SVG, "text", { x: p.x, y: p.y + 12, "text-anchor": "middle", class: "muted" }, n.kind + (n.deniedConnectionsPerSecond > 0 ? " · " + rate(n.deniedConnectionsPerSecond) + " L4 denied/s" : "")));
      g.append(el(SVG, "title", {}, n.id));
      g.addEventListener("click", () => select(n));
      g.addEventListener("keydown", (ev) => { if (ev.key === "Enter") select(n); });
      svg.append(g);
    }
  }

  async function refresh() {
    try {
      const res = await fetch("/api/graph", { cache: "no-store" });
      const graph = await res.json();
      if (!res.ok) throw new Error(graph.error || res.status);
      draw(graph);
      statusLine.textContent = graph.nodes.length + " nodes, " + graph.edges.length + " edges · rates over " + graph.windowSeconds + " s from " + graph.source + (graph.error ? " · " + graph.error : "") + " · " + new Date(graph.updatedAt).toLocaleTimeString();
    } catch (err) {
      statusLine.textContent = "graph unavailable: " + err.message;
    }
  }

  async function select(n) {
    selected = n.id;
    for (const g of svg.querySelectorAll(".node")) g.classList.toggle("selected", g.getAttribute("data-node") === n.id);
    const path = n.kind === "service" ? "/api/services/" + encodeURIComponent(n.id.slice("service:".length))
      : n.kind === "workload" ? "/api/workloads/" + encodeURIComponent(n.namespace) + "/" + encodeURIComponent(n.name) : undefined;
    details.replaceChildren(el(null, "h2", {}, label(n)), el(null, "p", { class: "hint" }, n.id));
    if (!path) { details.append(el(null, "p", {}, "Known only by its identity: no workload in the mesh's config carries it.")); return; }
    const res = await fetch(path, { cache: "no-store" });
    const body = await res.json();
    if (!res.ok) { details.append(el(null, "p", {}, body.error || String(res.status))); return; }
    details.append(el(null, "h3", {}, "Config"), el(null, "pre", { id: "config" }, JSON.stringify(body.config, null, 2)));
    if (!body.accessLog) return;
    details.append(el(null, "h3", {}, "Recent access log"));
    for (const e of body.accessLog.errors || []) details.append(el(null, "p", { class: "hint" }, e));
    const table = el(null, "table", { id: "access-log" });
    const head = el(null, "tr");
    for (const h of ["time", "proxy", "record"]) head.append(el(null, "th", {}, h));
    table.append(head);
    for (const r of body.accessLog.records) {
      const row = el(null, "tr");
      row.append(el(null, "td", {}, r.time.slice(11, 23)), el(null, "td", {}, r.proxy),
        el(null, "td", {}, r.message + " " + Object.entries(r.fields).map(([k, v]) => k + "=" + (typeof v === "string" ? v : JSON.stringify(v))).join(" ")));
      table.append(row);
    }
    if (body.accessLog.records.length === 0) details.append(el(null, "p", { class: "hint" }, "no records yet"));
    details.append(table);
  }

  refresh();
  setInterval(refresh, 2000);
})();
`;
