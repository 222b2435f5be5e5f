/**
 * A caller's value that answers validly the first time each property is read and throws every time after: the value
 * an argument check reads once and the entry point then reads again. An entry point that reads each caller value once
 * (and uses what it read) accepts it; one that reads twice lets the second read's error escape, or uses a value that
 * was never checked.
 */

/** What {@link readOnce} hands back: the proxy, and how often each property was read through it. */
export interface ReadOnce<T> {
  readonly value: T;
  /** Reads per property name (string keys; a symbol as its description in brackets). */
  readonly reads: Map<string, number>;
  /** The names read more than once. */
  readonly readTwice: () => string[];
}

function keyName(key: string | symbol): string {
  return typeof key === "symbol" ? `[${key.description ?? "symbol"}]` : key;
}

/**
 * A proxy over `target` (an options object, an events array) whose `get` answers as `target` the first time each
 * property is read and throws `Error("read twice: <name>")` after. Its keys and descriptors (what `Object.keys` and
 * `Array.isArray` look at) answer as `target`'s, any number of times.
 */
export function readOnce<T extends object>(target: T): ReadOnce<T> {
  const reads = new Map<string, number>();
  const value = new Proxy(target, {
    get(t, key, receiver) {
      const name = keyName(key);
      const count = (reads.get(name) ?? 0) + 1;
      reads.set(name, count);
      if (count > 1) throw new Error(`read twice: ${name}`);
      return Reflect.get(t, key, receiver);
    },
  });
  const readTwice = () => [...reads].filter(([, n]) => n > 1).map(([name]) => name);
  return { value, reads, readTwice };
}
