/**
 * Geomagnetic features of one station-day, from the std tiles `std/geomag/<STA>/PT1S` (1 s) and
 * `PT1M` (fallback for the per-minute statistics only).
 *
 * - PT1M: per element (X, Y, Z, F, H, D, E as present) `<E>_mean|_min|_max|_std` over the minute's
 *   1 s samples, null unless ≥ 90 % of the 60 samples are valid (the INTERMAGNET 1 s → 1 min
 *   "90 % present" rule, geomag-algorithms FilterAlgorithm allowed_bad = 0.1 [G4]); without 1 s
 *   data the minute value is used (mean = min = max, std null). `dbdt_max`, `dbdt_rms` (nT/s):
 *   horizontal rate |dB_h/dt| = √(ΔX² + ΔY²)/Δt from first differences of consecutive 1 s
 *   samples, as USGS geomag-algorithms DbDtAlgorithm (np.diff, value stamped at the later
 *   sample [G3]); X, Y come from H, D when the file reports HDZ, and H, E stand in for them in
 *   an HEZ variation file (see horizontalXY). 1 s data only (minute
 *   differences would not be comparable), null otherwise.
 * - PT1H: ULF band power over 0.01–0.05 Hz (Σ S(f)Δf, nT²) of Z, H, D (D converted from arcmin
 *   to nT with the day's median H: δD_nT = H·δD_rad) and G with S_G = S_H + S_D (G = √(H²+D²) of
 *   the spectral amplitudes), and the polarization ratio zg_ratio = √(S_Z/S_G) (Hayakawa et al.
 *   1996, GRL 23:241; Hattori 2004; Yusof et al. 2021, Universe 7:20; products-methods §2).
 *   Welch PSD on 1 s data, nfft 1024 (Δf ≈ 0.98 mHz), Hann, 50 % overlap, linear detrend per
 *   segment (removes the Sq/secular trend inside a 17-min segment), ≥ 3 of the hour's 6
 *   segments gap-free. Never from 1-min data: its Nyquist (8.3 mHz) is below the band.
 * - P1D: `dbdt_max` (max over the day), `dbdt_rms` (rms over all 1 s rates of the day), `ulf_z`,
 *   `ulf_h`, `ulf_d`, `ulf_g` (median over the night hours), `zg_ratio` (median of the hourly
 *   ratios of the UTC day), `zg_night_median` (median of the hourly ratios of the night
 *   20–04 JST = 11–19 UTC, which falls inside the UTC day; ≥ 4 of the 8 hours needed). The
 *   night window follows the KAK PRA monitor (cess-lab pra-observation, 20–04 LT [P2]): the
 *   night removes daytime artificial noise and most of the Sq-driven ULF background.
 */
import { median, nanMax, welch, bandPower } from './dsp';
import { DAY_MS, emptyTable, gridTs, HOUR_MS, MINUTE_MS, type FeatureTable } from './common';

const { sqrt, cos, sin, PI, floor } = Math;

export interface GeomagParams {
  /** ULF band (Hz). */
  ulfBand: [number, number];
  /** Welch segment length at 1 Hz. */
  nfft: number;
  /** Night window in UTC hours [start, end) — 20–04 JST. */
  nightUtcHours: [number, number];
  /** Minimum gap-free Welch segments per hour. */
  minSegments: number;
  /** Minimum valid 1 s samples per minute for a minute statistic (90 % rule). */
  minSamplesPerMinute: number;
}

export const DEFAULT_GEOMAG_PARAMS: GeomagParams = { ulfBand: [0.01, 0.05], nfft: 1024, nightUtcHours: [11, 19], minSegments: 3, minSamplesPerMinute: 54 };

/** A day of samples on a regular grid (NaN = missing). */
export interface DaySeries {
  /** Sample step in ms (1000 or 60000). */
  stepMs: number;
  /** Element → values (length DAY / step), sample k at day + k·step (+ stamp offset ignored). */
  elements: Record<string, Float64Array>;
}

