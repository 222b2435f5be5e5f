/** Test helpers for the lock tests. */

import { closeSync, openSync } from "node:fs";
import type { WalFileSystem } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { lockBinding } from "../src/flock.js";

/**
 * What `run` rejected with. A test that expects a refusal must not pass when the call succeeds, so a fulfilled
 * promise is itself a failure here.
 */
export async function rejection(run: () => Promise<unknown>): Promise<unknown> {
  let value: unknown;
  try {
    value = await run();
  } catch (error) {
    return error;
  }
  throw new Error(`expected a rejection, the call fulfilled with ${String(value)}`);
}

/**
 * Whether a fresh open file description of the file at `path` gets the kernel lock at once: the lock taken on it
 * before is gone if so (a held `flock` refuses every other open file description).
 */
export function lockFileFree(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    return lockBinding().tryLock(fd) === "locked";
  } finally {
    closeSync(fd);
  }
}

/**
 * A SimFS with a directory `/d` whose lock's release function throws `thrown`, releasing the lock first unless
 * `releases` is false (then the lock stays held, as a seam whose unlock failed), and counts its calls.
 */
export function throwingRelease(
  thrown: unknown,
  { releases = true }: { readonly releases?: boolean } = {},
): { fs: WalFileSystem; calls: () => number } {
  const sim = new SimFS();
  sim.mkdirpSync("/d");
  let calls = 0;
  const fs = new Proxy(sim, {
    get(target, key) {
      if (key === "tryLock") {
        return (path: string) => {
          const release = target.tryLock(path);
          if (release === null) return null;
          return () => {
            calls++;
            if (releases) release();
            throw thrown;
          };
        };
      }
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { fs, calls: () => calls };
}
