export { makeTempDir } from "./temp-dir.js";
