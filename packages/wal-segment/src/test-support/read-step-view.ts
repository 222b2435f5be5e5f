/**
 * A read step as plain data, for tests that compare two ways of reading the same bytes: everything a caller could
 * tell apart (the record, or the damage's reason, code, message, details and `frameValid`), nothing that differs by
 * object identity.
 */

import type { ReadStep } from "../segment-reader.js";

/** What {@link readStepView} keeps of a step. */
export interface ReadStepView {
  readonly kind: string;
  readonly offset?: number;
  readonly record?: unknown;
  readonly reason?: string;
  readonly code?: string;
  readonly message?: string;
  readonly frameValid?: boolean;
  readonly details?: unknown;
}

/** `step` as plain data (see {@link ReadStepView}). */
export function readStepView<E>(step: ReadStep<E>): ReadStepView {
  if (step.kind === "record") return { kind: "record", offset: step.offset, record: step.record };
  if (step.kind === "end") return { kind: "end" };
  return {
    kind: "damaged",
    offset: step.offset,
    reason: step.reason,
    code: step.error.code,
    message: step.error.message,
    frameValid: step.frameValid,
    details: step.error.details,
  };
}
