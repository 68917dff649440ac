/**
 * Standardization of one component of one station-period: raw samples → regular grid.
 * Order (products-methods §2): (1) place samples on the cadence grid, fill values → null
 * (flags SENTINEL / NOT_RECORDED / NO_SAMPLE); (2) despike with a Hampel filter; (3) fill short
 * gaps linearly. Every changed sample is flagged; the raw layer keeps the values as read.
 *
 * Values are Float64Array with NaN meaning "null" internally; the tile writer turns NaN into
 * Parquet nulls (never NaN in files).
 */
import type { HampelParams, SourceParams } from './config';
import { Q_INTERPOLATED, Q_MISSING, Q_NO_SAMPLE, Q_NOT_RECORDED, Q_OUTLIER, Q_RESAMPLED, Q_SENTINEL } from './quality';

/** Regular grid: times start + k·step, k = 0..count−1 (epoch ms). */
export interface GridSpec {
  start: number;
  step: number;
  count: number;
}

export interface StdSeries {
  /** NaN = null. */
  values: Float64Array;
  /** Quality bitmask per grid cell (quality.ts). */
  flags: Int32Array;
}

export interface StdCounts {
  outliers: number;
  interpolated: number;
  missing: number;
}

// Locals for the Math functions used per sample (a property load per call otherwise).
const mathRound = Math.round;
const mathAbs = Math.abs;
const mathAtan2 = Math.atan2;
const mathSqrt = Math.sqrt;
const PI = Math.PI;

/** Grid times as a Float64Array. */
export function gridTimes(g: GridSpec): Float64Array {
  const t = new Float64Array(g.count);
  for (let k = 0; k < g.count; k++) t[k] = g.start + k * g.step;
  return t;
}

/**
 * Which sample lands in each grid cell (the rule of toGrid). It depends on the time stamps only,
 * so the columns of one file share it: `sample[k]` is the winning sample index of cell k or −1,
 * `resampled[k]` is 1 when that sample was off the grid time.
 */
export interface GridMap {
  grid: GridSpec;
  sample: Int32Array;
  resampled: Uint8Array;
  /** When every cell k holds sample k + dense, on its grid time (a complete, regular period); else −1. */
  dense: number;
}

/** The sample → cell assignment of toGrid (nearest within ± step/2, closest stamp wins, first on ties). */
export function gridMap(times: ArrayLike<number>, grid: GridSpec): GridMap {
  const { start, step, count } = grid;
  const sample = new Int32Array(count);
  const resampled = new Uint8Array(count);
  // A complete period of regular stamps (the common case) is recognised with one comparison per
  // sample: sample k exactly on grid time k. No later sample can take a cell from such a winner
  // (distance 0, and ties keep the first), so this is what the loop below would find.
  if (times.length >= count && count > 0) {
    let k = 0;
    while (k < count && times[k] === start + k * step) k++;
    if (k === count) {
      for (let j = 0; j < count; j++) sample[j] = j;
      return { grid, sample, resampled, dense: 0 };
    }
  }
  sample.fill(-1);
  const half = step / 2;
  for (let i = 0; i < times.length; i++) {
    const t = times[i];
    const k = mathRound((t - start) / step);
    if (!(k >= 0 && k < count)) continue; // also drops NaN stamps (toGrid never stored those)
    const d = mathAbs(t - (start + k * step));
    if (d > half) continue;
    const prev = sample[k];
    // The distance of the current winner, recomputed exactly as it was when it won.
    if (prev >= 0 && d >= mathAbs(times[prev] - (start + k * step))) continue;
    sample[k] = i;
    resampled[k] = d > 0 ? 1 : 0;
  }
  let dense = count > 0 && sample[0] >= 0 ? sample[0] : -1;
  for (let k = 0; dense >= 0 && k < count; k++) if (sample[k] !== k + dense || resampled[k] !== 0) dense = -1;
  return { grid, sample, resampled, dense };
}

/** toGrid through a precomputed GridMap; also returns the number of MISSING cells. */
export function toGridMapped(map: GridMap, values: ArrayLike<number>, sentinel: ArrayLike<number> | null): StdSeries & { missing: number } {
  const count = map.grid.count;
  const sample = map.sample;
  const resampled = map.resampled;
  const out = new Float64Array(count);
  const flags = new Int32Array(count);
  let missing = 0;
  if (map.dense >= 0 && values instanceof Float64Array) {
    // Complete regular period: a block copy, then flags only where the value is null.
    const off = map.dense;
    out.set(values.subarray(off, off + count));
    for (let k = 0; k < count; k++) {
      if (out[k] === out[k]) continue;
      const s = sentinel ? sentinel[k + off] : 1;
      flags[k] = Q_MISSING | (s === 2 ? Q_NOT_RECORDED : Q_SENTINEL);
      missing++;
    }
    return { values: out, flags, missing };
  }
  for (let k = 0; k < count; k++) {
    const i = sample[k];
    if (i < 0) {
      out[k] = NaN;
      flags[k] = Q_NO_SAMPLE | Q_MISSING;
      missing++;
      continue;
    }
    const v = values[i];
    let f = resampled[k] === 1 ? Q_RESAMPLED : 0;
    if (v !== v) {
      const s = sentinel ? sentinel[i] : 1;
      f |= Q_MISSING | (s === 2 ? Q_NOT_RECORDED : Q_SENTINEL);
      missing++;
    }
    out[k] = v;
    flags[k] = f;
  }
  return { values: out, flags, missing };
}

