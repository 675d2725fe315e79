/**
 * /js/page_queues.js: the queue list with its add form (typed arguments), and one queue's page:
 * details, charts, consumers, bindings (add/remove), publish, get messages, purge, delete.
 */
export const PAGE_QUEUES_JS = String.raw`// Queues page and queue detail page.
import {
  checkbox,
  clear,
  enc,
  field,
  flash,
  fmtBytes,
  fmtNum,
  fmtRate,
  fmtValue,
  h,
  kvTable,
  section,
} from "./dom.js";
import { api } from "./api.js";
import { createTable } from "./table.js";
import { createHistory, createMessageCharts, LEVEL_SERIES, RATE_SERIES } from "./chart.js";
import {
  createBindingForm,
  createKeyValueRows,
  createPublishForm,
  onAddSubmit,
  QUEUE_ARGUMENTS,
} from "./forms.js";
import {
  bindingsTable,
  crumbs,
  dangerButton,
  deleteButton,
  exchangeLabel,
  features,
  featureText,
  fetchDetails,
  listPage,
  queueLink,
  vhostSelect,
} from "./entities.js";

const rateOf = (obj, key) => {
  const d = obj && obj[key + "_details"];
  return d && typeof d.rate === "number" ? d.rate : undefined;
};

function queuePath(vhost, name) {
  return "/queues/" + enc(vhost) + "/" + enc(name);
}

export function queuesPage(ctx) {
  const table = createTable({
    id: "queues-table",
    label: "queues",
    empty: "No queues.",
    rowKey: (r) => r.vhost + "/" + r.name,
    columns: [
      { key: "vhost", label: "Virtual host", value: (r) => r.vhost },
      {
        key: "name",
        label: "Name",
        value: (r) => r.name,
        render: (r) => queueLink(r.vhost, r.name),
      },
      { key: "type", label: "Type", value: (r) => r.type || "classic" },
      { key: "features", label: "Features", value: featureText, render: features },
      {
        key: "state",
        label: "State",
        value: (r) => r.state,
        render: (r) => h("span", { class: "state state-" + String(r.state) }, r.state ?? ""),
      },
      {
        key: "consumers",
        label: "Consumers",
        num: true,
        value: (r) => r.consumers,
        render: (r) => fmtNum(r.consumers),
      },
      {
        key: "ready",
        label: "Ready",
        num: true,
        value: (r) => r.messages_ready,
        render: (r) => fmtNum(r.messages_ready),
      },
      {
        key: "unacked",
        label: "Unacked",
        num: true,
        value: (r) => r.messages_unacknowledged,
        render: (r) => fmtNum(r.messages_unacknowledged),
      },
      {
        key: "total",
        label: "Total",
        num: true,
        value: (r) => r.messages,
        render: (r) => fmtNum(r.messages),
      },
      {
        key: "incoming",
        label: "Incoming",
        num: true,
        value: (r) => rateOf(r.message_stats, "publish"),
        render: (r) => fmtRate(rateOf(r.message_stats, "publish")),
      },
      {
        key: "deliver_get",
        label: "Deliver / get",
        num: true,
        value: (r) => rateOf(r.message_stats, "deliver_get"),
        render: (r) => fmtRate(rateOf(r.message_stats, "deliver_get")),
      },
      {
        key: "ack",
        label: "Ack",
        num: true,
        value: (r) => rateOf(r.message_stats, "ack"),
        render: (r) => fmtRate(rateOf(r.message_stats, "ack")),
      },
    ],
    sort: { key: "name", dir: 1 },
  });

  const vhost = vhostSelect("queue-add-vhost");
  const type = h(
    "select",
    { id: "queue-add-type" },
    h("option", { value: "classic" }, "Classic"),
    h("option", { value: "quorum" }, "Quorum"),
    h("option", { value: "stream" }, "Stream"),
  );
  const name = h("input", {
    type: "text",
    id: "queue-add-name",
    required: true,
    autocomplete: "off",
  });
  const durability = h(
    "select",
    { id: "queue-add-durable" },
    h("option", { value: "true" }, "Durable"),
    h("option", { value: "false" }, "Transient"),
  );
  const args = createKeyValueRows("queue-add-args", { suggestions: QUEUE_ARGUMENTS });
  const submit = h(
    "button",
    { type: "submit", id: "queue-add-submit", class: "primary" },
    "Add queue",
  );
  const form = h(
    "form",
    { class: "form", id: "queue-add-form" },
    field("Virtual host", vhost),
    field("Type", type),
    field("Name", name),
    field("Durability", durability),
    h(
      "div",
      { class: "field" },
      h("span", { class: "label" }, "Options"),
      h("div", { class: "checks" }, checkbox("queue-add-auto-delete", "Auto-delete", false)),
    ),
    h(
      "div",
      { class: "field" },
      h("label", null, "Arguments"),
      args.el,
      h(
        "span",
        { class: "hint" },
        "Type a key such as x-message-ttl, x-max-length or x-dead-letter-exchange; its type " +
          "is picked for you.",
      ),
    ),
    h("div", { class: "actions" }, submit),
  );

  onAddSubmit(ctx, form, submit, {
    noun: "queue",
    name,
    args,
    path: (n) => queuePath(vhost.value, n),
    read: () => {
      const a = args.read();
      if (type.value !== "classic") a["x-queue-type"] = type.value;
      return {
        durable: durability.value === "true",
        auto_delete: form.querySelector("#queue-add-auto-delete").checked,
        arguments: a,
      };
    },
  });

  return listPage(ctx, {
    title: "Queues",
    path: "/queues",
    table,
    vhost,
    add: ["Add a new queue", "queue-add", form],
  });
}

const ACK_MODES = [
  { value: "ack_requeue_true", label: "Nack message requeue true" },
  { value: "ack_requeue_false", label: "Automatic ack" },
  { value: "reject_requeue_true", label: "Reject requeue true" },
  { value: "reject_requeue_false", label: "Reject requeue false" },
];

function renderMessage(m, i) {
  const props = m.properties && typeof m.properties === "object"
    ? Object.entries(m.properties)
    : [];
  return h(
    "div",
    { class: "message", dataset: { index: String(i) } },
    h("h3", null, "Message " + (i + 1)),
    kvTable(undefined, [
      ["Exchange", exchangeLabel(m.exchange ?? "")],
      ["Routing key", m.routing_key ?? ""],
      ["Redelivered", String(!!m.redelivered)],
      [
        "Properties",
        props.length
          ? h(
            "table",
            { class: "kv inner" },
            h(
              "tbody",
              null,
              props.map(([k, v]) => h("tr", null, h("th", null, k), h("td", null, fmtValue(v)))),
            ),
          )
          : "",
      ],
      [
        "Payload",
        fmtNum(m.payload_bytes) + " bytes, encoding: " + (m.payload_encoding || "string"),
      ],
    ]),
    h("pre", { class: "message-payload" }, m.payload ?? ""),
  );
}

export function queuePage(ctx, vhost, name) {
  const info = h("div", { id: "queue-info" }, "Loading...");
  const range = () => ctx.range();
  const histories = { rates: createHistory(3600 * 1000), levels: createHistory(3600 * 1000) };
  const charts = createMessageCharts(
    "queue-chart",
    RATE_SERIES.filter((x) => x.key !== "confirm"),
  );

  const consumers = createTable({
    id: "queue-consumers-table",
    label: "consumers",
    empty: "No consumers.",
    columns: [
      {
        key: "channel",
        label: "Channel",
        value: (c) => (c.channel_details && c.channel_details.name) || "",
      },
      { key: "tag", label: "Consumer tag", value: (c) => c.consumer_tag },
      { key: "ack", label: "Ack required", value: (c) => String(!!c.ack_required) },
      { key: "exclusive", label: "Exclusive", value: (c) => String(!!c.exclusive) },
      { key: "prefetch", label: "Prefetch", num: true, value: (c) => c.prefetch_count },
      {
        key: "active",
        label: "Active",
        value: (c) => c.active === undefined ? "" : String(!!c.active),
      },
    ],
  });

  const bindings = bindingsTable("queue-bindings-table", () => ctx.refreshNow());
  const bindForm = createBindingForm(ctx, "binding-add", "source", {
    label: "From exchange",
    path: (x) => "/bindings/" + enc(vhost) + "/e/" + enc(x) + "/q/" + enc(name),
    added: (x) => "Binding from '" + x + "' added.",
  });

  const publish = createPublishForm(
    "queue-publish",
    () => ({ vhost, exchange: "", routingKey: name }),
    true,
  );

  const ackmode = h(
    "select",
    { id: "queue-get-ackmode" },
    ACK_MODES.map((m) => h("option", { value: m.value }, m.label)),
  );
  const encoding = h(
    "select",
    { id: "queue-get-encoding" },
    h("option", { value: "auto" }, "Auto string / base64"),
    h("option", { value: "base64" }, "Base64"),
  );
  const count = h("input", { type: "number", id: "queue-get-count", min: "1", value: "1" });
  const getSubmit = h(
    "button",
    { type: "submit", id: "queue-get-submit", class: "primary" },
    "Get message(s)",
  );
  const results = h("div", { id: "queue-get-results", role: "status" });
  const getForm = h(
    "form",
    { class: "form", id: "queue-get-form" },
    h(
      "p",
      { class: "note" },
      "Getting messages is destructive unless they are requeued (the first mode).",
    ),
    field("Ack mode", ackmode),
    field("Encoding", encoding),
    field("Messages", count),
    h("div", { class: "actions" }, getSubmit),
    results,
  );
  getForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    getSubmit.disabled = true;
    try {
      const list = await api("POST", queuePath(vhost, name) + "/get", {
        count: Math.max(1, Number(count.value) || 1),
        ackmode: ackmode.value,
        encoding: encoding.value,
        truncate: 50000,
      });
      const msgs = Array.isArray(list) ? list : [];
      clear(
        results,
        msgs.length === 0
          ? h("p", { class: "note", id: "queue-get-empty" }, "Queue is empty.")
          : msgs.map(renderMessage),
      );
      await ctx.refreshNow();
    } catch (err) {
      clear(results, h("p", { class: "note error" }, "Get failed: " + err.message));
    } finally {
      getSubmit.disabled = false;
    }
  });

  const purge = dangerButton("queue-purge", "Purge messages", {
    question: "Purge every ready message of queue '" + name + "'?",
    async run() {
      await api("DELETE", queuePath(vhost, name) + "/contents");
      flash("Queue '" + name + "' purged.");
      await ctx.refreshNow();
    },
    failure: "Could not purge the queue",
  });
  const del = deleteButton(ctx, "queue-delete", "Delete queue", {
    noun: "queue",
    name,
    path: queuePath(vhost, name),
    back: "#/queues",
  });

  const el = h(
    "div",
    { class: "page page-queue" },
    crumbs("#/queues", "Queues", vhost),
    h("h1", null, "Queue ", h("span", { class: "mono", id: "queue-name" }, name)),
    h(
      "div",
      { class: "columns" },
      section("Details", "queue-details", info),
      section(
        "Charts",
        "queue-charts",
        h("div", { class: "charts single" }, charts.queued.el, charts.rates.el),
      ),
    ),
    section("Consumers", "queue-consumers", consumers.el),
    section(
      "Bindings",
      "queue-bindings",
      bindings.el,
      h("h3", null, "Add binding to this queue"),
      bindForm.el,
    ),
    section(
      "Publish message",
      "queue-publish",
      h(
        "p",
        { class: "note" },
        "Published to the default exchange with the queue's name as routing key.",
      ),
      publish.el,
    ),
    section("Get messages", "queue-get", getForm),
    section("Delete or purge", "queue-danger", h("div", { class: "actions" }, purge, del)),
  );

  return {
    title: "Queue " + name,
    el,
    async refresh() {
      const { age, incr } = range();
      const q = await fetchDetails(
        info,
        "Queue",
        vhost,
        name,
        queuePath(vhost, name) + "?lengths_age=" + age + "&lengths_incr=" + incr +
          "&msg_rates_age=" + age + "&msg_rates_incr=" + incr,
      );
      if (!q) return;
      const stats = q.message_stats || {};
      clear(
        info,
        kvTable("queue-info-table", [
          ["Virtual host", vhost],
          ["Type", q.type || "classic"],
          ["Features", h("span", null, features(q))],
          ["State", q.state ?? ""],
          ["Consumers", fmtNum(q.consumers ?? 0)],
          ["Ready", h("span", { id: "queue-ready" }, fmtNum(q.messages_ready ?? 0))],
          ["Unacked", h("span", { id: "queue-unacked" }, fmtNum(q.messages_unacknowledged ?? 0))],
          ["Total", h("span", { id: "queue-total" }, fmtNum(q.messages ?? 0))],
          typeof q.message_bytes === "number"
            ? ["Message body bytes", fmtBytes(q.message_bytes)]
            : null,
          typeof q.memory === "number" ? ["Memory", fmtBytes(q.memory)] : null,
          ["Incoming", fmtRate(rateOf(stats, "publish")) || "-"],
          ["Deliver / get", fmtRate(rateOf(stats, "deliver_get")) || "-"],
          ["Ack", fmtRate(rateOf(stats, "ack")) || "-"],
          [
            "Arguments",
            q.arguments && Object.keys(q.arguments).length ? fmtValue(q.arguments) : "",
          ],
        ]),
      );
      const now = Date.now();
      histories.rates.addRates(now, stats, RATE_SERIES.map((x) => x.key));
      histories.levels.addLevels(now, q, LEVEL_SERIES.map((x) => x.key));
      charts.update(stats, q, histories, age * 1000);
      consumers.update(Array.isArray(q.consumer_details) ? q.consumer_details : []);

      const [all, exchanges] = await Promise.all([
        api("GET", "/bindings/" + enc(vhost)).catch(() => api("GET", "/bindings")),
        api("GET", "/exchanges/" + enc(vhost)).catch(() => []),
      ]);
      bindings.update(
        (all || []).filter((b) =>
          b.vhost === vhost && b.destination === name && (b.destination_type || "queue") === "queue"
        ),
      );
      const names = (exchanges || []).map((x) => x.name).filter((n) => n !== "").sort();
      clear(bindForm.suggestions, names.map((n) => h("option", { value: n })));
    },
  };
}
`;