/** Place tile rows onto the day's grid (index floor((t − day)/step)). */
export function toDayGrid(day: number, stepMs: number, ts: ArrayLike<number>, cols: Record<string, ArrayLike<number>>): DaySeries {
  const n = floor(DAY_MS / stepMs);
  const elements: Record<string, Float64Array> = {};
  for (const [name, v] of Object.entries(cols)) {
    const a = new Float64Array(n).fill(NaN);
    for (let i = 0; i < ts.length; i++) {
      const k = floor((ts[i] - day) / stepMs);
      if (k >= 0 && k < n) a[k] = v[i];
    }
    elements[name] = a;
  }
  return { stepMs, elements };
}

const ARCMIN = PI / 10800;

/**
 * Two orthogonal horizontal components (nT) of a series: the file's X/Y; or H·cos D, H·sin D
 * (D in arcmin); or, for variation files reporting H and E (HEZF, EHZF; data-formats §1.2), H and
 * E themselves. H/E are X/Y rotated by the unknown baseline declination, and a constant rotation
 * changes neither |ΔB_h| nor the band powers, so dB/dt and the ULF features need no baseline.
 */
export function horizontalXY(el: Record<string, Float64Array>): { X: Float64Array; Y: Float64Array } | null {
  if (el.X && el.Y) return { X: el.X, Y: el.Y };
  if (el.H && el.E && !el.D) return { X: el.H, Y: el.E };
  if (!el.H || !el.D) return null;
  const n = el.H.length;
  const X = new Float64Array(n);
  const Y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const d = el.D[i] * ARCMIN;
    X[i] = el.H[i] * cos(d);
    Y[i] = el.H[i] * sin(d);
  }
  return { X, Y };
}

/**
 * |dB_h/dt| (nT/s) of consecutive samples (first difference, USGS DbDtAlgorithm [G3]); value k
 * belongs to sample k (NaN for k = 0 and next to gaps).
 */
export function dbdtSeries(X: Float64Array, Y: Float64Array, stepSec: number): Float64Array {
  const n = X.length;
  const r = new Float64Array(n).fill(NaN);
  for (let k = 1; k < n; k++) {
    const dx = X[k] - X[k - 1];
    const dy = Y[k] - Y[k - 1];
    const v = sqrt(dx * dx + dy * dy) / stepSec;
    if (v === v) r[k] = v;
  }
  return r;
}

/** Per-minute max and rms of a 1 s dB/dt series (≥ minSamples valid rates per minute). */
export function dbdtPerMinute(rate: Float64Array, minSamples: number): { max: Float64Array; rms: Float64Array; sumSq: Float64Array; count: Float64Array } {
  const mins = floor(rate.length / 60);
  const mx = new Float64Array(mins).fill(NaN);
  const rms = new Float64Array(mins).fill(NaN);
  const sumSq = new Float64Array(mins);
  const count = new Float64Array(mins);
  for (let m = 0; m < mins; m++) {
    let c = 0;
    let s2 = 0;
    let hi = -Infinity;
    for (let k = m * 60; k < m * 60 + 60; k++) {
      const v = rate[k];
      if (v !== v) continue;
      c++;
      s2 += v * v;
      if (v > hi) hi = v;
    }
    sumSq[m] = s2;
    count[m] = c;
    if (c >= minSamples) {
      mx[m] = hi;
      rms[m] = sqrt(s2 / c);
    }
  }
  return { max: mx, rms, sumSq, count };
}

export interface UlfPowers {
  ulf_z: number;
  ulf_h: number;
  ulf_d: number;
  ulf_g: number;
  zg_ratio: number;
}

/**
 * ULF band powers and the polarization ratio of one window of 1 s samples (Z, H, D all in nT):
 * S_X = Σ_{band} P_X(f)·Δf (Welch), S_G = S_H + S_D, Z/G = √(S_Z/S_G).
 */
