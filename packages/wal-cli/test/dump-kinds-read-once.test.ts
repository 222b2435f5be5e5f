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

describe("dumpRecords kinds claiming more elements than any list has", () => {
  let dir: string;
  useJsonWal("lora-wal-cli-dump-kinds-long", { transactions: 1 }, (wal) => {
    dir = wal.dir;
  });

  it("is refused with WAL_INVALID_OPTION before any element is read", async () => {
    // Every element a valid kind: the copy stopped only at the claimed length. The trap throws past 1000 reads so
    // that a copy trusting the length ends (refused, but after reading them).
    let elementReads = 0;
    const lying = new Proxy([] as RecordKind[], {
      get(target, key, receiver) {
        if (key === "length") return 2 ** 32 - 1;
        if (typeof key === "string" && /^[0-9]+$/.test(key)) {
          if (++elementReads > 1000) throw new Error("read past 1000 elements");
          return "txBegin";
        }
        return Reflect.get(target, key, receiver);
      },
    });
    let error: unknown;
    try {
      await kindsDumped(dir, lying);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: "WAL_INVALID_OPTION", message: expect.stringMatching(/^kinds must be/) });
    expect(elementReads).toBe(0);
  });
});
