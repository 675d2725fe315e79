/**
 * /js/forms.js: form pieces used on several pages: typed key/value rows (queue and exchange
 * arguments, binding arguments, message headers), the submit handling of the add and bind forms,
 * the add-binding form and the publish-message form.
 */
export const FORMS_JS = String
  .raw`// Typed key/value rows, submit handling, the binding and publish forms.
import { field, flash, h } from "./dom.js";
import { api } from "./api.js";

const TYPES = [
  { value: "string", label: "String" },
  { value: "number", label: "Number" },
  { value: "boolean", label: "Boolean" },
  { value: "list", label: "List" },
];

function convert(raw, type, key) {
  if (type === "number") {
    const n = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(n)) throw new Error("'" + key + "' is not a number");
    return n;
  }
  if (type === "boolean") {
    const v = raw.trim().toLowerCase();
    if (v === "true" || v === "1" || v === "yes") return true;
    if (v === "false" || v === "0" || v === "no") return false;
    throw new Error("'" + key + "' is not true or false");
  }
  if (type === "list") {
    const t = raw.trim();
    if (t.startsWith("[")) {
      const v = JSON.parse(t);
      if (!Array.isArray(v)) throw new Error("'" + key + "' is not a list");
      return v;
    }
    return t === "" ? [] : t.split(",").map((x) => x.trim());
  }
  return raw;
}

/**
 * createKeyValueRows(idPrefix, { suggestions }) returns { el, read(), reset() }: rows of key,
 * value and type; a new empty row appears as soon as the last one is typed in. read() gives the
 * object (throws with a readable message on a bad number/boolean/list). Inputs are named
 * IDPREFIX-key-N, IDPREFIX-value-N, IDPREFIX-type-N (N from 0).
 */
export function createKeyValueRows(idPrefix, opts) {
  const options = opts || {};
  const body = h("tbody");
  let n = 0;
  const listId = options.suggestions ? idPrefix + "-suggestions" : undefined;

  function addRow() {
    const i = n++;
    const key = h("input", {
      type: "text",
      id: idPrefix + "-key-" + i,
      class: "kv-key",
      placeholder: "key",
      "aria-label": "Key",
      list: listId,
      autocomplete: "off",
    });
    const value = h("input", {
      type: "text",
      id: idPrefix + "-value-" + i,
      class: "kv-value",
      placeholder: "value",
      "aria-label": "Value",
      autocomplete: "off",
    });
    const type = h("select", {
      id: idPrefix + "-type-" + i,
      class: "kv-type",
      "aria-label": "Type",
    }, TYPES.map((t) => h("option", { value: t.value }, t.label)));
    key.addEventListener("input", () => {
      if (key.value !== "" && body.lastElementChild === row) addRow();
      const hint = options.suggestions && options.suggestions.find((x) => x.key === key.value);
      if (hint) type.value = hint.type;
    });
    const row = h(
      "tr",
      null,
      h("td", null, key),
      h("td", null, h("span", { class: "eq" }, "=")),
      h("td", null, value),
      h("td", null, type),
    );
    body.append(row);
  }

  addRow();
  const el = h(
    "div",
    { class: "kv-rows", id: idPrefix },
    h("table", null, body),
    listId
      ? h(
        "datalist",
        { id: listId },
        options.suggestions.map((x) => h("option", { value: x.key }, x.label || x.key)),
      )
      : null,
  );

  return {
    el,
    read() {
      const out = {};
      for (const row of body.children) {
        const [key, value, type] = row.querySelectorAll("input, select");
        if (key.value.trim() === "") continue;
        out[key.value.trim()] = convert(value.value, type.value, key.value.trim());
      }
      return out;
    },
    reset() {
      body.replaceChildren();
      n = 0;
      addRow();
    },
  };
}

export const QUEUE_ARGUMENTS = [
  { key: "x-message-ttl", type: "number", label: "Message TTL (ms)" },
  { key: "x-expires", type: "number", label: "Auto expire (ms)" },
  { key: "x-max-length", type: "number", label: "Max length" },
  { key: "x-max-length-bytes", type: "number", label: "Max length bytes" },
  { key: "x-overflow", type: "string", label: "drop-head | reject-publish | reject-publish-dlx" },
  { key: "x-dead-letter-exchange", type: "string", label: "Dead letter exchange" },
  { key: "x-dead-letter-routing-key", type: "string", label: "Dead letter routing key" },
  { key: "x-max-priority", type: "number", label: "Maximum priority" },
  { key: "x-single-active-consumer", type: "boolean", label: "Single active consumer" },
  { key: "x-queue-mode", type: "string", label: "lazy" },
  { key: "x-queue-type", type: "string", label: "classic | quorum | stream" },
];

export const EXCHANGE_ARGUMENTS = [
  { key: "alternate-exchange", type: "string", label: "Alternate exchange" },
];

/** The primary submit button of a form. */
function submitButton(id, label) {
  return h("button", { type: "submit", id, class: "primary" }, label);
}

/**
 * onSubmit(form, button, prepare): on submit, prepare() returns nothing (nothing to send) or
 * { read, send, done, failure }. read() builds the request body (an error it throws is flashed
 * and nothing is sent); send(body) runs with the button disabled, then done(); an error in
 * either is flashed as failure + ": " + its message.
 */
export function onSubmit(form, button, prepare) {
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const job = prepare();
    if (!job) return;
    let body;
    try {
      body = job.read();
    } catch (err) {
      flash(err.message, "error");
      return;
    }
    button.disabled = true;
    try {
      await job.send(body);
      await job.done();
    } catch (err) {
      flash(job.failure + ": " + err.message, "error");
    } finally {
      button.disabled = false;
    }
  });
}

/**
 * onAddSubmit(ctx, form, button, { noun, name, args, path, read }): the form that adds a named
 * NOUN ("queue"): the name input must not be blank; PUT path(name) with read(); then the name
 * and the argument rows are cleared and the page refreshed.
 */
export function onAddSubmit(ctx, form, button, opts) {
  const Noun = opts.noun[0].toUpperCase() + opts.noun.slice(1);
  onSubmit(form, button, () => {
    const n = opts.name.value.trim();
    if (!n) {
      flash("The " + opts.noun + " needs a name.", "error");
      return;
    }
    return {
      read: opts.read,
      send: (body) => api("PUT", opts.path(n), body),
      async done() {
        flash(Noun + " '" + n + "' added.");
        opts.name.value = "";
        opts.args.reset();
        await ctx.refreshNow();
      },
      failure: "Could not add " + opts.noun + " '" + n + "'",
    };
  });
}

/**
 * createBindingForm(ctx, idPrefix, end, { label, wrap, path, added }): the form that binds the
 * page's exchange or queue to the exchange or queue named in its END input (with suggestions
 * from the datalist IDPREFIX-ENDs): POST path(name) with routing key and arguments; added(name)
 * is the message on success. wrap(input) places the input in its field (default: as it is).
 * Controls: IDPREFIX-END, IDPREFIX-routing-key, IDPREFIX-args, IDPREFIX-submit; the form is
 * IDPREFIX-form. Returns { el, suggestions }.
 */
export function createBindingForm(ctx, idPrefix, end, opts) {
  const other = h("input", {
    type: "text",
    id: idPrefix + "-" + end,
    list: idPrefix + "-" + end + "s",
    autocomplete: "off",
    required: true,
  });
  const suggestions = h("datalist", { id: idPrefix + "-" + end + "s" });
  const routingKey = h("input", {
    type: "text",
    id: idPrefix + "-routing-key",
    autocomplete: "off",
  });
  const args = createKeyValueRows(idPrefix + "-args");
  const submit = submitButton(idPrefix + "-submit", "Bind");
  const form = h(
    "form",
    { class: "form", id: idPrefix + "-form" },
    field(opts.label, opts.wrap ? opts.wrap(other) : other),
    suggestions,
    field("Routing key", routingKey),
    h("div", { class: "field" }, h("label", null, "Arguments"), args.el),
    h("div", { class: "actions" }, submit),
  );
  onSubmit(form, submit, () => {
    const x = other.value.trim();
    if (!x) return;
    return {
      read: () => ({ routing_key: routingKey.value, arguments: args.read() }),
      send: (body) => api("POST", opts.path(x), body),
      async done() {
        flash(opts.added(x));
        other.value = "";
        routingKey.value = "";
        args.reset();
        await ctx.refreshNow();
      },
      failure: "Could not add the binding",
    };
  });
  return { el: form, suggestions };
}

const PROPERTY_KEYS = [
  "content_type",
  "content_encoding",
  "priority",
  "correlation_id",
  "reply_to",
  "expiration",
  "message_id",
  "timestamp",
  "type",
  "user_id",
  "app_id",
];

/** The API path of an exchange: the default exchange is "amq.default" there, as in RabbitMQ. */
export function exchangePath(vhost, name) {
  return "/exchanges/" + encodeURIComponent(vhost) + "/" +
    encodeURIComponent(name || "amq.default");
}

/**
 * createPublishForm(idPrefix, target) where target() returns { vhost, exchange, routingKey? }.
 * Controls: IDPREFIX-routing-key, -delivery-mode, -headers, -properties, -payload, -submit,
 * and the outcome in IDPREFIX-result.
 */
export function createPublishForm(idPrefix, target, fixedRoutingKey) {
  const routingKey = h("input", {
    type: "text",
    id: idPrefix + "-routing-key",
    autocomplete: "off",
  });
  const mode = h(
    "select",
    { id: idPrefix + "-delivery-mode" },
    h("option", { value: "1" }, "1 - Non-persistent"),
    h("option", { value: "2" }, "2 - Persistent"),
  );
  const headers = createKeyValueRows(idPrefix + "-headers");
  const props = h("div", { class: "kv-rows", id: idPrefix + "-properties" });
  const propRows = [];
  const propBody = h("tbody");
  props.append(h("table", null, propBody));
  function addPropRow() {
    const i = propRows.length;
    const key = h(
      "select",
      { id: idPrefix + "-property-key-" + i, "aria-label": "Property" },
      h("option", { value: "" }, "(property)"),
      PROPERTY_KEYS.map((k) => h("option", { value: k }, k)),
    );
    const value = h("input", {
      type: "text",
      id: idPrefix + "-property-value-" + i,
      "aria-label": "Property value",
      autocomplete: "off",
    });
    key.addEventListener("change", () => {
      if (key.value !== "" && propRows[propRows.length - 1] === row) addPropRow();
    });
    const row = { key, value };
    propRows.push(row);
    propBody.append(
      h(
        "tr",
        null,
        h("td", null, key),
        h("td", null, h("span", { class: "eq" }, "=")),
        h("td", null, value),
      ),
    );
  }
  addPropRow();
  const payload = h("textarea", { id: idPrefix + "-payload", rows: "5", spellcheck: "false" });
  const encoding = h(
    "select",
    { id: idPrefix + "-payload-encoding" },
    h("option", { value: "string" }, "String"),
    h("option", { value: "base64" }, "Base64"),
  );
  const result = h("div", { id: idPrefix + "-result", class: "result", role: "status" });
  const submit = submitButton(idPrefix + "-submit", "Publish message");

  const form = h(
    "form",
    { class: "form", id: idPrefix + "-form" },
    fixedRoutingKey ? null : field("Routing key", routingKey),
    field("Delivery mode", mode),
    h("div", { class: "field" }, h("label", null, "Headers"), headers.el),
    h("div", { class: "field" }, h("label", null, "Properties"), props),
    field("Payload", payload),
    field("Payload encoding", encoding),
    h("div", { class: "actions" }, submit),
    result,
  );

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const t = target();
    let body;
    try {
      const properties = { delivery_mode: Number(mode.value), headers: headers.read() };
      for (const r of propRows) {
        if (r.key.value === "") continue;
        const isNum = r.key.value === "priority" || r.key.value === "timestamp";
        properties[r.key.value] = isNum ? Number(r.value.value) : r.value.value;
      }
      body = {
        properties,
        routing_key: fixedRoutingKey ? t.routingKey : routingKey.value,
        payload: payload.value,
        payload_encoding: encoding.value,
      };
    } catch (err) {
      flash(err.message, "error");
      return;
    }
    submit.disabled = true;
    result.className = "result";
    result.textContent = "";
    try {
      const res = await api("POST", exchangePath(t.vhost, t.exchange) + "/publish", body);
      const routed = res && res.routed;
      result.className = "result " + (routed === false ? "warn" : "ok");
      result.textContent = routed === false
        ? "Message published, but not routed."
        : "Message published.";
    } catch (err) {
      result.className = "result error";
      result.textContent = "Publish failed: " + err.message;
    } finally {
      submit.disabled = false;
    }
  });
  return { el: form };
}
`;
