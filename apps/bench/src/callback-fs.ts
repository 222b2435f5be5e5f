/** `fs.write`, `fs.fdatasync` and `fs.fsync` as promises over the callback API (no `FileHandle` in between). */

import * as fs from "node:fs";

export function cbWrite(fd: number, data: Uint8Array, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.write(fd, data, 0, data.byteLength, position, (err) => (err ? reject(err) : resolve()));
  });
}

export function cbDatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

export function cbFsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));
}
