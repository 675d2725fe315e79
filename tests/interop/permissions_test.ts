/**
 * Access control through the npm amqplib client: who may log in, open which vhost, and do which
 * operation to which resource (RabbitMQ's access-control mapping of AMQP operations to configure,
 * write and read), and what happens to open connections when users, vhosts and permissions change.
 *
 * Every expectation (reply code and exact reply text) was checked against RabbitMQ 3.10:
 *
 *   TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5700/ deno test -A tests/interop/permissions_test.ts
 *
 * In that mode users, vhosts and permissions are changed with rabbitmqctl (RABBITMQCTL,
 * RABBITMQ_NODENAME and RABBITMQCTL_HOME override where it is and how it reaches the node), and
 * everything a test creates is deleted again. Without TEST_AMQP_URL the same tests run against our
 * broker, started in-process, changed through its ControlService.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  type AmqpChannel,
  type AmqpError,
  attempt,
  Client,
  connect,
  delay,
  type Failure,
  getText,
  publishAndSync,
  replyText,
  within,
} from "../helpers/amqp_client.ts";
import { startBroker } from "../helpers/broker.ts";
import type { TestBroker } from "../helpers/broker.ts";
import { AMQP_HEADER, RawAmqp } from "../helpers/raw_amqp.ts";
import * as spec from "../../src/amqp/spec.ts";
import type { ControlService } from "../../src/control/service.ts";
import { startServer } from "../../src/server/server.ts";

const REFERENCE = Deno.env.get("TEST_AMQP_URL") !== undefined;

// ---------------------------------------------------------------------------------------------
// Changing users, vhosts and permissions: our ControlService, or rabbitmqctl on the reference

interface Admin {
  addUser(name: string, password: string): Promise<void>;
  deleteUser(name: string): Promise<void>;
  setPermissions(user: string, vhost: string, c: string, w: string, r: string): Promise<void>;
  clearPermissions(user: string, vhost: string): Promise<void>;
  addVhost(name: string): Promise<void>;
  deleteVhost(name: string): Promise<void>;
}

class ServiceAdmin implements Admin {
  constructor(private readonly service: ControlService) {}
  addUser(name: string, password: string) {
    return Promise.resolve(this.service.addUser({ name, password }));
  }
  deleteUser(name: string) {
    return Promise.resolve(this.service.deleteUser(name));
  }
  setPermissions(user: string, vhost: string, c: string, w: string, r: string) {
    return Promise.resolve(this.service.setPermissions(user, vhost, c, w, r));
  }
  clearPermissions(user: string, vhost: string) {
    return Promise.resolve(this.service.clearPermissions(user, vhost));
  }
  addVhost(name: string) {
    return Promise.resolve(this.service.addVhost(name));
  }
  deleteVhost(name: string) {
    return Promise.resolve(this.service.deleteVhost(name));
  }
}

/** rabbitmqctl against the reference node (about 0.3-1.5 s a call). */
class RabbitmqctlAdmin implements Admin {
  private readonly ctl = Deno.env.get("RABBITMQCTL") ?? "/usr/lib/rabbitmq/bin/rabbitmqctl";
  private readonly node = Deno.env.get("RABBITMQ_NODENAME") ?? "ref@localhost";
  private readonly home = Deno.env.get("RABBITMQCTL_HOME") ?? "/tmp/rmqref/home";

  private async run(...args: string[]): Promise<void> {
    const out = await new Deno.Command(this.ctl, {
      args: ["-n", this.node, "-q", ...args],
      env: { HOME: this.home },
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(
        `rabbitmqctl ${args[0]} failed: ${new TextDecoder().decode(out.stderr).trim()}`,
      );
    }
  }
  addUser(name: string, password: string) {
    return this.run("add_user", name, password);
  }
  deleteUser(name: string) {
    return this.run("delete_user", name);
  }
  setPermissions(user: string, vhost: string, c: string, w: string, r: string) {
    return this.run("set_permissions", "-p", vhost, user, c, w, r);
  }
  clearPermissions(user: string, vhost: string) {
    return this.run("clear_permissions", "-p", vhost, user);
  }
  addVhost(name: string) {
    return this.run("add_vhost", name);
  }
  deleteVhost(name: string) {
    return this.run("delete_vhost", name);
  }
}

// ---------------------------------------------------------------------------------------------
// Harness

interface TestUser {
  name: string;
  password: string;
  /** amqplib URL for this user on `vhost` (default /). */
  url(vhost?: string): string;
}

/** One test's broker, admin, and everything it created (removed at the end). */
class Env {
  readonly id = crypto.randomUUID().slice(0, 8);
  readonly hostname: string;
  private readonly clients: Client[] = [];
  private readonly users = new Set<string>();
  private readonly vhosts = new Set<string>();
  private readonly queues = new Set<string>();
  private readonly exchanges = new Set<string>();
  private counter = 0;

  constructor(readonly broker: TestBroker, readonly admin: Admin) {
    this.hostname = new URL(broker.url).hostname;
  }

  get port(): number {
    return this.broker.port;
  }

  url(user: string, password: string, vhost = "/"): string {
    const e = encodeURIComponent;
    return `amqp://${e(user)}:${e(password)}@${this.hostname}:${this.port}/${e(vhost)}`;
  }

