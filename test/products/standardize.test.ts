/**
 * The optimised standardization (Hampel deciding most samples by counting, without the median,
 * and the rest of the default window by a rank sort and a counted MAD test; shared grid map with
 * its regular-period shortcut; fused counts; inline hypot) against the
 * previous straightforward implementation, kept here as the reference:
 * results must be identical bit for bit (±0 and NaN included), on random series with nulls,
 * constant runs, spikes, zeros of both signs, infinities, several windows / k / floors.
 */
import type { HampelParams, SourceParams } from '../../src/products/config';
import { Q_INTERPOLATED, Q_MISSING, Q_NO_SAMPLE, Q_NOT_RECORDED, Q_OUTLIER, Q_RESAMPLED, Q_SENTINEL } from '../../src/products/quality';
import { deriveHD, fillGaps, gridMap, hampel, standardizeSeries, toGrid, type GridSpec, type StdSeries } from '../../src/products/standardize';

// ---------------------------------------------------------------------------------------------
// Reference: the implementation before the optimisation (verbatim logic).

function refToGrid(times: ArrayLike<number>, values: ArrayLike<number>, sentinel: ArrayLike<number> | null, grid: GridSpec): StdSeries {
  const out = new Float64Array(grid.count).fill(NaN);
  const flags = new Int32Array(grid.count).fill(Q_NO_SAMPLE | Q_MISSING);
  const dist = new Float64Array(grid.count).fill(Infinity);
  const { start, step, count } = grid;
  for (let i = 0; i < times.length; i++) {
    const t = times[i];
    const k = Math.round((t - start) / step);
    if (k < 0 || k >= count) continue;
    const d = Math.abs(t - (start + k * step));
    if (d > step / 2 || d >= dist[k]) continue;
    dist[k] = d;
    const v = values[i];
    let f = d > 0 ? Q_RESAMPLED : 0;
    if (Number.isNaN(v)) {
      const s = sentinel ? sentinel[i] : 1;
      f |= Q_MISSING | (s === 2 ? Q_NOT_RECORDED : Q_SENTINEL);
    }
    out[k] = v;
    flags[k] = f;
  }
  return { values: out, flags };
}

function refHampel(values: Float64Array, flags: Int32Array, p: HampelParams): number {
  const n = values.length;
  const w = Math.max(1, Math.floor(p.halfWindow));
  const src = Float64Array.from(values);
  const win = new Float64Array(2 * w + 1);
  const dev = new Float64Array(2 * w + 1);
  const kScale = p.k * 1.4826;
  let outliers = 0;
  for (let i = 0; i < n; i++) {
    const x = src[i];
    if (Number.isNaN(x)) continue;
    let m = 0;
    const lo = i - w < 0 ? 0 : i - w;
    const hi = i + w >= n ? n - 1 : i + w;
    for (let j = lo; j <= hi; j++) {
      const v = src[j];
      if (Number.isNaN(v)) continue;
      let q = m++;
      while (q > 0 && win[q - 1] > v) {
        win[q] = win[q - 1];
        q--;
      }
      win[q] = v;
    }
    if (m < p.minValid) continue;
    const med = m & 1 ? win[m >> 1] : 0.5 * (win[(m >> 1) - 1] + win[m >> 1]);
    const d0 = Math.abs(x - med);
    if (d0 <= p.minThreshold) continue;
    for (let j = 0; j < m; j++) {
      const v = Math.abs(win[j] - med);
      let q = j;
      while (q > 0 && dev[q - 1] > v) {
        dev[q] = dev[q - 1];
        q--;
      }
      dev[q] = v;
    }
    const mad = m & 1 ? dev[m >> 1] : 0.5 * (dev[(m >> 1) - 1] + dev[m >> 1]);
    const thr = Math.max(kScale * mad, p.minThreshold);
    if (d0 > thr) {
      values[i] = med;
      flags[i] |= Q_OUTLIER;
      outliers++;
    }
  }
  return outliers;
}

