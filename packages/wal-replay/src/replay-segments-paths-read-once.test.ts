/**
 * `replaySegments` reads its `paths` once when it checks them and replays the copy it checked: a proxy array whose
 * elements answer validly when checked and differently (or throw) when read again is replayed as checked, or refused
 * with a code. The check read them with `every` and the plan copied them again by the iterator.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readOnce } from "@lora/test-utils";
import { jsonCodec } from "@lora/wal-codec";
import { afterEach, beforeEach, expect, it } from "vitest";
import { tx, writeSegment } from "../test/build-log.js";
import { replaySegments } from "./replay.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-paths-once-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function committed(paths: readonly string[]): Promise<number[]> {
  const lsns: number[] = [];
  for await (const t of replaySegments(paths, { codec: jsonCodec })) lsns.push(t.commitLsn);
  return lsns;
}

it("reads the paths once and replays what it read, though the array answers otherwise afterwards", async () => {
  const path = await writeSegment(dir, 1, 1, tx(1, [{ n: 1 }]));
  const once = readOnce([path]);
  expect(await committed(once.value)).toEqual([3]);
  expect(once.readTwice()).toEqual([]);
  let reads = 0;
  const changing = new Proxy([path], {
    get(target, key, receiver) {
      if (key === "0") return ++reads === 1 ? path : join(dir, "missing.wal");
      return Reflect.get(target, key, receiver);
    },
  });
  expect(await committed(changing)).toEqual([3]);
  expect(reads).toBe(1);
});

it("refuses paths that throw when read with WAL_INVALID_ARGUMENT, the throw as the cause", () => {
  const thrown = new Error("no path");
  const throwing = new Proxy(["x.wal"], {
    get(target, key, receiver) {
      if (key === "0") throw thrown;
      return Reflect.get(target, key, receiver);
    },
  });
  expect(() => replaySegments(throwing, { codec: jsonCodec })).toThrow(
    expect.objectContaining({ name: "WalError", code: "WAL_INVALID_ARGUMENT", cause: thrown }),
  );
});