  /** A new user with a random password and, unless `perms` is null, permissions on `vhost`. */
  async user(perms: [string, string, string] | null, vhost = "/"): Promise<TestUser> {
    const name = `perm-${this.id}-u${++this.counter}`;
    const password = `pw-${crypto.randomUUID()}`;
    await this.admin.addUser(name, password);
    this.users.add(name);
    if (perms) await this.admin.setPermissions(name, vhost, ...perms);
    return { name, password, url: (v = "/") => this.url(name, password, v) };
  }

  /** A new vhost. */
  async vhost(): Promise<string> {
    const name = `perm-${this.id}-v${++this.counter}`;
    await this.admin.addVhost(name);
    this.vhosts.add(name);
    return name;
  }

  forgetUser(name: string): void {
    this.users.delete(name);
  }

  forgetVhost(name: string): void {
    this.vhosts.delete(name);
  }

  trackVhost(name: string): void {
    this.vhosts.add(name);
  }

  /** An amqplib connection, closed at the end. */
  async client(url = this.broker.url): Promise<Client> {
    const c = await within(connect(url), 5000, `connect ${url}`);
    this.clients.push(c);
    return c;
  }

  /** A queue name starting with `prefix-` (deleted at the end if it was declared). */
  q(prefix: string): string {
    const name = `${prefix}-q-${this.id}-${++this.counter}`;
    this.queues.add(name);
    return name;
  }

  /** An exchange name starting with `prefix-` (deleted at the end if it was declared). */
  x(prefix: string): string {
    const name = `${prefix}-x-${this.id}-${++this.counter}`;
    this.exchanges.add(name);
    return name;
  }

  /** Declares (as guest) one queue per prefix and returns their names by prefix. */
  async declareQueues(ch: AmqpChannel, ...prefixes: string[]): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const p of prefixes) {
      out[p] = this.q(p);
      await ch.assertQueue(out[p], { durable: false });
    }
    return out;
  }

  /** Declares (as guest) one direct exchange per prefix and returns their names by prefix. */
  async declareExchanges(ch: AmqpChannel, ...prefixes: string[]): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const p of prefixes) {
      out[p] = this.x(p);
      await ch.assertExchange(out[p], "direct", { durable: false });
    }
    return out;
  }

  async cleanup(): Promise<void> {
    for (const c of this.clients) await c.close();
    if (!REFERENCE) return; // the in-process broker goes away with everything in it
    const admin = this.admin;
    if (this.queues.size + this.exchanges.size > 0) {
      let c = await connect(this.broker.url);
      try {
        for (const q of this.queues) {
          if (c.closed) c = await connect(this.broker.url);
          await attempt(c, (ch) => ch.deleteQueue(q));
        }
        for (const x of this.exchanges) {
          if (c.closed) c = await connect(this.broker.url);
          await attempt(c, (ch) => ch.deleteExchange(x));
        }
      } finally {
        await c.close();
      }
    }
    for (const u of this.users) await admin.deleteUser(u).catch(() => {});
    for (const v of this.vhosts) await admin.deleteVhost(v).catch(() => {});
  }
}

