/**
 * /js/chart.js: a small inline-SVG line chart (one polyline per series over a fixed time window)
 * and the conversions from RabbitMQ's `samples` (cumulative counts, newest first) to points.
 */
export const CHART_JS = String.raw`// Line charts in inline SVG.
import { clear, fmtClock, fmtNum, h, s } from "./dom.js";

const W = 640;
const H = 180;
const PAD = { left: 52, right: 12, top: 12, bottom: 24 };

/** A round axis maximum at or above v: 1, 2, 5, 10, 20, 50, ... */
function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function fmtAxis(v, unit) {
  const n = Math.abs(v) >= 1000 ? fmtNum(Math.round(v)) : String(Math.round(v * 100) / 100);
  return unit ? n + unit : n;
}

/**
 * createChart({ id, title, unit, series: [{ key, label, color }] }) returns
 * { el, update(points, windowMs) }
 * where points are [{ t, values: { key: number } }] in time order. The SVG carries data-points
 * (how many points were drawn) and data-max (the largest value) for tests and tools.
 */
export function createChart(opts) {
  const svg = s("svg", {
    viewBox: "0 0 " + W + " " + H,
    class: "chart-svg",
    role: "img",
    "aria-label": opts.title,
    preserveAspectRatio: "none",
  });
  const legend = h("ul", { class: "legend" });
  const el = h(
    "figure",
    { class: "chart", id: opts.id },
    h("figcaption", null, opts.title),
    h("div", { class: "chart-frame" }, svg),
    legend,
  );

  function update(points, windowMs) {
    points = (points || []).filter((p) => typeof p.t === "number");
    const end = points.length ? points[points.length - 1].t : Date.now();
    const span = Math.max(windowMs || 600000, 10000);
    const start = end - span;
    const shown = points.filter((p) => p.t >= start);
    let max = 0;
    for (const p of shown) {
      for (const ser of opts.series) {
        const v = p.values[ser.key];
        if (typeof v === "number" && v > max) max = v;
      }
    }
    const top = niceMax(max);
    const x = (t) => PAD.left + ((t - start) / span) * (W - PAD.left - PAD.right);
    const y = (v) => H - PAD.bottom - (v / top) * (H - PAD.top - PAD.bottom);

    const parts = [];
    for (const frac of [0, 0.5, 1]) {
      const yy = y(top * frac);
      parts.push(s("line", { x1: PAD.left, x2: W - PAD.right, y1: yy, y2: yy, class: "grid" }));
      parts.push(
        s(
          "text",
          { x: PAD.left - 6, y: yy + 4, class: "axis", "text-anchor": "end" },
          fmtAxis(top * frac, opts.unit),
        ),
      );
    }
    parts.push(
      s("text", { x: PAD.left, y: H - 6, class: "axis", "text-anchor": "start" }, fmtClock(start)),
    );
    parts.push(
      s("text", { x: W - PAD.right, y: H - 6, class: "axis", "text-anchor": "end" }, fmtClock(end)),
    );
    let drawn = 0;
    for (const ser of opts.series) {
      const pts = shown.filter((p) => typeof p.values[ser.key] === "number");
      if (pts.length === 0) continue;
      drawn += pts.length;
      const coords = pts.map((p) => x(p.t).toFixed(1) + "," + y(p.values[ser.key]).toFixed(1));
      parts.push(s("polyline", {
        points: coords.join(" "),
        class: "series",
        stroke: ser.color,
        dataset: { series: ser.key, max: String(Math.max(...pts.map((p) => p.values[ser.key]))) },
      }));
      const last = pts[pts.length - 1];
      parts.push(s("circle", {
        cx: x(last.t).toFixed(1),
        cy: y(last.values[ser.key]).toFixed(1),
        r: 2.5,
        fill: ser.color,
      }));
    }
    if (drawn === 0) {
      parts.push(
        s("text", { x: W / 2, y: H / 2, class: "axis", "text-anchor": "middle" }, "No data yet"),
      );
    }
    clear(svg, parts);
    svg.setAttribute("data-points", String(drawn === 0 ? 0 : shown.length));
    svg.setAttribute("data-max", String(max));

    const latest = shown.length ? shown[shown.length - 1].values : {};
    clear(
      legend,
      opts.series.map((ser) =>
        h(
          "li",
          { dataset: { series: ser.key } },
          swatch(ser.color),
          h("span", { class: "legend-label" }, ser.label),
          h(
            "span",
            { class: "legend-value" },
            typeof latest[ser.key] === "number" ? fmtAxis(latest[ser.key], opts.unit) : "-",
          ),
        )
      ),
    );
  }

  update([], 600000);
  return { el, update };
}

function swatch(color) {
  return s(
    "svg",
    { class: "swatch", viewBox: "0 0 10 10", "aria-hidden": "true" },
    s("rect", { width: 10, height: 10, rx: 2, fill: color }),
  );
}

function samplesOf(details) {
  const list = details && Array.isArray(details.samples) ? details.samples : [];
  return list.filter((x) => typeof x.sample === "number" && typeof x.timestamp === "number")
    .sort((a, b) => a.timestamp - b.timestamp);
}

/**
 * createMessageCharts(idPrefix, rateSeries) returns { queued, rates, update(...) }: the "Queued
 * messages" chart (id IDPREFIX-queued, LEVEL_SERIES) and the "Message rates" chart (id
 * IDPREFIX-rates, rateSeries). update(stats, levels, histories, windowMs) draws the samples of
 * stats (message_stats) and levels (the object with the message counts) where the server sent
 * some, else the points of histories.rates and histories.levels.
 */
export function createMessageCharts(idPrefix, rateSeries) {
  const queued = createChart({
    id: idPrefix + "-queued",
    title: "Queued messages",
    series: LEVEL_SERIES,
  });
  const rates = createChart({
    id: idPrefix + "-rates",
    title: "Message rates",
    unit: "/s",
    series: rateSeries,
  });
  return {
    queued,
    rates,
    update(stats, levels, histories, windowMs) {
      const rateKeys = RATE_SERIES.map((x) => x.key);
      const levelKeys = LEVEL_SERIES.map((x) => x.key);
      rates.update(
        hasSamples(stats, rateKeys)
          ? ratePointsFromSamples(stats, rateKeys)
          : histories.rates.points,
        windowMs,
      );
      queued.update(
        hasSamples(levels, levelKeys)
          ? levelPointsFromSamples(levels, levelKeys)
          : histories.levels.points,
        windowMs,
      );
    },
  };
}

/**
 * Whether stats carry RabbitMQ samples (at least two, so a rate can be drawn) for any of the keys.
 * obj is e.g. overview.message_stats and keys ["publish", ...] (their "_details" are read).
 */
export function hasSamples(obj, keys) {
  return !!obj && keys.some((k) => samplesOf(obj[k + "_details"]).length >= 2);
}

/** Points of per-second rates from cumulative-count samples (one point per sample interval). */
export function ratePointsFromSamples(obj, keys) {
  const byTime = new Map();
  for (const k of keys) {
    const list = samplesOf(obj && obj[k + "_details"]);
    for (let i = 1; i < list.length; i++) {
      const dt = (list[i].timestamp - list[i - 1].timestamp) / 1000;
      if (dt <= 0) continue;
      const rate = Math.max(0, (list[i].sample - list[i - 1].sample) / dt);
      const t = list[i].timestamp;
      if (!byTime.has(t)) byTime.set(t, { t, values: {} });
      byTime.get(t).values[k] = rate;
    }
  }
  return [...byTime.values()].sort((a, b) => a.t - b.t);
}

/** Points of levels (queue lengths) from samples: the sample values themselves. */
export function levelPointsFromSamples(obj, keys) {
  const byTime = new Map();
  for (const k of keys) {
    for (const x of samplesOf(obj && obj[k + "_details"])) {
      if (!byTime.has(x.timestamp)) byTime.set(x.timestamp, { t: x.timestamp, values: {} });
      byTime.get(x.timestamp).values[k] = x.sample;
    }
  }
  return [...byTime.values()].sort((a, b) => a.t - b.t);
}

/**
 * Client-side history for servers that send no samples: add() records one poll (rates from
 * *_details.rate, or from the change of the cumulative count since the previous poll).
 */
export function createHistory(maxAgeMs) {
  const points = [];
  let prev = null;
  return {
    points,
    addRates(t, obj, keys) {
      const values = {};
      for (const k of keys) {
        const d = obj && obj[k + "_details"];
        const count = obj && typeof obj[k] === "number" ? obj[k] : undefined;
        if (d && typeof d.rate === "number") values[k] = Math.max(0, d.rate);
        else if (count !== undefined && prev && typeof prev.counts[k] === "number" && t > prev.t) {
          values[k] = Math.max(0, (count - prev.counts[k]) / ((t - prev.t) / 1000));
        } else if (count !== undefined) values[k] = 0;
      }
      const counts = {};
      for (const k of keys) if (obj && typeof obj[k] === "number") counts[k] = obj[k];
      prev = { t, counts };
      push(t, values);
    },
    addLevels(t, obj, keys) {
      const values = {};
      for (const k of keys) if (obj && typeof obj[k] === "number") values[k] = obj[k];
      push(t, values);
    },
  };
  function push(t, values) {
    points.push({ t, values });
    while (points.length && points[0].t < t - maxAgeMs) points.shift();
  }
}

export const RATE_SERIES = [
  { key: "publish", label: "Publish", color: "#2f6fdb" },
  { key: "confirm", label: "Publisher confirm", color: "#8a5cd1" },
  { key: "deliver_get", label: "Deliver / get", color: "#1f9d6b" },
  { key: "ack", label: "Consumer ack", color: "#e08a1e" },
  { key: "redeliver", label: "Redelivered", color: "#d1453b" },
];

export const LEVEL_SERIES = [
  { key: "messages_ready", label: "Ready", color: "#e0b51e" },
  { key: "messages_unacknowledged", label: "Unacked", color: "#2f6fdb" },
  { key: "messages", label: "Total", color: "#6b7280" },
];
`;
