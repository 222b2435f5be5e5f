import { settlesWithinTurns } from "@lora/test-utils";
import { isWalError } from "@lora/wal-codec";
import { describe, expect, test } from "vitest";
import { memoryArchive } from "./memory-archive.js";
import { runArchiveStoreConformance } from "./testing/archive-store-conformance.js";

runArchiveStoreConformance({
  describe,
  test,
  expect,
  label: "memoryArchive",
  create: () => Promise.resolve({ store: memoryArchive(), cleanup: async () => {} }),
});

const bytes = (...v: number[]) => Uint8Array.from(v);

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to reject");
}

/** What `fn` threw (synchronously). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to throw");
}

/** The `WAL_IO` error's cause code (what kind of fault it was). */
function causeCode(error: unknown): unknown {
  expect(isWalError(error, "WAL_IO")).toBe(true);
  return (error as { cause?: { code?: unknown } }).cause?.code;
}

describe("memoryArchive fault injection", () => {
  test("the next N calls of an op fail with WAL_IO naming the object; later ones and other ops pass", async () => {
    const store = memoryArchive();
    const fault = store.injectFault({ op: "put", times: 3, error: "reset" });
    for (let i = 0; i < 3; i++) {
      const error = await failure(store.put("segments/a", bytes(1)));
      expect(causeCode(error)).toBe("ECONNRESET");
      expect((error as { details: { object?: string } }).details.object).toBe("segments/a");
      expect(await store.list()).toEqual([]); // nothing landed
    }
    expect(await store.get("segments/a")).toBe(null);
    expect(fault.hits).toBe(3);
    expect(fault.remaining).toBe(0);
    await store.put("segments/a", bytes(1));
    expect(store.peek("segments/a")).toEqual(bytes(1));
    expect(store.calls).toEqual({ put: 4, get: 1, list: 3, delete: 0 });
  });

  test("each fault kind has its own cause; a key filter and the '*' op select calls", async () => {
    const store = memoryArchive({ faults: [{ op: "*", key: "partial/", error: "unavailable", times: 2 }] });
    await store.put("segments/x", bytes(1)); // not matched by the key filter
    expect(causeCode(await failure(store.get("partial/y")))).toBe("ECONNREFUSED");
    expect(causeCode(await failure(store.list("partial/")))).toBe("ECONNREFUSED");
    expect(await store.list("partial/")).toEqual([]);
    store.injectFault({ op: "delete", error: "reset" });
    expect(causeCode(await failure(store.delete("segments/x")))).toBe("ECONNRESET");
    expect(store.keys()).toEqual(["segments/x"]);
  });

  test("an applied put fault stores the object and still rejects (an uncertain outcome); a retry succeeds", async () => {
    const store = memoryArchive();
    store.injectFault({ op: "put", applied: true, error: "reset" });
    expect(causeCode(await failure(store.put("k", bytes(7, 8))))).toBe("ECONNRESET");
    expect(store.peek("k")).toEqual(bytes(7, 8));
    await store.put("k", bytes(7, 8));
    expect(store.keys()).toEqual(["k"]);
  });

  test("a timeout fault hangs until the call's signal aborts, then rejects with the signal's reason", async () => {
    const store = memoryArchive();
    store.injectFault({ op: "get", error: "timeout", timeoutMs: 60_000 });
    await store.put("k", bytes(1));
    const controller = new AbortController();
    const call = store.get("k", { signal: controller.signal });
    // A call that does not hang settles after one turn of the event loop; counted in turns, not ms, this holds
    // however slow the machine (a timer could fire before the call had taken its turn).
    expect(await settlesWithinTurns(call, 50)).toBe(false);
    const reason = new Error("call timed out after 30 ms");
    controller.abort(reason);
    expect(await failure(call)).toBe(reason);
    expect(await store.get("k")).toEqual(bytes(1));
  });

  test("a timeout fault without a signal rejects with WAL_IO ETIMEDOUT after its delay", async () => {
    const store = memoryArchive();
    store.injectFault({ op: "list", error: "timeout", timeoutMs: 40 });
    const started = Date.now();
    expect(causeCode(await failure(store.list()))).toBe("ETIMEDOUT");
    expect(Date.now() - started).toBeGreaterThanOrEqual(35);
  });

  test("setDown makes every call reject until the store is back up", async () => {
    const store = memoryArchive();
    await store.put("k", bytes(1));
    store.setDown(true);
    expect(store.down).toBe(true);
    for (const call of [store.put("j", bytes(2)), store.get("k"), store.list(), store.delete("k")]) {
      expect(causeCode(await failure(call))).toBe("ECONNREFUSED");
    }
    store.setDown(false);
    expect(await store.list()).toEqual([{ key: "k", size: 1 }]);
  });

  test("argument refusals come before faults and do not use one up", async () => {
    const store = memoryArchive();
    const fault = store.injectFault({ op: "put" });
    const refused = await failure(store.put("/bad", bytes(1)));
    expect(isWalError(refused, "WAL_INVALID_ARGUMENT")).toBe(true);
    expect(fault.remaining).toBe(1);
    expect(causeCode(await failure(store.put("good", bytes(1))))).toBe("ECONNREFUSED");
  });

  test("a signal that is not an AbortSignal is refused like a bad key: nothing stored, no fault used up", async () => {
    const store = memoryArchive();
    const fault = store.injectFault({ op: "*", times: 4 });
    const signal = {} as AbortSignal;
    for (const call of [
      store.put("k", bytes(1), { signal }),
      store.get("k", { signal: "x" as unknown as AbortSignal }),
      store.list("", { signal: 5 as unknown as AbortSignal }),
      store.delete("k", { signal }),
    ]) {
      const error = await failure(call);
      expect(isWalError(error, "WAL_INVALID_ARGUMENT")).toBe(true);
      expect((error as Error).message).toMatch(/signal must be an AbortSignal/);
    }
    expect(store.keys()).toEqual([]);
    expect(fault.remaining).toBe(4);
  });

  test("cancel and clearFaults stop injection; malformed specs are refused", async () => {
    const store = memoryArchive();
    const fault = store.injectFault({ op: "get", times: Number.POSITIVE_INFINITY });
    expect(causeCode(await failure(store.get("a")))).toBe("ECONNREFUSED");
    expect(causeCode(await failure(store.get("a")))).toBe("ECONNREFUSED");
    fault.cancel();
    expect(await store.get("a")).toBe(null);
    store.injectFault({ op: "list" });
    store.clearFaults();
    expect(await store.list()).toEqual([]);
    for (const spec of [
      { op: "nope" },
      { op: "get", times: 0 },
      { op: "get", times: 1.5 },
      { op: "get", error: "x" },
    ]) {
      expect(
        isWalError(
          thrown(() => store.injectFault(spec as never)),
          "WAL_INVALID_ARGUMENT",
        ),
      ).toBe(true);
    }
  });

  test("onCall reports each settled call with its outcome", async () => {
    const store = memoryArchive();
    const seen: string[] = [];
    const off = store.onCall((c) => seen.push(`${c.op}:${c.key}:${c.outcome}`));
    await store.put("a", bytes(1));
    store.injectFault({ op: "get" });
    await failure(store.get("a"));
    await failure(store.put("a", bytes(2)));
    await store.list("a");
    off();
    await store.delete("a");
    expect(seen).toEqual(["put:a:ok", "get:a:fault", "put:a:error", "list:a:ok"]);
  });

  test("corrupt flips a byte or cuts the object, keeping its key; remove drops it without a call", async () => {
    const store = memoryArchive();
    await store.put("k", bytes(1, 2, 3, 4));
    store.corrupt("k");
    expect(store.peek("k")).toEqual(bytes(1, 2, 3 ^ 0xff, 4));
    store.corrupt("k", { at: 0 });
    expect(store.peek("k")).toEqual(bytes(1 ^ 0xff, 2, 3 ^ 0xff, 4));
    store.corrupt("k", { truncateTo: 1 });
    expect(await store.get("k")).toEqual(bytes(1 ^ 0xff));
    expect(
      isWalError(
        thrown(() => store.corrupt("absent")),
        "WAL_INVALID_ARGUMENT",
      ),
    ).toBe(true);
    expect(
      isWalError(
        thrown(() => store.corrupt("k", { at: 1 })),
        "WAL_INVALID_ARGUMENT",
      ),
    ).toBe(true);
    const calls = { ...store.calls };
    expect(store.remove("k")).toBe(true);
    expect(store.remove("k")).toBe(false);
    expect(store.calls).toEqual(calls);
    expect(await store.list()).toEqual([]);
  });
});
