/**
 * A point-in-time recovery of corruption in a sealed segment copies the bytes it cuts to a `.broken` file, renames
 * every later segment to `<name>.broken`, fsyncs the directory, cuts the segment and creates its successor. A crash
 * at any step of that (a state no crash test covered before: the torn-tail heal is crash-tested, this cut with moves
 * is not) must lose no byte (each is still in its segment or whole in a `.broken` file) and must leave a directory
 * that the same recovery opens with the same history, after which the default mode opens it too.
 */

import { isWalError, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";
/** Crash images taken at each file operation of the recovery (seeded: the same ones every run). */
const IMAGES_PER_STEP = 8;

function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

/** Whether some file of the image's directory holds exactly `bytes`. */
function someFileHolds(image: SimFS, bytes: Uint8Array): boolean {
  return image.listSync(DIR).some((name) => same(image.readFileSync(`${DIR}/${name}`), bytes));
}

it.each([
  { cut: "a tail of under 4 KiB, cut in one step", segmentTargetBytes: 1024, commits: 60, pad: 40, cuts: 1 },
  // More than 4 KiB of data past the damage: the cut goes to 4 KiB past it first, fsynced, then to the damage.
  { cut: "a tail of over 4 KiB, cut in two steps", segmentTargetBytes: 16_384, commits: 200, pad: 400, cuts: 2 },
])(
  "a crash at any step of a point-in-time cut with later segments moved ($cut) loses no byte and recovers the same history",
  async ({ segmentTargetBytes, commits, pad, cuts }) => {
    const fs = SimFS.withDir(DIR);
    const { wal: first } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, segmentTargetBytes });
    for (let i = 0; i < commits; i++) await first.commitTx([`event ${i} ${"x".repeat(pad)}`]);
    await first.close();
    const segments = fs
      .listSync(DIR)
      .filter((n) => n.endsWith(".wal"))
      .sort();
    expect(segments.length).toBeGreaterThan(4);
    // A flipped byte in the middle of segment 2, which is sealed: corruption, not a torn tail.
    const damaged = segmentPath(DIR, 2);
    const bytes = fs.readFileSync(damaged);
    bytes[600] = (bytes[600] as number) ^ 0xff;
    fs.writeFileSync(damaged, bytes);
    const original = new Map(segments.map((n) => [n, fs.readFileSync(`${DIR}/${n}`)]));

    const images: { at: string; fs: SimFS }[] = [];
    let truncates = 0;
    const off = fs.onOperation((e) => {
      if (e.op === "truncate" && e.path === damaged) truncates++;
      for (const image of fs.crashImages({ maxImages: IMAGES_PER_STEP, seed: e.seq })) {
        images.push({ at: `after #${e.seq} ${e.op} ${e.path}: ${image.description}`, fs: image.fs });
      }
    });
    const options = { codec: jsonCodec, recovery: "point-in-time", unsyncedWindowBytes: 4096 } as const;
    const { wal, events: kept, healed } = await Wal.open<JsonValue>(DIR, { fs, ...options });
    off();
    await wal.close();
    expect(truncates, "truncations of the damaged segment").toBe(cuts);
    expect(healed.map((h) => h.kind)).toEqual(["corruptionCut", "sealedSegmentSucceeded"]);
    const cut = healed[0];
    if (cut?.kind !== "corruptionCut") throw new Error("expected a corruption cut");
    expect(cut.laterSegmentsMoved.length).toBe(segments.length - 2);
    const tail = bytes.subarray(cut.offset);

    let refusedByDefault = 0;
    for (const { at, fs: image } of images) {
      // No byte lost: the cut tail in the segment or whole in a copy; each later segment under its name or moved.
      const segment = image.readFileSync(damaged);
      const inSegment = segment.byteLength === bytes.byteLength && same(segment.subarray(cut.offset), tail);
      expect(inSegment || someFileHolds(image, tail), `${at}: the cut tail`).toBe(true);
      for (const name of segments.slice(2)) {
        expect(someFileHolds(image, original.get(name) as Uint8Array), `${at}: ${name}`).toBe(true);
      }
      // The default mode either refuses (the damage may still be there) or recovers the same history.
      try {
        const { wal: plain, events } = await Wal.open<JsonValue>(DIR, { fs: image.clone(), codec: jsonCodec });
        expect(events, `${at}: default mode`).toEqual(kept);
        await plain.close();
      } catch (error) {
        // The damage still there: the default mode refuses it as corruption, nothing else.
        expect(isWalError(error, "WAL_CORRUPT"), `${at}: ${String(error)}`).toBe(true);
        refusedByDefault++;
      }
      // The same recovery again: the same history, and then the default mode opens it with nothing left to heal.
      const again = await Wal.open<JsonValue>(DIR, { fs: image, ...options });
      expect(again.events, at).toEqual(kept);
      await again.wal.commitTx(["after"]);
      await again.wal.close();
      const plain = await Wal.open<JsonValue>(DIR, { fs: image, codec: jsonCodec });
      expect(plain.events, at).toEqual([...kept, "after"]);
      expect(plain.healed, at).toEqual([]);
      await plain.wal.close();
    }
    expect(images.length).toBeGreaterThan(20);
    expect(refusedByDefault).toBeGreaterThan(0);
  },
);
