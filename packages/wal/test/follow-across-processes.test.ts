/**
 * The change feed across processes, with real processes and real files: a follower process (followDir through a
 * replication slot) tracks a writer process that rotates every few commits, checkpoints with truncation every 10
 * commits, and is SIGKILLed at seeded points and restarted 20 times. The follower must deliver exactly the
 * committed history: every event once, in order, no gap, every acknowledged commit, and nothing recovery dropped.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleScript, makeTempDir, seededRandom } from "@lora/test-utils";
import { createSlot, type JsonValue, jsonCodec, readCommitted, Wal } from "@lora/wal";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
let writerJs: string;
let readerJs: string;
let tmp: Awaited<ReturnType<typeof makeTempDir>>;

beforeAll(async () => {
  [writerJs, readerJs] = await Promise.all([
    bundleScript(join(here, "fixtures", "follow-writer.ts")),
    bundleScript(join(here, "fixtures", "follow-reader.ts")),
  ]);
  tmp = await makeTempDir("follow-processes");
});
afterAll(async () => {
  await tmp.cleanup();
});

/** A child whose stdout lines are collected; `waitFor` resolves when a line matches (or rejects on a guard). */
function start(script: string, args: string[]) {
  const child: ChildProcess = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const lines: string[] = [];
  let partial = "";
  const waiters: { test: (l: string) => boolean; resolve: () => void }[] = [];
  child.stdout?.on("data", (chunk: Buffer) => {
    partial += chunk.toString("utf8");
    const parts = partial.split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) {
      lines.push(line);
      for (const w of [...waiters]) if (w.test(line)) w.resolve();
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  // No deadline: a wall-clock bound fails a process that is only slow on a loaded machine; one that never prints the
  // line is a hang, which the test timeout catches. A process that exits first fails the wait at once.
  const waitFor = (test: (l: string) => boolean, what: string) =>
    new Promise<void>((resolve, reject) => {
      if (lines.some(test)) return resolve();
      const w = {
        test,
        resolve: () => {
          waiters.splice(waiters.indexOf(w), 1);
          resolve();
        },
      };
      waiters.push(w);
      void exited.then(() => {
        if (!lines.some(test)) reject(new Error(`process exited before ${what}; last: ${lines.slice(-3)}`));
      });
    });
  return { child, lines, exited, waitFor };
}

describe("a follower process beside a writer process that rotates, truncates and is SIGKILLed", () => {
  it("delivers exactly the committed history through 20 kills and restarts", async () => {
    const dir = join(tmp.path, "wal");
    // The slot must exist before the first truncation, or the writer may delete what the follower needs.
    const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec });
    await wal.close();
    await createSlot(dir, "replica");
    const reader = start(readerJs, [dir, "replica"]);

    const seed = 20261202;
    // Seeded kill points: a failure names a schedule that runs again the same way.
    const next = seededRandom(seed);
    const acked: number[] = [];
    let kills = 0;
    for (let run = 0; run < 21; run++) {
      const last = run === 20;
      const writer = start(writerJs, [dir, last ? "15" : "1000"]);
      await writer.waitFor((l) => l.startsWith("open "), `writer run ${run} to open`);
      const want = 3 + Math.floor(next() * 30);
      if (last) {
        await writer.waitFor((l) => l === "closed", "the last writer to close");
      } else {
        const target = acked.length + want;
        await writer.waitFor(
          () => acked.length + writer.lines.filter((l) => l.startsWith("ack ")).length >= target,
          `run ${run}: ${want} acks`,
        );
        writer.child.kill("SIGKILL");
        kills++;
      }
      await writer.exited;
      for (const l of writer.lines) if (l.startsWith("ack ")) acked.push(Number(l.split(" ")[1]));
    }

    // Everything the last writer closed with is durable: the follower must get to its last event.
    const final: number[] = [];
    for await (const tx of readCommitted<JsonValue>(dir, { codec: jsonCodec, allowTruncatedHistory: true })) {
      for (const e of tx.events) final.push((e as { i: number }).i);
    }
    const lastEvent = final[final.length - 1] as number;
    await reader.waitFor(
      (l) => l.startsWith("tx ") && Number(l.split(" ")[1]) === lastEvent,
      `delivery of ${lastEvent}`,
    );
    reader.child.kill("SIGTERM");
    expect(await reader.exited).toBe(0);

    const delivered = reader.lines.filter((l) => l.startsWith("tx ")).map((l) => l.split(" ").map(Number));
    expect(reader.lines.filter((l) => l.startsWith("error"))).toEqual([]);
    const events = delivered.map((d) => d[1] as number);
    // Exactly 0, 1, 2, … lastEvent: no gap, no duplicate, in order (the writer continues after what it recovered).
    expect(events).toEqual(Array.from({ length: lastEvent + 1 }, (_, i) => i));
    const lsns = delivered.map((d) => d[2] as number);
    for (let i = 1; i < lsns.length; i++) expect(lsns[i]).toBeGreaterThan(lsns[i - 1] as number);
    // Every acknowledged commit was delivered; the last writer's log agrees with the tail of the deliveries.
    for (const i of acked) expect(events[i]).toBe(i);
    expect(events.slice(-final.length)).toEqual(final);
    expect(kills).toBe(20);
    // Rotation and truncation really happened: the log's oldest retained segment is far from the first.
    const { wal: after } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, allowTruncatedHistory: true });
    expect(after.activeSegmentId()).toBeGreaterThan(20);
    expect(after.oldestSegmentId()).toBeGreaterThan(1);
    await after.close();
  });
});
