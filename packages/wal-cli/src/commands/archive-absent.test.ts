/**
 * `lora-wal archive ls` describes the ids missing between two listed segments as runs: it used to list every id, so
 * an object keyed far above the others (a damaged or hostile key) made its output, text and JSON alike, grow with
 * that id (a gap of 2 million printed 16.9 MB; one near 2^53 never finished). Counted (runs, characters), not timed.
 */

import { type ArchiveObjectInfo, type ArchiveStore, archiveKey } from "@lora/wal-archive";
import { expect, it } from "vitest";
import { describeArchive } from "./archive.js";

/** A store that only lists: `describeArchive` reads nothing but the keys. */
function listingOnly(ids: readonly number[]): ArchiveStore {
  const objects: ArchiveObjectInfo[] = ids.map((id, i) => ({
    key: archiveKey({ kind: "segment", id, baseLsn: 1 + i * 100, size: 4096, crc32: 0x1234abcd }),
    size: 4096,
  }));
  const refuse = () => Promise.reject(new Error("not used"));
  return {
    name: "listing-only",
    put: refuse,
    get: refuse,
    delete: refuse,
    list: (prefix = "") => Promise.resolve(objects.filter((o) => o.key.startsWith(prefix))),
  };
}

it("missing ids are runs, one per gap in the listing, however many ids a gap spans", async () => {
  const far = 2 ** 53 - 2;
  const listing = await describeArchive(listingOnly([1, 2, 4, 9, far]));
  expect(listing.totals.absent).toEqual([
    { from: 3, to: 3 },
    { from: 5, to: 8 },
    { from: 10, to: far - 1 },
  ]);
  expect(listing.totals.absentCount).toBe(1 + 4 + (far - 10));
  expect(JSON.stringify(listing).length).toBeLessThan(4096);
});

it("a listing without gaps has no runs", async () => {
  const listing = await describeArchive(listingOnly([5, 6, 7]));
  expect(listing.totals.absent).toEqual([]);
  expect(listing.totals.absentCount).toBe(0);
});
