/**
 * The map of a log's transaction boundaries a fence error's advice is drawn from (`replay-fence.ts`): a second walk
 * over the same plan, lenient and without decoding payloads, which only that error path pays for.
 */

import type { WalFileSystem } from "@lora/wal-segment";
import { framingOnly } from "./framing-only-codec.js";
import type { SpanMap } from "./replay-fence.js";
import { pendingOutcome } from "./replay-outcome.js";
import type { ReplayPlan } from "./replay-plan.js";
import type { ReplayOptions } from "./replay-types.js";
import { ReplayWalk } from "./replay-walk.js";

/** Walk the whole retained log leniently and map its transaction boundaries. */
export async function mapTransactionSpans<E>(
  list: () => Promise<ReplayPlan>,
  fs: WalFileSystem,
  options: ReplayOptions<E>,
): Promise<SpanMap> {
  const { outcome, settle } = pendingOutcome();
  // The caller's progress is the replay's, not this error path's.
  const { onProgress: _notThisWalk, ...quiet } = options;
  const walk = new ReplayWalk<never>(
    list,
    fs,
    { ...quiet, codec: framingOnly, checkpointLsn: 0, allowTruncatedHistory: true, recovery: "point-in-time" },
    "point-in-time",
    settle,
    undefined,
  );
  for (;;) if ((await walk.next()).done) break;
  const o = await outcome;
  return { spans: o.transactionSpans, oldestFence: o.oldestFence };
}
