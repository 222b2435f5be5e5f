/**
 * `cutFile` is public, and it trusted `dataEnd` and `offset` unchecked. A `NaN` data end (a caller's arithmetic gone
 * wrong) failed `dataEnd > step` and cut 96 KiB of data in one step, the unsafe direction; `isZeroRange` and
 * `dataEndOf` refuse NaN for exactly this reason ("NaN would read nothing and answer 'zeros'"). An offset past the
 * file's end lengthened the file.
 */

import { describe, expect, it } from "vitest";
import { cutFile } from "./cut-file.js";
import { SimFS } from "./testing/sim-fs.js";

const SIZE = 100_000;

/** Cut a 100,000-byte file of data as told; what came of it, and the file-changing ops it ran. */
async function attempt(offset: number, dataEnd?: number): Promise<{ outcome: string; changes: string[] }> {
  const sim = SimFS.withDir("/w");
  sim.writeFileSync("/w/f", new Uint8Array(SIZE).fill(1));
  const changes: string[] = [];
  sim.onOperation((e) => {
    if (e.op === "truncate" || e.op === "write") changes.push(e.op);
  });
  const file = await sim.open("/w/f", "readWrite");
  const outcome = await cutFile(file, offset, { durable: true, dataEnd }).then(
    () => "cut",
    (error: { code?: string }) => String(error.code),
  );
  await file.close();
  expect(sim.readFileSync("/w/f").byteLength).toBe(outcome === "cut" ? offset : SIZE);
  return { outcome, changes };
}

describe("cutFile's arguments", () => {
  it.each([Number.NaN, -1, 4000.5, Number.POSITIVE_INFINITY, 2 ** 53])(
    "a dataEnd of %s is refused with WAL_INVALID_ARGUMENT, the file untouched (NaN cut data in one step)",
    async (dataEnd) => {
      expect(await attempt(4000, dataEnd)).toEqual({ outcome: "WAL_INVALID_ARGUMENT", changes: [] });
    },
  );

  it.each([Number.NaN, -1, 4000.5, Number.POSITIVE_INFINITY])(
    "an offset of %s is refused with WAL_INVALID_ARGUMENT, the file untouched",
    async (offset) => {
      expect(await attempt(offset)).toEqual({ outcome: "WAL_INVALID_ARGUMENT", changes: [] });
    },
  );

  it("an offset past the file's end is refused, the file not lengthened", async () => {
    expect(await attempt(SIZE + 1)).toEqual({ outcome: "WAL_INVALID_ARGUMENT", changes: [] });
  });

  it("an offset at the file's end, or a true dataEnd, cuts as before", async () => {
    expect((await attempt(SIZE)).outcome).toBe("cut");
    expect(await attempt(4000, SIZE)).toEqual({ outcome: "cut", changes: ["truncate", "truncate"] });
  });
});
