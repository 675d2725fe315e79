/**
 * /js/entities.js: pieces shared by the exchange and queue pages: links, feature badges, the
 * virtual host select, the list page, the bindings table with its Unbind buttons, the crumbs
 * line, the details fetch, and the delete/purge buttons.
 */
export const ENTITIES_JS = String.raw`// Shared by the exchange and queue pages.
import { clear, enc, fillSelect, flash, fmtValue, h, section } from "./dom.js";
import { api } from "./api.js";
import { createTable } from "./table.js";

export function exchangeLabel(name) {
  return name === "" ? "(AMQP default)" : name;
}

export function exchangeLink(vhost, name) {
  return h(
    "a",
    { href: "#/exchanges/" + enc(vhost) + "/" + enc(name), class: "link" },
    exchangeLabel(name),
  );
}

export function queueLink(vhost, name) {
  return h("a", { href: "#/queues/" + enc(vhost) + "/" + enc(name), class: "link" }, name);
}

/** Badges for durable / auto-delete / internal / exclusive / arguments. */
export function features(r) {
  const out = [];
  if (r.durable) out.push(h("abbr", { class: "feature", title: "Durable" }, "D"));
  if (r.auto_delete) out.push(h("abbr", { class: "feature", title: "Auto-delete" }, "AD"));
  if (r.internal) out.push(h("abbr", { class: "feature", title: "Internal" }, "I"));
  if (r.exclusive) out.push(h("abbr", { class: "feature", title: "Exclusive" }, "Excl"));
  const args = r.arguments && typeof r.arguments === "object" ? Object.entries(r.arguments) : [];
  if (args.length) {
    const title = args.map(([k, v]) => k + ": " + fmtValue(v)).join("\n");
    out.push(h("abbr", { class: "feature args", title }, "Args"));
  }
  return out;
}

export function featureText(r) {
  const args = r.arguments && typeof r.arguments === "object" ? Object.keys(r.arguments) : [];
  return [
    r.durable ? "D" : "",
    r.auto_delete ? "AD" : "",
    r.internal ? "I" : "",
    r.exclusive ? "Excl" : "",
    args.length ? "Args " + args.join(" ") : "",
  ].filter(Boolean).join(" ");
}

/** A select of virtual hosts, filled from ctx.vhosts by fillVhosts() on each refresh. */
export function vhostSelect(id) {
  return h("select", { id });
}

export function fillVhosts(ctx, select) {
  fillSelect(select, ctx.vhosts.map((v) => ({ value: v, label: v })), ctx.vhost() || "/");
}

/**
 * listPage(ctx, { title, path, table, vhost, add: [title, id, form], refreshed }): the page that
 * lists the objects at the API path (those of the chosen virtual host) in table, with the add
 * form below, its virtual host select vhost; refreshed(), if given, runs after each refresh.
 */
export function listPage(ctx, opts) {
  return {
    title: opts.title,
    el: h(
      "div",
      { class: "page" },
      h("h1", null, opts.title),
      opts.table.el,
      section(...opts.add),
    ),
    async refresh() {
      const list = await api("GET", opts.path);
      const v = ctx.vhost();
      opts.table.update((list || []).filter((r) => !v || r.vhost === v));
      fillVhosts(ctx, opts.vhost);
      if (opts.refreshed) opts.refreshed();
    },
  };
}

/** DELETE path of a binding (RabbitMQ's properties_key names it among same-pair bindings). */
export function bindingPath(b) {
  const kind = b.destination_type === "exchange" ? "e" : "q";
  const props = b.properties_key ?? (b.routing_key === "" ? "~" : b.routing_key);
  return "/bindings/" + enc(b.vhost) + "/e/" + enc(b.source) + "/" + kind + "/" +
    enc(b.destination) + "/" + enc(props);
}

/** The bindings of an exchange or a queue, each but the default exchange's with Unbind. */
export function bindingsTable(id, onChange) {
  return createTable({
    id,
    label: "bindings",
    empty: "No bindings.",
    rowKey: (b) =>
      b.source + " " + b.destination_type + " " + b.destination + " " +
      (b.properties_key ?? b.routing_key),
    columns: [
      {
        key: "source",
        label: "From",
        value: (b) => exchangeLabel(b.source),
        render: (b) => exchangeLink(b.vhost, b.source),
      },
      {
        key: "destination",
        label: "To",
        value: (b) => b.destination,
        render: (b) =>
          h(
            "span",
            null,
            b.destination_type === "exchange"
              ? exchangeLink(b.vhost, b.destination)
              : queueLink(b.vhost, b.destination),
            h("span", { class: "muted" }, " (" + (b.destination_type || "queue") + ")"),
          ),
      },
      {
        key: "routing_key",
        label: "Routing key",
        value: (b) => b.routing_key,
        render: (b) => h("span", { class: "mono" }, b.routing_key),
      },
      {
        key: "arguments",
        label: "Arguments",
        value: (b) => b.arguments && Object.keys(b.arguments).length ? fmtValue(b.arguments) : "",
      },
      {
        key: "actions",
        label: "",
        sortable: false,
        value: () => "",
        render: (b) =>
          b.source === "" ? h("span", { class: "muted" }, "(default binding)") : h("button", {
            type: "button",
            class: "small danger",
            dataset: { action: "unbind" },
            onclick: async () => {
              try {
                await api("DELETE", bindingPath(b));
                flash("Binding removed.");
                onChange();
              } catch (err) {
                flash("Could not remove the binding: " + err.message, "error");
              }
            },
          }, "Unbind"),
      },
    ],
    sort: { key: "source", dir: 1 },
  });
}

/** The crumbs line of an object's page: the list it belongs to, then its virtual host. */
export function crumbs(href, label, vhost) {
  return h(
    "p",
    { class: "crumbs" },
    h("a", { href, class: "link" }, label),
    " \u203a virtual host ",
    h("strong", null, vhost),
  );
}

/**
 * fetchDetails(info, what, vhost, name, path): GET path; when it is a 404, info says that
 * WHAT 'name' (e.g. "Queue") does not exist in the virtual host and the result is undefined.
 */
export async function fetchDetails(info, what, vhost, name, path) {
  try {
    return await api("GET", path);
  } catch (err) {
    if (err.status === 404) {
      clear(
        info,
        h(
          "p",
          { class: "note error" },
          what + " '" + name + "' does not exist in virtual host '" + vhost + "'.",
        ),
      );
      return undefined;
    }
    throw err;
  }
}

/**
 * dangerButton(id, label, { question, run, failure }): a button that, once the user confirms
 * the question, runs run(); an error is flashed as failure + ": " + its message.
 */
export function dangerButton(id, label, opts) {
  const button = h("button", { type: "button", id, class: "danger" }, label);
  button.addEventListener("click", async () => {
    if (!confirm(opts.question)) return;
    try {
      await opts.run();
    } catch (err) {
      flash(opts.failure + ": " + err.message, "error");
    }
  });
  return button;
}

/**
 * deleteButton(ctx, id, label, { noun, name, path, back }): deletes the page's NOUN ("queue")
 * named name at path, after confirmation, then goes back to the list at the hash back.
 */
export function deleteButton(ctx, id, label, opts) {
  const Noun = opts.noun[0].toUpperCase() + opts.noun.slice(1);
  return dangerButton(id, label, {
    question: "Delete " + opts.noun + " '" + opts.name + "'?",
    async run() {
      await api("DELETE", opts.path);
      flash(Noun + " '" + opts.name + "' deleted.");
      ctx.navigate(opts.back);
    },
    failure: "Could not delete the " + opts.noun,
  });
}
`;
