/**
 * Interop: RabbitMQ's six getting-started tutorials, written the way the tutorials write them
 * (Python, pika.BlockingConnection), run against the broker; plus a kombu/py-amqp round trip that
 * logs in with AMQPLAIN.
 *
 * The scripts live in ./py/, one per role. Each prints one JSON object per line on stdout (see
 * py/common.py); consumers print {"event":"ready"} once consuming has started, and the test only
 * publishes after that, so what each consumer gets is deterministic.
 *
 * Against a reference RabbitMQ:
 *   TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5700/ deno test -A tests/interop/pika_tutorials_test.ts
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startBroker } from "../helpers/broker.ts";
import { pythonSkipReason, runPython, spawnPython } from "../helpers/python.ts";

const PIKA_SKIP = pythonSkipReason("pika");
const KOMBU_SKIP = pythonSkipReason("kombu");
if (PIKA_SKIP) console.warn(`pika interop tests skipped: ${PIKA_SKIP}`);
if (KOMBU_SKIP) console.warn(`kombu interop test skipped: ${KOMBU_SKIP}`);

/** How long a consumer script keeps running at most (seconds), and how long we wait for it. */
const CONSUMER_TIMEOUT_S = "20";
const WAIT_MS = 15_000;

// deno-lint-ignore no-explicit-any
type Line = { event: string; [field: string]: any };

function script(name: string): string {
  return fileURLToPath(new URL(`./py/${name}`, import.meta.url));
}

