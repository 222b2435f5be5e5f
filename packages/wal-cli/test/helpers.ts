/** Shared test helpers: run the CLI in-process, fingerprint a directory, write logs with the real `Wal`. */

import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { main } from "../src/main.js";

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run `lora-wal argv` in-process with captured streams (not TTYs unless asked). */
export async function runCli(
  argv: string[],
  options: { tty?: boolean; env?: Record<string, string | undefined> } = {},
): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const tty = options.tty === true;
  const code = await main(argv, {
    stdout: {
      write: (s: string) => {
        stdout += s;
        return true;
      },
      isTTY: tty,
    },
    stderr: {
      write: (s: string) => {
        stderr += s;
        return true;
      },
      isTTY: tty,
    },
    env: options.env ?? {},
  });
  return { code, stdout, stderr };
}

/** Every entry of `dir` (recursively) with its size, mtime and SHA-256, plus the directory's own mtime. */
export async function fingerprint(dir: string): Promise<string> {
  const out: string[] = [];
  const walk = async (path: string, rel: string): Promise<void> => {
    const s = await stat(path);
    if (s.isDirectory()) {
      out.push(`${rel}/ mtime=${s.mtimeMs}`);
      for (const name of (await readdir(path)).sort()) await walk(join(path, name), `${rel}/${name}`);
    } else {
      const hash = createHash("sha256")
        .update(await readFile(path))
        .digest("hex");
      out.push(`${rel} size=${s.size} mtime=${s.mtimeMs} mode=${s.mode} sha256=${hash}`);
    }
  };
  await walk(dir, ".");
  return out.join("\n");
}

/**
 * Write `transactions` JSON-codec transactions of two events each with the real `Wal`, then close. Transaction
 * `k` (from 0) is begin `3k+1`, batch `3k+2`, commit `3k+3`.
 */
export async function writeJsonWal(dir: string, transactions: number, segmentTargetBytes = 1 << 20): Promise<void> {
  const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, segmentTargetBytes });
  try {
    for (let k = 0; k < transactions; k++) await wal.commitTx([{ k, pad: "x".repeat(40) }, k]);
  } finally {
    await wal.close();
  }
}

/**
 * 80 transactions, a checkpoint marker at their snapshot, 40 more, in segments of 1 KiB, with the real `Wal`;
 * returns the snapshot. The marker alone: the truncation a checkpoint does after it is what the tests of segment-id
 * holes take apart by hand.
 */
export async function writeCheckpointedLog(dir: string): Promise<number> {
  const { wal } = await Wal.open(dir, { codec: jsonCodec, segmentTargetBytes: 1024 });
  for (let i = 0; i < 80; i++) await wal.commitTx([{ i }]);
  const snapshot = wal.safeCheckpointLsn();
  await wal.checkpointMarker(snapshot);
  for (let i = 80; i < 120; i++) await wal.commitTx([{ i }]);
  await wal.close();
  return snapshot;
}

/** A temporary directory of a test (`makeTempDir`'s). */
export type TempDir = Awaited<ReturnType<typeof makeTempDir>>;

/** What {@link useJsonWal} hands the tests: the temporary directory and the log directory inside it. */
export interface JsonWalDir {
  readonly tmp: TempDir;
  /** `<tmp>/wal`. */
  readonly dir: string;
}

/**
 * The set-up most CLI tests share, registered in the calling `describe` (or file): before each test a fresh
 * `makeTempDir(label)` and `dir` = `<tmp>/wal`, handed to `take`; with `transactions`, the log `writeJsonWal` writes
 * there first (`segmentTargetBytes` as it takes); after each test the directory is removed. With `once`, one
 * directory serves every test (`beforeAll`/`afterAll`), for tests that only read it.
 */
export function useJsonWal(
  label: string,
  options: { transactions?: number; segmentTargetBytes?: number; once?: boolean },
  take: (wal: JsonWalDir) => void,
): void {
  let tmp: TempDir | undefined;
  const before = options.once === true ? beforeAll : beforeEach;
  const after = options.once === true ? afterAll : afterEach;
  before(async () => {
    tmp = await makeTempDir(label);
    const dir = join(tmp.path, "wal");
    take({ tmp, dir });
    if (options.transactions !== undefined) await writeJsonWal(dir, options.transactions, options.segmentTargetBytes);
  });
  after(async () => {
    await tmp?.cleanup();
  });
}

/** Segment files of `dir`, sorted. */
export async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith(".wal")).sort();
}
