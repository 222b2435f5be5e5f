/** Shared test helpers: run the CLI in-process, fingerprint a directory, write logs with the real `Wal`. */

import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
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

/** Segment files of `dir`, sorted. */
export async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith(".wal")).sort();
}
