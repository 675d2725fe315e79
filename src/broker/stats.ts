/**
 * Message counters, as RabbitMQ's management API reports them (message_stats). They are plain
 * integer fields bumped on the hot path; the admin server samples them every few seconds to derive
 * `*_details.rate` values and a short history.
 */
export class MessageStats {
  /** Messages published into an exchange (publish_in) or routed to a queue (publish). */
  publish = 0;
  /** Messages an exchange routed onward (publish_out). */
  publishOut = 0;
  /** Deliveries to consumers needing an ack. */
  deliver = 0;
  /** Deliveries to no-ack consumers. */
  deliverNoAck = 0;
  /** basic.get answers needing an ack. */
  get = 0;
  /** basic.get answers in no-ack mode. */
  getNoAck = 0;
  /** Deliveries (and gets) with redelivered set. */
  redeliver = 0;
  ack = 0;
  /** Publisher confirms sent. */
  confirm = 0;
  /** Unroutable messages returned or dropped. */
  returnUnroutable = 0;
  dropUnroutable = 0;
}

/** The counter names, for code that samples or sums them. */
export const STAT_KEYS = Object.keys(new MessageStats()) as (keyof MessageStats)[];
