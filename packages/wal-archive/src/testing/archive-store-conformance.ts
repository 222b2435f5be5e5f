/**
 * The conformance suite of the archive-store seam: every {@link ArchiveStore} (the directory store, S3, the
 * in-memory one, a store author's own) must pass it. The test runner is injected, so this package does not depend
 * on vitest.
 */

import { crc32, isWalError, shownError } from "@lora/wal-codec";
import type { ArchiveStore } from "../archive-store.js";

/** A store to test, and how to dispose of it. */
export interface ArchiveStoreFixture {
  /** An empty store: no objects under any key. */
  readonly store: ArchiveStore;
  cleanup(): Promise<void>;
}

/** The part of `expect` the suite uses (vitest's and jest's fit). */
export type ArchiveConformanceExpect = (actual: unknown) => {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
};

/** Options of {@link runArchiveStoreConformance}. */
export interface ArchiveStoreConformanceOptions {
  readonly describe: (name: string, fn: () => void) => void;
  readonly test: (name: string, fn: () => Promise<void>) => void;
  readonly expect: ArchiveConformanceExpect;
  /** Called once per test. */
  readonly create: () => Promise<ArchiveStoreFixture>;
  /** Appended to the suite's title, to tell several runs apart. */
  readonly label?: string;
}

/**
 * Register the store conformance tests with the given runner: round trips (empty, 1 byte, 5 MiB), idempotent
 * re-puts, immutability (other bytes under an existing key are refused with `WAL_INVALID_ARGUMENT` and the object
 * keeps its bytes), listing (sorted by key, with sizes, by prefix, nested keys, a prefix that ends inside a
 * "directory" name), deletes, absent objects, invalid keys and prefixes (`WAL_INVALID_ARGUMENT`), the `crc32` put
 * option (a mismatch is `WAL_ARCHIVE_CORRUPT` and stores nothing), concurrent puts, an already aborted signal, a
 * `signal` that is not an `AbortSignal` (`WAL_INVALID_ARGUMENT`), and the order of refusals when a call has several
 * mistakes (the key or prefix, the options, the bytes, `crc32`, the signal, an abort, then the checksum).
 *
 * @example
 * ```ts
 * import { describe, expect, test } from "vitest";
 * runArchiveStoreConformance({ describe, test, expect, create: async () => ({ store: memoryArchive(), cleanup: async () => {} }) });
 * ```
 */
