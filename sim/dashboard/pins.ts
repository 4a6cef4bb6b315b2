// Which pins the dashboard draws and in what role, from boards/<board>.json and the device config.
import type { PinInfo } from "./hub";

/** The pins the page draws: every board pin with the role the config gives it. */
export function describePins(board: any, cfg: any): PinInfo[] {
  const roles: Record<string, { name: string; kind: string }> = {};
  const kindOfInput: Record<string, string> = { digital: "in", analog: "analog", pulse: "count" };
  const sensor = ["bme280", "bmp280", "ds18b20", "dht22", "dht11"];
  for (const it of cfg.inputs || []) {
    if (it && it.pin && kindOfInput[it.type]) roles[it.pin] = { name: it.name, kind: kindOfInput[it.type] };
    // a sensor's bus pins (two chips may share an sda/scl pair: the first named keeps it)
    else if (it && sensor.includes(it.type)) for (const p of [it.pin, it.sda, it.scl]) if (typeof p === "string" && !roles[p]) roles[p] = { name: it.name, kind: "sensor" };
  }
  for (const it of cfg.outputs || []) if (it && it.pin) roles[it.pin] = { name: it.name, kind: it.type === "pwm" ? "pwm" : "out" };
  const reserved = board.reserved instanceof Array ? board.reserved : Object.keys(board.reserved || {});
  return board.pins.map((pin: string) => ({
    pin,
    name: roles[pin]?.name ?? "",
    kind: roles[pin]?.kind ?? "",
    reserved: reserved.includes(pin),
    led: pin === board.led,
  }));
}
