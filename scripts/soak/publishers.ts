/**
 * The publishing side of a soak run: N publisher connections, one confirm-mode channel each,
 * publisher p sending to queue p % queues through the default exchange at a fixed rate. One
 * scheduler tick drives them all: each tick, every publisher sends what its rate makes due
 * (phases are staggered so they do not all fire together), unless its window of unconfirmed
 * publishes is full, in which case it falls behind and catches up later.
 *
 * @module
 */
import type { AMQPChannel, AMQPClient } from "@cloudamqp/amqp-client";
import { closeQuietly, connect, now, wallNow } from "../bench/util.ts";
import { BODY, type Ledger } from "./ledger.ts";

/** What the publishers need to know. */
export interface PublisherPlan {
  uri: string;
  queueNames: string[];
  publishers: number;
  /** Messages per second, per publisher. */
  rate: number;
  /** Body size in bytes (at least {@link BODY.minSize}). */
  size: number;
  /** delivery-mode 2. */
  persistent: boolean;
  /** Most unconfirmed publishes per publisher. */
  window: number;
  /** Stop once this many have been sent in total (0: no limit). */
  maxMessages: number;
  /** Connections opened at once while connecting. */
  connectBatch: number;
}

/** Totals over all publishers (the ledger has the ids). */
export interface PublisherCounters {
  sent: number;
  confirmed: number;
  nacked: number;
  /** Publisher connections open. */
  connected: number;
}

interface Publisher {
  index: number;
  client: AMQPClient;
  ch: AMQPChannel;
  queue: string;
  outstanding: number;
  body: Uint8Array;
  view: DataView;
}

/** How often the scheduler looks what is due. */
const TICK_MS = 20;

/** The publisher connections of a run. */
export class Publishers {
  readonly counters: PublisherCounters = { sent: 0, confirmed: 0, nacked: 0, connected: 0 };
  #list: Publisher[] = [];
  #stopping = false;

  private constructor(
    readonly plan: PublisherPlan,
    readonly ledger: Ledger,
    readonly errors: string[],
  ) {}

  /** Opens every publisher connection and channel (confirm mode). */
  static async open(plan: PublisherPlan, ledger: Ledger, errors: string[]): Promise<Publishers> {
    const pubs = new Publishers(plan, ledger, errors);
    for (let p = 0; p < plan.publishers; p += plan.connectBatch) {
      const n = Math.min(plan.connectBatch, plan.publishers - p);
      pubs.#list.push(...await Promise.all(Array.from({ length: n }, (_, k) => pubs.#one(p + k))));
    }
    return pubs;
  }

  async #one(index: number): Promise<Publisher> {
    const name = `soak-publisher-${index}`;
    const client = await connect(this.plan.uri, this.errors, name);
    this.counters.connected++;
    client.onerror = (e) => {
      this.counters.connected--;
      if (!this.#stopping && this.errors.length < 100) this.errors.push(`${name}: ${e.message}`);
    };
    const ch = await client.channel();
    await ch.confirmSelect();
    const body = new Uint8Array(this.plan.size);
    const view = new DataView(body.buffer);
    view.setUint32(BODY.publisher, index, true);
    const queue = this.plan.queueNames[index % this.plan.queueNames.length];
    return { index, client, ch, queue, outstanding: 0, body, view };
  }

  /** Publishes at the planned rate until `done()` or the message limit. */
  async run(done: () => boolean): Promise<void> {
    const { rate, publishers, maxMessages } = this.plan;
    const props = this.plan.persistent ? { deliveryMode: 2 } : {};
    const start = now();
    const limitReached = () => maxMessages > 0 && this.counters.sent >= maxMessages;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (done() || limitReached()) {
          clearInterval(timer);
          resolve();
          return;
        }
        const elapsed = (now() - start) / 1000;
        for (const pub of this.#list) {
          // Staggered phases: publisher p's first message is due p/publishers of a period in.
          const due = Math.floor(rate * elapsed + pub.index / publishers) -
            this.ledger.sentBy(pub.index);
          for (let i = 0; i < due && pub.outstanding < this.plan.window; i++) {
            if (limitReached() || pub.ch.closed) break;
            this.#publish(pub, props);
          }
        }
      }, TICK_MS);
    });
  }

  /** Waits (at most `ms`) for the confirms still outstanding. */
  async settle(ms: number): Promise<void> {
    const until = now() + ms;
    while (this.#list.some((p) => p.outstanding > 0 && !p.ch.closed) && now() < until) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  #publish(pub: Publisher, props: { deliveryMode?: number }): void {
    const seq = this.ledger.sent(pub.index);
    pub.view.setFloat64(BODY.time, wallNow(), true);
    pub.view.setUint32(BODY.seq, seq, true);
    this.counters.sent++;
    pub.outstanding++;
    // The client copies the body into its frame buffer before returning, so it can be reused.
    pub.ch.basicPublish("", pub.queue, pub.body, props).then(
      () => {
        pub.outstanding--;
        this.counters.confirmed++;
        this.ledger.confirmed(pub.index, seq);
      },
      (e: Error) => {
        pub.outstanding--;
        this.counters.nacked++;
        this.ledger.nacked();
        if (!this.#stopping && this.errors.length < 100) {
          this.errors.push(`soak-publisher-${pub.index}: ${e.message}`);
        }
      },
    );
  }

  /** Closes every publisher connection. */
  async close(): Promise<void> {
    this.#stopping = true;
    for (let i = 0; i < this.#list.length; i += 100) {
      await Promise.all(this.#list.slice(i, i + 100).map((p) => closeQuietly(p.client)));
    }
  }
}