function unique(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

function parseLines(stdout: string): Line[] {
  return stdout.split("\n").filter((l) => l.trim() !== "").map((text) => {
    try {
      return JSON.parse(text) as Line;
    } catch {
      return { event: "unparsed", text };
    }
  });
}

function fib(n: number): number {
  let [a, b] = [0, 1];
  for (let i = 0; i < n; i++) [a, b] = [b, a + b];
  return a;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns something other than undefined/false. */
async function eventually<T>(
  what: string,
  check: () => T | undefined | false,
  procs: Py[],
  timeoutMs = WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}\n` +
          procs.map((p) => p.describe()).join("\n"),
      );
    }
    await sleep(20);
  }
}

/** A long-running Python script whose JSON stdout lines are collected as they arrive. */
class Py {
  readonly lines: Line[] = [];
  #stderr = "";
  #stdoutEnded = false;
  #code: number | null = null;
  readonly #child: Deno.ChildProcess;
  readonly #status: Promise<Deno.CommandStatus>;
  readonly #pumps: Promise<unknown>;

  constructor(readonly name: string, file: string, args: string[]) {
    this.#child = spawnPython(script(file), args);
    this.#status = this.#child.status.then((status) => {
      this.#code = status.code;
      return status;
    });
    let partial = "";
    this.#pumps = Promise.all([
      this.#pump(this.#child.stdout, (text) => {
        const parts = (partial + text).split("\n");
        partial = parts.pop()!;
        for (const line of parts) this.lines.push(...parseLines(line));
      }).then(() => {
        this.lines.push(...parseLines(partial));
        this.#stdoutEnded = true;
      }),
      this.#pump(this.#child.stderr, (text) => this.#stderr += text),
    ]);
  }

  async #pump(stream: ReadableStream<Uint8Array>, onText: (text: string) => void) {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) onText(text);
  }

  events(event: string): Line[] {
    return this.lines.filter((l) => l.event === event);
  }

  /** Bodies of the deliveries reported with `event` (consumers: "message", workers: "ack"). */
  bodies(event = "message"): string[] {
    return this.events(event).map((l) => l.body);
  }

  /** Waits until this process has printed `n` lines with `event`; fails early if it ends. */
  async waitFor(event: string, n = 1, timeoutMs = WAIT_MS): Promise<Line[]> {
    return await eventually(
      `${n} "${event}" line(s) from ${this.name}`,
      () => {
        const found = this.events(event);
        if (found.length >= n) return found;
        if (this.#stdoutEnded) {
          throw new Error(`${this.name} ended before printing ${n} "${event}"\n${this.describe()}`);
        }
        return undefined;
      },
      [this],
      timeoutMs,
    );
  }

  async ready(): Promise<Line> {
    return (await this.waitFor("ready"))[0];
  }

  /** Waits for the script to exit by itself and checks it succeeded. */
  async finished(timeoutMs = WAIT_MS): Promise<void> {
    await eventually(`${this.name} to exit`, () => this.#code !== null, [this], timeoutMs);
    await this.#pumps;
    assert.equal(this.#code, 0, `${this.name} failed\n${this.describe()}`);
  }

  kill(signal: Deno.Signal = "SIGKILL"): void {
    if (this.#code !== null) return;
    try {
      this.#child.kill(signal);
    } catch { /* already gone */ }
  }

  /** Kills the process if still running and waits until it and its pipes are done. */
  async stop(): Promise<void> {
    this.kill();
    await this.#status;
    await this.#pumps;
  }

  describe(): string {
    const out = this.lines.map((l) => `    ${JSON.stringify(l)}`).join("\n");
    const state = this.#code === null ? "running" : `exit code ${this.#code}`;
    return `--- ${this.name} (${state}) stdout:\n${out}\n--- ${this.name} stderr:\n${this.#stderr}`;
  }
}

/** One test's broker plus the Python processes and broker objects it must clean up. */
class Session {
  readonly #procs: Py[] = [];
  /** "queue:NAME" / "exchange:NAME" items for py/cleanup.py. */
  readonly #declared = new Set<string>();

  constructor(readonly url: string) {}

  spawn(name: string, file: string, ...args: string[]): Py {
    const proc = new Py(name, file, [this.url, ...args]);
    this.#procs.push(proc);
    return proc;
  }

  /** Runs a script to completion and returns its lines; it must succeed. */
  async run(file: string, ...args: string[]): Promise<Line[]> {
    const result = await runPython(script(file), [this.url, ...args], WAIT_MS);
    assert.equal(
      result.code,
      0,
      `${file} ${args.join(" ")} failed (exit ${result.code})\n` +
        `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`,
    );
    return parseLines(result.stdout);
  }

  /** Remembers objects to delete when the test ends (RabbitMQ runs are shared). */
  declared(...items: string[]): void {
    for (const item of items) this.#declared.add(item);
  }

  /** Deletes declared objects now, returning cleanup.py's report lines. */
  async delete(...items: string[]): Promise<Line[]> {
    for (const item of items) this.#declared.delete(item);
    return await this.run("cleanup.py", ...items);
  }

  async close(): Promise<void> {
    await Promise.all(this.#procs.map((p) => p.stop()));
    if (this.#declared.size > 0) {
      const result = await runPython(script("cleanup.py"), [this.url, ...this.#declared], WAIT_MS);
      if (result.code !== 0) console.warn(`cleanup failed:\n${result.stdout}${result.stderr}`);
    }
  }
}

async function withBroker(fn: (s: Session) => Promise<void>): Promise<void> {
  const broker = await startBroker();
  const session = new Session(broker.url);
  try {
    await fn(session);
  } finally {
    await session.close();
    await broker.close();
  }
}

function pikaTest(name: string, fn: (s: Session) => Promise<void>): void {
  Deno.test({
    name: PIKA_SKIP ? `${name} (skipped: ${PIKA_SKIP})` : name,
    ignore: PIKA_SKIP !== null,
    fn: () => withBroker(fn),
  });
}

const SERVER_NAMED = /^amq\.gen-/;

// --- Tutorial 1: "Hello World!" ---------------------------------------------------------------

pikaTest("pika tutorial 1: hello world", async (s) => {
  const queue = unique("hello");
  s.declared(`queue:${queue}`);

  const receiver = s.spawn("receive.py", "receive.py", queue, "2", CONSUMER_TIMEOUT_S);
  await receiver.ready();
  const sent = await s.run("send.py", queue);
  assert.deepEqual(sent.map((l) => l.body), ["Hello World!"]);
  await receiver.waitFor("message");
  await s.run("send.py", queue, "second");
  await receiver.finished();
  assert.deepEqual(
    receiver.events("message").map(({ body, exchange, routing_key, redelivered }) => ({
      body,
      exchange,
      routing_key,
      redelivered,
    })),
    [
      { body: "Hello World!", exchange: "", routing_key: queue, redelivered: false },
      { body: "second", exchange: "", routing_key: queue, redelivered: false },
    ],
  );
  assert.deepEqual(receiver.events("done"), [{ event: "done", received: 2, timed_out: false }]);

  // Sent while nobody consumes: the message waits in the queue for the next receiver.
  await s.run("send.py", queue, "queued before the receiver started");
  const late = s.spawn("late receive.py", "receive.py", queue, "1", CONSUMER_TIMEOUT_S);
  await late.finished();
  assert.deepEqual(late.bodies(), ["queued before the receiver started"]);

  const [deleted] = await s.delete(`queue:${queue}`);
  assert.equal(deleted.message_count, 0, "queue should be empty after consuming");
});

// --- Tutorial 2: work queues ------------------------------------------------------------------

pikaTest("pika tutorial 2: prefetch 1 dispatches fairly to a slow and a fast worker", async (s) => {
  const queue = unique("task_queue");
  s.declared(`queue:${queue}`);

  // Each task has one dot: the slow worker works 1.5 s on it, the fast one not at all.
  const slow = s.spawn("slow worker", "worker.py", queue, "1.5", CONSUMER_TIMEOUT_S);
  await slow.ready();
  const fast = s.spawn("fast worker", "worker.py", queue, "0", CONSUMER_TIMEOUT_S);
  await fast.ready();

  const tasks = Array.from({ length: 10 }, (_, i) => `task ${i + 1}.`);
  await s.run("new_task.py", queue, ...tasks);
  await eventually(
    "all 10 tasks acked",
    () => slow.events("ack").length + fast.events("ack").length >= tasks.length,
    [slow, fast],
  );

  const slowDone = slow.bodies("ack");
  const fastDone = fast.bodies("ack");
  const detail = `slow acked ${JSON.stringify(slowDone)}, fast acked ${JSON.stringify(fastDone)}`;
  // Without prefetch 1 round-robin would hand the slow worker half of the tasks.
  assert.ok(slowDone.length >= 1 && slowDone.length <= 2, detail);
  assert.ok(fastDone.length > slowDone.length, detail);
  // Every task delivered exactly once, persistent, never redelivered.
  const received = [...slow.events("received"), ...fast.events("received")];
  assert.deepEqual(received.map((l) => l.body).sort(), [...tasks].sort(), detail);
  assert.deepEqual([...slowDone, ...fastDone].sort(), [...tasks].sort(), detail);
  for (const delivery of received) {
    assert.equal(delivery.delivery_mode, 2, JSON.stringify(delivery));
    assert.equal(delivery.redelivered, false, JSON.stringify(delivery));
  }

  // The tutorial's warning: redeclaring an existing queue with other parameters (here durable)
  // is refused with 406 PRECONDITION_FAILED.
  const redeclare = await runPython(script("send.py"), [s.url, queue, "not durable"], WAIT_MS);
  assert.notEqual(redeclare.code, 0, `non-durable redeclare succeeded:\n${redeclare.stdout}`);
  assert.match(redeclare.stderr, /406/);
  assert.match(redeclare.stderr, /PRECONDITION_FAILED/);

  await Promise.all([slow.stop(), fast.stop()]);
  const [deleted] = await s.delete(`queue:${queue}`);
  assert.equal(deleted.message_count, 0);
});

pikaTest("pika tutorial 2: two idle workers with prefetch 1 take turns", async (s) => {
  const queue = unique("task_queue");
  s.declared(`queue:${queue}`);

  const a = s.spawn("worker A", "worker.py", queue, "0", CONSUMER_TIMEOUT_S);
  await a.ready();
  const b = s.spawn("worker B", "worker.py", queue, "0", CONSUMER_TIMEOUT_S);
  await b.ready();

  // One task at a time, each acked before the next is sent: both workers are idle every time.
  const order: string[] = [];
  for (let i = 1; i <= 6; i++) {
    const task = `turn ${i}`;
    await s.run("new_task.py", queue, task);
    const who = await eventually(`"${task}" acked`, () => {
      if (a.bodies("ack").includes(task)) return "A";
      if (b.bodies("ack").includes(task)) return "B";
      return undefined;
    }, [a, b]);
    order.push(who);
  }
  for (let i = 1; i < order.length; i++) {
    assert.notEqual(order[i], order[i - 1], `deliveries should alternate: ${order.join(" ")}`);
  }
  assert.equal(a.events("received").length, 3);
  assert.equal(b.events("received").length, 3);
});

pikaTest("pika tutorial 2: a worker killed before acking has its task redelivered", async (s) => {
  const queue = unique("task_queue");
  s.declared(`queue:${queue}`);

  const doomed = s.spawn("doomed worker", "worker.py", queue, "60", CONSUMER_TIMEOUT_S);
  await doomed.ready();
  const task = "dies while working on this.";
  await s.run("new_task.py", queue, task);
  const [first] = await doomed.waitFor("received");
  assert.equal(first.body, task);
  assert.equal(first.redelivered, false);

  const survivor = s.spawn("surviving worker", "worker.py", queue, "0", CONSUMER_TIMEOUT_S);
  await survivor.ready();
  doomed.kill("SIGKILL");
  await survivor.waitFor("ack");

  // Had the survivor got the task while the doomed worker still held it, redelivered would be
  // false.
  assert.deepEqual(
    survivor.events("received").map(({ body, redelivered, delivery_mode }) => ({
      body,
      redelivered,
      delivery_mode,
    })),
    [{ body: task, redelivered: true, delivery_mode: 2 }],
  );
  assert.deepEqual(doomed.events("ack"), []);

  await survivor.stop();
  const [deleted] = await s.delete(`queue:${queue}`);
  assert.equal(deleted.message_count, 0);
});

// --- Tutorial 3: publish/subscribe ------------------------------------------------------------

pikaTest("pika tutorial 3: fanout reaches every bound queue, not later ones", async (s) => {
  const exchange = unique("logs");
  s.declared(`exchange:${exchange}`);

  const first = s.spawn("receive_logs.py #1", "receive_logs.py", exchange, "4", CONSUMER_TIMEOUT_S);
  const second = s.spawn(
    "receive_logs.py #2",
    "receive_logs.py",
    exchange,
    "4",
    CONSUMER_TIMEOUT_S,
  );
  const [q1, q2] = await Promise.all([first.ready(), second.ready()]);
  assert.match(q1.queue, SERVER_NAMED);
  assert.match(q2.queue, SERVER_NAMED);
  assert.notEqual(q1.queue, q2.queue);

  const logs = ["info: one", "warning: two", "error: three"];
  await s.run("emit_log.py", exchange, ...logs);
  await Promise.all([first.waitFor("message", 3), second.waitFor("message", 3)]);

  // Bound after those were published: it must get only what is published from now on.
  const late = s.spawn(
    "late receive_logs.py",
    "receive_logs.py",
    exchange,
    "1",
    CONSUMER_TIMEOUT_S,
  );
  await late.ready();
  await s.run("emit_log.py", exchange, "after the late bind");
  await Promise.all([first.finished(), second.finished(), late.finished()]);

  for (const receiver of [first, second]) {
    assert.deepEqual(receiver.bodies(), [...logs, "after the late bind"], receiver.name);
    for (const m of receiver.events("message")) {
      assert.equal(m.exchange, exchange);
      assert.equal(m.routing_key, "");
    }
  }
  assert.deepEqual(late.bodies(), ["after the late bind"]);
});

// --- Tutorial 4: routing ----------------------------------------------------------------------

pikaTest("pika tutorial 4: direct exchange routes by severity", async (s) => {
  const exchange = unique("direct_logs");
  s.declared(`exchange:${exchange}`);

  // Counts are exact; the last message published reaches both queues, so an extra delivery would
  // use up a receiver's count before it, and show up in the comparison.
  const errors = s.spawn(
    "errors only",
    "receive_logs_direct.py",
    exchange,
    "2",
    CONSUMER_TIMEOUT_S,
    "error",
  );
  const all = s.spawn(
    "info+warning+error",
    "receive_logs_direct.py",
    exchange,
    "5",
    CONSUMER_TIMEOUT_S,
    "info",
    "warning",
    "error",
  );
  await Promise.all([errors.ready(), all.ready()]);

  await s.run(
    "emit_log_direct.py",
    exchange,
    ...["info", "i1", "warning", "w1", "error", "e1", "debug", "d1", "info", "i2", "error", "e2"],
  );
  await Promise.all([errors.finished(), all.finished()]);

  const got = (p: Py) => p.events("message").map((m) => `${m.routing_key}:${m.body}`);
  assert.deepEqual(got(errors), ["error:e1", "error:e2"]);
  assert.deepEqual(got(all), ["info:i1", "warning:w1", "error:e1", "info:i2", "error:e2"]);
});

// --- Tutorial 5: topics -----------------------------------------------------------------------

pikaTest("pika tutorial 5: topic exchange matches * and # patterns", async (s) => {
  const exchange = unique("topic_logs");
  s.declared(`exchange:${exchange}`);

  const keys = [
    // the tutorial's examples
    "quick.orange.rabbit",
    "lazy.orange.elephant",
    "quick.orange.fox",
    "lazy.brown.fox",
    "lazy.pink.rabbit",
    "quick.brown.fox",
    "orange",
    "quick.orange.male.rabbit",
    "lazy.orange.male.rabbit",
    // "#" matches zero words too
    "lazy",
    // last: matches every receiver, so extra deliveries would use up a receiver's exact count
    "quick.orange.rabbit",
  ];
  const expected: Record<string, { bindings: string[]; keys: string[] }> = {
    Q1: {
      bindings: ["*.orange.*"],
      keys: ["quick.orange.rabbit", "lazy.orange.elephant", "quick.orange.fox"],
    },
    Q2: {
      bindings: ["*.*.rabbit", "lazy.#"],
      keys: [
        "quick.orange.rabbit",
        "lazy.orange.elephant",
        "lazy.brown.fox",
        "lazy.pink.rabbit", // matches both bindings, delivered once
        "lazy.orange.male.rabbit",
        "lazy",
      ],
    },
    everything: { bindings: ["#"], keys: keys.slice(0, -1) },
    exact: { bindings: ["quick.orange.rabbit", "orange"], keys: ["quick.orange.rabbit", "orange"] },
  };
  for (const e of Object.values(expected)) e.keys.push("quick.orange.rabbit");

  const receivers = Object.entries(expected).map(([name, e]) =>
    s.spawn(
      name,
      "receive_logs_topic.py",
      exchange,
      String(e.keys.length),
      CONSUMER_TIMEOUT_S,
      ...e.bindings,
    )
  );
  await Promise.all(receivers.map((r) => r.ready()));

  const bodyFor = (i: number) => `message ${i}`;
  await s.run("emit_log_topic.py", exchange, ...keys.flatMap((key, i) => [key, bodyFor(i)]));
  await Promise.all(receivers.map((r) => r.finished()));

  const got = Object.fromEntries(receivers.map((r) => [
    r.name,
    r.events("message").map((m) => `${m.routing_key} ${m.body}`),
  ]));
  const want = Object.fromEntries(
    Object.entries(expected).map(([name, e]) => {
      // each key's message body, in publish order (the repeated last key has its own body)
      let from = 0;
      return [
        name,
        e.keys.map((key) => {
          const i = keys.indexOf(key, from);
          from = i + 1;
          return `${key} ${bodyFor(i)}`;
        }),
      ];
    }),
  );
  assert.deepEqual(got, want);
});

// --- Tutorial 6: RPC --------------------------------------------------------------------------

pikaTest("pika tutorial 6: RPC over reply_to and correlation_id", async (s) => {
  const queue = unique("rpc_queue");
  s.declared(`queue:${queue}`);

  const alone = [30, 0, 1, 2, 10];
  const clientA = [5, 6, 7, 20, 3];
  const clientB = [8, 9, 15, 25, 4];
  const total = alone.length + clientA.length + clientB.length;
  const server = s.spawn(
    "rpc_server.py",
    "rpc_server.py",
    queue,
    String(total),
    CONSUMER_TIMEOUT_S,
  );
  await server.ready();

  const check = (lines: Line[], numbers: number[], who: string) => {
    const detail = `${who}: ${JSON.stringify(lines)}`;
    assert.deepEqual(lines.filter((l) => l.event === "stray"), [], detail);
    const ready = lines.find((l) => l.event === "ready");
    assert.match(ready?.callback_queue ?? "", SERVER_NAMED, detail);
    const replies = lines.filter((l) => l.event === "reply");
    assert.deepEqual(
      replies.map((r) => [r.n, r.result]),
      numbers.map((n) => [n, fib(n)]),
      detail,
    );
    for (const r of replies) assert.equal(r.callback_queue, ready!.callback_queue, detail);
    return replies;
  };

  // One client on its own: "fib(30)" as in the tutorial, then a few more.
  const single = check(await s.run("rpc_client.py", queue, "10", ...alone.map(String)), alone, "A");

  // Two clients at once, each with its own callback queue.
  const [linesA, linesB] = await Promise.all([
    s.run("rpc_client.py", queue, "10", ...clientA.map(String)),
    s.run("rpc_client.py", queue, "10", ...clientB.map(String)),
  ]);
  const a = check(linesA, clientA, "client A");
  const b = check(linesB, clientB, "client B");
  assert.notEqual(a[0].callback_queue, b[0].callback_queue);

  await server.finished();
  assert.deepEqual(server.events("done"), [{ event: "done", received: total, timed_out: false }]);
  // The server saw each call once, with the client's correlation id and callback queue.
  const calls = [...single, ...a, ...b];
  assert.equal(new Set(calls.map((c) => c.correlation_id)).size, total, "correlation ids unique");
  const byId = (x: { correlation_id: string }, y: { correlation_id: string }) =>
    x.correlation_id < y.correlation_id ? -1 : 1;
  assert.deepEqual(
    server.events("request").map((r) => ({
      correlation_id: r.correlation_id,
      reply_to: r.reply_to,
      n: r.n,
    })).sort(byId),
    calls.map((c) => ({ correlation_id: c.correlation_id, reply_to: c.callback_queue, n: c.n }))
      .sort(byId),
  );
});

// --- kombu / py-amqp --------------------------------------------------------------------------

Deno.test({
  name: "kombu (py-amqp, AMQPLAIN): SimpleQueue round trip with headers" +
    (KOMBU_SKIP ? ` (skipped: ${KOMBU_SKIP})` : ""),
  ignore: KOMBU_SKIP !== null,
  fn: () =>
    withBroker(async (s) => {
      const queue = unique("kombu");
      // kombu's SimpleQueue declares a direct exchange named like the queue.
      s.declared(`queue:${queue}`, `exchange:${queue}`);
      const lines = await s.run("kombu_roundtrip.py", queue);
      const detail = JSON.stringify(lines, null, 1);

      const connected = lines.find((l) => l.event === "connected");
      assert.equal(connected?.mechanism, "AMQPLAIN", detail);
      assert.ok(connected!.server_mechanisms.includes("AMQPLAIN"), detail);

      const headers = {
        "x-str": "text",
        "x-int": 42,
        "x-neg": -7,
        "x-big": 2 ** 40,
        "x-bool": true,
        "x-float": 1.5,
        "x-list": [1, "two", false],
        "x-table": { nested: "yes", n: 3 },
      };
      const message = (how: string, n: number) => ({
        event: "message",
        how,
        payload: { hello: "kombu", n },
        headers,
        content_type: "application/json",
        redelivered: false,
      });
      assert.deepEqual(lines.filter((l) => l.event === "message"), [
        message("basic.get", 1),
        message("basic.consume", 2),
      ]);
      assert.deepEqual(lines.find((l) => l.event === "deleted"), {
        event: "deleted",
        message_count: 0,
      });
      // A wrong password over AMQPLAIN is refused (connection.close 403 ACCESS_REFUSED).
      assert.equal(lines.find((l) => l.event === "bad_login")?.error, "AccessRefused", detail);
    }),
});
