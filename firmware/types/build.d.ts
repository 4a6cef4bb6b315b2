// Constants the build folds into each board's bundle (tools/build.ts, esbuild `define`).
// Only firmware/main.ts and firmware/hal.ts may read them; other modules take options.

/** The board description, compacted from boards/<board>.json. */
declare const BOARD: {
  id: string;
  family: "ESP32" | "ESP8266";
  pins: string[];
  analog: string[];
  inputOnly: string[];
  pwm: string[];
  noWatch: string[];
  reserved: string[];
  led: string;
  ledActiveLow: boolean;
  button: string;
  hasTemperature: boolean;
  blocks: number;
  maxFrame: number;
  inflight: number;
  outQueue: number;
  offlineQueue: number;
  dedup: number;
};
/** The same as BOARD, as a JSON string literal: JSON.parse it where it is needed (boot, config
 *  command) so that no board object stays in RAM (a defined object literal becomes a module-level
 *  value that lives as long as the program). */
declare const BOARD_JSON: string;
/** Device config baked with `npm run build -- --config file`, or null. */
declare const DEFAULT_CONFIG: any;
/** package.json version. */
declare const FW_VERSION: string;
