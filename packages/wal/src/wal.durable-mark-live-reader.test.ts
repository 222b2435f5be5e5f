/**
 * A reader beside a live writer (replayDir, readCommitted, the CLI: "safe beside a live writer") must never call a
 * healthy log corrupt. It reads the newest segment first and the durable mark later (lazily, at the damage): a write
 * the writer made and fsynced in between shows up to the reader as damage (the old, zero bytes in its buffer, new
 * bytes after), and the mark, read after, vouches for that very write.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { replayDir } from "@lora/wal-replay";
import type { WalFile } from "@lora/wal-segment";
import { boundProperty, SimFS, wrapFileSystem } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";

describe("a reader beside a live writer and the durable mark", () => {
  it("a commit fsynced between the reader's read of the segment and its look at the mark is not corruption", async () => {
    const fs = SimFS.withDir(DIR);
    const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
    for (let i = 0; i < 5; i++) await wal.commitTx([`event ${i}`]);

    // The writer commits (write, fdatasync, mark) right after the reader's first read of the segment's records.
    let armed = true;
    const readerFs = wrapFileSystem(fs, (file: WalFile, mode) => {
      if (mode !== "read") return file;
      return new Proxy(file, {
        get(target, key) {
          if (key === "readSync" || key === "sizeSync") return undefined;
          if (key === "read") {
            return async (buffer: Uint8Array, at: number, length: number, position: number) => {
              const n = await target.read(buffer, at, length, position);
              if (armed && position > 0 && length >= 4096) {
                armed = false;
                await wal.commitTx(["y".repeat(20_000)]);
              }
              return n;
            };
          }
          return boundProperty(target, key);
        },
      });
    });

    const seen: JsonValue[] = [];
    const replay = replayDir<JsonValue>(DIR, { fs: readerFs, codec: jsonCodec, chunkBytes: 4096 });
    for await (const tx of replay) seen.push(...tx.events);
    expect(armed).toBe(false);
    // The reader saw the five commits before the write it raced with; it must not throw WAL_CORRUPT.
    expect(seen.slice(0, 5)).toEqual(Array.from({ length: 5 }, (_, i) => `event ${i}`));
    await wal.close();
    // And the log is healthy.
    const { events } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec }).then(async (r) => {
      await r.wal.close();
      return r;
    });
    expect(events).toHaveLength(6);
  });
});
