/**
 * Listing query parameters as RabbitMQ's management API reads them: `sort` (a dotted field,
 * merged in front of the default vhost/name order) and `sort_reverse`; `columns` (dotted fields to
 * keep); and pagination: with `page`, the answer is `{items, page, page_size, page_count,
 * item_count, filtered_count, total_count}`, and `name` (with `use_regex`) filters by name.
 *
 * Sorting precomputes one key per row, so 10,000 queues sort in n log n; rows can be augmented
 * (rates added) after paging, so only the page pays for it unless the sort needs the rates.
 */
import { badRequest, HttpError, json } from "./http.ts";

export type Row = Record<string, unknown>;

const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 500;

interface Pagination {
  page: number;
  pageSize: number;
  name: string | undefined;
  useRegex: boolean;
}

function intParam(v: string): number {
  if (!/^-?\d+$/.test(v)) throw badRequest("Pagination parameters are invalid");
  return Number(v);
}

/** The pagination a request asks for, or undefined for a plain list. */
export function paginationOf(url: URL): Pagination | undefined {
  const q = url.searchParams;
  const pageParam = q.get("page");
  const sizeParam = q.get("page_size");
  if (pageParam === null) {
    if (sizeParam !== null) intParam(sizeParam);
    return undefined;
  }
  const page = intParam(pageParam);
  const pageSize = sizeParam === null ? DEFAULT_PAGE_SIZE : intParam(sizeParam);
  if (page < 1 || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    throw new HttpError(
      400,
      "invalid_pagination_parameters",
      `Invalid pagination parameters: page number ${page}, page size ${pageSize}`,
    );
  }
  const name = q.get("name") ?? undefined;
  return {
    page,
    pageSize,
    name: name === "" ? undefined : name,
    useRegex: q.get("use_regex") === "true",
  };
}

/** A dotted field of a row (`message_stats.publish_details.rate`); absent leaves are 0. */
function dotted(row: Row, path: string[]): unknown {
  let v: unknown = row;
  for (let i = 0; i < path.length; i++) {
    const last = i === path.length - 1;
    if (v === null || typeof v !== "object" || Array.isArray(v)) return last ? 0 : [];
    const next = (v as Row)[path[i]];
    if (next === undefined) return last ? 0 : [];
    v = next;
  }
  return v;
}

/** Erlang's term order, which RabbitMQ sorts by: numbers < atoms < maps < lists < strings. */
function rank(v: unknown): number {
  if (typeof v === "number" || typeof v === "bigint") return 0;
  if (typeof v === "boolean" || v === null || v === undefined) return 1;
  if (Array.isArray(v)) return 3;
  if (typeof v === "object") return 2;
  return 4;
}

function atomName(v: unknown): string {
  return v === null ? "null" : v === undefined ? "undefined" : String(v);
}

function compareValues(a: unknown, b: unknown): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 0:
      return Number(a) - Number(b);
    case 1: {
      const x = atomName(a);
      const y = atomName(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 4: {
      const x = String(a);
      const y = String(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    default: {
      const x = JSON.stringify(a);
      const y = JSON.stringify(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
  }
}

/** Sorts rows by `sort` then the defaults (each a dotted path), as RabbitMQ does. */
export function sortRows(rows: Row[], url: URL, defaults: string[]): Row[] {
  const sort = url.searchParams.get("sort");
  const fields = sort ? [sort, ...defaults.filter((d) => d !== sort)] : defaults;
  const reverse = url.searchParams.get("sort_reverse") === "true";
  if (fields.length > 0) {
    const paths = fields.map((f) => f.split(".").filter((s) => s !== ""));
    const keyed = rows.map((row) => ({ row, key: paths.map((p) => dotted(row, p)) }));
    keyed.sort((a, b) => {
      for (let i = 0; i < paths.length; i++) {
        const c = compareValues(a.key[i], b.key[i]);
        if (c !== 0) return c;
      }
      return 0;
    });
    rows = keyed.map((k) => k.row);
  }
  return reverse ? rows.reverse() : rows;
}

/** The `columns` parameter as dotted paths, or undefined for all. */
function columnsOf(url: URL): string[][] | undefined {
  const c = url.searchParams.get("columns");
  if (c === null) return undefined;
  return c.split(",").filter((s) => s !== "").map((s) => s.split(".").filter((p) => p !== ""));
}

/** Keeps only the named columns of a value (descending into nested objects and lists). */
function extractColumns(v: unknown, cols: string[][] | "all"): unknown {
  if (cols === "all") return v;
  if (Array.isArray(v)) return v.map((x) => extractColumns(x, cols));
  if (v === null || typeof v !== "object") return v;
  const out: Row = {};
  for (const [k, x] of Object.entries(v as Row)) {
    const wanted = cols.filter((c) => c[0] === k);
    if (wanted.length === 0) continue;
    out[k] = wanted.some((c) => c.length === 1)
      ? x
      : extractColumns(x, wanted.map((c) => c.slice(1)));
  }
  return out;
}

function nameFilter(p: Pagination): ((name: unknown) => boolean) | undefined {
  if (p.name === undefined) return undefined;
  if (p.useRegex) {
    let re: RegExp;
    try {
      re = new RegExp(p.name, "i");
    } catch (err) {
      throw badRequest(`invalid regular expression: ${(err as Error).message}`);
    }
    return (n) => typeof n === "string" && re.test(n);
  }
  const needle = p.name.toLowerCase();
  return (n) => typeof n === "string" && n.toLowerCase().includes(needle);
}

export interface ListOptions {
  /** Default sort fields (RabbitMQ: vhost, name). */
  defaultSort?: string[];
  /** Adds computed fields (rates) to a row; run on the page only when the sort allows. */
  augment?: (row: Row) => Row;
}

/** Sorts, filters, pages and trims a listing per the request's query; the JSON response. */
export function listResponse(rows: Row[], url: URL, opts: ListOptions = {}): Response {
  return json(listBody(rows, url, opts));
}

export function listBody(rows: Row[], url: URL, opts: ListOptions = {}): unknown {
  const pagination = paginationOf(url);
  const augment = opts.augment;
  const sort = url.searchParams.get("sort") ?? "";
  const augmentFirst = augment !== undefined && sort.includes("_details");
  if (augmentFirst) rows = rows.map(augment);
  const sorted = sortRows(rows, url, opts.defaultSort ?? ["vhost", "name"]);
  const cols = columnsOf(url) ?? "all";
  const finish = (page: Row[]) =>
    page.map((r) => extractColumns(augment && !augmentFirst ? augment(r) : r, cols));
  if (!pagination) return finish(sorted);
  const filter = nameFilter(pagination);
  const filtered = filter ? sorted.filter((r) => filter(r.name)) : sorted;
  const offset = (pagination.page - 1) * pagination.pageSize;
  if (offset > filtered.length) {
    throw new HttpError(
      400,
      "page_out_of_range",
      `Page out of range, page: ${pagination.page} page size: ${pagination.pageSize}, len: ${filtered.length}`,
    );
  }
  const items = finish(filtered.slice(offset, offset + pagination.pageSize));
  return {
    total_count: rows.length,
    item_count: items.length,
    filtered_count: filtered.length,
    page: pagination.page,
    page_size: pagination.pageSize,
    page_count: Math.ceil(filtered.length / pagination.pageSize),
    items,
  };
}

/** Trims one object to the requested `columns` (single-object GETs honour it too). */
export function objectResponse(row: Row, url: URL): Response {
  return json(extractColumns(row, columnsOf(url) ?? "all"));
}
