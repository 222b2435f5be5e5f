/**
 * A `put` with `crc32` checks the checksum in slices, a turn of the event loop between them: a signal can abort
 * during that check. The call then rejects with the signal's reason, whether the checksum matched (nothing is written
 * or sent) or not (the refusal the check found is not what the caller hears: it has abandoned the call), for
 * `fsArchive` and `s3Archive` alike (the `ArchiveCallOptions.signal` contract).
 */

import type { S3Client } from "@aws-sdk/client-s3";
import { crc32 } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import type { ArchiveStore } from "./archive-store.js";
import { CRC_SLICE_BYTES } from "./crc32-in-slices.js";
import { fsArchive } from "./fs-archive.js";
import { s3Archive } from "./s3-archive.js";
import { rejectionOf } from "./test-support/abort-reasons.js";

/** Three slices: the checksum yields twice. */
const BYTES = new Uint8Array(2 * CRC_SLICE_BYTES + 1).fill(5);
const RIGHT = crc32(BYTES) >>> 0;
const WRONG = (RIGHT ^ 1) >>> 0;

/** Start a put of `BYTES` with `crc`, abort it once the checksum has begun (its first slice done), and what it rejected with. */
async function abortedDuringChecksum(
  store: ArchiveStore,
  crc: number,
): Promise<{ reason: unknown; rejected: unknown }> {
  const controller = new AbortController();
  const reason = new DOMException("stopped", "AbortError");
  const put = rejectionOf(store.put("segments/b", BYTES, { crc32: crc, signal: controller.signal }));
  controller.abort(reason); // the put is awaiting its checksum's first turn of the event loop
  return { reason, rejected: await put };
}

describe.each([
  ["matches", RIGHT],
  ["does not match", WRONG],
] as const)("an abort during a put's checksum that %s", (_, crc) => {
  it("fsArchive rejects with the reason and writes nothing", async () => {
    const sim = new SimFS();
    const store = fsArchive("/archive", { fs: sim });
    await store.put("segments/a", new Uint8Array([1]));
    const writes = sim.stats.writes;
    const { reason, rejected } = await abortedDuringChecksum(store, crc);
    expect(rejected).toBe(reason);
    expect(sim.stats.writes).toBe(writes);
    expect(await store.list()).toEqual([{ key: "segments/a", size: 1 }]);
  });

  it("s3Archive rejects with the reason and sends nothing", async () => {
    let sent = 0;
    const client = {
      send() {
        sent++;
        return Promise.resolve({});
      },
    };
    const store = s3Archive({ client: client as unknown as S3Client, bucket: "b", prefix: "p" });
    const { reason, rejected } = await abortedDuringChecksum(store, crc);
    expect(rejected).toBe(reason);
    expect(sent).toBe(0);
  });
});
