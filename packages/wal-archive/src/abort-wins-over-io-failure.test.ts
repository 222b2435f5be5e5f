/**
 * An abort and a failure of the store's own I/O in one call: once the signal has aborted, a call that has not settled
 * rejects with the signal's reason, whichever came first (the `ArchiveCallOptions.signal` contract). `fsArchive`
 * answered with its `WAL_IO` when the failure followed the abort (or preceded it within the call), while `s3Archive`
 * answered with the reason, except for the failures it finds in an answer itself (a body cut short, a page without
 * sizes), which were `WAL_IO` there too.
 *
 * Driven through each store's seam, with no timing: the file-system seam (`fsArchive` on SimFS), the S3 client's
 * `send` (`s3Archive`), the injected faults and the call hook (`memoryArchive`).
 */

import type { S3Client } from "@aws-sdk/client-s3";
import { isWalError } from "@lora/wal-codec";
import { SimFS, type SimOp, wrapFileSystem } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import type { ArchiveStore } from "./archive-store.js";
import { fsArchive } from "./fs-archive.js";
import { memoryArchive } from "./memory-archive.js";
import { s3Archive } from "./s3-archive.js";
import { ABORT_REASONS, rejectionOf } from "./test-support/abort-reasons.js";

const ABORT_FIRST = "the abort, then the I/O failure";
const FAILURE_FIRST = "the I/O failure, then the abort";
type Order = typeof ABORT_FIRST | typeof FAILURE_FIRST;

type Op = "put" | "get" | "list" | "delete";

/** The call of `op` each case makes: on `segments/a` (one byte, there before the call), or a put of `segments/b`. */
function call(store: ArchiveStore, op: Op, signal: AbortSignal): Promise<unknown> {
  switch (op) {
    case "put":
      return store.put("segments/b", new Uint8Array([2]), { signal });
    case "get":
      return store.get("segments/a", { signal });
    case "list":
      return store.list("", { signal });
    case "delete":
      return store.delete("segments/a", { signal });
  }
}

/**
 * A seam step that fails (`fail` rejects, or resolves with an answer the store takes for a failure), ordered against
 * `abort`: abort first, the step starts, the signal aborts, a turn of the event loop passes (whatever listens to the
 * signal runs), then the step fails; failure first, the step fails and the signal aborts before the store has acted on
 * that failure (queued ahead of the store's continuation).
 */
async function orderedFailure<T>(order: Order, abort: () => void, fail: () => Promise<T>): Promise<T> {
  if (order === ABORT_FIRST) {
    abort();
    await new Promise<void>((resolve) => setImmediate(resolve));
    return await fail();
  }
  let answer: T;
  try {
    answer = await fail();
  } catch (e) {
    queueMicrotask(abort);
    throw e;
  }
  queueMicrotask(abort);
  return answer;
}

/** One cell of the table: a store whose next call of `op` meets an I/O failure ordered against its abort. */
interface Cell {
  readonly store: string;
  readonly op: string;
  /** Set the store up and start the call; `abort` aborts its signal. Resolves with what the call rejected with. */
  readonly start: (
    order: Order,
    signal: AbortSignal,
    abort: () => void,
  ) => Promise<{ readonly rejected: Promise<unknown> }>;
  /** What the call rejects with: the reason, or (an abort that can only come once the call settled) the failure. */
  readonly expect?: (order: Order) => "reason" | "failure";
}

/** fsArchive on SimFS: the seam step of each call fails with EIO (`write` of the put's temporary file, ...). */
function fsCell(op: Op): Cell {
  return {
    store: "fsArchive",
    op,
    start: async (order, signal, abort) => {
      const sim = new SimFS();
      await fsArchive("/archive", { fs: sim }).put("segments/a", new Uint8Array([1]));
      let armed = true;
      /** The step `simOp` on `path`, failing with EIO once, in `order` with the abort. */
      const step = <T>(simOp: SimOp, path: string, run: () => Promise<T>): Promise<T> => {
        if (!armed) return run();
        armed = false;
        return orderedFailure(order, abort, () => {
          sim.injectFault({ op: simOp, path, errno: "EIO" });
          return run();
        });
      };
      const failing = wrapFileSystem(
        sim,
        (file, mode) =>
          new Proxy(file, {
            get(target, key) {
              if (op === "put" && key === "write" && mode === "createExclusive") {
                return (data: Uint8Array, position: number) =>
                  step("write", target.path, () => target.write(data, position));
              }
              if (op === "get" && key === "read") {
                return (buffer: Uint8Array, offset: number, length: number, position: number) =>
                  step("read", target.path, () => target.read(buffer, offset, length, position));
              }
              if (key === "readSync" || key === "writeSync") return undefined;
              const value: unknown = Reflect.get(target, key, target);
              return typeof value === "function" ? value.bind(target) : value;
            },
          }),
        {
          readdir: (path: string) =>
            op === "list" ? step("readdir", path, () => sim.readdir(path)) : sim.readdir(path),
          unlink: (path: string) => (op === "delete" ? step("unlink", path, () => sim.unlink(path)) : sim.unlink(path)),
        },
      );
      return { rejected: rejectionOf(call(fsArchive("/archive", { fs: failing }), op, signal)) };
    },
  };
}

