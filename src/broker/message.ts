/**
 * One published message. A single Message is shared by every queue it is routed to: queues hold
 * references, and the body is never copied per queue.
 */
import { decodeBasicProperties } from "../amqp/spec.ts";
import type { BasicProperties } from "../amqp/spec.ts";
import { Reader } from "../amqp/reader.ts";
import type { FieldTable } from "../amqp/table.ts";

const scratch = new Reader();

export class Message {
  private decoded: BasicProperties | undefined;

  constructor(
    readonly exchange: string,
    readonly routingKey: string,
    /** The content header's property flags and list, byte for byte as published. */
    readonly properties: Uint8Array,
    readonly body: Uint8Array,
  ) {}

  /** Decoded properties, parsed on first use (routing and delivery never need them). */
  get props(): BasicProperties {
    if (!this.decoded) {
      scratch.reset(this.properties, 0, this.properties.length);
      this.decoded = decodeBasicProperties(scratch);
    }
    return this.decoded;
  }

  get headers(): FieldTable | undefined {
    return this.props.headers;
  }

  get size(): number {
    return this.body.length;
  }
}

/** A message's place in one queue: per-queue sequence (for requeue order) and redelivered flag. */
export interface QueuedMessage {
  msg: Message;
  seq: number;
  redelivered: boolean;
}
