/**
 * A store call whose `signal` aborts rejects with the signal's reason itself, whatever that reason is: a `WalError`
 * (even a `WAL_IO` of the caller's own, which a store must not mistake for one of its I/O failures and wrap), a
 * `DOMException` (`AbortError`, `TimeoutError`) or a plain value. Checked for `fsArchive` and `memoryArchive`, with the
 * signal aborted before the call and while it runs; `s3Archive` is checked the same way in `s3-archive.test.ts`.
 */

import { SimFS, wrapFileSystem } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { fsArchive } from "./fs-archive.js";
import { memoryArchive } from "./memory-archive.js";
import { ABORT_REASONS, rejectionOf } from "./test-support/abort-reasons.js";

function aborted(reason: unknown): AbortSignal {
  const controller = new AbortController();
  controller.abort(reason);
  return controller.signal;
}

describe.each(ABORT_REASONS)("an abort whose reason is %s", (_, make) => {
  it("fsArchive: put, get, list and delete with the signal aborted before the call reject with the reason", async () => {
    const sim = new SimFS();
    const store = fsArchive("/archive", { fs: sim });
    await store.put("segments/a", new Uint8Array([1]));
    const reason = make();
    const signal = aborted(reason);
    expect(await rejectionOf(store.put("segments/b", new Uint8Array([2]), { signal }))).toBe(reason);
    expect(await rejectionOf(store.get("segments/a", { signal }))).toBe(reason);
    expect(await rejectionOf(store.list("", { signal }))).toBe(reason);
    expect(await rejectionOf(store.delete("segments/a", { signal }))).toBe(reason);
    expect(await store.list()).toEqual([{ key: "segments/a", size: 1 }]);
  });

  it("fsArchive: a put aborted before its rename rejects with the reason and publishes nothing", async () => {
    const sim = new SimFS();
    const reason = make();
    const stop = new AbortController();
    let syncs = 0;
    const stopping = wrapFileSystem(
      sim,
      (file) =>
        new Proxy(file, {
          get(target, key) {
            if (key === "sync") {
              return async () => {
                syncs++;
                stop.abort(reason);
                await target.sync();
              };
            }
            const value: unknown = Reflect.get(target, key, target);
            return typeof value === "function" ? value.bind(target) : value;
          },
        }),
    );
    const store = fsArchive("/archive", { fs: stopping });
    expect(await rejectionOf(store.put("segments/y", new Uint8Array([5]), { signal: stop.signal }))).toBe(reason);
    expect(syncs).toBe(1);
    expect(await fsArchive("/archive", { fs: sim }).list()).toEqual([]);
  });

  it("fsArchive: a list aborted while it walks the directories rejects with the reason", async () => {
    const sim = new SimFS();
    await fsArchive("/archive", { fs: sim }).put("segments/a", new Uint8Array([1]));
    const reason = make();
    const stop = new AbortController();
    let readdirs = 0;
    const stopping = wrapFileSystem(sim, (file) => file, {
      readdir: async (path: string) => {
        readdirs++;
        stop.abort(reason);
        return sim.readdir(path);
      },
    });
    expect(await rejectionOf(fsArchive("/archive", { fs: stopping }).list("", { signal: stop.signal }))).toBe(reason);
    expect(readdirs).toBe(1);
  });

  it("memoryArchive: every call, aborted before it, while it waits its turn, or while it hangs, rejects with the reason", async () => {
    const store = memoryArchive();
    await store.put("segments/a", new Uint8Array([1]));
    const calls = [
      (signal: AbortSignal) => store.put("segments/b", new Uint8Array([2]), { signal }),
      (signal: AbortSignal) => store.get("segments/a", { signal }),
      (signal: AbortSignal) => store.list("", { signal }),
      (signal: AbortSignal) => store.delete("segments/a", { signal }),
    ];
    for (const call of calls) {
      const before = make();
      expect(await rejectionOf(call(aborted(before)))).toBe(before);

      const during = make();
      const stop = new AbortController();
      const waiting = rejectionOf(call(stop.signal));
      stop.abort(during);
      expect(await waiting).toBe(during);

      const hanging = make();
      const fault = store.injectFault({ op: "*", error: "timeout", timeoutMs: 60_000 });
      const hang = new AbortController();
      const hung = rejectionOf(call(hang.signal));
      while (fault.hits === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      hang.abort(hanging);
      expect(await hung).toBe(hanging);
    }
    expect(store.keys()).toEqual(["segments/a"]);
  });
});
