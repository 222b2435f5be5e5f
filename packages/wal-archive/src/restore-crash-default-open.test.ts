/**
 * Every state a crash at any step of a restore can leave, opened the way a caller opens the restored log (`Wal.open`
 * in the default mode, at the restore's `fromLsn` fence), not only replayed: a restore to an LSN (its newest segment
 * cut there), from a fence, and of the whole archive (a sealed newest segment gets its successor). A state no crash
 * test covered before: the existing ones replay a whole restore and the undo of a failed one. Each state opens with
 * exactly the restored history, or holds no file yet, or is refused `WAL_FENCE_TOO_LOW` (only the newest segments
 * renamed into place so far: never a shorter log that opens as whole), or, holding only `*.restoring` files (none
 * renamed yet), is refused `WAL_MALFORMED` as a restore that did not finish, with nothing changed, and the same
 * restore run again into it gives the whole history; once the restore has resolved, only the whole restored history.
 */

import { Wal } from "@lora/wal";
import { isWalError, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { PIECES_PREFIX } from "./archive-keys.js";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { archivedLog } from "./test-support/archived-log.js";

const DIR = "/r";
const COMMITS = 24;
/** Crash images taken at each file operation of the restore (seeded: the same ones every run). */
const IMAGES_PER_STEP = 6;

type Outcome = "nothing yet" | "unfinished" | "fence too low" | "whole";

/** Every file in the image's directory with its bytes. */
function contents(image: SimFS): string[] {
  return image
    .listSync(DIR)
    .sort()
    .map((n) => `${n}: ${Buffer.from(image.readFileSync(`${DIR}/${n}`)).toString("hex")}`);
}

/**
 * What `Wal.open` in the default mode makes of one crash image, checked against the expected events; an image
 * holding only `*.restoring` files must be refused as is, and `rerun` (the same restore) must then finish it.
 */
async function openImage(
  image: SimFS,
  fence: number,
  expected: JsonValue[],
  at: string,
  rerun: (fs: SimFS) => Promise<unknown>,
): Promise<Outcome> {
  if ((await image.stat(DIR)) === null || image.listSync(DIR).length === 0) return "nothing yet";
  if (!image.listSync(DIR).some((n) => n.endsWith(".wal"))) {
    const before = contents(image);
    expect(
      before.every((n) => /^\d{10}\.wal\.restoring: /.test(n)),
      at,
    ).toBe(true);
    const refused = await Wal.open<JsonValue>(DIR, { fs: image, codec: jsonCodec, checkpointLsn: fence }).then(
      async ({ wal }) => {
        await wal.close();
        return "opened";
      },
      (error: unknown) => error,
    );
    expect(isWalError(refused) ? refused.code : String(refused), at).toBe("WAL_MALFORMED");
    expect((refused as Error).message, at).toContain("run the restore again into this directory to finish it");
    expect(contents(image), at).toEqual(before);
    await rerun(image);
    expect(await openImage(image, fence, expected, `${at}, restored again`, rerun), at).toBe("whole");
    return "unfinished";
  }
  let opened: Awaited<ReturnType<typeof Wal.open<JsonValue>>>;
  try {
    opened = await Wal.open<JsonValue>(DIR, { fs: image, codec: jsonCodec, checkpointLsn: fence });
  } catch (error) {
    expect(isWalError(error) ? error.code : String(error), at).toBe("WAL_FENCE_TOO_LOW");
    return "fence too low";
  }
  expect(opened.events, at).toEqual(expected);
  await opened.wal.commitTx(["after"]);
  await opened.wal.close();
  const again = await Wal.open<JsonValue>(DIR, { fs: image, codec: jsonCodec, checkpointLsn: fence });
  expect(again.events, at).toEqual([...expected, "after"]);
  await again.wal.close();
  return "whole";
}

describe("every crash image of a restore, opened in the default mode", () => {
  for (const variant of ["to an LSN", "from a fence to an LSN", "of the whole archive"] as const) {
    it(`${variant}: the restored history, nothing yet, or a refusal (restoring again finishes it); only the history once resolved`, async () => {
      const source = new SimFS();
      const store = memoryArchive();
      const lsns = await archivedLog(source, store, { commits: COMMITS });
      const events = lsns.map((_, i) => ({ i }));
      const whole = variant === "of the whole archive";
      // The whole archive without the active segment's pieces: its newest segment is sealed and gets a successor.
      if (whole) for (const key of store.keys()) if (key.startsWith(PIECES_PREFIX)) store.remove(key);
      const firstKept = variant === "from a fence to an LSN" ? 5 : 0;
      const fence = firstKept === 0 ? 0 : (lsns[firstKept - 1] as number);

      const sim = SimFS.withDir("/");
      const images: { at: string; fs: SimFS }[] = [];
      const off = sim.onOperation((e) => {
        for (const image of sim.crashImages({ maxImages: IMAGES_PER_STEP, seed: e.seq })) {
          images.push({ at: `after #${e.seq} ${e.op} ${e.path}: ${image.description}`, fs: image.fs });
        }
      });
      const run = (fs: SimFS) =>
        restore({
          store,
          dir: DIR,
          fs,
          ...(whole ? {} : { toLsn: lsns[16] as number }),
          ...(fence === 0 ? {} : { fromLsn: fence }),
        });
      const result = await run(sim);
      off();
      expect(result.successor !== null).toBe(whole);
      const last = lsns.indexOf(result.lastLsn as number);
      if (!whole) expect(last).toBe(16);
      expect(last).toBeGreaterThan(firstKept);
      expect(last).toBeLessThan(COMMITS - 1);
      const expected = events.slice(firstKept, last + 1);
      const outcomes = new Map<Outcome, number>();
      for (const { at, fs } of images) {
        const outcome = await openImage(fs, fence, expected, at, run);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
      // Once resolved, every state a power loss can leave holds the whole restored history.
      for (const image of sim.crashImages({ maxImages: 64, seed: 5 })) {
        expect(await openImage(image.fs, fence, expected, `resolved: ${image.description}`, run)).toBe("whole");
      }
      expect([...outcomes.keys()].sort()).toEqual(["fence too low", "nothing yet", "unfinished", "whole"]);
      expect(outcomes.get("unfinished")).toBeGreaterThan(5);
      expect(images.length).toBeGreaterThan(30);
    });
  }
});
