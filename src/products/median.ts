/**
 * Exact medians in O(n) by quickselect, shared by the anomaly scores (scores.ts: rolling
 * baselines) and the VLF window medians (vlfIngest.ts).
 */

/**
 * k-th smallest of a[0..n) (0-based), partially reordering a in place: Hoare quickselect with a
 * median-of-three pivot, O(n) on average. Sub-daily baselines hold up to 43,200 values (30
 * days of minutes) and are refreshed per day and feature: a full sort each time dominated the
 * analysis.
 */
function selectK(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    // median of three → a[mid]
    if (a[mid] < a[lo]) {
      const t = a[mid];
      a[mid] = a[lo];
      a[lo] = t;
    }
    if (a[hi] < a[lo]) {
      const t = a[hi];
      a[hi] = a[lo];
      a[lo] = t;
    }
    if (a[hi] < a[mid]) {
      const t = a[hi];
      a[hi] = a[mid];
      a[mid] = t;
    }
    const pivot = a[mid];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/** Median of a[0..n) (no NaN; NaN when n = 0), reordering a in place: the middle value, or the mean of the two middle ones. */
export function medianInPlace(a: Float64Array, n: number): number {
  if (n === 0) return NaN;
  const h = n >> 1;
  const upper = selectK(a, n, h);
  if (n & 1) return upper;
  // After selecting h, a[0..h) holds the h smallest values: the lower middle is their maximum.
  let lower = a[0];
  for (let i = 1; i < h; i++) if (a[i] > lower) lower = a[i];
  return (lower + upper) / 2;
}
