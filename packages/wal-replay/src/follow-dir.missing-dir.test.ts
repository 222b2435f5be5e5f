/**
 * A `followDir` on a path that is no log directory (a mistyped path, a segment file named instead of its directory)
 * fails at its first `next()`, as `createSlot` refuses the same path: `WAL_IO` with `details.errno` `ENOENT` or
 * `ENOTDIR`, in words that say what is wrong with the path rather than which system call failed. With a slot too: the
 * directory is the problem, not the slot.
 */

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { afterEach, beforeEach, expect, it } from "vitest";
import { followDir } from "./follow-dir.js";
import { createSlot } from "./replication-slots.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "follow-missing-dir-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function firstFailure(path: string, slot?: string): Promise<unknown> {
  const follower = followDir<JsonValue>(path, {
    codec: jsonCodec,
    watch: false,
    ...(slot === undefined ? {} : { slot }),
  });
  try {
    await follower.next();
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await follower.return();
  }
}

it("a directory that does not exist: WAL_IO (ENOENT) naming it as no log directory, as createSlot does", async () => {
  const missing = join(dir, "no-such-log");
  const failure = await firstFailure(missing);
  expect(failure).toMatchObject({
    code: "WAL_IO",
    message: expect.stringMatching(/^\S+no-such-log is not a log directory \(no such directory\): /),
    details: { path: missing, errno: "ENOENT" },
  });
  const refusal = await createSlot(missing, "s").catch((error: unknown) => error);
  expect((refusal as Error).message.split(":")[0]).toBe((failure as Error).message.split(":")[0]);
});

it("with a slot: the missing directory is the error, not a missing slot", async () => {
  const missing = join(dir, "no-such-log");
  expect(await firstFailure(missing, "audit")).toMatchObject({
    code: "WAL_IO",
    message: expect.stringContaining("is not a log directory (no such directory)"),
    details: { path: missing, errno: "ENOENT" },
  });
});

it("a file: WAL_IO (ENOTDIR), not a directory", async () => {
  const file = join(dir, "0000000001.wal");
  await writeFile(file, "");
  expect(await firstFailure(file)).toMatchObject({
    code: "WAL_IO",
    message: expect.stringContaining("is not a log directory (not a directory)"),
    details: { path: file, errno: "ENOTDIR" },
  });
});
