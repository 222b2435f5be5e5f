import { isWalError } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { archiveKey, parseArchiveKey } from "./archive-keys.js";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { archivedLog } from "./test-support/archived-log.js";
import { verifyArchive } from "./verify-archive.js";

it("restore to a toLsn past the last chosen segment refuses a next segment whose key lies about its base", async () => {
  const fs = new SimFS();
  const store = memoryArchive();
  await archivedLog(fs, store);
  // Re-key segment 2 with a base LSN far above its real one (same bytes, size and CRC-32).
  const seg2 = (await store.list("segments/"))
    .map((o) => ({ key: o.key, k: parseArchiveKey(o.key) }))
    .find((x) => x.k?.id === 2);
  if (seg2 === undefined || seg2.k?.kind !== "segment") throw new Error("no sealed segment 2");
  const bytes = store.peek(seg2.key) as Uint8Array;
  store.remove(seg2.key);
  const rekeyed = archiveKey({ ...seg2.k, baseLsn: 1000 });
  await store.put(rekeyed, bytes, { crc32: seg2.k.crc32 });
  expect((await verifyArchive(store)).problems.length).toBeGreaterThan(0); // the archive is damaged

  // A record inside segment 2: by the keys, segment 1 is the last one and toLsn lies past its records.
  const toLsn = seg2.k.baseLsn + 2;
  const failure = await restore({ store, dir: "/r", toLsn, fs }).then(
    () => null,
    (error: unknown) => error,
  );
  expect(isWalError(failure, "WAL_ARCHIVE_CORRUPT")).toBe(true);
  expect((failure as { details: { object?: string; lsn?: number } }).details).toMatchObject({
    object: rekeyed,
    lsn: toLsn,
  });
  expect(await fs.stat("/r")).toBeNull(); // the directory the refused restore made is removed too

  // A toLsn inside segment 1 does not depend on segment 2's key: it restores.
  await restore({ store, dir: "/s", toLsn: seg2.k.baseLsn - 1, fs });
});
