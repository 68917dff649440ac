/**
 * Server-side downsampling for /products/timeseries (`maxPoints`), so a chart gets at most a few
 * thousand points however long the window is. Both methods return indices of REAL samples (never
 * averages), so every (time, value) of a downsampled answer is a value of the tile at that time.
 *
 *  - LTTB, Largest-Triangle-Three-Buckets (Steinarsson 2013, "Downsampling Time Series for
 *    Visual Representation", MSc thesis, Univ. of Iceland, §4.2): first and last points kept;
 *    the rest split into k − 2 equal buckets; per bucket the point forming the largest triangle
 *    with the previously selected point and the mean of the next bucket. Keeps spikes and shape.
 *  - min-max: per bucket of rows, the minimum and the maximum sample (in time order). Keeps
 *    the envelope exactly; the usual choice for dense oscillating signals.
 *
 * Gaps: the algorithms run on the non-null samples only; afterwards, wherever a series has a
 * null between two consecutive displayed rows, the first null row of that gap is added as a
 * marker, so a line never connects across missing data (a chart draws a break at a null).
 * Several series share one time axis (IMF-JSON parallel arrays): the selected rows of all series
 * are merged (each series shows its real values at every merged row), markers are added for every
 * series, and the per-series budget is shrunk until the result fits in maxPoints. Interleaved
 * gaps of several series can make that impossible (rows: null → the caller asks for fewer
 * parameters); a single series always fits.
 */

export type DownsampleMethod = 'lttb' | 'minmax';

export const DOWNSAMPLE_METHODS: readonly DownsampleMethod[] = ['lttb', 'minmax'];

/**
 * LTTB over a dense series (no NaN): indices of at most `threshold` points, ascending, always
 * including the first and the last. threshold ≥ n (or < 3) returns every index (or the ends).
 */
export function lttb(x: ArrayLike<number>, y: ArrayLike<number>, threshold: number): number[] {
  const n = x.length;
  if (threshold >= n || n <= 2) return Array.from({ length: n }, (_, i) => i);
  if (threshold <= 1) return n ? [0] : [];
  if (threshold === 2) return [0, n - 1];
  const out: number[] = [0];
  // Buckets over the inner points 1..n−2 (Steinarsson: every bucket has (n−2)/(k−2) points).
  const every = (n - 2) / (threshold - 2);
  let a = 0;
  for (let i = 0; i < threshold - 2; i++) {
    // Mean of the next bucket (the last "bucket" is the final point).
    const nextStart = Math.floor((i + 1) * every) + 1;
    const nextEnd = Math.min(Math.floor((i + 2) * every) + 1, n);
    let avgX = 0;
    let avgY = 0;
    const len = nextEnd - nextStart;
    if (len > 0) {
      for (let j = nextStart; j < nextEnd; j++) {
        avgX += x[j];
        avgY += y[j];
      }
      avgX /= len;
      avgY /= len;
    } else {
      avgX = x[n - 1];
      avgY = y[n - 1];
    }
    const start = Math.floor(i * every) + 1;
    const end = Math.floor((i + 1) * every) + 1;
    const ax = x[a];
    const ay = y[a];
    let best = -1;
    let bestArea = -1;
    for (let j = start; j < end; j++) {
      // Twice the triangle area (the factor does not change the argmax).
      const area = Math.abs((ax - avgX) * (y[j] - ay) - (ax - x[j]) * (avgY - ay));
      if (area > bestArea) {
        bestArea = area;
        best = j;
      }
    }
    if (best >= 0) {
      out.push(best);
      a = best;
    }
  }
  out.push(n - 1);
  return out;
}

/**
 * Bucket b of `buckets` equal row buckets over n rows: rows [floor(b·n/B), floor((b+1)·n/B)).
 * Exported so callers (and tests) use the same bucket boundaries.
 */
export function bucketBounds(n: number, buckets: number, b: number): [number, number] {
  return [Math.floor((b * n) / buckets), Math.floor(((b + 1) * n) / buckets)];
}

/**
 * Min-max per bucket over rows (nulls = NaN skipped): for each of `buckets` equal row buckets the
 * row of the minimum and of the maximum (first occurrence), ascending. Empty/null buckets give none.
 */
export function minMax(y: ArrayLike<number>, buckets: number): number[] {
  const n = y.length;
  if (buckets >= n) {
    const all: number[] = [];
    for (let i = 0; i < n; i++) if (y[i] === y[i]) all.push(i);
    return all;
  }
  const out: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const [s, e] = bucketBounds(n, buckets, b);
    let lo = -1;
    let hi = -1;
    for (let i = s; i < e; i++) {
      const v = y[i];
      if (v !== v) continue;
      if (lo < 0 || v < y[lo]) lo = i;
      if (hi < 0 || v > y[hi]) hi = i;
    }
    if (lo < 0) continue;
    if (lo === hi) out.push(lo);
    else if (lo < hi) out.push(lo, hi);
    else out.push(hi, lo);
  }
  return out;
}

