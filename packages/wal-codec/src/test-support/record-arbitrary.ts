/** A fast-check arbitrary for whole WAL records of every kind (test support; not exported from the package). */

import { fc } from "@fast-check/vitest";
import type { WalRecord } from "../record.js";

/** Any safe LSN. */
export const anyLsn = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });

/** Records of every kind with events drawn from `event`; batches hold 1 to `maxBatch` events. */
export function recordArbitrary<E>(
  event: fc.Arbitrary<E>,
  { lsn = anyLsn, maxBatch = 4 }: { lsn?: fc.Arbitrary<number>; maxBatch?: number } = {},
): fc.Arbitrary<WalRecord<E>> {
  return fc.oneof(
    fc.record({ kind: fc.constant("mutation" as const), lsn, txBeginLsn: lsn, event }),
    fc.record({
      kind: fc.constant("mutationBatch" as const),
      lsn,
      txBeginLsn: lsn,
      events: fc.array(event, { minLength: 1, maxLength: maxBatch }),
    }),
    fc.record({ kind: fc.constant("txBegin" as const), lsn }),
    fc.record({ kind: fc.constant("txCommit" as const), lsn, txBeginLsn: lsn }),
    fc.record({ kind: fc.constant("txAbort" as const), lsn, txBeginLsn: lsn }),
    fc.record({ kind: fc.constant("checkpoint" as const), lsn, snapshotLsn: lsn }),
  );
}
