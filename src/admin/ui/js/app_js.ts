/**
 * /app.js: the entry module: login, navigation between pages (location.hash), the shared state
 * every page reads (whoami, vhosts, overview with its history) and the refresh timer.
 */
export const APP_JS = String.raw`// Entry point: login, routing, refresh.
import { $, clear, fillSelect, fmtClock, hideFlash, tagList } from "./js/dom.js";
import {
  api,
  forgetCredentials,
  loadCredentials,
  saveCredentials,
  setUnauthorizedHandler,
  whoami,
} from "./js/api.js";
import { createHistory, LEVEL_SERIES, RATE_SERIES } from "./js/chart.js";
import { overviewPage } from "./js/page_overview.js";
import { channelsPage, connectionsPage } from "./js/page_connections.js";
import { exchangePage, exchangesPage } from "./js/page_exchanges.js";
import { queuePage, queuesPage } from "./js/page_queues.js";
import { adminPage } from "./js/page_admin.js";

const MANAGEMENT_TAGS = ["administrator", "management", "monitoring", "policymaker"];
const VHOST_KEY = "broker.vhost";
const REFRESH_KEY = "broker.refresh";
const RANGE_KEY = "broker.range";

const ROUTES = {
  overview: overviewPage,
  connections: connectionsPage,
  channels: channelsPage,
  exchanges: exchangesPage,
  queues: queuesPage,
  admin: adminPage,
};

/** State shared by the pages. */
const ctx = {
  user: null,
  isAdmin: false,
  vhosts: [],
  overview: null,
  overviewAt: 0,
  rateHistory: createHistory(3600 * 1000),
  levelHistory: createHistory(3600 * 1000),
  /** The header's virtual host choice ("" = all). */
  vhost() {
    return $("#vhost-select").value;
  },
  /** Chart window in seconds (and sample increment) from the overview's range choice. */
  range() {
    const age = Number(sessionStorage.getItem(RANGE_KEY) || "600");
    return { age, incr: age <= 600 ? 5 : 60 };
  },
  setRange(age) {
    sessionStorage.setItem(RANGE_KEY, String(age));
    refreshSoon();
  },
  navigate(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  },
  refreshNow() {
    return refresh();
  },
};

let page = null;
let timer = 0;
let running = null;
let queued = null;

// ---- login ----

function showLogin(reason) {
  stopTimer();
  $("#app-view").hidden = true;
  $("#login-view").hidden = false;
  const err = $("#login-error");
  err.textContent = reason || "";
  err.hidden = !reason;
  const user = $("#login-username");
  if (!user.value) user.focus();
  else $("#login-password").focus();
}

function acceptUser(me) {
  const tags = tagList(me && me.tags);
  if (!tags.some((t) => MANAGEMENT_TAGS.includes(t))) {
    throw new Error(
      "Not management user: '" + (me && me.name) +
        "' has none of the tags administrator, monitoring, policymaker, management.",
    );
  }
  ctx.user = me;
  ctx.isAdmin = tags.includes("administrator");
}

async function onLogin(e) {
  e.preventDefault();
  const username = $("#login-username").value;
  const password = $("#login-password").value;
  const button = $("#login-submit");
  const err = $("#login-error");
  err.hidden = true;
  button.disabled = true;
  try {
    const me = await whoami(username, password);
    acceptUser(me);
    saveCredentials(username, password);
    $("#login-password").value = "";
    startApp();
  } catch (error) {
    let reason = error.message;
    if (error.status === 401) {
      const why = error.reason || "not authorised";
      reason = /login failed/i.test(why) ? why : "Login failed: " + why;
    }
    err.textContent = reason;
    err.hidden = false;
  } finally {
    button.disabled = false;
  }
}

function logout() {
  forgetCredentials();
  ctx.user = null;
  page = null;
  clear($("#main"));
  hideFlash();
  showLogin("");
}

// ---- app shell ----

function startApp() {
  $("#login-view").hidden = true;
  $("#app-view").hidden = false;
  $("#whoami").textContent = ctx.user.name;
  for (const a of document.querySelectorAll("nav a[data-page]")) {
    if (a.dataset.page === "admin") a.hidden = !ctx.isAdmin;
  }
  fillSelect($("#vhost-select"), [{ value: "", label: "All" }], "");
  $("#refresh-select").value = sessionStorage.getItem(REFRESH_KEY) || "5000";
  if (!location.hash || location.hash === "#" || location.hash === "#/") {
    history.replaceState(null, "", "#/overview");
  }
  route();
}

function parseHash() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  return { name: parts[0] || "overview", args: parts.slice(1) };
}

function route() {
  if (!ctx.user) return;
  const { name, args } = parseHash();
  let factory = ROUTES[name] || overviewPage;
  let key = ROUTES[name] ? name : "overview";
  if (name === "queues" && args.length >= 2) {
    factory = (c) => queuePage(c, args[0], args.slice(1).join("/"));
    key = "queue";
  } else if (name === "exchanges" && args.length >= 2) {
    factory = (c) => exchangePage(c, args[0], args.slice(1).join("/"));
    key = "exchange";
  }
  if (key === "admin" && !ctx.isAdmin) {
    factory = overviewPage;
    key = "overview";
  }
  for (const a of document.querySelectorAll("nav a[data-page]")) {
    const active = a.dataset.page === name || (a.dataset.page === key);
    a.classList.toggle("active", active);
    if (active) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  hideFlash();
  page = factory(ctx);
  document.title = page.title + " - broker";
  clear($("#main"), page.el);
  document.body.dataset.page = key;
  refresh();
}

// ---- refresh ----

function stopTimer() {
  clearTimeout(timer);
  timer = 0;
}

function schedule() {
  stopTimer();
  const every = Number($("#refresh-select").value);
  if (every > 0 && ctx.user) timer = setTimeout(refresh, every);
}

function refreshSoon() {
  stopTimer();
  timer = setTimeout(refresh, 0);
}

async function refreshShared() {
  const { age, incr } = ctx.range();
  const q = "?lengths_age=" + age + "&lengths_incr=" + incr + "&msg_rates_age=" + age +
    "&msg_rates_incr=" + incr;
  const [overview, vhosts] = await Promise.all([
    api("GET", "/overview" + q),
    api("GET", "/vhosts").catch(() => null),
  ]);
  const now = Date.now();
  ctx.overview = overview || {};
  ctx.overviewAt = now;
  ctx.rateHistory.addRates(now, ctx.overview.message_stats || {}, RATE_SERIES.map((x) => x.key));
  ctx.levelHistory.addLevels(now, ctx.overview.queue_totals || {}, LEVEL_SERIES.map((x) => x.key));
  $("#cluster-name").textContent = ctx.overview.cluster_name || "";
  const version = ctx.overview.product_version || ctx.overview.rabbitmq_version || "";
  $("#product").textContent = (ctx.overview.product_name || "broker") +
    (version ? " " + version : "");
  if (Array.isArray(vhosts)) {
    ctx.vhosts = vhosts.map((v) => v.name).sort();
    const options = ctx.vhosts.map((v) => ({ value: v, label: v }));
    fillSelect(
      $("#vhost-select"),
      [{ value: "", label: "All" }, ...options],
      sessionStorage.getItem(VHOST_KEY) || "",
    );
  }
}

/**
 * Refreshes the shared state and the current page. A call made while one is running (a page
 * change, a form that just changed something) runs once more right after it, and its promise
 * settles when that later run is done.
 */
function refresh() {
  if (!ctx.user) return Promise.resolve();
  if (running) {
    if (!queued) {
      queued = running.then(() => {
        queued = null;
        return refresh();
      });
    }
    return queued;
  }
  stopTimer();
  running = refreshOnce().finally(() => {
    running = null;
    if (!queued) schedule();
  });
  return running;
}

async function refreshOnce() {
  const current = page;
  const stamp = $("#last-update");
  try {
    await refreshShared();
    if (current && current === page) await current.refresh();
    stamp.textContent = "Updated " + fmtClock(Date.now());
    stamp.classList.remove("stale");
  } catch (err) {
    if (err.status === 401) return;
    stamp.textContent = "Update failed " + fmtClock(Date.now()) + ": " + err.message;
    stamp.classList.add("stale");
  }
}

// ---- boot ----

function boot() {
  $("#login-form").addEventListener("submit", onLogin);
  $("#logout").addEventListener("click", logout);
  $("#refresh-select").addEventListener("change", () => {
    sessionStorage.setItem(REFRESH_KEY, $("#refresh-select").value);
    schedule();
  });
  $("#vhost-select").addEventListener("change", () => {
    sessionStorage.setItem(VHOST_KEY, $("#vhost-select").value);
    if (page) refreshSoon();
  });
  globalThis.addEventListener("hashchange", route);
  setUnauthorizedHandler((err) => {
    forgetCredentials();
    ctx.user = null;
    showLogin("Signed out: " + err.reason);
  });
  const saved = loadCredentials();
  if (!saved) {
    showLogin("");
    return;
  }
  $("#login-username").value = saved.username || "";
  api("GET", "/whoami").then((me) => {
    acceptUser(me);
    startApp();
  }).catch((err) => {
    forgetCredentials();
    showLogin(err.status === 401 ? "" : err.message);
  });
}

boot();
`;
