/**
 * `dumpRecords`' `kinds` is copied once when checked and the dump filters by the copy: a proxy array whose elements
 * answer validly when checked and differently (or throw) when read again is used as checked. It was read by `every`
 * to check it and iterated again to build the filter, whose second read of `length` escaped as its own error.
 */

import { readOnce } from "@lora/test-utils";
import { type RecordKind, WalError } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { dumpRecords } from "../src/index.js";
import { useJsonWal } from "./helpers.js";

async function kindsDumped(dir: string, kinds: readonly RecordKind[]): Promise<string[]> {
  const seen: string[] = [];
  for await (const item of dumpRecords(dir, { codec: "json", kinds })) {
    if (item.type === "record") seen.push(item.kind);
  }
  return seen;
}

describe("dumpRecords kinds", () => {
  let dir: string;
  useJsonWal("lora-wal-cli-dump-kinds", { transactions: 3 }, (wal) => {
    dir = wal.dir;
  });

  it("reads a kinds array once and filters by what it read", async () => {
    const once = readOnce<RecordKind[]>(["txCommit"]);
    expect(await kindsDumped(dir, once.value)).toEqual(["txCommit", "txCommit", "txCommit"]);
    expect(once.readTwice()).toEqual([]);
  });

  it("filters by the kinds read when checked, though the array answers otherwise afterwards", async () => {
    let reads = 0;
    const changing = new Proxy(["txBegin"] as RecordKind[], {
      get(target, key, receiver) {
        if (key === "0") return ++reads === 1 ? "txBegin" : "bogus";
        return Reflect.get(target, key, receiver);
      },
    });
    expect(await kindsDumped(dir, changing)).toEqual(["txBegin", "txBegin", "txBegin"]);
    expect(reads).toBe(1);
  });

  it("refuses a kinds array that throws when read with WAL_INVALID_OPTION, the throw as the cause", async () => {
    const thrown = new Error("no element");
    const throwing = new Proxy(["txBegin"] as RecordKind[], {
      get(target, key, receiver) {
        if (key === "0") throw thrown;
        return Reflect.get(target, key, receiver);
      },
    });
    let error: unknown;
    try {
      await kindsDumped(dir, throwing);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WalError);
    expect(error).toMatchObject({ code: "WAL_INVALID_OPTION", details: { option: "kinds" } });
    expect((error as Error).cause).toBe(thrown);
  });
});
