// The `ota` command family, device side (docs/ota.md). This file is built on its own into
// dist/<board>.ota.js, which is written to Storage as `jmqt.otr` and evaluated only when an `ota`
// request arrives: `eval(require("Storage").read("jmqt.otr"))(require("Storage"))` gives a
// handler h; the dispatcher (firmware/runtime/commands.ts) passes it each request, `h(dt)`, which
// returns the result (an object for ok, a string for the refusal), then asks `h()` whether an
// update is still open and drops the handler when it is not, so an idle device holds none of this
// in RAM. Returning the result (no reply callback) keeps function objects out of the main bundle.
// Function bodies stay in flash (the code is evaluated from a Storage string); the open update
// costs its closure and the small `u` object. `commit` only verifies; `install` (the dispatcher's
// last act before its reboot, runtime.ts later()) rewrites .bootcde and ends in E.reboot().
//
// Storage is reached only through `S` (OtaStorage below: require("Storage") on the board, a fake
// in the Node tests). E.CRC32 and atob are the board's globals (the tests provide them).
//
// Files: jmqt.new staging (the incoming bundle, written at chunk offsets), jmqt.prev the previous
// .bootcde, jmqt.ota the install/trial marker, jmqt.try "installed and verified", jmqt.bt "the
// trial boot happened" (written by the .boot1 guard), jmqt.res the last update's result.
// ES5 for Espruino: no hoisting (helpers are declared before use), no regexps, no labels.

/** The part of Espruino's Storage module the receiver uses. */
export interface OtaStorage {
  read(name: string, offset?: number, length?: number): string | undefined;
  write(name: string, data: string, offset?: number, size?: number): boolean;
  erase(name: string): void;
  getFree(): number;
}

/** An update left without a chunk for this long is dropped (staging erased) when the dispatcher asks `h()`. */
export const ABANDONED_MS = 120000;

/**
 * The handler. h(request) runs one request and returns its result: an object for ok (the
 * dispatcher adds re/ok), a string for the refusal's reason. h() (no request) returns 1 while an
 * update is open (keep me), 0 when none is (drop me); an update with no request for ABANDONED_MS
 * is dropped then.
 */
export type OtaHandler = (a?: any) => any;

