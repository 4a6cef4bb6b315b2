#!/usr/bin/env node
// `jmqt` command (package.json "bin"): runs sim/cli.ts through tsx's CommonJS hook.
"use strict";
require("tsx/cjs");
const { main } = require("../sim/cli.ts");

main(process.argv.slice(2)).then(
  (code) => {
    // let stdout/stderr drain before leaving (pipes are asynchronous)
    process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
  },
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
