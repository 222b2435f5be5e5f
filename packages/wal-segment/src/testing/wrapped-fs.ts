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
