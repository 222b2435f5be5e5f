import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/lora/index.ts"],
  format: ["esm"],
  target: "node20",
  platform: "node",
  dts: true,
  sourcemap: true,
  clean: true,
  // The `lora` entry uses the root's ByteWriter, ByteReader and WalError: shared chunks keep one copy of each, so
  // `instanceof WalError` holds for errors thrown by `loraCodec` too.
  splitting: true,
});
