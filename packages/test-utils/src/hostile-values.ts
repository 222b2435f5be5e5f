/**
 * Wrong values of every kind a caller can pass where an argument or an option belongs, for tests that every entry
 * point refuses them with a `WalError` code: wrong numbers, wrong types, and objects that fail when they are looked
 * at (getters that throw, proxies whose traps throw, a revoked proxy, which throws a `TypeError` for `Object.keys`,
 * `Array.isArray` and `instanceof` alike), plus byte arrays over a detached and a shared buffer. Reading any of these
 * must never escape as a raw `TypeError` or the trap's own error.
 */

import { UNPRINTABLE_VALUES } from "./unprintable-values.js";

function trapError(trap: string): never {
  throw new Error(`hostile value: ${trap} trap`);
}

function revoked<T extends object>(target: T): T {
  const { proxy, revoke } = Proxy.revocable(target, {});
  revoke();
  return proxy;
}

/** An object whose every listed property is an enumerable getter that throws. */
function throwingGetters(names: readonly string[]): object {
  const object = {};
  for (const name of names) {
    Object.defineProperty(object, name, {
      enumerable: true,
      get: () => trapError(`get ${name}`),
    });
  }
  return object;
}

/** A proxy whose every trap throws. */
function throwingProxy<T extends object>(target: T): T {
  return new Proxy(target, {
    get: (_t, key) => trapError(`get ${String(key)}`),
    has: () => trapError("has"),
    ownKeys: () => trapError("ownKeys"),
    getOwnPropertyDescriptor: () => trapError("getOwnPropertyDescriptor"),
    getPrototypeOf: () => trapError("getPrototypeOf"),
  });
}

/** An array whose first element's getter throws. */
function throwingElement(): unknown[] {
  return Object.defineProperty([1], 0, { enumerable: true, get: () => trapError("get 0") });
}

function detachedBytes(): Uint8Array {
  const buffer = new ArrayBuffer(8);
  const view = new Uint8Array(buffer);
  structuredClone(buffer, { transfer: [buffer] });
  return view;
}

/** Each value with a label for the assertion message. Built per call: a test may mutate what it is given. */
export function hostileValues(
  getterNames: readonly string[] = ["length", "mode", "name", "then"],
): (readonly [string, unknown])[] {
  return [
    ["undefined", undefined],
    ["null", null],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["-Infinity", Number.NEGATIVE_INFINITY],
    ["-1", -1],
    ["0.5", 0.5],
    ["2**53", 2 ** 53],
    ["a string", "x"],
    ["the empty string", ""],
    ["true", true],
    ["a function", () => 1],
    ["an empty object", {}],
    ["an empty array", []],
    ["an object whose getters throw", throwingGetters(getterNames)],
    ["a proxy whose get throws", new Proxy({}, { get: (_t, key) => trapError(`get ${String(key)}`) })],
    ["a proxy whose has throws", new Proxy({}, { has: () => trapError("has") })],
    ["a proxy whose ownKeys throws", new Proxy({}, { ownKeys: () => trapError("ownKeys") })],
    ["a proxy whose every trap throws", throwingProxy({})],
    ["an array proxy whose every trap throws", throwingProxy([1])],
    ["an array whose element getter throws", throwingElement()],
    ["a revoked proxy", revoked({})],
    ["a revoked array proxy", revoked([])],
    ["a Uint8Array over a detached buffer", detachedBytes()],
    ["a Uint8Array over a SharedArrayBuffer", new Uint8Array(new SharedArrayBuffer(8))],
    ...UNPRINTABLE_VALUES,
  ];
}
