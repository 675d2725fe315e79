/**
 * /js/page_connections.js: the Connections and Channels lists.
 */
export const PAGE_CONNECTIONS_JS = String.raw`// Connections and Channels pages.
import { flash, fmtBytes, fmtDateTime, fmtNum, fmtRate, h } from "./dom.js";
import { api } from "./api.js";
import { createTable } from "./table.js";

const rate = (obj, key) => {
  const d = obj && obj[key + "_details"];
  return d && typeof d.rate === "number" ? d.rate : undefined;
};

function byVhost(ctx, rows) {
  const v = ctx.vhost();
  return Array.isArray(rows) ? rows.filter((r) => !v || r.vhost === v) : [];
}

function clientOf(c) {
  const p = c.client_properties || {};
  return [p.product, p.version].filter(Boolean).join(" ") || p.platform || "";
}

export function connectionsPage(ctx) {
  const table = createTable({
    id: "connections-table",
    label: "connections",
    empty: "No connections.",
    rowKey: (r) => r.name,
    columns: [
      {
        key: "name",
        label: "Name",
        value: (r) => r.name,
        render: (r) => h("span", { class: "mono", title: r.name }, r.name),
      },
      {
        key: "connection_name",
        label: "Client name",
        value: (r) => (r.client_properties && r.client_properties.connection_name) || "",
      },
      { key: "vhost", label: "Virtual host", value: (r) => r.vhost },
      { key: "user", label: "User", value: (r) => r.user },
      {
        key: "state",
        label: "State",
        value: (r) => r.state,
        render: (r) => h("span", { class: "state state-" + String(r.state) }, r.state ?? ""),
      },
      { key: "protocol", label: "Protocol", value: (r) => r.protocol },
      { key: "client", label: "Client", value: clientOf },
      {
        key: "channels",
        label: "Channels",
        num: true,
        value: (r) => r.channels,
        render: (r) => fmtNum(r.channels),
      },
      {
        key: "recv",
        label: "From client",
        num: true,
        value: (r) => rate(r, "recv_oct"),
        render: (r) =>
          rate(r, "recv_oct") === undefined
            ? fmtBytes(r.recv_oct)
            : fmtBytes(Math.round(rate(r, "recv_oct"))) + "/s",
      },
      {
        key: "send",
        label: "To client",
        num: true,
        value: (r) => rate(r, "send_oct"),
        render: (r) =>
          rate(r, "send_oct") === undefined
            ? fmtBytes(r.send_oct)
            : fmtBytes(Math.round(rate(r, "send_oct"))) + "/s",
      },
      {
        key: "connected_at",
        label: "Connected",
        value: (r) => r.connected_at,
        render: (r) => fmtDateTime(r.connected_at),
      },
      {
        key: "actions",
        label: "",
        sortable: false,
        value: () => "",
        render: (r) =>
          h("button", {
            type: "button",
            class: "small danger",
            dataset: { action: "close" },
            onclick: () => closeConnection(r.name),
          }, "Close"),
      },
    ],
  });

  async function closeConnection(name) {
    if (!confirm("Close connection " + name + "?")) return;
    try {
      await api("DELETE", "/connections/" + encodeURIComponent(name));
      flash("Connection closed.");
      ctx.refreshNow();
    } catch (err) {
      flash("Could not close the connection: " + err.message, "error");
    }
  }

  return {
    title: "Connections",
    el: h("div", { class: "page" }, h("h1", null, "Connections"), table.el),
    async refresh() {
      table.update(byVhost(ctx, await api("GET", "/connections")));
    },
  };
}

function mode(c) {
  return (c.confirm ? "C" : "") + (c.transactional ? "T" : "");
}

export function channelsPage(ctx) {
  const table = createTable({
    id: "channels-table",
    label: "channels",
    empty: "No channels.",
    rowKey: (r) => r.name,
    columns: [
      {
        key: "name",
        label: "Channel",
        value: (r) => r.name,
        render: (r) => h("span", { class: "mono" }, r.name),
      },
      { key: "vhost", label: "Virtual host", value: (r) => r.vhost },
      { key: "user", label: "User", value: (r) => r.user },
      { key: "mode", label: "Mode", value: mode, title: "C: confirm mode, T: transactional" },
      { key: "state", label: "State", value: (r) => r.state },
      {
        key: "consumer_count",
        label: "Consumers",
        num: true,
        value: (r) => r.consumer_count,
        render: (r) => fmtNum(r.consumer_count),
      },
      {
        key: "prefetch",
        label: "Prefetch",
        num: true,
        value: (r) => r.prefetch_count,
        render: (r) => fmtNum(r.prefetch_count),
      },
      {
        key: "unacked",
        label: "Unacked",
        num: true,
        value: (r) => r.messages_unacknowledged,
        render: (r) => fmtNum(r.messages_unacknowledged),
      },
      {
        key: "unconfirmed",
        label: "Unconfirmed",
        num: true,
        value: (r) => r.messages_unconfirmed,
        render: (r) => fmtNum(r.messages_unconfirmed),
      },
      {
        key: "publish",
        label: "Publish",
        num: true,
        value: (r) => rate(r.message_stats, "publish"),
        render: (r) => fmtRate(rate(r.message_stats, "publish")),
      },
      {
        key: "deliver_get",
        label: "Deliver / get",
        num: true,
        value: (r) => rate(r.message_stats, "deliver_get"),
        render: (r) => fmtRate(rate(r.message_stats, "deliver_get")),
      },
      {
        key: "ack",
        label: "Ack",
        num: true,
        value: (r) => rate(r.message_stats, "ack"),
        render: (r) => fmtRate(rate(r.message_stats, "ack")),
      },
    ],
  });
  return {
    title: "Channels",
    el: h("div", { class: "page" }, h("h1", null, "Channels"), table.el),
    async refresh() {
      table.update(byVhost(ctx, await api("GET", "/channels")));
    },
  };
}
`;
