// Sensor models for simulated pins: a value as a pure function of time since attach (ms), so runs
// are deterministic. Analog pins read the value (0..1, clamped); digital pins read value >= 0.5.

export type SensorModel =
  | { type: "constant"; value: number }
  /** holds `initial` (default 0) then each step's value from its `at` (ms after attach) */
  | { type: "step"; steps: { at: number; value: number }[]; initial?: number }
  | { type: "sine"; mean: number; amplitude: number; periodMs: number; phaseMs?: number }
  /** seeded random walk: moves by up to ±step every everyMs (default 1000), kept within [min, max] */
  | { type: "walk"; start: number; step: number; everyMs?: number; min?: number; max?: number; seed?: number }
  /** recorded trace of {t, v}; holds each v until the next t (or interpolates); loops when asked */
  | { type: "trace"; points: { t: number; v: number }[]; loop?: boolean; interpolate?: boolean };

export interface Sensor {
  value(tMs: number): number;
  /** times (ms after attach) where the value jumps, for digital edges (step and trace only) */
  changeTimes: number[];
}

/** mulberry32: small, fast, seeded PRNG returning [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function makeSensor(model: SensorModel, seed = 1): Sensor {
  switch (model.type) {
    case "constant":
      return { value: () => model.value, changeTimes: [] };
    case "step": {
      const steps = model.steps.slice().sort((a, b) => a.at - b.at);
      const initial = model.initial || 0;
      return {
        value(t) {
          let v = initial;
          for (const s of steps) if (s.at <= t) v = s.value;
          return v;
        },
        changeTimes: steps.map((s) => s.at),
      };
    }
    case "sine": {
      const phase = model.phaseMs || 0;
      return {
        value: (t) => model.mean + model.amplitude * Math.sin((2 * Math.PI * (t + phase)) / model.periodMs),
        changeTimes: [],
      };
    }
    case "walk": {
      const every = model.everyMs || 1000;
      const rnd = seededRandom(model.seed === undefined ? seed : model.seed);
      const min = model.min === undefined ? -Infinity : model.min;
      const max = model.max === undefined ? Infinity : model.max;
      const values = [model.start];
      return {
        value(t) {
          const n = Math.max(0, Math.floor(t / every));
          while (values.length <= n) {
            const prev = values[values.length - 1];
            const next = prev + (rnd() * 2 - 1) * model.step;
            values.push(Math.min(max, Math.max(min, next)));
          }
          return values[n];
        },
        changeTimes: [],
      };
    }
    case "trace": {
      const pts = model.points.slice().sort((a, b) => a.t - b.t);
      if (!pts.length) throw new Error("sensor trace: no points");
      const span = pts[pts.length - 1].t;
      return {
        value(t) {
          if (model.loop && span > 0) t = t % span;
          if (t <= pts[0].t) return pts[0].v;
          for (let i = 1; i < pts.length; i++) {
            if (pts[i].t > t) {
              const a = pts[i - 1];
              const b = pts[i];
              return model.interpolate ? a.v + ((b.v - a.v) * (t - a.t)) / (b.t - a.t) : a.v;
            }
          }
          return pts[pts.length - 1].v;
        },
        changeTimes: model.interpolate ? [] : pts.map((p) => p.t),
      };
    }
    default:
      throw new Error("unknown sensor model: " + JSON.stringify(model));
  }
}
