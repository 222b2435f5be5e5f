// Heap and time cost of decoding LW1 payloads (`loraCodec`): hostile shapes built byte by byte, and realistic
// payloads encoded from events. Runs on the built package:
//   pnpm --filter @lora/wal-codec build
//   node --expose-gc packages/wal-codec/scripts/decode-heap.mjs [--mib 4] [--only regex] [--dist path/to/lora/index.js]
// (it re-runs itself with --expose-gc when started without it). For each payload it prints the input bytes, the JS
// heap the decoded value keeps (heapUsed after minus before a decode, with a full GC on each side and the value
// kept alive), that per input byte, the ArrayBuffer bytes it keeps (outside the JS heap) per input byte, and the
// decode time per input byte. A refused payload shows the error code and what the decode kept (nothing). Heap
// figures are deterministic up to a few KiB; times depend on the machine and are context only.
// When the module given with --dist also exports the decoder's internals (`DecodeBudget`, `decodeLw1EventWithin`,
// `decodeLw1BatchWithin`: a build of an entry that re-exports them), a column shows what the decoder charged to
// its heap budget, which must be at least the heap measured (a row says so when it is not).

import { spawnSync } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";

if (typeof globalThis.gc !== "function") {
  const run = spawnSync(
    process.execPath,
    ["--expose-gc", ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: "inherit" },
  );
  process.exit(run.status ?? 1);
}

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
}

const MIB = Number(option("mib", "4"));
const ONLY = new RegExp(option("only", "."));
const DIST = option("dist", fileURLToPath(new URL("../dist/lora/index.js", import.meta.url)));
const codec = await import(pathToFileURL(DIST).href);
const { createPropertyMap, LoraDate, LoraVector, loraCodec } = codec;
// The `lora` entry leaves ByteWriter to the package root; a --dist module that exports its own is used as it is.
const ByteWriter = codec.ByteWriter ?? (await import(new URL("../dist/index.js", import.meta.url).href)).ByteWriter;
const metered = typeof codec.DecodeBudget === "function";

// ---------- raw LW1 bytes ----------

const MAGIC = [0x4c, 0x57, 0x31, 0x00];
const utf8 = new TextEncoder();