export function ulfPowers(Z: ArrayLike<number>, H: ArrayLike<number>, Dnt: ArrayLike<number>, fs: number, p: GeomagParams = DEFAULT_GEOMAG_PARAMS): UlfPowers {
  const bp = (x: ArrayLike<number>) => {
    const w = welch(x, fs, { nfft: p.nfft, overlap: 0.5, detrend: 'linear' });
    return w.segments >= p.minSegments ? bandPower(w.freqs, w.psd, p.ulfBand[0], p.ulfBand[1]) : NaN;
  };
  const ulf_z = bp(Z);
  const ulf_h = bp(H);
  const ulf_d = bp(Dnt);
  const ulf_g = ulf_h + ulf_d;
  const zg_ratio = ulf_g > 0 ? sqrt(ulf_z / ulf_g) : NaN;
  return { ulf_z, ulf_h, ulf_d, ulf_g, zg_ratio };
}

export interface GeomagDayInput {
  day: number;
  /** 1 s std series of the day, if any. */
  sec?: DaySeries;
  /** 1 min std series of the day, if any. */
  min?: DaySeries;
}

export interface GeomagDayFeatures {
  minute: FeatureTable;
  hourly: FeatureTable;
  daily: FeatureTable;
}

const ELEMENTS = ['X', 'Y', 'Z', 'F', 'H', 'D', 'E'];
const unitOf = (e: string) => (e === 'D' ? 'arcmin' : 'nT');

