/**
 * `Wal.open` of a directory a restore left part-way (a crash while it renamed its segments into place, newest first)
 * is refused `WAL_FENCE_TOO_LOW`, and the refusal says what the directory shows: the restore did not finish, so the
 * older history is not gone but not in place yet; opening at the fence the error names would leave it out, and
 * running the restore again brings it back. A log that starts late for another reason gets the general wording,
 * which claims no restore.
 */

import { Wal } from "@lora/wal";
import { isWalError, type JsonValue, jsonCodec, type WalError } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { archivedLog } from "./test-support/archived-log.js";

const DIR = "/r";
const UNFINISHED = "a restore into this directory did not finish";
const GENERAL = "opening at a higher fence leaves out the records before it";

async function refusal(fs: SimFS, fence = 0): Promise<WalError | null> {
  const opened = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, checkpointLsn: fence }).then(
    async ({ wal }) => {
      await wal.close();
      return null;
    },
    (error: unknown) => error,
  );
  if (opened !== null && !isWalError(opened)) throw opened;
  return opened;
}

it("every crash image refused WAL_FENCE_TOO_LOW says the restore did not finish; restoring again opens it whole", async () => {
  const source = new SimFS();
  const store = memoryArchive();
  const lsns = await archivedLog(source, store, { commits: 24 });
  const sim = SimFS.withDir("/");
  const images: { at: string; fs: SimFS }[] = [];
  const off = sim.onOperation((e) => {
    if (e.op !== "rename") return;
    for (const image of sim.crashImages({ maxImages: 6, seed: e.seq })) {
      images.push({ at: `after #${e.seq} ${e.op} ${e.path}: ${image.description}`, fs: image.fs });
    }
  });
  await restore({ store, dir: DIR, fs: sim, toLsn: lsns[16] as number });
  off();

  let refused = 0;
  let unfinished = 0;
  let last: SimFS | undefined;
  for (const { at, fs } of images) {
    if ((await fs.stat(DIR)) === null || fs.listSync(DIR).length === 0) continue;
    if (!fs.listSync(DIR).some((n) => n.endsWith(".wal"))) {
      // Crashed before its first rename reached the disk: only .restoring files, refused as a restore not finished.
      const error = await refusal(fs);
      expect(error?.code, at).toBe("WAL_MALFORMED");
      expect(error?.message, at).toContain(`${UNFINISHED} (it had not renamed them into place)`);
      expect(error?.message, at).toContain("run the restore again into this directory to finish it");
      unfinished++;
      continue;
    }
    const error = await refusal(fs);
    if (error === null) continue;
    refused++;
    last = fs;
    expect(error.code, at).toBe("WAL_FENCE_TOO_LOW");
    const left = fs.listSync(DIR).filter((n) => n.endsWith(".restoring"));
    expect(left.length, at).toBeGreaterThan(0);
    expect(error.message, at).toContain(
      `; ${UNFINISHED} (${left.length} segment file(s) still named .restoring: ${left.sort().slice(0, 5).join(", ")}`,
    );
    expect(error.message, at).toContain("running the restore again brings them back");
    expect(error.message, at).not.toContain(GENERAL);
    // The advice is added once, after the fence the log can serve.
    expect(error.message.split(UNFINISHED).length, at).toBe(2);
    expect(error.message.indexOf("the lowest fence it can serve is"), at).toBeLessThan(
      error.message.indexOf(UNFINISHED),
    );
  }
  expect(refused).toBeGreaterThan(3);
  expect(unfinished).toBeGreaterThan(0);

  // What it says works: emptied and restored again, the directory opens with the whole history.
  const fs = last as SimFS;
  for (const name of fs.listSync(DIR)) await fs.unlink(`${DIR}/${name}`);
  await restore({ store, dir: DIR, fs, toLsn: lsns[16] as number });
  const { wal, events } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
  expect(events).toEqual(lsns.slice(0, 17).map((_, i) => ({ i })));
  await wal.close();
});

it("a log that starts late with no sign of a restore gets the general wording, which claims none", async () => {
  const source = new SimFS();
  const store = memoryArchive();
  await archivedLog(source, store, { commits: 24 });
  const fs = new SimFS();
  await restore({ store, dir: DIR, fs });
  // As a crash while a failed restore removed its segments (oldest first) can leave it: no .restoring file.
  const oldest = fs
    .listSync(DIR)
    .filter((n) => n.endsWith(".wal"))
    .sort()[0] as string;
  await fs.unlink(`${DIR}/${oldest}`);
  const error = await refusal(fs);
  expect(error?.code).toBe("WAL_FENCE_TOO_LOW");
  expect(error?.message).toContain(
    `; ${GENERAL}: do so only with a snapshot taken there or later (if this directory was being restored from an archive, emptying it and restoring into it again brings them back)`,
  );
  expect(error?.message).not.toContain(UNFINISHED);
});
