// Copies the client of clients/ts into the mini program (WeChat DevTools
// compiles only files inside miniprogram/): the runtime sources into
// miniprogram/kaidian/, the large generated types into typings/ (outside
// the code package), with a one-line miniprogram/kaidian/schema.d.ts that
// re-exports them. The copies are not committed: npm install (its prepare
// script) and npm run check make them afresh.
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";

const src = new URL("../../../clients/ts/src/", import.meta.url);
const dest = new URL("../miniprogram/kaidian/", import.meta.url);
const typings = new URL("../typings/", import.meta.url);
mkdirSync(dest, { recursive: true });
mkdirSync(typings, { recursive: true });
for (const f of ["client.ts", "wx.ts", "index.ts", "error-codes.ts"]) copyFileSync(new URL(f, src), new URL(f, dest));
copyFileSync(new URL("schema.d.ts", src), new URL("kaidian-schema.d.ts", typings));
writeFileSync(
  new URL("schema.d.ts", dest),
  "// Copied by scripts/copy-client.mjs; the types live in typings/kaidian-schema.d.ts (outside the code package).\n" +
    'export type { paths, components, operations } from "../../typings/kaidian-schema";\n',
);
console.log("copied clients/ts/src into miniprogram/kaidian/");
