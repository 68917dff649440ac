/**
 * Atmospheric electric field (potential gradient, PG, V/m, positive downward) features of one
 * station-day from `std/aef/<STA>/PT1M` (or, for days without minute data, `PT1H`).
 *
 * - PT1M: `pg` (the std value), `pg_negative` (1 when PG < 0), `pg_resid` (PG minus the centred
 *   61-minute running median: the 10–60 min fluctuation part, Hobara et al. 2022, Atmosphere
 *   13:1619, saw such fluctuations hours before earthquakes in the Kanto network).
 * - P1D: `fair_weather` (0/1), `pg_median`, `pg_neg_minutes`, `pg_min`, `neg_bay_max_minutes`,
 *   plus `valid_minutes` and `resolution_minutes` (1 from minute data, 60 from the hourly
 *   fallback, where counts are hours × 60).
 *   * Fair weather: KMO has had no met observations since 1997 and selects quiet days from the
 *     AEF itself (JpGU 2014 MIS26-02 [A5]); without weather data we use the proxy of
 *     products-methods §2: a day is fair when ≥ 90 % of its minutes are valid and ≥ 95 % of the
 *     valid minutes have 0 < PG ≤ upper bound (default 1000 V/m; the KAK fair-weather mean is
 *     ≈ 150 V/m, Kikuti [A1]). This is an approximation of Harrison & Nicoll 2018 (JASTP 179:239)
 *     FW1–FW3 criteria, which need visibility, cloud and wind observations.
 *   * Negative bay: the longest run of consecutive valid minutes with PG < 0 (a null minute
 *     ends the run; std already filled gaps ≤ 5 min). Negative bays of minutes to ~10 h were
 *     reported as precursor candidates in Kamchatka ([A2], products-methods §2); rain and
 *     showers also give them, hence the fair-weather flag beside it.
 * - P1D extra `fluct_power_10_60` (V²/m²): Welch band power of the minute PG between periods
 *   10 and 60 min (1/3600–1/600 Hz), nfft 256 min, Hann 50 %, linear detrend.
 */
import { bandPower, longestRun, median, welch } from './dsp';
import { emptyTable, gridTs, MINUTE_MS, type FeatureTable } from './common';

export interface AefParams {
  /** Upper PG bound of fair weather (V/m). */
  fairUpperVm: number;
  /** Fraction of valid minutes that must be inside (0, upper]. */
  fairFraction: number;
  /** Minimum fraction of the day's minutes that must be valid for a fair-weather decision. */
  minValidFraction: number;
  /** Running-median window for pg_resid (minutes, odd). */
  residWindow: number;
}

export const DEFAULT_AEF_PARAMS: AefParams = { fairUpperVm: 1000, fairFraction: 0.95, minValidFraction: 0.9, residWindow: 61 };

export interface AefDayFeatures {
  minute: FeatureTable;
  daily: FeatureTable;
}

const DAILY_UNITS = {
  fair_weather: '1',
  pg_median: 'V/m',
  pg_neg_minutes: 'min',
  pg_min: 'V/m',
  neg_bay_max_minutes: 'min',
  valid_minutes: 'min',
  resolution_minutes: 'min',
  fluct_power_10_60: 'V^2/m^2',
};

/** Daily AEF values of a day of PG samples at `resolutionMin` minutes each (1 or 60). */
export function aefDaily(pg: Float64Array, resolutionMin: number, p: AefParams = DEFAULT_AEF_PARAMS): Record<keyof typeof DAILY_UNITS, number> {
  const n = pg.length;
  let valid = 0;
  let neg = 0;
  let fair = 0;
  let lo = Infinity;
  const negFlags = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = pg[i];
    if (v !== v) continue;
    valid++;
    if (v < 0) {
      neg++;
      negFlags[i] = 1;
    }
    if (v > 0 && v <= p.fairUpperVm) fair++;
    if (v < lo) lo = v;
  }
  const out = {
    fair_weather: NaN,
    pg_median: NaN,
    pg_neg_minutes: NaN,
    pg_min: NaN,
    neg_bay_max_minutes: NaN,
    valid_minutes: valid * resolutionMin,
    resolution_minutes: resolutionMin,
    fluct_power_10_60: NaN,
  };
  if (valid === 0) return out;
  out.pg_median = median(pg);
  out.pg_neg_minutes = neg * resolutionMin;
  out.pg_min = lo;
  out.neg_bay_max_minutes = longestRun(negFlags) * resolutionMin;
  if (valid >= p.minValidFraction * n) out.fair_weather = fair >= p.fairFraction * valid ? 1 : 0;
  if (resolutionMin === 1) {
    const w = welch(pg, 1 / 60, { nfft: 256, overlap: 0.5, detrend: 'linear' });
    if (w.segments >= 3) out.fluct_power_10_60 = bandPower(w.freqs, w.psd, 1 / 3600, 1 / 600 + 1e-9);
  }
  return out;
}

/** Centred running median (window w, odd), NaN-skipping; NaN where the centre is NaN. */
export function runningMedian(x: Float64Array, w: number): Float64Array {
  const h = w >> 1;
  const out = new Float64Array(x.length).fill(NaN);
  const buf: number[] = [];
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== x[i]) continue;
    buf.length = 0;
    for (let k = Math.max(0, i - h); k <= Math.min(x.length - 1, i + h); k++) if (x[k] === x[k]) buf.push(x[k]);
    buf.sort((a, b) => a - b);
    const m = buf.length;
    out[i] = m & 1 ? buf[m >> 1] : 0.5 * (buf[(m >> 1) - 1] + buf[m >> 1]);
  }
  return out;
}

/**
 * Features of one day. `minutePg`: 1440 values (minute k at day + k min), or null; `hourPg`: 24
 * values used only when there is no minute data.
 */
export function aefDayFeatures(day: number, minutePg: Float64Array | null, hourPg: Float64Array | null, p: AefParams = DEFAULT_AEF_PARAMS): AefDayFeatures {
  const minute = emptyTable(gridTs(day, MINUTE_MS, 1440), ['pg', 'pg_negative', 'pg_resid'], { pg: 'V/m', pg_negative: '1', pg_resid: 'V/m' });
  const daily = emptyTable(Float64Array.of(day), Object.keys(DAILY_UNITS), DAILY_UNITS);
  let d: Record<string, number> | null = null;
  if (minutePg) {
    const mc = minute.columns;
    mc.pg.set(minutePg);
    const rm = runningMedian(minutePg, p.residWindow);
    for (let m = 0; m < 1440; m++) {
      const v = minutePg[m];
      if (v === v) {
        mc.pg_negative[m] = v < 0 ? 1 : 0;
        mc.pg_resid[m] = v - rm[m];
      }
    }
    d = aefDaily(minutePg, 1, p);
  } else if (hourPg) {
    d = aefDaily(hourPg, 60, p);
  }
  if (d) for (const [k, v] of Object.entries(d)) daily.columns[k][0] = v;
  return { minute, daily };
}

