/** Options, the closed state, disposal, streaming open and the directory lock as seen through `Wal.open`. */

import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { ev, useTempDirs } from "../test/support.js";
import { Wal } from "./wal.js";

const tempDir = useTempDirs();
const holder = fileURLToPath(new URL("../../wal-lock/test/fixtures/flock-holder.mjs", import.meta.url));

describe("options are validated with WAL_INVALID_OPTION", () => {
  const bad: [string, Record<string, unknown>][] = [
    ["segment target 0", { segmentTargetBytes: 0 }],
    ["segment target not an integer", { segmentTargetBytes: 1.5 }],
    ["group interval 0", { syncMode: { mode: "group", intervalMs: 0 } }],
    ["unknown sync mode", { syncMode: "sometimes" }],
    ["negative fence", { checkpointLsn: -1 }],
    ["unknown recovery mode", { recovery: "hope" }],
    ["codec without methods", { codec: { name: "x" } }],
    ["onTransaction not a function", { onTransaction: 5 }],
  ];
  for (const [name, options] of bad) {
    it(name, async () => {
      const dir = await tempDir();
      await expect(Wal.open(dir, options as never)).rejects.toMatchObject({ code: "WAL_INVALID_OPTION" });
    });
  }

  it("accepts the sync mode shorthands and object forms and reports the normalised mode", async () => {
    const dir = await tempDir();
    for (const [input, expected] of [
      ["perCommit", { mode: "perCommit" }],
      ["none", { mode: "none" }],
      ["group", { mode: "group", intervalMs: 50 }],
      [{ mode: "perCommit" }, { mode: "perCommit" }],
      [{ mode: "none" }, { mode: "none" }],
      [
        { mode: "group", intervalMs: 7 },
        { mode: "group", intervalMs: 7 },
      ],
    ] as const) {
      const { wal } = await Wal.open(dir, { syncMode: input });
      expect(wal.syncMode()).toEqual(expected);
      expect(wal.dir()).toBe(dir);
      await wal.close();
    }
  });
});

