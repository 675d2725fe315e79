/**
 * A strict parser of Prometheus' text exposition format (0.0.4), for tests: it throws on the
 * first malformed line, naming it, rather than skipping what it does not understand.
 *
 * Checked: metric and label names; label values with their escapes (`\\`, `\"`, `\n`, nothing
 * else); sample values (Go floats: `NaN`, `+Inf`, `-Inf`, decimals, exponents) and optional
 * integer timestamps; one `# TYPE` (counter, gauge, histogram, summary, untyped) and at most one
 * `# HELP` per family, both before its samples; every sample belonging to a family declared with
 * `# TYPE` (`_bucket`, `_sum`, `_count` for histograms and summaries); a family's samples kept
 * together; no two samples with the same name and labels. Blank lines and other comments are
 * ignored, as Prometheus does.
 *
 *   const metrics = parsePrometheus(await (await fetch(url)).text());
 *   metrics.value("rabbitmq_queue_messages_ready", { vhost: "/", queue: "q" }); // 3
 */

export type PromType = "counter" | "gauge" | "histogram" | "summary" | "untyped";

export interface PromSample {
  /** The sample's own name (e.g. `x_count` in summary `x`). */
  name: string;
  labels: Record<string, string>;
  value: number;
  timestamp?: number;
}

export interface PromFamily {
  name: string;
  type: PromType;
  help?: string;
  samples: PromSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);
const FLOAT = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|Inf|inf)$/;

export class PrometheusParseError extends Error {}

/** The parsed exposition: families by name, and lookups for tests. */
export class PrometheusText {
  constructor(readonly families: Map<string, PromFamily>) {}

  family(name: string): PromFamily {
    const f = this.families.get(name);
    if (!f) throw new Error(`no metric family ${name}`);
    return f;
  }

  /** Samples named `name` whose labels include every one of `labels`. */
  samples(name: string, labels: Record<string, string> = {}): PromSample[] {
    const out: PromSample[] = [];
    for (const f of this.families.values()) {
      for (const s of f.samples) {
        if (s.name !== name) continue;
        if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) out.push(s);
      }
    }
    return out;
  }

  /** The value of the one sample named `name` with exactly `labels`; throws if there is none. */
  value(name: string, labels: Record<string, string> = {}): number {
    const want = Object.keys(labels).length;
    const found = this.samples(name, labels).filter((s) => Object.keys(s.labels).length === want);
    if (found.length !== 1) {
      throw new Error(`${found.length} samples ${name}${JSON.stringify(labels)}`);
    }
    return found[0].value;
  }
}

/** Parses a whole exposition; throws {@link PrometheusParseError} naming the bad line. */
export function parsePrometheus(text: string): PrometheusText {
  const families = new Map<string, PromFamily>();
  const declared = new Map<string, { type?: PromType; help?: string; line: number }>();
  const seen = new Set<string>();
  /** Families whose samples are over (another family's came after them). */
  const closed = new Set<string>();
  let current: string | undefined;

  const lines = text.split("\n");
  if (text !== "" && !text.endsWith("\n")) {
    throw new PrometheusParseError("the exposition does not end with a line feed");
  }
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const where = `line ${i + 1}: ${JSON.stringify(raw)}`;
    const fail = (why: string): never => {
      throw new PrometheusParseError(`${where}: ${why}`);
    };
    const line = raw.replace(/^[ \t]+/, "");
    if (line.trim() === "") continue;

    if (line.startsWith("#")) {
      const m = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line);
      if (!m) continue; // an ordinary comment
      const [, keyword, name, rest = ""] = m;
      if (!METRIC_NAME.test(name)) fail(`bad metric name ${name}`);
      const d = declared.get(name) ?? { line: i + 1 };
      declared.set(name, d);
      if (keyword === "TYPE") {
        if (d.type) fail(`second TYPE for ${name}`);
        if (!TYPES.has(rest.trim())) fail(`unknown type '${rest}'`);
        if (families.has(name)) fail(`TYPE for ${name} after its samples`);
        d.type = rest.trim() as PromType;
      } else {
        if (d.help !== undefined) fail(`second HELP for ${name}`);
        d.help = unescapeHelp(rest, fail);
      }
      continue;
    }

    const sample = parseSample(line, fail);
    const family = familyOf(sample.name, declared);
    if (!family) fail(`sample ${sample.name} has no TYPE`);
    const f = family!;
    if (closed.has(f.name)) fail(`samples of ${f.name} are not together`);
    if (current !== undefined && current !== f.name) closed.add(current);
    current = f.name;
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seen.has(key)) fail(`duplicate sample ${sample.name} with the same labels`);
    seen.add(key);
    let entry = families.get(f.name);
    if (!entry) {
      const d = declared.get(f.name)!;
      entry = { name: f.name, type: d.type!, help: d.help, samples: [] };
      families.set(f.name, entry);
    }
    entry.samples.push(sample);
  }
  // Families declared without samples (RabbitMQ does that) are kept, empty.
  for (const [name, d] of declared) {
    if (!d.type) throw new PrometheusParseError(`line ${d.line}: HELP for ${name} without TYPE`);
    if (!families.has(name)) {
      families.set(name, { name, type: d.type, help: d.help, samples: [] });
    }
  }
  return new PrometheusText(families);
}

