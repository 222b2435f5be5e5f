/** The one-line judgement every command reports, and how damage found by a walk maps onto it. */

import type { WalErrorCode } from "@lora/wal-codec";
import { ExitCode } from "./exit-codes.js";
import type { SegmentScan } from "./scan/scan-segments.js";

/** The state of a log, worst first found. */
export interface Verdict {
  /**
   * - `clean`: nothing wrong;
   * - `torn-tail`: the only damage is at the end of the newest segment (or the newest segment has no header);
   * - `corruption`: damage replay will not repair (mid-log, followed by valid data, or an undecodable record);
   * - `malformed`: every record is intact but the structure breaks a rule (LSN order, transaction bracketing,
   *   segment base LSNs);
   * - `bad-header`: a segment header is unreadable (or the file is not a segment at all).
   */
  readonly status: "clean" | "torn-tail" | "corruption" | "malformed" | "bad-header";
  /** 0, 1 or 2: see {@link ExitCode}. */
  readonly exitCode: 0 | 1 | 2;
  /** File name of the first bad segment. */
  readonly segment?: string;
  /** Its path. */
  readonly segmentPath?: string;
  /** Where the damage starts in it (0 for a header). */
  readonly offset?: number;
  /** The LSN involved, when known. */
  readonly lsn?: number;
  /** The most specific error code (e.g. `WAL_CRC_MISMATCH`, `WAL_TORN_TAIL`, `WAL_MALFORMED`). */
  readonly code?: WalErrorCode;
  readonly message: string;
}

export const CLEAN: Verdict = { status: "clean", exitCode: ExitCode.OK, message: "no damage found" };

/** Exit code of a verdict status. */
export function exitCodeOf(status: Verdict["status"]): 0 | 1 | 2 {
  if (status === "clean") return ExitCode.OK;
  return status === "torn-tail" ? ExitCode.TORN_TAIL : ExitCode.DAMAGED;
}

/** The verdict of a segment walk: its first damage (a torn tail can only be the last). */
export function verdictFromScans(scans: readonly SegmentScan[]): Verdict {
  for (const scan of scans) {
    const damage = scan.damage;
    if (damage === null) continue;
    const status: Verdict["status"] =
      damage.kind === "torn-tail" || damage.kind === "headerless"
        ? "torn-tail"
        : damage.kind === "bad-header"
          ? "bad-header"
          : "corruption";
    return {
      status,
      exitCode: exitCodeOf(status),
      segment: scan.name,
      segmentPath: scan.path,
      offset: damage.offset,
      code: damage.code,
      message: damage.message,
    };
  }
  return CLEAN;
}
