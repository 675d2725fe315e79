/**
 * /js/table.js: a list table with a filter box (case-insensitive substring over every column) and
 * sorting by a click on a column header (again to reverse). Sort and filter survive refreshes.
 */
export const TABLE_JS = String.raw`// Filterable, sortable table.
import { clear, h } from "./dom.js";

/**
 * createTable({ id, columns: [{ key, label, value(row), render?(row), num?, sortable? }],
 *   rowKey(row), empty, sort: { key, dir } })
 * returns { el, update(rows) }. value() gives what is sorted and filtered on; render() what is
 * shown (a string or a Node), by default value() as text.
 */
export function createTable(opts) {
  const { id, columns } = opts;
  const state = {
    rows: [],
    filter: "",
    sortKey: (opts.sort && opts.sort.key) || columns[0].key,
    sortDir: (opts.sort && opts.sort.dir) || 1,
  };

  const filterBox = h("input", {
    type: "search",
    id: id + "-filter",
    class: "filter",
    placeholder: "Filter",
    "aria-label": "Filter " + (opts.label || "rows"),
    autocomplete: "off",
  });
  const count = h("span", { class: "count", id: id + "-count" });
  const tbody = h("tbody");
  const headers = columns.map((c) => {
    const sortable = c.sortable !== false;
    const th = h("th", {
      scope: "col",
      class: (c.num ? "num " : "") + (sortable ? "sortable" : ""),
      dataset: { key: c.key },
      tabindex: sortable ? "0" : undefined,
      title: c.title,
    }, c.label);
    if (sortable) {
      const sortBy = () => {
        if (state.sortKey === c.key) state.sortDir = -state.sortDir;
        else {
          state.sortKey = c.key;
          state.sortDir = c.num ? -1 : 1;
        }
        render();
      };
      th.addEventListener("click", sortBy);
      th.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          sortBy();
        }
      });
    }
    return th;
  });
  const table = h("table", { class: "list", id }, h("thead", null, h("tr", null, headers)), tbody);
  filterBox.addEventListener("input", () => {
    state.filter = filterBox.value.trim().toLowerCase();
    render();
  });

  const el = h(
    "div",
    { class: "table-box" },
    h("div", { class: "table-tools" }, filterBox, count),
    h("div", { class: "table-scroll" }, table),
  );

  function text(c, row) {
    const v = c.value(row);
    return v === undefined || v === null ? "" : String(v);
  }

  function compare(a, b) {
    if (typeof a === "number" && typeof b === "number") return a - b;
    if (typeof a === "number") return -1;
    if (typeof b === "number") return 1;
    return String(a ?? "").localeCompare(String(b ?? ""), undefined, { numeric: true });
  }

  function render() {
    const col = columns.find((c) => c.key === state.sortKey) || columns[0];
    let rows = state.rows;
    if (state.filter) {
      rows = rows.filter((r) =>
        columns.some((c) => c.sortable !== false && text(c, r).toLowerCase().includes(state.filter))
      );
    }
    rows = rows.slice().sort((a, b) => state.sortDir * compare(col.value(a), col.value(b)));
    for (const th of headers) {
      const active = th.dataset.key === col.key;
      th.setAttribute(
        "aria-sort",
        active ? (state.sortDir > 0 ? "ascending" : "descending") : "none",
      );
    }
    const total = state.rows.length;
    count.textContent = rows.length === total
      ? total + (total === 1 ? " item" : " items")
      : rows.length + " of " + total + " items";
    if (rows.length === 0) {
      clear(
        tbody,
        h(
          "tr",
          { class: "empty" },
          h(
            "td",
            { colspan: String(columns.length) },
            total === 0 ? (opts.empty || "Nothing here yet.") : "No rows match the filter.",
          ),
        ),
      );
      return;
    }
    clear(
      tbody,
      rows.map((r) =>
        h(
          "tr",
          { dataset: opts.rowKey ? { key: opts.rowKey(r) } : undefined },
          columns.map((c) => {
            const shown = c.render ? c.render(r) : text(c, r);
            return h("td", { class: c.num ? "num" : undefined }, shown);
          }),
        )
      ),
    );
  }

  render();
  return {
    el,
    update(rows) {
      state.rows = Array.isArray(rows) ? rows : [];
      render();
    },
  };
}
`;