/**
 * Snap samples to the nearest grid cell (within ± step/2). A cell that gets several samples keeps
 * the one closest to the grid time; off-grid stamps are flagged RESAMPLED. Sentinel codes follow
 * the IAGA reader (1 = 9-filled missing, 2 = 8-filled not recorded); any other NaN counts as
 * SENTINEL. Cells without a sample are NO_SAMPLE|MISSING.
 */
export function toGrid(times: ArrayLike<number>, values: ArrayLike<number>, sentinel: ArrayLike<number> | null, grid: GridSpec): StdSeries {
  const r = toGridMapped(gridMap(times, grid), values, sentinel);
  return { values: r.values, flags: r.flags };
}

/**
 * Hampel filter (rolling median ± k·MAD; Hampel 1974, as in MagPy flag_outlier [MP2] and the
 * peer AEF pipeline [E1]): a sample is an outlier when |x − med| > max(k·1.4826·MAD, floor),
 * med and MAD over the 2w+1 samples centred on it (nulls skipped). Decisions use the input
 * values only, so one replacement does not feed the next window. Outliers are replaced by the
 * median and flagged OUTLIER. In place; returns the number of outliers.
 *
 * Most samples lie within the floor of their median, and that is decided without the median:
 * rounding is monotonic, so the samples v with fl(x − v) > floor (too far below x) are all the
 * values under some bound, those with fl(x − v) < −floor all the values over another, and for a
 * full window (2w+1 values, no null) the median — the value of rank w — is within the floor
 * exactly when at most w values are too far below and at most w too far above. Only the other
 * samples (windows with nulls, the ends, and candidates) sort their window (stable, so ±0 sit
 * where a stable sort puts them) and take med and MAD from it: the MAD is the (m>>1)-th smallest
 * |v − med|, and the deviations of the sorted window grow outwards from the middle on both sides,
 * so it is a two-pointer merge of ≤ w+1 steps (a generic sort only when the median lies outside
 * its two middle values, which needs overflow or infinities). Replacements are applied at the end.
 */
export function hampel(values: Float64Array, flags: Int32Array, p: HampelParams): number {
  const n = values.length;
  const w = Math.max(1, Math.floor(p.halfWindow));
  const R = 2 * w + 1;
  const buf = new Float64Array(R); // valid values of the window, sorted
  const dev = new Float64Array(R);
  const kScale = p.k * 1.4826;
  const minValid = p.minValid;
  const floor = p.minThreshold;
  const quick = floor >= 0; // the counting test needs a floor that is a number ≥ 0
  const replaced: number[] = []; // index, median, index, median, …
  let outliers = 0;
  let nulls = 0; // in the window [i − w, i + w] ∩ [0, n)
  for (let j = 0; j < w && j < n; j++) if (values[j] !== values[j]) nulls++;
  for (let i = 0; i < n; i++) {
    const jin = i + w;
    if (jin < n && values[jin] !== values[jin]) nulls++;
    const jout = i - w - 1;
    if (jout >= 0 && values[jout] !== values[jout]) nulls--;
    const x = values[i];
    if (x !== x) continue;
    const lo = i - w;
    const hi = i + w;
    if (quick && nulls === 0 && lo >= 0 && hi < n) {
      // Counted without branches (neighbours are often a floor away in noisy data, so branches
      // mispredict); the default half window 3 unrolled (≈3× faster than the loop).
      let below = 0;
      let above = 0;
      if (w === 3) {
        const d0 = x - values[i - 3], d1 = x - values[i - 2], d2 = x - values[i - 1];
        const d4 = x - values[i + 1], d5 = x - values[i + 2], d6 = x - values[i + 3];
        below = (+(d0 > floor)) + (+(d1 > floor)) + (+(d2 > floor)) + (+(d4 > floor)) + (+(d5 > floor)) + (+(d6 > floor));
        above = (+(d0 < -floor)) + (+(d1 < -floor)) + (+(d2 < -floor)) + (+(d4 < -floor)) + (+(d5 < -floor)) + (+(d6 < -floor));
      } else {
        for (let j = lo; j <= hi; j++) {
          const d = x - values[j];
          below += +(d > floor);
          above += +(d < -floor);
        }
      }
      if (below <= w && above <= w) continue; // |x − med| ≤ floor: never an outlier
    }
    let m = 0;
    const a = lo < 0 ? 0 : lo;
    const b = hi >= n ? n - 1 : hi;
    for (let j = a; j <= b; j++) {
      const v = values[j];
      if (v !== v) continue;
      let q = m++;
      while (q > 0 && buf[q - 1] > v) {
        buf[q] = buf[q - 1];
        q--;
      }
      buf[q] = v;
    }
    if (m < minValid) continue;
    const c = m >> 1;
    const odd = (m & 1) === 1;
    const med = odd ? buf[c] : 0.5 * (buf[c - 1] + buf[c]);
    const d0 = mathAbs(x - med);
    if (d0 <= floor) continue;
    let mad: number;
    if (med - med === 0 && (odd || (buf[c - 1] <= med && med <= buf[c]))) {
      // Merge the left deviations (med − buf[l], growing as l goes down) with the right ones.
      let l = c - 1;
      let r = c;
      let prev = 0;
      let cur = 0;
      for (let t = 0; t <= c; t++) {
        prev = cur;
        if (r >= m || (l >= 0 && med - buf[l] <= buf[r] - med)) {
          cur = med - buf[l];
          l--;
        } else {
          cur = buf[r] - med;
          r++;
        }
      }
      mad = odd ? cur : 0.5 * (prev + cur);
    } else {
      for (let e = 0; e < m; e++) {
        const v = mathAbs(buf[e] - med);
        let q = e;
        while (q > 0 && dev[q - 1] > v) {
          dev[q] = dev[q - 1];
          q--;
        }
        dev[q] = v;
      }
      mad = odd ? dev[c] : 0.5 * (dev[c - 1] + dev[c]);
    }
    // d0 > max(k·1.4826·MAD, floor), NaN-for-NaN like Math.max.
    if (d0 > kScale * mad && d0 > floor) {
      replaced.push(i, med);
      flags[i] |= Q_OUTLIER;
      outliers++;
    }
  }
  for (let k = 0; k < replaced.length; k += 2) values[replaced[k]] = replaced[k + 1];
  return outliers;
}

