/**
 * The one error type of the configuration loader. Its message always says where the bad setting
 * came from: `FILE:LINE: key: ...` for the config file, `NAME: ...` for an environment variable,
 * `--flag: ...` for a command-line flag.
 *
 * @example
 * ```ts
 * throw new ConfigError("rabbitmq.conf:12: frame_max: 'abc' is not an integer");
 * ```
 */
export class ConfigError extends Error {
  override name = "ConfigError";
}
