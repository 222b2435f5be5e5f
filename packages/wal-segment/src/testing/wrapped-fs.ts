/**
 * Seams over a file system for tests: a proxy that forwards every call to the real object, with the files it opens
 * (or some of its methods) replaced. A proxy, not a subclass: the seam's classes keep private state that needs the
 * real object as `this`.
 */

import type { OpenMode, WalFile, WalFileSystem } from "../fs/file-system.js";

/** A property of `target`, methods bound to it. */
export function boundProperty(target: object, key: string | symbol): unknown {
  const value: unknown = Reflect.get(target, key, target);
  return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
}

/**
 * `inner`, with every file it opens passed through `wrapFile` (given the mode it was opened in) and the methods of
 * `overrides` in place of its own; every other call is forwarded unchanged.
 */
export function wrapFileSystem(
  inner: WalFileSystem,
  wrapFile: (file: WalFile, mode: OpenMode) => WalFile,
  overrides: Partial<Omit<WalFileSystem, "open">> = {},
): WalFileSystem {
  return new Proxy(inner, {
    get(target, key) {
      if (key === "open") return async (path: string, mode: OpenMode) => wrapFile(await target.open(path, mode), mode);
      if (Object.hasOwn(overrides, key)) return overrides[key as keyof typeof overrides];
      return boundProperty(target, key);
    },
  });
}

/**
 * `file` as a reader meets a file its writer has just created: every read returns no bytes and its size is 0 (the
 * synchronous read and size are hidden, so every read takes the asynchronous path). `beforeRead` runs at each read
 * first: a test can change the file on disk meanwhile (write its header, remove it) as a live writer would.
 */
export function blankFile(file: WalFile, beforeRead?: () => Promise<void>): WalFile {
  return new Proxy(file, {
    get(target, key) {
      if (key === "read") {
        return async () => {
          await beforeRead?.();
          return 0;
        };
      }
      if (key === "readSync" || key === "sizeSync") return undefined;
      if (key === "size") return () => Promise.resolve(0);
      return boundProperty(target, key);
    },
  });
}

/**
 * `inner`, with every `open` going through `open(path, mode, next)`, where `next` is `inner`'s own open: a test's
 * hook around opening a file (count it, fail it, hold it while the test does something else, wrap what it returns).
 * Every other call is forwarded unchanged.
 */
export function interceptOpen(
  inner: WalFileSystem,
  open: (path: string, mode: OpenMode, next: (path: string, mode: OpenMode) => Promise<WalFile>) => Promise<WalFile>,
): WalFileSystem {
  const next = (path: string, mode: OpenMode) => inner.open(path, mode);
  return new Proxy(inner, {
    get(target, key) {
      if (key === "open") return (path: string, mode: OpenMode) => open(path, mode, next);
      return boundProperty(target, key);
    },
  });
}
