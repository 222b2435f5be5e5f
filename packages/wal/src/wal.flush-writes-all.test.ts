/**
 * `flush()` in `group` and `none` modes writes everything appended so far before it resolves: also a lone record
 * one LSN above what was last written (a `begin` after a commit).
 */

import { bytesCodec, decodeRecord } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

/** The LSNs of the records the live segment file holds (written to the OS, synced or not). */
function writtenLsns(fs: SimFS): number[] {
  const bytes = fs.readFileSync("/w/0000000001.wal");
  const lsns: number[] = [];
  for (let at = 32; at < bytes.byteLength; ) {
    const r = decodeRecord(bytes, at, bytesCodec);
    if (r.kind !== "record") break;
    lsns.push(r.record.lsn);
    at += r.byteLength;
  }
  return lsns;
}

describe("flush", () => {
  for (const syncMode of ["none", { mode: "group", intervalMs: 60_000 }] as const) {
    it(`in ${typeof syncMode === "string" ? syncMode : syncMode.mode} mode writes the one record after the last written`, async () => {
      const fs = new SimFS();
      fs.mkdirpSync("/w");
      const { wal } = await Wal.open("/w", { fs, codec: bytesCodec, syncMode });
      const info = await wal.commitTx([new Uint8Array([1])]);
      expect(writtenLsns(fs).at(-1)).toBe(info?.commitLsn);
      const beginLsn = await wal.begin();
      await wal.flush();
      expect(writtenLsns(fs).at(-1)).toBe(beginLsn);
      await wal.commit(beginLsn);
      await wal.close();
    });
  }
});