function refFillGaps(values: Float64Array, flags: Int32Array, maxGap: number): number {
  if (maxGap <= 0) return 0;
  const n = values.length;
  let filled = 0;
  let i = 0;
  while (i < n) {
    if (!Number.isNaN(values[i])) {
      i++;
      continue;
    }
    let j = i;
    while (j < n && Number.isNaN(values[j])) j++;
    const len = j - i;
    let notRecorded = false;
    for (let k = i; k < j; k++) if (flags[k] & Q_NOT_RECORDED) notRecorded = true;
    if (i > 0 && j < n && len <= maxGap && !notRecorded) {
      const a = values[i - 1];
      const b = values[j];
      for (let k = i; k < j; k++) {
        const f = (k - i + 1) / (len + 1);
        values[k] = a + (b - a) * f;
        flags[k] = (flags[k] & ~Q_MISSING) | Q_INTERPOLATED;
      }
      filled += len;
    }
    i = j;
  }
  return filled;
}

function refStandardize(times: ArrayLike<number>, values: ArrayLike<number>, sentinel: ArrayLike<number> | null, grid: GridSpec, params: SourceParams) {
  const s = refToGrid(times, values, sentinel, grid);
  const outliers = params.hampel ? refHampel(s.values, s.flags, params.hampel) : 0;
  const interpolated = refFillGaps(s.values, s.flags, params.maxGapMs === undefined ? params.maxGapSamples : Math.min(params.maxGapSamples, Math.floor(params.maxGapMs / grid.step)));
  let missing = 0;
  for (let k = 0; k < s.flags.length; k++) if (s.flags[k] & Q_MISSING) missing++;
  return { ...s, outliers, interpolated, missing };
}

function refDeriveHD(x: StdSeries, y: StdSeries): { H: StdSeries; D: StdSeries } {
  const n = x.values.length;
  const h = new Float64Array(n);
  const d = new Float64Array(n);
  const f = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const a = x.values[i];
    const b = y.values[i];
    h[i] = Math.hypot(a, b);
    d[i] = (Math.atan2(b, a) * 180 * 60) / Math.PI;
    f[i] = x.flags[i] | y.flags[i];
  }
  return { H: { values: h, flags: f }, D: { values: d, flags: Int32Array.from(f) } };
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** Deterministic PRNG (LCG) so a failure is reproducible. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
}

/** First index where two float arrays differ bitwise (Object.is: ±0 apart, NaN = NaN), or −1. */
function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return -2;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

interface Series {
  values: Float64Array;
  sentinel: Uint8Array;
}

/**
 * Random series mixing the awkward cases: quantised random walk (MAD often 0), constant runs,
 * single and double spikes, null runs of every length (sentinel 1 or 2), ±0 and near-zero
 * values, optional infinities.
 */
function randomSeries(r: () => number, n: number, withInfinity: boolean): Series {
  const values = new Float64Array(n);
  const sentinel = new Uint8Array(n);
  let level = (r() - 0.5) * 200;
  const quantum = [0, 0.01, 0.1, 1][Math.floor(r() * 4)];
  for (let i = 0; i < n; i++) {
    const mode = r();
    if (mode < 0.02) {
      // constant run
      const len = 1 + Math.floor(r() * 20);
      for (let k = 0; k < len && i < n; k++, i++) values[i] = level;
      i--;
      continue;
    }
    level += (r() - 0.5) * 2;
    let v = quantum ? Math.round(level / quantum) * quantum : level;
    if (mode < 0.06) v += (r() < 0.5 ? -1 : 1) * (5 + r() * 5000); // spike
    else if (mode < 0.08) v = r() < 0.5 ? 0 : -0;
    else if (mode < 0.09) v = (r() - 0.5) * 1e-300;
    else if (withInfinity && mode < 0.1) v = r() < 0.5 ? Infinity : -Infinity;
    values[i] = v;
  }
  // null runs
  const runs = Math.floor(r() * (n / 20));
  for (let k = 0; k < runs; k++) {
    const at = Math.floor(r() * n);
    const len = 1 + Math.floor(r() * (r() < 0.8 ? 4 : 30));
    const code = r() < 0.7 ? 1 : 2;
    for (let i = at; i < at + len && i < n; i++) {
      values[i] = NaN;
      sentinel[i] = code;
    }
  }
  return { values, sentinel };
}

