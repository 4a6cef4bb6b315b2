// npm run bench: runs every bench/<area>.ts that exports `run()`, in name order, and prints figures.
import { readdirSync } from "node:fs";
import { join } from "node:path";

async function main(): Promise<void> {
  const only = process.argv[2];
  const files = readdirSync(__dirname)
    .filter((f) => f.endsWith(".ts") && f !== "index.ts" && !f.startsWith("_"))
    .filter((f) => !only || f.startsWith(only))
    .sort();
  for (const f of files) {
    const mod = await import(join(__dirname, f));
    if (typeof mod.run !== "function") continue;
    console.log(`\n## ${f.replace(/\.ts$/, "")}`);
    await mod.run();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
