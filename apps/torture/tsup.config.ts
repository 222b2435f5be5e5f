import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/main.ts", "src/child.ts", "src/trace-child.ts", "src/follow-child.ts"],
  format: ["esm"],
  target: "node20",
  platform: "node",
  dts: false,
  sourcemap: true,
  clean: true,
  splitting: false,
  // The harness is a testing build of the library: the @lora/* sources are bundled in with their failpoints and
  // planted bugs compiled (the published build of @lora/wal has neither). Native and third-party modules stay out.
  noExternal: [/^@lora\//],
  external: ["koffi", "@loradb/lora-node", "@aws-sdk/client-s3"],
  define: { __LORA_WAL_TESTING__: "true" },
  esbuildOptions(options) {
    options.conditions = ["@lora/source"];
  },
});
