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

/** Grid times as a Float64Array. */
export function gridTimes(g: GridSpec): Float64Array {
  const t = new Float64Array(g.count);
  for (let k = 0; k < g.count; k++) t[k] = g.start + k * g.step;
  return t;
}

/**
 * Snap samples to the nearest grid cell (within ± step/2). A cell that gets several samples keeps
 * the one closest to the grid time; off-grid stamps are flagged RESAMPLED. Sentinel codes follow
 * the IAGA reader (1 = 9-filled missing, 2 = 8-filled not recorded); any other NaN counts as
 * SENTINEL. Cells without a sample are NO_SAMPLE|MISSING.
 */
export function toGrid(times: ArrayLike<number>, values: ArrayLike<number>, sentinel: ArrayLike<number> | null, grid: GridSpec): StdSeries {
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

/**
 * Hampel filter (rolling median ± k·MAD; Hampel 1974, as in MagPy flag_outlier [MP2] and the
 * peer AEF pipeline [E1]): a sample is an outlier when |x − med| > max(k·1.4826·MAD, floor),
 * med and MAD over the 2w+1 samples centred on it (nulls skipped). Decisions use the input
 * values only, so one replacement does not feed the next window. Outliers are replaced by the
 * median and flagged OUTLIER. In place; returns the number of outliers.
 */
export function hampel(values: Float64Array, flags: Int32Array, p: HampelParams): number {
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
    // Gather valid neighbours with insertion sort (windows are small: O(w²) beats a heap here).
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
    // Cheap exit: within the absolute floor, never an outlier (most samples).
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

/** The whole chain for one component: grid → Hampel → gap fill. */
export function standardizeSeries(
  times: ArrayLike<number>,
  values: ArrayLike<number>,
  sentinel: ArrayLike<number> | null,
  grid: GridSpec,
  params: SourceParams,
): StdSeries & StdCounts {
  const s = toGrid(times, values, sentinel, grid);
  const outliers = params.hampel ? hampel(s.values, s.flags, params.hampel) : 0;
  const interpolated = fillGaps(s.values, s.flags, params.maxGapSamples);
  let missing = 0;
  for (let k = 0; k < s.flags.length; k++) if (s.flags[k] & Q_MISSING) missing++;
  return { ...s, outliers, interpolated, missing };
}

/**
 * Derived horizontal intensity and declination from X/Y (std layer of XYZ files):
 * H = √(X²+Y²) nT, D = atan2(Y, X) in arc-minutes (IAGA-2002 unit for D, data-formats §1.2).
 * Flags are the OR of the X and Y flags; null where either is null.
 */
export function deriveHD(x: StdSeries, y: StdSeries): { H: StdSeries; D: StdSeries } {
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
