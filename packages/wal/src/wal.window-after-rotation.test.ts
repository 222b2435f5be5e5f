/**
 * The unsynced window bounds what a power loss can take from the active segment (and how far recovery must look for a
 * torn tail): at no time may more than `unsyncedWindowBytes` of it be written and not fdatasynced. It holds in every
 * segment, also in those a rotation made, from a spare or created on the spot.
 */

import { bytesCodec } from "@lora/wal-codec";
import { isSpareSegmentName, parseSegmentId } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

const WINDOW = 4096;

describe("the unsynced window", () => {
  for (const preallocateBytes of [0, 8192]) {
    it(`holds in every segment a rotation makes (none mode, preallocateBytes ${preallocateBytes})`, async () => {
      const fs = SimFS.withDir("/w");
      const { wal } = await Wal.open<Uint8Array>("/w", {
        fs,
        codec: bytesCodec,
        syncMode: "none",
        unsyncedWindowBytes: WINDOW,
        segmentTargetBytes: 3 * WINDOW,
        preallocateBytes,
      });
      let worst = 0;
      const off = fs.onOperation((event) => {
        const name = event.path.slice("/w/".length);
        if (event.op !== "write" || isSpareSegmentName(name) || parseSegmentId(name) === undefined) return;
        // Written and not fdatasynced: the bytes where the page cache and the durable image differ.
        const image = fs.durableImage();
        // A rotation's writes before the new name is durable (nothing is appended to the segment until it is).
        if (!image.listSync("/w").includes(name)) return;
        const written = fs.readFileSync(event.path);
        const durable = image.readFileSync(event.path);
        // From the first byte that differs to the last one that differs and is not zero: a zero-filled region
        // ahead of the records (preallocation) is not what the window bounds.
        const first = written.findIndex((byte, i) => byte !== (durable[i] ?? -1));
        let end = first;
        for (let i = first; first >= 0 && i < written.byteLength; i++) {
          if (written[i] !== 0 && written[i] !== (durable[i] ?? -1)) end = i + 1;
        }
        if (first >= 0) worst = Math.max(worst, end - first);
      });
      // Each commit about a third of a kilobyte, never fsynced by the mode: only the window and rotation sync.
      for (let i = 0; i < 120; i++) await wal.commitTx([new Uint8Array(300).fill(i)]);
      off();
      expect(wal.activeSegmentId()).toBeGreaterThanOrEqual(3);
      expect(worst).toBeGreaterThan(0);
      expect(worst).toBeLessThanOrEqual(WINDOW);
      await wal.close();
    });
  }
});
