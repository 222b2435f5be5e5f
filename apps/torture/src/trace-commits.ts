/**
 * The traced writer's commits in each sync mode, each claim logged as the API makes it (see trace-claims.ts):
 *
 * - perCommit: one commit at a time; `commitTx` resolves after an fdatasync covering it, so each is an `ack`.
 * - group: waves of 3 `commitTx` calls started together. In group mode `commitTx` resolves once the bytes reach the
 *   OS (sync-mode.ts; the background flusher fsyncs later), so each resolution is a `wrote`, and `whenDurable` on
 *   its commit LSN, awaited as each one resolves, gives the `ack`.
 * - none: one commit at a time, each a `wrote`; every 4th commit `sync()` and `synced <durableLsn()>`.
 *
 * A checkpoint (`ckpt <s>` first, then `checkpoint(s)` with truncation) comes before commit `checkpointAt` (or the
 * wave holding it), when it lies in the range.
 */

import type { JsonValue, SyncModeInput, Wal } from "@lora/wal";
import { TRACE_GROUP_INTERVAL_MS, type TraceSyncMode, traceEvents } from "./trace-workload.js";

export type Log = (line: string) => void;

/** The option Wal.open takes for a traced mode. */
export function syncModeOption(mode: TraceSyncMode): SyncModeInput {
  return mode === "group" ? { mode: "group", intervalMs: TRACE_GROUP_INTERVAL_MS } : mode;
}

const GROUP_WAVE = 3;
const NONE_SYNC_EVERY = 4;

async function checkpoint(wal: Wal<JsonValue>, log: Log): Promise<number> {
  const s = wal.safeCheckpointLsn();
  log(`ckpt ${s}`);
  await wal.checkpoint(s);
  return s;
}

async function commit(wal: Wal<JsonValue>, i: number): Promise<number> {
  const info = await wal.commitTx(traceEvents(i));
  if (info === null) throw new Error(`commit ${i} wrote nothing`);
  return info.commitLsn;
}

/**
 * Commits `from` .. `to - 1` in `mode`; returns the last checkpoint's snapshot LSN (or `fence` when none was
 * taken), the fence a reopen needs.
 */
export async function commitRange(
  wal: Wal<JsonValue>,
  mode: TraceSyncMode,
  range: { from: number; to: number; checkpointAt: number; fence: number },
  log: Log,
): Promise<number> {
  let fence = range.fence;
  const step = mode === "group" ? GROUP_WAVE : 1;
  for (let i = range.from; i < range.to; i += step) {
    const wave = Array.from({ length: Math.min(step, range.to - i) }, (_, k) => i + k);
    if (wave.includes(range.checkpointAt)) fence = await checkpoint(wal, log);
    if (mode === "perCommit") {
      log(`ack ${await commit(wal, i)} ${i}`);
    } else if (mode === "none") {
      log(`wrote ${await commit(wal, i)} ${i}`);
      if (i % NONE_SYNC_EVERY === NONE_SYNC_EVERY - 1) {
        await wal.sync();
        log(`synced ${wal.durableLsn()}`);
      }
    } else {
      // Started in one synchronous step, so their LSNs follow the call order unless a rotation holds some back.
      await Promise.all(
        wave.map((k) =>
          commit(wal, k).then(async (lsn) => {
            log(`wrote ${lsn} ${k}`);
            await wal.whenDurable(lsn);
            log(`ack ${lsn} ${k}`);
          }),
        ),
      );
    }
  }
  return fence;
}

/** close() writes and fsyncs what is buffered in every mode: afterwards every record up to `nextLsn - 1` is durable. */
export async function closeDurably(wal: Wal<JsonValue>, log: Log): Promise<void> {
  const last = wal.nextLsn() - 1;
  await wal.close();
  log(`synced ${last}`);
}
