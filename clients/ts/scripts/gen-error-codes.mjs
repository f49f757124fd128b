// Writes src/error-codes.ts: every stable error code the document lists
// (x-error-codes of each operation's error answers) as one union type.
import { readFileSync } from "node:fs";

export function errorCodesSource(docPath) {
  const doc = JSON.parse(readFileSync(docPath, "utf8"));
  const codes = new Set(["network_error", "invalid_response", "method_not_supported", "route_not_found", "method_not_allowed"]);
  for (const item of Object.values(doc.paths)) {
    for (const op of Object.values(item)) {
      for (const res of Object.values(op.responses ?? {})) for (const c of res["x-error-codes"] ?? []) codes.add(c);
    }
  }
  const sorted = [...codes].sort();
  return (
    "// Generated from openapi.json by scripts/gen-error-codes.mjs (npm run generate); do not edit.\n" +
    "// The server's stable error codes, plus network_error, invalid_response and\n" +
    "// method_not_supported from the client itself. Unknown codes still type-check.\n" +
    "export type KnownErrorCode =\n" +
    sorted.map((c) => `  | ${JSON.stringify(c)}`).join("\n") +
    ";\n\nexport type ErrorCode = KnownErrorCode | (string & {});\n"
  );
}
