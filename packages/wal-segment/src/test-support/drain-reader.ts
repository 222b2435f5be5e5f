import { bytesCodec } from "@lora/wal-codec";
import type { SegmentReader } from "../segment-reader.js";

/** The LSNs a reader gives until its first step that is not a record, and how that step ended (`end` or the reason). */
export async function drain(reader: SegmentReader): Promise<{ lsns: number[]; last: string }> {
  const lsns: number[] = [];
  for (;;) {
    const step = await reader.next(bytesCodec);
    if (step.kind !== "record") return { lsns, last: step.kind === "damaged" ? step.reason : "end" };
    lsns.push(step.record.lsn);
  }
}
