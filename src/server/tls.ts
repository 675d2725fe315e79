/**
 * TLS for the AMQPS listeners (`listeners.ssl.NAME` with `ssl_options.*`) and the management
 * HTTPS listener (`management.ssl.*`): reads and checks the PEM files named in the configuration
 * when the broker starts, so a missing file, a file that is not PEM or a key that does not belong
 * to the certificate refuses the start with an error naming the key and the file.
 *
 * The AMQPS listeners themselves are in tls_listener.ts (on node:tls; it says why not
 * Deno.listenTls); the management HTTPS listener is Deno.serve's.
 *
 * @example
 * ```ts
 * const { settings, unused } = amqpsSettings(config.ssl.options);
 * const listener = await listenTls({ hostname: "0.0.0.0", port: 5671 }, settings);
 * ```
 */
import { createPrivateKey, X509Certificate } from "node:crypto";

/** What a {@link Connection} needs of its socket: a Deno TCP conn, or an adapted TLS socket. */
export type ClientSocket = Pick<
  Deno.Conn<Deno.NetAddr>,
  "read" | "write" | "close" | "localAddr" | "remoteAddr"
>;

/** An AMQP listener of either kind: `Deno.listen`'s (AMQP) or a node:tls one (AMQPS). */
export interface AmqpListener extends AsyncIterable<ClientSocket> {
  readonly addr: Deno.NetAddr;
  close(): void;
}

/** A TLS setting the broker cannot start with; the message names the key and the file. */
export class TlsConfigError extends Error {
  override name = "TlsConfigError";
}

/** A certificate chain and its key, as PEM, ready for node:tls or Deno.serve. */
export interface CertifiedKey {
  cert: string;
  key: string;
}

/** The AMQPS listeners' TLS settings, from ssl_options.*. */
export interface AmqpsSettings extends CertifiedKey {
  /** ssl_options.verify = verify_peer: ask clients for a certificate signed by {@link caCerts}. */
  verifyPeer: boolean;
  /** ssl_options.fail_if_no_peer_cert = true: refuse clients that send no certificate. */
  failIfNoPeerCert: boolean;
  /** ssl_options.cacertfile's certificates (PEM), to check client certificates against. */
  caCerts: string[];
}

/** The ssl_options.* keys the broker honours; the others are named in a warning at start. */
const HONOURED_SSL_OPTIONS = new Set([
  "certfile",
  "keyfile",
  "cacertfile",
  "verify",
  "fail_if_no_peer_cert",
]);

/** The PEM files of one TLS listener (`ssl_options` or `management.ssl`). */
export interface TlsFiles {
  certfile?: string;
  keyfile?: string;
  cacertfile?: string;
}

/**
 * Reads `certfile` and `keyfile` (and `cacertfile`, when given) for the listener whose keys start
 * with `prefix` (`ssl_options`, `management.ssl`). The certificate chain sent to clients is
 * certfile's certificates followed by the intermediate CAs from cacertfile that issued them, as
 * RabbitMQ builds it. Throws {@link TlsConfigError}.
 */
export function readCertifiedKey(
  files: TlsFiles,
  prefix: string,
): CertifiedKey & { caCerts: string[] } {
  for (const name of ["certfile", "keyfile"] as const) {
    if (files[name] === undefined) {
      throw new TlsConfigError(
        `${prefix}.${name} is not set: a TLS listener needs a ${
          name === "certfile" ? "certificate" : "private key"
        } (PEM file)`,
      );
    }
  }
  const certKey = `${prefix}.certfile`;
  const certs = pemCertificates(certKey, files.certfile!);
  const cas = files.cacertfile === undefined
    ? []
    : pemCertificates(`${prefix}.cacertfile`, files.cacertfile);

  const keyPath = files.keyfile!;
  const keyPem = readPem(`${prefix}.keyfile`, keyPath);
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw new TlsConfigError(
      `${prefix}.keyfile: '${keyPath}' holds no readable PEM private key ` +
        `(password-protected keys are not supported)`,
    );
  }
  if (key.type !== "private" || !certs[0].x509.checkPrivateKey(key)) {
    throw new TlsConfigError(
      `${prefix}.keyfile: '${keyPath}' is not the private key of the certificate in ` +
        `${certKey} '${files.certfile}'`,
    );
  }
  const chain = [...certs, ...issuers(certs[certs.length - 1], cas)];
  return {
    cert: chain.map((c) => c.pem).join("\n"),
    key: keyPem,
    caCerts: cas.map((c) => c.pem),
  };
}

/**
 * The AMQPS settings from `ssl_options.*` (files read and checked) and the ssl_options keys that
 * the broker does not honour (versions, ciphers…), for one warning at start. Throws
 * {@link TlsConfigError}.
 */
export function amqpsSettings(
  options: Record<string, string>,
): { settings: AmqpsSettings; unused: string[] } {
  const verifyPeer = options.verify === "verify_peer";
  const failIfNoPeerCert = options.fail_if_no_peer_cert === "true";
  if (failIfNoPeerCert && !verifyPeer) {
    // Erlang's ssl refuses this combination too ({options, incompatible, ...}).
    throw new TlsConfigError(
      "ssl_options.fail_if_no_peer_cert = true needs ssl_options.verify = verify_peer " +
        "(with verify_none client certificates are not asked for)",
    );
  }
  if (verifyPeer && options.cacertfile === undefined) {
    throw new TlsConfigError(
      "ssl_options.verify = verify_peer needs ssl_options.cacertfile " +
        "(the CA certificates that client certificates are checked against)",
    );
  }
  const files = readCertifiedKey(options, "ssl_options");
  const unused = Object.keys(options).filter((k) => !HONOURED_SSL_OPTIONS.has(k)).sort();
  return { settings: { ...files, verifyPeer, failIfNoPeerCert }, unused };
}

interface ParsedCert {
  pem: string;
  x509: X509Certificate;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

function readPem(key: string, path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (err) {
    throw new TlsConfigError(`${key}: cannot read '${path}': ${(err as Error).message}`);
  }
}

/** The certificates of a PEM file; at least one. */
function pemCertificates(key: string, path: string): ParsedCert[] {
  const blocks = readPem(key, path).match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    throw new TlsConfigError(`${key}: '${path}' holds no PEM certificate (BEGIN CERTIFICATE)`);
  }
  return blocks.map((pem, i) => {
    try {
      return { pem, x509: new X509Certificate(pem) };
    } catch {
      throw new TlsConfigError(`${key}: certificate ${i + 1} in '${path}' is not valid`);
    }
  });
}

/** The chain of CAs in `pool` above `cert`, up to but without the self-signed root. */
function issuers(cert: ParsedCert, pool: ParsedCert[]): ParsedCert[] {
  const chain: ParsedCert[] = [];
  let current = cert;
  for (;;) {
    const issuer = pool.find((c) =>
      current.x509.checkIssued(c.x509) && !c.x509.checkIssued(c.x509) && !chain.includes(c)
    );
    if (!issuer) return chain;
    chain.push(issuer);
    current = issuer;
  }
}
