/** Shared helpers for the handle's tests. */

import { makeTempDir } from "@lora/test-utils";
import { createPropertyMap, type MutationEvent } from "@lora/wal-codec/lora";
import { SegmentWriter } from "@lora/wal-segment";
import type { SimFS } from "@lora/wal-segment/testing";
import { afterEach } from "vitest";

/** The reference tests' event: `CreateNode(id, ["N"], { v: Int(id) })` (an 81-byte Mutation record). */
export function ev(id: number): MutationEvent {
  const properties = createPropertyMap();
  properties.v = BigInt(id);
  return { type: "CreateNode", id: BigInt(id), labels: ["N"], properties };
}

/** A fresh temp dir per call, removed after the test. */
export function useTempDirs(): () => Promise<string> {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });
  return async () => {
    const t = await makeTempDir("lora-wal-handle");
    cleanups.push(t.cleanup);
    return t.path;
  };
}

/** The error `run` rejects with; fails the test when it resolves. */
export async function rejection(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

/** Seal the closed segment at `path` in place: what a crash between sealing it and creating its successor leaves. */
export async function sealInPlace(fs: SimFS, path: string): Promise<void> {
  const writer = await SegmentWriter.openForAppend(fs, path, fs.readFileSync(path).length);
  await writer.seal();
  await writer.close();
}

/** Every file of `dir` on `fs` with its bytes, by name: compared before and after a call that must change nothing. */
export function dirImage(fs: SimFS, dir: string): [string, number[]][] {
  return fs
    .listSync(dir)
    .sort()
    .map((name) => [name, Array.from(fs.readFileSync(`${dir}/${name}`))]);
}
