/**
 * /js/api.js: the management API over fetch with HTTP basic auth from sessionStorage. Requests go
 * with credentials "omit", so a 401 never makes the browser pop up its own login dialog.
 */
export const API_JS = String.raw`// Calls to /api with the credentials kept in sessionStorage.
const KEY = "broker.credentials";

export class ApiError extends Error {
  constructor(status, reason) {
    super(reason);
    this.status = status;
    this.reason = reason;
  }
}

function base64(text) {
  let bin = "";
  for (const b of new TextEncoder().encode(text)) bin += String.fromCharCode(b);
  return btoa(bin);
}

export function saveCredentials(username, password) {
  sessionStorage.setItem(
    KEY,
    JSON.stringify({ username, auth: base64(username + ":" + password) }),
  );
}

export function loadCredentials() {
  try {
    const c = JSON.parse(sessionStorage.getItem(KEY) || "null");
    return c && typeof c.auth === "string" ? c : null;
  } catch {
    return null;
  }
}

export function forgetCredentials() {
  sessionStorage.removeItem(KEY);
}

let onUnauthorized = () => {};

/** Called when the stored credentials stop working (password changed, user deleted). */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

function reasonOf(status, data, statusText) {
  if (data && typeof data === "object") {
    const r = data.reason || data.error;
    if (r) return typeof r === "string" ? r : JSON.stringify(r);
  }
  if (typeof data === "string" && data.trim() !== "") return data.trim().slice(0, 300);
  return "HTTP " + status + (statusText ? " " + statusText : "");
}

/**
 * api("GET", "/queues") resolves to the parsed JSON (or null for an empty body) and rejects with
 * an ApiError carrying the server's "reason".
 */
export async function api(method, path, body, auth) {
  const creds = auth ? { auth } : loadCredentials();
  // X-Requested-With: the server then leaves WWW-Authenticate off a 401 (no browser dialog).
  const headers = { Accept: "application/json", "X-Requested-With": "XMLHttpRequest" };
  if (creds) headers.Authorization = "Basic " + creds.auth;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch("/api" + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
  } catch (err) {
    throw new ApiError(0, "Cannot reach the broker (" + (err && err.message || err) + ")");
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) {
    const error = new ApiError(res.status, reasonOf(res.status, data, res.statusText));
    if (res.status === 401 && !auth) {
      // RabbitMQ also answers 401 to an endpoint above the user's tags (a management user asking
      // for /api/nodes): sign out only when whoami says the credentials themselves stopped working.
      if (path === "/whoami") onUnauthorized(error);
      else api("GET", "/whoami").catch(() => {});
    }
    throw error;
  }
  return data;
}

/** Login check: whoami with these credentials, before they are stored. */
export function whoami(username, password) {
  return api("GET", "/whoami", undefined, base64(username + ":" + password));
}
`;
