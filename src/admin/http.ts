/**
 * Responses of the management API: JSON bodies, and errors as RabbitMQ shapes them
 * (`{"error": "...", "reason": "..."}` with 400, 401, 403, 404 or 405).
 *
 *   throw badRequest("payload_encoding must be string or base64");
 *   return json(rows);
 */
import { ServiceError } from "../control/service.ts";

/** An error reply; handlers throw it and the server turns it into the response. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly reason: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(reason);
  }
}

/** 404 for an object named in the path that does not exist (RabbitMQ's wording). */
export const notFound = (reason = "Not Found") => new HttpError(404, "Object Not Found", reason);
export const badRequest = (reason: string) => new HttpError(400, "bad_request", reason);
export const notAuthorised = (reason: string) => new HttpError(401, "not_authorised", reason);
export const methodNotAllowed = (allowed: string[]) =>
  new HttpError(405, "method_not_allowed", "Method Not Allowed", {
    allow: allowed.join(", "),
  });

const JSON_HEADERS = {
  "content-type": "application/json",
  "cache-control": "no-cache",
  vary: "accept, accept-encoding, origin",
};

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

export function noContent(): Response {
  return new Response(null, { status: 204, headers: { "cache-control": "no-cache" } });
}

/** 201 for a PUT that created something, 204 for one that updated it (as cowboy_rest answers). */
export function putResult(created: boolean): Response {
  return created ? new Response(null, { status: 201 }) : noContent();
}

export function errorResponse(e: HttpError): Response {
  return json({ error: e.error, reason: e.reason }, e.status, e.headers);
}

/**
 * The HTTP error for a refused service call: not_found 404, refused 401 (RabbitMQ answers
 * refused AMQP operations with not_authorised), the rest 400.
 */
export function fromServiceError(err: ServiceError): HttpError {
  switch (err.kind) {
    case "not_found":
      return new HttpError(404, "not_found", err.message);
    case "refused":
      return notAuthorised(err.message);
    default:
      return badRequest(err.message);
  }
}

/** Runs a service call, turning its refusal into the matching HTTP error. */
export function call<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ServiceError) throw fromServiceError(err);
    throw err;
  }
}

/** The same for a service call that returns a promise. */
export async function callAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ServiceError) throw fromServiceError(err);
    throw err;
  }
}

/** The largest request body accepted (RabbitMQ's management.http.max_body_size default). */
export const MAX_BODY = 20 * 1024 * 1024;

/**
 * The request body as a JSON object. Empty, `null` and `undefined` bodies are `{}`, as in
 * RabbitMQ; anything but an object is a 400.
 */
export async function readJson(req: Request): Promise<Record<string, unknown>> {
  const length = Number(req.headers.get("content-length") ?? 0);
  if (length > MAX_BODY) throw badRequest("Exceeded HTTP request body size limit");
  const buf = new Uint8Array(await req.arrayBuffer());
  if (buf.length > MAX_BODY) throw badRequest("Exceeded HTTP request body size limit");
  const text = new TextDecoder().decode(buf).trim();
  if (text === "" || text === "null" || text === "undefined") return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw badRequest("not_json");
  }
  if (typeof v === "string") {
    throw badRequest(
      "invalid payload: the request body JSON-decoded to a string. Is the input doubly-JSON-encoded?",
    );
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw badRequest("not_json");
  return v as Record<string, unknown>;
}

/** A boolean body field: JSON true/false or the strings "true"/"false"; `fallback` if absent. */
export function boolField(body: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = body[key];
  if (v === undefined || v === null) return fallback;
  if (v === true || v === "true") return true;
  if (v === false || v === "false") return false;
  throw badRequest(`${key} must be true or false`);
}

/** A string body field; `fallback` if absent (undefined fallback: required). */
export function strField(body: Record<string, unknown>, key: string, fallback?: string): string {
  const v = body[key];
  if (v === undefined || v === null) {
    if (fallback === undefined) throw badRequest(`[{key_missing,${key}}]`);
    return fallback;
  }
  if (typeof v !== "string") throw badRequest(`${key} must be a string`);
  return v;
}
