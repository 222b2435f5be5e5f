/**
 * What a replay does with damage: classified by the shared damage rules (`damage-rules.ts`, the same the `lora-wal`
 * commands use), recorded for the outcome, and thrown when the recovery mode says so.
 */

import { classifyRecordDamage, type RecordDamageInput } from "./damage-rules.js";
import type { CorruptionInfo, RecoveryMode, ReplayOutcome, TornTailInfo } from "./replay-types.js";

/** The damage a walk found, for its outcome (each `null` while none was found). */
export interface ReplayFindings {
  tornTail: TornTailInfo | null;
  corruption: CorruptionInfo | null;
  headerless: ReplayOutcome["headerlessLastSegment"];
}

/**
 * Damage at `input.step` of the segment at `path`, classified by the shared damage rules: a torn tail or corruption
 * is recorded in `found` and thrown when `mode` says so; a codec mismatch is thrown in every mode.
 */
export async function recordDamage<E>(
  found: ReplayFindings,
  mode: RecoveryMode,
  path: string,
  input: RecordDamageInput<E>,
): Promise<void> {
  const id = input.segmentId;
  const damage = await classifyRecordDamage(input);
  switch (damage.kind) {
    case "torn-tail":
      found.tornTail = {
        segmentPath: path,
        segmentId: id,
        offset: damage.offset,
        fileSize: damage.fileSize,
        droppedBytes: damage.droppedBytes,
        cause: damage.cause,
      };
      if (mode === "absolute") throw damage.error;
      return;
    case "codec-mismatch":
      // Intact bytes read with the wrong codec: never reported as damage, so never cut or moved aside.
      throw damage.error;
    case "corruption":
      found.corruption = {
        segmentPath: path,
        segmentId: id,
        offset: damage.offset,
        error: damage.error,
        validRecordAfter: damage.validRecordAfter,
      };
      if (mode !== "point-in-time") throw damage.error;
      return;
  }
}
