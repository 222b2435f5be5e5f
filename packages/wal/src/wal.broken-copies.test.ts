/** A torn tail cut at open is kept as a `.broken` copy, and no later cut overwrites an earlier copy. */

import { jsonCodec } from "@lora/wal-codec";
import { segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

describe(".broken copies", () => {
  it("a second cut at the same offset never overwrites the first recovery's .broken copy", async () => {
    const fs = new SimFS();
    fs.mkdirpSync("/w");
    const { wal } = await Wal.open("/w", { fs, codec: jsonCodec });
    await wal.commitTx(["a"]);
    await wal.close();
    const path = segmentPath("/w", 1);
    const copies = new Map<string, number[]>();
    for (const garbage of [
      [1, 2, 3, 4],
      [9, 9],
    ]) {
      fs.writeFileSync(path, Uint8Array.from([...fs.readFileSync(path), ...garbage]));
      const { wal: again, healed } = await Wal.open("/w", { fs, codec: jsonCodec });
      const cut = healed.find((h) => h.kind === "tornTailTruncated");
      if (cut?.kind === "tornTailTruncated" && cut.brokenCopy !== null) copies.set(cut.brokenCopy, garbage);
      await again.close();
    }
    expect(copies.size).toBe(2);
    for (const [copy, garbage] of copies) expect(Array.from(fs.readFileSync(copy))).toEqual(garbage);
  });
});