// Odd values (negative / NaN k, floor, minValid) take the fallbacks of the fast paths.
const WINDOWS = [1, 2, 3, 3, 3.7, 5, 8];
// 1 / 1.4826 and 2 / 1.4826 make k·1.4826 exactly 1 and 2: ties between |x − med| and k·MAD.
const KS = [0, 1, 3, 6, 6, 1 / 1.4826, 2 / 1.4826, -1, NaN];
const FLOORS = [0, 0.005, 1, 5, -1, NaN];
const MIN_VALID = [0, 1, 3, 5, 7, 8, 12, NaN];

function randomParams(r: () => number): HampelParams {
  const pick = <T>(a: T[]): T => a[Math.floor(r() * a.length)];
  return { halfWindow: pick(WINDOWS), k: pick(KS), minThreshold: pick(FLOORS), minValid: pick(MIN_VALID) };
}

// ---------------------------------------------------------------------------------------------

describe('Hampel: counting test + sorted windows = per-window sort (bit for bit)', () => {
  test('random series with nulls, constant runs, spikes, ±0; several windows, k, floors', () => {
    const r = rng(20240601);
    let outliers = 0;
    for (let trial = 0; trial < 400; trial++) {
      const n = trial < 40 ? trial : 50 + Math.floor(r() * 1500);
      const s = randomSeries(r, n, false);
      const p = randomParams(r);
      const a = Float64Array.from(s.values);
      const b = Float64Array.from(s.values);
      const fa = new Int32Array(n).fill(3);
      const fb = new Int32Array(n).fill(3);
      const oa = refHampel(a, fa, p);
      const ob = hampel(b, fb, p);
      outliers += oa;
      const at = firstDiff(a, b);
      if (at !== -1 || oa !== ob) throw new Error(`trial ${trial} (n ${n}, ${JSON.stringify(p)}): values differ at ${at}, outliers ${oa} vs ${ob}`);
      expect(firstDiff(fa, fb)).toBe(-1);
    }
    expect(outliers).toBeGreaterThan(1000); // the spikes were exercised
  });

  test('infinities and extreme magnitudes (generic MAD path)', () => {
    const r = rng(7);
    for (let trial = 0; trial < 150; trial++) {
      const n = 20 + Math.floor(r() * 400);
      const s = randomSeries(r, n, true);
      if (trial % 3 === 0) for (let i = 0; i < n; i += 1 + Math.floor(r() * 5)) if (s.values[i] === s.values[i]) s.values[i] = (r() < 0.5 ? -1 : 1) * 1.7e308;
      const p = randomParams(r);
      const a = Float64Array.from(s.values);
      const b = Float64Array.from(s.values);
      const fa = new Int32Array(n);
      const fb = new Int32Array(n);
      expect(hampel(b, fb, p)).toBe(refHampel(a, fa, p));
      expect(firstDiff(a, b)).toBe(-1);
      expect(firstDiff(fa, fb)).toBe(-1);
    }
  });

  test('noise about as wide as the floor (many samples near the decision), 2-decimal values', () => {
    const r = rng(11);
    for (const minThreshold of [1, 0.5, 0]) {
      for (const halfWindow of [3, 2, 5]) {
        const n = 20000;
        const v = Float64Array.from({ length: n }, (_, i) => Math.round((29800 + 20 * Math.sin(i / 3000) + (r() - 0.5) * 2 + (i % 997 === 0 ? 8 : 0)) * 100) / 100);
        for (let i = 0; i < n; i += 4999) v[i] = NaN;
        const p = { halfWindow, k: 6, minThreshold, minValid: 5 };
        const a = Float64Array.from(v);
        const b = Float64Array.from(v);
        const fa = new Int32Array(n);
        const fb = new Int32Array(n);
        const oa = refHampel(a, fa, p);
        expect(hampel(b, fb, p)).toBe(oa);
        expect(oa).toBeGreaterThan(0);
        expect(firstDiff(a, b)).toBe(-1);
        expect(firstDiff(fa, fb)).toBe(-1);
      }
    }
  });

  test('window of 7 (default geomag): isolated spike replaced by the median of its window', () => {
    const v = Float64Array.from([1, 2, 3, 4, 100, 5, 6, 7, 8]);
    const f = new Int32Array(v.length);
    expect(hampel(v, f, { halfWindow: 3, k: 6, minThreshold: 1, minValid: 5 })).toBe(1);
    expect(v[4]).toBe(5); // median of the window {2, 3, 4, 100, 5, 6, 7}
    expect(f[4]).toBe(Q_OUTLIER);
  });
});

