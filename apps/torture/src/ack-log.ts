/**
 * The Tier B acknowledgement log: one JSON line per event, written by the child with `fs.writeSync` to a file
 * outside the WAL directory, so it survives SIGKILL (stdout pipes do not). The parent reads it back.
 */

export type AckLine =
  | { readonly t: "open"; readonly next: number }
  /** About to commit transaction `id` of `n` events. */
  | { readonly t: "intent"; readonly id: string; readonly n: number }
  /** Commit resolved: handed to the OS (`durable` in perCommit). */
  | { readonly t: "acked"; readonly id: string; readonly b: number; readonly c: number; readonly durable: boolean }
  /** Everything up to `upTo` is covered by a resolved fsync. */
  | { readonly t: "durable"; readonly upTo: number }
  | { readonly t: "aborted"; readonly id: string }
  /** A snapshot at `s` exists (logged before the checkpoint marker is written). */
  | { readonly t: "checkpoint"; readonly s: number }
  | { readonly t: "killed"; readonly at: string }
  | { readonly t: "closed" }
  | { readonly t: "lock"; readonly code: string }
  | { readonly t: "error"; readonly message: string };

/** Parse the log; a torn last line (the child died mid-write) is ignored. */
export function parseAckLog(text: string): AckLine[] {
  const out: AckLine[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    try {
      out.push(JSON.parse(line) as AckLine);
    } catch {
      // torn by the kill
    }
  }
  return out;
}

/** An event of transaction `id`: `id:i`, optionally padded (`|` then filler) to make large records. */
export function eventOf(id: string, i: number, pad: number): string {
  return pad > 0 ? `${id}:${i}|${"p".repeat(pad)}` : `${id}:${i}`;
}

/** Split an event back into its transaction id and index. */
export function parseEvent(e: unknown): { id: string; i: number } | null {
  if (typeof e !== "string") return null;
  const m = /^([^:|]+):(\d+)(?:\|p*)?$/.exec(e);
  return m === null ? null : { id: m[1] as string, i: Number(m[2]) };
}
