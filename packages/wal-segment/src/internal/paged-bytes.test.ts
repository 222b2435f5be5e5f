import { fc, test } from "@fast-check/vitest";
import { expect } from "vitest";
import { PAGE_BYTES, PagedBytes } from "./paged-bytes.js";

type Op =
  | { kind: "write"; at: number; len: number; fill: number }
  | { kind: "truncate"; len: number }
  | { kind: "snap" };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("write" as const),
    at: fc.nat(3 * PAGE_BYTES),
    len: fc.nat(PAGE_BYTES + 100),
    fill: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({ kind: fc.constant("truncate" as const), len: fc.nat(3 * PAGE_BYTES) }),
  fc.record({ kind: fc.constant("snap" as const) }),
);

/** Plain-array model of a file. */
function apply(model: number[], o: Op): number[] {
  if (o.kind === "write") {
    const out = model.slice();
    while (out.length < o.at) out.push(0);
    for (let i = 0; i < o.len; i++) out[o.at + i] = o.fill;
    return out;
  }
  if (o.kind === "truncate") {
    const out = model.slice(0, o.len);
    while (out.length < o.len) out.push(0);
    return out;
  }
  return model;
}

test.prop([fc.array(op, { maxLength: 30 })])("matches a plain array, and snapshots never change", (ops) => {
  const live = new PagedBytes();
  let model: number[] = [];
  const snaps: { bytes: PagedBytes; model: number[] }[] = [];
  for (const o of ops) {
    if (o.kind === "snap") snaps.push({ bytes: live.snapshot(), model });
    else if (o.kind === "write") live.write(new Uint8Array(o.len).fill(o.fill), o.at);
    else live.truncate(o.len);
    model = apply(model, o);
  }
  expect(live.size).toBe(model.length);
  expect(Array.from(live.toUint8Array())).toEqual(model);
  for (const s of snaps) expect(Array.from(s.bytes.toUint8Array())).toEqual(s.model);
});

test.prop([fc.array(op, { maxLength: 30 }), fc.array(op, { maxLength: 30 })])(
  "equals says whether two arrays hold the same bytes, shared pages or not",
  (first, second) => {
    const a = new PagedBytes();
    let modelA: number[] = [];
    for (const o of first) {
      if (o.kind === "snap") continue;
      if (o.kind === "write") a.write(new Uint8Array(o.len).fill(o.fill), o.at);
      else a.truncate(o.len);
      modelA = apply(modelA, o);
    }
    // b starts as a snapshot of a, so it shares pages until the second list writes over them.
    const b = a.snapshot();
    let modelB = modelA;
    for (const o of second) {
      if (o.kind === "snap") continue;
      if (o.kind === "write") b.write(new Uint8Array(o.len).fill(o.fill), o.at);
      else b.truncate(o.len);
      modelB = apply(modelB, o);
    }
    const same = modelA.length === modelB.length && modelA.every((v, i) => v === modelB[i]);
    expect(a.equals(b)).toBe(same);
    expect(b.equals(a)).toBe(same);
    expect(a.equals(PagedBytes.from(Uint8Array.from(modelA)))).toBe(true);
  },
);
