/**
 * What to do about a verdict's damage, printed under it (`next`) and given as `verdict.next` in `--json`: the advice
 * `Wal.open` adds to its refusals, in the words `@lora/wal-replay` keeps for both, for the damage `Wal.open` refuses.
 */

import { POINT_IN_TIME_REMEDY, RESTORE_REMEDY } from "@lora/wal-replay";
import type { Verdict } from "./verdict.js";

/**
 * The next step for a verdict of corruption, a bad header or malformed structure; `null` for the others, whose
 * message says what happens already (a torn tail or headerless newest segment: opening cuts or removes it; a codec
 * mismatch: the codecs to try; a fence refused: a fence that works) or that need none (clean).
 */
export function nextStep(verdict: Verdict): string | null {
  switch (verdict.status) {
    case "corruption":
      return `Wal.open refuses it in its default recovery modes: ${POINT_IN_TIME_REMEDY}, and keep those files (they hold the records after the damage); or ${RESTORE_REMEDY}`;
    case "bad-header": {
      const file = verdict.segment ?? "the file";
      return `Wal.open refuses it in every recovery mode: if ${file} is no segment of this log, move it out of the directory; if it is, ${RESTORE_REMEDY}`;
    }
    case "malformed":
      return verdict.code === "WAL_MALFORMED" ? `Wal.open refuses it in every recovery mode: ${RESTORE_REMEDY}` : null;
    default:
      return null;
  }
}
