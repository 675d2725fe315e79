/**
 * The memory floor of an idle connection in Deno itself: a child process that only accepts TCP
 * connections and keeps one pending read (into a 1 KiB buffer) on each, which any server must.
 * Its RSS growth per connection is what no broker code can go below; scenario 7 compares the
 * broker's figure with it.
 *
 *   deno run -A scripts/bench/socket_floor.ts [--connections 1000]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { freePort, portAccepts, readVm, round, sleep } from "./util.ts";

const SERVER = `
const l = Deno.listen({ hostname: "127.0.0.1", port: Number(Deno.args[0]) });
for await (const c of l) {
  const buf = new Uint8Array(1024);
  (async () => { try { while (await c.read(buf) !== null); } catch { /* closed */ } })();
}
`;

/** RSS growth per idle connection (KiB) of a bare Deno server holding `n` connections. */
export async function socketFloor(
  n: number,
): Promise<{ connections: number; rssPerConnectionKiB: number }> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", SERVER, String(port)],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const sockets: Deno.TcpConn[] = [];
  try {
    for (let i = 0; i < 100 && !(await portAccepts("127.0.0.1", port)); i++) await sleep(50);
    await sleep(300);
    const before = readVm(child.pid) ?? 0;
    for (let i = 0; i < n; i++) sockets.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    await sleep(1500);
    const after = readVm(child.pid) ?? 0;
    return { connections: n, rssPerConnectionKiB: round((after - before) / n, 1) };
  } finally {
    for (const s of sockets) s.close();
    child.kill("SIGKILL");
    await child.status;
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { connections: { type: "string" } } });
  const r = await socketFloor(Number(values.connections ?? 1000));
  console.log(
    `bare Deno server: ${r.rssPerConnectionKiB} KiB RSS per idle connection (${r.connections})`,
  );
}
