/**
 * Where tier F's child script is. Run from the build (`dist/main.js`): `dist/follow-child.js`, an entry of
 * tsup.config.ts. Run from the sources (vitest): a bundle of `src/follow-child.ts` and the `@lora/*` sources, made
 * once per process by `bundleScript` of `@lora/test-utils`, so the tests need no build. Both are testing builds of
 * the library (failpoints and planted bugs compiled in), as the child needs.
 */

import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ENTRY = "follow-child";

let bundled: Promise<string> | undefined;

/** The child script's path. */
export function followChildScript(): Promise<string> {
  const here = dirname(fileURLToPath(import.meta.url));
  if (import.meta.url.endsWith(".js")) {
    const built = join(here, `${ENTRY}.js`);
    if (existsSync(built)) return Promise.resolve(built);
  }
  bundled ??= (async () => {
    // A development dependency, loaded by a name the bundler does not follow: the build never includes it.
    const name = "@lora/test-utils";
    const { bundleScript } = (await import(/* @vite-ignore */ name)) as typeof import("@lora/test-utils");
    return await bundleScript(join(dirname(here), "src", `${ENTRY}.ts`));
  })();
  return bundled;
}