/** All geomagnetic features of one station-day. */
export function geomagDayFeatures(input: GeomagDayInput, p: GeomagParams = DEFAULT_GEOMAG_PARAMS): GeomagDayFeatures {
  const { day, sec, min } = input;
  const src = sec ?? min;
  const present = src ? ELEMENTS.filter((e) => src.elements[e]) : [];
  // ---- per minute
  const mNames: string[] = [];
  const mUnits: Record<string, string> = { dbdt_max: 'nT/s', dbdt_rms: 'nT/s' };
  for (const e of present)
    for (const s of ['mean', 'min', 'max', 'std']) {
      mNames.push(`${e}_${s}`);
      mUnits[`${e}_${s}`] = unitOf(e);
    }
  mNames.push('dbdt_max', 'dbdt_rms');
  const minute = emptyTable(gridTs(day, MINUTE_MS, 1440), mNames, mUnits);
  const mc = minute.columns;
  if (sec) {
    for (const e of present) {
      const v = sec.elements[e];
      const cMean = mc[`${e}_mean`];
      const cMin = mc[`${e}_min`];
      const cMax = mc[`${e}_max`];
      const cStd = mc[`${e}_std`];
      for (let m = 0; m < 1440; m++) {
        let c = 0;
        let s = 0;
        let s2 = 0;
        let lo = Infinity;
        let hi = -Infinity;
        for (let k = m * 60; k < m * 60 + 60; k++) {
          const x = v[k];
          if (x !== x) continue;
          c++;
          s += x;
          if (x < lo) lo = x;
          if (x > hi) hi = x;
        }
        if (c < p.minSamplesPerMinute) continue;
        const mean = s / c;
        for (let k = m * 60; k < m * 60 + 60; k++) {
          const x = v[k];
          if (x === x) s2 += (x - mean) * (x - mean);
        }
        cMean[m] = mean;
        cMin[m] = lo;
        cMax[m] = hi;
        cStd[m] = sqrt(s2 / c);
      }
    }
  } else if (min) {
    for (const e of present) {
      const v = min.elements[e];
      for (let m = 0; m < 1440; m++) mc[`${e}_mean`][m] = mc[`${e}_min`][m] = mc[`${e}_max`][m] = v[m];
    }
  }
  let dayMax = NaN;
  let dayRms = NaN;
  const xy = sec ? horizontalXY(sec.elements) : null;
  if (sec && xy) {
    const rate = dbdtSeries(xy.X, xy.Y, sec.stepMs / 1000);
    const pm = dbdtPerMinute(rate, p.minSamplesPerMinute);
    mc.dbdt_max.set(pm.max);
    mc.dbdt_rms.set(pm.rms);
    dayMax = nanMax(pm.max);
    let s2 = 0;
    let c = 0;
    for (let m = 0; m < 1440; m++) {
      s2 += pm.sumSq[m];
      c += pm.count[m];
    }
    // Daily values need at least half of the day's 1 s rates (a partial first/last day of a
    // record still gets a value; its coverage is visible in the minute tile).
    dayRms = c >= 43_200 ? sqrt(s2 / c) : NaN;
    if (c < 43_200) dayMax = NaN;
  }
  // ---- hourly ULF
  const hNames = ['ulf_z', 'ulf_h', 'ulf_d', 'ulf_g', 'zg_ratio'];
  const hourly = emptyTable(gridTs(day, HOUR_MS, 24), hNames, { ulf_z: 'nT^2', ulf_h: 'nT^2', ulf_d: 'nT^2', ulf_g: 'nT^2', zg_ratio: '1' });
  const hc = hourly.columns;
  const hz = sec && sec.stepMs === 1000 && sec.elements.Z ? horizontalXY(sec.elements) : null;
  if (sec && hz) {
    const el = sec.elements;
    let H = el.H;
    let Dnt: Float64Array;
    if (H && el.D) {
      // D (arcmin) → nT with the day's median H (fluctuations only matter for the band power).
      const h0 = median(H);
      Dnt = new Float64Array(el.D.length);
      for (let i = 0; i < Dnt.length; i++) Dnt[i] = el.D[i] * ARCMIN * h0;
    } else {
      // XY (or HE) only: rotate into H (along the median horizontal field) and D
      // (perpendicular, nT).
      const X = hz.X;
      const Y = hz.Y;
      const x0 = median(X);
      const y0 = median(Y);
      const h0 = sqrt(x0 * x0 + y0 * y0);
      const c = x0 / h0;
      const s = y0 / h0;
      H = new Float64Array(X.length);
      Dnt = new Float64Array(X.length);
      for (let i = 0; i < X.length; i++) {
        H[i] = X[i] * c + Y[i] * s;
        Dnt[i] = -X[i] * s + Y[i] * c;
      }
    }
    for (let h = 0; h < 24; h++) {
      const a = h * 3600;
      const b = a + 3600;
      const r = ulfPowers(el.Z.subarray(a, b), H.subarray(a, b), Dnt.subarray(a, b), 1, p);
      hc.ulf_z[h] = r.ulf_z;
      hc.ulf_h[h] = r.ulf_h;
      hc.ulf_d[h] = r.ulf_d;
      hc.ulf_g[h] = r.ulf_g;
      hc.zg_ratio[h] = r.zg_ratio;
    }
  }
  // ---- daily
  const [n0, n1] = p.nightUtcHours;
  const nightIdx: number[] = [];
  for (let h = n0; h !== n1; h = (h + 1) % 24) nightIdx.push(h);
  const nightOf = (a: Float64Array) => {
    const v = nightIdx.map((h) => a[h]).filter((x) => x === x);
    return v.length * 2 >= nightIdx.length ? median(v) : NaN;
  };
  const dNames = ['dbdt_max', 'dbdt_rms', 'ulf_z', 'ulf_h', 'ulf_d', 'ulf_g', 'zg_ratio', 'zg_night_median'];
  const daily = emptyTable(Float64Array.of(day), dNames, { dbdt_max: 'nT/s', dbdt_rms: 'nT/s', ulf_z: 'nT^2', ulf_h: 'nT^2', ulf_d: 'nT^2', ulf_g: 'nT^2', zg_ratio: '1', zg_night_median: '1' });
  const dc = daily.columns;
  dc.dbdt_max[0] = dayMax;
  dc.dbdt_rms[0] = dayRms;
  dc.ulf_z[0] = nightOf(hc.ulf_z);
  dc.ulf_h[0] = nightOf(hc.ulf_h);
  dc.ulf_d[0] = nightOf(hc.ulf_d);
  dc.ulf_g[0] = nightOf(hc.ulf_g);
  const allZg = Array.from(hc.zg_ratio).filter((x) => x === x);
  dc.zg_ratio[0] = allZg.length >= 12 ? median(allZg) : NaN;
  dc.zg_night_median[0] = nightOf(hc.zg_ratio);
  return { minute, hourly, daily };
}
