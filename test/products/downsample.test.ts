import { bucketBounds, downsampleRows, lttb, minMax } from '../../src/products/downsample';

/** Independent check: no two consecutive selected non-null rows have a null between them in the original. */
function crossesGap(rows: number[], y: ArrayLike<number>): [number, number] | null {
  let prev = -1;
  for (const r of rows) {
    if (y[r] !== y[r]) {
      prev = -1;
      continue;
    }
    if (prev >= 0) for (let k = prev + 1; k < r; k++) if (y[k] !== y[k]) return [prev, r];
    prev = r;
  }
  return null;
}

/** Straightforward LTTB written from Steinarsson (2013) §4.2 pseudo-code, as a reference. */
function lttbReference(x: number[], y: number[], k: number): number[] {
  const n = x.length;
  const sel = [0];
  const size = (n - 2) / (k - 2);
  for (let b = 0; b < k - 2; b++) {
    const lo = Math.floor(b * size) + 1;
    const hi = Math.floor((b + 1) * size) + 1;
    const nlo = hi;
    const nhi = Math.min(Math.floor((b + 2) * size) + 1, n);
    const cx = nhi > nlo ? x.slice(nlo, nhi).reduce((a, v) => a + v, 0) / (nhi - nlo) : x[n - 1];
    const cy = nhi > nlo ? y.slice(nlo, nhi).reduce((a, v) => a + v, 0) / (nhi - nlo) : y[n - 1];
    const a = sel[sel.length - 1];
    let best = lo;
    let area = -1;
    for (let j = lo; j < hi; j++) {
      // triangle area = ½ |x_a(y_j − y_c) + x_j(y_c − y_a) + x_c(y_a − y_j)|
      const s = 0.5 * Math.abs(x[a] * (y[j] - cy) + x[j] * (cy - y[a]) + cx * (y[a] - y[j]));
      if (s > area) {
        area = s;
        best = j;
      }
    }
    sel.push(best);
  }
  sel.push(n - 1);
  return sel;
}

describe('LTTB', () => {
  const n = 10_000;
  const x = Array.from({ length: n }, (_, i) => i * 1000);
  const y = x.map((_, i) => Math.sin(i / 300) + 0.01 * Math.cos(i * 7.1));
  y[4321] = 50; // a one-sample spike
  y[7777] = -40;

  test('keeps the extreme spikes, the ends, at most the threshold, ascending', () => {
    const s = lttb(x, y, 200);
    expect(s.length).toBeLessThanOrEqual(200);
    expect(s[0]).toBe(0);
    expect(s[s.length - 1]).toBe(n - 1);
    expect(s).toContain(4321);
    expect(s).toContain(7777);
    for (let i = 1; i < s.length; i++) expect(s[i]).toBeGreaterThan(s[i - 1]);
  });

  test('equals a reference implementation of the thesis pseudo-code', () => {
    for (const k of [3, 10, 97, 500]) expect(lttb(x, y, k)).toEqual(lttbReference(x, y, k));
  });

  test('threshold ≥ n returns every point', () => {
    expect(lttb([1, 2, 3], [4, 5, 6], 5)).toEqual([0, 1, 2]);
  });
});

describe('min-max', () => {
  test('every bucket keeps its min and max (nulls skipped)', () => {
    const n = 1000;
    const y = Float64Array.from({ length: n }, (_, i) => Math.sin(i / 13) * (1 + (i % 7)));
    for (let i = 300; i < 340; i++) y[i] = NaN;
    const B = 37;
    const s = minMax(y, B);
    for (let b = 0; b < B; b++) {
      const [lo, hi] = bucketBounds(n, B, b);
      const vals = Array.from(y.subarray(lo, hi)).filter((v) => !Number.isNaN(v));
      if (!vals.length) continue;
      const inBucket = s.filter((r) => r >= lo && r < hi).map((r) => y[r]);
      expect(inBucket).toContain(Math.min(...vals));
      expect(inBucket).toContain(Math.max(...vals));
      expect(inBucket.length).toBeLessThanOrEqual(2);
    }
    expect(s.every((r) => !Number.isNaN(y[r]))).toBe(true);
  });
});

describe('downsampleRows (shared time axis, gaps)', () => {
  const n = 20_000;
  const ts = Float64Array.from({ length: n }, (_, i) => i * 1000);
  const a = Float64Array.from({ length: n }, (_, i) => Math.sin(i / 500));
  const b = Float64Array.from({ length: n }, (_, i) => Math.cos(i / 300));
  for (let i = 5000; i < 6000; i++) a[i] = NaN;
  for (let i = 12_000; i < 12_010; i++) b[i] = NaN;
  b[0] = NaN; // series starting in a gap

  test.each(['lttb', 'minmax'] as const)('%s: ≤ maxPoints, gaps stay gaps, real samples only', (method) => {
    const r = { rows: downsampleRows(ts, [a, b], 400, method).rows! };
    expect(r.rows.length).toBeLessThanOrEqual(400);
    expect(r.rows.length).toBeGreaterThan(100);
    for (let i = 1; i < r.rows.length; i++) expect(r.rows[i]).toBeGreaterThan(r.rows[i - 1]);
    expect(crossesGap(r.rows, a)).toBeNull();
    expect(crossesGap(r.rows, b)).toBeNull();
    // a null is present inside each gap
    expect(r.rows.some((x) => x >= 5000 && x < 6000)).toBe(true);
    expect(r.rows.some((x) => x >= 12_000 && x < 12_010)).toBe(true);
  });

  test('many short gaps (every 3rd sample null): never connect across', () => {
    const y = Float64Array.from({ length: n }, (_, i) => (i % 3 === 1 ? NaN : Math.sin(i / 50)));
    for (const method of ['lttb', 'minmax'] as const) {
      for (const mp of [9, 50, 1000]) {
        // One series always fits.
        const one = downsampleRows(ts, [y], mp, method).rows!;
        expect(one.length).toBeLessThanOrEqual(mp);
        expect(crossesGap(one, y)).toBeNull();
        // Two series: fits without bridging a gap, or says it cannot (null), never a wrong answer.
        const r = downsampleRows(ts, [y, a], mp, method).rows;
        if (r) {
          expect(r.length).toBeLessThanOrEqual(mp);
          expect(crossesGap(r, y)).toBeNull();
          expect(crossesGap(r, a)).toBeNull();
        }
      }
    }
  });

  test('n ≤ maxPoints: every row', () => {
    expect(downsampleRows(ts.subarray(0, 10), [a.subarray(0, 10)], 10, 'lttb').rows).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test('all-null series keeps one null row', () => {
    const z = new Float64Array(1000).fill(NaN);
    const r = { rows: downsampleRows(ts.subarray(0, 1000), [z], 10, 'lttb').rows! };
    expect(r.rows.length).toBeGreaterThanOrEqual(1);
    expect(r.rows.length).toBeLessThanOrEqual(10);
  });
});