describe("lifecycle", () => {
  it("every call after close rejects with WAL_CLOSED; close is idempotent; await using closes", async () => {
    const dir = await tempDir();
    {
      await using opened = await openDisposable(dir);
      await opened.wal.commitTx([ev(1)]);
    }
    const { wal } = await Wal.open(dir); // the disposal released the lock
    await wal.close();
    await wal.close();
    for (const call of [
      () => wal.begin(),
      () => wal.append(1, ev(1)),
      () => wal.commitTx([ev(2)]),
      () => wal.flush(),
      () => wal.sync(),
      () => wal.checkpointMarker(0),
      () => wal.truncateUpTo(0),
      () => wal.whenDurable(1),
    ]) {
      await expect(call()).rejects.toMatchObject({ code: "WAL_CLOSED" });
    }
  });

  it("close writes and fsyncs what is buffered", async () => {
    const fs = new SimFS();
    fs.mkdirpSync("/w");
    const { wal } = await Wal.open("/w", { fs, syncMode: "none" });
    const b = await wal.begin();
    await wal.append(b, ev(1));
    await wal.commit(b);
    await wal.close();
    const { events } = await Wal.open("/w", { fs: fs.durableImage() });
    expect(events).toEqual([ev(1)]);
  });

  it("a commit racing close either completes or rejects WAL_CLOSED, never hangs", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir, { codec: jsonCodec });
    const commits = Array.from({ length: 20 }, (_, i) => wal.commitTx([i]));
    const closing = wal.close();
    const results = await Promise.allSettled(commits);
    await closing;
    const ok = results.filter((r) => r.status === "fulfilled").length;
    for (const r of results) if (r.status === "rejected") expect(r.reason).toMatchObject({ code: "WAL_CLOSED" });
    const { events, wal: again } = await Wal.open(dir, { codec: jsonCodec });
    expect(events).toHaveLength(ok);
    await again.close();
  });

  it("the streaming open hands transactions to a callback and collects nothing", async () => {
    const dir = await tempDir();
    {
      const { wal } = await Wal.open(dir, { codec: jsonCodec });
      for (let i = 0; i < 10; i++) await wal.commitTx([i, i + 100]);
      await wal.close();
    }
    const seen: number[] = [];
    const { wal, events, replay } = await Wal.open(dir, {
      codec: jsonCodec,
      onTransaction: async (tx) => {
        await Promise.resolve();
        seen.push(...(tx.events as number[]));
      },
    });
    expect(events).toEqual([]);
    expect(seen).toHaveLength(20);
    expect(replay?.committedTransactions).toBe(10);
    await wal.close();
  });

  it("the streaming open awaits a callback's promise or thenable before the next transaction, and only then", async () => {
    const dir = await tempDir();
    {
      const { wal } = await Wal.open(dir, { codec: jsonCodec });
      for (let i = 0; i < 6; i++) await wal.commitTx([i]);
      await wal.close();
    }
    let inFlight = 0;
    const order: string[] = [];
    const { wal } = await Wal.open(dir, {
      codec: jsonCodec,
      onTransaction: async (tx) => {
        inFlight++;
        expect(inFlight).toBe(1);
        await new Promise((resolve) => setTimeout(resolve, 2));
        order.push(`promise ${String(tx.events[0])}`);
        inFlight--;
      },
    });
    await wal.close();
    expect(order).toEqual([0, 1, 2, 3, 4, 5].map((i) => `promise ${i}`));

    // A thenable that is not a Promise is awaited too.
    const thenable = (tx: { events: unknown[] }) => ({
      // biome-ignore lint/suspicious/noThenProperty: the point of the test is a thenable that is not a Promise
      then(resolve: () => void) {
        setTimeout(() => {
          order.push(`thenable ${String(tx.events[0])}`);
          resolve();
        }, 1);
      },
    });
    order.length = 0;
    await (await Wal.open(dir, { codec: jsonCodec, onTransaction: thenable as never })).wal.close();
    expect(order).toEqual([0, 1, 2, 3, 4, 5].map((i) => `thenable ${i}`));

    const failure = new Error("callback failed");
    await expect(
      Wal.open(dir, {
        codec: jsonCodec,
        onTransaction: (tx) => {
          if (tx.events[0] === 3) throw failure;
        },
      }),
    ).rejects.toBe(failure);
    // The failed open released the directory: it opens again.
    await (await Wal.open(dir, { codec: jsonCodec })).wal.close();
  });

  it("checkpointMarker refuses a future or regressing snapshot LSN", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    const info = await wal.commitTx([ev(1)]);
    await expect(wal.checkpointMarker(99)).rejects.toMatchObject({ code: "WAL_BAD_CHECKPOINT" });
    await wal.checkpointMarker(info?.commitLsn ?? 0);
    await expect(wal.checkpointMarker(1)).rejects.toMatchObject({ code: "WAL_BAD_CHECKPOINT" });
    await wal.close();
  });
});

async function openDisposable(dir: string) {
  const opened = await Wal.open(dir);
  return Object.assign(opened, { [Symbol.asyncDispose]: () => opened.wal[Symbol.asyncDispose]() });
}

describe("the directory lock through Wal.open", () => {
  it("a second open in this process fails; another process's lock is released by the kernel when it is SIGKILLed", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    await expect(Wal.open(dir)).rejects.toMatchObject({ code: "WAL_LOCKED" });
    await wal.close();

    const child = spawn(process.execPath, [holder, join(dir, ".lora-wal.lock")], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const [line] = (await once(child.stdout, "data")) as [Buffer];
      expect(line.toString()).toContain("locked");
      const started = Date.now();
      await expect(Wal.open(dir)).rejects.toMatchObject({
        code: "WAL_LOCKED",
        message:
          `WAL directory is already open by another live handle: ${dir} (a Wal or a restore, in this process or ` +
          `another, or LoraDB; still held after 100 ms of retries): close it or stop its process, whose exit ` +
          `releases the lock (never delete .lora-wal.lock to clear it), or retry for longer (Wal.open's lockRetryMs)`,
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    } finally {
      child.kill("SIGKILL");
      await once(child, "exit");
    }
    // At once: with no retry at all the open succeeds, so the killed holder left no stale lock.
    const reopened = await Wal.open(dir, { lockRetryMs: 0 });
    await reopened.wal.close();
  });
});