/**
 * Station-day series (86 400 samples): a smooth geomagnetic-like signal with noise, spikes and
 * null gaps of every length; `noise` at about the floor makes many samples reach the median/MAD.
 */
function stationDay(r: () => number, noise: number, decimals: number): Float64Array {
  const n = 86400;
  const v = new Float64Array(n);
  const scale = 10 ** decimals;
  let walk = 0;
  for (let i = 0; i < n; i++) {
    walk += (r() - 0.5) * 0.3;
    const storm = i > 50000 && i < 60000 ? 80 * Math.sin((i - 50000) / 1500) : 0;
    let x = 29800 + 20 * Math.sin((2 * Math.PI * i) / n) + walk + storm + (r() - 0.5) * 2 * noise;
    const u = r();
    if (u < 0.001) x += (r() < 0.5 ? -1 : 1) * (2 + r() * 300); // spike
    else if (u < 0.0012) x = r() < 0.5 ? 0 : -0; // median 0 and its sign in the replacement
    v[i] = Math.round(x * scale) / scale;
    if (u > 0.9998) {
      // a double spike or a flat stretch (MAD 0)
      const len = 2 + Math.floor(r() * 12);
      for (let k = 1; k < len && i + 1 < n; k++) v[++i] = v[i - 1] + (len < 4 ? 50 : 0);
    }
  }
  for (let g = 0; g < 80; g++) {
    const at = Math.floor(r() * n);
    const len = 1 + Math.floor(r() * (r() < 0.8 ? 8 : 500));
    for (let i = at; i < at + len && i < n; i++) v[i] = NaN;
  }
  return v;
}

