// JMQT client figures: decode/encode throughput against bare JSON.parse/JSON.stringify on the same
// frames, framer throughput, and the size of the client alone once built for the board.
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { build } from "esbuild";
import { transform } from "@swc/core";
import { minify } from "terser";
import { decode, encode, newDecoded, type PacketName } from "../firmware/jmqt/codec";
import { createFramer } from "../firmware/jmqt/framer";

const FRAMES = [
  '{"push": {"cn": "sensors/temp", "dt": {"t": 21.6}, "cl": "devA", "id": "5142e05c-e830-11f1-90d8-02fc00000001", "q": 1}}',
  '{"push": {"cn": "update", "dt": {"online": "devB"}, "cl": ""}}',
  '{"pubAck": {"st": 1, "id": "7"}}',
  '{"hbAck": {}}',
  '{"push": {"cn": "#devA", "dt": {"cmd": "set", "pin": "led", "v": 1, "rid": "r1"}, "cl": "devB", "id": "530d7cc6-e830-11f1-90d8-02fc00000001", "q": 1}}',
  '{"subAck": {"st": 1, "cn": "sensors/temp"}}',
];

function rate(label: string, n: number, fn: () => number): number {
  let sink = 0;
  for (let i = 0; i < 2000; i++) sink += fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink += fn();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const perSec = Math.round((n / ms) * 1000);
  console.log(`${label.padEnd(44)} ${perSec.toLocaleString("en").padStart(12)} /s`);
  if (sink === -1) console.log("");
  return perSec;
}

// The same pipeline and options as tools/build.ts, applied to the client alone.
async function clientSize(): Promise<void> {
  const out = await build({
    stdin: { contents: 'import { createClient } from "./firmware/jmqt/client";\nmodule.exports = createClient;\n', resolveDir: join(__dirname, ".."), loader: "ts" },
    bundle: true, write: false, format: "cjs", platform: "neutral", target: "esnext", legalComments: "none",
    tsconfigRaw: { compilerOptions: { useDefineForClassFields: false } },
  });
  const es5 = await transform("(function(){\n" + out.outputFiles[0].text + "\n})();\n", {
    isModule: false,
    jsc: {
      target: "es5", loose: true, externalHelpers: false, parser: { syntax: "ecmascript" },
      assumptions: { noClassCalls: true, setPublicClassFields: true, ignoreFunctionLength: true, iterableIsArray: true },
    },
  });
  const min = await minify(es5.code, {
    ecma: 5, toplevel: true, mangle: { toplevel: true },
    compress: { passes: 3, ecma: 5, keep_fargs: false, pure_getters: true },
    format: { ascii_only: true, ecma: 5, comments: false },
  });
  const code = min.code || "";
  console.log(`client alone (esbuild + swc es5 + terser ecma 5, tools/build.ts options): ${code.length} bytes, ${gzipSync(code).length} gzip bytes`);
  if (process.env.JMQT_PRINT_MIN) console.log(code);
}

export async function run(): Promise<void> {
  const N = 300_000;
  const out = newDecoded();
  let i = 0;
  const dec = rate("codec.decode (frames/s)", N, () => decode(FRAMES[i++ % FRAMES.length], out));
  i = 0;
  const parse = rate("JSON.parse floor (frames/s)", N, () => (JSON.parse(FRAMES[i++ % FRAMES.length]) ? 1 : 0));
  console.log(`decode / JSON.parse: ${(dec / parse).toFixed(2)}`);

  const bodies = FRAMES.map((f) => {
    const o = JSON.parse(f);
    const k = Object.keys(o)[0];
    return { k: k as PacketName, b: o[k], whole: o };
  });
  i = 0;
  const enc = rate("codec.encode (packets/s)", N, () => {
    const p = bodies[i++ % bodies.length];
    return encode(p.k, p.b).length;
  });
  i = 0;
  const str = rate("JSON.stringify floor (packets/s)", N, () => JSON.stringify(bodies[i++ % bodies.length].whole).length);
  console.log(`encode / JSON.stringify: ${(enc / str).toFixed(2)}`);

  const stream = FRAMES.join("\0") + "\0";
  const chunks: string[] = [];
  for (let j = 0; j < stream.length; j += 37) chunks.push(stream.slice(j, j + 37));
  let frames = 0;
  const fr = createFramer(1024, () => frames++);
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < 50_000; r++) for (const c of chunks) fr.feed(c);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`${"framer, 37-char chunks (frames/s)".padEnd(44)} ${Math.round((frames / ms) * 1000).toLocaleString("en").padStart(12)} /s`);

  await clientSize();
}

if (require.main === module) void run();
