// Encode and decode throughput of the record framing and codecs, on the built package (`pnpm build` first).
//   node packages/wal-codec/scripts/throughput.mjs
// Prints records/s and MB/s for 100-byte and 4 KiB payloads, with bytesCodec and with loraCodec (a CreateNode whose
// string property carries the payload), encoding into one reused ByteWriter as the writer does.
import { ByteWriter, bytesCodec, decodeRecord, encodeRecordInto } from "@lora/wal-codec";
import { createPropertyMap, loraCodec } from "@lora/wal-codec/lora";

const ROUNDS = 5;
const TARGET_MS = 300;

function loraEvent(size) {
  const properties = createPropertyMap();
  properties.payload = "x".repeat(size);
  properties.n = 42n;
  return { type: "CreateNode", id: 7n, labels: ["Item"], properties };
}

function measure(label, codec, event) {
  const record = { kind: "mutation", lsn: 1, txBeginLsn: 1, event };
  const out = new ByteWriter(1 << 20);
  // Size one record, then fill a buffer with as many as fit in 8 MiB.
  const recordBytes = encodeRecordInto(record, codec, out);
  const count = Math.max(1000, Math.floor((8 << 20) / recordBytes));
  let bestEncode = 0;
  let bestDecode = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let encoded = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < TARGET_MS) {
      out.reset();
      for (let i = 0; i < count; i++) encodeRecordInto(record, codec, out);
      encoded += count;
    }
    bestEncode = Math.max(bestEncode, encoded / ((performance.now() - t0) / 1000));
    const bytes = out.copy();
    let decoded = 0;
    const t1 = performance.now();
    while (performance.now() - t1 < TARGET_MS) {
      for (let at = 0; at < bytes.byteLength; ) {
        const r = decodeRecord(bytes, at, codec);
        if (r.kind !== "record") throw new Error(`decode failed at ${at}: ${r.kind}`);
        at += r.byteLength;
        decoded++;
      }
    }
    bestDecode = Math.max(bestDecode, decoded / ((performance.now() - t1) / 1000));
  }
  const mb = (rate) => ((rate * recordBytes) / 1e6).toFixed(0);
  console.log(
    `${label.padEnd(22)} record ${String(recordBytes).padStart(5)} B   encode ${Math.round(bestEncode).toLocaleString("en").padStart(10)} rec/s ${mb(bestEncode).padStart(5)} MB/s   decode ${Math.round(bestDecode).toLocaleString("en").padStart(10)} rec/s ${mb(bestDecode).padStart(5)} MB/s`,
  );
}

console.log(`node ${process.version}, best of ${ROUNDS} rounds of ${TARGET_MS} ms`);
for (const size of [100, 4096]) {
  measure(`bytes ${size} B`, bytesCodec, new Uint8Array(size).fill(7));
  measure(`lora CreateNode ${size} B`, loraCodec, loraEvent(size));
}
