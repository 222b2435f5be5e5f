/**
 * Archiving a live log (real files) through a failing store: s3rver behind the faulty proxy (5xx answers for a
 * while, connections reset mid-upload, calls that never answer and are abandoned at `callTimeoutMs`), and the
 * in-memory store (uncertain failures whose put landed, every call hanging, a long outage). The outage is measured
 * in work: the store is down while the writer commits 300 transactions across 20+ rotations and tries to truncate.
 * Whatever the store does, the writer's commits never wait on it, truncation keeps what is not archived, and once
 * the store is back the archive catches up and a restore equals the log.
 *
 * Verdicts count calls, faults, states and transactions; the test timeout only catches a hang.
 */

import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { type LocalS3, startLocalS3 } from "@lora/test-utils/local-s3";
import { type JsonValue, jsonCodec, Wal } from "@lora/wal";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ArchiveStore } from "../src/archive-store.js";
import { type Archiver, type ArchiverStatus, startArchiver } from "../src/archiver.js";
import { memoryArchive } from "../src/memory-archive.js";
import { restore } from "../src/restore.js";
import { s3Archive } from "../src/s3-archive.js";
import { verifyArchive } from "../src/verify-archive.js";
import { readHistory } from "./support/archive-e2e.js";
import { type FaultyProxy, type ProxiedRequest, startFaultyProxy } from "./support/faulty-proxy.js";

let s3: LocalS3;
let proxy: FaultyProxy;
let tmp: Awaited<ReturnType<typeof makeTempDir>>;

beforeAll(async () => {
  [s3, tmp] = await Promise.all([startLocalS3(), makeTempDir("wal-archive-faults")]);
  proxy = await startFaultyProxy(s3.endpoint);
});

afterAll(async () => {
  await proxy?.close();
  await s3?.stop();
  await tmp?.cleanup();
});

beforeEach(() => proxy.reset());

const isPut = (r: { readonly method: string }) => r.method === "PUT";
const faulted = (kind: ProxiedRequest["fault"]) => proxy.requests.filter((r) => r.fault === kind).length;

/** A store in s3rver through the proxy, one attempt per call, under a prefix of its own. */
function s3ViaProxy(name: string): ArchiveStore {
  const client = s3.createClient({ endpoint: proxy.endpoint, maxAttempts: 1 });
  return s3Archive({ client, bucket: s3.bucket, prefix: `faults/${name}` });
}

/**
 * `store`, with every call it answered recorded: its name, and for one that failed, the name of the cause the
 * archiver sees (its signal's reason for an abandoned call).
 */
function recordingCalls(store: ArchiveStore) {
  const calls: { call: string; failure?: string }[] = [];
  const recorded = <T>(call: string, run: () => Promise<T>): Promise<T> =>
    run().then(
      (value) => {
        calls.push({ call });
        return value;
      },
      (error: unknown) => {
        const cause = (error as { cause?: { name?: unknown } }).cause;
        calls.push({ call, failure: String(cause?.name ?? (error as { name?: unknown }).name) });
        throw error;
      },
    );
  const wrapped: ArchiveStore = {
    name: store.name,
    put: (key, bytes, options) => recorded("put", () => store.put(key, bytes, options)),
    get: (key, options) => recorded("get", () => store.get(key, options)),
    list: (prefix, options) => recorded("list", () => store.list(prefix, options)),
    delete: (key, options) => recorded("delete", () => store.delete(key, options)),
  };
  return Object.assign(wrapped, { calls });
}

/** A log on real files that rotates every few commits, and the transactions it acknowledged. */
async function openLog(name: string, segmentTargetBytes = 1024) {
  const dir = join(tmp.path, name, "wal");
  const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, segmentTargetBytes });
  const committed: string[] = [];
  let sealed = 0;
  wal.onLifecycle((e) => {
    if (e.type === "sealed") sealed++;
  });
  const commit = async (count: number, pad = 60) => {
    for (let k = 0; k < count; k++) {
      const i = committed.length;
      const info = await wal.commitTx([{ i, pad: "p".repeat(pad) }]);
      if (info === null) throw new Error("commitTx wrote nothing");
      committed.push(`${i}@${info.commitLsn}`);
    }
  };
  return { dir, wal, committed, commit, sealed: () => sealed };
}

