/**
 * Values with no printable form, for tests that a refusal never fails itself: `String()` throws a `TypeError` for a
 * null-prototype object and rethrows a throwing `toString`; a template literal throws for a symbol; `JSON.stringify`
 * throws for a bigint and a cycle. An entry point given one must refuse it with its own `WalError` code.
 */

import { expect } from "vitest";

const cyclic: Record<string, unknown> = {};
cyclic.self = cyclic;

/** Each value with a label for the assertion message. */
export const UNPRINTABLE_VALUES: readonly (readonly [string, unknown])[] = [
  ["a null-prototype object", Object.create(null)],
  [
    "an object whose toString throws",
    {
      toString() {
        throw new Error("no");
      },
    },
  ],
  ["a bigint", 5n],
  ["an object holding a bigint", { n: 5n }],
  ["an array holding a bigint", [5n]],
  ["a cycle", cyclic],
  ["a symbol", Symbol("s")],
];

/**
 * Call `call` with each of {@link UNPRINTABLE_VALUES} and expect a `WalError` with `code` each time, whether `call`
 * throws or rejects.
 */
export async function expectEachRefused(code: string, call: (value: never) => unknown): Promise<void> {
  for (const [label, value] of UNPRINTABLE_VALUES) {
    let error: unknown;
    try {
      await call(value as never);
    } catch (e) {
      error = e;
    }
    expect(error, label).toMatchObject({ name: "WalError", code });
  }
}
