/**
 * A crash after a restore has written every segment (as `<segment>.restoring`) but before its first rename leaves
 * only `*.restoring` files. That directory is a restore that did not finish, not an empty log: `Wal.open` (in every
 * recovery mode, with or without `allowTruncatedHistory`), `replayDir` and `followDir` refuse it with
 * `WAL_MALFORMED`, saying so and that running the restore again finishes it, and change nothing on disk; a new
 * empty log beside the files would also have made running the restore again refuse the directory as not empty.
 * (From a review: before, `Wal.open` created 0000000001.wal beside them and returned 0 events.)
 */

import { Wal } from "@lora/wal";
import { isWalError, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { followDir, replayDir } from "@lora/wal-replay";
import { type SimFS, wrapFileSystem } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { restore } from "./restore.js";
import { unfinishedRestore } from "./test-support/unfinished-restore.js";

const DIR = "/r";
const ADVICE = "a restore into this directory did not finish";
const RERUN = "run the restore again into this directory to finish it";

const unfinished = () => unfinishedRestore(DIR, 24);

/** Every file in `dir` with its bytes, to show that nothing changed. */
function contents(fs: SimFS): Map<string, string> {
  const out = new Map<string, string>();
  for (const n of fs.listSync(DIR).sort()) out.set(n, Buffer.from(fs.readFileSync(`${DIR}/${n}`)).toString("hex"));
  return out;
}

function expectRefusal(error: unknown, left: number): void {
  if (!isWalError(error)) throw error;
  expect(error.code).toBe("WAL_MALFORMED");
  expect(error.details.path).toBe(DIR);
  expect(error.message).toContain(`${left} segment file(s) named .restoring (0000000001.wal.restoring, `);
  expect(error.message).toContain(ADVICE);
  expect(error.message).toContain(RERUN);
}

it("Wal.open refuses it in every recovery mode, changing nothing; restoring again opens the whole history", async () => {
  const { fs, store, events } = await unfinished();
  const before = contents(fs);
  const left = before.size;
  expect(left).toBeGreaterThan(3);
  for (const recovery of ["tolerate-torn-tail", "absolute", "point-in-time"] as const) {
    for (const allowTruncatedHistory of [false, true]) {
      const opened = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, recovery, allowTruncatedHistory }).then(
        async ({ wal, events: got }) => {
          await wal.close();
          return `opened with ${got.length} events`;
        },
        (error: unknown) => error,
      );
      expectRefusal(opened, left);
      expect(contents(fs)).toEqual(before);
    }
  }

  await restore({ store, dir: DIR, fs });
  expect(fs.listSync(DIR).filter((n) => n.endsWith(".restoring"))).toEqual([]);
  const { wal, events: got } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
  expect(got).toEqual(events);
  await wal.close();
});

it("replayDir refuses it, where it read it as an empty log before; a follower waits on it as on an empty directory and delivers the log once the restore is run again", async () => {
  const { fs, store, events } = await unfinished();
  const before = contents(fs);
  const replayed = await (async () => {
    let n = 0;
    for await (const _ of replayDir<JsonValue>(DIR, { fs, codec: jsonCodec })) n++;
    return `replayed ${n}`;
  })().catch((error: unknown) => error);
  expectRefusal(replayed, before.size);

  // A follower lists the way a restore running into the directory needs: `.restoring` files are a log not there yet.
  // Waited on by its listings of the directory, not by time: after its third, it has looked at least twice.
  let listings = 0;
  let listed: () => void = () => undefined;
  const thirdListing = new Promise<void>((resolve) => {
    listed = () => {
      if (++listings >= 3) resolve();
    };
  });
  const seam = wrapFileSystem(fs, (file) => file, {
    readdir: (path: string) => {
      const names = fs.readdir(path);
      if (path === DIR) listed();
      return names;
    },
  });
  const follower = followDir<JsonValue>(DIR, { fs: seam, codec: jsonCodec, pollIntervalMs: 1 });
  let settled = false;
  const first = follower.next().finally(() => {
    settled = true;
  });
  await Promise.race([thirdListing, first.catch(() => undefined)]);
  expect(settled).toBe(false);
  expect(contents(fs)).toEqual(before);
  await restore({ store, dir: DIR, fs });
  expect((await first).value?.events).toEqual([events[0]]);
  await follower.return();
});
