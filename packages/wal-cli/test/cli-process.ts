/**
 * `lora-wal` as a real child process: the bin entry bundled with the workspace sources (no build needed), its
 * stdout collected line by line, waits on what it printed (bounded by a generous guard, never a verdict), signals.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleScript } from "@lora/test-utils";

const root = join(fileURLToPath(import.meta.url), "../..");

/** Bundle `src/cli.ts` into a temp directory; returns the script to run with `node`. */
export function bundleCli(): Promise<string> {
  return bundleScript(join(root, "src/cli.ts"));
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

/** A failure guard only: every wait ends on what the process printed, long before this on any machine. */
const GUARD_MS = 60_000;

/** Start `node bin ...args` with stdout and stderr piped. */
export function spawnCli(bin: string, args: readonly string[]): CliProcess {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
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
  const waitFor = (test: (lines: readonly string[]) => boolean, what: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => finish(new Error(`guard: still waiting for ${what} after ${GUARD_MS} ms`)),
        GUARD_MS,
      );
      const finish = (error?: Error) => {
        clearTimeout(timer);
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
