// The runtime's sensor glue (issue 13 phase B), kept out of the main bundle: built to
// dist/<board>.drv.run.js, flashed as Storage `drv.run`, evaluated by run() (firmware/runtime/runtime.ts) only when the
// config names a sensor input (every function of the main bundle costs RAM blocks on the board
// even when unused; this file costs nothing on a device without sensors, docs/memory.md).
//
// It evaluates to one function, sense(rt, i, it):
//   - with `it` (the input's config, at apply time): loads `drv.bus` once and each type's driver
//     file once (a missing file throws "driver drv.<x> not in Storage, flash it", which run()
//     reports as a config error of that input), makes the bus and the driver, and sets the input's
//     record: driver_, precision_ {t, p, h} (10^decimals), deadband_ (number or {t, p, h}), rom_
//     the one ROM id of a ds18b20 with exactly one `rom` (published as a number), period_/ticksLeft_;
//   - without (the input's period, from tick): starts a reading; its callback rounds each quantity,
//     applies the deadband (a reading is published when any quantity moved by its deadband or
//     more) and publishes through rt.publish_ (the bundle's pub(), set on the device with drv.run),
//     or records the failure in rt.failing_ {name: reason} (status.se). A change of the set of
//     failing inputs republishes the retained `<prefix>status` with `se` (rt.statusPending_ while
//     the client refused that status: sent again with the next reading).
// The records' private fields (`_`) are mangled with the main bundle's names (tools/build.ts).
// Nothing here throws out of a callback: a failing sensor never stops the other inputs.
import { S_READY, ST_OK } from "../jmqt/api";
import { Sys } from "../board";
import type { Device, Inp } from "../runtime/runtime";
import { Tick } from "../runtime/runtime";

/** the bus object of drv.bus, and the factories by file name, loaded once */
let bus: any = null;
const fac: any = {};

// (measured: evaluating the driver files here, in a one-parameter function of this file, cost
// 25 blocks more per type than through hal.sys(Sys.EvalFile), bench/drivers.ts)

export function sense(rt: Device, i: Inp, it?: any): void {
  const b = rt.board_;
  const k = i.kind_ as number;
  if (it) {
    // kinds 7..11: bme280, bmp280, ds18b20, dht22, dht11 (the order of the type names in runtime.ts)
    const f = "bme280,bme280,ds18b20,dht,dht".split(",")[k - 7];
    if (!bus) bus = b.sys(Sys.EvalFile, "drv.bus");
    if (!fac[f]) fac[f] = b.sys(Sys.EvalFile, "drv." + f);
    i.driver_ =
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
      // (rounded: Math.pow returns a float on Espruino, a block more than an integer as a property)
      m[c] = Math.round(Math.pow(10, x));
    }
    i.precision_ = m;
    if (it.deadband !== undefined) i.deadband_ = it.deadband;
    if (k === 9 && it.rom && it.rom.length === 1) i.rom_ = it.rom[0];
    // in ticks (runtime.ts Inp): 60 s unless given
    if (!it.period) i.period_ = Math.round(60000 / (rt.tickMs_ || Tick.DefaultMs)) || 1;
    // the first reading 2 s after boot at the earliest (a DHT needs 1-2 s after power-on)
    i.ticksLeft_ = Math.ceil(2000 / (rt.tickMs_ || Tick.DefaultMs));
    return;
  }
  i.driver_.read((v: any, err?: string) => {
    // a reading that ends after the config changed belongs to no input any more
    if (rt.inputs_.indexOf(i) < 0) return;
    if (v && k === 7 && v.h === undefined) {
      v = null;
      err = "no humidity (BMP280)";
    }
    if (v && k === 8) delete v.h;
    if (v && i.rom_ !== undefined && typeof v[i.rom_] !== "number") v = null;
    if (v) {
      const r: any = {};
      const last = i.value_;
      let send = last === undefined || i.deadband_ === undefined;
      for (const c in v) {
        const x = v[c];
        if (typeof x !== "number") continue;
        const per = i.precision_ as { [quantity: string]: number };
        const mu = per[c] || per.t;
        // halves away from zero on both engines (runtime.ts roundTo)
        let y = Math.round(Math.abs(x) * mu) / mu;
        if (x < 0 && y) y = -y;
        r[c] = y;
        const was = i.rom_ !== undefined ? last : last && last[c];
        const d = typeof i.deadband_ === "object" ? i.deadband_[c] || 0 : (i.deadband_ as number);
        if (was === undefined || (y !== was && Math.abs(y - was) >= d)) send = true;
      }
      if (send) {
        i.value_ = i.rom_ !== undefined ? r[i.rom_] : r;
        (rt.publish_ as (i: Inp, dt: any) => void)(i, i.value_);
      }
    }
    // the failure state: se {name: reason} while the last reading failed; a change of the set
    // of failing inputs republishes the retained status
    let se = rt.failing_;
    const had = !!se && se[i.name_] !== undefined;
    if (err) {
      if (!se) se = rt.failing_ = {};
      se[i.name_] = err;
      rt.lastError_ = i.name_ + ": " + err;
    } else if (se && had) {
      delete se[i.name_];
      let any = 0;
      for (const x in se) if (se[x]) any = 1;
      if (!any) rt.failing_ = undefined;
    }
    // (statusPending_: a status the client refused, busy with other QoS 1 frames, is sent at the next reading)
    if ((had !== !!err || rt.statusPending_) && rt.client_.state === S_READY) {
      const st: any = { online: 1, id: rt.client_.cl, fw: rt.version_ };
      if (rt.configErrors_) st.err = rt.configErrors_;
      if (rt.failing_) st.se = rt.failing_;
      rt.statusPending_ = rt.client_.pub(rt.prefix_ + "status", st, 1, 1, null) !== ST_OK;
    }
  });
}
