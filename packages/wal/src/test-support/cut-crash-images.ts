/** Crash images taken at a segment's truncates, and the default open of each: the body of the cut crash tests. */

import type { PayloadCodec } from "@lora/wal-codec";
import type { SimFS } from "@lora/wal-segment/testing";
import { expect } from "vitest";
import { Wal } from "../wal.js";

/** One crash image: the state a power loss would leave, and SimFS's words for which one it is. */
export interface CrashImage {
  at: string;
  fs: SimFS;
}

/**
 * Records every crash image of `fs` at each truncate of `path` made while `run` runs (with what `run` returned) (the images are taken before the
 * truncate applies, so they include its zeroed block landing without its new length), and counts those truncates.
 */
export async function imagesAtCuts<T>(
  fs: SimFS,
  path: string,
  run: () => Promise<T>,
): Promise<{ images: CrashImage[]; cuts: number; result: T }> {
  const images: CrashImage[] = [];
  let cuts = 0;
  const off = fs.onOperation((e) => {
    if (e.op !== "truncate" || e.path !== path) return;
    cuts++;
    for (const image of fs.crashImages()) images.push({ at: image.description, fs: image.fs });
  });
  try {
    const result = await run();
    return { images, cuts, result };
  } finally {
    off();
  }
}

/**
 * Opens `dir` in each image with the default recovery mode and expects exactly `committed`; returns the images refused
 * (with the refusal), so a test can expect none and see which ones were when it fails.
 */
export async function refusedImages<E>(
  dir: string,
  images: readonly CrashImage[],
  options: { codec: PayloadCodec<E>; unsyncedWindowBytes?: number },
  committed: readonly E[],
): Promise<string[]> {
  const refused: string[] = [];
  for (const { at, fs } of images) {
    const opened = await Wal.open<E>(dir, { fs, ...options }).catch((error: unknown) => {
      refused.push(`${at}: ${String(error)}`);
      return undefined;
    });
    if (opened === undefined) continue;
    expect(opened.events, at).toEqual(committed);
    await opened.wal.close();
  }
  return refused;
}
