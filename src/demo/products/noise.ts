/**
 * Random-access noise for the products demo. Every value is a function of (seed, absolute time)
 * only, never of where a run starts, so a 1-day and a 3-day run write identical bytes for the
 * days they share (the same property the seismic demo has, see signals.ts), and a random walk
 * never jumps at a file boundary.
 */
import { gaussFromHash, hashString, mulberry32 } from '../prng';

/** Module-local Math: under jest every global `Math` lookup costs ~0.3 µs (vm-context global). */
const M = Math;

const TWO32 = 4294967296;
const imul = M.imul;

/**
 * prng.ts's hash3, bit for bit, with a module-local imul: the same values at ~1/50 of the cost
 * under jest (see M above); the generator calls it ~30 M times.
 */
export function hash3(seed: number, lo: number, hi: number): number {
  let h = imul(lo ^ seed, 0x9e3779b1) ^ imul(hi + 0x7f4a7c15 + seed, 0x85ebca77);
  h ^= h >>> 15;
  h = imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  h = imul(h, 0x297a2d39);
  h ^= h >>> 15;
  return h >>> 0;
}

/** Near-Gaussian (mean 0, std 1) value number i of the stream `seed`. */
export function gaussAt(seed: number, i: number): number {
  return gaussFromHash(hash3(seed, i >>> 0, M.floor(i / TWO32) >>> 0));
}

/** Uniform [0, 1) value number i of the stream `seed`. */
export function uniformAt(seed: number, i: number): number {
  return hash3(seed, i >>> 0, M.floor(i / TWO32) >>> 0) / TWO32;
}

export function seedOf(...parts: Array<string | number>): number {
  return hashString(parts.join('|'));
}

/**
 * Brownian-like fractal value noise at t0 + k·step seconds (k < n), added into `out`: the sum
 * over octaves o = minOct..maxOct of Gaussian knots every 2^o s, linearly interpolated, with
 * std amp1·(2^o)^hurst. hurst 0.5 gives a random-walk (1/f²) spectrum between the octaves.
 */
export function addFractalNoise(out: Float64Array, seed: number, t0: number, step: number, minOct: number, maxOct: number, amp1: number, hurst = 0.5): void {
  const n = out.length;
  for (let o = minOct; o <= maxOct; o++) {
    const s = 2 ** o;
    const a = amp1 * s ** hurst;
    const os = (seed ^ M.imul(o + 1, 0x9e3779b1)) >>> 0;
    let j = M.floor(t0 / s);
    let v0 = gaussAt(os, j) * a;
    let v1 = gaussAt(os, j + 1) * a;
    for (let k = 0; k < n; k++) {
      const t = t0 + k * step;
      const jj = M.floor(t / s);
      if (jj !== j) {
        if (jj === j + 1) v0 = v1;
        else v0 = gaussAt(os, jj) * a;
        j = jj;
        v1 = gaussAt(os, j + 1) * a;
      }
      const f = (t - j * s) / s;
      out[k] += v0 + (v1 - v0) * f;
    }
  }
}

/** A fixed set of sinusoids: band-limited noise whose value depends on absolute time only. */
export interface SineBank {
  freq: Float64Array;
  phase: Float64Array;
  /** Per-sinusoid amplitude giving the requested RMS for the sum. */
  amp: number;
}

/** `count` sinusoids with frequencies spread over [f1, f2] Hz, RMS `rms` overall. */
export function sineBank(seedText: string, f1: number, f2: number, count: number, rms: number): SineBank {
  const rnd = mulberry32(hashString(seedText));
  const freq = new Float64Array(count);
  const phase = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    freq[i] = f1 + ((i + rnd()) / count) * (f2 - f1);
    phase[i] = 2 * M.PI * rnd();
  }
  return { freq, phase, amp: rms * M.sqrt(2 / count) };
}

/**
 * Value of a sine bank at absolute time t (epoch s). The phase is reduced as a fraction of a
 * cycle first: M.sin of a ~1e8 rad argument takes V8's slow range reduction (3× slower).
 */
export function sineBankAt(b: SineBank, t: number): number {
  let v = 0;
  for (let i = 0; i < b.freq.length; i++) {
    const c = b.freq[i] * t;
    v += M.sin(2 * M.PI * (c - M.floor(c)) + b.phase[i]);
  }
  return v * b.amp;
}

/** 0 outside [a, b], 1 inside with raised-cosine ramps of `ramp` (same units as t). */
export function taper(t: number, a: number, b: number, ramp: number): number {
  if (t <= a || t >= b) return 0;
  const r = M.min(ramp, (b - a) / 2);
  if (t < a + r) return 0.5 - 0.5 * M.cos((M.PI * (t - a)) / r);
  if (t > b - r) return 0.5 - 0.5 * M.cos((M.PI * (b - t)) / r);
  return 1;
}

/** Smooth 0→1 between e0 and e1. */
export function smoothstep(e0: number, e1: number, x: number): number {
  const u = M.min(1, M.max(0, (x - e0) / (e1 - e0)));
  return u * u * (3 - 2 * u);
}
