/**
 * The archiver creates its slot again when it finds it dropped, at the position it wants (just below the oldest
 * segment the archive lacks). createSlot refuses an explicit position the log no longer holds (WAL_TRUNCATED): when
 * truncation has gone past that position (the archiver's hold was given up, a gap the archive counts), the slot is
 * created without a position instead, so it holds back the whole log again until the next advance moves it.
 */

import { readSlot } from "@lora/wal-replay";
import { encodeSegmentHeader, segmentFileName } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { ArchiveSlot } from "./archive-slot.js";

const DIR = "/log";

/** A log truncated below LSN 101 (its oldest segment starts there) that ends at 199. */
function truncatedLog(): SimFS {
  const fs = new SimFS();
  fs.mkdirpSync(DIR);
  fs.writeFileSync(`${DIR}/${segmentFileName(2)}`, encodeSegmentHeader({ baseLsn: 101, sealed: true }));
  fs.writeFileSync(`${DIR}/${segmentFileName(3)}`, encodeSegmentHeader({ baseLsn: 200, sealed: false }));
  return fs;
}

it("creates its dropped slot again when the position it wants is gone to truncation, and moves it on", async () => {
  const fs = truncatedLog();
  const slot = new ArchiveSlot(DIR, "archive", fs);
  await slot.advance(50);
  expect(await readSlot(DIR, "archive", { fs })).toMatchObject({ confirmedLsn: 0, invalidated: null });
  expect(slot.problem).toBeNull();
  await slot.advance(150);
  expect(await readSlot(DIR, "archive", { fs })).toMatchObject({ confirmedLsn: 150 });
  await slot.look();
  expect(slot.problem).toBeNull();
});

it("creates it again at the position it wants when the log still holds it", async () => {
  const fs = truncatedLog();
  const slot = new ArchiveSlot(DIR, "archive", fs);
  await slot.advance(120);
  expect(await readSlot(DIR, "archive", { fs })).toMatchObject({ confirmedLsn: 120 });
  expect(slot.written).toBe(120);
});
