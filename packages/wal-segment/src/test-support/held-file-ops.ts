/**
 * A file-system seam whose file operations a test holds, to act while one is under way (a cut's ftruncate, a fill
 * ahead, an fdatasync, a rewrite's write-back). The one copy of the held seam the writer's tests use.
 */

import { expect } from "vitest";
import type { WalFile, WalFileSystem } from "../fs/file-system.js";
import { boundProperty, wrapFileSystem } from "../testing/wrapped-fs.js";

/** The asynchronous operations a rule can hold. */
type HeldOp = "write" | "truncate" | "datasync" | "sync";

/** Which calls a rule takes: an operation and, optionally, which of its calls (by its arguments). */
export interface HeldRule {
  readonly op: HeldOp | "writeSync";
  /** For `write`/`writeSync`: the data and position; for `truncate`: the length. All calls when absent. */
  readonly when?: (data: Uint8Array, at: number) => boolean;
}

/** A zero-fill: a write of at least a page of zeros (records never are: every header has a non-zero length). */
export function isFill(data: Uint8Array): boolean {
  return data.byteLength >= 4096 && data.every((b) => b === 0);
}

/** The rules most tests name: every ftruncate, fdatasync, fsync, zero-fill, and write that is not a fill. */
export const RULES = {
  truncate: { op: "truncate" },
  datasync: { op: "datasync" },
  sync: { op: "sync" },
  fill: { op: "write", when: isFill },
  records: { op: "write", when: (data) => !isFill(data) },
  syncFill: { op: "writeSync", when: isFill },
} as const satisfies Record<string, HeldRule>;

type RuleName = keyof typeof RULES;

/**
 * `inner`, with the calls each of {@link RULES} takes held while the test holds that rule (`hold(name)`), until
 * `release(name)`. Written data is copied before it is held (the caller may reuse its buffer once the call returns,
 * as a thread-pool write has read it by then). `failing(name)` makes the rule's calls throw `WAL_IO`-like errors once
 * they go on. `called(name)` counts every call the rule took; `log` lists them as they reach the file, in order
 * (`fill 0..65536`, `truncate 100`, `records 32..132`, `datasync`). `blocking: false` hides the synchronous twins
 * (`writeSync`, `datasyncSync`), so that every write and fdatasync takes the path a rule can hold.
 */
export function heldFileOps(inner: WalFileSystem, options: { readonly blocking?: boolean } = {}) {
  const holding = new Set<RuleName>();
  const failing = new Map<RuleName, () => unknown>();
  const held = new Map<RuleName, (() => void)[]>();
  const calls = new Map<RuleName, number>();
  const waiters: { name: RuleName | undefined; resolve: () => void }[] = [];
  const log: string[] = [];
  const heldOf = (name: RuleName): (() => void)[] => {
    const list = held.get(name) ?? [];
    held.set(name, list);
    return list;
  };
  const count = (name?: RuleName): number =>
    name === undefined ? [...held.values()].reduce((n, list) => n + list.length, 0) : heldOf(name).length;
  /** The first rule of `op` that takes a call with these arguments, if any. */
  const ruleFor = (op: HeldRule["op"], data: Uint8Array, at: number): RuleName | undefined => {
    for (const [name, rule] of Object.entries(RULES) as [RuleName, HeldRule][]) {
      if (rule.op === op && (rule.when === undefined || rule.when(data, at))) return name;
    }
    return undefined;
  };
  const entry = (name: RuleName, data: Uint8Array | undefined, at: number | undefined): string => {
    if (data !== undefined && at !== undefined) return `${name} ${at}..${at + data.byteLength}`;
    return at === undefined ? name : `${name} ${at}`;
  };
  /** Count the call; wait while its rule holds; fail it if its rule fails. */
  const gate = async (name: RuleName): Promise<void> => {
    calls.set(name, (calls.get(name) ?? 0) + 1);
    if (holding.has(name)) {
      await new Promise<void>((go) => {
        heldOf(name).push(go);
        for (let i = waiters.length - 1; i >= 0; i--) {
          const waiter = waiters[i] as (typeof waiters)[number];
          if (waiter.name === undefined || waiter.name === name) {
            waiters.splice(i, 1);
            waiter.resolve();
          }
        }
      });
    }
    const fail = failing.get(name);
    if (fail !== undefined) throw fail();
  };
  const wrap = (file: WalFile): WalFile =>
    new Proxy(file, {
      get(target, key) {
        if (key === "write") {
          return async (data: Uint8Array, at: number) => {
            const name = ruleFor("write", data, at);
            if (name === undefined) return target.write(data, at);
            const copy = holding.has(name) ? data.slice() : data;
            await gate(name);
            await target.write(copy, at);
            log.push(entry(name, copy, at));
          };
        }
        if (key === "truncate") {
          return async (length: number) => {
            const name = ruleFor("truncate", new Uint8Array(0), length);
            if (name !== undefined) await gate(name);
            await target.truncate(length);
            if (name !== undefined) log.push(entry(name, undefined, length));
          };
        }
        if (key === "datasync" || key === "sync") {
          return async () => {
            const name = ruleFor(key, new Uint8Array(0), 0);
            if (name !== undefined) await gate(name);
            await target[key]();
            if (name !== undefined) log.push(name);
          };
        }
        if ((key === "writeSync" || key === "datasyncSync") && options.blocking === false) return undefined;
        if (key === "writeSync" && target.writeSync !== undefined) {
          const writeSync = target.writeSync.bind(target);
          return (data: Uint8Array, at: number) => {
            const name = ruleFor("writeSync", data, at);
            if (name !== undefined) calls.set(name, (calls.get(name) ?? 0) + 1);
            writeSync(data, at);
            if (name !== undefined) log.push(entry(name, data, at));
          };
        }
        return boundProperty(target, key);
      },
    });
  return {
    fs: wrapFileSystem(inner, wrap),
    log,
    /** Hold the rule's calls from now on (calls already made go on). */
    hold(...names: RuleName[]): void {
      for (const name of names) holding.add(name);
    },
    /** Stop holding the rule's calls and let those held go on (every rule's when none is named). */
    release(...names: RuleName[]): void {
      for (const name of names.length === 0 ? [...holding, ...held.keys()] : names) {
        holding.delete(name);
        for (const go of heldOf(name).splice(0)) go();
      }
    },
    /** Let the oldest held call of the rule go on, still holding the later ones; false when none is held. */
    releaseOne(name: RuleName): boolean {
      const go = heldOf(name).shift();
      go?.();
      return go !== undefined;
    },
    /** Make the rule's calls throw `error()` once they go on (after any hold); `undefined` stops it. */
    failing(name: RuleName, error: (() => unknown) | undefined): void {
      if (error === undefined) failing.delete(name);
      else failing.set(name, error);
    },
    /** How many calls of the rule (of every rule, when none is named) are held now. */
    heldCount: count,
    /** How many calls the rule has taken, held or not. */
    called: (name: RuleName): number => calls.get(name) ?? 0,
    /** Resolves once a call of the rule (of any rule) is held: real I/O comes first, so not bounded by turns. */
    async untilHeld(name?: RuleName): Promise<void> {
      if (count(name) === 0) await new Promise<void>((resolve) => waiters.push({ name, resolve }));
      expect(count(name)).toBeGreaterThan(0);
    },
  };
}

/** The seam `heldFileOps` returns. */
export type HeldFileOps = ReturnType<typeof heldFileOps>;
