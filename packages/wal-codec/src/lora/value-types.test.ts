import { describe, expect, it } from "vitest";
import * as values from "./lora-values.js";
import { VALUE_MAP } from "./lw1-format.js";
import {
  LORA_VALUE_TYPES,
  LORA_VALUE_TYPES_BY_TAG,
  LORA_VECTOR_ELEMENTS,
  loraValueTypeOf,
  loraVectorElementOf,
} from "./value-types.js";

describe("the value-type table", () => {
  it("has one entry per value class (LoraFloat is a Float, not a type of its own), with distinct tags after Map", () => {
    const isClass = (v: unknown): v is abstract new () => object =>
      typeof v === "function" && Function.prototype.toString.call(v).startsWith("class");
    const classes = Object.values(values).filter((v) => isClass(v) && v !== values.LoraFloat);
    expect(LORA_VALUE_TYPES.map((t) => t.type).sort((a, b) => a.name.localeCompare(b.name))).toEqual(
      classes.sort((a, b) => a.name.localeCompare(b.name)),
    );
    const tags = LORA_VALUE_TYPES.map((t) => t.tag);
    expect(new Set(tags).size).toBe(tags.length);
    expect(Math.min(...tags)).toBe(VALUE_MAP + 1);
    for (const t of LORA_VALUE_TYPES) expect(LORA_VALUE_TYPES_BY_TAG[t.tag]).toBe(t);
  });

  it("lists a class's fields in the order of its constructor's arguments (the decoder constructs from them)", () => {
    for (const t of LORA_VALUE_TYPES.filter((x) => x.fields.length > 0)) {
      const args = t.fields.map((f, i) => (f.kind === "i64" ? BigInt(i + 1) : i + 1));
      const made = Reflect.construct(t.type, args) as Record<string, unknown>;
      expect(Object.keys(made), t.name).toEqual(t.fields.map((f) => f.name));
      expect(
        t.fields.map((f) => made[f.name]),
        t.name,
      ).toEqual(args);
      expect(loraValueTypeOf(made)).toBe(t);
    }
  });

  it("finds the entry of an exact class only", () => {
    class Later extends values.LoraDate {}
    expect(loraValueTypeOf(new Later(1, 2, 3))).toBeUndefined();
    expect(loraValueTypeOf({ year: 1, month: 2, day: 3 })).toBeUndefined();
    expect(loraValueTypeOf(new values.LoraFloat(1n))).toBeUndefined();
  });

  it("has one vector element type per typed array, subtags 1 to 6", () => {
    expect(LORA_VECTOR_ELEMENTS.map((e) => e.subtag)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const e of LORA_VECTOR_ELEMENTS) expect(loraVectorElementOf(new e.array(2))).toBe(e);
    expect(loraVectorElementOf(new Uint8Array(2) as never)).toBeUndefined();
  });
});
