/**
 * broker: a RabbitMQ-compatible AMQP 0-9-1 message broker.
 *
 *   deno run -A main.ts serve [--port 5672] [--bind 0.0.0.0]
 *   deno run -A main.ts --help
 */
import { runCli } from "./src/cli/main.ts";

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args));
}
