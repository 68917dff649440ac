/**
 * Disturbed-day (geomagnetic storm) flag, so that global, solar-driven disturbances are not
 * mistaken for local anomalies and stay out of anomaly baselines (products-methods §2
 * "Geomagnetic storm exclusion", §6 "indices").
 *
 * - From index files when supplied: a UTC day is disturbed when its Dst minimum ≤ −50 nT
 *   (moderate storm, Gonzalez et al. 1994, JGR 99:5771) or its Kp maximum ≥ 4 ("active"); an
 *   hour when its Dst ≤ −50 or the Kp of its 3-hour interval ≥ 4. Dst: WDC format (120-byte
 *   records, 24 hourly values per day, 9999 = missing, value = base·100 + hourly [S3]) or
 *   simple `ISO-time value` lines. Kp: GFZ `Kp_ap_since_1932.txt` lines (`YYYY MM DD hh.h
 *   hh._m days days_m Kp ap D`) or `ISO-time value` lines (Kp as a decimal, `3+` style
 *   thirds are accepted too).
 * - Otherwise from a coherent multi-station disturbance of 1 s dB/dt: per hour, each station's
 *   maximum per-minute `dbdt_max`; the hour's coherent value is the MEDIAN over stations (with 2
 *   stations the smaller one); it needs ≥ 2 stations. A storm (SSC, main phase, Pc pulsations)
 *   raises dB/dt at every observatory at once, while a local source, cultural noise or a
 *   spike raises it at one; the median ignores a single-station excursion. The hour is
 *   disturbed when the coherent value ≥ `dbdtThreshold` (default 0.5 nT/s; mid-latitude quiet
 *   1 s dB/dt stays ≲ 0.1 nT/s while SSCs reach ~1 nT/s). A day is disturbed when any hour is.
 *   When an index covers a day, the index decides (it is the established classification);
 *   `dbdt_coherent_max` is always reported.
 */
import fs from 'node:fs';
import { median } from './dsp';
import { emptyTable, gridTs, HOUR_MS, type FeatureTable } from './common';

export interface StormParams {
  dstThresholdNt: number;
  kpThreshold: number;
  dbdtThreshold: number;
  minStations: number;
}

export const DEFAULT_STORM_PARAMS: StormParams = { dstThresholdNt: -50, kpThreshold: 4, dbdtThreshold: 0.5, minStations: 2 };

/** Time series of an index: epoch ms of the interval start → value. */
export interface IndexSeries {
  /** interval length (ms): 1 h for Dst, 3 h for Kp */
  stepMs: number;
  values: Map<number, number>;
}

/** Parse a WDC-format (or `ISO value`) Dst file. */
export function parseDst(text: string): IndexSeries {
  const values = new Map<number, number>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\s+$/, '');
    if (/^DST\d{4}\*\d{2}/.test(line) && line.length >= 116) {
      const yy = Number(line.slice(3, 5));
      const mm = Number(line.slice(5, 7));
      const dd = Number(line.slice(8, 10));
      const top = line.slice(14, 16).trim();
      const year = top ? Number(top) * 100 + yy : 1900 + yy;
      const base = Number(line.slice(16, 20).trim() || '0');
      const d0 = Date.UTC(year, mm - 1, dd);
      for (let h = 0; h < 24; h++) {
        const s = line.slice(20 + 4 * h, 24 + 4 * h).trim();
        const v = Number(s);
        if (s === '' || !Number.isFinite(v) || v === 9999) continue;
        values.set(d0 + h * HOUR_MS, base * 100 + v);
      }
      continue;
    }
    const m = /^\s*(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d*)?)?Z?)[\s,;]+(-?\d+(?:\.\d+)?)\s*$/.exec(line);
    if (m) {
      const t = Date.parse(m[1].replace(' ', 'T') + (m[1].endsWith('Z') ? '' : 'Z'));
      const v = Number(m[2]);
      if (Number.isFinite(t) && v !== 9999 && v !== 99999) values.set(Math.floor(t / HOUR_MS) * HOUR_MS, v);
    }
  }
  return { stepMs: HOUR_MS, values };
}

const kpValue = (s: string): number => {
  const m = /^(\d)([-+o]?)$/.exec(s);
  if (m) return Number(m[1]) + (m[2] === '+' ? 1 / 3 : m[2] === '-' ? -1 / 3 : 0);
  return Number(s);
};

/** Parse a Kp file (GFZ Kp_ap_since_1932 layout, or `ISO value` lines). */
export function parseKp(text: string): IndexSeries {
  const values = new Map<number, number>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const g = /^(\d{4})\s+(\d{2})\s+(\d{2})\s+(\d+(?:\.\d+)?)\s+\S+\s+\S+\s+\S+\s+(-?\d+(?:\.\d+)?)\s/.exec(line + ' ');
    if (g) {
      const t = Date.UTC(Number(g[1]), Number(g[2]) - 1, Number(g[3])) + Math.round(Number(g[4]) * HOUR_MS);
      const v = Number(g[5]);
      if (v >= 0) values.set(Math.floor(t / (3 * HOUR_MS)) * 3 * HOUR_MS, v);
      continue;
    }
    const m = /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d*)?)?Z?)[\s,;]+(\d(?:\.\d+)?[-+o]?)$/.exec(line);
    if (m) {
      const t = Date.parse(m[1].replace(' ', 'T') + (m[1].endsWith('Z') ? '' : 'Z'));
      const v = kpValue(m[2]);
      if (Number.isFinite(t) && v >= 0) values.set(Math.floor(t / (3 * HOUR_MS)) * 3 * HOUR_MS, v);
    }
  }
  return { stepMs: 3 * HOUR_MS, values };
}

