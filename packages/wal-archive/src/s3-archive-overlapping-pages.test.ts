/**
 * A listing whose pages overlap (an S3-compatible service that starts a page at the last key of the previous one,
 * a bug seen in the wild) names an object twice. The store lists each key once: twice, a sealed segment read as two
 * sealed objects of one segment, and restore refused a sound archive with WAL_ARCHIVE_CORRUPT.
 */

import { GetObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { startArchiver } from "./archiver.js";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { s3Archive } from "./s3-archive.js";
import { verifyArchive } from "./verify-archive.js";

/** A client over `objects` whose listing pages of `pageSize` keys each repeat the previous page's last key. */
function overlappingClient(objects: ReadonlyMap<string, Uint8Array>, pageSize: number): S3Client {
  const answer = (command: unknown) => {
    if (command instanceof ListObjectsV2Command) {
      const { Prefix = "", ContinuationToken } = command.input;
      const keys = [...objects.keys()].filter((k) => k.startsWith(Prefix)).sort();
      const start = ContinuationToken === undefined ? 0 : Number(ContinuationToken);
      const page = keys.slice(start, start + pageSize);
      // The next page starts at this page's last key, not after it.
      const next = start + pageSize - 1;
      const truncated = start + pageSize < keys.length;
      return {
        Contents: page.map((Key) => ({ Key, Size: (objects.get(Key) as Uint8Array).byteLength })),
        IsTruncated: truncated,
        ...(truncated ? { NextContinuationToken: String(next) } : {}),
      };
    }
    if (command instanceof GetObjectCommand) {
      const bytes = objects.get(command.input.Key as string);
      if (bytes === undefined) throw Object.assign(new Error("no such key"), { name: "NoSuchKey" });
      return { ContentLength: bytes.byteLength, Body: { transformToByteArray: () => Promise.resolve(bytes.slice()) } };
    }
    throw new Error(`unexpected command ${String(command)}`);
  };
  // A rejection, never a synchronous throw, as the SDK's client gives.
  const send = (command: unknown) => new Promise((resolve) => resolve(answer(command)));
  return { send } as unknown as S3Client;
}

describe("s3Archive list, on a service whose pages overlap", () => {
  it("names each object once, and the archive restores", async () => {
    // A real archive: a log on small segments, archived (sealed segments and the active one's pieces).
    const fs = new SimFS();
    const source = memoryArchive();
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, segmentTargetBytes: 300 });
    const archiver = startArchiver(wal, { store: source, fs, intervalMs: 3_600_000 });
    for (let i = 0; i < 200 && (await wal.segments()).length < 5; i++) await wal.commitTx([{ v: i }]);
    await wal.commitTx([{ v: "last" }]);
    await archiver.flush();
    await archiver.stop();
    await wal.close();
    const objects = new Map(source.keys().map((k) => [`p/${k}`, source.peek(k) as Uint8Array]));
    expect(objects.size).toBeGreaterThanOrEqual(5);

    const store = s3Archive({ client: overlappingClient(objects, 2), bucket: "b", prefix: "p" });
    expect((await store.list()).map((o) => o.key)).toEqual(source.keys());
    expect((await verifyArchive(store)).problems).toEqual([]);
    const restored = await restore({ store, dir: "/r", fs });
    expect(restored.segments).toBe(5);
  });
});
