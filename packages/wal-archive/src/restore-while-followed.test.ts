/**
 * A follower started on an empty directory waits for a log. A restore into that directory writes its segments as
 * `.restoring` files before renaming them into place: the follower must go on waiting through that phase and then
 * deliver the restored history, not fail as if the restore had been left unfinished.
 */

import { isWalError, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { followDir } from "@lora/wal-replay";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { archivedLog } from "./test-support/archived-log.js";

const DIR = "/r";

it("a follower waiting on an empty directory delivers what a restore into it writes", async () => {
  const store = memoryArchive();
  await archivedLog(new SimFS(), store, { commits: 24 });
  const fs = new SimFS();
  await fs.mkdirp(DIR);
  const follower = followDir<JsonValue>(DIR, { fs, codec: jsonCodec, pollIntervalMs: 1 });
  const first = follower.next();
  // The restore has a phase with only `.restoring` files in the directory, which the follower's polls meet.
  let opsWithOnlyRestoring = 0;
  const off = fs.onOperation(() => {
    const names = fs.listSync(DIR);
    if (names.length > 0 && names.every((name) => name.endsWith(".restoring"))) opsWithOnlyRestoring++;
  });
  await restore({ store, dir: DIR, fs });
  off();
  expect(opsWithOnlyRestoring).toBeGreaterThan(0);
  const got = await first.then(
    (r) => r.value?.events,
    (error: unknown) => (isWalError(error) ? error.code : error),
  );
  expect(got).toEqual([{ i: 0 }]);
  await follower.return();
});
