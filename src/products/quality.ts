/**
 * Per-sample quality bitmask of product tiles (one INT32 `<column>_q` column per value column).
 * Bits combine: e.g. a 99999 gap that was short enough to interpolate is SENTINEL|INTERPOLATED,
 * one that stayed empty is SENTINEL|MISSING. MISSING is set exactly where the value is null.
 */

/** The value is null in this tile (no usable sample, not filled). */
export const Q_MISSING = 1;
/** The source had a "missing" fill value here (IAGA 99999.x, CDF FILLVAL, ≤ 0 VLF power). */
export const Q_SENTINEL = 2;
/** The source had a "not recorded" fill value here (IAGA 88888.00: element not observed). */
export const Q_NOT_RECORDED = 4;
/** The value is a linear interpolation across a short gap (products-methods §2 "Gap fill"). */
export const Q_INTERPOLATED = 8;
/** Hampel filter flagged the source sample as an outlier; the value is the rolling median. */
export const Q_OUTLIER = 16;
/** No source row exists for this grid time (a gap in the file's timestamps, or outside the file). */
export const Q_NO_SAMPLE = 32;
/** The value comes from an off-grid stamp snapped to the grid, or aggregates several samples. */
export const Q_RESAMPLED = 64;

/** Names for catalog / tile metadata (bit value → name). */
export const QUALITY_BITS: Readonly<Record<string, number>> = Object.freeze({
  missing: Q_MISSING,
  sentinel: Q_SENTINEL,
  not_recorded: Q_NOT_RECORDED,
  interpolated: Q_INTERPOLATED,
  outlier: Q_OUTLIER,
  no_sample: Q_NO_SAMPLE,
  resampled: Q_RESAMPLED,
});

/** Names of the bits set in a flag value (for display / debugging). */
export function qualityNames(flags: number): string[] {
  return Object.entries(QUALITY_BITS)
    .filter(([, bit]) => (flags & bit) !== 0)
    .map(([name]) => name);
}
