import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/main.ts"],
  format: ["esm"],
  target: "node20",
  platform: "node",
  sourcemap: true,
  clean: true,
  splitting: false,
  // The peers are devDependencies (tsup would bundle them); native addons must load from node_modules.
  external: ["better-sqlite3", "classic-level", "lmdb", "@loradb/lora-node", "@aws-sdk/client-s3", "s3rver", "koffi"],
});
