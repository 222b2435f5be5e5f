/**
 * After a `WAL_FENCE_TOO_LOW` refusal `Wal.open` lists the directory to say whether a restore did not finish. A
 * listing that fails in any way (a `readdir` that throws synchronously, or resolves to something that is not an
 * array) counts as a directory holding no such file: the caller still gets the refusal, with its code.
 */

import { Wal } from "@lora/wal";
import { isWalError, type JsonValue, jsonCodec } from "@lora/wal-codec";
import type { WalFileSystem } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { archivedLog } from "./test-support/archived-log.js";

const DIR = "/r";

/** A restored log with its oldest segment removed: Wal.open at fence 0 is refused WAL_FENCE_TOO_LOW. */
async function lateLog(): Promise<SimFS> {
  const source = new SimFS();
  const store = memoryArchive();
  await archivedLog(source, store, { commits: 24 });
  const fs = new SimFS();
  await restore({ store, dir: DIR, fs });
  const oldest = fs
    .listSync(DIR)
    .filter((n) => n.endsWith(".wal"))
    .sort()[0] as string;
  await fs.unlink(`${DIR}/${oldest}`);
  return fs;
}

/** `fs` whose readdir calls after the first `allowed` ones throw synchronously (or resolve to `bad`). */
function failingReaddir(
  fs: SimFS,
  allowed: number,
  mode: "sync-throw" | "not-an-array",
): WalFileSystem & { calls: number } {
  const state = { calls: 0 };
  const wrapped = new Proxy(fs as unknown as WalFileSystem, {
    get(target, prop) {
      if (prop === "calls") return state.calls;
      const value = Reflect.get(target, prop, target) as unknown;
      if (prop !== "readdir") return typeof value === "function" ? value.bind(target) : value;
      return (path: string) => {
        state.calls++;
        if (state.calls > allowed) {
          if (mode === "sync-throw") throw new Error("readdir seam failed synchronously");
          return Promise.resolve(undefined as unknown as string[]);
        }
        return (value as WalFileSystem["readdir"]).call(target, path);
      };
    },
  });
  return wrapped as WalFileSystem & { calls: number };
}

async function openError(fs: WalFileSystem): Promise<unknown> {
  return Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, checkpointLsn: 0 }).then(
    async ({ wal }) => {
      await wal.close();
      return null;
    },
    (error: unknown) => error,
  );
}

for (const mode of ["sync-throw", "not-an-array"] as const) {
  it(`a directory listing that fails (${mode}) after the refusal keeps WAL_FENCE_TOO_LOW`, async () => {
    // How many readdir calls recovery makes before it refuses, plus the one withFenceRemedy makes.
    const counting = failingReaddir(await lateLog(), Number.POSITIVE_INFINITY, mode);
    const first = await openError(counting);
    expect(isWalError(first, "WAL_FENCE_TOO_LOW")).toBe(true);
    const recoveryCalls = counting.calls - 1;

    const error = await openError(failingReaddir(await lateLog(), recoveryCalls, mode));
    expect(isWalError(error) ? error.code : String(error)).toBe("WAL_FENCE_TOO_LOW");
  });
}
