/**
 * A crash during the open that heals a crash: the repairs recovery makes (a torn tail cut after its `.broken` copy, a
 * headerless newest segment removed and created again, a sealed newest segment given its successor, the recovered
 * tail rewritten and fsynced) write, rename and unlink, and a second power loss can land at any of those steps.
 * Tier A opens each crash image once and never crashes that open; the torn-tail heal has a unit test of its own, the
 * other repairs had none. Here the crash images of a workload that rotates through tiny segments are each opened
 * with crash images taken at every step of that healing open: every one of them must open in the default mode with
 * exactly the history the healing open recovered (a repair never changes the history), and take a commit.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";
/** Crash images of the workload per file operation, and of each healing open per file operation (seeded). */
const OUTER_IMAGES = 6;
const INNER_IMAGES = 6;
/** At most this many distinct healing opens are crashed: the bound of the test's work. */
const MAX_HEALS = 60;

function imageKey(fs: SimFS): string {
  return fs
    .listSync(DIR)
    .map((name) => {
      const bytes = fs.readFileSync(`${DIR}/${name}`);
      return `${name}:${Buffer.from(bytes).toString("base64")}`;
    })
    .join("|");
}

it("every crash image of an open that heals a crash opens in the default mode with the history it recovered", async () => {
  const fs = SimFS.withDir(DIR);
  const outer: { at: string; fs: SimFS }[] = [];
  const off = fs.onOperation((e) => {
    for (const image of fs.crashImages({ maxImages: OUTER_IMAGES, seed: e.seq })) {
      outer.push({ at: `after #${e.seq} ${e.op} ${e.path}: ${image.description}`, fs: image.fs });
    }
  });
  // Small commits rotate through the tiny segments; every third one spans several 512-byte sectors, so a crash can
  // tear it.
  const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, segmentTargetBytes: 1024 });
  for (let i = 0; i < 9; i++) await wal.commitTx([`event ${i} ${"x".repeat(i % 3 === 2 ? 1400 : 40)}`]);
  await wal.close();
  off();

  const seen = new Set<string>();
  const kinds = new Map<string, number>();
  let heals = 0;
  let inner = 0;
  for (const { at, fs: image } of outer) {
    if (heals >= MAX_HEALS) break;
    const key = imageKey(image);
    if (seen.has(key)) continue;
    seen.add(key);
    // What the healing open recovers, on a copy; only images whose open repairs something are crashed again.
    const probe = await Wal.open<JsonValue>(DIR, { fs: image.clone(), codec: jsonCodec });
    await probe.wal.close();
    if (probe.healed.length === 0) continue;
    heals++;
    const kind = probe.healed.map((h) => h.kind).join("+");
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);

    const during: { at: string; fs: SimFS }[] = [];
    const stop = image.onOperation((e) => {
      for (const second of image.crashImages({ maxImages: INNER_IMAGES, seed: e.seq })) {
        during.push({
          at: `${at} / healing (${kind}), after #${e.seq} ${e.op} ${e.path}: ${second.description}`,
          fs: second.fs,
        });
      }
    });
    const healing = await Wal.open<JsonValue>(DIR, { fs: image, codec: jsonCodec });
    stop();
    await healing.wal.close();
    expect(healing.events, at).toEqual(probe.events);
    for (const second of during) {
      inner++;
      const opened = await Wal.open<JsonValue>(DIR, { fs: second.fs, codec: jsonCodec });
      expect(opened.events, second.at).toEqual(probe.events);
      await opened.wal.commitTx(["after"]);
      await opened.wal.close();
      const again = await Wal.open<JsonValue>(DIR, { fs: second.fs, codec: jsonCodec });
      expect(again.events, second.at).toEqual([...probe.events, "after"]);
      await again.wal.close();
    }
  }
  // Each repair of a crash was reached, and crashed at its steps.
  expect([...kinds.keys()].join(" ")).toMatch(/tornTailTruncated/);
  expect([...kinds.keys()].join(" ")).toMatch(/headerlessSegmentRemoved/);
  expect([...kinds.keys()].join(" ")).toMatch(/sealedSegmentSucceeded/);
  expect(inner).toBeGreaterThan(200);
});
