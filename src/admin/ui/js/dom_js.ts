/**
 * /js/dom.js: DOM building without innerHTML (every string becomes a text node or an attribute),
 * number/time formatting, and the flash message line.
 */
export const DOM_JS = String.raw`// DOM helpers: strings always become text, never markup.
const SVG_NS = "http://www.w3.org/2000/svg";

function setAttrs(el, attrs) {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "value" && "value" in el) el.value = String(v);
    else el.setAttribute(k === "className" ? "class" : k, v === true ? "" : String(v));
  }
}

function appendAll(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) appendAll(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** h("div", { class: "x", onclick: fn }, "text", child, [more]) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  appendAll(el, children);
  return el;
}

/** The same for SVG elements. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  appendAll(el, children);
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren();
  appendAll(el, children);
  return el;
}

export function $(selector, root) {
  return (root || document).querySelector(selector);
}

const intFormat = new Intl.NumberFormat("en-US");
const rateFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });

export function fmtNum(n) {
  if (n === undefined || n === null || n === "") return "";
  return typeof n === "number" ? intFormat.format(n) : String(n);
}

export function fmtRate(n) {
  if (typeof n !== "number") return "";
  return rateFormat.format(n) + "/s";
}

export function fmtBytes(n) {
  if (typeof n !== "number") return "";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return (i === 0 ? String(n) : n.toFixed(n < 10 ? 1 : 0)) + " " + units[i];
}

export function fmtDuration(ms) {
  if (typeof ms !== "number") return "";
  let sec = Math.floor(ms / 1000);
  const d = Math.floor(sec / 86400);
  sec -= d * 86400;
  const hr = Math.floor(sec / 3600);
  sec -= hr * 3600;
  const m = Math.floor(sec / 60);
  sec -= m * 60;
  if (d > 0) return d + "d " + hr + "h";
  if (hr > 0) return hr + "h " + m + "m";
  if (m > 0) return m + "m " + sec + "s";
  return sec + "s";
}

export function pad2(n) {
  return n < 10 ? "0" + n : String(n);
}

export function fmtClock(ms) {
  const d = new Date(ms);
  return pad2(d.getHours()) + ":" + pad2(d.getMinutes()) + ":" + pad2(d.getSeconds());
}

export function fmtDateTime(value) {
  if (value === undefined || value === null || value === "") return "";
  const d = new Date(value);
  if (isNaN(d.getTime())) return String(value);
  return d.getFullYear() + "-" + pad2(d.getMonth() + 1) + "-" + pad2(d.getDate()) + " " +
    fmtClock(d.getTime());
}

/** Any JSON value as short readable text (tables, arguments, headers). */
export function fmtValue(v) {
  if (v === undefined || v === null) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
}

/** The vhost as RabbitMQ's UI shows it and as the URL wants it. */
export function enc(s) {
  return encodeURIComponent(s);
}

/** Tags arrive as an array (3.9+) or a comma-separated string (older). */
export function tagList(tags) {
  if (Array.isArray(tags)) return tags.map(String).filter((t) => t !== "");
  if (typeof tags === "string") return tags.split(",").map((t) => t.trim()).filter((t) => t !== "");
  return [];
}

let flashTimer = 0;

/** A one-line message under the header: kind "ok" fades after a while, "error" stays. */
export function flash(message, kind) {
  const el = document.getElementById("flash");
  if (!el) return;
  clearTimeout(flashTimer);
  el.className = "flash " + (kind || "ok");
  clear(
    el,
    h("span", { class: "flash-text" }, message),
    h("button", {
      type: "button",
      class: "flash-close",
      "aria-label": "Dismiss",
      onclick: () => {
        el.hidden = true;
      },
    }, "\u00d7"),
  );
  el.hidden = false;
  if (kind !== "error") {
    flashTimer = setTimeout(() => {
      el.hidden = true;
    }, 6000);
  }
}

export function hideFlash() {
  const el = document.getElementById("flash");
  if (el) el.hidden = true;
}

/** A labelled form field: label wraps nothing, points at the control by id. */
export function field(label, control, hint) {
  return h(
    "div",
    { class: "field" },
    h("label", { for: control.id }, label),
    control,
    hint ? h("span", { class: "hint" }, hint) : null,
  );
}

export function checkbox(id, label, checked) {
  const box = h("input", { type: "checkbox", id });
  box.checked = !!checked;
  return h("label", { class: "check", for: id }, box, " ", label);
}

/** Replaces a select's options, keeping its value when still offered. */
export function fillSelect(select, options, preferred) {
  const keep = select.value || preferred;
  const same = select.options.length === options.length &&
    options.every((o, i) =>
      select.options[i].value === o.value && select.options[i].text === o.label
    );
  if (!same) {
    select.replaceChildren(...options.map((o) => h("option", { value: o.value }, o.label)));
  }
  if (options.some((o) => o.value === keep)) select.value = keep;
  else if (preferred !== undefined && options.some((o) => o.value === preferred)) {
    select.value = preferred;
  }
}

export function section(title, id, ...children) {
  return h("section", { class: "panel", id }, h("h2", null, title), ...children);
}

/** Key/value rows (label, value) as a definition table. */
export function kvTable(id, rows) {
  return h(
    "table",
    { class: "kv", id },
    h(
      "tbody",
      null,
      rows.filter((r) => r).map(([k, v]) => h("tr", null, h("th", null, k), h("td", null, v))),
    ),
  );
}
`;