/** Little-endian u64 of a safe integer, as 8 byte values. */
function u64(n) {
  const out = new Array(8);
  let v = BigInt(n);
  for (let i = 0; i < 8; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Byte values of a length-prefixed UTF-8 string. */
function str(s) {
  const b = utf8.encode(s);
  return [...u64(b.length), ...b];
}

/** One Uint8Array from parts: arrays of byte values, Uint8Arrays, or `{ unit, times }` repeats. */
function cat(...parts) {
  let n = 0;
  for (const p of parts) n += p.unit ? p.unit.length * p.times : p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    if (p.unit) {
      const unit = Uint8Array.from(p.unit);
      for (let i = 0; i < p.times; i++, at += unit.length) out.set(unit, at);
    } else {
      out.set(p, at);
      at += p.length;
    }
  }
  return out;
}

const TARGET = Math.round(MIB * 1024 * 1024);
/** How many `unit`s make a payload of about `scale` × the target size. */
const timesFor = (unit, scale = 1) => Math.max(1, Math.floor((TARGET * scale) / unit.length));

/** A single SetNodeProperty event whose value is a list of `times` copies of `unit` (a value's bytes). */
function listOf(unit, scale) {
  const times = timesFor(unit, scale);
  return cat(MAGIC, [3], u64(1), str("k"), [5], u64(times), { unit, times });
}

/** A single SetNodeProperty event with the value bytes `value`. */
const setProperty = (...value) => cat(MAGIC, [3], u64(1), str("k"), ...value);

/** A batch of `times` copies of `unit` (an event's bytes). */
function batchOf(unit, scale) {
  const times = timesFor(unit, scale);
  return cat(MAGIC, u64(times), { unit, times });
}

/** A map value with `n` distinct fixed-width base-36 keys, each holding null. */
function wideMap(scale = 1) {
  const width = 4;
  const entry = 8 + width + 1;
  const n = Math.min(36 ** width, Math.floor((TARGET * scale) / entry));
  const out = [6, ...u64(n)];
  for (let i = 0; i < n; i++) out.push(...str(i.toString(36).padStart(width, "0")), 0);
  return out;
}

/** A CreateConstraint event (PropertyType kind) with the given alternatives' bytes. */
function constraintWith(count, alternatives) {
  const blob = cat(u64(0), [5], u64(count), alternatives, [1], u64(0), u64(0));
  return cat(MAGIC, [15], u64(blob.length), blob, [0]);
}

/** A CreateIndex event whose options map holds one key `o` with the index-config value bytes `value`. */
function indexWithOption(value) {
  const blob = cat([0, 1, 1, 0], u64(0), u64(0), u64(1), str("o"), value);
  return cat(MAGIC, [13], u64(blob.length), blob, [0]);
}

/** A map value of `n` entries, keys `key(i)`, holding null. */
const smallMap = (n, key) => [6, ...u64(n), ...Array.from({ length: n }, (_, i) => [...str(key(i)), 0]).flat()];

/** A map value with keys "0", "1", … holding null. */
function indexMap(scale = 1) {
  const out = [6, 0, 0, 0, 0, 0, 0, 0, 0];
  let n = 0;
  for (let size = 9; size < TARGET * scale; n++) {
    const entry = [...str(String(n)), 0];
    out.push(...entry);
    size += entry.length;
  }
  out.splice(1, 8, ...u64(n));
  return out;
}

const chain = (levels) => [...Array.from({ length: levels }, () => [5, ...u64(1)]).flat(), 0];

// ---------- realistic payloads, encoded by the codec ----------

function encodedBatch(make, scale = 1) {
  const one = new ByteWriter(1 << 16);
  loraCodec.encodeBatch([make(0)], one);
  const times = Math.max(1, Math.floor((TARGET * scale) / (one.length - 12)));
  const events = Array.from({ length: times }, (_, i) => make(i));
  const out = new ByteWriter(TARGET + (1 << 16));
  loraCodec.encodeBatch(events, out);
  return out.copy();
}

function props(entries) {
  const m = createPropertyMap();
  for (const [k, v] of entries) m[k] = v;
  return m;
}

const person = (i) => ({
  type: "CreateNode",
  id: BigInt(i),
  labels: ["Person"],
  properties: props([
    ["name", `user-${i}`],
    ["age", BigInt(20 + (i % 50))],
    ["email", `user${i}@example.com`],
    ["score", i / 7],
    ["active", i % 2 === 0],
    ["tags", ["a", "b"]],
  ]),
});

const embedding = (i) => {
  const values = new Float32Array(384);
  for (let j = 0; j < values.length; j++) values[j] = Math.sin(i + j);
  return { type: "SetNodeProperty", nodeId: BigInt(i), key: "embedding", value: new LoraVector(values) };
};

const longText = (i) => ({
  type: "CreateNode",
  id: BigInt(i),
  labels: ["Doc"],
  properties: props([["body", `${i} ${"lorem ipsum dolor sit amet ".repeat(40)}`]]),
});

const knows = (i) => ({
  type: "CreateRelationship",
  id: BigInt(i),
  src: BigInt(i),
  dst: BigInt(i + 1),
  relType: "KNOWS",
  properties: props([
    ["since", new LoraDate(2020, 1 + (i % 12), 1 + (i % 28))],
    ["weight", 1.5],
  ]),
});

const yearly = (i) => ({
  type: "SetNodeProperty",
  nodeId: BigInt(i),
  key: "sales",
  value: props([
    ["2023", BigInt(i)],
    ["2024", BigInt(i + 1)],
  ]),
});

// ---------- the shapes ----------

const EVENT = (p) => loraCodec.decodeEvent(p);
const BATCH = (p) => loraCodec.decodeBatch(p);
const NAN_BITS = [0x01, 0, 0, 0, 0, 0, 0xf8, 0x7f];
const HALF = [0, 0, 0, 0, 0, 0, 0xe0, 0x3f];
const ascii32 = [...utf8.encode("abcdefghijklmnopqrstuvwxyz012345")];

/** [name, payload builder, decode, kind] */
const SHAPES = [
  ["batch of Clear events", () => batchOf([12]), BATCH],
  ["batch of DeleteNode", () => batchOf([10, ...u64(7)]), BATCH],
  ["batch of empty CreateNode", () => batchOf([1, ...u64(7), ...u64(0), ...u64(0)]), BATCH],
  ["list of nulls", () => listOf([0]), EVENT],
  ["list of empty lists", () => listOf([5, ...u64(0)]), EVENT],
  ["list of empty maps", () => listOf([6, ...u64(0)]), EVENT],
  ['list of {"": null}', () => listOf([6, ...u64(1), ...str(""), 0]), EVENT],
  ['list of {"a": null}', () => listOf([6, ...u64(1), ...str("a"), 0]), EVENT],
  ['list of {"0": null}', () => listOf([6, ...u64(1), ...str("0"), 0]), EVENT],
  ['list of {"1023": null}', () => listOf([6, ...u64(1), ...str("1023"), 0], 0.25), EVENT],
  ['list of {"0": null, "a": null}', () => listOf([6, ...u64(2), ...str("0"), 0, ...str("a"), 0]), EVENT],
  ["map of index keys 0..n", () => setProperty(indexMap()), EVENT],
  ["list of 22-key maps", () => listOf(smallMap(22, (i) => `k${i}`)), EVENT],
  ["list of 22-index-key maps", () => listOf(smallMap(22, (i) => String(i))), EVENT],
  ["list of 11+11 mixed-key maps", () => listOf(smallMap(22, (i) => (i < 11 ? String(i) : `k${i}`))), EVENT],
  ["map of distinct 4-char keys", () => setProperty(wideMap()), EVENT],
  [
    "map of one key repeated",
    () =>
      setProperty([6], u64(timesFor([0, ...u64(0)])), {
        unit: [0, 0, 0, 0, 0, 0, 0, 0, 0],
        times: timesFor([0, ...u64(0)]),
      }),
    EVENT,
  ],
  ["list of 1-char strings", () => listOf([4, ...str("a")]), EVENT],
  ["list of 12-char strings", () => listOf([4, ...u64(12), ...ascii32.slice(0, 12)]), EVENT],
  ["list of 13-char strings", () => listOf([4, ...u64(13), ...ascii32.slice(0, 13)]), EVENT],
  ["list of 32-char strings", () => listOf([4, ...u64(32), ...ascii32]), EVENT],
  ['list of "é"', () => listOf([4, ...str("é")]), EVENT],
  ["list of ints", () => listOf([2, ...u64(5)]), EVENT],
  ["list of floats", () => listOf([3, ...HALF]), EVENT],
  ["list of NaN-payload floats", () => listOf([3, ...NAN_BITS]), EVENT],
  ["list of dates", () => listOf([7, 0xe4, 7, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]), EVENT],
  ["list of local times, fields >= 2^31", () => listOf([9, ...Array(16).fill(0xff)]), EVENT],
  ["list of 2D NaN-payload points", () => listOf([13, ...NAN_BITS, ...NAN_BITS, 0, 0xff, 0xff, 0xff, 0xff]), EVENT],
  ["list of empty binaries", () => listOf([15, ...u64(0)]), EVENT],
  ["list of 1-byte binaries", () => listOf([15, ...u64(1), ...u64(1), 0x41]), EVENT],
  [
    "binary of empty segments",
    () => {
      const t = timesFor(u64(0));
      return setProperty([15], u64(t), { unit: u64(0), times: t });
    },
    EVENT,
  ],
  ["list of empty int8 vectors", () => listOf([14, ...u64(0), 6, ...u64(0)]), EVENT],
  ["list of 1-dim int8 vectors", () => listOf([14, ...u64(1), 6, ...u64(1), 7]), EVENT],
  ["list of 500-deep list chains", () => listOf(chain(500)), EVENT],
  [
    "constraint: Scalar alternatives",
    () => {
      const t = timesFor([1, 1]);
      return constraintWith(t, cat({ unit: [1, 1], times: t }));
    },
    EVENT,
  ],
  [
    "constraint: List^100 alternatives",
    () => {
      const unit = [...Array(100).fill([2, 0]).flat(), 1, 1];
      const t = timesFor(unit);
      return constraintWith(t, cat({ unit, times: t }));
    },
    EVENT,
  ],
  [
    "index options: list of nulls",
    () => {
      const t = timesFor([7]);
      return indexWithOption(cat([5], u64(t), { unit: [7], times: t }));
    },
    EVENT,
  ],
  [
    "index options: list of empty maps",
    () => {
      const unit = [6, ...u64(0)];
      const t = timesFor(unit);
      return indexWithOption(cat([5], u64(t), { unit, times: t }));
    },
    EVENT,
  ],
  ["realistic: CreateNode Person", () => encodedBatch(person), BATCH],
  ["realistic: CreateRelationship", () => encodedBatch(knows), BATCH],
  ["realistic: 1 KiB strings", () => encodedBatch(longText), BATCH],
  ["realistic: float32[384] vectors", () => encodedBatch(embedding), BATCH],
  ['realistic: {"2023","2024"} maps', () => encodedBatch(yearly), BATCH],
];

// ---------- measuring ----------

function fullGc() {
  globalThis.gc();
  globalThis.gc();
}

function measure(payload, decode) {
  const budget = metered ? new codec.DecodeBudget(payload.length) : undefined;
  if (metered) {
    const within = decode === EVENT ? codec.decodeLw1EventWithin : codec.decodeLw1BatchWithin;
    decode = (p) => within(p, budget);
  }
  fullGc();
  const before = process.memoryUsage();
  const t0 = process.hrtime.bigint();
  let outcome = "ok";
  try {
    globalThis.__decoded = decode(payload);
  } catch (e) {
    outcome = e?.code ?? e?.name ?? "error";
    globalThis.__decodeError = e?.message;
  }
  const ns = Number(process.hrtime.bigint() - t0);
  fullGc();
  const after = process.memoryUsage();
  globalThis.__decoded = undefined;
  const heap = after.heapUsed - before.heapUsed;
  return { outcome, heap, buffers: after.arrayBuffers - before.arrayBuffers, ns, charged: budget?.charged };
}

const pad = (s, n) => String(s).padStart(n);
/** Heap deltas move by a few tens of KiB between runs (compiled code, feedback): differences below are noise. */
const NOISE = 128 * 1024;
console.log(`node ${process.version}, ${DIST}`);
console.log(
  `${"payload".padEnd(36)}${pad("input B", 11)}  ${"result".padEnd(10)}${pad("heap B", 13)}${pad("heap/B", 8)}${pad("ab/B", 6)}${pad("µs/B", 7)}${metered ? pad("charged/B", 11) : ""}`,
);
for (const [name, build, decode] of SHAPES) {
  if (!ONLY.test(name)) continue;
  const payload = build();
  const m = measure(payload, decode);
  const per = (x) => (x / payload.length).toFixed(1);
  console.log(
    `${name.padEnd(36)}${pad(payload.length, 11)}  ${m.outcome.padEnd(10)}${pad(m.heap, 13)}${pad(per(m.heap), 8)}${pad(per(m.buffers), 6)}${pad((m.ns / 1000 / payload.length).toFixed(3), 7)}${metered ? `${pad(per(m.charged), 11)}${m.heap > m.charged + NOISE ? "  heap > charged" : ""}` : ""}`,
  );
  if (m.outcome !== "ok") console.log(`    ${globalThis.__decodeError}`);
}
