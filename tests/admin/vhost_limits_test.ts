/**
 * /api/vhost-limits and vhost limits in definitions, as RabbitMQ 3.10's management plugin has
 * them. Every status and body asserted here was checked against RabbitMQ 3.10.8:
 *
 *   TEST_ADMIN_URL=http://127.0.0.1:15701 TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5701/ \
 *     deno test -A tests/admin/vhost_limits_test.ts
 *
 * Where RabbitMQ answers oddly (DELETE on a missing vhost is a 500; a vhost whose last limit was
 * deleted over HTTP still lists with `"value": []`), the tests do not go.
 */
import assert from "node:assert/strict";
import { type AdminTarget, enc, type Json, startAdminTarget } from "../helpers/http.ts";

const NOT_FOUND = { error: "Object Not Found", reason: "Not Found" };

function limitsTest(name: string, fn: (t: AdminTarget) => Promise<void>): void {
  Deno.test({
    name: `admin vhost-limits: ${name}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const target = await startAdminTarget();
      try {
        await fn(target);
      } finally {
        await target.close();
      }
    },
  });
}

const limitPath = (vhost: string, name?: string) =>
  `/vhost-limits/${enc(vhost)}${name === undefined ? "" : `/${name}`}`;

/** The listing's rows for the vhosts this test made (the reference has others). */
async function rowsOf(t: AdminTarget, vhosts: string[]): Promise<Json[]> {
  return (await t.api.list("/vhost-limits")).filter((r) => vhosts.includes(r.vhost as string));
}

limitsTest("PUT and DELETE one limit at a time; GET lists them", async (t) => {
  const v = await t.vhost("vl");
  const w = await t.vhost("vl");
  assert.deepEqual(await t.api.list(limitPath(v)), []);
  await t.api.expect("PUT", limitPath(v, "max-queues"), 204, { value: 10 });
  await t.api.expect("PUT", limitPath(v, "max-connections"), 204, { value: 5 });
  // The one set last comes first, as RabbitMQ lists them.
  assert.deepEqual(await t.api.list(limitPath(v)), [
    { vhost: v, value: { "max-connections": 5, "max-queues": 10 } },
  ]);
  // Setting again replaces; negative values (no limit) are kept as given.
  await t.api.expect("PUT", limitPath(v, "max-queues"), 204, { value: -5 });
  assert.deepEqual(await t.api.list(limitPath(v)), [
    { vhost: v, value: { "max-queues": -5, "max-connections": 5 } },
  ]);
  await t.api.expect("PUT", limitPath(w, "max-queues"), 204, { value: 0 });
  const both = await rowsOf(t, [v, w]);
  assert.deepEqual(
    both.sort((a, b) => String(a.vhost).localeCompare(String(b.vhost))),
    [
      { vhost: v, value: { "max-queues": -5, "max-connections": 5 } },
      { vhost: w, value: { "max-queues": 0 } },
    ].sort((a, b) => a.vhost.localeCompare(b.vhost)),
  );

  // DELETE removes one; removing one that is not set (or unknown) is no error.
  await t.api.expect("DELETE", limitPath(v, "max-queues"), 204);
  await t.api.expect("DELETE", limitPath(v, "max-queues"), 204);
  await t.api.expect("DELETE", limitPath(v, "max-nothing"), 204);
  assert.deepEqual(await t.api.list(limitPath(v)), [
    { vhost: v, value: { "max-connections": 5 } },
  ]);
  // Not a resource of its own: GET and POST on one limit are 405.
  assert.equal((await t.api.call("GET", limitPath(v, "max-connections"))).status, 405);
  assert.equal((await t.api.call("POST", limitPath(v, "max-connections"), {})).status, 405);
});

limitsTest("bad names and values are 400 'Validation failed'", async (t) => {
  const v = await t.vhost("vl");
  const refused = async (name: string, body: unknown, raw?: string) => {
    const r = await t.api.call("PUT", limitPath(v, name), body, raw ? { raw } : {});
    assert.equal(r.status, 400, JSON.stringify(r.body));
    const reply = r.body as Json;
    assert.equal(reply.error, "bad_request");
    return String(reply.reason);
  };
  assert.match(await refused("max-foo", { value: 6 }), /^Validation failed\n\nUnrecognised terms/);
  for (const value of ["x", "3", 1.5, true, null]) {
    assert.match(
      await refused("max-queues", { value }),
      /^Validation failed\n\nmax-queues should be a number, actually was .+\n$/,
    );
  }
  assert.equal(await refused("max-queues", {}), "[{key_missing,value}]");
  assert.equal(await refused("max-queues", undefined, "[1]"), "not_json");
  assert.equal(await refused("max-queues", undefined, "{nope"), "not_json");
  assert.deepEqual(await t.api.list(limitPath(v)), []);
});

limitsTest("a vhost that does not exist is a 404", async (t) => {
  const missing = `vl-missing-${crypto.randomUUID().slice(0, 8)}`;
  assert.deepEqual(await t.api.expect("GET", limitPath(missing), 404), NOT_FOUND);
  assert.deepEqual(
    await t.api.expect("PUT", limitPath(missing, "max-queues"), 404, { value: 1 }),
    { error: "not_found", reason: "vhost_not_found" },
  );
});

limitsTest("administrators change limits; others see those of the vhosts they see", async (t) => {
  const v = await t.vhost("vl");
  const hidden = await t.vhost("vl");
  await t.api.expect("PUT", limitPath(v, "max-queues"), 204, { value: 3 });
  await t.api.expect("PUT", limitPath(hidden, "max-queues"), 204, { value: 4 });
  const mgmtName = await t.user("vl-mgmt", "management");
  await t.api.expect("PUT", `/permissions/${enc(v)}/${enc(mgmtName)}`, 201, {
    configure: ".*",
    write: ".*",
    read: ".*",
  });
  const mgmt = t.api.as(mgmtName, "pw");
  const mon = t.api.as(await t.user("vl-mon", "monitoring"), "pw");

  const visible = (rows: Json[]) => rows.filter((r) => [v, hidden].includes(r.vhost as string));
  assert.deepEqual(visible(await mgmt.list("/vhost-limits")), [
    { vhost: v, value: { "max-queues": 3 } },
  ]);
  assert.deepEqual(await mgmt.list(limitPath(v)), [{ vhost: v, value: { "max-queues": 3 } }]);
  assert.deepEqual(await mgmt.expect("GET", limitPath(hidden), 401), {
    error: "not_authorised",
    reason: "User not authorised to access virtual host",
  });
  assert.equal(visible(await mon.list("/vhost-limits")).length, 2);
  assert.deepEqual(await mon.list(limitPath(hidden)), [
    { vhost: hidden, value: { "max-queues": 4 } },
  ]);
  for (const who of [mgmt, mon]) {
    assert.deepEqual(await who.expect("PUT", limitPath(v, "max-queues"), 401, { value: 1 }), {
      error: "not_authorised",
      reason: "Not administrator user",
    });
    assert.deepEqual(await who.expect("DELETE", limitPath(v, "max-queues"), 401), {
      error: "not_authorised",
      reason: "Not administrator user",
    });
  }
  assert.deepEqual(await t.api.list(limitPath(v)), [{ vhost: v, value: { "max-queues": 3 } }]);
});

limitsTest("definitions export limits as vhost-limits runtime parameters", async (t) => {
  const v = await t.vhost("vl");
  await t.api.expect("PUT", limitPath(v, "max-queues"), 204, { value: 3 });
  await t.api.expect("PUT", limitPath(v, "max-connections"), 204, { value: 7 });
  const param = {
    value: { "max-connections": 7, "max-queues": 3 },
    vhost: v,
    component: "vhost-limits",
    name: "limits",
  };
  const all = await t.api.get<{ parameters: Json[] }>("/definitions");
  assert.deepEqual(all.parameters.filter((p) => p.vhost === v), [param]);
  // A one-vhost export keeps the parameter's vhost field.
  const one = await t.api.get<{ parameters: Json[] }>(`/definitions/${enc(v)}`);
  assert.deepEqual(one.parameters, [param]);
});

limitsTest("definitions import sets limits and refuses queues past max-queues", async (t) => {
  const v = await t.vhost("vl");
  const queue = (name: string) => ({ name, durable: true, auto_delete: false, arguments: {} });
  // The limits a document carries replace the vhost's.
  await t.api.expect("PUT", limitPath(v, "max-connections"), 204, { value: 9 });
  await t.api.expect("POST", "/definitions", 204, {
    parameters: [{
      vhost: v,
      component: "vhost-limits",
      name: "limits",
      value: { "max-queues": 3 },
    }],
  });
  assert.deepEqual(await t.api.list(limitPath(v)), [{ vhost: v, value: { "max-queues": 3 } }]);

  // Four new queues do not fit under 3: nothing is imported.
  const four = { queues: ["a", "b", "c", "d"].map(queue) };
  assert.deepEqual(await t.api.expect("POST", `/definitions/${enc(v)}`, 400, four), {
    error: "bad_request",
    reason: `Adding 4 queue(s) to virtual host "${v}" would exceed the limit of 3 queue(s).` +
      "\n\nThis virtual host currently has 0 queue(s) defined.\n\nImport aborted!",
  });
  assert.deepEqual(await t.api.list(`/queues/${enc(v)}`), []);
  // Three do; then only new ones count (a is there already).
  await t.api.expect("POST", `/definitions/${enc(v)}`, 204, { queues: ["a", "b", "c"].map(queue) });
  assert.deepEqual(
    await t.api.expect("POST", `/definitions/${enc(v)}`, 400, {
      queues: ["a", "d"].map(queue),
    }),
    {
      error: "bad_request",
      reason: `Adding 1 queue(s) to virtual host "${v}" would exceed the limit of 3 queue(s).` +
        "\n\nThis virtual host currently has 3 queue(s) defined.\n\nImport aborted!",
    },
  );
  await t.api.expect("POST", `/definitions/${enc(v)}`, 204, { queues: ["a"].map(queue) });

  // A bad limit refuses the whole document.
  const bad = await t.api.call("POST", "/definitions", {
    parameters: [{
      vhost: v,
      component: "vhost-limits",
      name: "limits",
      value: { "max-queues": "x" },
    }],
  });
  assert.equal(bad.status, 400);
  assert.match(String((bad.body as Json).reason), /max-queues should be a number/);
  assert.deepEqual(await t.api.list(limitPath(v)), [{ vhost: v, value: { "max-queues": 3 } }]);
});
