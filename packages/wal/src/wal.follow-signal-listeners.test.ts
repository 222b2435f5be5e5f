/**
 * `wal.follow` stops listening to the caller's signal once the follower ends: a store that starts a follower per
 * subscriber with its one shutdown signal used to keep an "abort" listener (and the ended follower) per follower
 * on that signal for the life of the process.
 */

import { getEventListeners } from "node:events";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { Wal } from "./wal.js";

const FOLLOWERS = 1000;

it(`${FOLLOWERS} followers of one handle, each stopped by a break, leave no listener on the shared signal`, async () => {
  const fs = SimFS.withDir("/w");
  const { wal } = await Wal.open<JsonValue>("/w", { fs, codec: jsonCodec });
  await wal.commitTx(["a"]);
  const stop = new AbortController();
  for (let i = 0; i < FOLLOWERS; i++) {
    for await (const tx of wal.follow({ signal: stop.signal })) {
      expect(tx.commitLsn).toBe(3);
      break;
    }
  }
  expect(getEventListeners(stop.signal, "abort")).toHaveLength(0);
  await wal.close();
  expect(fs.stats.opens - fs.stats.closes).toBe(0);
});