/** The declared family a sample belongs to (summaries and histograms have suffixed samples). */
function familyOf(
  sampleName: string,
  declared: Map<string, { type?: PromType }>,
): { name: string } | undefined {
  const own = declared.get(sampleName);
  if (own?.type) return { name: sampleName };
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (!sampleName.endsWith(suffix)) continue;
    const base = sampleName.slice(0, -suffix.length);
    const type = declared.get(base)?.type;
    if (type === "histogram" || (type === "summary" && suffix !== "_bucket")) return { name: base };
  }
  return undefined;
}

function parseSample(line: string, fail: (why: string) => never): PromSample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) fail("a sample line must start with a metric name");
  const name = nameMatch![0];
  let pos = name.length;
  const labels: Record<string, string> = {};
  if (line[pos] === "{") {
    pos++;
    for (;;) {
      if (line[pos] === "}") {
        pos++;
        break;
      }
      const ln = /^[ \t]*([^=\s]+)[ \t]*=[ \t]*"/.exec(line.slice(pos));
      if (!ln) fail(`bad label at column ${pos + 1}`);
      const labelName = ln![1];
      if (!LABEL_NAME.test(labelName)) fail(`bad label name ${labelName}`);
      if (labelName in labels) fail(`label ${labelName} given twice`);
      pos += ln![0].length;
      let value = "";
      for (;;) {
        const c = line[pos++];
        if (c === undefined) fail("unterminated label value");
        if (c === '"') break;
        if (c === "\\") {
          const e = line[pos++];
          if (e === "\\") value += "\\";
          else if (e === '"') value += '"';
          else if (e === "n") value += "\n";
          else fail(`bad escape \\${e ?? ""} in a label value`);
        } else value += c;
      }
      labels[labelName] = value;
      const sep = /^[ \t]*(,|\})/.exec(line.slice(pos));
      if (!sep) fail(`expected , or } at column ${pos + 1}`);
      pos += sep![0].length;
      if (sep![1] === "}") break;
    }
  }
  const rest = line.slice(pos);
  const m = /^[ \t]+(\S+)(?:[ \t]+(\S+))?[ \t]*$/.exec(rest);
  if (!m) fail("expected a value (and an optional timestamp) after the name and labels");
  const sample: PromSample = { name, labels, value: parseValue(m![1], fail) };
  if (m![2] !== undefined) {
    if (!/^-?\d+$/.test(m![2])) fail(`bad timestamp ${m![2]}`);
    sample.timestamp = Number(m![2]);
  }
  return sample;
}

function parseValue(s: string, fail: (why: string) => never): number {
  if (s === "NaN") return NaN;
  if (!FLOAT.test(s)) fail(`bad value ${s}`);
  if (/inf/i.test(s)) return s.startsWith("-") ? -Infinity : Infinity;
  return Number(s);
}

function unescapeHelp(s: string, fail: (why: string) => never): string {
  return s.replace(/\\(.?)/g, (_m, e: string) => {
    if (e === "\\") return "\\";
    if (e === "n") return "\n";
    return fail(`bad escape \\${e} in HELP`);
  });
}
