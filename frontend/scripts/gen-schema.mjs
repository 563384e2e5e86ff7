// Writes the backend's OpenAPI schema to frontend/openapi.json (the committed copy the client is
// generated from), so a change in the API shows up as a diff here and a type error in the app.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
const python = process.env.CONTANGO_PYTHON ?? resolve(root, ".venv", "bin", "python");
const code =
  "import json; from contango.api.app import create_app; " +
  "print(json.dumps(create_app().openapi(), indent=2, sort_keys=True))";
const schema = execFileSync(python, ["-c", code], { cwd: root, encoding: "utf8" });
JSON.parse(schema); // refuse to write anything that is not JSON
writeFileSync(resolve(here, "..", "openapi.json"), schema);
console.log("wrote openapi.json");