export function receiver(S: OtaStorage): OtaHandler {
  // the open update: z size, c crc, v version, t trial seconds, k chunk size, n next chunk, m chunk count, at last activity
  let u: any = null;
  const P = 512; // copy piece: a flash string of this size costs a block or two

  function crc(name: string): number {
    const s = S.read(name);
    return s === undefined ? -1 : E.CRC32(s);
  }

  function len(name: string): number {
    const s = S.read(name);
    return s === undefined ? -1 : s.length;
  }

  /** Copies Storage file `a` (z bytes) to `b` in pieces; true when b's CRC is `c` afterwards. */
  function copy(a: string, b: string, z: number, c: number): boolean {
    S.erase(b);
    for (let o = 0; o < z; o += P) S.write(b, S.read(a, o, z - o < P ? z - o : P) as string, o, z);
    return crc(b) === c;
  }

  function drop(): void {
    u = null;
    S.erase("jmqt.new");
  }

  function res(): any {
    const r = S.read("jmqt.res");
    try {
      return r === undefined ? null : JSON.parse(r);
    } catch (e) {
      return null;
    }
  }

  function isInt(x: any, lo: number, hi: number): boolean {
    return typeof x === "number" && x === Math.floor(x) && x >= lo && x <= hi;
  }

  function run(a: any): any {
    const op = a.op;
    const now = Date.now();
    if (op === "state") {
      const st = u ? "recv" : S.read("jmqt.ota") === undefined ? "idle" : S.read("jmqt.try") === undefined ? "install" : "trial";
      const r: any = { st: st, res: res() };
      if (u) {
        r.v = u.v;
        r.n = u.n;
        r.m = u.m;
      }
      return r;
    }
    if (op === "confirm") {
      // the new firmware reached its session: the trial is over. Power cut before the marker is
      // erased: the guard rolls back (not confirmed); after: only leftovers, cleaned by begin.
      const m = S.read("jmqt.ota");
      if (m === undefined) {
        // leftovers of a confirm cut short after the marker went (the dispatcher confirms when it sees jmqt.try)
        S.erase("jmqt.try");
        S.erase("jmqt.bt");
        return {};
      }
      let v = "";
      try {
        v = JSON.parse(m).v;
      } catch (e) {}
      S.write("jmqt.res", JSON.stringify({ ok: 1, v: v }));
      S.erase("jmqt.ota");
      S.erase("jmqt.try");
      S.erase("jmqt.bt");
      return { v: v };
    }
    if (op === "abort") {
      if (u) drop();
      return {};
    }
    if (op === "begin") {
      if (S.read("jmqt.ota") !== undefined) return "busy: the last update is installing or on trial, not confirmed yet";
      if (u && now - u.at < 60000) {
        if (u.z === a.size && u.c === a.crc) return { n: u.n, cs: u.k, m: u.m };
        return "busy: another update (" + u.v + ", chunk " + u.n + " of " + u.m + ") is running";
      }
      const k = a.cs === undefined ? 512 : a.cs;
      const t = a.t === undefined ? 60 : a.t;
      if (!isInt(a.size, 1, 1048576)) return "bad size";
      if (!isInt(a.crc, 0, 4294967295)) return "bad crc (E.CRC32 of the bundle, 0..2^32-1)";
      if (typeof a.v !== "string" || !a.v || a.v.length > 32) return "bad v (version, 1..32 characters)";
      if (!isInt(k, 64, 4096)) return "bad cs (chunk size 64..4096)";
      if (!isInt(t, 1, 3600)) return "bad t (trial seconds 1..3600)";
      const cur = len(".bootcde");
      if (cur < 0) return "no .bootcde to keep as the previous firmware";
      if (u) drop();
      S.erase("jmqt.new");
      S.erase("jmqt.prev");
      S.erase("jmqt.try");
      S.erase("jmqt.bt");
      S.erase("jmqt.res");
      // staging + the copy of the running firmware + the new .bootcde + markers and file headers
      const need = 2 * a.size + cur + 512;
      const free = S.getFree();
      if (need > free) return "no room in Storage: need " + need + " bytes, free " + free;
      u = { z: a.size, c: a.crc, v: a.v, t: t, k: k, n: 0, m: Math.ceil(a.size / k), at: now };
      return { n: 0, cs: k, m: u.m };
    }
    if (!u) return "no update running (begin first)";
    if (op === "chunk") {
      const n = a.n;
      if (!isInt(n, 0, u.m - 1)) return "bad chunk number " + n + " (0.." + (u.m - 1) + ")";
      u.at = now;
      if (n < u.n) return { n: u.n, dup: 1 };
      if (n > u.n) return "out of order: got " + n + ", expected " + u.n;
      if (typeof a.d !== "string") return "chunk " + n + ": no data";
      const d = atob(a.d);
      const want = n === u.m - 1 ? u.z - n * u.k : u.k;
      if (d.length !== want) return "chunk " + n + ": " + d.length + " bytes, expected " + want;
      if (a.c !== undefined && E.CRC32(d) !== a.c) return "chunk " + n + ": crc mismatch, send it again";
      // the write's result is not looked at (the gate's write-result rule): commit checks the CRC
      S.write("jmqt.new", d, n * u.k, u.z);
      u.n++;
      return { n: u.n };
    }
    if (op === "commit") {
      // verify only: the install overwrites .bootcde, which the running firmware's functions are
      // read from, so it comes after the reply, as the last thing before the reboot ("install")
      if (u.n < u.m) return "incomplete: " + (u.m - u.n) + " chunks missing, expected " + u.n;
      const got = crc("jmqt.new");
      if (got !== u.c || len("jmqt.new") !== u.z) {
        const why = "crc mismatch: got " + got + ", expected " + u.c + "; update dropped, the running firmware is untouched";
        drop();
        return why;
      }
      u.ok = 1;
      return { v: u.v, reboot: 1 };
    }
    if (op === "install") {
      // The dispatcher's last act, ~1 s after the commit's reply (runtime.ts later()); 0 when
      // nothing verified is waiting. Nothing of the running firmware may run after it: it ends in
      // E.reboot() whatever happens, and the result goes to jmqt.res for `state` after the boot.
      if (!u.ok) return 0;
      const v = u.v;
      let err = "";
      // Until the marker exists a power cut leaves .bootcde as it was (the guard does nothing);
      // from then on the guard restores jmqt.prev unless jmqt.try is there too.
      const z = len(".bootcde");
      const pc = crc(".bootcde");
      if (!copy(".bootcde", "jmqt.prev", z, pc)) {
        S.erase("jmqt.prev");
        err = "could not keep the previous firmware (storage full?): update dropped";
      } else {
        S.write("jmqt.ota", JSON.stringify({ v: v, t: u.t, c: u.c }));
        if (!copy("jmqt.new", ".bootcde", u.z, u.c)) {
          // the marker stays if even this fails: the guard restores jmqt.prev at the next boot
          if (copy("jmqt.prev", ".bootcde", z, pc)) S.erase("jmqt.ota");
          err = "install failed, previous firmware kept";
        } else S.write("jmqt.try", "1");
      }
      if (err) S.write("jmqt.res", JSON.stringify({ ok: 0, v: v, err: err }));
      drop();
      E.reboot();
      return 1;
    }
    return "unknown ota op " + op;
  }

  return function (a?: any): any {
    if (a === undefined) {
      if (u && Date.now() - u.at > ABANDONED_MS) drop();
      return u ? 1 : 0;
    }
    try {
      return run(a);
    } catch (e) {
      return "failed: " + e;
    }
  };
}
