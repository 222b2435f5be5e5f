/** Test helpers for the lock tests. */

import { closeSync, openSync } from "node:fs";
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
