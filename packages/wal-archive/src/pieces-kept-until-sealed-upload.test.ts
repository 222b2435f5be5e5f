/**
 * The pieces of the active segment stay in the store until the segment's sealed object is in: while its upload
 * fails, they are the only copy of the records shipped from that segment, and a restore or verification then still
 * finds every record archived before the seal.
 */

import { describe, expect, it } from "vitest";
import { PIECES_PREFIX, SEGMENTS_PREFIX } from "./archive-keys.js";
import { liveArchive } from "./test-support/live-archive.js";
import { verifyArchive } from "./verify-archive.js";

describe("a sealed segment's upload failing", () => {
  it("leaves the segment's pieces in the store, so nothing archived before is missing", async () => {
    const { store, wal, archiver } = await liveArchive();
    const archived = archiver.status().archivedLsn;
    expect(archived).toBe(wal.fsyncedLsn());
    const pieces = store.keys().filter((k) => k.startsWith(PIECES_PREFIX));
    expect(pieces.length).toBeGreaterThan(0);

    const outage = store.injectFault({ op: "put", key: SEGMENTS_PREFIX, times: Number.POSITIVE_INFINITY });
    const segments = (await wal.segments()).length;
    for (let i = 0; i < 50 && (await wal.segments()).length === segments; i++) await wal.commitTx([{ more: i }]);
    expect((await wal.segments()).length).toBe(segments + 1);
    for (let turn = 0; turn < 10_000 && outage.hits === 0; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(outage.hits).toBeGreaterThan(0);

    const report = await verifyArchive(store);
    expect(report.problems).toEqual([]);
    expect(report.lastLsn).toBeGreaterThanOrEqual(archived);
    expect(store.keys().filter((k) => k.startsWith(PIECES_PREFIX))).toEqual(pieces);

    outage.cancel();
    await archiver.stop();
    await wal.close();
  });
});
