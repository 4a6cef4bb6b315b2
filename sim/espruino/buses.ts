// The host side of the real interpreter's sensor buses (sim/espruino/buses.js, stored as .boot2
// when sensors are wired): each I2C / 1-Wire transaction and each digitalPulse the device makes is
// run on the board's SensorBuses (sim/hw/buses.ts: the chip models the V8 engine's realm uses too),
// and its answer written to the FIFO the device is blocked reading. The models stay the only
// state: nothing is copied to the device, so a value set, a chip unplugged or a corrupt frame
// scripted on the host is what the device's next transaction sees.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { SensorBuses } from "../hw/buses";

export const BUSES_FILE = path.join(__dirname, "buses.js");
/** the FIFO's name in the board's directory (the interpreter's cwd), as buses.js reads it */
export const FIFO_NAME = "sensors.fifo";

const bytes = (d: unknown): number[] => (typeof d === "number" ? [d] : Array.isArray(d) ? d.map(Number) : []);
/** bytes as the string of their char codes that buses.js turns into a Uint8Array */
const chars = (b: ArrayLike<number>): string => Array.from(b, (x) => String.fromCharCode(x & 255)).join("");

/** The kinds of bus wired ("i" I2C, "o" 1-Wire, "d" DHT): the parts of buses.js that are installed. */
export function wiredKinds(sensors: SensorBuses): string {
  return (sensors.i2c.size ? "i" : "") + (sensors.ow.size ? "o" : "") + (sensors.dht.size ? "d" : "");
}

/** One request of buses.js run on the models: its answer (see buses.js for the table). */
export function busAnswer(sensors: SensorBuses, r: any[]): unknown {
  const [op, bus] = r;
  if (op === "iw" || op === "ir") {
    const b = sensors.i2c.get(String(bus));
    if (!b) return 0;
    try {
      if (op === "iw") {
        b.writeTo(+r[2], bytes(r[3]));
        return 1;
      }
      return chars(b.readFrom(+r[2], +r[3]));
    } catch {
      // VirtualI2c throws for an address nothing acknowledges, like Espruino's I2C
      return 0;
    }
  }
  if (op === "dp") {
    // tenths of µs after the release, two chars each, high byte first
    const falls = (!r[2] && sensors.dhtAnswer(String(bus), +r[3])) || [];
    return falls.map((us) => {
      const v = Math.min(65535, Math.max(0, Math.round(us * 10)));
      return String.fromCharCode(v >> 8, v & 255);
    }).join("");
  }
  const w = sensors.ow.get(String(bus));
  switch (op) {
    case "or":
      return w ? w.reset() : false;
    case "os":
      return w ? w.search(+r[2]) : [];
    case "ow":
      if (w && typeof r[2] === "string") w.select(r[2]);
      else if (w) w.write(bytes(r[2]));
      return 1;
    case "od":
      // a released line reads all ones
      return chars(w ? w.read(+r[2]) : new Array(+r[2]).fill(255));
  }
  return 0;
}

/**
 * JSON with every char from 0x7F up as a \u00XX escape: a raw byte 0xD1 or 0xD2 in the text makes
 * Espruino 2v29's JSON.parse read a pretokenised string (it crashed the interpreter: LINUX.md,
 * test/espruino/divergences.test.ts), and bus bytes and DHT edge times are any bytes.
 */
export function asciiJson(v: unknown): string {
  return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

/** The FIFO of one board's directory and the writing of answers into it. */
export class BusAnswerer {
  readonly fifo: string;

  constructor(dir: string, private readonly sensors: SensorBuses, private readonly log: (line: string) => void) {
    this.fifo = path.join(dir, FIFO_NAME);
    if (!fs.existsSync(this.fifo)) execFileSync("mkfifo", [this.fifo]);
  }

  /**
   * Answers a request. The device prints it, then opens the FIFO to read: a writer opened without
   * blocking fails (ENXIO) until that open is under way, so it tries again, for a second at most
   * (the process may have been killed meanwhile). `alive` false: that process is gone, drop it.
   */
  answer(r: any[], alive: () => boolean): void {
    let text: string;
    try {
      text = asciiJson(busAnswer(this.sensors, r));
    } catch (e) {
      this.log(`sim: sensor request ${JSON.stringify(r)} failed: ${e}`);
      text = "0";
    }
    const end = Date.now() + 1000;
    const put = () => {
      if (!alive()) return;
      let fd: number;
      try {
        fd = fs.openSync(this.fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
      } catch (e: any) {
        if (e && e.code === "ENXIO" && Date.now() < end) setImmediate(put);
        else this.log(`sim: no reader for the sensor answer to ${JSON.stringify(r)} (${e && e.code})`);
        return;
      }
      try {
        fs.writeSync(fd, text, null, "latin1");
      } finally {
        fs.closeSync(fd);
      }
    };
    put();
  }
}
