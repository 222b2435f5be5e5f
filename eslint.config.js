// Type-aware promise rules only; formatting and everything else is Biome's job.
// In a WAL an un-awaited write() or datasync() is the bug class that matters most.
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "**/dist/**",
      "**/node_modules/**",
      "**/*.config.ts",
      "eslint.config.js",
      "**/results/**",
      "**/.readme-snippets/**",
    ],
  },
  {
    files: [
      "packages/*/src/**/*.ts",
      "packages/*/test/**/*.ts",
      "apps/*/src/**/*.ts",
      "examples/*/src/**/*.ts",
      "examples/*/test/**/*.ts",
    ],
    // One program over every package (tsconfig.check.json, what `pnpm typecheck` checks), not one per package: each
    // package's program type-checks the sources of the packages it imports again (43 s instead of 73 s idle here).
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { project: ["./tsconfig.check.json"], tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "@typescript-eslint": tseslint.plugin },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/require-await": "error",
    },
  },
  {
    // An option's default is taken only when the option is left out (optionOr, @lora/wal-codec): `??` also takes it
    // for `null`, which a caller's settings read back from JSON hold where they held NaN or nothing (a fence of null
    // opened at fence 0 and replayed the whole log onto a snapshot). Library code only: tests and test helpers may
    // default as they like.
    files: ["packages/*/src/**/*.ts"],
    ignores: ["**/*.test.ts", "**/test-support/**", "packages/test-utils/**"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector:
            "LogicalExpression[operator='??'] > MemberExpression.left:matches([object.name=/^(options|opts|given)$/], [object.type='MemberExpression'][object.object.type='ThisExpression'][object.property.name=/^(options|opts)$/])",
          message:
            "An option's default with `??` is also taken for null; use optionOr(options.x, default) from @lora/wal-codec, which takes it only for a left-out option, so the option's check refuses null.",
        },
      ],
    },
  },
);
