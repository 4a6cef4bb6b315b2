// The boot guard, written to Storage as `.boot1` (dist/boot1.js): Espruino runs it on every boot,
// before .bootcde. With no update in flight (no jmqt.ota) it returns at once and keeps nothing.
// Otherwise (docs/ota.md, "Boot guard"):
//   jmqt.try present, jmqt.bt absent: this is the trial boot of a verified install. Mark it
//     (jmqt.bt) and give the new firmware `t` seconds to confirm (erase jmqt.ota); a timer
//     reboots it if it has not, and the next boot restores.
//   anything else (install interrupted, or the trial boot already happened without a confirm):
//     put jmqt.prev back as .bootcde (unless it is there already), record the failure in
//     jmqt.res, then clear the marker (jmqt.ota first: it is what this guard looks at) and the
//     staging file.
// Every step is safe to cut: the files it looks at change only after the work they guard is done,
// and restoring twice is restoring once. ES5 for Espruino: no hoisting, no labels.
(function (S: EspruinoStorageModule) {
  let m: any = S.read("jmqt.ota");
  if (m === undefined) return;
  let v = "";
  let t = 60;
  try {
    m = JSON.parse(m);
    v = m.v;
    if (m.t > 0) t = m.t;
  } catch (e) {}
  const tried = S.read("jmqt.try") !== undefined;
  if (tried && S.read("jmqt.bt") === undefined) {
    S.write("jmqt.bt", "1");
    setTimeout(function () {
      if (S.read("jmqt.ota") !== undefined) E.reboot();
    }, t * 1000);
    return;
  }
  const p = S.read("jmqt.prev");
  if (p !== undefined) {
    const z = p.length;
    const b = S.read(".bootcde");
    if (b === undefined || b.length !== z || E.CRC32(b) !== E.CRC32(p)) {
      S.erase(".bootcde");
      for (let o = 0; o < z; o += 512) S.write(".bootcde", S.read("jmqt.prev", o, z - o < 512 ? z - o : 512) as string, o, z);
    }
  }
  S.write("jmqt.res", JSON.stringify({ ok: 0, v: v, err: tried ? "not confirmed in time: rolled back" : "install interrupted: rolled back" }));
  S.erase("jmqt.ota");
  S.erase("jmqt.try");
  S.erase("jmqt.bt");
  S.erase("jmqt.new");
})(require("Storage"));
