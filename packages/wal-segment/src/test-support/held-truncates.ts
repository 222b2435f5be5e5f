/** A file-system seam whose truncations a test holds, to act while a cut is under way. */

import { expect } from "vitest";
import type { WalFile, WalFileSystem } from "../fs/file-system.js";
import { boundProperty, wrapFileSystem } from "../testing/wrapped-fs.js";

/**
 * `inner`, with the truncations of the files it opens held while `state.hold` is set, until `release()`.
 * `untilHeld()` resolves once one is held (real I/O comes first, so it is not bounded by turns).
 */
export function heldTruncates(inner: WalFileSystem) {
  const held: (() => void)[] = [];
  const state = { hold: false };
  let onHeld: () => void = () => undefined;
  const wrap = (file: WalFile): WalFile =>
    new Proxy(file, {
      get(target, key) {
        if (key === "truncate") {
          return async (length: number) => {
            if (state.hold) {
              await new Promise<void>((go) => {
                held.push(go);
                onHeld();
              });
            }
            return target.truncate(length);
          };
        }
        return boundProperty(target, key);
      },
    });
  return {
    fs: wrapFileSystem(inner, wrap),
    state,
    release(): void {
      state.hold = false;
      for (const go of held.splice(0)) go();
    },
    async untilHeld(): Promise<void> {
      if (held.length === 0) {
        await new Promise<void>((resolve) => {
          onHeld = resolve;
        });
      }
      expect(held.length).toBeGreaterThan(0);
    },
  };
}
