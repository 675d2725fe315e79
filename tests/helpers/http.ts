/**
 * A small client for the management HTTP API, and the target the admin tests run against: our
 * broker started in-process with its admin server on an ephemeral port, or, with TEST_ADMIN_URL
 * (and TEST_AMQP_URL) set, a reference RabbitMQ with the management plugin:
 *
 *   TEST_ADMIN_URL=http://127.0.0.1:15760 TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5760/ \
 *     deno test -A tests/admin/
 *
 *   const target = await startAdminTarget();
 *   try {
 *     const v = await target.vhost("t");        // a fresh vhost, guest may use it, deleted at close
 *     await target.api.expect("PUT", `/queues/${enc(v)}/q`, 201, { durable: true });
 *   } finally {
 *     await target.close();
 *   }
 *
 * RabbitMQ's statistics lag (about 5 s): `eventually` polls until an assertion holds; in-process it
 * takes a rate sample first, so it normally passes on the first try.
 */
import assert from "node:assert/strict";
import type { TestBroker } from "./broker.ts";
import { startServer } from "../../src/server/server.ts";
import type { ServerOptions } from "../../src/server/server.ts";

export type Json = Record<string, unknown>;

/** true when the tests run against a reference RabbitMQ (TEST_ADMIN_URL). */
export const REFERENCE = Deno.env.get("TEST_ADMIN_URL") !== undefined;

/** A path segment, percent-encoded as RabbitMQ's paths want it (`/` is `%2F`). */
export const enc = (s: string) => encodeURIComponent(s);

/** A name unique to this run. */
export function unique(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

export interface Reply {
  status: number;
  /** The JSON body; undefined when empty; the text when it is not JSON. */
  body: unknown;
  headers: Headers;
}

export interface CallOptions {
  user?: string;
  password?: string;
  /** No authorization header at all. */
  anonymous?: boolean;
  headers?: Record<string, string>;
  /** A body sent as it is (not JSON-encoded). */
  raw?: string;
}

export class AdminApi {
  /** `base` is the server's root, e.g. http://127.0.0.1:15672 (paths are under /api). */
  constructor(readonly base: string, readonly user = "guest", readonly password = "guest") {}

  /** The same server as another user. */
  as(user: string, password: string): AdminApi {
    return new AdminApi(this.base, user, password);
  }

  async call(method: string, path: string, body?: unknown, opts: CallOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (!opts.anonymous) {
      const creds = `${opts.user ?? this.user}:${opts.password ?? this.password}`;
      headers.authorization = `Basic ${btoa(creds)}`;
    }
    const payload = opts.raw ?? (body === undefined ? undefined : JSON.stringify(body));
    if (payload !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${this.base}/api${path}`, {
      method,
      headers: { ...headers, ...opts.headers },
      body: payload,
    });
    const text = await res.text();
    let parsed: unknown = undefined;
    if (text !== "") {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }

  /** A call that must answer `status`; its body. */
  async expect<T = Json>(
    method: string,
    path: string,
    status: number,
    body?: unknown,
    opts: CallOptions = {},
  ): Promise<T> {
    const r = await this.call(method, path, body, opts);
    assert.equal(r.status, status, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as T;
  }

  get<T = Json>(path: string): Promise<T> {
    return this.expect<T>("GET", path, 200);
  }

  list(path: string): Promise<Json[]> {
    return this.expect<Json[]>("GET", path, 200);
  }

  put(path: string, body: unknown = {}): Promise<Reply> {
    return this.call("PUT", path, body);
  }

  del(path: string, opts: CallOptions = {}): Promise<Reply> {
    return this.call("DELETE", path, undefined, opts);
  }

  post(path: string, body: unknown = {}): Promise<Reply> {
    return this.call("POST", path, body);
  }
}

/** Where the admin tests run: an API, the matching AMQP URL, and what to clean up. */
export class AdminTarget {
  private readonly cleanups: (() => Promise<unknown>)[] = [];

  constructor(
    readonly api: AdminApi,
    /** amqp://guest:guest@host:port (no vhost path). */
    readonly amqpBase: string,
    /** The in-process broker; undefined against the reference. */
    readonly broker: TestBroker | undefined,
  ) {}

  get reference(): boolean {
    return this.broker === undefined;
  }

  /** The AMQP URL for a user and vhost. */
  amqpUrl(vhost = "/", user = "guest", password = "guest"): string {
    const u = new URL(this.amqpBase);
    return `amqp://${enc(user)}:${enc(password)}@${u.host}/${enc(vhost)}`;
  }

  /** The AMQP port. */
  get amqpPort(): number {
    return Number(new URL(this.amqpBase).port || 5672);
  }

  /** Runs `fn` at close (last registered, first run). */
  onClose(fn: () => Promise<unknown>): void {
    this.cleanups.push(fn);
  }

  /** A new vhost (deleted at close) in which guest has every permission. */
  async vhost(prefix: string): Promise<string> {
    const name = unique(prefix);
    await this.api.expect("PUT", `/vhosts/${enc(name)}`, 201, {});
    this.onClose(() => this.api.del(`/vhosts/${enc(name)}`));
    const perms = { configure: ".*", write: ".*", read: ".*" };
    const r = await this.api.put(`/permissions/${enc(name)}/guest`, perms);
    // RabbitMQ grants the creator full permissions already (204); ours may not (201).
    assert.ok(r.status === 201 || r.status === 204, `permissions: ${r.status}`);
    return name;
  }

  /** A new user (deleted at close) with a password and tags. */
  async user(prefix: string, tags: string | string[], password = "pw"): Promise<string> {
    const name = unique(prefix);
    await this.api.expect("PUT", `/users/${enc(name)}`, 201, { password, tags });
    this.onClose(() => this.api.del(`/users/${enc(name)}`));
    return name;
  }

  /**
   * In-process: takes a rate sample. Against RabbitMQ: nothing (its collector samples every 5 s).
   */
  sample(): void {
    this.broker?.server.admin?.rates.tick();
  }

  /**
   * Runs `check` until it stops throwing: once in-process (after a sample; a few retries for
   * what arrives asynchronously), for up to `referenceMs` against RabbitMQ.
   */
  async eventually<T>(check: () => Promise<T>, referenceMs = 20_000): Promise<T> {
    const deadline = Date.now() + (this.reference ? referenceMs : 2_000);
    for (;;) {
      this.sample();
      try {
        return await check();
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, this.reference ? 500 : 50));
      }
    }
  }

  async close(): Promise<void> {
    for (const fn of this.cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        // best effort
      }
    }
    await this.broker?.close();
  }
}

