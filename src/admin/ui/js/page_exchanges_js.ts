/**
 * /js/page_exchanges.js: the exchange list with its add form, and one exchange's page (bindings
 * from it, add/remove binding, publish a message, delete).
 */
export const PAGE_EXCHANGES_JS = String.raw`// Exchanges page and exchange detail page.
import {
  checkbox,
  clear,
  enc,
  field,
  fillSelect,
  fmtRate,
  fmtValue,
  h,
  kvTable,
  section,
} from "./dom.js";
import { api } from "./api.js";
import { createTable } from "./table.js";
import {
  createBindingForm,
  createKeyValueRows,
  createPublishForm,
  EXCHANGE_ARGUMENTS,
  exchangePath,
  onAddSubmit,
} from "./forms.js";
import {
  bindingsTable,
  crumbs,
  deleteButton,
  exchangeLabel,
  exchangeLink,
  features,
  featureText,
  fetchDetails,
  listPage,
  vhostSelect,
} from "./entities.js";

const DEFAULT_TYPES = ["direct", "fanout", "headers", "topic"];

const rateOf = (r, key) => {
  const d = r.message_stats && r.message_stats[key + "_details"];
  return d && typeof d.rate === "number" ? d.rate : undefined;
};

export function exchangesPage(ctx) {
  const table = createTable({
    id: "exchanges-table",
    label: "exchanges",
    empty: "No exchanges.",
    rowKey: (r) => r.vhost + "/" + r.name,
    columns: [
      { key: "vhost", label: "Virtual host", value: (r) => r.vhost },
      {
        key: "name",
        label: "Name",
        value: (r) => exchangeLabel(r.name),
        render: (r) => exchangeLink(r.vhost, r.name),
      },
      { key: "type", label: "Type", value: (r) => r.type },
      { key: "features", label: "Features", value: featureText, render: features },
      {
        key: "in",
        label: "Rate in",
        num: true,
        value: (r) => rateOf(r, "publish_in"),
        render: (r) => fmtRate(rateOf(r, "publish_in")),
      },
      {
        key: "out",
        label: "Rate out",
        num: true,
        value: (r) => rateOf(r, "publish_out"),
        render: (r) => fmtRate(rateOf(r, "publish_out")),
      },
    ],
    sort: { key: "name", dir: 1 },
  });

  const vhost = vhostSelect("exchange-add-vhost");
  const name = h("input", {
    type: "text",
    id: "exchange-add-name",
    required: true,
    autocomplete: "off",
  });
  const type = h("select", { id: "exchange-add-type" });
  fillSelect(type, DEFAULT_TYPES.map((t) => ({ value: t, label: t })), "direct");
  const args = createKeyValueRows("exchange-add-args", { suggestions: EXCHANGE_ARGUMENTS });
  const submit = h(
    "button",
    { type: "submit", id: "exchange-add-submit", class: "primary" },
    "Add exchange",
  );
  const form = h(
    "form",
    { class: "form", id: "exchange-add-form" },
    field("Virtual host", vhost),
    field("Name", name),
    field("Type", type),
    h(
      "div",
      { class: "field" },
      h("span", { class: "label" }, "Options"),
      h(
        "div",
        { class: "checks" },
        checkbox("exchange-add-durable", "Durable", true),
        checkbox("exchange-add-auto-delete", "Auto-delete", false),
        checkbox("exchange-add-internal", "Internal", false),
      ),
    ),
    h("div", { class: "field" }, h("label", null, "Arguments"), args.el),
    h("div", { class: "actions" }, submit),
  );

  onAddSubmit(ctx, form, submit, {
    noun: "exchange",
    name,
    args,
    path: (n) => exchangePath(vhost.value, n),
    read: () => ({
      type: type.value,
      durable: form.querySelector("#exchange-add-durable").checked,
      auto_delete: form.querySelector("#exchange-add-auto-delete").checked,
      internal: form.querySelector("#exchange-add-internal").checked,
      arguments: args.read(),
    }),
  });

  return listPage(ctx, {
    title: "Exchanges",
    path: "/exchanges",
    table,
    vhost,
    add: ["Add a new exchange", "exchange-add", form],
    refreshed() {
      const types = ((ctx.overview && ctx.overview.exchange_types) || []).map((t) => t.name);
      const offered = types.length ? types : DEFAULT_TYPES;
      fillSelect(type, offered.map((t) => ({ value: t, label: t })), "direct");
    },
  });
}

export function exchangePage(ctx, vhost, name) {
  const info = h("div", { id: "exchange-info" }, "Loading...");
  const isDefault = name === "";
  const builtIn = isDefault || name.startsWith("amq.");

  const bindings = bindingsTable("exchange-bindings-table", () => ctx.refreshNow());

  const destType = h(
    "select",
    { id: "exchange-binding-dest-type" },
    h("option", { value: "q" }, "To queue"),
    h("option", { value: "e" }, "To exchange"),
  );
  const bindForm = createBindingForm(ctx, "exchange-binding", "dest", {
    label: "Destination",
    wrap: (dest) => h("span", { class: "inline" }, destType, dest),
    path: (d) =>
      "/bindings/" + enc(vhost) + "/e/" + enc(name) + "/" + destType.value + "/" + enc(d),
    added: () => "Binding added.",
  });

  const publish = createPublishForm("publish", () => ({ vhost, exchange: name }));

  const del = deleteButton(ctx, "exchange-delete", "Delete this exchange", {
    noun: "exchange",
    name,
    path: exchangePath(vhost, name),
    back: "#/exchanges",
  });

  const el = h(
    "div",
    { class: "page page-exchange" },
    crumbs("#/exchanges", "Exchanges", vhost),
    h(
      "h1",
      null,
      "Exchange ",
      h("span", { class: "mono", id: "exchange-name" }, exchangeLabel(name)),
    ),
    section("Details", "exchange-details", info),
    section(
      "Bindings from this exchange",
      "exchange-bindings",
      isDefault
        ? h(
          "p",
          { class: "note" },
          "The default exchange is implicitly bound to every queue, with the queue's name as " +
            "routing key.",
        )
        : [bindings.el, h("h3", null, "Add binding from this exchange"), bindForm.el],
    ),
    section("Publish message", "exchange-publish", publish.el),
    builtIn ? null : section("Delete", "exchange-delete-section", del),
  );

  return {
    title: "Exchange " + exchangeLabel(name),
    el,
    async refresh() {
      const x = await fetchDetails(info, "Exchange", vhost, name, exchangePath(vhost, name));
      if (!x) return;
      clear(
        info,
        kvTable("exchange-info-table", [
          ["Virtual host", vhost],
          ["Type", x.type],
          ["Features", h("span", null, features(x))],
          [
            "Arguments",
            fmtValue(x.arguments && Object.keys(x.arguments).length ? x.arguments : ""),
          ],
          ["Rate in", fmtRate(rateOf(x, "publish_in")) || "-"],
          ["Rate out", fmtRate(rateOf(x, "publish_out")) || "-"],
        ]),
      );
      if (!isDefault) {
        const [all, queues] = await Promise.all([
          api("GET", "/bindings/" + enc(vhost)).catch(() => api("GET", "/bindings")),
          api("GET", "/queues/" + enc(vhost)).catch(() => []),
        ]);
        bindings.update((all || []).filter((b) => b.vhost === vhost && b.source === name));
        const names = (queues || []).map((q) => q.name).sort();
        clear(bindForm.suggestions, names.map((n) => h("option", { value: n })));
      }
    },
  };
}
`;
