import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { settleBundle } from "./settle-bundle.js";

/**
 * Bundle a TypeScript script and the `@lora/*` sources it imports into one ESM file that plain `node` runs, for
 * tests that need real child processes (SIGKILL, another process's view of the files) before anything is built:
 * CI runs the tests before the build. Native and third-party modules stay external. Returns the bundle's path, in a
 * directory named by the bundle's contents (see {@link settleBundle}): runs of the same sources share it.
 */
export async function bundleScript(entry: string): Promise<string> {
  // tsup is the repo's bundler (a root dev dependency); loaded lazily so tests that never spawn do not pay for it.
  const { build } = await import("tsup");
  const outDir = await mkdtemp(join(tmpdir(), "lora-wal-bundle-"));
  await build({
    entry: [entry],
    outDir,
    format: ["esm"],
    platform: "node",
    target: "node20",
    bundle: true,
    splitting: false,
    sourcemap: false,
    dts: false,
    silent: true,
    config: false,
    // tsup leaves the dependencies of the package.json in the working directory external: from a package's own
    // directory that would leave its peer dependencies (the AWS SDK of @lora/wal-archive) unresolvable from the
    // temporary directory the bundle runs in. Bundled like the sources, wherever vitest runs from.
    noExternal: [/^@lora\//, /^@aws-sdk\//],
    external: ["koffi", "@loradb/lora-node"],
    // A testing build of the handle: its failpoints and planted bugs are compiled in, as under vitest.
    define: { __LORA_WAL_TESTING__: "true" },
    esbuildOptions(options) {
      options.conditions = ["@lora/source"];
    },
  });
  return join(await settleBundle(outDir, "lora-wal-bundle-"), `${basename(entry).replace(/\.ts$/, "")}.js`);
}