describe('Hampel: fast paths = sort-based reference on station-days and edge cases (bit for bit)', () => {
  const expectSame = (v: Float64Array, p: HampelParams, what: string): number => {
    const a = Float64Array.from(v);
    const b = Float64Array.from(v);
    const fa = new Int32Array(v.length).fill(5);
    const fb = new Int32Array(v.length).fill(5);
    const oa = refHampel(a, fa, p);
    const ob = hampel(b, fb, p);
    const at = firstDiff(a, b);
    const atf = firstDiff(fa, fb);
    if (at !== -1 || atf !== -1 || oa !== ob) throw new Error(`${what} ${JSON.stringify(p)}: values differ at ${at}, flags at ${atf}, outliers ${oa} vs ${ob}`);
    return oa;
  };

  test('86 400-sample days, several seeds, noise below and around the floor, default and other parameters', () => {
    const params: HampelParams[] = [
      { halfWindow: 3, k: 6, minThreshold: 1, minValid: 4 }, // geomag default
      { halfWindow: 2, k: 6, minThreshold: 5, minValid: 3 }, // aef default
      { halfWindow: 3, k: 6, minThreshold: 1, minValid: 5 }, // the defaults before (edges untested)
      { halfWindow: 3, k: 3, minThreshold: 0, minValid: 7 },
      { halfWindow: 2, k: 4, minThreshold: 0.5, minValid: 3 },
      { halfWindow: 3, k: 1 / 1.4826, minThreshold: 0, minValid: 5 }, // k·1.4826 = 1: ties
    ];
    let outliers = 0;
    for (const seed of [1, 2, 3, 4]) {
      const r = rng(seed * 7919);
      const day = stationDay(r, [0.05, 0.5, 1, 3][seed - 1], seed === 4 ? 1 : 2);
      for (const p of params) outliers += expectSame(day, p, `seed ${seed}`);
    }
    expect(outliers).toBeGreaterThan(500);
  });

  test('tie-heavy series from a small alphabet (±0 medians, MAD 0, |x − med| = k·MAD)', () => {
    const r = rng(31);
    const alphabet = [-0, 0, -0, 0, 1, -1, 2, 2, -3, 50, -50, NaN];
    let outliers = 0;
    for (let trial = 0; trial < 300; trial++) {
      const v = Float64Array.from({ length: 5 + Math.floor(r() * 200) }, () => alphabet[Math.floor(r() * (trial % 2 ? alphabet.length : alphabet.length - 1))]);
      const p = { halfWindow: [3, 3, 2][trial % 3], k: [6, 1 / 1.4826, 2 / 1.4826, 0][trial % 4], minThreshold: [0, 1][trial % 2], minValid: 1 };
      outliers += expectSame(v, p, `trial ${trial}`);
    }
    expect(outliers).toBeGreaterThan(1000);
  });

  test('edge cases: all null, shorter than the window, constant (MAD 0), short runs between nulls, ±0 medians', () => {
    const p = { halfWindow: 3, k: 6, minThreshold: 1, minValid: 5 };
    const p0 = { halfWindow: 3, k: 6, minThreshold: 0, minValid: 1 };
    const cases: Float64Array[] = [new Float64Array(0), new Float64Array(86400).fill(NaN), new Float64Array(86400).fill(29800.25)];
    for (let n = 1; n <= 9; n++) cases.push(Float64Array.from({ length: n }, (_, i) => (i === n >> 1 ? 500 : 1 + i * 0.01)));
    const c = new Float64Array(5000).fill(100);
    for (let i = 0; i < c.length; i += 97) c[i] = 103;
    for (let i = 5; i < c.length; i += 13) c[i] = NaN;
    cases.push(c);
    // Runs of 1..9 valid values between nulls.
    const runs: number[] = [];
    for (let len = 1; len <= 9; len++) for (let rep = 0; rep < 3; rep++) runs.push(...Array.from({ length: len }, (_, i) => (i === 1 ? 40 : i * 0.5)), NaN);
    cases.push(Float64Array.from(runs));
    // Zeros of both signs around spikes: the median (and replacement) is ±0.
    const z = Float64Array.from({ length: 2000 }, (_, i) => (i % 11 === 0 ? 9 : i % 3 === 0 ? -0 : i % 3 === 1 ? 0 : (i % 5) * 1e-3));
    cases.push(z);
    for (const [i, v] of cases.entries()) {
      expectSame(v, p, `case ${i}`);
      expectSame(v, p0, `case ${i}`);
    }
    const zb = Float64Array.from(z);
    hampel(zb, new Int32Array(zb.length), p0);
    expect(zb.some((v, i) => v !== z[i])).toBe(true); // spikes were replaced
  });
});

