/**
 * `@lora/wal/testing`: the crash-testing hooks of the handle, for a test harness. They work only in a testing build
 * (the sources bundled with `__LORA_WAL_TESTING__` defined true, as vitest and the torture harness do); the
 * published build has none, and {@link withTestingHooks} refuses there rather than silently testing nothing.
 */

import { WalError } from "@lora/wal-codec";
import { TESTING_BUILD, TESTING_HOOKS, type WalTestingOptions } from "../testing-hooks.js";
import type { WalOptions } from "../wal.js";

export type { Failpoint, PlantedBug, WalTestingClock, WalTestingOptions } from "../testing-hooks.js";

/** Whether this build of `@lora/wal` has its testing hooks compiled in. */
export const testingHooksCompiledIn: boolean = TESTING_BUILD;

/**
 * `options` for `Wal.open`, with crash-testing hooks attached (failpoints, planted bugs).
 * @throws {@link WalError} `WAL_INVALID_OPTION` in a build without testing hooks (the published one).
 */
export function withTestingHooks<E>(options: WalOptions<E>, hooks: WalTestingOptions): WalOptions<E> {
  if (!TESTING_BUILD) {
    throw new WalError(
      "WAL_INVALID_OPTION",
      "this build of @lora/wal has no testing hooks: failpoints and planted bugs exist only in a testing build (the sources bundled with __LORA_WAL_TESTING__ defined true)",
    );
  }
  const withHooks: WalOptions<E> & { [TESTING_HOOKS]?: WalTestingOptions } = { ...options };
  withHooks[TESTING_HOOKS] = hooks;
  return withHooks;
}
