import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/testing/index.ts"],
  format: ["esm"],
  target: "node20",
  platform: "node",
  dts: true,
  sourcemap: true,
  clean: true,
  splitting: false,
  // The published build has no testing hooks: the flag is false and syntax minification drops every branch it
  // guards (planted bugs, failpoint calls). Names and layout stay readable.
  define: { __LORA_WAL_TESTING__: "false" },
  esbuildOptions(options) {
    options.minifySyntax = true;
  },
});
