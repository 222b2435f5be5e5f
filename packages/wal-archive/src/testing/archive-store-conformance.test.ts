/**
 * The suite checks what it claims: run through a minimal runner, it passes a sound store and fails stores that
 * break one guarantee each, in the test that covers that guarantee.
 */

import { isDeepStrictEqual } from "node:util";
import { describe, expect, test } from "vitest";
import type { ArchivePutOptions, ArchiveStore } from "../archive-store.js";
import { memoryArchive } from "../memory-archive.js";
import { runArchiveStoreConformance } from "./archive-store-conformance.js";

/** Run the suite against `make()` with a collecting runner; the names of the tests that failed. */
async function failingTests(make: () => ArchiveStore): Promise<{ failed: string[]; total: number }> {
  const tests: { name: string; fn: () => Promise<void> }[] = [];
  runArchiveStoreConformance({
    describe: (_name, fn) => fn(),
    test: (name, fn) => tests.push({ name, fn }),
    expect: (actual) => ({
      toBe(expected) {
        if (!Object.is(actual, expected)) throw new Error(`expected ${String(expected)}, got ${String(actual)}`);
      },
      toEqual(expected) {
        if (!isDeepStrictEqual(actual, expected)) throw new Error("not deeply equal");
      },
    }),
    create: () => Promise.resolve({ store: make(), cleanup: async () => {} }),
  });
  const failed: string[] = [];
  for (const t of tests) {
    try {
      await t.fn();
    } catch {
      failed.push(t.name);
    }
  }
  return { failed, total: tests.length };
}

/** Put options with the `crc32` check dropped (the signal kept). */
const withoutCrc = (o: ArchivePutOptions | undefined): ArchivePutOptions =>
  o?.signal === undefined ? {} : { signal: o.signal };

/** A sound store with one method replaced. */
function broken(override: (inner: ArchiveStore) => Partial<ArchiveStore>): () => ArchiveStore {
  return () => {
    const inner = memoryArchive();
    const patch = override(inner);
    return {
      name: "broken",
      put: patch.put ?? ((k, b, o) => inner.put(k, b, o)),
      get: patch.get ?? ((k, o) => inner.get(k, o)),
      list: patch.list ?? ((p, o) => inner.list(p, o)),
      delete: patch.delete ?? ((k, o) => inner.delete(k, o)),
    };
  };
}

describe("the conformance suite", () => {
  test("passes a sound store", async () => {
    const { failed, total } = await failingTests(() => memoryArchive());
    expect(failed).toEqual([]);
    expect(total).toBe(15);
  });

  test("fails a store whose list is not sorted", async () => {
    const { failed } = await failingTests(
      broken((inner) => ({ list: async (p, o) => (await inner.list(p, o)).reverse() })),
    );
    expect(failed).toContain("list returns every object sorted by key with its size, filtered by prefix");
  });

  test("fails a store that overwrites an existing object with other bytes", async () => {
    const { failed } = await failingTests(
      broken((inner) => ({
        put: async (k, b, o) => {
          await inner.delete(k);
          await inner.put(k, b, o);
        },
      })),
    );
    expect(failed).toContain("objects are immutable: other bytes under an existing key are refused and change nothing");
  });

  test("fails a store that ignores the crc32 option", async () => {
    const { failed } = await failingTests(broken((inner) => ({ put: (k, b, o) => inner.put(k, b, withoutCrc(o)) })));
    expect(failed).toEqual([
      "a put whose crc32 option does not match the bytes is WAL_ARCHIVE_CORRUPT and stores nothing",
      // A bad crc32 is not refused either, so an aborted signal or a bad one is reported instead.
      "a call with several mistakes is refused for the first in one order: key, options, bytes, crc32, signal, abort, checksum",
    ]);
  });

  test("fails a store that hands out its own array", async () => {
    const objects = new Map<string, Uint8Array>();
    const { failed } = await failingTests(
      broken((inner) => ({
        put: async (k, b, o) => {
          await inner.put(k, b, o);
          if (!objects.has(k)) objects.set(k, b);
        },
        get: async (k, o) => ((await inner.get(k, o)) === null ? null : (objects.get(k) ?? null)),
      })),
    );
    expect(failed).toContain("the bytes returned are the store's copy: changing the put or got array changes nothing");
  });

  test("fails a store that accepts doubled slashes and truncates long objects", async () => {
    const loose = await failingTests(
      broken((inner) => ({ put: (k, b, o) => inner.put(typeof k === "string" ? k.replace("//", "/") : k, b, o) })),
    );
    expect(loose.failed).toContain("invalid keys are refused with WAL_INVALID_ARGUMENT by put, get and delete");
    const short = await failingTests(
      broken((inner) => ({
        put: (k, b, o) => inner.put(k, b.subarray(0, 4 * 1024 * 1024), withoutCrc(o)),
      })),
    );
    expect(short.failed).toContain("put then get returns the same bytes: empty, 1 byte and 5 MiB objects");
  });

  test("fails a store whose delete of an absent key rejects, or whose get of one returns empty bytes", async () => {
    const strictDelete = await failingTests(
      broken((inner) => ({
        delete: async (k, o) => {
          if ((await inner.get(k)) === null) throw new Error("no such key");
          await inner.delete(k, o);
        },
      })),
    );
    expect(strictDelete.failed).toContain("delete removes an object; deleting an absent one resolves");
    const emptyGet = await failingTests(
      broken((inner) => ({ get: async (k, o) => (await inner.get(k, o)) ?? new Uint8Array(0) })),
    );
    expect(emptyGet.failed).toContain(
      "get of an absent object resolves null, also for a key that is only a prefix of others",
    );
  });

  test("fails a store that takes any signal-like value for a signal", async () => {
    const lax = broken((inner) => ({
      get: (k, o) => inner.get(k, o?.signal instanceof AbortSignal ? o : {}),
    }));
    const { failed } = await failingTests(lax);
    expect(failed).toEqual([
      "a signal that is not an AbortSignal is refused with WAL_INVALID_ARGUMENT by every call; put stores nothing",
    ]);
  });

  test("fails a store that ignores an aborted signal", async () => {
    const { failed } = await failingTests(broken((inner) => ({ get: (k) => inner.get(k) })));
    expect(failed).toEqual([
      "a call with an already aborted signal rejects with the signal's reason; put stores nothing",
      // It drops the options whole, so it does not look at a bad signal either, nor at an unknown option.
      "a call with several mistakes is refused for the first in one order: key, options, bytes, crc32, signal, abort, checksum",
      "a signal that is not an AbortSignal is refused with WAL_INVALID_ARGUMENT by every call; put stores nothing",
    ]);
  });

  test("fails a store that checks a call's options before its key", async () => {
    // Its get runs a list with the caller's options first: an unknown option is refused before the key is looked at.
    const optionsFirst = broken((inner) => ({
      get: async (k, o) => {
        await inner.list("", o);
        return inner.get(k, o);
      },
    }));
    const { failed } = await failingTests(optionsFirst);
    expect(failed).toEqual([
      "a call with several mistakes is refused for the first in one order: key, options, bytes, crc32, signal, abort, checksum",
    ]);
  });
});
