/**
 * Facts about the build, printed by `broker --version`. `deno task compile` (scripts/compile.ts)
 * writes the commit it builds from into this file before `deno compile` and puts the committed
 * default back afterwards; `deno run main.ts` (no build) reports "dev".
 */
export const BUILD_COMMIT: string = "dev";