/**
 * Starts our broker with the admin server (or uses the reference RabbitMQ with TEST_ADMIN_URL).
 * `options` are for the in-process broker only.
 */
export async function startAdminTarget(
  options: Partial<ServerOptions> = {},
): Promise<AdminTarget> {
  const external = Deno.env.get("TEST_ADMIN_URL");
  if (external) {
    const amqp = Deno.env.get("TEST_AMQP_URL") ?? "amqp://guest:guest@127.0.0.1:5672/";
    const u = new URL(amqp);
    return new AdminTarget(
      new AdminApi(external.replace(/\/+$/, "")),
      `amqp://guest:guest@${u.host}`,
      undefined,
    );
  }
  const broker = await startInProcess(options);
  return new AdminTarget(
    new AdminApi(`http://127.0.0.1:${broker.server.adminPort}`),
    `amqp://guest:guest@127.0.0.1:${broker.port}`,
    broker,
  );
}

/** Our broker in-process with the admin API on an ephemeral loopback port, whatever the env. */
export async function startInProcess(options: Partial<ServerOptions> = {}): Promise<TestBroker> {
  const server = await startServer({
    port: 0,
    hostname: "127.0.0.1",
    logLevel: "error",
    management: { enabled: true, port: 0, ip: "127.0.0.1" },
    prometheus: { enabled: false, port: 0, ip: "127.0.0.1", perObject: false },
    ...options,
  });
  return {
    port: server.port,
    url: `amqp://guest:guest@127.0.0.1:${server.port}/`,
    server,
    close: () => server.close(),
  };
}
