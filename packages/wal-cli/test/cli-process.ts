/**
 * `lora-wal` as a real child process: the bin entry bundled with the workspace sources (no build needed), its
 * stdout collected line by line, waits on what it printed (bounded by a generous guard, never a verdict), signals.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, realpath, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { settleBundle } from "@lora/test-utils";
import { S3_SDK_PACKAGE } from "../src/scan/archive-target.js";

const root = join(fileURLToPath(import.meta.url), "../..");

/**
 * Bundle `src/cli.ts` with the workspace sources into a temp directory; returns the script to run with `node`.
 *
 * The AWS SDK stays external, as in the published package (it cannot be bundled as ESM anyway), and the bundle is
 * split per dynamic import so that only an `s3://` target loads the chunk that imports it. The SDK installed for
 * this package is linked into the bundle's `node_modules`, unless `s3Sdk` is false: an install without it. koffi (the
 * native lock calls) is linked there too. The directory is named by its contents, so runs of the same sources share it.
 */
export async function bundleCli(options: { readonly s3Sdk?: boolean } = {}): Promise<string> {
  // tsup is the repo's bundler (a root dev dependency); loaded lazily so tests that never spawn do not pay for it.
  const { build } = await import("tsup");
  const outDir = await mkdtemp(join(tmpdir(), "lora-wal-cli-"));
  await build({
    entry: { cli: join(root, "src/cli.ts") },
    outDir,
    format: ["esm"],
    platform: "node",
    target: "node20",
    bundle: true,
    splitting: true,
    sourcemap: false,
    dts: false,
    silent: true,
    config: false,
    noExternal: [/^@lora\//],
    external: ["koffi", "@loradb/lora-node", S3_SDK_PACKAGE],
    esbuildOptions(esbuild) {
      esbuild.conditions = ["@lora/source"];
    },
  });
  if (options.s3Sdk !== false) {
    const link = join(outDir, "node_modules", S3_SDK_PACKAGE);
    await mkdir(join(link, ".."), { recursive: true });
    await symlink(await realpath(join(root, "node_modules", S3_SDK_PACKAGE)), link, "dir");
  }
  // koffi, as installed with @lora/wal-lock (a dependency of the published package): `restore` takes the kernel lock.
  const koffi = join(outDir, "node_modules", "koffi");
  await mkdir(join(koffi, ".."), { recursive: true });
  await symlink(await realpath(join(root, "..", "wal-lock", "node_modules", "koffi")), koffi, "dir");
  return join(await settleBundle(outDir, "lora-wal-cli-"), "cli.js");
}

/** A running `lora-wal`. */
export interface CliProcess {
  readonly child: ChildProcess;
  /** Complete stdout lines so far. */
  readonly lines: string[];
  /** Everything on stderr so far. */
  stderr(): string;
  /** Resolves with how it ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }>;
  /** Resolves once `test` holds for the lines printed; rejects if the process ends first (or on the guard). */
  waitFor(test: (lines: readonly string[]) => boolean, what: string): Promise<void>;
}

/** Start `node bin ...args` with stdout and stderr piped (and `env`, by default this process's environment). */
export function spawnCli(
  bin: string,
  args: readonly string[],
  options: { readonly env?: NodeJS.ProcessEnv } = {},
): CliProcess {
  const child = spawn(process.execPath, [bin, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: options.env ?? process.env,
  });
  const lines: string[] = [];
  let stdout = "";
  let partial = "";
  let stderr = "";
  const waiters = new Set<() => void>();
  child.stdout?.on("data", (chunk: Buffer) => {
    const text = chunk.toString("utf8");
    stdout += text;
    partial += text;
    const parts = partial.split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
    for (const wake of [...waiters]) wake();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }>((resolve) => {
    child.on("close", (code, signal) => resolve({ code, signal, stdout }));
  });
  let ended = false;
  void exited.then(() => {
    ended = true;
    for (const wake of [...waiters]) wake();
  });
  // No deadline: a wall-clock bound fails a process that is only slow on a loaded machine. One that exits before the
  // line fails the wait at once; one that hangs runs into the test timeout.
  const waitFor = (test: (lines: readonly string[]) => boolean, what: string) =>
    new Promise<void>((resolve, reject) => {
      const finish = (error?: Error) => {
        waiters.delete(check);
        if (error === undefined) resolve();
        else reject(error);
      };
      const check = () => {
        if (test(lines)) finish();
        else if (ended) finish(new Error(`lora-wal ended before ${what}; stdout: ${stdout} stderr: ${stderr}`));
      };
      waiters.add(check);
      check();
    });
  return { child, lines, stderr: () => stderr, exited, waitFor };
}

/** Run `node bin ...args` to the end: its exit code, stdout and stderr. */
export async function runCliProcess(
  bin: string,
  args: readonly string[],
  options: { readonly env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = spawnCli(bin, args, options);
  const { code, stdout } = await run.exited;
  return { code, stdout, stderr: run.stderr() };
}