/** The states an archiver went through, and a promise for the next time it reaches one. */
function stateLog() {
  const states: ArchiverStatus["state"][] = [];
  const waiters: { state: ArchiverStatus["state"]; resolve: () => void }[] = [];
  return {
    states,
    onStateChange(status: ArchiverStatus) {
      states.push(status.state);
      for (const w of waiters.filter((x) => x.state === status.state)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    },
    /**
     * Resolves when the state is (or becomes) `state`. No deadline: a wall-clock bound fails an archiver that is only
     * slow on a loaded machine; one that never gets there is a hang, which the test timeout catches.
     */
    reach(archiver: Archiver, state: ArchiverStatus["state"]): Promise<void> {
      if (archiver.status().state === state) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ state, resolve }));
    },
  };
}

/** Restore the whole archive into a new directory and compare its transactions with what the log acknowledged. */
async function expectRestoreEqualsLog(store: ArchiveStore, name: string, committed: readonly string[]) {
  const report = await verifyArchive(store);
  expect(report.problems).toEqual([]);
  const dir = join(tmp.path, name, "restored");
  await restore({ store, dir });
  const txs = await readHistory(dir, "json");
  expect(txs.map((t) => `${t.i}@${t.commitLsn}`)).toEqual(committed);
}

describe("s3Archive behind a faulty proxy", () => {
  it("5xx answers for a while: the archiver retries each failed put, never turns failing, and catches up", async () => {
    const log = await openLog("s3-5xx");
    const store = s3ViaProxy("5xx");
    const states = stateLog();
    const archiver = startArchiver(log.wal, {
      store,
      intervalMs: 20,
      retry: { initialMs: 5, maxMs: 40, failingAfter: 20 },
      onStateChange: states.onStateChange,
    });
    try {
      await archiver.flush();
      // The next ten puts fail: six 503s, then four 500s.
      const unavailable = proxy.inject({ kind: "status", status: 503 }, { times: 6, match: isPut });
      const internal = proxy.inject({ kind: "status", status: 500 }, { times: 4, match: isPut });
      await log.commit(60);
      await Promise.all([unavailable.applied, internal.applied]);
      await archiver.flush();
      const status = archiver.status();
      expect(faulted("status")).toBe(10);
      expect(status.failures).toBe(10);
      expect(states.states).toEqual(["retrying", "running"]);
      expect(status.lastError?.code).toBe("WAL_IO");
      expect(status.archivedLsn).toBe(log.wal.fsyncedLsn());
      expect(log.sealed()).toBeGreaterThanOrEqual(5);
    } finally {
      await archiver.stop();
      await log.wal.close();
    }
    await expectRestoreEqualsLog(store, "s3-5xx", log.committed);
  });

  it("connections reset mid-upload: every reset put is retried, and no partial object reaches the archive", async () => {
    const log = await openLog("s3-reset", 4096);
    const store = s3ViaProxy("reset");
    const states = stateLog();
    const archiver = startArchiver(log.wal, {
      store,
      intervalMs: 20,
      retry: { initialMs: 5, maxMs: 40, failingAfter: 20 },
      onStateChange: states.onStateChange,
    });
    try {
      await archiver.flush();
      // Five puts lose their connection after 1000 bytes of the body (or, for a shorter body, after all of it).
      const resets = proxy.inject({ kind: "reset", afterRequestBytes: 1000 }, { times: 5, match: isPut });
      await log.commit(80, 120);
      await resets.applied;
      await archiver.flush();
      expect(faulted("reset")).toBe(5);
      expect(archiver.status().failures).toBe(5);
      expect(states.states).toEqual(["retrying", "running"]);
      expect(log.sealed()).toBeGreaterThanOrEqual(3);
    } finally {
      await archiver.stop();
      await log.wal.close();
    }
    await expectRestoreEqualsLog(store, "s3-reset", log.committed);
  });

  it("puts that never answer: each is abandoned at callTimeoutMs and retried, while commits go on", async () => {
    const log = await openLog("s3-stall");
    const store = recordingCalls(s3ViaProxy("stall"));
    const states = stateLog();
    const archiver = startArchiver(log.wal, {
      store,
      intervalMs: 20,
      callTimeoutMs: 300,
      retry: { initialMs: 5, maxMs: 40, failingAfter: 20 },
      onStateChange: states.onStateChange,
    });
    try {
      await archiver.flush();
      const stalls = proxy.inject({ kind: "stall" }, { times: 2, match: isPut });
      await log.commit(5);
      const archivedBefore = archiver.status().archivedLsn;
      // The first stalled put holds the archiver; the writer does not notice.
      await stalls.applied;
      await log.commit(40);
      await archiver.flush();
      expect(faulted("stall")).toBe(2);
      // Both stalled puts were abandoned at the time-out. A loaded machine can make a put that was answered outlast
      // 300 ms too: it is abandoned and retried the same way, so the verdict counts every abandoned call, not two.
      const failed = store.calls.filter((c) => c.failure !== undefined);
      const failedPuts = failed.filter((c) => c.call === "put").length;
      expect(failed.map((c) => c.failure)).toEqual(failed.map(() => "TimeoutError"));
      expect(failedPuts).toBeGreaterThanOrEqual(2);
      // Every put goes through the archiver's retried call, which counts its failures; a failed call it made inside
      // one (a best-effort listing) is not counted apart. With no call abandoned but the stalled two: exactly 2.
      const { failures } = archiver.status();
      expect(failures).toBeGreaterThanOrEqual(failedPuts);
      expect(failures).toBeLessThanOrEqual(failed.length);
      if (failed.length === 2) expect(failures).toBe(2);
      expect(archiver.status().archivedLsn).toBeGreaterThan(archivedBefore);
      // Each run of failures is one "retrying" spell, ended by a put that succeeded.
      expect(states.states.length).toBeGreaterThanOrEqual(2);
      expect(states.states).toEqual(states.states.map((_, i) => (i % 2 === 0 ? "retrying" : "running")));
      // Each abandoned call failed with the time-out (the signal's reason, wrapped as WAL_IO).
      const cause = archiver.status().lastError?.cause as { name?: string } | undefined;
      expect(cause?.name).toBe("TimeoutError");
    } finally {
      await archiver.stop();
      await log.wal.close();
    }
    await expectRestoreEqualsLog(store, "s3-stall", log.committed);
  });
});

