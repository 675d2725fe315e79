/**
 * The one place where AMQP error replies are made: an {@link AmqpError} carries the reply code, the
 * text as RabbitMQ shapes it (`NOT_FOUND - no queue 'q' in vhost '/'`), the class and method that
 * caused it, and whether it closes the connection (hard) or only the channel (soft).
 */
import { METHOD_NAMES, REPLY_CODES } from "./spec.ts";
import * as spec from "./spec.ts";

/** An error that names no method (e.g. a refused login: RabbitMQ sends class 0, method 0). */
export const NO_METHOD = -1;

export class AmqpError extends Error {
  /** Reply text with the code's name in front, as sent in channel.close / connection.close. */
  readonly text: string;
  /**
   * The method that failed (class << 16 | method). 0: not known yet (the dispatcher fills in the
   * method being handled); {@link NO_METHOD}: deliberately none (sent as class 0, method 0).
   */
  methodId: number;

  constructor(
    readonly code: number,
    detail: string,
    readonly hard = REPLY_CODES[code]?.hard ?? true,
    methodId = 0,
  ) {
    const text = `${REPLY_CODES[code]?.name ?? "INTERNAL_ERROR"} - ${detail}`;
    super(text);
    this.text = text;
    this.methodId = methodId;
  }

  get classId(): number {
    return this.methodId === NO_METHOD ? 0 : this.methodId >>> 16;
  }

  get methodIndex(): number {
    return this.methodId === NO_METHOD ? 0 : this.methodId & 0xffff;
  }

  get methodName(): string {
    return METHOD_NAMES[this.methodId] ?? "none";
  }
}

/** `vhost '/'` style naming used inside RabbitMQ's texts. */
export const inVhost = (kind: "exchange" | "queue", name: string, vhost: string) =>
  `${kind} '${name}' in vhost '${vhost}'`;

export const notFound = (detail: string) => new AmqpError(spec.NOT_FOUND, detail);
export const accessRefused = (detail: string) => new AmqpError(spec.ACCESS_REFUSED, detail);
export const resourceLocked = (detail: string) => new AmqpError(spec.RESOURCE_LOCKED, detail);
export const preconditionFailed = (detail: string) =>
  new AmqpError(spec.PRECONDITION_FAILED, detail);
export const notAllowed = (detail: string) => new AmqpError(spec.NOT_ALLOWED, detail);
export const commandInvalid = (detail: string) => new AmqpError(spec.COMMAND_INVALID, detail);
export const frameError = (detail: string) => new AmqpError(spec.FRAME_ERROR, detail);
export const syntaxError = (detail: string) => new AmqpError(spec.SYNTAX_ERROR, detail);
export const channelError = (detail: string) => new AmqpError(spec.CHANNEL_ERROR, detail);
export const unexpectedFrame = (detail: string) => new AmqpError(spec.UNEXPECTED_FRAME, detail);
export const notImplemented = (detail: string) => new AmqpError(spec.NOT_IMPLEMENTED, detail);
export const internalError = (detail: string) => new AmqpError(spec.INTERNAL_ERROR, detail);
