// Kept apart from @lora/test-utils, which every package's tests use (the codec's included): this model needs the
// codec's lora values, and a shared helper depending on the codec would make the codec's tests depend on themselves.
export type {
  ComparableGraph,
  ComparableNode,
  ComparableRelationship,
  LoraQueryable,
  ModelNode,
  ModelRelationship,
} from "./lora-graph.js";
export { comparable, comparableLora, GraphModel, loraPropertyText, readLoraGraph } from "./lora-graph.js";
