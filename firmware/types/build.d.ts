// Constants the build folds into each board's bundle (tools/build.ts, esbuild `define`).
// Only firmware/hal.ts and firmware/main.ts read them; other modules take options.

/** The board description (firmware/runtime/config.ts BoardInfo, compacted from
 *  boards/<board>.json) as a JSON string literal: JSON.parse it where it is needed (boot, config
 *  command) so that no board object stays in RAM (a defined object literal would become a
 *  module-level value that lives as long as the program). */
declare const BOARD_JSON: string;
/** Device config baked with `npm run build -- --config file`, as JSON text ("" when none): a
 *  string literal is parsed when needed rather than kept in RAM as an object. */
declare const DEFAULT_CONFIG: string;
/** package.json version. */
declare const FW_VERSION: string;
