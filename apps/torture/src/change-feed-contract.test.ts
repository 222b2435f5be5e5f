/**
 * The change feed's contract at the edges tier F exercises: a newest segment whose header is not written yet (a
 * writer creating it, or one that died doing so) and a truncation running while a follower locates its start. Each
 * test is a minimal case of one guarantee of `followDir` or `readCommitted`.
 */

import { followDir, type JsonValue, jsonCodec, readCommitted, Wal } from "@lora/wal";
import { replayDir } from "@lora/wal-replay";
import type { WalFileSystem } from "@lora/wal-segment";
import { interceptOpen, SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";

const DIR = "/w";

/**
 * The state a writer leaves when it dies between creating a segment and writing its header (SIGKILL there, or the
 * header write failing): segment 1 sealed with two commits, segment 2 empty. The same state exists, for a moment,
 * beside a live rotation that creates its segment (`SegmentWriter.create` opens the file, then writes the header):
 * a handle without a spare segment, recovery healing a sealed newest segment, or an older writer.
 */
async function headerlessNewestSegment(): Promise<{ fs: SimFS; commits: number[] }> {
  const fs = new SimFS();
  // Without a spare segment, rotation creates segment 2 and writes its header under its own name (with one, the
  // header is written before the rename and this state cannot arise from a failed write; a crash mid-create or an
  // older writer still leaves it).
  fs.injectFault({ op: "open", path: /\/\.lora-wal\.next-segment\./, errno: "EACCES", persistent: true });
  const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, segmentTargetBytes: 200 });
  fs.injectFault({ op: "write", path: `${DIR}/0000000002.wal`, errno: "EIO" });
  const commits: number[] = [];
  for (let i = 0; i < 10; i++) {
    try {
      commits.push(((await wal.commitTx([`tx${i}`, "x".repeat(60)])) as { commitLsn: number }).commitLsn);
    } catch {
      break; // the rotation's header write failed: the writer is as good as dead
    }
  }
  await wal.close().catch(() => undefined);
  expect(fs.readFileSync(`${DIR}/0000000002.wal`).byteLength).toBe(0);
  return { fs, commits };
}

describe("the change feed at a headerless newest segment and under truncation", () => {
  it("followDir waits at a newest segment with no header yet instead of failing WAL_BAD_HEADER", async () => {
    // Found by tier F (F-sim process crashes inside a rotation; F-proc's live follower beside a rotating writer):
    // CommitFollower opens a sealed segment's successor as soon as it is listed, and SegmentReader.open throws
    // WAL_BAD_HEADER on its empty header. Wal.open (and replayDir) take the same state for a crash while creating
    // the segment and open; the follower should wait for the header (or the writer's recovery), and it loses the
    // sealed segment's durable commits it had queued too.
    const { fs, commits } = await headerlessNewestSegment();
    expect((await replayDirCommits(fs)).length).toBe(commits.length);
    const follower = followDir<JsonValue>(DIR, { codec: jsonCodec, fs, pollIntervalMs: 1 });
    const got: number[] = [];
    try {
      for (const _ of commits) got.push(((await follower.next()).value as { commitLsn: number }).commitLsn);
      // The writer restarts: recovery heals the segment, a new commit follows, and the follower delivers it.
      const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, segmentTargetBytes: 200 });
      const next = await wal.commitTx(["after"]);
      got.push(((await follower.next()).value as { commitLsn: number }).commitLsn);
      await wal.close();
      expect(got).toEqual([...commits, next?.commitLsn]);
    } finally {
      await follower.return();
    }
  });

  it("readCommitted reads a log whose newest segment has no header yet, as replayDir does", async () => {
    // Same state: locateSegment reads every probed segment's base LSN with readBaseLsn, which throws WAL_BAD_HEADER
    // on the empty newest segment; replay's rule for a headerless newest segment is not applied.
    const { fs, commits } = await headerlessNewestSegment();
    const got: number[] = [];
    for await (const tx of readCommitted<JsonValue>(DIR, { codec: jsonCodec, fs })) got.push(tx.commitLsn);
    expect(got).toEqual(commits);
  });

  it("a follower locating its start is not failed by a concurrent truncation of segments it does not need", async () => {
    // Found by tier F (F-proc: the follower, restarting its read after a writer restart, failed WAL_IO ENOENT on
    // a segment the new writer's truncation removed at that moment). locateSegment lists the segments, then reads
    // the headers its binary search probes; a probed segment deleted in between fails the follower with WAL_IO,
    // although the segment it needs (the newest) is there. Here the seam runs the writer's truncation (oldest
    // first) between the listing and the read of segment 7's header.
    const sim = new SimFS();
    const { wal } = await Wal.open<JsonValue>(DIR, { codec: jsonCodec, fs: sim, segmentTargetBytes: 150 });
    for (let i = 0; i < 12; i++) await wal.commitTx([`tx${i}`, "x".repeat(60)]);
    const last = wal.nextLsn() - 1;
    await wal.close();
    expect(sim.listSync(DIR).filter((n) => n.endsWith(".wal"))).toHaveLength(12);
    const follower = followDir<JsonValue>(DIR, {
      codec: jsonCodec,
      fs: truncatingWhileLocating(sim, 7),
      after: last - 3,
      pollIntervalMs: 1,
    });
    try {
      expect(((await follower.next()).value as { commitLsn: number }).commitLsn).toBe(last);
      // The race did happen: segments 1..7 went while the follower located its start.
      expect(sim.listSync(DIR).filter((n) => n.endsWith(".wal"))).toHaveLength(5);
    } finally {
      await follower.return();
    }
  });
});

async function replayDirCommits(fs: SimFS): Promise<number[]> {
  const out: number[] = [];
  for await (const tx of replayDir<JsonValue>(DIR, { codec: jsonCodec, fs })) out.push(tx.commitLsn);
  return out;
}

/** A seam on `sim` that unlinks segments 1..`upTo` (as truncation does, oldest first) just before segment `upTo` is opened. */
function truncatingWhileLocating(sim: SimFS, upTo: number): WalFileSystem {
  let done = false;
  const name = (id: number) => `${DIR}/${String(id).padStart(10, "0")}.wal`;
  return interceptOpen(sim, async (path, mode, open) => {
    if (!done && path === name(upTo)) {
      done = true;
      for (let id = 1; id <= upTo; id++) await sim.unlink(name(id));
      await sim.syncDir(DIR);
    }
    return await open(path, mode);
  });
}
