/**
 * A consumer confirming every transaction without awaiting each: the calls made while a slot write runs are written
 * together, at their highest position, so 50 confirms cost two writes (four fsyncs), not fifty (a hundred). Each call
 * still resolves only once a position at or above its own is durable (checked on SimFS's durable image at the moment
 * it resolves), the slot never moves back, and a failed write rejects exactly the calls it was to cover.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { followDir } from "./follow-dir.js";
import type { CommittedTransaction } from "./replay-types.js";
import { createSlot, readSlot } from "./replication-slots.js";
import { evenLog, writeSimLog } from "./test-support/sim-log.js";

const DIR = "/log";
const SLOT_FILE = `${DIR}/slots/s.slot`;
const COUNT = 50;

/** A log of {@link COUNT} one-event transactions on `fs`, a slot `s` at 0, and all of them delivered from it. */
async function delivered(fs: SimFS) {
  await writeSimLog(fs, DIR, evenLog(1, COUNT));
  await createSlot(DIR, "s", { fs });
  const stop = new AbortController();
  const follower = followDir<JsonValue>(DIR, {
    codec: jsonCodec,
    fs,
    slot: "s",
    watch: false,
    durability: "written",
    signal: stop.signal,
  });
  const txs: CommittedTransaction<JsonValue>[] = [];
  for await (const t of follower) {
    txs.push(t);
    if (txs.length === COUNT) stop.abort();
  }
  return { follower, txs };
}

/** The fsyncs SimFS has counted (files and directories). */
function fsyncs(fs: SimFS): number {
  const { syncs, datasyncs, dirSyncs } = fs.stats;
  return syncs + datasyncs + dirSyncs;
}

/** The confirmed LSN the slot file holds now in `fs` (its volatile state), or -1 before it exists. */
function slotPositionIn(fs: SimFS): number {
  const names = fs.listSync(`${DIR}/slots`);
  if (!names.includes("s.slot")) return -1;
  const bytes = fs.readFileSync(SLOT_FILE);
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
}

describe("confirm calls made while a slot write runs", () => {
  it("are written together: 50 confirms cost 4 fsyncs, and the slot ends at the last", async () => {
    const fs = new SimFS();
    const { follower, txs } = await delivered(fs);
    const before = fsyncs(fs);
    await Promise.all(txs.map((t) => follower.confirm(t)));
    // The first call writes at once (a temporary file's fsync, the directory's); the 49 made during it, once.
    expect(fsyncs(fs) - before).toBe(4);
    const last = txs.at(-1) as CommittedTransaction<JsonValue>;
    expect(await readSlot(DIR, "s", { fs })).toMatchObject({
      confirmedLsn: last.commitLsn,
      restartLsn: last.restartLsn,
    });
  });

  it("each resolve, in call order, once a crash keeps a position at or above theirs; the slot never moves back", async () => {
    const fs = new SimFS();
    const { follower, txs } = await delivered(fs);
    const positions: number[] = [];
    const stopWatching = fs.onOperation(() => {
      positions.push(slotPositionIn(fs));
    });
    const resolved: number[] = [];
    await Promise.all(
      txs.map((t) =>
        follower.confirm(t).then(async () => {
          resolved.push(t.commitLsn);
          // Taken when the call resolves, before anything else runs: what a power loss now leaves for certain.
          const slot = await readSlot(DIR, "s", { fs: fs.durableImage() });
          expect(slot.confirmedLsn, `confirm(${t.commitLsn})`).toBeGreaterThanOrEqual(t.commitLsn);
          expect(slot.restartLsn).toBeGreaterThanOrEqual(t.restartLsn);
        }),
      ),
    );
    stopWatching();
    expect(resolved).toEqual(txs.map((t) => t.commitLsn));
    expect(positions.length).toBeGreaterThan(0);
    for (let i = 1; i < positions.length; i++) {
      expect(positions[i], `after operation ${i}`).toBeGreaterThanOrEqual(positions[i - 1] as number);
    }
    // Every crash image of the end state holds the last position (all of it was synced).
    const last = (txs.at(-1) as CommittedTransaction<JsonValue>).commitLsn;
    for (const image of fs.crashImages()) {
      expect((await readSlot(DIR, "s", { fs: image.fs })).confirmedLsn, image.description).toBe(last);
    }
  });

  it("a failed write rejects every call it was to cover, and the calls after it are written", async () => {
    const fs = new SimFS();
    const { follower, txs } = await delivered(fs);
    // The second slot write fails at its temporary file's fsync.
    fs.injectFault({ op: "sync", path: /\/slots\/s\.slot\..*\.tmp$/, skip: 1, errno: "EIO" });
    const outcomes = await Promise.allSettled(txs.slice(0, 10).map((t) => follower.confirm(t)));
    // The first call's write went through; the nine made during it were one write, which failed.
    expect(outcomes[0]?.status).toBe("fulfilled");
    for (const outcome of outcomes.slice(1)) {
      expect(outcome.status).toBe("rejected");
      expect((outcome as PromiseRejectedResult).reason).toMatchObject({ code: "WAL_IO" });
    }
    expect((await readSlot(DIR, "s", { fs })).confirmedLsn).toBe(txs[0]?.commitLsn);
    // A failure does not stop the calls after it.
    const last = txs.at(-1) as CommittedTransaction<JsonValue>;
    await Promise.all(txs.slice(10).map((t) => follower.confirm(t)));
    expect((await readSlot(DIR, "s", { fs })).confirmedLsn).toBe(last.commitLsn);
  });

  it("a call below an earlier one is refused whether that one is written yet or not, and changes nothing", async () => {
    const fs = new SimFS();
    const { follower, txs } = await delivered(fs);
    const at = (index: number) => txs[index] as CommittedTransaction<JsonValue>;
    const [low, high] = [at(9), at(19)];
    // After the higher call resolved: the slot refuses to move back.
    await follower.confirm(high);
    await expect(follower.confirm(low)).rejects.toMatchObject({ code: "WAL_INVALID_ARGUMENT" });
    // While a higher call is still being written (and while one waits behind it): the same answer.
    const [higher, highest] = [at(29), at(39)];
    const running = follower.confirm(higher);
    const waiting = follower.confirm(highest);
    const behindRunning = follower.confirm(at(24));
    const behindWaiting = follower.confirm(at(34));
    await expect(behindRunning).rejects.toMatchObject({
      code: "WAL_INVALID_ARGUMENT",
      details: { lsn: at(24).commitLsn },
    });
    await expect(behindWaiting).rejects.toMatchObject({
      code: "WAL_INVALID_ARGUMENT",
      details: { lsn: at(34).commitLsn },
    });
    await Promise.all([running, waiting]);
    expect(await readSlot(DIR, "s", { fs })).toMatchObject({ confirmedLsn: highest.commitLsn });
  });
});
