// The buses a sensor driver talks to, and the driver contract itself.
//
// A driver (bme280.ts, ds18b20.ts, dht.ts) touches no Espruino global but setTimeout: it is handed
// one of these buses. On the board, espruino-bus.ts makes them from I2C1 / OneWire / digitalPulse +
// setWatch; in Node tests and in the simulator, sim/devices/*.ts implement them with a model of the
// chip. The shapes follow Espruino's own objects so that the board adapter is next to nothing
// (I2C1 and a `new OneWire(pin)` are used as they are).
//
// Bus methods may throw (Espruino reports a NACK or a bus fault as an exception); a driver catches
// everything and reports it as a value. Byte arrays may be Uint8Array (Espruino) or number[] (Node).

/** I2C master, as Espruino's I2C1 after setup({sda, scl}). */
export interface I2cBus {
  /** START, address (7-bit) + write, the bytes, STOP */
  writeTo(addr: number, data: number | number[]): void;
  /** START, address + read, `n` bytes, STOP */
  readFrom(addr: number, n: number): ArrayLike<number>;
}

/** 1-Wire master on one pin, as Espruino's `new OneWire(pin)`. ROM ids are 16 lower-case hex
 *  characters, bytes in wire order: family code first, CRC last ("28ff4a2b0416034e"). */
export interface OneWireBus {
  /** reset pulse; true when some device answered with a presence pulse */
  reset(): boolean;
  /** SEARCH ROM (0xF0) until every device on the bus is found */
  search(): string[];
  /** MATCH ROM (0x55) + the 8 ROM bytes */
  select(rom: string): void;
  /** SKIP ROM (0xCC): the next function command goes to every device */
  skip(): void;
  /** bytes LSB first; `power` keeps the line driven high afterwards (parasite-powered devices) */
  write(data: number | number[], power?: boolean): void;
  read(n: number): ArrayLike<number>;
}

/** One open-drain data pin with a pull-up (DHT22/DHT11). */
export interface PinBus {
  /** drive the line low for `ms`, then release it (digitalPulse) */
  low(ms: number): void;
  /** call fn(time in s) on every falling edge of the line until unwatch(id) */
  watch(fn: (t: number) => void): any;
  unwatch(id: any): void;
}

/** A reading: `v` the values (null when nothing could be read), `err` why not (or, with a partial
 *  reading such as one of several DS18B20s failing, what failed). Called exactly once per read(),
 *  always later than the read() call returned. */
export type Done = (v: any, err?: string) => void;

/** What a driver file's factory returns (see docs/sensors.md, "Loading contract"). */
export interface Driver {
  /** start one reading; never throws; a read while one is running answers (null, "busy") */
  read(cb: Done): void;
}