export interface IndexFiles {
  dst?: string[];
  kp?: string[];
}

/** Load and merge index files (later files override earlier values). */
export function loadIndices(files: IndexFiles | undefined): { dst: IndexSeries | null; kp: IndexSeries | null } {
  const merge = (list: string[] | undefined, parse: (t: string) => IndexSeries): IndexSeries | null => {
    if (!list?.length) return null;
    const out: IndexSeries = { stepMs: 0, values: new Map() };
    for (const f of list) {
      const s = parse(fs.readFileSync(f, 'latin1'));
      out.stepMs = s.stepMs;
      for (const [k, v] of s.values) out.values.set(k, v);
    }
    return out;
  };
  return { dst: merge(files?.dst, parseDst), kp: merge(files?.kp, parseKp) };
}

export interface StormDayInput {
  day: number;
  /** station → its 1440 per-minute dbdt_max values (nT/s, NaN = none) */
  dbdtByStation: Map<string, Float64Array>;
  dst: IndexSeries | null;
  kp: IndexSeries | null;
}

export interface StormDayFeatures {
  hourly: FeatureTable;
  daily: FeatureTable;
}

/** Coherent dB/dt of one hour: median over stations of each station's max (≥ minStations). */
export function coherentDbdt(perStationMax: number[], minStations = 2): number {
  const v = perStationMax.filter((x) => x === x);
  if (v.length < minStations) return NaN;
  if (v.length === 2) return Math.min(v[0], v[1]);
  return median(v);
}

export function stormDayFeatures(input: StormDayInput, p: StormParams = DEFAULT_STORM_PARAMS): StormDayFeatures {
  const { day } = input;
  const hourly = emptyTable(gridTs(day, HOUR_MS, 24), ['disturbed', 'dbdt_coherent', 'dst', 'kp', 'stations'], { disturbed: '1', dbdt_coherent: 'nT/s', dst: 'nT', kp: '1', stations: 'count' });
  const daily = emptyTable(Float64Array.of(day), ['disturbed', 'dbdt_coherent_max', 'kp_max', 'dst_min', 'disturbed_hours', 'stations', 'from_indices'], {
    disturbed: '1',
    dbdt_coherent_max: 'nT/s',
    kp_max: '1',
    dst_min: 'nT',
    disturbed_hours: 'h',
    stations: 'count',
    from_indices: '1',
  });
  const hc = hourly.columns;
  let dstMin = Infinity;
  let kpMax = -Infinity;
  let haveIdx = false;
  let cohMax = -Infinity;
  let dh = 0;
  let stationsWithData = 0;
  for (const v of input.dbdtByStation.values()) if (v.some((x) => x === x)) stationsWithData++;
  for (let h = 0; h < 24; h++) {
    const t = day + h * HOUR_MS;
    const per: number[] = [];
    for (const v of input.dbdtByStation.values()) {
      let m = -Infinity;
      for (let k = h * 60; k < h * 60 + 60; k++) if (v[k] > m) m = v[k];
      per.push(m === -Infinity ? NaN : m);
    }
    const coh = coherentDbdt(per, p.minStations);
    hc.dbdt_coherent[h] = coh;
    hc.stations[h] = per.filter((x) => x === x).length;
    if (coh > cohMax) cohMax = coh;
    const dst = input.dst?.values.get(t);
    const kp = input.kp?.values.get(Math.floor(t / (3 * HOUR_MS)) * 3 * HOUR_MS);
    if (dst !== undefined) {
      hc.dst[h] = dst;
      if (dst < dstMin) dstMin = dst;
    }
    if (kp !== undefined) {
      hc.kp[h] = kp;
      if (kp > kpMax) kpMax = kp;
    }
    const idxKnown = dst !== undefined || kp !== undefined;
    if (idxKnown) haveIdx = true;
    let dist: number;
    if (idxKnown) dist = (dst !== undefined && dst <= p.dstThresholdNt) || (kp !== undefined && kp >= p.kpThreshold) ? 1 : 0;
    else dist = coh === coh ? (coh >= p.dbdtThreshold ? 1 : 0) : NaN;
    hc.disturbed[h] = dist;
    if (dist === 1) dh++;
  }
  const dc = daily.columns;
  dc.dbdt_coherent_max[0] = cohMax === -Infinity ? NaN : cohMax;
  dc.kp_max[0] = kpMax === -Infinity ? NaN : kpMax;
  dc.dst_min[0] = dstMin === Infinity ? NaN : dstMin;
  dc.stations[0] = stationsWithData;
  dc.from_indices[0] = haveIdx ? 1 : 0;
  dc.disturbed_hours[0] = dh;
  if (haveIdx) dc.disturbed[0] = dc.dst_min[0] <= p.dstThresholdNt || dc.kp_max[0] >= p.kpThreshold || dh > 0 ? 1 : 0;
  else dc.disturbed[0] = dc.dbdt_coherent_max[0] === dc.dbdt_coherent_max[0] ? (dh > 0 ? 1 : 0) : NaN;
  return { hourly, daily };
}

