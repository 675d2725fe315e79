/**
 * /js/page_admin.js: users (tags, add, delete), virtual hosts (add, delete) and permissions (set,
 * clear). Shown to administrators only.
 */
export const PAGE_ADMIN_JS = String.raw`// Admin page.
import { enc, field, fillSelect, flash, fmtNum, fmtRate, h, section, tagList } from "./dom.js";
import { api } from "./api.js";
import { createTable } from "./table.js";

const TAGS = ["administrator", "monitoring", "policymaker", "management", "impersonator"];

function deleteButton(label, onclick) {
  return h("button", {
    type: "button",
    class: "small danger",
    dataset: { action: "delete" },
    onclick,
  }, label);
}

export function adminPage(ctx) {
  let permissions = [];

  async function run(what, fn) {
    try {
      await fn();
      flash(what);
      await ctx.refreshNow();
      return true;
    } catch (err) {
      flash(err.message, "error");
      return false;
    }
  }

  // ---- users ----
  const users = createTable({
    id: "users-table",
    label: "users",
    empty: "No users.",
    rowKey: (u) => u.name,
    columns: [
      { key: "name", label: "Name", value: (u) => u.name },
      {
        key: "tags",
        label: "Tags",
        value: (u) => tagList(u.tags).join(", "),
        render: (u) => h("span", null, tagList(u.tags).map((t) => h("span", { class: "tag" }, t))),
      },
      {
        key: "vhosts",
        label: "Can access virtual hosts",
        value: (u) =>
          permissions.filter((p) => p.user === u.name).map((p) => p.vhost).sort().join(", ") ||
          "No access",
      },
      {
        key: "password",
        label: "Has password",
        value: (u) => u.password_hash === undefined ? "" : (u.password_hash ? "yes" : "no"),
      },
      {
        key: "actions",
        label: "",
        sortable: false,
        value: () => "",
        render: (u) =>
          deleteButton("Delete", () => {
            if (
              u.name === (ctx.user && ctx.user.name) &&
              !confirm("Delete your own user '" + u.name + "'? You will be signed out.")
            ) return;
            if (
              u.name !== (ctx.user && ctx.user.name) && !confirm("Delete user '" + u.name + "'?")
            ) return;
            run("User '" + u.name + "' deleted.", () => api("DELETE", "/users/" + enc(u.name)));
          }),
      },
    ],
  });
  const userName = h("input", {
    type: "text",
    id: "user-add-name",
    required: true,
    autocomplete: "off",
  });
  const userPass = h("input", {
    type: "password",
    id: "user-add-password",
    autocomplete: "new-password",
  });
  const userTags = h("input", {
    type: "text",
    id: "user-add-tags",
    autocomplete: "off",
    placeholder: "comma-separated",
  });
  const tagButtons = h(
    "span",
    { class: "tag-picks" },
    "Set: ",
    TAGS.map((t) =>
      h("button", {
        type: "button",
        class: "link-button",
        onclick: () => {
          const cur = tagList(userTags.value);
          if (!cur.includes(t)) cur.push(t);
          userTags.value = cur.join(", ");
        },
      }, t)
    ),
    h("button", {
      type: "button",
      class: "link-button",
      onclick: () => {
        userTags.value = "";
      },
    }, "none"),
  );
  const userSubmit = h(
    "button",
    { type: "submit", id: "user-add-submit", class: "primary" },
    "Add / update user",
  );
  const userForm = h(
    "form",
    { class: "form", id: "user-add-form" },
    field("Username", userName),
    field("Password", userPass, "Leave empty to keep an existing user's password."),
    field("Tags", userTags),
    h("div", { class: "field" }, h("span", { class: "label" }), tagButtons),
    h("div", { class: "actions" }, userSubmit),
  );
  userForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const name = userName.value.trim();
    if (!name) return;
    const body = { tags: tagList(userTags.value).join(",") };
    if (userPass.value !== "") body.password = userPass.value;
    userSubmit.disabled = true;
    const ok = await run(
      "User '" + name + "' saved.",
      () => api("PUT", "/users/" + enc(name), body),
    );
    userSubmit.disabled = false;
    if (ok) {
      userName.value = "";
      userPass.value = "";
      userTags.value = "";
    }
  });

  // ---- vhosts ----
  const vhosts = createTable({
    id: "vhosts-table",
    label: "virtual hosts",
    empty: "No virtual hosts.",
    rowKey: (v) => v.name,
    columns: [
      { key: "name", label: "Name", value: (v) => v.name },
      { key: "description", label: "Description", value: (v) => v.description || "" },
      {
        key: "ready",
        label: "Ready",
        num: true,
        value: (v) => v.messages_ready,
        render: (v) => fmtNum(v.messages_ready),
      },
      {
        key: "unacked",
        label: "Unacked",
        num: true,
        value: (v) => v.messages_unacknowledged,
        render: (v) => fmtNum(v.messages_unacknowledged),
      },
      {
        key: "total",
        label: "Total",
        num: true,
        value: (v) => v.messages,
        render: (v) => fmtNum(v.messages),
      },
      {
        key: "publish",
        label: "Publish",
        num: true,
        value: (v) =>
          v.message_stats && v.message_stats.publish_details &&
          v.message_stats.publish_details.rate,
        render: (v) =>
          fmtRate(
            v.message_stats && v.message_stats.publish_details &&
              v.message_stats.publish_details.rate,
          ),
      },
      {
        key: "actions",
        label: "",
        sortable: false,
        value: () => "",
        render: (v) =>
          deleteButton("Delete", () => {
            if (!confirm("Delete virtual host '" + v.name + "' and everything in it?")) return;
            run(
              "Virtual host '" + v.name + "' deleted.",
              () => api("DELETE", "/vhosts/" + enc(v.name)),
            );
          }),
      },
    ],
  });
  const vhostName = h("input", {
    type: "text",
    id: "vhost-add-name",
    required: true,
    autocomplete: "off",
  });
  const vhostDesc = h("input", { type: "text", id: "vhost-add-description", autocomplete: "off" });
  const vhostSubmit = h(
    "button",
    { type: "submit", id: "vhost-add-submit", class: "primary" },
    "Add virtual host",
  );
  const vhostForm = h(
    "form",
    { class: "form", id: "vhost-add-form" },
    field("Name", vhostName),
    field("Description", vhostDesc),
    h("div", { class: "actions" }, vhostSubmit),
  );
  vhostForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const name = vhostName.value.trim();
    if (!name) return;
    vhostSubmit.disabled = true;
    const ok = await run(
      "Virtual host '" + name + "' added.",
      () => api("PUT", "/vhosts/" + enc(name), { description: vhostDesc.value }),
    );
    vhostSubmit.disabled = false;
    if (ok) {
      vhostName.value = "";
      vhostDesc.value = "";
    }
  });

  // ---- permissions ----
  const perms = createTable({
    id: "permissions-table",
    label: "permissions",
    empty: "No permissions.",
    rowKey: (p) => p.user + "@" + p.vhost,
    columns: [
      { key: "user", label: "User", value: (p) => p.user },
      { key: "vhost", label: "Virtual host", value: (p) => p.vhost },
      {
        key: "configure",
        label: "Configure",
        value: (p) => p.configure,
        render: (p) => h("code", null, p.configure),
      },
      {
        key: "write",
        label: "Write",
        value: (p) => p.write,
        render: (p) => h("code", null, p.write),
      },
      { key: "read", label: "Read", value: (p) => p.read, render: (p) => h("code", null, p.read) },
      {
        key: "actions",
        label: "",
        sortable: false,
        value: () => "",
        render: (p) =>
          deleteButton("Clear", () => {
            run("Permissions of '" + p.user + "' on '" + p.vhost + "' cleared.", () =>
              api("DELETE", "/permissions/" + enc(p.vhost) + "/" + enc(p.user)));
          }),
      },
    ],
  });
  const permUser = h("select", { id: "perm-user" });
  const permVhost = h("select", { id: "perm-vhost" });
  const permConf = h("input", {
    type: "text",
    id: "perm-configure",
    value: ".*",
    autocomplete: "off",
  });
  const permWrite = h("input", {
    type: "text",
    id: "perm-write",
    value: ".*",
    autocomplete: "off",
  });
  const permRead = h("input", { type: "text", id: "perm-read", value: ".*", autocomplete: "off" });
  const permSubmit = h(
    "button",
    { type: "submit", id: "perm-submit", class: "primary" },
    "Set permission",
  );
  const permForm = h(
    "form",
    { class: "form", id: "perm-form" },
    field("User", permUser),
    field("Virtual host", permVhost),
    field("Configure regexp", permConf),
    field("Write regexp", permWrite),
    field("Read regexp", permRead),
    h("div", { class: "actions" }, permSubmit),
  );
  permForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!permUser.value || !permVhost.value) return;
    permSubmit.disabled = true;
    await run(
      "Permissions of '" + permUser.value + "' on '" + permVhost.value + "' set.",
      () =>
        api("PUT", "/permissions/" + enc(permVhost.value) + "/" + enc(permUser.value), {
          configure: permConf.value,
          write: permWrite.value,
          read: permRead.value,
        }),
    );
    permSubmit.disabled = false;
  });

  const el = h(
    "div",
    { class: "page page-admin" },
    h("h1", null, "Admin"),
    section("Users", "admin-users", users.el, h("h3", null, "Add a user"), userForm),
    section(
      "Virtual hosts",
      "admin-vhosts",
      vhosts.el,
      h("h3", null, "Add a virtual host"),
      vhostForm,
    ),
    section(
      "Permissions",
      "admin-permissions",
      perms.el,
      h("h3", null, "Set permission"),
      permForm,
    ),
  );

  return {
    title: "Admin",
    el,
    async refresh() {
      const [u, v, p] = await Promise.all([
        api("GET", "/users"),
        api("GET", "/vhosts"),
        api("GET", "/permissions"),
      ]);
      permissions = Array.isArray(p) ? p : [];
      users.update(u);
      vhosts.update(v);
      perms.update(permissions);
      const names = (u || []).map((x) => x.name).sort();
      fillSelect(permUser, names.map((n) => ({ value: n, label: n })), ctx.user && ctx.user.name);
      fillSelect(
        permVhost,
        (v || []).map((x) => x.name).sort().map((n) => ({ value: n, label: n })),
        ctx.vhost() || "/",
      );
    },
  };
}
`;
