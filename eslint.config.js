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
    languageOptions: { parser: tseslint.parser, parserOptions: { projectService: true } },
    plugins: { "@typescript-eslint": tseslint.plugin },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/require-await": "error",
    },
  },
);
