export { bundleScript } from "./bundle-script.js";
export { eventLoopTurnsDuring, settlesWithinTurns } from "./event-loop-turns.js";
export { hostileValues } from "./hostile-values.js";
export type { LoraFixtureOptions, LoraFixtureResult, LoraGraphSummary } from "./lora-fixtures.js";
export {
  LORA_FIXTURE_STATEMENTS,
  LORA_MULTI_SEGMENT_BYTES,
  loraGraphSummary,
  writeLoraFixture,
} from "./lora-fixtures.js";
export { openDescriptorOf } from "./open-descriptor.js";
export { type ReadOnce, readOnce } from "./read-once.js";
export { seededRandom } from "./seeded-random.js";
export { settleBundle } from "./settle-bundle.js";
export { makeTempDir } from "./temp-dir.js";
export { expectEachRefused, UNPRINTABLE_VALUES } from "./unprintable-values.js";
