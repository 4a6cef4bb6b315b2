// The runtime's sensor glue (issue 13 phase B), kept out of the main bundle: built to
// dist/<board>.drv.run.js, flashed as Storage `drv.run`, evaluated by run() (firmware/runtime/runtime.ts) only when the
// config names a sensor input (every function of the main bundle costs RAM blocks on the board
// even when unused; this file costs nothing on a device without sensors, docs/memory.md).
//
// It evaluates to one function, sense(rt, i, it):
//   - with `it` (the input's config, at apply time): loads `drv.bus` once and each type's driver
//     file once (a missing file throws "driver drv.<x> not in Storage, flash it", which run()
//     reports as a config error of that input), makes the bus and the driver, and sets the input's
//     record: d driver, m multipliers {t, p, h} (10^precision), db deadband (number or {t, p, h}),
//     o the one ROM id of a ds18b20 with exactly one `rom` (published as a number), per/nx;
//   - without (the input's period, from tick): starts a reading; its callback rounds each quantity,
//     applies the deadband (a reading is published when any quantity moved by its deadband or
//     more) and publishes through rt.pub (the bundle's pub(), set on the device with drv.run), or records the failure in rt.se {name: reason}.
//     A change of the set of failing inputs republishes the retained `<prefix>status` with `se`
//     (rt.sp set while the client refused that status: sent again with the next reading).
// Nothing here throws out of a callback: a failing sensor never stops the other inputs.
import { S_READY, ST_OK } from "../jmqt/api";
import { Sys } from "../board";

/** the bus object of drv.bus, and the factories by file name, loaded once */
let bus: any = null;
const fac: any = {};

// (measured: evaluating the driver files here, in a one-parameter function of this file, cost
// 25 blocks more per type than through hal.sys(Sys.EvalFile), bench/drivers.ts)

export function sense(rt: any, i: any, it?: any): void {
  const b = rt.b;
  const k = i.k;
  if (it) {
    // kinds 7..11: bme280, bmp280, ds18b20, dht22, dht11 (the order of the type names in runtime.ts)
    const f = "bme280,bme280,ds18b20,dht,dht".split(",")[k - 7];
    if (!bus) bus = b.sys(Sys.EvalFile, "drv.bus");
    if (!fac[f]) fac[f] = b.sys(Sys.EvalFile, "drv." + f);
    i.d =
      k < 9 ? fac[f](bus.i2c(b.sys(Sys.PinByName, it.sda), b.sys(Sys.PinByName, it.scl)), { addr: it.addr, osr: it.osr })
      : k === 9 ? fac[f](bus.ow(b.sys(Sys.PinByName, it.pin)), { rom: it.rom, res: it.res })
      : fac[f](bus.pin(b.sys(Sys.PinByName, it.pin)), { type: k === 10 ? 22 : 11 });
    // decimals: t 2 (DHT 1), p 1, h 1 unless given, one number for all or per quantity
    const pr = it.precision;
    const m: any = {};
    const q = "tph";
    for (let n = 0; n < 3; n++) {
      const c = q.charAt(n);
      const x = typeof pr === "number" ? pr : pr && typeof pr[c] === "number" ? pr[c] : n || k > 9 ? 1 : 2;
      m[c] = Math.pow(10, x);
    }
    i.m = m;
    if (it.deadband !== undefined) i.db = it.deadband;
    if (k === 9 && it.rom && it.rom.length === 1) i.o = it.rom[0];
    if (!it.period) i.per = 60000;
    // the first reading at the second tick after boot (a DHT needs 1-2 s after power-on)
    i.nx = Date.now() + 2000;
    return;
  }
  i.d.read((v: any, err?: string) => {
    // a reading that ends after the config changed belongs to no input any more
    if (rt.ins.indexOf(i) < 0) return;
    if (v && k === 7 && v.h === undefined) {
      v = null;
      err = "no humidity (BMP280)";
    }
    if (v && k === 8) delete v.h;
    if (v && i.o !== undefined && typeof v[i.o] !== "number") v = null;
    if (v) {
      const r: any = {};
      const last = i.v;
      let send = last === undefined || i.db === undefined;
      for (const c in v) {
        const x = v[c];
        if (typeof x !== "number") continue;
        const mu = i.m[c] || i.m.t;
        // halves away from zero on both engines (runtime.ts roundTo)
        let y = Math.round(Math.abs(x) * mu) / mu;
        if (x < 0 && y) y = -y;
        r[c] = y;
        const was = i.o !== undefined ? last : last && last[c];
        const d = typeof i.db === "object" ? i.db[c] || 0 : i.db;
        if (was === undefined || (y !== was && Math.abs(y - was) >= d)) send = true;
      }
      if (send) {
        i.v = i.o !== undefined ? r[i.o] : r;
        rt.pub(i, i.v);
      }
    }
    // the failure state: se {name: reason} while the last reading failed; a change of the set
    // of failing inputs republishes the retained status
    let se = rt.se;
    const had = !!se && se[i.n] !== undefined;
    if (err) {
      if (!se) se = rt.se = {};
      se[i.n] = err;
      rt.err = i.n + ": " + err;
    } else if (had) {
      delete se[i.n];
      let any = 0;
      for (const x in se) if (se[x]) any = 1;
      if (!any) rt.se = undefined;
    }
    // (rt.sp: a status the client refused, busy with other QoS 1 frames, is sent at the next reading)
    if ((had !== !!err || rt.sp) && rt.cl.state === S_READY) {
      const st: any = { online: 1, id: rt.cl.cl, fw: rt.fw };
      if (rt.errs.length) st.err = rt.errs;
      if (rt.se) st.se = rt.se;
      rt.sp = rt.cl.pub(rt.pre + "status", st, 1, 1, null) !== ST_OK;
    }
  });
}
