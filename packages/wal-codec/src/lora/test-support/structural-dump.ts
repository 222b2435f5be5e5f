/**
 * A type-exact structural dump for test assertions. vitest's `toStrictEqual` reads `.constructor`, which is an own
 * key in maps that hold a "constructor" property; this dump records prototypes, class names, typed-array bytes
 * and float bits explicitly instead.
 */

const f64 = new DataView(new ArrayBuffer(8));

export function dump(v: unknown): unknown {
  switch (typeof v) {
    case "number":
      f64.setFloat64(0, v, true);
      return `f64:${f64.getBigUint64(0, true).toString(16)}`;
    case "bigint":
      return `big:${v}`;
    case "object": {
      if (v === null) return null;
      if (Array.isArray(v)) return v.map(dump);
      if (ArrayBuffer.isView(v)) {
        return [v.constructor.name, Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex")];
      }
      const proto = Object.getPrototypeOf(v) as { constructor: { name: string } } | null;
      const kind = proto === null ? "null-proto" : proto === Object.prototype ? "object" : proto.constructor.name;
      const entries = Object.keys(v)
        .sort()
        .map((k) => [k, dump((v as Record<string, unknown>)[k])]);
      return [kind, entries];
    }
    default:
      return v;
  }
}
