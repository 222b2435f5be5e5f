/**
 * Tier F (real processes): the lines the writer child and the follower child log, one JSON object per line, written
 * with `fs.writeSync` to files outside the log directory (they survive SIGKILL; stdout pipes do not).
 */

/** What the parent sends a writer when its cycle starts. */
export interface WriterConfig {
  readonly cycle: number;
  /** The checkpoint fence to open at. */
  readonly fence: number;
  readonly mode: "perCommit" | "group";
  /** Operations per concurrent writer before a clean close; 0: until killed. */
  readonly ops: number;
  readonly writers: number;
  /** Kill itself after this many acknowledgements (0: never). */
  readonly killAfterAcks: number;
  /** `WAL_FAILPOINTS` syntax. */
  readonly failpoints: string;
  readonly bug: "none" | "truncate-ignoring-slots";
}

/** What the writer child logs. */
export type WriterLine =
  | { readonly t: "open"; readonly next: number }
  /** About to commit transaction `id` of `n` events. */
  | { readonly t: "intent"; readonly id: string; readonly n: number }
  /**
   * Transaction `id` is durable at begin `b`, commit `c`: `commitTx` resolved, or (`low`) a low-level transaction's
   * commit was followed by `whenDurable`.
   */
  | { readonly t: "acked"; readonly id: string; readonly b: number; readonly c: number; readonly low?: true }
  /** A low-level transaction that is aborted (it must never be delivered). */
  | { readonly t: "aborted"; readonly id: string }
  /** About to checkpoint at `s` (the snapshot exists before its marker is written). */
  | { readonly t: "checkpoint"; readonly s: number }
  /** A segment was sealed (a rotation). */
  | { readonly t: "rot"; readonly id: number }
  /** Truncation removed `n` segments. */
  | { readonly t: "rm"; readonly n: number }
  /** Planted bug `truncate-ignoring-slots`: segments unlinked behind the handle's back. */
  | { readonly t: "raw-unlink"; readonly n: number; readonly fence: number }
  | { readonly t: "killed"; readonly at: string }
  | { readonly t: "closed" }
  | { readonly t: "error"; readonly message: string };

/** What the follower child logs. */
export type FollowerLine =
  /** Started from its slot's confirmed LSN. */
  | { readonly t: "start"; readonly from: number }
  /** Delivered a transaction (summarised as in follow-history.ts). */
  | {
      readonly t: "d";
      readonly b: number;
      readonly c: number;
      readonly id: string;
      readonly n: number;
      readonly whole: boolean;
    }
  /** `confirm(c)` resolved: the slot is durably at `c`. */
  | { readonly t: "c"; readonly c: number }
  | { readonly t: "error"; readonly code: string; readonly message: string };

/** Parse a log; a torn last line (the process died mid-write) is skipped. */
export function parseLines<T>(text: string): T[] {
  const out: T[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // torn by the kill
    }
  }
  return out;
}
