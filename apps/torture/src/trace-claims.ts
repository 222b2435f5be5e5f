/**
 * What the traced writer says about its commits: one line per claim on the ack file, each line one `write(2)`, so
 * the claims land in the trace in order with the seam's own calls.
 *
 * | line                  | claim                                                                           |
 * | --------------------- | ------------------------------------------------------------------------------- |
 * | `ack <lsn> <i>`       | commit i (commit LSN lsn) is durable: perCommit's commitTx, group's whenDurable |
 * | `wrote <lsn> <i>`     | commit i was handed to the OS, nothing more (group and none's commitTx)          |
 * | `synced <lsn>`        | every record at or below lsn is durable (sync() in none mode, close())          |
 * | `kvack <i>`           | the kv-store's put i is durable (everything written before it)                  |
 * | `ckpt <s>`            | the writer's snapshot covers every commit at or below s (the reopen fence)      |
 * | anything else         | a note: `damaged ...`, `sealed ...`, `closed`, `error ...`                       |
 */

export type Claim =
  /** A durable commit; `lsn` null: the kv-store's put, which claims everything written before it. */
  | { readonly kind: "ack"; readonly lsn: number | null; readonly index: number }
  | { readonly kind: "wrote"; readonly lsn: number; readonly index: number }
  | { readonly kind: "synced"; readonly lsn: number }
  | { readonly kind: "ckpt"; readonly s: number }
  | { readonly kind: "note"; readonly text: string };

/** The claims of one write to the ack file (usually one line). */
export function parseClaims(text: string): Claim[] {
  const out: Claim[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const [word, a, b] = line.split(" ");
    const x = Number(a);
    const y = Number(b);
    if (word === "ack" && Number.isSafeInteger(x) && Number.isSafeInteger(y))
      out.push({ kind: "ack", lsn: x, index: y });
    else if (word === "wrote" && Number.isSafeInteger(x) && Number.isSafeInteger(y))
      out.push({ kind: "wrote", lsn: x, index: y });
    else if (word === "synced" && Number.isSafeInteger(x)) out.push({ kind: "synced", lsn: x });
    else if (word === "kvack" && Number.isSafeInteger(x)) out.push({ kind: "ack", lsn: null, index: x });
    else if (word === "ckpt" && Number.isSafeInteger(x)) out.push({ kind: "ckpt", s: x });
    else out.push({ kind: "note", text: line });
  }
  return out;
}

/** Claims change no file: they are in every crash state after them. */
export function isClaim(op: { readonly kind: string }): op is Claim {
  return op.kind === "ack" || op.kind === "wrote" || op.kind === "synced" || op.kind === "ckpt" || op.kind === "note";
}
