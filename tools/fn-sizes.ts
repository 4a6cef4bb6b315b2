// Prints every function of a built bundle with the length of its source text, longest first, with
// the source names from dist/<board>.names.json: Espruino interprets the text, so a call costs in
// proportion to the length of the function (all of it, also after a return) — the figure to keep
// small on the per-frame path. `npx tsx tools/fn-sizes.ts dist/esp8266.js`.
import * as acorn from "acorn";
import * as walk from "acorn-walk";
import { readFileSync } from "node:fs";
process.stdout.on("error", () => process.exit(0));
const src = readFileSync(process.argv[2], "latin1");
const names = JSON.parse(readFileSync(process.argv[2].replace(/\.js$/, ".names.json"), "utf8"));
const rev: any = {};
for (const [a, b] of Object.entries(names)) rev[a] = b;
const ast: any = acorn.parse(src, { ecmaVersion: 5 });
const out: [number, string][] = [];
walk.fullAncestor(ast, (n: any, _s: any, anc: any[]) => {
  if (n.type === "FunctionDeclaration" || n.type === "FunctionExpression") {
    let name = n.id ? n.id.name : "";
    const p = anc[anc.length - 2];
    if (!name && p && p.type === "Property") name = p.key.name || p.key.value;
    if (!name && p && p.type === "AssignmentExpression") name = src.slice(p.left.start, p.left.end);
    if (!name && p && p.type === "VariableDeclarator") name = p.id.name;
    out.push([n.end - n.start, name + (rev[name] ? "(" + rev[name] + ")" : "")]);
  }
});
out.sort((a, b) => b[0] - a[0]);
for (const [l, n] of out) console.log(String(l).padStart(6), n);
