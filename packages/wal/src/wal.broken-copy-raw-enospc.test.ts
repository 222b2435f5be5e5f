/**
 * A file system of the caller's own (the `fs` option) may fail the `.broken` copy of a torn tail with the error Node
 * itself throws (`code: "ENOSPC"`, no `WAL_IO` wrapping): that is still "no room", read by `errnoOf`, so the tail
 * (never acknowledged) is cut without a copy and the report says why, as for the seam's own `WAL_IO`.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { segmentPath } from "@lora/wal-segment";
import { boundProperty, interceptOpen, SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";

it("a raw Node ENOSPC from the copy's write cuts the torn tail without a copy and leaves no .broken file", async () => {
  const sim = new SimFS();
  sim.mkdirpSync(DIR);
  const first = await Wal.open<JsonValue>(DIR, { fs: sim, codec: jsonCodec });
  for (let i = 0; i < 3; i++) await first.wal.commitTx([`event ${i}`]);
  await first.wal.close();
  const path = segmentPath(DIR, 1);
  const bytes = sim.readFileSync(path);
  sim.writeFileSync(path, new Uint8Array([...bytes, ...new Uint8Array(300).fill(0xab)]));

  let refusedWrites = 0;
  const fs = interceptOpen(sim, async (p, mode, next) => {
    const file = await next(p, mode);
    if (!p.endsWith(".broken")) return file;
    return new Proxy(file, {
      get(target, key) {
        if (key === "writeSync") return undefined;
        if (key !== "write") return boundProperty(target, key);
        return () => {
          refusedWrites++;
          const error = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
          return Promise.reject(error);
        };
      },
    });
  });
  const { wal, events, healed } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
  await wal.close();
  expect(refusedWrites).toBe(1);
  expect(events).toEqual(["event 0", "event 1", "event 2"]);
  expect(healed).toEqual([
    {
      kind: "tornTailTruncated",
      segment: path,
      offset: bytes.byteLength,
      droppedBytes: 300,
      brokenCopy: null,
      copyError: "ENOSPC",
    },
  ]);
  expect(sim.listSync(DIR).filter((f) => f.includes("broken"))).toEqual([]);
});
