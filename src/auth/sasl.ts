/**
 * SASL mechanisms offered in connection.start: PLAIN (`authzid NUL user NUL password`) and
 * AMQPLAIN (a field table without its length prefix, with LOGIN and PASSWORD).
 */
import { Reader } from "../amqp/reader.ts";
import { readTable } from "../amqp/table.ts";

export const MECHANISMS = "PLAIN AMQPLAIN";

export interface Credentials {
  username: string;
  password: string;
}

const utf8 = new TextDecoder();

/** Parses a start-ok response; undefined when the mechanism is unknown or the response garbled. */
export function parseSaslResponse(
  mechanism: string,
  response: Uint8Array,
): Credentials | undefined {
  if (mechanism === "PLAIN") {
    const first = response.indexOf(0);
    const second = first < 0 ? -1 : response.indexOf(0, first + 1);
    if (second < 0) return undefined;
    return {
      username: utf8.decode(response.subarray(first + 1, second)),
      password: utf8.decode(response.subarray(second + 1)),
    };
  }
  if (mechanism === "AMQPLAIN") {
    // The response is a table's content; give it the 4-byte length prefix it lacks.
    const framed = new Uint8Array(response.length + 4);
    new DataView(framed.buffer).setUint32(0, response.length);
    framed.set(response, 4);
    try {
      const t = readTable(new Reader(framed), 0);
      if (typeof t.LOGIN !== "string" || typeof t.PASSWORD !== "string") return undefined;
      return { username: t.LOGIN, password: t.PASSWORD };
    } catch {
      return undefined;
    }
  }
  return undefined;
}
