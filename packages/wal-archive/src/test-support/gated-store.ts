/**
 * A store whose n-th call of one kind waits until the test lets it through: a restore paused at a known point (in
 * its listing, before its first write, after its first `.restoring` file), so another opener can be tried there.
 */

import type { ArchiveCallOptions, ArchiveStore } from "../archive-store.js";

export interface GatedStore {
  readonly store: ArchiveStore;
  /** Settles when the gated call is reached (the call is then waiting). */
  readonly reached: Promise<void>;
  /** Let the gated call (and every later one) through. */
  open(): void;
}

/**
 * `base` with its `nth` call (counting from 1) of `call` held until `open()`; every other call goes straight
 * through. Only the calls a restore makes (`list`, `get`) are forwarded.
 */
export function gatedStore(base: ArchiveStore, call: "list" | "get", nth: number): GatedStore {
  let calls = 0;
  let reach!: () => void;
  const reached = new Promise<void>((resolve) => {
    reach = resolve;
  });
  let release!: () => void;
  const opened = new Promise<void>((resolve) => {
    release = resolve;
  });
  const gate = async () => {
    if (++calls !== nth) return;
    reach();
    await opened;
  };
  const store: ArchiveStore = {
    name: base.name,
    put: (key, bytes, options) => base.put(key, bytes, options),
    delete: (key, options) => base.delete(key, options),
    async list(prefix?: string, options?: ArchiveCallOptions) {
      if (call === "list") await gate();
      return base.list(prefix, options);
    },
    async get(key: string, options?: ArchiveCallOptions) {
      if (call === "get") await gate();
      return base.get(key, options);
    },
  };
  return { store, reached, open: release };
}
