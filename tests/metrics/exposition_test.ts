/**
 * The text exposition writer (src/metrics/exposition.ts) against the strict parser the metrics
 * tests use (tests/helpers/prometheus.ts): escapes round-trip, special values are spelled as the
 * format wants, and the parser refuses what Prometheus would refuse.
 */
import assert from "node:assert/strict";
import { renderExposition } from "../../src/metrics/exposition.ts";
import { parsePrometheus, PrometheusParseError } from "../helpers/prometheus.ts";

Deno.test("exposition: label values and help texts round-trip through their escapes", () => {
  const awkward = 'a "quoted" back\\slash and a\nnewline';
  const text = renderExposition([
    {
      name: "rabbitmq_queue_messages_ready",
      type: "gauge",
      help: "help with \\ and\nnewline",
      samples: [
        { labels: { vhost: "/", queue: awkward }, value: 3 },
        { labels: { vhost: "/", queue: "plain" }, value: 0.5 },
      ],
    },
    { name: "empty_family", type: "counter", help: "no samples", samples: [] },
    {
      name: "special",
      type: "untyped",
      help: "",
      samples: [
        { labels: { k: "nan" }, value: NaN },
        { labels: { k: "inf" }, value: Infinity },
        { labels: { k: "-inf" }, value: -Infinity },
        { labels: { k: "big" }, value: 1e21 },
      ],
    },
  ]);
  assert.ok(text.includes(`queue="a \\"quoted\\" back\\\\slash and a\\nnewline"`), text);
  assert.ok(text.includes("# HELP rabbitmq_queue_messages_ready help with \\\\ and\\nnewline"));
  assert.ok(text.includes('special{k="inf"} +Inf\n'), text);
  const m = parsePrometheus(text);
  assert.equal(m.value("rabbitmq_queue_messages_ready", { vhost: "/", queue: awkward }), 3);
  assert.equal(m.value("rabbitmq_queue_messages_ready", { vhost: "/", queue: "plain" }), 0.5);
  assert.equal(m.family("rabbitmq_queue_messages_ready").help, "help with \\ and\nnewline");
  assert.equal(m.family("empty_family").samples.length, 0);
  assert.equal(m.family("empty_family").type, "counter");
  assert.ok(Number.isNaN(m.value("special", { k: "nan" })));
  assert.equal(m.value("special", { k: "inf" }), Infinity);
  assert.equal(m.value("special", { k: "-inf" }), -Infinity);
  assert.equal(m.value("special", { k: "big" }), 1e21);
  assert.equal(renderExposition([]), "");
});

Deno.test("exposition parser: accepts what the format allows", () => {
  const m = parsePrometheus(
    [
      "# a plain comment",
      "",
      "# HELP x_total before TYPE is fine",
      "# TYPE x_total counter",
      'x_total{a="1",} 2 1700000000000',
      "  # TYPE s summary",
      's_count{q="0.5"} 3',
      "s_sum 1.5e3",
      "# TYPE h histogram",
      'h_bucket{le="+Inf"} 1',
      "h_count 1",
      "# TYPE u untyped",
      "u -Inf",
      "",
    ].join("\n"),
  );
  assert.equal(m.value("x_total", { a: "1" }), 2);
  assert.equal(m.samples("x_total")[0].timestamp, 1700000000000);
  assert.equal(m.value("s_sum"), 1500);
  assert.equal(m.family("s").samples.length, 2);
  assert.equal(m.family("h").type, "histogram");
  assert.equal(m.value("u"), -Infinity);
});

Deno.test("exposition parser: refuses malformed input, naming the line", () => {
  const bad: [string, RegExp][] = [
    ["x 1\n", /line 1: .*sample x has no TYPE/],
    ["# TYPE x gauge\nx 1\n# TYPE x gauge\n", /line 3: .*second TYPE/],
    ["# TYPE x gauge\n# HELP x a\n# HELP x b\nx 1\n", /line 3: .*second HELP/],
    ["# TYPE x meter\n", /unknown type 'meter'/],
    ["# TYPE x gauge\nx one\n", /bad value one/],
    ["# TYPE x gauge\nx 1 2.5\n", /bad timestamp 2.5/],
    ["# TYPE x gauge\nx\n", /expected a value/],
    ['# TYPE x gauge\nx{a="1"\n', /expected , or \}/],
    ['# TYPE x gauge\nx{a="1} 1\n', /unterminated label value/],
    ['# TYPE x gauge\nx{a="\\t"} 1\n', /bad escape \\t/],
    ['# TYPE x gauge\nx{1a="1"} 1\n', /bad label name 1a/],
    ['# TYPE x gauge\nx{a="1",a="2"} 1\n', /label a given twice/],
    ['# TYPE x gauge\nx{a="1"} 1\nx{a="1"} 2\n', /duplicate sample/],
    ["# TYPE x gauge\n# TYPE y gauge\nx 1\ny 1\nx 2\n", /line 5: .*samples of x are not together/],
    ["# TYPE x gauge\nx 1\n# TYPE x_sum gauge\n# TYPE x gauge\n", /second TYPE for x/],
    ["# TYPE s summary\ns_bucket 1\n", /sample s_bucket has no TYPE/],
    ["# HELP x lonely\n", /HELP for x without TYPE/],
    ["# HELP x bad \\q escape\n# TYPE x gauge\n", /bad escape \\q in HELP/],
    ["# TYPE x gauge\nx 1", /does not end with a line feed/],
    ["# TYPE 0x gauge\n", /bad metric name 0x/],
  ];
  for (const [text, why] of bad) {
    assert.throws(() => parsePrometheus(text), (err: unknown) => {
      assert.ok(err instanceof PrometheusParseError, `${JSON.stringify(text)}: ${err}`);
      assert.match(err.message, why, JSON.stringify(text));
      return true;
    });
  }
});
