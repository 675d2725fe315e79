/** /style.css: the UI's only stylesheet (light theme, system fonts, no external resources). */
export const STYLE_CSS = `:root {
  --bg: #f4f6f9;
  --panel: #ffffff;
  --ink: #1c2430;
  --muted: #5f6b7a;
  --line: #dde3ea;
  --accent: #1f3a5f;
  --accent-2: #2f6fdb;
  --orange: #f5a623;
  --ok: #1f9d6b;
  --warn: #b7791f;
  --bad: #c53030;
  --mono: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  font-size: 14px;
  color: var(--ink);
  background: var(--bg);
}
* { box-sizing: border-box; }
body { margin: 0; }
[hidden] { display: none !important; }
a.link { color: var(--accent-2); text-decoration: none; }
a.link:hover { text-decoration: underline; }
.muted { color: var(--muted); }
.small { font-size: 12px; }
.mono, code, pre { font-family: var(--mono); font-size: 12.5px; }

/* buttons and fields */
button, select, input, textarea { font: inherit; color: inherit; }
button {
  border: 1px solid var(--line); background: #fff; border-radius: 6px; padding: 6px 12px;
  cursor: pointer;
}
button:hover { border-color: #b6c2cf; }
button:disabled { opacity: .6; cursor: progress; }
button.primary { background: var(--accent-2); border-color: var(--accent-2); color: #fff; }
button.primary:hover { background: #285fbe; }
button.danger { color: var(--bad); border-color: #efc6c6; }
button.danger:hover { background: #fdf0f0; }
button.small { padding: 2px 8px; font-size: 12px; }
button.link-button { border: none; background: none; color: var(--accent-2); padding: 0 4px; }
input[type=text], input[type=password], input[type=number], input[type=search], select, textarea {
  border: 1px solid var(--line); border-radius: 6px; padding: 5px 8px; background: #fff;
  min-width: 0;
}
input:focus, select:focus, textarea:focus, button:focus-visible, th.sortable:focus-visible {
  outline: 2px solid #9cc0f5; outline-offset: 1px;
}
textarea { width: 100%; max-width: 640px; font-family: var(--mono); }

/* login */
.login { min-height: 100vh; display: flex; align-items: center; justify-content: center; }
.login-box {
  width: 340px; background: var(--panel); border: 1px solid var(--line); border-radius: 10px;
  padding: 28px; box-shadow: 0 6px 24px rgba(20, 40, 70, .08);
}
.login-box h1 { margin: 0; font-size: 22px; display: flex; align-items: center; gap: 10px; }
.login-box .field { display: flex; flex-direction: column; gap: 4px; margin: 14px 0; }
.login-box input { width: 100%; }
.login-box button { width: 100%; padding: 8px; }
.login-error {
  color: var(--bad); background: #fdf0f0; border: 1px solid #efc6c6; border-radius: 6px;
  padding: 8px 10px; margin: 0 0 12px;
}
.logo { width: 24px; height: 24px; vertical-align: middle; }

/* header and navigation */
header.top {
  display: flex; align-items: center; justify-content: space-between; gap: 16px; flex-wrap: wrap;
  background: var(--accent); color: #fff; padding: 8px 20px;
}
header.top .brand { display: flex; align-items: center; gap: 8px; font-weight: 600; font-size: 17px; }
header.top .brand .muted { color: #b9c7d8; font-weight: 400; }
header.top .top-info { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
header.top select { padding: 2px 6px; color: var(--ink); }
header.top button { background: transparent; color: #fff; border-color: #5a7396; }
nav.tabs {
  display: flex; align-items: center; gap: 2px; padding: 0 20px; background: #fff;
  border-bottom: 1px solid var(--line); flex-wrap: wrap;
}
nav.tabs a {
  padding: 11px 14px; color: var(--muted); text-decoration: none; border-bottom: 3px solid transparent;
  font-weight: 500;
}
nav.tabs a:hover { color: var(--ink); }
nav.tabs a.active { color: var(--accent); border-bottom-color: var(--orange); }
nav.tabs .spacer { flex: 1; }
nav.tabs label { margin: 0 4px 0 12px; color: var(--muted); }
#last-update.stale { color: var(--bad); }

.flash {
  margin: 12px 20px 0; padding: 8px 12px; border-radius: 6px; display: flex; align-items: center;
  justify-content: space-between; gap: 12px;
}
.flash.ok { background: #e9f7f0; border: 1px solid #b5e2cd; color: #17694a; }
.flash.error { background: #fdf0f0; border: 1px solid #efc6c6; color: var(--bad); }
.flash-close { border: none; background: none; font-size: 16px; padding: 0 4px; color: inherit; }

main { padding: 8px 20px 40px; max-width: 1500px; }
h1 { font-size: 20px; margin: 14px 0 12px; }
h2 { font-size: 15px; margin: 0 0 12px; }
h3 { font-size: 13px; margin: 18px 0 8px; color: var(--muted); text-transform: uppercase;
  letter-spacing: .04em; }
.crumbs { margin: 14px 0 -6px; color: var(--muted); }
.panel {
  background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px;
  margin: 0 0 16px; min-width: 0;
}
.columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(380px, 1fr)); gap: 16px; }
.note { color: var(--muted); margin: 4px 0 10px; }
.note.error { color: var(--bad); }

/* overview tiles */
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(120px, 1fr)); gap: 10px; }
.tile {
  border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; display: flex;
  flex-direction: column; background: #fafbfd;
}
.tile-value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.tile-label { color: var(--muted); font-size: 12px; }

/* charts */
.chart-tools { display: flex; gap: 8px; align-items: center; margin-bottom: 8px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
.charts.single { grid-template-columns: 1fr; }
.chart { margin: 0; }
.chart figcaption { font-weight: 600; margin-bottom: 4px; }
.chart-frame { border: 1px solid var(--line); border-radius: 6px; background: #fff; }
.chart-svg { width: 100%; height: 180px; display: block; }
.chart-svg .grid { stroke: #e8edf2; stroke-width: 1; vector-effect: non-scaling-stroke; }
.chart-svg .axis { fill: var(--muted); font-size: 11px; font-family: inherit; }
.chart-svg .series { fill: none; stroke-width: 2; vector-effect: non-scaling-stroke;
  stroke-linejoin: round; }
.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 4px 16px; padding: 0; margin: 6px 0 0; }
.legend li { display: flex; align-items: center; gap: 6px; font-size: 12px; }
.legend .swatch { width: 10px; height: 10px; }
.legend-value { font-weight: 600; font-variant-numeric: tabular-nums; }

/* tables */
.table-box { margin-bottom: 16px; }
.table-tools { display: flex; align-items: center; gap: 12px; margin-bottom: 8px; }
.table-tools .filter { width: 260px; }
.count { color: var(--muted); font-size: 12px; }
.table-scroll { overflow-x: auto; background: var(--panel); border: 1px solid var(--line);
  border-radius: 8px; }
table.list { border-collapse: collapse; width: 100%; }
table.list th, table.list td { padding: 7px 10px; text-align: left; border-bottom: 1px solid #edf1f5;
  white-space: nowrap; }
table.list th { font-size: 12px; color: var(--muted); font-weight: 600; background: #fafbfd;
  user-select: none; }
table.list th.sortable { cursor: pointer; }
table.list th.sortable:hover { color: var(--ink); }
table.list th[aria-sort=ascending]::after { content: " \\25B2"; font-size: 9px; }
table.list th[aria-sort=descending]::after { content: " \\25BC"; font-size: 9px; }
table.list .num { text-align: right; font-variant-numeric: tabular-nums; }
table.list tbody tr:hover { background: #f7f9fc; }
table.list tbody tr:last-child td { border-bottom: none; }
table.list tr.empty td { color: var(--muted); text-align: center; padding: 16px; }
.feature { display: inline-block; padding: 0 5px; margin-right: 3px; border-radius: 4px;
  background: #eef2f7; color: var(--accent); font-size: 11px; text-decoration: none; cursor: help; }
.tag { display: inline-block; padding: 1px 7px; margin-right: 4px; border-radius: 10px;
  background: #eef2f7; font-size: 12px; }
.state-running, .state-ok { color: var(--ok); }
.state-blocked, .state-blocking, .state-flow { color: var(--warn); }
table.kv { border-collapse: collapse; }
table.kv th { text-align: left; color: var(--muted); font-weight: 500; padding: 4px 16px 4px 0;
  vertical-align: top; white-space: nowrap; }
table.kv td { padding: 4px 0; overflow-wrap: anywhere; }
table.kv.inner th, table.kv.inner td { padding: 1px 12px 1px 0; font-size: 12px; }

/* forms */
.form .field { display: grid; grid-template-columns: 160px minmax(0, 1fr); align-items: start;
  gap: 10px; margin: 8px 0; }
.form .field > label, .form .field > .label { padding-top: 6px; color: var(--muted); }
.form .field > input[type=text], .form .field > input[type=password],
.form .field > input[type=number], .form .field > select { max-width: 360px; }
.form .hint { grid-column: 2; color: var(--muted); font-size: 12px; margin-top: -4px; }
.form .actions, .actions { display: flex; gap: 10px; margin-top: 12px; }
.form .actions { padding-left: 170px; }
.checks { display: flex; gap: 16px; padding-top: 6px; }
.check { display: inline-flex; align-items: center; gap: 4px; }
.inline { display: flex; gap: 8px; }
.kv-rows table { border-collapse: collapse; }
.kv-rows td { padding: 0 6px 6px 0; }
.kv-rows .eq { color: var(--muted); }
.tag-picks { font-size: 12px; color: var(--muted); }
.result { margin-top: 10px; }
.result.ok { color: var(--ok); }
.result.warn { color: var(--warn); }
.result.error { color: var(--bad); }
.alarms ul { list-style: none; padding: 0; margin: 0; display: flex; flex-direction: column; gap: 6px; }
.badge { display: inline-block; padding: 4px 10px; border-radius: 6px; }
.badge.ok { background: #e9f7f0; color: #17694a; }
.badge.muted { background: #eef2f7; color: var(--muted); }
.badge.bad { background: #fdf0f0; color: var(--bad); border: 1px solid #efc6c6; }

/* fetched messages */
.message { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; margin-top: 12px;
  background: #fafbfd; }
.message h3 { margin: 0 0 6px; }
.message-payload { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px;
  white-space: pre-wrap; overflow-wrap: anywhere; max-height: 300px; overflow: auto; margin: 8px 0 0; }
.noscript { padding: 20px; }

@media (max-width: 720px) {
  .form .field { grid-template-columns: 1fr; }
  .form .actions { padding-left: 0; }
  .form .hint { grid-column: 1; }
  .charts { grid-template-columns: 1fr; }
}
`;
