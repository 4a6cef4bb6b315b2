// The frame generator of the fuzz tests (test/jmqt/fuzz.test.ts in the V8 model,
// test/espruino/load.espruino.test.ts on the real interpreter): the spec's sample frames and some
// the device really gets, mutated (inserted, dropped, replaced, repeated, truncated characters,
// deep bracket prefixes), and random bytes.
import { readFileSync } from "node:fs";
import { join } from "node:path";

const VECTORS = JSON.parse(readFileSync(join(__dirname, "..", "..", "..", "shared", "jmqt", "vectors.json"), "utf8"));


/** Server-to-client frames to mutate: the spec's samples and some the device really gets. */
export function seeds(): string[] {
  const out: string[] = [];
  for (const list of Object.values(VECTORS.samples) as string[][]) out.push(...list);
  out.push(
    '{"push":{"cn":"#dev1","dt":{"cmd":"ping","id":"1"},"cl":"admin","q":1,"id":"u1"}}',
    '{"push":{"cn":"a","dt":[1,{"b":"é"}],"cl":"x"}}',
    '{"pubAck":{"st":1,"id":"2","dt":{"channels":{"#dev1":"persistent"}}}}',
    '{"push":{"cn":"a","dt":"\\u20ac\\ud83d\\ude00\\\\u00e9","cl":"x"}}',
  );
  return out;
}

const ALPHABET = '{}[]":,\\0123456789abcdeflnrstu ' + "\u0000\u00ff\u00c3\u00a9";

export function mutate(r: () => number, f: string): string {
  const n = 1 + Math.floor(r() * 4);
  let s = f;
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * (s.length + 1));
    const op = Math.floor(r() * 6);
    const ch = ALPHABET.charAt(Math.floor(r() * ALPHABET.length));
    if (op === 0) s = s.slice(0, at) + ch + s.slice(at);
    else if (op === 1) s = s.slice(0, at) + s.slice(at + 1);
    else if (op === 2) s = s.slice(0, at) + ch + s.slice(at + 1);
    else if (op === 3) s = s.slice(0, at) + s.slice(at, at + 1 + Math.floor(r() * 40)).repeat(2 + Math.floor(r() * 30)) + s.slice(at);
    else if (op === 4) s = s.slice(0, at);
    else s = "[".repeat(Math.floor(r() * 400)) + s;
  }
  return s;
}

export function randomBytes(r: () => number): string {
  let s = "";
  const n = Math.floor(r() * 300);
  for (let i = 0; i < n; i++) s += String.fromCharCode(Math.floor(r() * 256));
  return s;
}