export function runArchiveStoreConformance(options: ArchiveStoreConformanceOptions): void {
  const { describe, test, expect, create } = options;

  const withStore = (name: string, body: (store: ArchiveStore) => Promise<void>) =>
    test(name, async () => {
      const fixture = await create();
      try {
        await body(fixture.store);
      } finally {
        await fixture.cleanup();
      }
    });

  /** What `p` rejected with; a sentinel string when it resolved, so a code check on it fails. */
  const failure = async (p: Promise<unknown>): Promise<unknown> => {
    try {
      await p;
    } catch (error) {
      return error;
    }
    return "(the call resolved)";
  };

  /**
   * The `WalError` code of `error`, or a description of what it was instead (so a mismatch reads well, whatever the
   * store under test threw).
   */
  const codeOf = (error: unknown): string => (isWalError(error) ? error.code : `not a WalError: ${shownError(error)}`);

  const pattern = (n: number, salt: number) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = (i * 131 + salt + (i >>> 9)) & 0xff;
    return b;
  };

  const text = (s: string) => new TextEncoder().encode(s);

  /** Byte-for-byte equality that reports a short mismatch instead of two megabyte arrays. */
  const expectBytes = (actual: Uint8Array | null, expected: Uint8Array) => {
    expect(actual === null ? "null" : `${actual.byteLength} bytes`).toBe(`${expected.byteLength} bytes`);
    if (actual !== null) expect(Buffer.compare(actual, expected)).toBe(0);
  };

  describe(`ArchiveStore conformance${options.label === undefined ? "" : ` (${options.label})`}`, () => {
    withStore("put then get returns the same bytes: empty, 1 byte and 5 MiB objects", async (store) => {
      const objects: [string, Uint8Array][] = [
        ["empty.bin", new Uint8Array(0)],
        ["one.bin", Uint8Array.of(0xa5)],
        ["segments/big.bin", pattern(5 * 1024 * 1024, 7)],
      ];
      for (const [key, bytes] of objects) await store.put(key, bytes, { crc32: crc32(bytes) });
      for (const [key, bytes] of objects) expectBytes(await store.get(key), bytes);
      expect(await store.list()).toEqual(objects.map(([key, bytes]) => ({ key, size: bytes.byteLength })));
    });

    withStore(
      "the bytes returned are the store's copy: changing the put or got array changes nothing",
      async (store) => {
        const bytes = text("immutable");
        await store.put("k", bytes);
        bytes[0] = 0;
        const got = await store.get("k");
        expectBytes(got, text("immutable"));
        if (got !== null && got.byteLength > 0) got[1] = 0;
        expectBytes(await store.get("k"), text("immutable"));
      },
    );

    withStore("a second put of the same key with the same bytes succeeds and leaves one object", async (store) => {
      const bytes = pattern(3000, 1);
      await store.put("partial/a.part", bytes);
      await store.put("partial/a.part", bytes, { crc32: crc32(bytes) });
      await store.put("partial/a.part", bytes.slice());
      expect(await store.list()).toEqual([{ key: "partial/a.part", size: 3000 }]);
      expectBytes(await store.get("partial/a.part"), bytes);
    });

    withStore(
      "objects are immutable: other bytes under an existing key are refused and change nothing",
      async (store) => {
        const bytes = pattern(100, 2);
        await store.put("segments/x.wal", bytes);
        const other = pattern(100, 3);
        expect(codeOf(await failure(store.put("segments/x.wal", other)))).toBe("WAL_INVALID_ARGUMENT");
        expect(codeOf(await failure(store.put("segments/x.wal", bytes.subarray(0, 99))))).toBe("WAL_INVALID_ARGUMENT");
        expect(codeOf(await failure(store.put("segments/x.wal", new Uint8Array(0))))).toBe("WAL_INVALID_ARGUMENT");
        expectBytes(await store.get("segments/x.wal"), bytes);
        expect(await store.list()).toEqual([{ key: "segments/x.wal", size: 100 }]);
      },
    );

    withStore("list returns every object sorted by key with its size, filtered by prefix", async (store) => {
      const keys = [
        "segments/0000000002-0000000000000100-40-00000000.wal",
        "a/b/c",
        "partial/0000000003-0000000000000200-000000000000-000000000032-00000000.part",
        "a-b",
        "a/bc",
        "ab",
        "a/b/d/e",
        "segments/0000000001-0000000000000001-32-00000000.wal",
        "z",
      ];
      for (const [i, key] of keys.entries()) await store.put(key, pattern(i * 7, i));
      const sizeOf = (key: string) => keys.indexOf(key) * 7;
      const sorted = [...keys].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
      const expected = (prefix: string) =>
        sorted.filter((k) => k.startsWith(prefix)).map((key) => ({ key, size: sizeOf(key) }));
      expect(await store.list()).toEqual(expected(""));
      expect(await store.list("")).toEqual(expected(""));
      expect((await store.list()).map((o) => o.key)).toEqual([
        "a-b",
        "a/b/c",
        "a/b/d/e",
        "a/bc",
        "ab",
        "partial/0000000003-0000000000000200-000000000000-000000000032-00000000.part",
        "segments/0000000001-0000000000000001-32-00000000.wal",
        "segments/0000000002-0000000000000100-40-00000000.wal",
        "z",
      ]);
      for (const prefix of ["a/", "a/b", "a/b/", "a/b/d/", "a", "segments/", "segments/0000000001", "partial/", "z"]) {
        expect({ prefix, objects: await store.list(prefix) }).toEqual({ prefix, objects: expected(prefix) });
      }
      for (const prefix of ["nothing/", "b", "a/b/c/", "segments/9", "a/x/y"]) {
        expect({ prefix, objects: await store.list(prefix) }).toEqual({ prefix, objects: [] });
      }
    });

    withStore("an object whose put resolved is listed at once, and a deleted one is not", async (store) => {
      expect(await store.list()).toEqual([]);
      for (let i = 0; i < 5; i++) {
        await store.put(`k/${i}`, Uint8Array.of(i));
        expect((await store.list("k/")).length).toBe(i + 1);
      }
      await store.delete("k/2");
      expect((await store.list("k/")).map((o) => o.key)).toEqual(["k/0", "k/1", "k/3", "k/4"]);
    });

    withStore("delete removes an object; deleting an absent one resolves", async (store) => {
      await store.put("d/one", text("1"));
      await store.put("d/two", text("2"));
      await store.delete("d/one");
      expect(await store.get("d/one")).toBe(null);
      expectBytes(await store.get("d/two"), text("2"));
      await store.delete("d/one");
      await store.delete("never/was");
      await store.delete("d");
      expect(await store.list()).toEqual([{ key: "d/two", size: 1 }]);
      // A deleted key can be put again, with any bytes.
      await store.put("d/one", text("new"));
      expectBytes(await store.get("d/one"), text("new"));
    });

    withStore(
      "get of an absent object resolves null, also for a key that is only a prefix of others",
      async (store) => {
        expect(await store.get("nope")).toBe(null);
        await store.put("dir/file", text("x"));
        expect(await store.get("dir")).toBe(null);
        expect(await store.get("dir/fil")).toBe(null);
        expect(await store.get("dir/file/more")).toBe(null);
      },
    );

    withStore("invalid keys are refused with WAL_INVALID_ARGUMENT by put, get and delete", async (store) => {
      const invalid: unknown[] = [
        "/leading",
        "a/../b",
        "..",
        "./a",
        "a/./b",
        "a//b",
        "trailing/",
        "with space",
        "tab\tkey",
        "ümlaut",
        "",
        "x".repeat(513),
        `${"d".repeat(200)}/${"e".repeat(200)}/${"f".repeat(111)}`,
        undefined,
        42,
      ];
      for (const key of invalid) {
        const k = key as string;
        const what = JSON.stringify(key) ?? String(key);
        expect({ key: what, put: codeOf(await failure(store.put(k, text("x")))) }).toEqual({
          key: what,
          put: "WAL_INVALID_ARGUMENT",
        });
        expect({ key: what, get: codeOf(await failure(store.get(k))) }).toEqual({
          key: what,
          get: "WAL_INVALID_ARGUMENT",
        });
        expect({ key: what, delete: codeOf(await failure(store.delete(k))) }).toEqual({
          key: what,
          delete: "WAL_INVALID_ARGUMENT",
        });
      }
      for (const prefix of ["/a", "a//", "..", "a b", "../x/"]) {
        expect({ prefix, list: codeOf(await failure(store.list(prefix))) }).toEqual({
          prefix,
          list: "WAL_INVALID_ARGUMENT",
        });
      }
      expect(await store.list()).toEqual([]);
      // The longest valid key (512 characters, in parts short enough for any file system) works.
      const longest = `${"a".repeat(200)}/${"b".repeat(200)}/${"c".repeat(110)}`;
      expect(longest.length).toBe(512);
      await store.put(longest, text("long"));
      expectBytes(await store.get(longest), text("long"));
      expect(await store.list()).toEqual([{ key: longest, size: 4 }]);
    });

    withStore(
      "a put whose crc32 option does not match the bytes is WAL_ARCHIVE_CORRUPT and stores nothing",
      async (store) => {
        const bytes = pattern(4096, 9);
        const good = crc32(bytes);
        const bad = (good ^ 0x1) >>> 0;
        expect(codeOf(await failure(store.put("segments/c.wal", bytes, { crc32: bad })))).toBe("WAL_ARCHIVE_CORRUPT");
        expect(await store.get("segments/c.wal")).toBe(null);
        expect(await store.list()).toEqual([]);
        expect(codeOf(await failure(store.put("empty", new Uint8Array(0), { crc32: 1 })))).toBe("WAL_ARCHIVE_CORRUPT");
        expect(await store.list()).toEqual([]);
        await store.put("segments/c.wal", bytes, { crc32: good });
        expectBytes(await store.get("segments/c.wal"), bytes);
        // An existing object does not make a wrong checksum acceptable.
        expect(codeOf(await failure(store.put("segments/c.wal", bytes, { crc32: bad })))).toBe("WAL_ARCHIVE_CORRUPT");
      },
    );

    withStore("concurrent puts of different keys all land", async (store) => {
      const objects = Array.from({ length: 32 }, (_, i) => ({
        key: `c/${i % 4}/obj-${String(i).padStart(2, "0")}`,
        bytes: pattern(1000 + i * 97, i),
      }));
      await Promise.all(objects.map((o) => store.put(o.key, o.bytes, { crc32: crc32(o.bytes) })));
      const listed = await store.list("c/");
      const byKey = [...objects].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
      expect(listed).toEqual(byKey.map((o) => ({ key: o.key, size: o.bytes.byteLength })));
      const got = await Promise.all(objects.map((o) => store.get(o.key)));
      expect(
        got.every((g, i) => g !== null && Buffer.compare(g, (objects[i] as { bytes: Uint8Array }).bytes) === 0),
      ).toBe(true);
    });

    withStore("concurrent puts of one key with the same bytes all succeed", async (store) => {
      const bytes = pattern(20_000, 4);
      await Promise.all(Array.from({ length: 8 }, () => store.put("same/key", bytes)));
      expect(await store.list()).toEqual([{ key: "same/key", size: 20_000 }]);
      expectBytes(await store.get("same/key"), bytes);
    });

    withStore(
      "a call with an already aborted signal rejects with the signal's reason; put stores nothing",
      async (store) => {
        const controller = new AbortController();
        const reason = new Error("shutting down");
        controller.abort(reason);
        const signal = controller.signal;
        await store.put("kept", text("kept"));
        expect(await failure(store.put("aborted", text("x"), { signal }))).toBe(reason);
        expect(await failure(store.get("kept", { signal }))).toBe(reason);
        expect(await failure(store.list("", { signal }))).toBe(reason);
        expect(await failure(store.delete("kept", { signal }))).toBe(reason);
        expect(await store.list()).toEqual([{ key: "kept", size: 4 }]);
      },
    );

    withStore(
      "a call with several mistakes is refused for the first in one order: key, options, bytes, crc32, signal, abort, checksum",
      async (store) => {
        const reason = new Error("gave up");
        const aborted = AbortSignal.abort(reason);
        const bytes = text("x");
        const wrongCrc = (crc32(bytes) ^ 1) >>> 0;
        const unknownOption = { retries: 3 } as unknown as { signal: AbortSignal };
        const notBytes = "x" as unknown as Uint8Array;
        const notSignal = { signal: "stop" } as unknown as { signal: AbortSignal };
        const refusals: [string, () => Promise<unknown>, unknown][] = [
          // A bad key wins over a bad option (WAL_INVALID_ARGUMENT, not WAL_INVALID_OPTION), in every call.
          ["put: key before options", () => store.put("/bad", bytes, unknownOption), "WAL_INVALID_ARGUMENT"],
          ["get: key before options", () => store.get("/bad", unknownOption), "WAL_INVALID_ARGUMENT"],
          ["delete: key before options", () => store.delete("/bad", unknownOption), "WAL_INVALID_ARGUMENT"],
          ["list: prefix before options", () => store.list("/bad", unknownOption), "WAL_INVALID_ARGUMENT"],
          // A bad option wins over the other arguments.
          [
            "put: options before bytes",
            () => store.put("k", notBytes, { ...unknownOption, crc32: -1 }),
            "WAL_INVALID_OPTION",
          ],
          [
            "put: options before an abort",
            () => store.put("k", bytes, { ...unknownOption, signal: aborted }),
            "WAL_INVALID_OPTION",
          ],
          [
            "get: options before an abort",
            () => store.get("k", { ...unknownOption, signal: aborted }),
            "WAL_INVALID_OPTION",
          ],
          // Every argument is checked before an aborted signal is looked at.
          ["put: key before an abort", () => store.put("/bad", bytes, { signal: aborted }), "WAL_INVALID_ARGUMENT"],
          ["get: key before an abort", () => store.get("/bad", { signal: aborted }), "WAL_INVALID_ARGUMENT"],
          ["delete: key before an abort", () => store.delete("/bad", { signal: aborted }), "WAL_INVALID_ARGUMENT"],
          ["list: prefix before an abort", () => store.list("/bad", { signal: aborted }), "WAL_INVALID_ARGUMENT"],
          ["put: bytes before an abort", () => store.put("k", notBytes, { signal: aborted }), "WAL_INVALID_ARGUMENT"],
          [
            "put: crc32 before an abort",
            () => store.put("k", bytes, { crc32: -1, signal: aborted }),
            "WAL_INVALID_ARGUMENT",
          ],
          [
            "put: crc32 before the signal",
            () => store.put("k", bytes, { crc32: 1.5, ...notSignal }),
            "WAL_INVALID_ARGUMENT",
          ],
          // An aborted call is not checksummed: the abort wins over bytes that fail their crc32.
          ["put: abort before the checksum", () => store.put("k", bytes, { crc32: wrongCrc, signal: aborted }), reason],
        ];
        for (const [what, call, expected] of refusals) {
          const error = await failure(call());
          expect({ what, got: expected === reason ? error : codeOf(error) }).toEqual({ what, got: expected });
        }
        expect(await store.list()).toEqual([]);
      },
    );

    withStore(
      "a signal that is not an AbortSignal is refused with WAL_INVALID_ARGUMENT by every call; put stores nothing",
      async (store) => {
        await store.put("kept", text("kept"));
        for (const signal of [null, {}, { aborted: true }, "stop"]) {
          const bad = { signal } as unknown as { signal: AbortSignal };
          expect(codeOf(await failure(store.put("other", text("x"), bad)))).toBe("WAL_INVALID_ARGUMENT");
          expect(codeOf(await failure(store.get("kept", bad)))).toBe("WAL_INVALID_ARGUMENT");
          expect(codeOf(await failure(store.list("", bad)))).toBe("WAL_INVALID_ARGUMENT");
          expect(codeOf(await failure(store.delete("kept", bad)))).toBe("WAL_INVALID_ARGUMENT");
        }
        expect(await store.list()).toEqual([{ key: "kept", size: 4 }]);
      },
    );
  });
}