/** Rows of one series for a per-series budget, before gap markers. */
function selectSeries(ts: ArrayLike<number>, y: ArrayLike<number>, budget: number, method: DownsampleMethod): number[] {
  const n = y.length;
  if (method === 'minmax') return minMax(y, Math.max(1, Math.floor(budget / 2)));
  // LTTB on the non-null samples (time as x, so a long gap weighs as a long distance).
  const idx: number[] = [];
  for (let i = 0; i < n; i++) if (y[i] === y[i]) idx.push(i);
  const xs = new Float64Array(idx.length);
  const ys = new Float64Array(idx.length);
  idx.forEach((r, k) => {
    xs[k] = ts[r];
    ys[k] = y[r];
  });
  return lttb(xs, ys, Math.max(1, budget)).map((k) => idx[k]);
}

/**
 * Make `rows` (sorted) gap-safe for every series: wherever a series is non-null at two
 * consecutive displayed rows i < j but has a null in (i, j), the first such null row is added
 * (it is null in that series, so the line breaks there). An added row may be non-null in another
 * series and need a marker of its own, so this repeats to a fixpoint. Returns null when the rows
 * grow beyond `cap` (interleaved gaps of several series can cascade).
 */
function addGapMarkers(rows: number[], series: ArrayLike<number>[], nextNull: Int32Array[], cap: number): number[] | null {
  let cur = rows;
  for (;;) {
    const add: number[] = [];
    series.forEach((y, s) => {
      const nn = nextNull[s];
      let prev = -1;
      for (const r of cur) {
        if (y[r] !== y[r]) {
          prev = -1;
          continue;
        }
        if (prev >= 0 && nn[prev + 1] < r) add.push(nn[prev + 1]);
        prev = r;
      }
    });
    if (add.length === 0) return cur;
    const merged = new Set(cur);
    for (const r of add) merged.add(r);
    cur = [...merged].sort((a, b) => a - b);
    if (cur.length > cap) return null;
  }
}

export interface DownsampleResult {
  /** Selected rows, ascending (≤ maxPoints); null when the gaps of several series cannot fit. */
  rows: number[] | null;
  /** Per-series budget that was used. */
  perSeries: number;
}

/**
 * Rows to keep from `n` rows of several series sharing the time axis `ts` (values NaN = null),
 * so that the merged rows (samples of every series + gap markers) are at most maxPoints.
 * n ≤ maxPoints returns every row. One series always fits when maxPoints ≥ 3 (≤ b samples and
 * ≤ b − 1 markers for a budget b); several series with interleaved gaps may not, then `rows` is null.
 */
export function downsampleRows(ts: ArrayLike<number>, series: ArrayLike<number>[], maxPoints: number, method: DownsampleMethod): DownsampleResult {
  const n = ts.length;
  if (n <= maxPoints) return { rows: Array.from({ length: n }, (_, i) => i), perSeries: n };
  // nextNull[i] = first null row ≥ i (n when none): O(1) "is there a null in (i, j)".
  const nextNull = series.map((y) => {
    const a = new Int32Array(n + 1);
    a[n] = n;
    for (let i = n - 1; i >= 0; i--) a[i] = y[i] !== y[i] ? i : a[i + 1];
    return a;
  });
  const run = (budget: number): number[] | null => {
    const rows = new Set<number>();
    for (const y of series) for (const r of selectSeries(ts, y, budget, method)) rows.add(r);
    if (rows.size === 0 && n > 0) rows.add(0); // every series empty: one all-null row keeps the axis
    // Markers may overshoot maxPoints a little: let them, to learn by how much (a bounded cap
    // still stops a cascade of interleaved gaps).
    return addGapMarkers([...rows].sort((a, b) => a - b), series, nextNull, 4 * maxPoints + 4);
  };
  const P = Math.max(1, series.length);
  // Start with an equal share; if markers or merging overflow, shrink and retry.
  let budget = Math.max(1, Math.floor(maxPoints / P));
  for (let attempt = 0; attempt < 12; attempt++) {
    const rows = run(budget);
    if (rows && rows.length <= maxPoints) return { rows, perSeries: budget };
    if (budget === 1) break;
    const got = rows ? rows.length : 8 * maxPoints;
    // Shrink by the overshoot shared among the series (exact for one series whose markers stay
    // the same: one gap costs one sample) or proportionally, whichever is less; halve after a
    // few tries.
    budget = Math.max(1, Math.min(budget - Math.ceil((got - maxPoints) / P), Math.floor((budget * maxPoints) / got), attempt >= 3 ? Math.floor(budget / 2) : Infinity));
  }
  return { rows: null, perSeries: budget };
}
