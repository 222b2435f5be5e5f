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

it("refuses paths claiming more elements than any log has segments before reading one", () => {
  // Every element a valid path: the copy stopped only at the claimed length (the trap throws past 1000 reads).
  let elementReads = 0;
  const lying = new Proxy([] as string[], {
    get(target, key, receiver) {
      if (key === "length") return 2 ** 32 - 1;
      if (typeof key === "string" && /^[0-9]+$/.test(key)) {
        if (++elementReads > 1000) throw new Error("read past 1000 elements");
        return "x.wal";
      }
      return Reflect.get(target, key, receiver);
    },
  });
  expect(() => replaySegments(lying, { codec: jsonCodec })).toThrow(
    expect.objectContaining({ code: "WAL_INVALID_ARGUMENT", message: expect.stringMatching(/paths must be/) }),
  );
  expect(elementReads).toBe(0);
});
