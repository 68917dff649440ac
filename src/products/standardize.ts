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
  const { start, step, count } = g;
  const t = new Float64Array(count);
  for (let k = 0; k < count; k++) t[k] = start + k * step;
  return t;
}

/**
 * Index of the first null (NaN) in v[k..n), or n. Eight values at a time: their sum is NaN when
 * one of them is (or from ∞ − ∞, which the check one by one then passes over). One value-by-value
 * path serves both a NaN block and the last < 8 values, so it has type feedback early (a path
 * that runs only at the very end made V8 drop the optimized code of every caller, see
 * hampel3Interior).
 */
function nextNull(v: Float64Array, k: number, n: number): number {
  for (;;) {
    if (k + 8 <= n) {
      const s = v[k] + v[k + 1] + (v[k + 2] + v[k + 3]) + (v[k + 4] + v[k + 5] + (v[k + 6] + v[k + 7]));
      if (s === s) {
        k += 8;
        continue;
      }
    } else if (k >= n) return n;
    if (v[k] !== v[k]) return k;
    k++;
  }
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
  if (times.length >= count && count > 0 && onGridUntil(times, start, step, count) === count) {
    const m = { grid, sample, resampled, dense: 0 };
    for (let j = 0; j < count; j++) sample[j] = j;
    return m;
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

/** The first k < count with times[k] off grid time k, or count (a leaf loop: see hampel3Interior). */
function onGridUntil(times: ArrayLike<number>, start: number, step: number, count: number): number {
  let k = 0;
  while (k < count && times[k] === start + k * step) k++;
  return k;
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
    for (let k = nextNull(out, 0, count); k < count; k = nextNull(out, k + 1, count)) {
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
 * where a stable sort puts them) and take med and MAD from it (hampelAt, madOutlier). The default
 * half window 3 has its own loop (hampel3). Replacements are applied at the end.
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
  // index, median, index, median, … A double array from the start: begun as `[]` (small-integer
  // elements), its first fractional median made V8 throw the optimized hampel3Interior away.
  const replaced: number[] = [0.5];
  replaced.pop();
  // The counting test needs a floor that is a number ≥ 0.
  if (w === 3 && floor >= 0) hampel3(values, replaced, buf, dev, kScale, minValid, floor);
  else {
    const quick = floor >= 0;
    let nulls = 0; // in the window [i − w, i + w] ∩ [0, n)
    for (let j = 0; j < w && j < n; j++) if (values[j] !== values[j]) nulls++;
    for (let i = 0; i < n; i++) {
      const jin = i + w;
      if (jin < n && values[jin] !== values[jin]) nulls++;
      const jout = i - w - 1;
      if (jout >= 0 && values[jout] !== values[jout]) nulls--;
      const x = values[i];
      if (x !== x) continue;
      if (quick && nulls === 0 && i - w >= 0 && i + w < n) {
        // Counted without branches: neighbours are often a floor away in noisy data.
        let below = 0;
        let above = 0;
        for (let j = i - w; j <= i + w; j++) {
          const d = x - values[j];
          below += +(d > floor);
          above += +(d < -floor);
        }
        if (below <= w && above <= w) continue; // |x − med| ≤ floor: never an outlier
      }
      const med = hampelAt(values, i, w, buf, dev, kScale, minValid, floor);
      if (med === med) replaced.push(i, med);
    }
  }
  for (let k = 0; k < replaced.length; k += 2) {
    values[replaced[k]] = replaced[k + 1];
    flags[replaced[k]] |= Q_OUTLIER;
  }
  return replaced.length >> 1;
}

/**
 * Hampel with half window 3 and a floor ≥ 0. Runs of valid values are walked with the window in
 * locals (one load per sample, no null bookkeeping); only the 3 samples at each end of a run
 * (nulls or the array ends in the window) go through hampelAt. The counting test is split: the
 * far count (|d| > floor, one comparison per neighbour) is below + above, so when it is ≤ 3 both
 * are, which settles nearly every sample of smooth data; else below decides.
 */
function hampel3(values: Float64Array, replaced: number[], buf: Float64Array, dev: Float64Array, kScale: number, minValid: number, floor: number): void {
  const n = values.length;
  // The MAD test by counting needs the t ≥ 0 with dx > kScale·t to be all t below some bound.
  const countMad = kScale >= 0;
  const decide = !(7 < minValid); // a full window has 7 values (NaN minValid: always, as m < NaN)
  let i = 0;
  while (i < n) {
    while (i < n && values[i] !== values[i]) i++;
    const s = i;
    i = nextNull(values, i, n);
    const e = i; // run of valid values [s, e)
    const a = s + 3; // full windows: centres a ≤ c < b
    const b = e - 3;
    for (let c = s; c < a && c < e; c++) {
      const med = hampelAt(values, c, 3, buf, dev, kScale, minValid, floor);
      if (med === med) replaced.push(c, med);
    }
    if (a < b && decide) hampel3Interior(values, a, b, replaced, buf, dev, kScale, floor, countMad);
    for (let c = a > b ? a : b; c < e; c++) {
      const med = hampelAt(values, c, 3, buf, dev, kScale, minValid, floor);
      if (med === med) replaced.push(c, med);
    }
  }
}

/**
 * The full windows of a run of valid values (centres a ≤ c < b, values[a − 3 .. b + 3) valid) for
 * hampel3. A leaf of its own so that V8 optimizes this loop once: compiled on-stack inside a larger
 * function, it took the surrounding code with it, without type feedback for the run ends, and was
 * thrown away and recompiled at each of them (measured: ~10 compiles of ~50 ms per thread).
 */
function hampel3Interior(values: Float64Array, a: number, b: number, replaced: number[], buf: Float64Array, dev: Float64Array, kScale: number, floor: number, countMad: boolean): void {
  let v0 = values[a - 3];
  let v1 = values[a - 2];
  let v2 = values[a - 1];
  let x = values[a];
  let v4 = values[a + 1];
  let v5 = values[a + 2];
  for (let c = a; c < b; c++) {
    const v6 = values[c + 3];
    // Without branches: neighbours are often a floor away in noisy data.
    const d0 = x - v0, d1 = x - v1, d2 = x - v2, d4 = x - v4, d5 = x - v5, d6 = x - v6;
    const far = (+(mathAbs(d0) > floor)) + (+(mathAbs(d1) > floor)) + (+(mathAbs(d2) > floor)) + (+(mathAbs(d4) > floor)) + (+(mathAbs(d5) > floor)) + (+(mathAbs(d6) > floor));
    if (far > 3) {
      const below = (+(d0 > floor)) + (+(d1 > floor)) + (+(d2 > floor)) + (+(d4 > floor)) + (+(d5 > floor)) + (+(d6 > floor));
      if (below > 3 || far - below > 3) {
        // |x − med| may exceed the floor. Stable sort by rank (#smaller + #equal before it)
        // from 21 branchless comparisons: the insertion sort's order (±0 included).
        const b01 = +(v0 <= v1), b02 = +(v0 <= v2), b03 = +(v0 <= x), b04 = +(v0 <= v4), b05 = +(v0 <= v5), b06 = +(v0 <= v6);
        const b12 = +(v1 <= v2), b13 = +(v1 <= x), b14 = +(v1 <= v4), b15 = +(v1 <= v5), b16 = +(v1 <= v6);
        const b23 = +(v2 <= x), b24 = +(v2 <= v4), b25 = +(v2 <= v5), b26 = +(v2 <= v6);
        const b34 = +(x <= v4), b35 = +(x <= v5), b36 = +(x <= v6);
        const b45 = +(v4 <= v5), b46 = +(v4 <= v6);
        const b56 = +(v5 <= v6);
        buf[6 - (b01 + b02 + b03 + b04 + b05 + b06)] = v0;
        buf[5 + b01 - (b12 + b13 + b14 + b15 + b16)] = v1;
        buf[4 + b02 + b12 - (b23 + b24 + b25 + b26)] = v2;
        buf[3 + b03 + b13 + b23 - (b34 + b35 + b36)] = x;
        buf[2 + b04 + b14 + b24 + b34 - (b45 + b46)] = v4;
        buf[1 + b05 + b15 + b25 + b35 + b45 - b56] = v5;
        buf[b06 + b16 + b26 + b36 + b46 + b56] = v6;
        const med = buf[3];
        const dx = mathAbs(x - med);
        if (countMad && med - med === 0) {
          // The MAD is the 4th smallest |v − med|, so dx > kScale·MAD exactly when at least 4
          // of the 7 deviations pass (dx > floor: madOutlier's last test).
          const pass =
            (+(dx > kScale * mathAbs(v0 - med))) + (+(dx > kScale * mathAbs(v1 - med))) + (+(dx > kScale * mathAbs(v2 - med))) + (+(dx > kScale * dx)) +
            (+(dx > kScale * mathAbs(v4 - med))) + (+(dx > kScale * mathAbs(v5 - med))) + (+(dx > kScale * mathAbs(v6 - med)));
          if (pass >= 4 && dx > floor) replaced.push(c, med);
        } else {
          const r = madOutlier(buf, 7, x, dev, kScale, floor);
          if (r === r) replaced.push(c, r);
        }
      }
    }
    v0 = v1;
    v1 = v2;
    v2 = x;
    x = v4;
    v4 = v5;
    v5 = v6;
  }
}

/** Hampel decision for sample i (not null) by sorting its window: the median when i is an outlier, else NaN. */
function hampelAt(values: Float64Array, i: number, w: number, buf: Float64Array, dev: Float64Array, kScale: number, minValid: number, floor: number): number {
  const n = values.length;
  let m = 0;
  const a = i - w < 0 ? 0 : i - w;
  const b = i + w >= n ? n - 1 : i + w;
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
  if (m < minValid) return NaN;
  return madOutlier(buf, m, values[i], dev, kScale, floor);
}

/**
 * The median of the sorted buf[0..m) when x is an outlier of it, else NaN (an outlier's median is
 * never NaN: a NaN median fails d0 > …). The MAD is the (m>>1)-th smallest |v − med|, and the
 * deviations of the sorted window grow outwards from the middle on both sides, so it is a
 * two-pointer merge of ≤ m/2+1 steps (a generic sort only when the median lies outside its two
 * middle values, which needs overflow or infinities).
 */
function madOutlier(buf: Float64Array, m: number, x: number, dev: Float64Array, kScale: number, floor: number): number {
  const c = m >> 1;
  const odd = (m & 1) === 1;
  const med = odd ? buf[c] : 0.5 * (buf[c - 1] + buf[c]);
  const d0 = mathAbs(x - med);
  if (d0 <= floor) return NaN;
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
  return d0 > kScale * mad && d0 > floor ? med : NaN;
}

/**
 * Linear interpolation across runs of at most maxGap null cells that have valid values on both
 * sides (short-gap rule of products-methods §2, ≤ 5 points at 1 min [E1]); longer gaps, gaps at
 * the edges and runs holding a "not recorded" cell (IAGA 88888: the element was not observed, so
 * there is nothing to interpolate) stay null (MISSING). Interpolated cells lose MISSING and gain
 * INTERPOLATED; the SENTINEL / NO_SAMPLE bits still say why they were empty. In place; returns
 * cells filled.
 */
export function fillGaps(values: Float64Array, flags: Int32Array, maxGap: number): number {
  if (maxGap <= 0) return 0;
  const n = values.length;
  let filled = 0;
  let i = 0;
  while (i < n) {
    i = nextNull(values, i, n);
    if (i === n) break;
    let j = i + 1;
    while (j < n && values[j] !== values[j]) j++;
    const len = j - i;
    if (i > 0 && j < n && len <= maxGap && !anyNotRecorded(flags, i, j)) {
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

function anyNotRecorded(flags: Int32Array, a: number, b: number): boolean {
  for (let k = a; k < b; k++) if (flags[k] & Q_NOT_RECORDED) return true;
  return false;
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
  // Hampel never changes which cells are null, so without nulls there is nothing to fill.
  const maxGap = Math.min(params.maxGapSamples, Math.floor((params.maxGapMs ?? Infinity) / grid.step));
  const interpolated = g.missing > 0 ? fillGaps(s.values, s.flags, maxGap) : 0;
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
  // Math.abs, not a < 0 ? -a : a: the negation had no type feedback until the first negative
  // value (Y, often) and threw deriveHD's optimized code away when it came.
  const x = mathAbs(a);
  const y = mathAbs(b);
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
  const fh = new Int32Array(n);
  const fd = new Int32Array(n);
  // Built before the loop: nothing after it for V8 to compile without type feedback (hampel3Interior).
  const out = { H: { values: h, flags: fh }, D: { values: d, flags: fd } };
  for (let i = 0; i < n; i++) {
    const a = xv[i];
    const b = yv[i];
    h[i] = hypot2(a, b);
    d[i] = (mathAtan2(b, a) * 180 * 60) / PI;
    const f = xf[i] | yf[i];
    fh[i] = f;
    fd[i] = f;
  }
  return out;
}
