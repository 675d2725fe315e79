/** The broker's version, reported in connection.start and `broker --version`. */
export const VERSION = "0.1.0";
