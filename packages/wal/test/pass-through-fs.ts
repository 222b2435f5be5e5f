/** A file-system seam over SimFS that tests extend to watch or alter how segment files are opened. */

import type { OpenMode, WalFile, WalFileSystem } from "@lora/wal-segment";
import type { SimFS } from "@lora/wal-segment/testing";

/** Forwards every call to `inner`; subclasses override `open` to wrap the files. */
export class PassThroughFs implements WalFileSystem {
  readonly name = "sim";
  constructor(readonly inner: SimFS) {}
  tryLock(path: string) {
    return this.inner.tryLock(path);
  }
  open(path: string, mode: OpenMode): Promise<WalFile> {
    return this.inner.open(path, mode);
  }
  mkdirp(p: string) {
    return this.inner.mkdirp(p);
  }
  readdir(p: string) {
    return this.inner.readdir(p);
  }
  stat(p: string) {
    return this.inner.stat(p);
  }
  rename(a: string, b: string) {
    return this.inner.rename(a, b);
  }
  unlink(p: string) {
    return this.inner.unlink(p);
  }
  // The optional operations too: without `link`, a slot's invalidation would take the exclusive-create path, which
  // the Node seam never takes (and a refused restore would leave its directory behind without `rmdir`).
  link(existing: string, newPath: string) {
    return this.inner.link(existing, newPath);
  }
  rmdir(p: string) {
    return this.inner.rmdir(p);
  }
  syncDir(p: string) {
    return this.inner.syncDir(p);
  }
}

/**
 * `file`'s asynchronous methods, bound to it, and none of its synchronous ones: a copy a test spreads its changes
 * over, so the handle's writes and fdatasyncs take the thread-pool path unless the test adds them back.
 */
export function asyncMethodsOf(file: WalFile): WalFile {
  return {
    path: file.path,
    read: (b, o, l, p) => file.read(b, o, l, p),
    write: (d, p) => file.write(d, p),
    datasync: () => file.datasync(),
    sync: () => file.sync(),
    truncate: (n) => file.truncate(n),
    size: () => file.size(),
    close: () => file.close(),
  };
}
