/**
 * The `--json` form of the reports of `inspect`, `verify` and `stat`: the report as the function returns it, with
 * every key of the verdict, of the codec and of each segment's damage present whatever the log's state, `null`
 * where it does not apply. The functions leave such keys out (`verdict.segment` of a clean log); a script reading
 * the JSON would otherwise meet a key set that changes with the state it is checking.
 */

import { nextStep } from "../next-step.js";
import type { CodecUse } from "../read-options.js";
import type { SegmentDamage } from "../scan/scan-segments.js";
import type { Verdict } from "../verdict.js";

/** A {@link Verdict} with all its keys, `null` where it has none, and the {@link nextStep} for its damage. */
export function verdictJson(v: Verdict): Record<string, unknown> {
  return {
    status: v.status,
    exitCode: v.exitCode,
    segment: v.segment ?? null,
    segmentPath: v.segmentPath ?? null,
    offset: v.offset ?? null,
    lsn: v.lsn ?? null,
    code: v.code ?? null,
    message: v.message,
    next: nextStep(v),
  };
}

/** A {@link CodecUse} with `fallback` always present (`null` unless the log was read framing only as a fallback). */
export function codecUseJson(c: CodecUse): Record<string, unknown> {
  return { name: c.name, framingOnly: c.framingOnly, source: c.source, fallback: c.fallback ?? null };
}

/** A segment's damage with `validRecordAfter` and `lsn` always present. */
export function segmentDamageJson(d: SegmentDamage): Record<string, unknown> {
  return {
    kind: d.kind,
    offset: d.offset,
    code: d.code,
    message: d.message,
    bytesAfter: d.bytesAfter,
    validRecordAfter: d.validRecordAfter ?? null,
    lsn: d.lsn ?? null,
  };
}

/**
 * The report of `inspect`, `verify` or `stat` as its `--json` document: `verdict` and `codec` with every key, and
 * for `inspect` its `lockError` (`null` unless the lock is `unknown` or `invalid`) and, in its list of segments, each
 * one's `id` (`null` for a file whose name is no segment id) and damage.
 */
export function reportJson(report: {
  readonly verdict: Verdict;
  readonly codec: CodecUse;
  readonly segments?: unknown;
  readonly lock?: unknown;
}): Record<string, unknown> {
  const out: Record<string, unknown> = { ...report, codec: codecUseJson(report.codec) };
  // inspect's: why the lock state is unknown or invalid.
  if ("lock" in report) out.lockError = (report as { lockError?: string }).lockError ?? null;
  if (Array.isArray(report.segments)) {
    out.segments = report.segments.map((s: { id?: number; damage: SegmentDamage | null }) => ({
      ...s,
      id: s.id ?? null,
      damage: s.damage === null ? null : segmentDamageJson(s.damage),
    }));
  }
  out.verdict = verdictJson(report.verdict);
  return out;
}