function permTest(name: string, fn: (env: Env, t: Deno.TestContext) => Promise<void>): void {
  Deno.test({
    name,
    // amqplib keeps sockets and timers that outlive individual operations.
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const broker = await startBroker();
      const admin = REFERENCE ? new RabbitmqctlAdmin() : new ServiceAdmin(broker.server.service);
      const env = new Env(broker, admin);
      try {
        await fn(env, t);
      } finally {
        try {
          await env.cleanup();
        } finally {
          await broker.close();
        }
      }
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Assertions

/** RabbitMQ's text for a refused resource operation. */
const refused = (type: "queue" | "exchange", name: string, user: string, vhost = "/") =>
  `ACCESS_REFUSED - access to ${type} '${name}' in vhost '${vhost}' refused for user '${user}'`;

const LOGIN_REFUSED = "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. " +
  "For details see the broker logfile.";

/** Asserts that `op` on a fresh channel is closed with 403 and RabbitMQ's text; the connection lives. */
async function assertRefused(
  c: Client,
  op: (ch: AmqpChannel) => Promise<unknown>,
  type: "queue" | "exchange",
  name: string,
  user: string,
  vhost = "/",
): Promise<void> {
  const expected: Failure = {
    code: 403,
    text: refused(type, name, user, vhost),
    connectionClosed: false,
  };
  assert.deepEqual(await attempt(c, op), expected);
}

async function assertFails(
  c: Client,
  op: (ch: AmqpChannel) => Promise<unknown>,
  code: number,
  text: string,
): Promise<void> {
  assert.deepEqual(await attempt(c, op), { code, text, connectionClosed: false });
}

async function assertAllowed(c: Client, op: (ch: AmqpChannel) => Promise<unknown>) {
  assert.equal(await attempt(c, op), null);
}

const publish = (exchange: string, key = "k") => (ch: AmqpChannel) =>
  publishAndSync(ch, exchange, key, "m");

/** The patterns most tests use: names starting `cfg-`/`w-`/`r-` get one right, `all-` all three. */
const PERMS: [string, string, string] = ["^(cfg|all)-", "^(w|all)-", "^(r|all)-"];

/** How a raw handshake ended: open, or the connection.close the server sent. */
type HandshakeEnd =
  | "open"
  | "socket closed"
  | { code: number; text: string; classId: number; methodId: number };

/** A raw handshake (PLAIN, authentication_failure_close) up to connection.open. */
async function handshake(
  hostname: string,
  port: number,
  user: string,
  password: string,
  vhost = "/",
): Promise<HandshakeEnd> {
  const c = await RawAmqp.open(port, hostname);
  const ended = (m: Awaited<ReturnType<RawAmqp["readMethod"]>>): HandshakeEnd | undefined => {
    if (!m) return "socket closed";
    if (m.method.id === spec.CONNECTION_CLOSE) {
      const { replyCode: code, replyText: text, classId, methodId } = m.method;
      return { code, text, classId, methodId };
    }
    return undefined;
  };
  try {
    await c.send(AMQP_HEADER);
    await c.expectMethod(0, spec.CONNECTION_START);
    await c.sendMethod(0, {
      id: spec.CONNECTION_START_OK,
      clientProperties: { capabilities: { authentication_failure_close: true } },
      mechanism: "PLAIN",
      response: new TextEncoder().encode(`\0${user}\0${password}`),
      locale: "en_US",
    });
    const tune = await c.readMethod();
    const early = ended(tune);
    if (early) return early;
    if (tune!.method.id !== spec.CONNECTION_TUNE) throw new Error("expected connection.tune");
    await c.sendMethod(0, {
      id: spec.CONNECTION_TUNE_OK,
      channelMax: tune!.method.channelMax,
      frameMax: tune!.method.frameMax,
      heartbeat: 0,
    });
    await c.sendMethod(0, {
      id: spec.CONNECTION_OPEN,
      virtualHost: vhost,
      capabilities: "",
      insist: false,
    });
    const open = await c.readMethod();
    const late = ended(open);
    if (late) return late;
    if (open!.method.id !== spec.CONNECTION_OPEN_OK) throw new Error("expected open-ok");
    await c.closeGracefully();
    return "open";
  } finally {
    await c.dispose();
  }
}

/**
 * The reply text of a channel.close that failed an amqplib operation: from its error message, or
 * from the raw close frame some operations (basic.get) reject with.
 */
function closeText(err: unknown): string | undefined {
  const frame = err as { fields?: { replyText?: string } };
  return frame?.fields?.replyText ?? (err instanceof Error ? replyText(err) : undefined);
}

/** What amqplib's connect rejected with: [code or -1, reply text or message]. */
async function connectFailure(url: string): Promise<[number, string]> {
  try {
    const c = await within(connect(url), 5000, "connect");
    await c.close();
  } catch (err) {
    const e = err as AmqpError;
    const m = /: (\d{3}) \(/.exec(e.message);
    return [e.code ?? (m ? Number(m[1]) : -1), replyText(e) ?? e.message];
  }
  assert.fail(`connect to ${url} succeeded`);
}

// ---------------------------------------------------------------------------------------------
// Resource operations

permTest(
  "queue.declare needs configure on the queue; passive declares need nothing",
  async (env) => {
    const g = await (await env.client()).channel();
    const existing = await env.declareQueues(g, "w", "none");
    const u = await env.user(PERMS);
    const c = await env.client(u.url());

    await assertAllowed(c, (ch) => ch.assertQueue(env.q("cfg"), { durable: false }));
    await assertAllowed(c, (ch) => ch.assertQueue(env.q("all"), { durable: false }));
    const denied = env.q("w");
    await assertRefused(
      c,
      (ch) => ch.assertQueue(denied, { durable: false }),
      "queue",
      denied,
      u.name,
    );
    // A redeclare of an existing queue is checked too.
    await assertRefused(
      c,
      (ch) => ch.assertQueue(existing.w, { durable: false }),
      "queue",
      existing.w,
      u.name,
    );
    // Unanchored by default: the pattern must match somewhere, here at the start only.
    const inside = `x-cfg-${env.id}`;
    await assertRefused(
      c,
      (ch) => ch.assertQueue(inside, { durable: false }),
      "queue",
      inside,
      u.name,
    );

    // Passive declares check nothing: an existing queue answers, a missing one is 404, not 403.
    await assertAllowed(c, (ch) => ch.checkQueue(existing.none));
    await assertAllowed(c, (ch) => ch.checkQueue(existing.w));
    const missing = env.q("none");
    await assertFails(
      c,
      (ch) => ch.checkQueue(missing),
      404,
      `NOT_FOUND - no queue '${missing}' in vhost '/'`,
    );
  },
);

permTest("queue.delete needs configure on the queue", async (env) => {
  const gc = await env.client();
  const g = await gc.channel();
  const qs = await env.declareQueues(g, "cfg", "w", "r");
  const u = await env.user(PERMS);
  const c = await env.client(u.url());

  await assertAllowed(c, (ch) => ch.deleteQueue(qs.cfg));
  await assertFails(
    gc,
    (ch) => ch.checkQueue(qs.cfg),
    404,
    `NOT_FOUND - no queue '${qs.cfg}' in vhost '/'`,
  );
  await assertRefused(c, (ch) => ch.deleteQueue(qs.w), "queue", qs.w, u.name);
  await assertRefused(c, (ch) => ch.deleteQueue(qs.r), "queue", qs.r, u.name);
  await assertAllowed(gc, (ch) => ch.checkQueue(qs.w));
  // Checked before the queue is looked up.
  const missing = env.q("none");
  await assertRefused(c, (ch) => ch.deleteQueue(missing), "queue", missing, u.name);
});

permTest(
  "queue.bind and queue.unbind need write on the queue and read on the exchange",
  async (env) => {
    const g = await (await env.client()).channel();
    const qs = await env.declareQueues(g, "w", "cfg", "r", "all");
    const xs = await env.declareExchanges(g, "r", "w", "cfg");
    const u = await env.user(PERMS);
    const c = await env.client(u.url());

    await assertAllowed(c, (ch) => ch.bindQueue(qs.w, xs.r, "k"));
    await assertAllowed(c, (ch) => ch.bindQueue(qs.all, xs.r, "k"));
    await assertRefused(c, (ch) => ch.bindQueue(qs.cfg, xs.r, "k"), "queue", qs.cfg, u.name);
    await assertRefused(c, (ch) => ch.bindQueue(qs.r, xs.r, "k"), "queue", qs.r, u.name);
    await assertRefused(c, (ch) => ch.bindQueue(qs.w, xs.w, "k"), "exchange", xs.w, u.name);
    await assertRefused(
      c,
      (ch) => ch.bindQueue(qs.w, "amq.direct", "k"),
      "exchange",
      "amq.direct",
      u.name,
    );
    // Both refused: the queue (write) is checked first.
    await assertRefused(c, (ch) => ch.bindQueue(qs.cfg, xs.cfg, "k"), "queue", qs.cfg, u.name);

    await assertRefused(c, (ch) => ch.unbindQueue(qs.cfg, xs.r, "k"), "queue", qs.cfg, u.name);
    await assertRefused(c, (ch) => ch.unbindQueue(qs.w, xs.w, "k"), "exchange", xs.w, u.name);
    await assertAllowed(c, (ch) => ch.unbindQueue(qs.w, xs.r, "k"));
  },
);

permTest("exchange.declare and exchange.delete need configure on the exchange", async (env) => {
  const gc = await env.client();
  const g = await gc.channel();
  const xs = await env.declareExchanges(g, "cfg", "w", "none");
  const u = await env.user(PERMS);
  const c = await env.client(u.url());

  await assertAllowed(c, (ch) => ch.assertExchange(env.x("cfg"), "fanout", { durable: false }));
  await assertAllowed(c, (ch) => ch.assertExchange(xs.cfg, "direct", { durable: false }));
  const denied = env.x("r");
  await assertRefused(
    c,
    (ch) => ch.assertExchange(denied, "topic", { durable: false }),
    "exchange",
    denied,
    u.name,
  );
  await assertRefused(
    c,
    (ch) => ch.assertExchange(xs.w, "direct", { durable: false }),
    "exchange",
    xs.w,
    u.name,
  );
  // amq.* names are checked for configure before the reserved-prefix refusal.
  const reserved = `amq.${env.id}`;
  await assertRefused(
    c,
    (ch) => ch.assertExchange(reserved, "direct", { durable: false }),
    "exchange",
    reserved,
    u.name,
  );

  // Passive: nothing checked.
  await assertAllowed(c, (ch) => ch.checkExchange(xs.none));
  await assertAllowed(c, (ch) => ch.checkExchange(xs.w));
  await assertAllowed(c, (ch) => ch.checkExchange("amq.topic"));

  await assertRefused(c, (ch) => ch.deleteExchange(xs.w), "exchange", xs.w, u.name);
  await assertAllowed(gc, (ch) => ch.checkExchange(xs.w));
  await assertAllowed(c, (ch) => ch.deleteExchange(xs.cfg));
  await assertFails(
    gc,
    (ch) => ch.checkExchange(xs.cfg),
    404,
    `NOT_FOUND - no exchange '${xs.cfg}' in vhost '/'`,
  );
  const missing = env.x("none");
  await assertRefused(c, (ch) => ch.deleteExchange(missing), "exchange", missing, u.name);
});

permTest(
  "exchange.bind and exchange.unbind need write on the destination and read on the source",
  async (env) => {
    const g = await (await env.client()).channel();
    const xs = await env.declareExchanges(g, "w", "r", "cfg", "all");
    const u = await env.user(PERMS);
    const c = await env.client(u.url());

    await assertAllowed(c, (ch) => ch.bindExchange(xs.w, xs.r, "k"));
    await assertAllowed(c, (ch) => ch.bindExchange(xs.all, xs.all, "k"));
    await assertRefused(c, (ch) => ch.bindExchange(xs.cfg, xs.r, "k"), "exchange", xs.cfg, u.name);
    await assertRefused(c, (ch) => ch.bindExchange(xs.r, xs.r, "k"), "exchange", xs.r, u.name);
    await assertRefused(c, (ch) => ch.bindExchange(xs.w, xs.cfg, "k"), "exchange", xs.cfg, u.name);
    await assertRefused(c, (ch) => ch.bindExchange(xs.w, xs.w, "k"), "exchange", xs.w, u.name);
    // Both refused: the destination (write) is checked first.
    await assertRefused(c, (ch) => ch.bindExchange(xs.r, xs.w, "k"), "exchange", xs.r, u.name);

    await assertRefused(
      c,
      (ch) => ch.unbindExchange(xs.cfg, xs.r, "k"),
      "exchange",
      xs.cfg,
      u.name,
    );
    await assertRefused(
      c,
      (ch) => ch.unbindExchange(xs.w, xs.cfg, "k"),
      "exchange",
      xs.cfg,
      u.name,
    );
    await assertAllowed(c, (ch) => ch.unbindExchange(xs.w, xs.r, "k"));
  },
);

permTest(
  "basic.publish needs write on the exchange; the default exchange is amq.default",
  async (env) => {
    const gc = await env.client();
    const g = await gc.channel();
    const qs = await env.declareQueues(g, "r");
    const xs = await env.declareExchanges(g, "w", "r");
    await g.bindQueue(qs.r, xs.w, "k");
    const u = await env.user(PERMS);
    const c = await env.client(u.url());

    await assertAllowed(c, publish(xs.w));
    assert.equal(await getText(g, qs.r), "m");
    await assertRefused(c, publish(xs.r), "exchange", xs.r, u.name);
    await assertRefused(c, publish("amq.direct"), "exchange", "amq.direct", u.name);
    await assertRefused(c, publish("", qs.r), "exchange", "amq.default", u.name);
    await assertRefused(
      c,
      async (ch) => {
        ch.sendToQueue(qs.r, Buffer.from("m"));
        await ch.checkExchange("amq.direct");
      },
      "exchange",
      "amq.default",
      u.name,
    );
    // Checked before the exchange is looked up: 403 for a refused name, 404 for an allowed one.
    const missing = env.x("none");
    await assertRefused(c, publish(missing), "exchange", missing, u.name);
    const missingW = env.x("w");
    await assertFails(
      c,
      publish(missingW),
      404,
      `NOT_FOUND - no exchange '${missingW}' in vhost '/'`,
    );
    assert.equal(await getText(g, qs.r), null);

    // Write on the name amq.default is what opens the default exchange.
    const d = await env.user(["", "^amq\\.default$", ""]);
    const dc = await env.client(d.url());
    await assertAllowed(dc, publish("", qs.r));
    assert.equal(await getText(g, qs.r), "m");
    await assertRefused(dc, publish(xs.w), "exchange", xs.w, d.name);
  },
);

permTest("basic.consume, basic.get and queue.purge need read on the queue", async (env) => {
  const g = await (await env.client()).channel();
  const qs = await env.declareQueues(g, "r", "w", "cfg", "all");
  g.sendToQueue(qs.r, Buffer.from("hello"));
  const u = await env.user(PERMS);
  const c = await env.client(u.url());

  await assertAllowed(c, async (ch) => assert.equal(await getText(ch, qs.r), "hello"));
  await assertAllowed(c, (ch) => ch.get(qs.all));
  await assertRefused(c, (ch) => ch.get(qs.w), "queue", qs.w, u.name);
  await assertRefused(c, (ch) => ch.get(qs.cfg), "queue", qs.cfg, u.name);

  await assertAllowed(c, (ch) => ch.consume(qs.r, () => {}));
  await assertRefused(c, (ch) => ch.consume(qs.w, () => {}), "queue", qs.w, u.name);
  await assertRefused(
    c,
    (ch) => ch.consume(qs.cfg, () => {}, { noAck: true }),
    "queue",
    qs.cfg,
    u.name,
  );

  await assertAllowed(c, (ch) => ch.purgeQueue(qs.r));
  await assertRefused(c, (ch) => ch.purgeQueue(qs.w), "queue", qs.w, u.name);

  // Checked before the queue is looked up.
  const missing = env.q("none");
  await assertRefused(c, (ch) => ch.get(missing), "queue", missing, u.name);
  await assertRefused(c, (ch) => ch.consume(missing, () => {}), "queue", missing, u.name);
  await assertRefused(c, (ch) => ch.purgeQueue(missing), "queue", missing, u.name);
  const missingR = env.q("r");
  await assertFails(
    c,
    (ch) => ch.get(missingR),
    404,
    `NOT_FOUND - no queue '${missingR}' in vhost '/'`,
  );
});

/** RabbitMQ's server-generated names: amq.gen- and 22 URL-safe base64 characters. */
const AMQ_GEN = (user: string) =>
  new RegExp(
    `^ACCESS_REFUSED - access to queue 'amq\\.gen-[A-Za-z0-9_-]{22}' in vhost '/' ` +
      `refused for user '${user}'$`,
  );

permTest("server-named queues are checked under their amq.gen- name", async (env) => {
  const u = await env.user(PERMS);
  const c = await env.client(u.url());
  const failure = await attempt(c, (ch) => ch.assertQueue("", { exclusive: true, durable: false }));
  assert.ok(failure, "server-named declare without configure on amq.gen-… succeeded");
  assert.equal(failure.code, 403);
  assert.equal(failure.connectionClosed, false);
  assert.match(failure.text, AMQ_GEN(u.name));

  const gen = await env.user(["^amq\\.gen-", "^amq\\.gen-", "^amq\\.gen-"]);
  const gc = await env.client(gen.url());
  const ch = await gc.channel();
  const { queue } = await ch.assertQueue("", { exclusive: true, durable: false });
  assert.match(queue, /^amq\.gen-[A-Za-z0-9_-]{22}$/);
  await ch.consume(queue, () => {});
  await ch.purgeQueue(queue);
  // An explicit name is still checked as itself.
  await assertRefused(
    gc,
    (c2) => c2.assertQueue(`x-${env.id}`, { durable: false }),
    "queue",
    `x-${env.id}`,
    gen.name,
  );
});

permTest("empty patterns deny every operation but passive declares", async (env) => {
  const g = await (await env.client()).channel();
  const qs = await env.declareQueues(g, "all");
  const xs = await env.declareExchanges(g, "all");
  const u = await env.user(["", "", ""]);
  // Having a (denying) permission entry is enough for connection.open.
  const c = await env.client(u.url());
  const q = qs.all;
  const x = xs.all;

  await assertRefused(c, (ch) => ch.assertQueue(q, { durable: false }), "queue", q, u.name);
  await assertRefused(c, (ch) => ch.deleteQueue(q), "queue", q, u.name);
  await assertRefused(c, (ch) => ch.bindQueue(q, x, "k"), "queue", q, u.name);
  await assertRefused(c, (ch) => ch.unbindQueue(q, x, "k"), "queue", q, u.name);
  await assertRefused(c, (ch) => ch.get(q), "queue", q, u.name);
  await assertRefused(c, (ch) => ch.consume(q, () => {}), "queue", q, u.name);
  await assertRefused(c, (ch) => ch.purgeQueue(q), "queue", q, u.name);
  await assertRefused(
    c,
    (ch) => ch.assertExchange(x, "direct", { durable: false }),
    "exchange",
    x,
    u.name,
  );
  await assertRefused(c, (ch) => ch.deleteExchange(x), "exchange", x, u.name);
  await assertRefused(c, (ch) => ch.bindExchange(x, "amq.direct", "k"), "exchange", x, u.name);
  await assertRefused(c, (ch) => ch.unbindExchange(x, "amq.direct", "k"), "exchange", x, u.name);
  await assertRefused(c, publish(x), "exchange", x, u.name);
  await assertRefused(c, publish("", q), "exchange", "amq.default", u.name);
  const failure = await attempt(c, (ch) => ch.assertQueue("", { exclusive: true, durable: false }));
  assert.equal(failure?.code, 403);
  assert.match(failure!.text, AMQ_GEN(u.name));

  await assertAllowed(c, (ch) => ch.checkQueue(q));
  await assertAllowed(c, (ch) => ch.checkExchange(x));
  await assertAllowed(c, (ch) => ch.checkExchange("amq.fanout"));
});

permTest(
  "dead-letter exchange: queue.declare also needs read on the queue and write on the DLX",
  async (env) => {
    // RabbitMQ's access-control table: queue.declare with x-dead-letter-exchange checks configure on
    // the queue, read on the queue, then write on the dead-letter exchange.
    const g = await (await env.client()).channel();
    const xs = await env.declareExchanges(g, "w", "r");
    const u = await env.user(PERMS);
    const c = await env.client(u.url());
    const dlx = (x: string) => ({ durable: false, arguments: { "x-dead-letter-exchange": x } });

    await assertAllowed(c, (ch) => ch.assertQueue(env.q("all"), dlx(xs.w)));
    const noRead = env.q("cfg");
    await assertRefused(c, (ch) => ch.assertQueue(noRead, dlx(xs.w)), "queue", noRead, u.name);
    await assertRefused(
      c,
      (ch) => ch.assertQueue(env.q("all"), dlx(xs.r)),
      "exchange",
      xs.r,
      u.name,
    );
  },
);

permTest(
  "alternate exchange: exchange.declare also needs read on the exchange and write on the AE",
  async (env) => {
    // RabbitMQ's access-control table: exchange.declare with alternate-exchange checks configure on
    // the exchange, read on the exchange, then write on the alternate exchange.
    const g = await (await env.client()).channel();
    const xs = await env.declareExchanges(g, "w", "r");
    const u = await env.user(PERMS);
    const c = await env.client(u.url());
    const ae = (x: string) => ({ durable: false, arguments: { "alternate-exchange": x } });

    await assertAllowed(c, (ch) => ch.assertExchange(env.x("all"), "direct", ae(xs.w)));
    const noRead = env.x("cfg");
    await assertRefused(
      c,
      (ch) => ch.assertExchange(noRead, "direct", ae(xs.w)),
      "exchange",
      noRead,
      u.name,
    );
    await assertRefused(
      c,
      (ch) => ch.assertExchange(env.x("all"), "direct", ae(xs.r)),
      "exchange",
      xs.r,
      u.name,
    );
  },
);

permTest("reserved names: which refusal comes first", async (env, t) => {
  const g = await (await env.client()).channel();
  const qs = await env.declareQueues(g, "w");
  const u = await env.user(PERMS);
  const c = await env.client(u.url());
  const DEFAULT = "ACCESS_REFUSED - operation not permitted on the default exchange";

  await t.step("queue.declare: the amq. prefix is refused before the configure check", async () => {
    const reserved = `amq.${env.id}`;
    await assertFails(
      c,
      (ch) => ch.assertQueue(reserved, { durable: false }),
      403,
      `ACCESS_REFUSED - queue name '${reserved}' contains reserved prefix 'amq.*'`,
    );
  });
  await t.step(
    "exchange.delete of a system exchange: refused before the configure check",
    async () => {
      await assertFails(
        c,
        (ch) => ch.deleteExchange("amq.direct"),
        403,
        "ACCESS_REFUSED - deletion of system exchange 'amq.direct' in vhost '/' not allowed",
      );
    },
  );
  await t.step("the default exchange can be neither declared nor deleted", async () => {
    await assertFails(c, (ch) => ch.assertExchange("", "direct"), 403, DEFAULT);
    await assertFails(c, (ch) => ch.deleteExchange(""), 403, DEFAULT);
  });
  await t.step("queue.bind: write on the queue, then the default exchange, then read", async () => {
    await assertFails(c, (ch) => ch.bindQueue(qs.w, "", "k"), 403, DEFAULT);
    const denied = env.q("cfg");
    await g.assertQueue(denied, { durable: false });
    await assertRefused(c, (ch) => ch.bindQueue(denied, "", "k"), "queue", denied, u.name);
  });
});

// ---------------------------------------------------------------------------------------------
// Logging in and opening a vhost

permTest("bad credentials: 403 ACCESS_REFUSED connection close", async (env) => {
  const u = await env.user(PERMS);
  assert.deepEqual(await connectFailure(env.url(u.name, "wrong")), [403, LOGIN_REFUSED]);
  assert.deepEqual(await connectFailure(env.url(`nobody-${env.id}`, "x")), [403, LOGIN_REFUSED]);
  assert.deepEqual(await connectFailure(env.url(u.name, "")), [403, LOGIN_REFUSED]);
  assert.deepEqual(
    await handshake(env.hostname, env.port, u.name, `${u.password}x`),
    { code: 403, text: LOGIN_REFUSED, classId: 0, methodId: 0 },
  );
  // The right password works.
  assert.equal(await handshake(env.hostname, env.port, u.name, u.password), "open");
});

permTest(
  "connection.open: 530 for a vhost the user may not use or that does not exist",
  async (env) => {
    const none = await env.user(null);
    const notAllowed = `NOT_ALLOWED - access to vhost '/' refused for user '${none.name}'`;
    assert.deepEqual(await handshake(env.hostname, env.port, none.name, none.password, "/"), {
      code: 530,
      text: notAllowed,
      classId: 10,
      methodId: 40,
    });
    // amqplib reports a close during open without its text.
    assert.match((await connectFailure(none.url()))[1], /ConnectionClose/);

    // Permissions on another vhost do not open this one.
    const v = await env.vhost();
    const other = await env.user(PERMS, v);
    assert.equal(await handshake(env.hostname, env.port, other.name, other.password, v), "open");
    assert.deepEqual(await handshake(env.hostname, env.port, other.name, other.password, "/"), {
      code: 530,
      text: `NOT_ALLOWED - access to vhost '/' refused for user '${other.name}'`,
      classId: 10,
      methodId: 40,
    });

    const missing = `perm-${env.id}-missing`;
    assert.deepEqual(await handshake(env.hostname, env.port, other.name, other.password, missing), {
      code: 530,
      text: `NOT_ALLOWED - vhost ${missing} not found`,
      classId: 10,
      methodId: 40,
    });
  },
);

// ---------------------------------------------------------------------------------------------
// Changes while connected

permTest("permission changes apply to already-open channels", async (env, t) => {
  const g = await (await env.client()).channel();
  const qs = await env.declareQueues(g, "all");
  const u = await env.user(["^cfg-", "", ""]);
  const c = await env.client(u.url());
  const ch = await c.channel();

  await ch.assertQueue(env.q("cfg"), { durable: false });
  await env.admin.setPermissions(u.name, "/", ".*", "", ".*");
  // A grant applies to the next operation on the same channel.
  await ch.assertQueue(qs.all, { durable: false });
  await ch.get(qs.all);

  await env.admin.setPermissions(u.name, "/", "^cfg-", "", "");
  // A revocation applies to a resource this channel has not used yet.
  const fresh = env.q("other");
  await assert.rejects(ch.assertQueue(fresh, { durable: false }), (err: unknown) => {
    assert.equal(closeText(err), refused("queue", fresh, u.name));
    return true;
  });

  await t.step({
    name: "a revocation applies even to a resource the channel used before",
    // RabbitMQ 3.10 keeps a per-channel cache of successful checks (rabbit_channel's
    // permission_cache), so there a revoked right keeps working on a channel that used it.
    ignore: REFERENCE,
    fn: async () => {
      await env.admin.setPermissions(u.name, "/", "^cfg-", "", ".*");
      const ch2 = await c.channel();
      await ch2.get(qs.all);
      await env.admin.setPermissions(u.name, "/", "^cfg-", "", "^nothing$");
      await assert.rejects(ch2.get(qs.all), (err: unknown) => {
        assert.equal(closeText(err), refused("queue", qs.all, u.name));
        return true;
      });
    },
  });

  // Clearing permissions leaves the connection open, refuses its operations, and refuses a new
  // connection.open.
  await env.admin.clearPermissions(u.name, "/");
  await delay(100);
  assert.equal(c.closed, false);
  const q = env.q("cfg");
  await assertRefused(c, (ch3) => ch3.assertQueue(q, { durable: false }), "queue", q, u.name);
  assert.deepEqual(await handshake(env.hostname, env.port, u.name, u.password), {
    code: 530,
    text: `NOT_ALLOWED - access to vhost '/' refused for user '${u.name}'`,
    classId: 10,
    methodId: 40,
  });
  await env.admin.setPermissions(u.name, "/", ".*", ".*", ".*");
  await assertAllowed(c, (ch3) => ch3.assertQueue(q, { durable: false }));
});

permTest("deleting a user closes its connections with 320 and refuses its logins", async (env) => {
  const u = await env.user([".*", ".*", ".*"]);
  const other = await env.user([".*", ".*", ".*"]);
  const c1 = await env.client(u.url());
  const c2 = await env.client(u.url());
  await c2.channel();
  const o = await env.client(other.url());
  const g = await env.client();

  await env.admin.deleteUser(u.name);
  env.forgetUser(u.name);
  for (const c of [c1, c2]) {
    assert.equal(await c.waitClosed(5000), true, "connection of the deleted user still open");
    assert.equal(c.closeError?.code, 320);
    assert.equal(replyText(c.closeError), `CONNECTION_FORCED - user '${u.name}' is deleted`);
  }
  // Other users keep their connections.
  await assertAllowed(o, (ch) => ch.checkExchange("amq.direct"));
  await assertAllowed(g, (ch) => ch.checkExchange("amq.direct"));
  assert.deepEqual(await connectFailure(u.url()), [403, LOGIN_REFUSED]);
  if (!REFERENCE) {
    const names = env.broker.server.service.listConnections().map((r) => r.user);
    assert.ok(!names.includes(u.name), `connections of ${u.name} still listed`);
  }
});

permTest("deleting a vhost closes its connections and deletes its queues", async (env) => {
  const v = await env.vhost();
  const u = await env.user([".*", ".*", ".*"], v);
  const c = await env.client(u.url(v));
  const ch = await c.channel();
  await ch.assertQueue("vq", { durable: false });
  await ch.assertExchange("vx", "fanout", { durable: false });
  ch.sendToQueue("vq", Buffer.from("lost"));
  await ch.checkQueue("vq");
  const g = await env.client();

  await env.admin.deleteVhost(v);
  env.forgetVhost(v);
  assert.equal(await c.waitClosed(5000), true, "connection to the deleted vhost still open");
  if (!REFERENCE) {
    // RabbitMQ 3.10 resets these sockets (its vhost supervisor stops first); ours closes them
    // with 320 as its connection-tracking handler means to.
    assert.equal(c.closeError?.code, 320);
    assert.equal(replyText(c.closeError), `CONNECTION_FORCED - vhost '${v}' is deleted`);
  }
  await assertAllowed(g, (gch) => gch.checkExchange("amq.direct"));
  assert.deepEqual(await handshake(env.hostname, env.port, u.name, u.password, v), {
    code: 530,
    text: `NOT_ALLOWED - vhost ${v} not found`,
    classId: 10,
    methodId: 40,
  });

  // Recreated, it is empty and its permissions are gone.
  await env.admin.addVhost(v);
  env.trackVhost(v);
  assert.deepEqual(await handshake(env.hostname, env.port, u.name, u.password, v), {
    code: 530,
    text: `NOT_ALLOWED - access to vhost '${v}' refused for user '${u.name}'`,
    classId: 10,
    methodId: 40,
  });
  await env.admin.setPermissions(u.name, v, ".*", ".*", ".*");
  const c2 = await env.client(u.url(v));
  await assertFails(
    c2,
    (ch2) => ch2.checkQueue("vq"),
    404,
    `NOT_FOUND - no queue 'vq' in vhost '${v}'`,
  );
  await assertFails(
    c2,
    (ch2) => ch2.checkExchange("vx"),
    404,
    `NOT_FOUND - no exchange 'vx' in vhost '${v}'`,
  );
});

// ---------------------------------------------------------------------------------------------
// The loopback rule

/** A non-loopback IPv4 address of this machine: traffic to it stays on the machine. */
const LOCAL_ADDRESS = Deno.networkInterfaces().find((i) =>
  i.family === "IPv4" && !i.address.startsWith("127.")
)?.address;

Deno.test({
  name: "loopback users: guest only from loopback unless loopback_users excludes it",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await t.step({
      name: `guest from ${LOCAL_ADDRESS ?? "(no non-loopback local address)"}`,
      ignore: LOCAL_ADDRESS === undefined,
      fn: async () => {
        const addr = LOCAL_ADDRESS!;
        if (REFERENCE) {
          const port = Number(new URL(Deno.env.get("TEST_AMQP_URL")!).port || 5672);
          assert.deepEqual(await handshake(addr, port, "guest", "guest"), {
            code: 403,
            text: LOGIN_REFUSED,
            classId: 0,
            methodId: 0,
          });
          return;
        }
        for (const loopbackUsers of [["guest"], []]) {
          const server = await startServer({
            port: 0,
            hostname: addr,
            extraListeners: [{ hostname: "127.0.0.1", port: 0 }],
            logLevel: "none",
            loopbackUsers,
          });
          try {
            const [remotePort, loopPort] = server.listenerAddresses().map((a) =>
              Number(a.slice(a.lastIndexOf(":") + 1))
            );
            server.service.addUser({ name: "other", password: "pw" });
            server.service.setPermissions("other", "/", ".*", ".*", ".*");
            const label = JSON.stringify(loopbackUsers);
            assert.equal(await handshake("127.0.0.1", loopPort, "guest", "guest"), "open", label);
            // (class and method ids of the refusal are the bad-credentials test's business)
            const end = await handshake(addr, remotePort, "guest", "guest");
            assert.deepEqual(
              typeof end === "string" ? end : { code: end.code, text: end.text },
              loopbackUsers.length > 0 ? { code: 403, text: LOGIN_REFUSED } : "open",
              label,
            );
            assert.equal(await handshake(addr, remotePort, "other", "pw"), "open", label);
          } finally {
            await server.close();
          }
        }
      },
    });
    await t.step({
      name: "guest from ::1 (IPv6 loopback)",
      ignore: REFERENCE || !Deno.networkInterfaces().some((i) => i.address === "::1"),
      fn: async () => {
        const server = await startServer({ port: 0, hostname: "::1", logLevel: "none" });
        try {
          assert.deepEqual(server.options.loopbackUsers, ["guest"]);
          assert.equal(await handshake("::1", server.port, "guest", "guest"), "open");
        } finally {
          await server.close();
        }
      },
    });
  },
});
