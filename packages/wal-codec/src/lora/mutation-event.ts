/**
 * `MutationEvent`: one durable, replayable change to a LoraDB graph, mirroring the Rust enum in
 * `lora_store::mutation` (variant names kept, field names in camelCase). Node and relationship ids are u64 and
 * therefore `bigint`.
 */

import type { PropertyMap, PropertyValue } from "./lora-values.js";
import type { ConstraintRequest, IndexRequest } from "./store-ddl.js";

/** A LoraDB mutation, discriminated by `type`. The comment on each variant gives its LW1 tag. */
export type MutationEvent =
  /** Tag 1. */
  | {
      readonly type: "CreateNode";
      readonly id: bigint;
      readonly labels: readonly string[];
      readonly properties: PropertyMap;
    }
  /** Tag 2. */
  | {
      readonly type: "CreateRelationship";
      readonly id: bigint;
      readonly src: bigint;
      readonly dst: bigint;
      readonly relType: string;
      readonly properties: PropertyMap;
    }
  /** Tag 3. */
  | { readonly type: "SetNodeProperty"; readonly nodeId: bigint; readonly key: string; readonly value: PropertyValue }
  /** Tag 4. */
  | { readonly type: "RemoveNodeProperty"; readonly nodeId: bigint; readonly key: string }
  /** Tag 5. */
  | { readonly type: "AddNodeLabel"; readonly nodeId: bigint; readonly label: string }
  /** Tag 6. */
  | { readonly type: "RemoveNodeLabel"; readonly nodeId: bigint; readonly label: string }
  /** Tag 7. */
  | {
      readonly type: "SetRelationshipProperty";
      readonly relId: bigint;
      readonly key: string;
      readonly value: PropertyValue;
    }
  /** Tag 8. */
  | { readonly type: "RemoveRelationshipProperty"; readonly relId: bigint; readonly key: string }
  /** Tag 9. */
  | { readonly type: "DeleteRelationship"; readonly relId: bigint }
  /** Tag 10. */
  | { readonly type: "DeleteNode"; readonly nodeId: bigint }
  /** Tag 11. Incident relationships are logged as their own DeleteRelationship events. */
  | { readonly type: "DetachDeleteNode"; readonly nodeId: bigint }
  /** Tag 12: drop every node and relationship. */
  | { readonly type: "Clear" }
  /** Tag 13: the request travels as store-codec bytes. */
  | { readonly type: "CreateIndex"; readonly request: IndexRequest; readonly ifNotExists: boolean }
  /** Tag 14. */
  | { readonly type: "DropIndex"; readonly name: string; readonly ifExists: boolean }
  /** Tag 15: the request travels as store-codec bytes. */
  | { readonly type: "CreateConstraint"; readonly request: ConstraintRequest; readonly ifNotExists: boolean }
  /** Tag 16. */
  | { readonly type: "DropConstraint"; readonly name: string; readonly ifExists: boolean };

/** The `type` names of {@link MutationEvent}. */
export type MutationEventType = MutationEvent["type"];

/** The variant of {@link MutationEvent} with the given `type`. */
export type MutationEventOf<T extends MutationEventType> = Extract<MutationEvent, { readonly type: T }>;

/** Every `type` of {@link MutationEvent}, in LW1 tag order (tag 1 first). */
export const MUTATION_EVENT_TYPES: readonly MutationEventType[] = [
  "CreateNode",
  "CreateRelationship",
  "SetNodeProperty",
  "RemoveNodeProperty",
  "AddNodeLabel",
  "RemoveNodeLabel",
  "SetRelationshipProperty",
  "RemoveRelationshipProperty",
  "DeleteRelationship",
  "DeleteNode",
  "DetachDeleteNode",
  "Clear",
  "CreateIndex",
  "DropIndex",
  "CreateConstraint",
  "DropConstraint",
];
