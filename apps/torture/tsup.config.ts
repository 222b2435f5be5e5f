import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/main.ts", "src/child.ts", "src/trace-child.ts"],
  format: ["esm"],
  target: "node20",
  platform: "node",
  dts: false,
  sourcemap: true,
  clean: true,
  splitting: false,
});
