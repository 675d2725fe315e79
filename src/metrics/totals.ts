/**
 * Node-wide message counters that only go up, as Prometheus counters must (RabbitMQ's
 * `rabbitmq_global_*` and `*_opened_total`/`*_closed_total`). The hot path counts per channel
 * only ({@link MessageStats}); when a channel or connection ends, the server hands its last counts
 * here, and a scrape adds the live channels' counts to them.
 *
 * @example
 * ```ts
 * const totals = new NodeTotals();
 * totals.channelClosed(channel.stats);      // from Connection when a channel goes away
 * totals.connectionClosed();                // from BrokerServer for a connection that was open
 * const sum = totals.messages(liveChannelStats);
 * ```
 */
import { MessageStats, STAT_KEYS } from "../broker/stats.ts";

export class NodeTotals {
  /** Connections that reached connection.open-ok and have ended since start. */
  connectionsClosed = 0;
  channelsClosed = 0;
  /** The counts of every channel that has ended. */
  private readonly retired = new MessageStats();
  /** Stats already retired: a channel torn down twice counts once. */
  private readonly seen = new WeakSet<MessageStats>();

  /** Adds an ended channel's counts to the totals (once per channel). */
  channelClosed(stats: MessageStats): void {
    if (this.seen.has(stats)) return;
    this.seen.add(stats);
    this.channelsClosed++;
    addInto(this.retired, stats);
  }

  connectionClosed(): void {
    this.connectionsClosed++;
  }

  /** Every message counter since start: ended channels plus the `live` ones. */
  messages(live: Iterable<MessageStats>): MessageStats {
    const sum = new MessageStats();
    addInto(sum, this.retired);
    for (const s of live) addInto(sum, s);
    return sum;
  }
}

function addInto(target: MessageStats, source: MessageStats): void {
  for (const k of STAT_KEYS) target[k] += source[k];
}
