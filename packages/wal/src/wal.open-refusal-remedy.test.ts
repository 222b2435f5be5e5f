/**
 * An open refused for damage says what the caller can do about it: corruption names `lora-wal verify` and the
 * `point-in-time` recovery that opens the log up to the damage; a torn tail refused in `absolute` mode names the
 * default mode that cuts it. The code, `details` and `cause` stay those of the damage found, and nothing changes.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { Wal } from "./wal.js";
import type { WalOptions } from "./wal-options.js";

/** A closed log in `dir` of 60 one-event transactions over several small segments. */
async function smallLog(dir = "/w"): Promise<SimFS> {
  const fs = new SimFS();
  const { wal } = await Wal.open<JsonValue>(dir, { fs, codec: jsonCodec, segmentTargetBytes: 1024 });
  for (let i = 0; i < 60; i++) await wal.commitTx([{ i, pad: "p".repeat(20) }]);
  await wal.close();
  return fs;
}

/** `smallLog(dir)` with a byte flipped in its sealed segment 2: corruption no recovery mode but point-in-time opens. */
async function corruptLog(dir = "/w"): Promise<SimFS> {
  const fs = await smallLog(dir);
  const sealed = segmentPath(dir, 2);
  const bytes = fs.readFileSync(sealed);
  bytes[100] = (bytes[100] as number) ^ 0xff;
  fs.writeFileSync(sealed, bytes);
  return fs;
}

type Refusal = Error & { code: string; details: Record<string, unknown> };

/** The error `Wal.open` of `dir` rejects with (`null` if it opens). */
async function refusal(fs: SimFS, dir: string, options: Partial<WalOptions<JsonValue>> = {}): Promise<Refusal | null> {
  return await Wal.open<JsonValue>(dir, { fs, codec: jsonCodec, ...options }).then(
    () => null,
    (e: unknown) => e as Refusal,
  );
}

/** Every file under `/w` with its bytes, to compare before and after a refused open. */
function image(fs: SimFS): Map<string, string> {
  return new Map(fs.listSync("/w").map((name) => [name, Buffer.from(fs.readFileSync(`/w/${name}`)).toString("hex")]));
}

it("a refused open for corruption names lora-wal verify and recovery: point-in-time, and changes nothing", async () => {
  const fs = await corruptLog();
  const sealed = segmentPath("/w", 2);
  const before = image(fs);
  for (const recovery of ["tolerate-torn-tail", "absolute"] as const) {
    const error = await refusal(fs, "/w", { recovery });
    expect(error).toMatchObject({ code: "WAL_CORRUPT", details: { segment: sealed, segmentId: 2 } });
    // The cause is still the reader's error for the damage found.
    expect(error?.cause).toMatchObject({ code: "WAL_CRC_MISMATCH", details: { segment: sealed } });
    expect(error?.message).toMatch(/^WAL corruption in \/w\/0000000002\.wal at offset \d+: /);
    expect(error?.message).toContain("lora-wal verify /w");
    expect(error?.message).toContain('recovery: "point-in-time"');
    expect(image(fs)).toEqual(before);
  }
  // What the message promises works: point-in-time opens the log up to the damage.
  const { wal, healed } = await Wal.open<JsonValue>("/w", { fs, codec: jsonCodec, recovery: "point-in-time" });
  expect(healed.map((h) => h.kind)).toContain("corruptionCut");
  await wal.close();
});

it("a torn tail refused in absolute mode names the default recovery that cuts it, and changes nothing", async () => {
  const fs = await smallLog();
  const newest = fs
    .listSync("/w")
    .filter((n) => n.endsWith(".wal"))
    .sort()
    .at(-1) as string;
  const bytes = fs.readFileSync(`/w/${newest}`);
  fs.writeFileSync(`/w/${newest}`, bytes.subarray(0, bytes.length - 7));
  const before = image(fs);
  const error = await refusal(fs, "/w", { recovery: "absolute" });
  expect(error).toMatchObject({ code: "WAL_TORN_TAIL" });
  expect(error?.cause).toMatchObject({ code: expect.stringMatching(/^WAL_/) });
  expect(error?.message).toContain('recovery: "tolerate-torn-tail"');
  expect(image(fs)).toEqual(before);
  const { wal, tornTail } = await Wal.open<JsonValue>("/w", { fs, codec: jsonCodec });
  expect(tornTail).not.toBeNull();
  await wal.close();
});

it("the verify command in the advice is one shell word for a directory with spaces or quotes", async () => {
  for (const dir of ["/my logs/w", "/it's/w"]) {
    const error = await refusal(await corruptLog(dir), dir);
    const quoted = dir === "/my logs/w" ? "'/my logs/w'" : `'/it'\\''s/w'`;
    expect(error?.message).toContain(`run \`lora-wal verify ${quoted}\``);
  }
});

it("the refusal keeps the stack of the damage found (where it was classified), under the message with the remedy", async () => {
  const error = await refusal(await corruptLog(), "/w");
  expect(error?.message).toContain('recovery: "point-in-time"');
  expect(error?.stack?.startsWith(`WalError: ${error.message}\n`)).toBe(true);
  expect(error?.stack).toContain("classifyRecordDamage");
});

it("the verify command in the advice names a directory starting with '-' as a path, not an option", async () => {
  const error = await refusal(await corruptLog("-w"), "-w");
  // `lora-wal verify -w` is refused as an unknown option; quoting does not help, a shell drops the quotes.
  expect(error?.message).toContain("run `lora-wal verify ./-w`");
});
