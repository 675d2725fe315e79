/**
 * HTTP basic authentication with the broker's users, and the management tags' rules, as RabbitMQ
 * applies them: a user needs one of the management tags to use the API at all; `monitoring` sees
 * every vhost, connection and channel and node data; `policymaker` manages policies and
 * parameters; `administrator` does everything. Loopback-only users (loopback_users) may log in
 * from loopback addresses only, over HTTP as over AMQP.
 */
import { isLoopbackAddress } from "../auth/users.ts";
import type { ControlService } from "../control/service.ts";
import { HttpError, notAuthorised } from "./http.ts";

/** The authenticated user of a request. */
export class Principal {
  readonly isAdmin: boolean;
  readonly isMonitor: boolean;
  readonly isPolicymaker: boolean;
  private login: Set<string> | undefined;

  constructor(
    readonly name: string,
    readonly tags: string[],
    private readonly service: ControlService,
  ) {
    this.isAdmin = tags.includes("administrator");
    this.isMonitor = this.isAdmin || tags.includes("monitoring");
    this.isPolicymaker = this.isAdmin || tags.includes("policymaker");
  }

  /** Vhosts the user may log in to (holds permissions on). */
  get loginVhosts(): Set<string> {
    return this.login ??= new Set(this.service.loginVhosts(this.name));
  }

  /** Vhosts whose objects (queues, exchanges, bindings, consumers) the user sees in listings. */
  seesObjectsIn(vhost: string): boolean {
    return this.isAdmin || this.loginVhosts.has(vhost);
  }

  /** Vhosts the user sees as such (monitoring users see them all). */
  seesVhost(vhost: string): boolean {
    return this.isMonitor || this.loginVhosts.has(vhost);
  }

  /** Connections and channels: monitoring users see everyone's, others only their own. */
  seesUser(user: unknown): boolean {
    return this.isMonitor || user === this.name;
  }
}

const MANAGEMENT_TAGS = ["administrator", "monitoring", "policymaker", "management"];
const REALM = 'Basic realm="RabbitMQ Management"';

/**
 * Browsers show their own login dialog on a 401 carrying WWW-Authenticate; script requests
 * (X-Requested-With, as the web UI sends) get the JSON error alone.
 */
function notAuthenticated(req: Request): HttpError {
  const headers: Record<string, string> = req.headers.has("x-requested-with")
    ? {}
    : { "www-authenticate": REALM };
  return new HttpError(401, "not_authorized", "Not_Authorized", headers);
}

function credentials(req: Request): { user: string; password: string } | undefined {
  const header = req.headers.get("authorization");
  if (!header) return undefined;
  const m = /^Basic\s+(\S+)\s*$/i.exec(header);
  if (!m) return undefined;
  let text: string;
  try {
    text = new TextDecoder().decode(Uint8Array.from(atob(m[1]), (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
  const colon = text.indexOf(":");
  if (colon < 0) return undefined;
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** The request's user, or a 401 (no or wrong credentials, loopback rule, no management tag). */
export function authenticate(
  req: Request,
  remoteAddress: string,
  service: ControlService,
  loopbackUsers: readonly string[],
): Principal {
  const creds = credentials(req);
  if (!creds) throw notAuthenticated(req);
  const user = service.authenticate(creds.user, creds.password);
  if (!user) throw notAuthenticated(req);
  if (loopbackUsers.includes(user.name) && !isLoopbackAddress(remoteAddress)) {
    throw notAuthorised("User can only log in via localhost");
  }
  if (!user.tags.some((t) => MANAGEMENT_TAGS.includes(t))) {
    throw notAuthorised("Not management user");
  }
  return new Principal(user.name, user.tags, service);
}

/** What a route requires beyond a management user. */
export type Access =
  /** any management user */
  | "management"
  /** administrator or monitoring */
  | "monitoring"
  | "policymaker"
  | "administrator"
  /** administrator, or a user with permissions on the path's vhost */
  | "vhost"
  /** as vhost, and monitoring users see every vhost */
  | "vhost-visible";

/** 401 unless the user may use a route (a vhost named in the path that does not exist passes). */
export function authorize(
  user: Principal,
  access: Access,
  vhost: string | undefined,
  service: ControlService,
): void {
  const known = vhost !== undefined && service.vhostExists(vhost);
  switch (access) {
    case "management":
      return;
    case "monitoring":
      if (!user.isMonitor) throw notAuthorised("Not monitor user");
      return;
    case "administrator":
      if (!user.isAdmin) throw notAuthorised("Not administrator user");
      return;
    case "policymaker":
      if (!user.isPolicymaker || (known && !user.seesObjectsIn(vhost!))) {
        throw notAuthorised("User not authorised to access object");
      }
      return;
    case "vhost":
      if (known && !user.seesObjectsIn(vhost!)) {
        throw notAuthorised("User not authorised to access virtual host");
      }
      return;
    case "vhost-visible":
      if (known && !user.seesVhost(vhost!)) {
        throw notAuthorised("User not authorised to access virtual host");
      }
      return;
  }
}