/** What the network does to a request when a connection drops. */
function connectionReset(): Error {
  return Object.assign(new Error("socket hang up"), { name: "Error", code: "ECONNRESET" });
}

/**
 * s3Archive on a client whose first request of the call fails (`ECONNRESET`), or (the variants) is answered with
 * what the store takes for a failure: a body shorter than its announced length, a page without sizes.
 */
function s3Cell(op: Op, variant?: "a body cut short" | "a page without sizes"): Cell {
  return {
    store: "s3Archive",
    op: variant === undefined ? op : `${op}, ${variant}`,
    start: (order, signal, abort) => {
      let sent = 0;
      const answer = (): Promise<unknown> => {
        if (variant === "a body cut short") {
          return Promise.resolve({
            Body: { transformToByteArray: () => Promise.resolve(new Uint8Array([1])) },
            ContentLength: 2,
          });
        }
        if (variant === "a page without sizes") {
          return Promise.resolve({ Contents: [{ Key: "p/segments/a" }], IsTruncated: false });
        }
        return Promise.reject(connectionReset());
      };
      const client = {
        send() {
          sent++;
          if (sent > 1) return Promise.reject(new Error("the call sent a second request"));
          return orderedFailure(order, abort, answer);
        },
      };
      const store = s3Archive({ client: client as unknown as S3Client, bucket: "b", prefix: "p" });
      return Promise.resolve({ rejected: rejectionOf(call(store, op, signal)) });
    },
  };
}

/**
 * memoryArchive: a fault (`reset`) fails the call. Abort first, the signal aborts while the call waits for the store.
 * Failure first, the abort comes from the call hook as the store reports the fault: the store settles a call in the
 * step its fault fails it, so an abort the failure sets off comes once the call has settled, and the failure stands.
 */
function memoryCell(op: Op): Cell {
  return {
    store: "memoryArchive",
    op,
    start: async (order, signal, abort) => {
      const store = memoryArchive();
      await store.put("segments/a", new Uint8Array([1]));
      store.injectFault({ op, error: "reset" });
      if (order === FAILURE_FIRST) {
        store.onCall((c) => {
          if (c.outcome === "fault") abort();
        });
        return { rejected: rejectionOf(call(store, op, signal)) };
      }
      const rejected = rejectionOf(call(store, op, signal));
      abort();
      return { rejected };
    },
    expect: (order) => (order === ABORT_FIRST ? "reason" : "failure"),
  };
}

const OPS: readonly Op[] = ["put", "get", "list", "delete"];
const CELLS: readonly Cell[] = [
  ...OPS.map(fsCell),
  ...OPS.map((op) => s3Cell(op)),
  s3Cell("get", "a body cut short"),
  s3Cell("list", "a page without sizes"),
  ...OPS.map(memoryCell),
];
const TABLE = CELLS.flatMap((cell) => [ABORT_FIRST, FAILURE_FIRST].map((order) => [cell, order as Order] as const));

describe.each(ABORT_REASONS)("an abort whose reason is %s, and an I/O failure in the same call", (_, make) => {
  it.each(TABLE.map(([cell, order]) => [`${cell.store} ${cell.op}: ${order}`, cell, order] as const))(
    "%s",
    async (_name, cell, order) => {
      const reason = make();
      const controller = new AbortController();
      const started = await cell.start(order, controller.signal, () => controller.abort(reason));
      const rejected = await started.rejected;
      expect(controller.signal.aborted).toBe(true);
      if ((cell.expect?.(order) ?? "reason") === "reason") {
        expect(rejected).toBe(reason);
      } else {
        expect(rejected).not.toBe(reason);
        expect(isWalError(rejected, "WAL_IO")).toBe(true);
        expect((rejected as Error).message).toContain(cell.op);
      }
    },
  );
});
