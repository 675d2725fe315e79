import { BUILD_COMMIT } from "./build_info.ts";

/** The broker's version, reported in connection.start and `broker --version`. */
export const VERSION = "0.1.0";

/** The commit the running binary was built from ("dev" when run from source). */
export const COMMIT: string = BUILD_COMMIT;

/**
 * What `broker --version` prints: the version and the build's commit.
 *
 * @example
 * ```ts
 * versionLine(); // "broker 0.1.0 (commit 1ddc676)", or "broker 0.1.0 (commit dev)" from source
 * ```
 */
export function versionLine(): string {
  return `broker ${VERSION} (commit ${COMMIT})`;
}
