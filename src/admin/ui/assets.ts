/**
 * The embedded management web UI: every file the browser loads, keyed by URL path, as strings
 * compiled into the program (no file reads at run time, no CDN), so it works from any working
 * directory and from a `deno compile`d binary.
 *
 * ```ts
 * const asset = UI_ASSETS[new URL(req.url).pathname];
 * if (asset) return new Response(asset.body, { headers: { "content-type": asset.contentType } });
 * ```
 */
import { FAVICON_SVG, INDEX_HTML } from "./index_html.ts";
import { STYLE_CSS } from "./style_css.ts";
import { APP_JS } from "./js/app_js.ts";
import { API_JS } from "./js/api_js.ts";
import { CHART_JS } from "./js/chart_js.ts";
import { DOM_JS } from "./js/dom_js.ts";
import { ENTITIES_JS } from "./js/entities_js.ts";
import { FORMS_JS } from "./js/forms_js.ts";
import { PAGE_ADMIN_JS } from "./js/page_admin_js.ts";
import { PAGE_CONNECTIONS_JS } from "./js/page_connections_js.ts";
import { PAGE_EXCHANGES_JS } from "./js/page_exchanges_js.ts";
import { PAGE_OVERVIEW_JS } from "./js/page_overview_js.ts";
import { PAGE_QUEUES_JS } from "./js/page_queues_js.ts";
import { TABLE_JS } from "./js/table_js.ts";

const HTML = "text/html; charset=utf-8";
const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";
const SVG = "image/svg+xml";

/** URL path → content type and body of each UI file. */
export const UI_ASSETS: Record<string, { contentType: string; body: string }> = {
  "/": { contentType: HTML, body: INDEX_HTML },
  "/index.html": { contentType: HTML, body: INDEX_HTML },
  "/style.css": { contentType: CSS, body: STYLE_CSS },
  "/favicon.svg": { contentType: SVG, body: FAVICON_SVG },
  "/app.js": { contentType: JS, body: APP_JS },
  "/js/api.js": { contentType: JS, body: API_JS },
  "/js/chart.js": { contentType: JS, body: CHART_JS },
  "/js/dom.js": { contentType: JS, body: DOM_JS },
  "/js/entities.js": { contentType: JS, body: ENTITIES_JS },
  "/js/forms.js": { contentType: JS, body: FORMS_JS },
  "/js/page_admin.js": { contentType: JS, body: PAGE_ADMIN_JS },
  "/js/page_connections.js": { contentType: JS, body: PAGE_CONNECTIONS_JS },
  "/js/page_exchanges.js": { contentType: JS, body: PAGE_EXCHANGES_JS },
  "/js/page_overview.js": { contentType: JS, body: PAGE_OVERVIEW_JS },
  "/js/page_queues.js": { contentType: JS, body: PAGE_QUEUES_JS },
  "/js/table.js": { contentType: JS, body: TABLE_JS },
};
