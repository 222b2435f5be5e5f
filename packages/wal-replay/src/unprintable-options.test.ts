/**
 * An option with no printable form is refused `WAL_INVALID_OPTION` like any other bad value, at the call. The
 * refusals printed it with `String()` or a template literal, which throw a `TypeError` for a null-prototype object
 * (and a symbol, in a template) and rethrow a `toString` that throws; `replayDir` also did arithmetic on `after` and
 * `restartLsn` before checking them (a `TypeError` for a bigint). The caller got an uncoded error instead.
 */

import { expectEachRefused as expectRefused } from "@lora/test-utils";
import { jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, it } from "vitest";
import { followDir } from "./follow-dir.js";
import { readCommitted } from "./read-committed.js";
import { replayDir, replaySegments } from "./replay.js";
import type { SlotState } from "./replication-slots.js";
import { planRetention } from "./retention-plan.js";

const REPLAY_OPTIONS = [
  "recovery",
  "checkpointLsn",
  "after",
  "upto",
  "uptoLsn",
  "scanFrom",
  "unsyncedWindowBytes",
  "allowTruncatedHistory",
  "signal",
] as const;

describe("unprintable options are refused WAL_INVALID_OPTION", () => {
  it("replayDir and replaySegments, at the call", async () => {
    const fs = SimFS.withDir("/w");
    for (const option of REPLAY_OPTIONS) {
      await expectRefused("WAL_INVALID_OPTION", (v) => replayDir("/w", { fs, codec: jsonCodec, [option]: v }));
      await expectRefused("WAL_INVALID_OPTION", (v) => replaySegments([], { fs, codec: jsonCodec, [option]: v }));
    }
    await expectRefused("WAL_INVALID_OPTION", (v) =>
      replayDir("/w", { fs, codec: jsonCodec, after: 3, restartLsn: v as number }),
    );
  });

  it("followDir, at the call", async () => {
    const fs = SimFS.withDir("/w");
    for (const option of ["after", "durability", "pollIntervalMs", "selfSyncAfterMs", "watch", "signal"]) {
      await expectRefused("WAL_INVALID_OPTION", (v) => followDir("/w", { fs, codec: jsonCodec, [option]: v }));
    }
    await expectRefused("WAL_INVALID_OPTION", (v) =>
      followDir("/w", { fs, codec: jsonCodec, restartLsn: v as number }),
    );
  });

  it("readCommitted, at the first step", async () => {
    const fs = SimFS.withDir("/w");
    for (const option of ["after", "upto", "restartLsn", "signal"]) {
      await expectRefused("WAL_INVALID_OPTION", (v) =>
        readCommitted("/w", { fs, codec: jsonCodec, after: 2, [option]: v }).next(),
      );
    }
  });
});

describe("planRetention with a slot name that has no printable form", () => {
  const segments = [
    { id: 1, path: "/w/1.wal", baseLsn: 1, bytes: 1000 },
    { id: 2, path: "/w/2.wal", baseLsn: 100, bytes: 1000 },
    { id: 3, path: "/w/3.wal", baseLsn: 200, bytes: 10 },
  ];
  const base = { segments, fenceLsn: 250, keepFromId: 3, maxSlotRetainedBytes: 10 };
  const slot = (name: unknown, confirmedLsn: number) =>
    ({ name, confirmedLsn, restartLsn: 2, createdAtMs: 0, invalidated: null }) as unknown as SlotState;

  it("refuses bad LSNs beside it WAL_INVALID_ARGUMENT", async () => {
    await expectRefused("WAL_INVALID_ARGUMENT", (name) => planRetention({ ...base, slots: [slot(name, -1)] }));
  });

  it("refuses it WAL_INVALID_ARGUMENT: a slot name is a string, and truncation would invalidate the slot by it", async () => {
    await expectRefused("WAL_INVALID_ARGUMENT", (name) => planRetention({ ...base, slots: [slot(name, 1)] }));
  });
});
