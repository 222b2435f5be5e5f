/** The decode-heap recovery study: what `loraCodec` retains per input byte, one child per payload shape. */

import { spawnJob } from "./child-protocol.js";
import type { Options } from "./cli-args.js";
import { log } from "./log.js";
import { HEAP_SHAPE_LABELS, HEAP_SHAPES } from "./recovery.js";
import type { DecodeHeapRow } from "./report.js";
import { spread } from "./stats.js";
import { DECODE_HEAP_REPEATS, DECODE_HEAP_TARGET } from "./workloads.js";

/** Decode heap per input byte: one fresh `--expose-gc` child per payload shape. */
export async function runDecodeHeapStudy(opts: Options): Promise<DecodeHeapRow[]> {
  log(`recovery: loraCodec decode heap per input byte (target ≤ ${DECODE_HEAP_TARGET})`);
  const rows: DecodeHeapRow[] = [];
  for (const shape of HEAP_SHAPES) {
    const res = await spawnJob(
      { kind: "decodeHeap", shape, repeats: DECODE_HEAP_REPEATS },
      opts,
      `decode-heap.${shape}`,
      5 * 60_000,
    );
    if (!res.ok || res.decodeHeap === undefined) {
      const error = res.ok ? "no result" : (res.error.split("\n")[0] ?? res.error);
      log(`  ${shape}: FAILED ${error}`);
      rows.push({
        shape,
        label: HEAP_SHAPE_LABELS[shape],
        recordBytes: 0,
        events: 0,
        bytesPerInputByte: spread([]),
        heapUsedPerInputByte: Number.NaN,
        arrayBuffersPerInputByte: Number.NaN,
        met: null,
        error,
      });
      continue;
    }
    const d = res.decodeHeap;
    const b = spread(d.bytesPerInputByte);
    rows.push({
      shape,
      label: HEAP_SHAPE_LABELS[shape],
      recordBytes: d.recordBytes,
      events: d.events,
      bytesPerInputByte: b,
      heapUsedPerInputByte: spread(d.heapUsedPerInputByte).median,
      arrayBuffersPerInputByte: spread(d.arrayBuffersPerInputByte).median,
      met: b.median <= DECODE_HEAP_TARGET,
    });
    log(
      `  ${shape}: ${b.median.toFixed(2)} bytes retained per input byte (${b.min.toFixed(2)} – ${b.max.toFixed(2)}; ${d.recordBytes} bytes, ${d.events} events) → ${
        b.median <= DECODE_HEAP_TARGET ? "MET" : "NOT MET"
      }`,
    );
  }
  return rows;
}
