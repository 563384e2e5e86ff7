// Lint rules for the web app. The import zones keep the layering of CONVENTIONS.md: features do
// not import each other; shared code (components, lib, client) imports no feature and not the app.
import { readdirSync } from "node:fs";
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import reactHooks from "eslint-plugin-react-hooks";
import importPlugin from "eslint-plugin-import";
import globals from "globals";

const features = readdirSync(new URL("./src/features", import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

const zones = [
  ...features.map((feature) => ({
    target: `./src/features/${feature}`,
    from: "./src/features",
    except: [`./${feature}`],
    message: "features do not import each other: move shared code to src/components or src/lib",
  })),
  { target: "./src/features", from: "./src/app", message: "features do not import the app shell" },
  {
    target: ["./src/components", "./src/lib", "./src/client"],
    from: ["./src/features", "./src/app"],
    message: "shared code must not depend on features or the app",
  },
];

export default tseslint.config(
  { ignores: ["dist", "node_modules", "src/client/schema.d.ts", "e2e/screenshots"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.{ts,tsx}"],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    plugins: { "react-hooks": reactHooks, import: importPlugin },
    settings: { "import/resolver": { node: { extensions: [".ts", ".tsx", ".js"] } } },
    rules: {
      ...reactHooks.configs.recommended.rules,
      // The compiler-oriented rules of react-hooks 7 flag ordinary patterns (syncing a query's
      // data into an editable draft); keep the classic two.
      "react-hooks/set-state-in-effect": "off",
      "react-hooks/refs": "off",
      "import/no-restricted-paths": ["error", { zones }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "no-restricted-globals": ["error", { name: "localStorage", message: "tokens live in httpOnly cookies; use window.localStorage only for UI preferences" }],
    },
  },
  {
    files: ["e2e/**/*.{ts,mjs,js}", "scripts/**/*.mjs", "*.config.{js,ts}"],
    // e2e callbacks passed to page.evaluate run in the browser, hence its globals too.
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
);
