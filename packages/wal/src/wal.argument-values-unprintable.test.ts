/**
 * An argument of a handle's call with no printable form is refused with the call's documented code like any other
 * bad value, nothing written, and the handle stays usable. The refusals printed it with `String()`, which throws a
 * `TypeError` for a null-prototype object and rethrows a `toString` that throws, so the caller got an uncoded error
 * instead.
 */

import { expectEachRefused as expectRefused, UNPRINTABLE_VALUES as UNPRINTABLE } from "@lora/test-utils";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

async function openLog() {
  const fs = SimFS.withDir("/w");
  const { wal } = await Wal.open<JsonValue>("/w/log", { fs, codec: jsonCodec });
  await wal.commitTx([{ n: 1 }]);
  return wal;
}

describe("a handle's call with an argument that has no printable form", () => {
  it("checkpointMarker, checkpoint, whenDurable and truncateUpTo: WAL_INVALID_ARGUMENT", async () => {
    const wal = await openLog();
    const next = wal.nextLsn();
    await expectRefused("WAL_INVALID_ARGUMENT", (v) => wal.checkpointMarker(v as number));
    await expectRefused("WAL_INVALID_ARGUMENT", (v) => wal.checkpoint(v as number));
    await expectRefused("WAL_INVALID_ARGUMENT", (v) => wal.whenDurable(v as number));
    await expectRefused("WAL_INVALID_ARGUMENT", (v) => wal.truncateUpTo(v as number));
    expect(wal.nextLsn()).toBe(next);
    await wal.commitTx([{ n: 2 }]);
    await wal.close();
  });

  it("append, appendBatch, commit and abort: WAL_TX_NOT_OPEN", async () => {
    const wal = await openLog();
    const next = wal.nextLsn();
    await expectRefused("WAL_TX_NOT_OPEN", (v) => wal.append(v as number, { n: 2 }));
    await expectRefused("WAL_TX_NOT_OPEN", (v) => wal.appendBatch(v as number, [{ n: 2 }]));
    await expectRefused("WAL_TX_NOT_OPEN", (v) => wal.commit(v as number));
    await expectRefused("WAL_TX_NOT_OPEN", (v) => wal.abort(v as number));
    expect(wal.nextLsn()).toBe(next);
    await wal.close();
  });

  it("follow's after and durability: WAL_INVALID_OPTION", async () => {
    const wal = await openLog();
    await expectRefused("WAL_INVALID_OPTION", (v) => wal.follow({ after: v as number }));
    await expectRefused("WAL_INVALID_OPTION", (v) => wal.follow({ durability: v as "durable" }));
    await wal.close();
  });

  it("a retain hold's position() returning one: truncateUpTo refuses WAL_INVALID_ARGUMENT, the handle usable", async () => {
    const wal = await openLog();
    for (const [label, value] of UNPRINTABLE) {
      const release = wal.retain("hold", () => value as number);
      await expect(wal.truncateUpTo(3), label).rejects.toMatchObject({
        name: "WalError",
        code: "WAL_INVALID_ARGUMENT",
      });
      release();
    }
    await wal.commitTx([{ n: 2 }]);
    await wal.close();
  });
});
