/**
 * Restore checks that each segment follows the one before it (a base LSN above that one's records), as replay
 * requires, before anything becomes visible: an archive whose segment starts at or below the previous one's last
 * record is refused with `WAL_ARCHIVE_CORRUPT` naming the object, and the target is left as it was.
 */

import { crc32 } from "@lora/wal-codec";
import { decodeSegmentHeader, encodeSegmentHeader } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { archiveKey, parseArchiveKey } from "./archive-keys.js";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { archivedLog } from "./test-support/archived-log.js";

it("a sealed segment whose base LSN is not above the previous segment's last record is refused, nothing written", async () => {
  const fs = new SimFS();
  const store = memoryArchive();
  await archivedLog(fs, store, { commits: 20 });
  const sealed = (await store.list("segments/")).map((o) => o.key).sort();
  expect(sealed.length).toBeGreaterThanOrEqual(3);
  const three = parseArchiveKey(sealed[2] as string);
  if (three?.kind !== "segment") throw new Error("not a sealed segment key");
  // Segment 3 with its header saying base lsn one lower: the last record of segment 2. Its own records still lie
  // above that base, and key and header agree, so only the check against segment 2 can tell.
  const bytes = (store.peek(sealed[2] as string) as Uint8Array).slice();
  const baseLsn = three.baseLsn - 1;
  bytes.set(encodeSegmentHeader({ baseLsn, sealed: true, flags: decodeSegmentHeader(bytes).flags }), 0);
  store.remove(sealed[2] as string);
  const key = archiveKey({ ...three, baseLsn, crc32: crc32(bytes) >>> 0 });
  await store.put(key, bytes);

  const failure = await restore({ store, dir: "/r", fs }).then(
    () => null,
    (error: unknown) => error,
  );
  expect(failure).toMatchObject({ code: "WAL_ARCHIVE_CORRUPT", details: { object: key } });
  expect((failure as Error).message).toContain("not above segment 2");
  expect(await fs.stat("/r")).toBeNull();
});