describe('grid, full chain and H/D = reference (bit for bit)', () => {
  test('toGrid: irregular, duplicate, off-grid and out-of-range stamps', () => {
    const r = rng(99);
    for (let trial = 0; trial < 100; trial++) {
      const step = [1000, 60000, 7][Math.floor(r() * 3)];
      const count = 1 + Math.floor(r() * 500);
      const start = Math.floor(r() * 1e6) * step;
      const times: number[] = [];
      let t = start - step * Math.floor(r() * 5);
      while (t < start + (count + 3) * step) {
        times.push(t);
        const u = r();
        t += u < 0.6 ? step : u < 0.75 ? Math.floor(r() * step) : u < 0.85 ? 0 : step * (1 + Math.floor(r() * 5)) + (r() < 0.5 ? step / 2 : 0);
      }
      const s = randomSeries(r, times.length, false);
      const sent = r() < 0.3 ? null : s.sentinel;
      const grid = { start, step, count };
      const a = refToGrid(times, s.values, sent, grid);
      const b = toGrid(times, s.values, sent, grid);
      expect(firstDiff(a.values, b.values)).toBe(-1);
      expect(firstDiff(a.flags, b.flags)).toBe(-1);
    }
  });

  test('gridMap/toGrid: a complete regular period followed by stamps near, on and past its end', () => {
    const r = rng(17);
    for (let trial = 0; trial < 60; trial++) {
      const step = [1000, 60000, 409.6][trial % 3];
      const count = 1 + Math.floor(r() * 300);
      const start = Math.floor(r() * 1e6) * 1000;
      const times = Array.from({ length: count }, (_, k) => start + k * step);
      for (let e = Math.floor(r() * 4); e > 0; e--) times.push(times[times.length - 1] + [0, step / 2, step / 3, step][Math.floor(r() * 4)]);
      const s = randomSeries(r, times.length, false);
      const grid = { start, step, count };
      const map = gridMap(times, grid);
      expect(map.dense).toBe(0);
      const a = refToGrid(times, s.values, s.sentinel, grid);
      const b = toGrid(times, s.values, s.sentinel, grid);
      expect(firstDiff(a.values, b.values)).toBe(-1);
      expect(firstDiff(a.flags, b.flags)).toBe(-1);
    }
  });

  test('standardizeSeries (with and without a shared grid map): values, flags and counts', () => {
    const r = rng(4242);
    for (let trial = 0; trial < 120; trial++) {
      const step = 1000;
      const n = 10 + Math.floor(r() * 2000);
      const times: number[] = [];
      // Every third series is complete and regular (the block-copy path of a full period).
      const regular = trial % 3 === 0;
      let t = 0;
      for (let i = 0; i < n; i++) {
        times.push(t);
        t += regular || r() < 0.97 ? step : r() < 0.5 ? step * (2 + Math.floor(r() * 10)) : 400;
      }
      const off = Math.floor(r() * 5);
      const grid = regular ? { start: off * step, step, count: n - off - Math.floor(r() * 3) } : { start: 0, step, count: Math.ceil(t / step) + Math.floor(r() * 10) };
      const s = randomSeries(r, n, trial % 10 === 0);
      const params: SourceParams = { hampel: r() < 0.85 ? randomParams(r) : null, maxGapSamples: Math.floor(r() * 7), ...(r() < 0.5 ? { maxGapMs: Math.floor(r() * 7) * step } : {}) };
      const a = refStandardize(times, s.values, s.sentinel, grid, params);
      const map = gridMap(times, grid);
      if (regular) expect(map.dense).toBe(off);
      for (const b of [standardizeSeries(times, s.values, s.sentinel, grid, params), standardizeSeries(times, s.values, s.sentinel, grid, params, map)]) {
        expect(firstDiff(a.values, b.values)).toBe(-1);
        expect(firstDiff(a.flags, b.flags)).toBe(-1);
        expect([b.outliers, b.interpolated, b.missing]).toEqual([a.outliers, a.interpolated, a.missing]);
      }
    }
  });

  test('fillGaps: null runs of every length, at the ends, all null', () => {
    const r = rng(123);
    for (let trial = 0; trial < 200; trial++) {
      const n = trial < 10 ? trial : 20 + Math.floor(r() * 500);
      const s = randomSeries(r, n, trial % 5 === 0);
      if (trial % 17 === 0) s.values.fill(NaN);
      const maxGap = Math.floor(r() * 8) - 1;
      const a = Float64Array.from(s.values);
      const b = Float64Array.from(s.values);
      // A sentinel cell is a 99999 gap or, one time in three, an 88888 "not recorded" one.
      const fa = Int32Array.from(s.sentinel, (c, k) => (c ? Q_MISSING | (k % 3 === 0 ? Q_NOT_RECORDED : 0) : 0));
      const fb = Int32Array.from(fa);
      expect(fillGaps(b, fb, maxGap)).toBe(refFillGaps(a, fa, maxGap));
      expect(firstDiff(a, b)).toBe(-1);
      expect(firstDiff(fa, fb)).toBe(-1);
    }
  });

  test('gap fill known answers: ≤ maxGapSamples and ≤ maxGapMs of time; never across an 88888 (not recorded) cell', () => {
    const one = (values: (number | null)[], sentinel: number[], step: number, maxGapMs?: number) =>
      standardizeSeries(values.map((_, i) => i * step), values.map((v) => v ?? NaN), sentinel, { start: 0, step, count: values.length }, { hampel: null, maxGapSamples: 5, maxGapMs });
    // 1 min: a 2-sample 99999 gap is filled linearly
    const m = one([10, null, null, 40], [0, 1, 1, 0], 60_000, 300_000);
    expect(Array.from(m.values)).toEqual([10, 20, 30, 40]);
    expect(Array.from(m.flags)).toEqual([0, Q_SENTINEL | Q_INTERPOLATED, Q_SENTINEL | Q_INTERPOLATED, 0]);
    // 1 h: the same gap is 2 hours: not filled with the 5-minute limit, filled without it
    expect(Array.from(one([10, null, null, 40], [0, 1, 1, 0], 3_600_000, 300_000).flags)).toEqual([0, Q_SENTINEL | Q_MISSING, Q_SENTINEL | Q_MISSING, 0]);
    expect(Array.from(one([10, null, null, 40], [0, 1, 1, 0], 3_600_000).values)).toEqual([10, 20, 30, 40]);
    // an 88888 cell in the run: the element was not observed, nothing to interpolate
    const nr = one([10, null, null, 40], [0, 2, 1, 0], 60_000, 300_000);
    expect(Array.from(nr.flags)).toEqual([0, Q_NOT_RECORDED | Q_MISSING, Q_SENTINEL | Q_MISSING, 0]);
    expect(nr.interpolated).toBe(0);
  });

  test('Hampel defaults test the samples at the series edges and next to gaps (minValid = ½-window + 1)', () => {
    const base = Array.from({ length: 40 }, (_, i) => 20000 + 0.3 * Math.sin(i / 3));
    const geomag = { halfWindow: 3, k: 6, minThreshold: 1, minValid: 4 };
    const aef = { halfWindow: 2, k: 6, minThreshold: 5, minValid: 3 };
    for (const [p, spikes] of [[geomag, [0, 39, 14]], [aef, [0, 39, 14]]] as const) {
      const v = Float64Array.from(base);
      for (let i = 15; i < 19; i++) v[i] = NaN; // a 4-sample gap after sample 14
      for (const i of spikes) v[i] += 500;
      const f = Int32Array.from(v, (x) => (x !== x ? Q_MISSING : 0));
      expect(hampel(v, f, p)).toBe(3);
      for (const i of spikes) {
        expect(f[i] & Q_OUTLIER).toBe(Q_OUTLIER);
        expect(Math.abs(v[i] - base[i])).toBeLessThan(1);
      }
    }
  });

  test('deriveHD: H = Math.hypot and D bit for bit, incl. ±0, NaN, ±∞, subnormal and huge values', () => {
    const r = rng(5);
    const special = [0, -0, NaN, Infinity, -Infinity, 5e-324, -1e-310, 1.7976931348623157e308, -1e308, 1, -1, 3, -3];
    const n = 20000;
    const x: StdSeries = { values: new Float64Array(n), flags: new Int32Array(n) };
    const y: StdSeries = { values: new Float64Array(n), flags: new Int32Array(n) };
    for (let i = 0; i < n; i++) {
      const mode = i % 4;
      x.values[i] = mode === 0 ? special[i % special.length] : mode === 1 ? 29800 + (r() - 0.5) * 40 : (r() - 0.5) * 10 ** (r() * 600 - 300);
      y.values[i] = mode === 0 ? special[(i * 7 + 3) % special.length] : mode === 1 ? -3600 + (r() - 0.5) * 20 : (r() - 0.5) * 10 ** (r() * 40 - 20);
      x.flags[i] = Math.floor(r() * 128);
      y.flags[i] = Math.floor(r() * 128);
    }
    const a = refDeriveHD(x, y);
    const b = deriveHD(x, y);
    for (const k of ['H', 'D'] as const) {
      expect(firstDiff(a[k].values, b[k].values)).toBe(-1);
      expect(firstDiff(a[k].flags, b[k].flags)).toBe(-1);
    }
    expect(b.D.flags).not.toBe(b.H.flags); // separate arrays, as before
  });
});