describe("memoryArchive faults", () => {
  it("uncertain failures (the put landed, the answer was lost) are retried without a duplicate or a refusal", async () => {
    const log = await openLog("memory-uncertain");
    const store = memoryArchive();
    const archiver = startArchiver(log.wal, {
      store,
      intervalMs: 10,
      retry: { initialMs: 2, maxMs: 10, failingAfter: 100 },
    });
    try {
      await archiver.flush();
      const lost = store.injectFault({ op: "put", error: "reset", applied: true, times: 6 });
      await log.commit(60);
      await archiver.flush();
      expect(lost.hits).toBe(6);
      expect(archiver.status().failures).toBe(6);
      expect(archiver.status().state).toBe("running");
    } finally {
      await archiver.stop();
      await log.wal.close();
    }
    await expectRestoreEqualsLog(store, "memory-uncertain", log.committed);
  });

  it("every store call hanging: 300 commits across 20+ rotations complete while no call succeeds", async () => {
    const log = await openLog("memory-hang");
    const store = memoryArchive();
    let succeeded = 0;
    store.onCall((call) => {
      if (call.outcome === "ok") succeeded++;
    });
    const archiver = startArchiver(log.wal, {
      store,
      intervalMs: 10,
      callTimeoutMs: 1000,
      retry: { initialMs: 2, maxMs: 10, failingAfter: 1_000_000 },
    });
    try {
      await archiver.flush();
      const hang = store.injectFault({
        op: "*",
        error: "timeout",
        times: Number.POSITIVE_INFINITY,
        timeoutMs: 3_600_000,
      });
      const archivedBefore = archiver.status().archivedLsn;
      const succeededBefore = succeeded;
      const sealedBefore = log.sealed();
      await log.commit(300);
      expect(log.sealed() - sealedBefore).toBeGreaterThanOrEqual(20);
      expect(succeeded).toBe(succeededBefore);
      expect(hang.hits).toBeGreaterThan(0);
      const status = archiver.status();
      expect(status.archivedLsn).toBe(archivedBefore);
      expect(status.pendingSegments).toBeGreaterThanOrEqual(20);
      hang.cancel();
      await archiver.flush();
      expect(archiver.status().archivedLsn).toBe(log.wal.fsyncedLsn());
    } finally {
      await archiver.stop();
      await log.wal.close();
    }
    await expectRestoreEqualsLog(store, "memory-hang", log.committed);
  });

  it("a long outage (300 commits, 20+ rotations, truncation attempts): retrying, then failing with WAL_ARCHIVE_UNAVAILABLE, the slot holds every unarchived segment, and the archive catches up", async () => {
    const log = await openLog("memory-outage");
    const store = memoryArchive();
    const states = stateLog();
    const archiver = startArchiver(log.wal, {
      store,
      intervalMs: 10,
      callTimeoutMs: 1000,
      retry: { initialMs: 2, maxMs: 10, failingAfter: 4 },
      onStateChange: states.onStateChange,
    });
    try {
      await log.commit(20);
      await archiver.flush();
      const archivedBefore = archiver.status().archivedLsn;
      expect(archivedBefore).toBe(log.wal.fsyncedLsn());

      store.setDown(true);
      const sealedBefore = log.sealed();
      const truncations: number[] = [];
      for (let round = 0; round < 3; round++) {
        await log.commit(100);
        // What truncation may delete: segments wholly at or below the archived LSN (archived before the outage).
        const { removedSegments } = await log.wal.checkpoint(log.wal.safeCheckpointLsn());
        truncations.push(removedSegments);
        const oldest = (await log.wal.segments())[0];
        expect(oldest?.baseLsn).toBeLessThanOrEqual(archivedBefore + 1);
      }
      expect(log.sealed() - sealedBefore).toBeGreaterThanOrEqual(20);
      // Truncation removed nothing after its first attempt: everything newer waits for the archive.
      expect(truncations.slice(1)).toEqual([0, 0]);

      await states.reach(archiver, "failing");
      const failing = archiver.status();
      expect(failing.lastError?.code).toBe("WAL_ARCHIVE_UNAVAILABLE");
      expect(failing.archivedLsn).toBe(archivedBefore);
      expect(failing.pendingSegments).toBeGreaterThanOrEqual(20);
      expect(failing.lagMs).toBeGreaterThan(0);
      await expect(archiver.flush()).rejects.toMatchObject({ code: "WAL_ARCHIVE_UNAVAILABLE" });

      store.setDown(false);
      await states.reach(archiver, "running");
      await archiver.flush();
      expect(archiver.status().archivedLsn).toBe(log.wal.fsyncedLsn());
      expect(states.states).toEqual(["retrying", "failing", "running"]);
      // Now truncation may delete what the outage kept.
      const { removedSegments } = await log.wal.checkpoint(log.wal.safeCheckpointLsn());
      expect(removedSegments).toBeGreaterThanOrEqual(20);
    } finally {
      await archiver.stop();
      await log.wal.close();
    }
    await expectRestoreEqualsLog(store, "memory-outage", log.committed);
  });
});
