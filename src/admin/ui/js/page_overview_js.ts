/**
 * /js/page_overview.js: totals, the queued-messages and message-rates charts, node facts, alarms
 * and listeners.
 */
export const PAGE_OVERVIEW_JS = String.raw`// Overview page.
import { clear, fmtBytes, fmtDuration, fmtNum, fmtRate, h, kvTable, section } from "./dom.js";
import { api } from "./api.js";
import { createMessageCharts, RATE_SERIES } from "./chart.js";
import { createTable } from "./table.js";

const RANGES = [
  { age: 60, label: "Last minute" },
  { age: 600, label: "Last ten minutes" },
  { age: 3600, label: "Last hour" },
];

function tile(id, label) {
  const value = h("span", { class: "tile-value", id }, "-");
  return {
    el: h("div", { class: "tile" }, value, h("span", { class: "tile-label" }, label)),
    value,
  };
}

export function overviewPage(ctx) {
  const tiles = {
    connections: tile("total-connections", "Connections"),
    channels: tile("total-channels", "Channels"),
    exchanges: tile("total-exchanges", "Exchanges"),
    queues: tile("total-queues", "Queues"),
    consumers: tile("total-consumers", "Consumers"),
    messages: tile("total-messages", "Messages"),
    messages_ready: tile("total-messages-ready", "Ready"),
    messages_unacknowledged: tile("total-messages-unacked", "Unacked"),
  };
  const range = h(
    "select",
    { id: "chart-range", "aria-label": "Chart time range" },
    RANGES.map((r) => h("option", { value: String(r.age) }, r.label)),
  );
  range.value = String(ctx.range().age);
  range.addEventListener("change", () => ctx.setRange(Number(range.value)));

  const charts = createMessageCharts("chart", RATE_SERIES);
  const nodeBox = h("div", { id: "overview-node" });
  const alarms = h("div", { id: "overview-alarms", class: "alarms" }, "Loading...");
  const listeners = createTable({
    id: "overview-listeners",
    label: "listeners",
    empty: "No listeners reported.",
    columns: [
      { key: "protocol", label: "Protocol", value: (r) => r.protocol },
      { key: "ip", label: "Bound to", value: (r) => r.ip_address || r.ip || "" },
      { key: "port", label: "Port", num: true, value: (r) => r.port },
    ],
  });

  const el = h(
    "div",
    { class: "page page-overview" },
    h("h1", null, "Overview"),
    section(
      "Totals",
      "overview-totals-section",
      h("div", { class: "tiles", id: "overview-totals" }, Object.values(tiles).map((t) => t.el)),
    ),
    section(
      "Charts",
      "overview-charts",
      h("div", { class: "chart-tools" }, h("label", { for: "chart-range" }, "Show"), range),
      h("div", { class: "charts" }, charts.queued.el, charts.rates.el),
    ),
    h(
      "div",
      { class: "columns" },
      section("Node", "overview-node-section", nodeBox),
      section("Alarms", "overview-alarms-section", alarms),
    ),
    section("Listeners", "overview-listeners-section", listeners.el),
  );

  function renderCharts(ov) {
    const { age } = ctx.range();
    charts.update(
      ov.message_stats || {},
      ov.queue_totals || {},
      { rates: ctx.rateHistory, levels: ctx.levelHistory },
      age * 1000,
    );
  }

  function renderAlarms(node, ov) {
    const list = [];
    if (node) {
      if (node.mem_alarm) {
        list.push(
          "Memory alarm: " + fmtBytes(node.mem_used) + " used, limit " + fmtBytes(node.mem_limit),
        );
      }
      if (node.disk_free_alarm) {
        list.push(
          "Disk alarm: " + fmtBytes(node.disk_free) + " free, limit " +
            fmtBytes(node.disk_free_limit),
        );
      }
    }
    if (Array.isArray(ov.alarms)) {
      for (const a of ov.alarms) list.push(typeof a === "string" ? a : JSON.stringify(a));
    }
    const known = !!node || Array.isArray(ov.alarms);
    if (list.length === 0) {
      clear(
        alarms,
        known
          ? h("span", { class: "badge ok" }, "No alarms")
          : h("span", { class: "badge muted" }, "Not reported"),
      );
    } else {
      clear(alarms, h("ul", null, list.map((a) => h("li", { class: "badge bad" }, a))));
    }
  }

  function renderNode(node, ov) {
    const rows = [
      ["Node", (node && node.name) || ov.node || ""],
      ["Cluster", ov.cluster_name || ""],
      ["Product", [ov.product_name, ov.product_version].filter(Boolean).join(" ")],
      ov.rabbitmq_version ? ["RabbitMQ compatibility", ov.rabbitmq_version] : null,
      ov.management_version ? ["Management API", ov.management_version] : null,
      ov.erlang_version ? ["Runtime", ov.erlang_version] : null,
    ];
    // A row for each figure the node reports, formatted by fmt, followed by its limit (if any).
    const figure = (label, value, fmt, limit) => {
      if (typeof value === "number") rows.push([label, fmt(value) + limit]);
    };
    const bytes = (v, pre, post) => typeof v === "number" ? pre + fmtBytes(v) + post : "";
    const count = (v) => v ? " of " + fmtNum(v) : "";
    if (node) {
      figure("Uptime", node.uptime, fmtDuration, "");
      figure("Memory", node.mem_used, fmtBytes, bytes(node.mem_limit, " of ", " high watermark"));
      figure("Disk free", node.disk_free, fmtBytes, bytes(node.disk_free_limit, " (limit ", ")"));
      figure("File descriptors", node.fd_used, fmtNum, count(node.fd_total));
      figure("Sockets", node.sockets_used, fmtNum, count(node.sockets_total));
      figure("Processors", node.processors, fmtNum, "");
    }
    clear(nodeBox, kvTable("overview-node-table", rows));
  }

  return {
    title: "Overview",
    el,
    async refresh() {
      const ov = ctx.overview || {};
      const obj = ov.object_totals || {};
      const qt = ov.queue_totals || {};
      for (const k of ["connections", "channels", "exchanges", "queues", "consumers"]) {
        tiles[k].value.textContent = fmtNum(obj[k] ?? "-");
      }
      for (const k of ["messages", "messages_ready", "messages_unacknowledged"]) {
        tiles[k].value.textContent = fmtNum(qt[k] ?? (ov.object_totals ? 0 : "-"));
        const rate = qt[k + "_details"] && qt[k + "_details"].rate;
        tiles[k].value.title = typeof rate === "number" ? fmtRate(rate) : "";
      }
      renderCharts(ov);
      const listenerRows = (ov.listeners || []).map((l) => ({ ...l }));
      for (const c of ov.contexts || []) {
        const port = Number(c.port);
        if (listenerRows.some((l) => Number(l.port) === port)) continue;
        listenerRows.push({ protocol: c.protocol || "http", ip_address: c.ip || "", port });
      }
      listeners.update(listenerRows);
      const nodes = await api("GET", "/nodes").catch(() => null);
      const node = Array.isArray(nodes) ? nodes[0] : null;
      renderNode(node, ov);
      renderAlarms(node, ov);
    },
  };
}
`;
