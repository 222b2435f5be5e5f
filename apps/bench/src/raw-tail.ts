/**
 * The floor under a cross-process follower's cost to the writer: what a hand-written tail of the log does at the
 * least. It wakes on directory events (and a 250 ms timer, as `followDir` polls), reads the bytes appended to the
 * active segment since its last look with `readSync`, walks the record lengths to where the data ends (a zero length:
 * the writer's zero-fill), and notes the LSN of each `TxCommit` (checking that record's CRC, so a torn read cannot
 * move it). No other CRC, no payload decoding, no durable mark, no transaction assembly: a follower that delivers
 * only durable, verified transactions does all of this and more.
 */

import * as fs from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";

/** The segment header's size, the format's constant: records start right after it. */
const SEGMENT_HEADER_BYTES = 32;
/** The record kind byte of `TxCommit`. */
const TX_COMMIT = 3;
/** Read at most this much per look: a writer commits a few KiB between two wake-ups. */
const READ_BYTES = 64 * 1024;

export interface RawTail {
  /** The LSN of the last `TxCommit` read (`from` before the first). */
  readonly position: number;
  /** Called after every look that moved the position. */
  onProgress: (() => void) | undefined;
  stop(): void;
}

/** Tail the log in `dir` from its newest segment, counting commits above `from`. */
export function startRawTail(dir: string, from: number): RawTail {
  let buffer = Buffer.alloc(READ_BYTES);
  const segments = () =>
    fs
      .readdirSync(dir)
      .filter((name) => name.endsWith(".wal"))
      .sort();
  let segment = segments().at(-1);
  let fd = segment === undefined ? -1 : fs.openSync(join(dir, segment), "r");
  let offset = SEGMENT_HEADER_BYTES;
  let position = from;

  /** Read what was appended to the open segment; true when the position moved past at least one record. */
  const readAppended = (): boolean => {
    let moved = false;
    for (;;) {
      const got = fs.readSync(fd, buffer, 0, buffer.length, offset);
      let at = 0;
      let stop = false;
      while (at + 13 <= got) {
        const length = buffer.readUInt32LE(at);
        const kind = buffer[at + 4] as number;
        // A zero length is the writer's zero-fill: the end of the data. A header read while the write that carries
        // it is still landing (kind or LSN still zero) is looked at again next time.
        if (length === 0 || kind === 0) {
          stop = true;
          break;
        }
        if (at + length > got) break;
        const lsn = buffer.readUInt32LE(at + 9) * 2 ** 32 + buffer.readUInt32LE(at + 5);
        if (lsn === 0) {
          stop = true;
          break;
        }
        if (kind === TX_COMMIT) {
          // The one record whose LSN counts is checked whole: a torn read must not move the position wrongly.
          if (crc32(buffer.subarray(at, at + length - 4)) !== buffer.readUInt32LE(at + length - 4)) {
            stop = true;
            break;
          }
          if (lsn > position) position = lsn;
        }
        at += length;
      }
      offset += at;
      if (at > 0) moved = true;
      if (stop || got < buffer.length) return moved;
      if (at === 0) {
        // One record larger than the buffer: read it whole next time.
        const length = buffer.readUInt32LE(0);
        if (length <= buffer.length) return moved;
        buffer = Buffer.alloc(length);
      }
    }
  };

  /** `rescan`: a file was created or removed (or the timer fired): look for a newer segment too. */
  const look = (rescan: boolean): void => {
    let moved = false;
    for (;;) {
      if (fd < 0) {
        segment = segments().at(0);
        if (segment === undefined) return;
        fd = fs.openSync(join(dir, segment), "r");
        offset = SEGMENT_HEADER_BYTES;
      }
      // Listed before the read: a newer segment seen here means the open one was sealed before this read began
      // (the writer seals before it creates the next), so the read below gets all of it.
      const current = segment;
      const newer = rescan ? segments().find((name) => current !== undefined && name > current) : undefined;
      if (readAppended()) moved = true;
      if (newer === undefined) break;
      fs.closeSync(fd);
      segment = newer;
      fd = fs.openSync(join(dir, segment), "r");
      offset = SEGMENT_HEADER_BYTES;
    }
    if (moved) tail.onProgress?.();
  };

  const watcher = fs.watch(dir, { persistent: false }, (event) => look(event === "rename"));
  const timer = setInterval(() => look(true), 250);
  const tail: RawTail = {
    get position() {
      return position;
    },
    onProgress: undefined,
    stop() {
      watcher.close();
      clearInterval(timer);
      if (fd >= 0) fs.closeSync(fd);
      fd = -1;
    },
  };
  look(true);
  return tail;
}
