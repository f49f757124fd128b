// Generates src/schema.d.ts (openapi-typescript) and src/error-codes.ts from
// openapi.json, the document `kaidian openapi` prints (cmd/kaidian's
// TestOpenAPIDocumentIsCurrent keeps it equal to the code's).
//   node scripts/generate.mjs          write them
//   node scripts/generate.mjs --check  fail if the committed files differ
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";
import { errorCodesSource } from "./gen-error-codes.mjs";

const root = new URL("../", import.meta.url);
const docURL = new URL("openapi.json", root);
const check = process.argv.includes("--check");

const banner =
  "// Generated from openapi.json by scripts/generate.mjs (npm run generate) with openapi-typescript; do not edit.\n" +
  "// Regenerate after `go run ./cmd/kaidian openapi > clients/ts/openapi.json`.\n\n";
const files = {
  "src/schema.d.ts": banner + astToString(await openapiTS(JSON.parse(readFileSync(docURL, "utf8")))),
  "src/error-codes.ts": errorCodesSource(fileURLToPath(docURL)),
};

let stale = [];
for (const [path, want] of Object.entries(files)) {
  const url = new URL(path, root);
  const have = existsSync(url) ? readFileSync(url, "utf8") : null;
  if (have === want) continue;
  if (check) stale.push(path);
  else writeFileSync(url, want);
}
if (stale.length) {
  console.error(`clients/ts: ${stale.join(", ")} differ from what openapi.json gives: run npm run generate in clients/ts and commit`);
  process.exit(1);
}
console.log(check ? "clients/ts: generated files are current" : "clients/ts: generated " + Object.keys(files).join(", "));