/**
 * Linear interpolation across runs of at most maxGap null cells that have valid values on both
 * sides (short-gap rule of products-methods §2, ≤ 5 points at 1 min [E1]); longer gaps and gaps
 * at the edges stay null (MISSING). Interpolated cells lose MISSING and gain INTERPOLATED; the
 * SENTINEL / NO_SAMPLE bits still say why they were empty. In place; returns cells filled.
 */
export function fillGaps(values: Float64Array, flags: Int32Array, maxGap: number): number {
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
    if (i > 0 && j < n && len <= maxGap) {
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

/**
 * The whole chain for one component: grid → Hampel → gap fill. `map` (gridMap of the same times
 * and grid) lets the columns of one file share the sample → cell assignment.
 */
export function standardizeSeries(
  times: ArrayLike<number>,
  values: ArrayLike<number>,
  sentinel: ArrayLike<number> | null,
  grid: GridSpec,
  params: SourceParams,
  map?: GridMap,
): StdSeries & StdCounts {
  const g = toGridMapped(map ?? gridMap(times, grid), values, sentinel);
  const s: StdSeries = { values: g.values, flags: g.flags };
  const outliers = params.hampel ? hampel(s.values, s.flags, params.hampel) : 0;
  const interpolated = fillGaps(s.values, s.flags, params.maxGapSamples);
  // MISSING is set exactly on the null cells of the grid; Hampel never changes which cells are
  // null, and gap filling clears MISSING on exactly the cells it fills.
  const missing = g.missing - interpolated;
  return { values: s.values, flags: s.flags, outliers, interpolated, missing };
}

/**
 * Math.hypot for two arguments, bit for bit: V8's builtin normalises by the larger magnitude and
 * sums the squares with Kahan compensation, which for two terms is exactly √((a/m)² + (b/m)²)·m
 * (the compensation term stays 0); ∞ wins over NaN. Inline here: the builtin call allocates.
 */
function hypot2(a: number, b: number): number {
  const x = a < 0 ? -a : a;
  const y = b < 0 ? -b : b;
  if (x === Infinity || y === Infinity) return Infinity;
  if (x !== x || y !== y) return NaN;
  const max = x > y ? x : y;
  if (max === 0) return 0;
  const n1 = x / max;
  const n2 = y / max;
  return mathSqrt(n1 * n1 + n2 * n2) * max;
}

/**
 * Derived horizontal intensity and declination from X/Y (std layer of XYZ files):
 * H = √(X²+Y²) nT, D = atan2(Y, X) in arc-minutes (IAGA-2002 unit for D, data-formats §1.2).
 * Flags are the OR of the X and Y flags; null where either is null.
 */
export function deriveHD(x: StdSeries, y: StdSeries): { H: StdSeries; D: StdSeries } {
  const n = x.values.length;
  const xv = x.values;
  const yv = y.values;
  const xf = x.flags;
  const yf = y.flags;
  const h = new Float64Array(n);
  const d = new Float64Array(n);
  const f = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const a = xv[i];
    const b = yv[i];
    h[i] = hypot2(a, b);
    d[i] = (mathAtan2(b, a) * 180 * 60) / PI;
    f[i] = xf[i] | yf[i];
  }
  return { H: { values: h, flags: f }, D: { values: d, flags: f.slice() } };
}
