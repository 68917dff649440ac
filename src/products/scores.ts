/**
 * Anomaly scores (`layer=score`): robust z of every feature against a trailing baseline, a
 * daily per-source score and a flag, always carried together with the storm flag.
 *
 *   z = (x − median_W) / (1.4826 · MAD_W)
 *
 * Baseline W = the feature's own values in [t − window, t) (default 30 days), keeping only
 * values that are finite and NOT on an excluded day:
 *  - disturbed days (`feat/indices/GLOBAL/P1D` column `disturbed` = 1, every row of the day;
 *    for sub-daily rows also the hourly `feat/indices/GLOBAL/PT1H` flag): storm-time ULF/VLF power is global
 *    and solar-driven; left in the baseline it inflates the MAD and hides local anomalies for
 *    the next 30 days (methods doc §2, "Geomagnetic storm exclusion");
 *  - for AEF, non-fair-weather days (`fair_weather` = 0): rain drives the potential gradient
 *    negative, which is valid data but no lithospheric signal, so it must not shape the
 *    fair-weather baseline either.
 * The current value is never part of its own baseline (trailing, exclusive end), so a strong
 * anomaly cannot mask itself. Values computed differently (`stratifyBy`, e.g. AEF daily values
 * from minute data vs from hourly means) only meet baselines of their own kind.
 *
 * Minimum baseline: `minValid` values (default 15 of the 30 daily values). For a sub-daily
 * cadence the count is scaled to the same span of time: minCount = ceil(minValid · 1 d /
 * cadence), e.g. 360 hourly values = 15 days' worth. For sub-daily cadences the baseline is
 * refreshed once per UTC day (all rows of a day share the baseline of [dayStart − window,
 * dayStart)): sorting a 30-day minute window (43,200 values) per row would cost O(n·w log w),
 * and a day-stable baseline is also what makes the scores of a day reproducible when only later
 * days are added (incremental runs).
 *
 * Degenerate spread: features such as `pg_neg_minutes` are 0 on every fair day, so MAD = 0.
 * Then the scale falls back to 1.2533 · mean absolute deviation (consistent for a normal
 * distribution, as in Iglewicz & Hoaglin's modified z); if that is 0 too (a constant baseline),
 * z = 0 for a value equal to the median and ±Z_CAP otherwise. |z| is capped at Z_CAP so JSON
 * stays finite.
 *
 * Row outputs (score tile `score/<source>/<station>/<cadence>`):
 *  - `<feature>_z` DOUBLE (null when the baseline is too small or the value is missing);
 *  - `score` DOUBLE = max |z| over the row's features (the daily per-source score on P1D);
 *  - `flagged` INT32 = at least `minFeatures` (default 2) features with |z| ≥ threshold
 *    (default 3), near-copies counted once (coincidenceGroup), AND not disturbed AND (AEF) fair
 *    weather (sub-daily rows: their day's flag): a storm day is reported with its score and
 *    `disturbed` = 1 but is not a local anomaly;
 *  - `disturbed` INT32 (0 when the indices do not cover the day: unknown is not "storm");
 *  - `fair_weather` INT32 for AEF (1 when unknown), `baseline_n` INT32 (smallest baseline size
 *    over the row's features, 0 when no z was computable).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { cadenceMs as parseCadenceMs, listTiles, readTile, skipUnreadable, tilePeriod, writeTile, type Layer, type TileColumn, type TileInfo, type ListTilesFilter } from './tiles';
import { medianInPlace } from './median';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** |z| cap (also the value of "any deviation from a constant baseline"). */
export const Z_CAP = 99;
/** MAD → σ for normal data. */
export const MAD_SCALE = 1.4826;
/** Mean absolute deviation → σ for normal data (√(π/2)). */
export const MEANAD_SCALE = 1.2533141373155001;

export interface ScoreParams {
  /** Trailing baseline length in ms (default 30 days). */
  windowMs: number;
  /** Minimum valid baseline values, in daily values (default 15); scaled for sub-daily cadences. */
  minValid: number;
  /** |z| at or above which a row is flagged (default 3). */
  threshold: number;
  /**
   * Coincidence rule: a row is flagged when at least this many of its features reach the
   * threshold (default 2; 1 = the methods doc's bare max|z| ≥ 3). Rows with fewer scorable
   * features need all of them. Why 2: max|z| over k features raises the false-alarm rate
   * about k-fold (8–16 daily features per source here), and with 15–30-value baselines each
   * |z| ≥ 3 already happens on ~1 % of quiet days; a physical anomaly moves several features of
   * a source together (ULF Z power and Z/G; PG minimum, negative minutes and bay length; both
   * VLF channels). On the demo (`npm run eval`) the bare rule flags 5 single-feature quiet
   * days for 7 injected anomalies (precision ≈ 0.6); the coincidence rule keeps every anomaly.
   * The `score` column stays max|z| either way.
   */
  minFeatures: number;
  /**
   * Column whose value splits a series into strata with separate baselines: a value is only
   * compared with baseline values of the same stratum. AEF daily features come from minute
   * data or, on days without it, from hourly means (`resolution_minutes` 1 or 60); a minimum
   * of 60-minute means is not comparable with one of minutes.
   */
  stratifyBy: string | null;
  /** Keep disturbed days out of baselines and flags (default true). */
  excludeDisturbed: boolean;
  /** AEF: keep non-fair-weather days out of baselines and flags (default true). */
  excludeNonFairWeather: boolean;
  /** Columns that are never scored (flags, QC counters). */
  excludeFeatures: RegExp;
}

export function defaultScoreParams(): ScoreParams {
  return {
    windowMs: 30 * DAY,
    minValid: 15,
    threshold: 3,
    minFeatures: 2,
    stratifyBy: 'resolution_minutes',
    excludeDisturbed: true,
    excludeNonFairWeather: true,
    // fair_weather/disturbed are flags; availability/gaps/valid_minutes are data-quality
    // counters (a gap is not a precursor); resolution_minutes says how a value was computed;
    // `_q` are quality bitmasks; `_n` are sample counts.
    excludeFeatures: /^(fair_weather|disturbed|ts|valid_minutes|resolution_minutes)$|_q$|_n$|^availability_pct_|^gaps_/,
  };
}

/** Minimum baseline count for a cadence: minValid daily values, or the same span of sub-daily values. */
export function minCountFor(params: Pick<ScoreParams, 'minValid'>, cadenceMs: number): number {
  if (!(cadenceMs > 0) || cadenceMs >= DAY) return params.minValid;
  return Math.ceil((params.minValid * DAY) / cadenceMs);
}

// ---------------------------------------------------------------------------------------------
// Robust statistics


export interface RobustStats {
  n: number;
  median: number;
  mad: number;
  /** Scale used for z: 1.4826·MAD, else 1.2533·meanAD, else 0. */
  scale: number;
}

/** Median, MAD and the z scale of finite values (NaN ignored). */
export function robustStats(values: ArrayLike<number>): RobustStats {
  const buf = new Float64Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === v) buf[n++] = v;
  }
  return statsOf(buf, n);
}

/** Robust stats of buf[0..n) (buf is reordered). */
function statsOf(buf: Float64Array, n: number): RobustStats {
  if (n === 0) return { n: 0, median: NaN, mad: NaN, scale: NaN };
  const view = buf.subarray(0, n);
  const med = medianInPlace(view, n);
  let sumAbs = 0;
  for (let i = 0; i < n; i++) {
    const d = view[i] - med;
    const a = d < 0 ? -d : d;
    view[i] = a;
    sumAbs += a;
  }
  const mad = medianInPlace(view, n);
  let scale = MAD_SCALE * mad;
  if (!(scale > 0)) scale = MEANAD_SCALE * (sumAbs / n);
  if (!(scale > 0)) scale = 0;
  return { n, median: med, mad, scale };
}

/** z of x against stats (capped; NaN when x or the baseline is missing). */
export function zOf(x: number, s: RobustStats): number {
  if (x !== x || s.n === 0 || s.median !== s.median) return NaN;
  const d = x - s.median;
  if (s.scale === 0) return d === 0 ? 0 : d > 0 ? Z_CAP : -Z_CAP;
  const z = d / s.scale;
  return z > Z_CAP ? Z_CAP : z < -Z_CAP ? -Z_CAP : z;
}

export interface RobustZOptions {
  windowMs: number;
  /** Minimum baseline values (already scaled to the cadence). */
  minCount: number;
  /** 1 = keep this sample out of every baseline. */
  excluded?: ArrayLike<number>;
  /** Baseline refresh grid in ms: 0 = per row; DAY = per UTC day (sub-daily cadences). */
  refreshMs?: number;
  /** Stratum per row (NaN = none): the baseline of row i only holds rows of i's stratum. */
  stratum?: ArrayLike<number>;
}

export interface RobustZResult {
  z: Float64Array;
  /** Baseline size per row (0 when no baseline). */
  n: Int32Array;
  median: Float64Array;
  scale: Float64Array;
}

/**
 * Trailing robust z of a series: for row i the baseline is the non-excluded finite values with
 * ts in [anchor − window, anchor), anchor = ts[i] (refreshMs 0) or the start of ts[i]'s refresh
 * bin. ts must be ascending.
 */
export function robustZ(ts: ArrayLike<number>, x: ArrayLike<number>, opts: RobustZOptions): RobustZResult {
  const len = ts.length;
  const z = new Float64Array(len).fill(NaN);
  const nOut = new Int32Array(len);
  const med = new Float64Array(len).fill(NaN);
  const scl = new Float64Array(len).fill(NaN);
  const ex = opts.excluded;
  const refresh = opts.refreshMs ?? 0;
  const fl = Math.floor;
  const scratch = new Float64Array(len);
  let lo = 0; // first index with ts >= anchor − window
  let hi = 0; // first index with ts >= anchor
  const strat = opts.stratum;
  let lastAnchor = NaN;
  let lastStratum = NaN;
  let stats: RobustStats = { n: 0, median: NaN, mad: NaN, scale: NaN };
  for (let i = 0; i < len; i++) {
    const anchor = refresh > 0 ? fl(ts[i] / refresh) * refresh : ts[i];
    const st = strat ? strat[i] : NaN;
    if (anchor !== lastAnchor || !(st === lastStratum || (st !== st && lastStratum !== lastStratum))) {
      lastAnchor = anchor;
      lastStratum = st;
      const from = anchor - opts.windowMs;
      while (lo < len && ts[lo] < from) lo++;
      while (hi < len && ts[hi] < anchor) hi++;
      let n = 0;
      for (let k = lo; k < hi; k++) {
        const v = x[k];
        if (v !== v || (ex && ex[k] === 1)) continue;
        if (strat && st === st && strat[k] !== st) continue;
        scratch[n++] = v;
      }
      stats = n >= opts.minCount && n > 0 ? statsOf(scratch, n) : { n, median: NaN, mad: NaN, scale: NaN };
    }
    nOut[i] = stats.n;
    if (stats.median === stats.median) {
      med[i] = stats.median;
      scl[i] = stats.scale;
      z[i] = zOf(x[i], stats);
    }
  }
  return { z, n: nOut, median: med, scale: scl };
}

// ---------------------------------------------------------------------------------------------
// Storm flags

export interface StormFlags {
  /** Day start (ms) → 0/1. */
  daily: Map<number, number>;
  /** Hour start (ms) → 0/1. */
  hourly: Map<number, number>;
}

async function readFlagTiles(tilesDir: string, cadence: string, filter: Pick<ListTilesFilter, 'startMs' | 'endMs'>): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const t of listTiles(tilesDir, { layer: 'feat' as Layer, source: 'indices', station: 'GLOBAL', cadence, ...filter })) {
    const d = await readTile(t.path).catch(() => null);
    const col = d?.columns.disturbed;
    if (!d || !col) continue;
    for (let i = 0; i < d.rows; i++) {
      const v = col[i];
      if (v === v) out.set(d.ts[i], v >= 0.5 ? 1 : 0);
    }
  }
  return out;
}

/** Disturbed flags from `feat/indices/GLOBAL/P1D` and `PT1H` (empty maps when absent). */
export async function readStormFlags(tilesDir: string, filter: Pick<ListTilesFilter, 'startMs' | 'endMs'> = {}): Promise<StormFlags> {
  return { daily: await readFlagTiles(tilesDir, 'P1D', filter), hourly: await readFlagTiles(tilesDir, 'PT1H', filter) };
}

/**
 * Disturbed state of a row [t, t + cadence): its day's flag, or for a sub-daily row also its
 * hour's. The whole day, not only the hours over the dB/dt threshold: a storm's recovery phase
 * (hours of depressed H, chorus) follows the main phase on the same day, and its minutes are
 * as global as the onset's (flagged, they were ~11× the quiet-day rate in the demo).
 */
export function disturbedAt(flags: StormFlags, t: number, cadenceMs: number): number {
  if ((flags.daily.get(Math.floor(t / DAY) * DAY) ?? 0) === 1) return 1;
  if (cadenceMs < DAY) return flags.hourly.get(Math.floor(t / HOUR) * HOUR) ?? 0;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Scoring one dataset

export interface FeatureSeries {
  source: string;
  station: string;
  cadence: string;
  ts: Float64Array;
  /** Feature columns (NaN = null). */
  columns: Record<string, Float64Array>;
  /** Station coordinates from the tile metadata (for the score tiles' station_meta). */
  stationMeta?: Record<string, unknown> | null;
}

export interface ScoredSeries {
  source: string;
  station: string;
  cadence: string;
  ts: Float64Array;
  features: string[];
  /** `<feature>` → z per row. */
  z: Record<string, Float64Array>;
  score: Float64Array;
  flagged: Int32Array;
  disturbed: Int32Array;
  fairWeather: Int32Array;
  baselineN: Int32Array;
}

/**
 * The unit the coincidence rule counts. Features that restate one measurement count once:
 * the per-minute level statistics of the field (`X_mean`, `H_min`, `F_max`, … of every element:
 * X, Y, H and F are projections of one field, and a minute's mean, min and max move together)
 * form one group, their per-minute spreads (`<E>_std`) another, `dbdt_max`/`dbdt_rms` a third.
 * Otherwise one level change (Sq, a baseline drift, a storm's main phase) passed the "≥ 2
 * features" rule alone through near-copies of itself. Every other feature is its own group.
 */
export function coincidenceGroup(feature: string): string {
  if (/^[A-Z]_(mean|min|max)$/.test(feature)) return 'field_level';
  if (/^[A-Z]_std$/.test(feature)) return 'field_std';
  if (/^dbdt_(max|rms)$/.test(feature)) return 'dbdt';
  return feature;
}

/** Score one feature series (pure: used by computeScores and by the tests directly). */
export function scoreSeries(series: FeatureSeries, flags: StormFlags, params: ScoreParams = defaultScoreParams()): ScoredSeries {
  const cad = parseCadenceMs(series.cadence);
  const cadMs = cad > 0 ? cad : DAY;
  const n = series.ts.length;
  const ts = series.ts;
  const disturbed = new Int32Array(n);
  const fair = new Int32Array(n).fill(1);
  const excluded = new Uint8Array(n);
  const fw = series.columns.fair_weather;
  for (let i = 0; i < n; i++) {
    disturbed[i] = disturbedAt(flags, ts[i], cadMs);
    if (fw && fw[i] === fw[i] && fw[i] < 0.5) fair[i] = 0;
    if ((params.excludeDisturbed && disturbed[i] === 1) || (params.excludeNonFairWeather && fair[i] === 0)) excluded[i] = 1;
  }
  const features = Object.keys(series.columns).filter((c) => !params.excludeFeatures.test(c) && c !== params.stratifyBy);
  const stratum = params.stratifyBy ? series.columns[params.stratifyBy] : undefined;
  const minCount = minCountFor(params, cadMs);
  const z: Record<string, Float64Array> = {};
  const score = new Float64Array(n).fill(NaN);
  const baselineN = new Int32Array(n).fill(-1);
  // The coincidence rule counts groups of features, not features (coincidenceGroup).
  const groups = new Map<string, { over: Uint8Array; scorable: Uint8Array }>();
  for (const f of features) {
    const r = robustZ(ts, series.columns[f], { windowMs: params.windowMs, minCount, excluded, refreshMs: cadMs < DAY ? DAY : 0, stratum });
    z[f] = r.z;
    const gk = coincidenceGroup(f);
    let g = groups.get(gk);
    if (!g) groups.set(gk, (g = { over: new Uint8Array(n), scorable: new Uint8Array(n) }));
    for (let i = 0; i < n; i++) {
      const a = r.z[i] < 0 ? -r.z[i] : r.z[i];
      if (a === a) {
        if (!(score[i] >= a)) score[i] = a;
        g.scorable[i] = 1;
        if (a >= params.threshold) g.over[i] = 1;
      }
      if (r.z[i] === r.z[i] && (baselineN[i] < 0 || r.n[i] < baselineN[i])) baselineN[i] = r.n[i];
    }
  }
  const over = new Int32Array(n);
  const scorable = new Int32Array(n);
  for (const g of groups.values()) {
    for (let i = 0; i < n; i++) {
      over[i] += g.over[i];
      scorable[i] += g.scorable[i];
    }
  }
  const flagged = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (baselineN[i] < 0) baselineN[i] = 0;
    const need = scorable[i] < params.minFeatures ? scorable[i] : params.minFeatures;
    flagged[i] = score[i] >= params.threshold && over[i] >= need && need > 0 && excluded[i] === 0 ? 1 : 0;
  }
  return { source: series.source, station: series.station, cadence: series.cadence, ts, features, z, score, flagged, disturbed, fairWeather: fair, baselineN };
}

/**
 * Daily per-source series from a sub-daily score (used when a source has no P1D features): per
 * UTC day, score = max row score, flagged = any row flagged, disturbed = any row disturbed,
 * `<feature>_z` = the z of largest magnitude.
 */
export function dailyFromSubDaily(s: ScoredSeries, threshold: number): ScoredSeries {
  const days: number[] = [];
  const index = new Map<number, number>();
  for (let i = 0; i < s.ts.length; i++) {
    const d = Math.floor(s.ts[i] / DAY) * DAY;
    if (!index.has(d)) {
      index.set(d, days.length);
      days.push(d);
    }
  }
  const m = days.length;
  const z: Record<string, Float64Array> = {};
  for (const f of s.features) z[f] = new Float64Array(m).fill(NaN);
  const score = new Float64Array(m).fill(NaN);
  const flagged = new Int32Array(m);
  const disturbed = new Int32Array(m);
  const fair = new Int32Array(m).fill(1);
  const baselineN = new Int32Array(m);
  for (let i = 0; i < s.ts.length; i++) {
    const k = index.get(Math.floor(s.ts[i] / DAY) * DAY)!;
    for (const f of s.features) {
      const v = s.z[f][i];
      const cur = z[f][k];
      if (v === v && !(Math.abs(cur) >= Math.abs(v))) z[f][k] = v;
    }
    if (s.score[i] === s.score[i] && !(score[k] >= s.score[i])) score[k] = s.score[i];
    if (s.flagged[i]) flagged[k] = 1;
    if (s.disturbed[i]) disturbed[k] = 1;
    if (!s.fairWeather[i]) fair[k] = 0;
    baselineN[k] = Math.max(baselineN[k], s.baselineN[i]);
  }
  // A day is flagged from its own max score, with the same storm / weather exclusion.
  for (let k = 0; k < m; k++) flagged[k] = flagged[k] && score[k] >= threshold ? 1 : 0;
  return { ...s, cadence: 'P1D', ts: Float64Array.from(days), z, score, flagged, disturbed, fairWeather: fair, baselineN };
}

// ---------------------------------------------------------------------------------------------
// Tiles

/** Columns of a score tile, in a stable order. */
export function scoreColumns(s: ScoredSeries, rows?: [number, number]): TileColumn[] {
  const [a, b] = rows ?? [0, s.ts.length];
  const cols: TileColumn[] = s.features.map((f) => ({ name: `${f}_z`, type: 'DOUBLE', values: s.z[f].slice(a, b) }));
  cols.push({ name: 'score', type: 'DOUBLE', values: s.score.slice(a, b) });
  cols.push({ name: 'flagged', type: 'INT32', values: s.flagged.slice(a, b) });
  cols.push({ name: 'disturbed', type: 'INT32', values: s.disturbed.slice(a, b) });
  if (s.source === 'aef') cols.push({ name: 'fair_weather', type: 'INT32', values: s.fairWeather.slice(a, b) });
  cols.push({ name: 'baseline_n', type: 'INT32', values: s.baselineN.slice(a, b) });
  return cols;
}

/**
 * Give a sub-daily series (AEF minutes) the `fair_weather` flag of its UTC day from the daily
 * series, so that rain minutes are neither flagged nor part of later baselines, as rain days
 * are (module comment). Without a daily value the minute counts as fair (unknown ≠ rain).
 */
export function withDayFairWeather(series: FeatureSeries, daily: FeatureSeries | null): void {
  const fw = daily?.columns.fair_weather;
  if (!daily || !fw || series.columns.fair_weather) return;
  const byDay = new Map<number, number>();
  for (let i = 0; i < daily.ts.length; i++) if (fw[i] === fw[i]) byDay.set(Math.floor(daily.ts[i] / DAY) * DAY, fw[i]);
  const col = new Float64Array(series.ts.length).fill(NaN);
  for (let i = 0; i < col.length; i++) col[i] = byDay.get(Math.floor(series.ts[i] / DAY) * DAY) ?? NaN;
  series.columns.fair_weather = col;
}

/** Read every feature tile of one dataset into one series (tiles concatenated in time order). */
export async function readFeatureSeries(tiles: TileInfo[]): Promise<FeatureSeries | null> {
  if (tiles.length === 0) return null;
  const parts = [];
  for (const t of [...tiles].sort((a, b) => a.startMs - b.startMs)) parts.push(await readTile(t.path));
  const names = new Set<string>();
  for (const p of parts) for (const [k, v] of Object.entries(p.columns)) if (v instanceof Float64Array) names.add(k);
  const total = parts.reduce((n, p) => n + p.rows, 0);
  const ts = new Float64Array(total);
  const columns: Record<string, Float64Array> = {};
  for (const k of names) columns[k] = new Float64Array(total).fill(NaN);
  let o = 0;
  for (const p of parts) {
    ts.set(p.ts, o);
    for (const k of names) {
      const c = p.columns[k];
      if (c instanceof Float64Array) columns[k].set(c, o);
    }
    o += p.rows;
  }
  let stationMeta: Record<string, unknown> | null = null;
  const kv = parts[parts.length - 1].kv;
  if (kv['geonode.station_meta']) {
    try {
      stationMeta = JSON.parse(kv['geonode.station_meta']) as Record<string, unknown>;
    } catch {
      stationMeta = null;
    }
  }
  const k = tiles[0].key;
  return { source: k.source, station: k.station, cadence: k.cadence, ts, columns, stationMeta };
}

export interface ComputeScoresOptions {
  tilesDir: string;
  params?: Partial<ScoreParams>;
  /** Only these sources / stations (default all feature datasets). */
  sources?: string[];
  stations?: string[];
  /** Recompute and rewrite everything (default: only datasets whose inputs changed, and only tile periods from the first changed day on). */
  force?: boolean;
  /** Fingerprint store for incremental runs (analyze passes one backed by SQLite). */
  state?: ScoreState;
  onProgress?: (p: { done: number; total: number; dataset: string }) => void;
}

/** Per-dataset fingerprint of the input tiles (path → "mtime:size") plus the params hash. */
export interface ScoreState {
  get(dataset: string): { params: string; tiles: Record<string, string> } | undefined;
  set(dataset: string, value: { params: string; tiles: Record<string, string> }): void;
}

export interface ComputeScoresSummary {
  datasets: number;
  skipped: number;
  tilesWritten: number;
  rowsScored: number;
  flagged: number;
  /** Days (UTC) rescored, over all datasets. */
  daysScored: number;
  written: string[];
  /** Score tiles removed: their feature dataset is gone, or a re-scored dataset has no rows there. */
  removedTiles: number;
}

/** Bumped when the scoring rules change, so incremental runs recompute every score tile. */
export const SCORES_VERSION = '1.1.0';

function paramsKey(p: ScoreParams): string {
  return crypto
    .createHash('sha256')
    .update(JSON.stringify({ v: SCORES_VERSION, ...p, excludeFeatures: p.excludeFeatures.source }))
    .digest('hex')
    .slice(0, 16);
}

/** In-memory ScoreState (default when none is given: every run recomputes). */
export function memoryScoreState(): ScoreState {
  const m = new Map<string, { params: string; tiles: Record<string, string> }>();
  return { get: (k) => m.get(k), set: (k, v) => void m.set(k, v) };
}

/**
 * Score every feature dataset under tilesDir (`layer=feat`, indices excluded) and write
 * `layer=score` tiles at the feature cadence; a source/station with only sub-daily features
 * also gets a P1D score tile (day maxima), so every source has a daily per-source score.
 *
 * Incremental: the storm flags and each dataset's input tiles are fingerprinted (mtime, size);
 * an unchanged dataset is skipped; a changed one is recomputed (the trailing baseline needs the
 * past) but only the score tiles from the first changed input period on are rewritten.
 */
export async function computeScores(opts: ComputeScoresOptions): Promise<ComputeScoresSummary> {
  const params = { ...defaultScoreParams(), ...(opts.params ?? {}) };
  const pkey = paramsKey(params);
  const state = opts.state ?? memoryScoreState();
  const flags = await readStormFlags(opts.tilesDir);
  const flagTiles = listTiles(opts.tilesDir, { layer: 'feat' as Layer, source: 'indices' });
  const flagPrint = flagTiles.map((t) => `${t.path}:${t.mtimeMs}:${t.bytes}`).join('|');
  const groups = new Map<string, TileInfo[]>();
  for (const t of listTiles(opts.tilesDir, { layer: 'feat' as Layer })) {
    if (t.key.source === 'indices') continue;
    if (opts.sources && !opts.sources.includes(t.key.source)) continue;
    if (opts.stations && !opts.stations.includes(t.key.station)) continue;
    const id = `${t.key.source}/${t.key.station}/${t.key.cadence}`;
    const g = groups.get(id) ?? [];
    g.push(t);
    groups.set(id, g);
  }
  const summary: ComputeScoresSummary = { datasets: groups.size, skipped: 0, tilesWritten: 0, rowsScored: 0, flagged: 0, daysScored: 0, written: [], removedTiles: 0 };
  // Sources/stations that have a P1D feature dataset: the others get a P1D from sub-daily rows.
  const hasDaily = new Set([...groups.keys()].filter((k) => k.endsWith('/P1D')).map((k) => k.slice(0, k.lastIndexOf('/'))));
  // Score datasets each group writes (its own; a P1D one from sub-daily rows when the station has
  // no daily features), and the tiles of those rewritten whole this run: for the clean-up below.
  const producers = new Map<string, string[]>();
  const outputsOf = (id: string) => {
    const [src, sta, cad] = id.split('/');
    return cad !== 'P1D' && !hasDaily.has(`${src}/${sta}`) ? [id, `${src}/${sta}/P1D`] : [id];
  };
  for (const id of groups.keys()) for (const ds of outputsOf(id)) producers.set(ds, [...(producers.get(ds) ?? []), id]);
  const rewritten = new Set<string>();
  const live = new Set<string>();
  const written = new Set<string>();
  let done = 0;
  for (const [id, tiles] of groups) {
    opts.onProgress?.({ done, total: groups.size, dataset: id });
    done++;
    const prints: Record<string, string> = { __flags: crypto.createHash('sha256').update(flagPrint).digest('hex').slice(0, 16) };
    for (const t of tiles) prints[t.path] = `${t.mtimeMs}:${t.bytes}`;
    // Sub-daily AEF rows take their day's fair-weather flag from the daily features.
    const [src, sta, cad] = id.split('/');
    const dailyTiles = src === 'aef' && cad !== 'P1D' ? (groups.get(`${src}/${sta}/P1D`) ?? listTiles(opts.tilesDir, { layer: 'feat' as Layer, source: src, station: sta, cadence: 'P1D' })) : [];
    for (const t of dailyTiles) prints[t.path] = `${t.mtimeMs}:${t.bytes}`;
    const prev = opts.force ? undefined : state.get(id);
    let changedFrom = -Infinity;
    if (prev && prev.params === pkey && prev.tiles.__flags === prints.__flags) {
      const changed = tiles.filter((t) => prev.tiles[t.path] !== prints[t.path]);
      const removed = Object.keys(prev.tiles).some((p) => p !== '__flags' && !(p in prints));
      if (changed.length === 0 && !removed) {
        summary.skipped++;
        for (const ds of outputsOf(id)) live.add(ds);
        continue;
      }
      if (!removed) changedFrom = changed.reduce((a, t) => Math.min(a, t.startMs), Infinity);
    }
    const series = await readFeatureSeries(tiles);
    if (!series) continue;
    for (const ds of outputsOf(id)) live.add(ds);
    if (changedFrom === -Infinity) rewritten.add(id);
    if (dailyTiles.length) withDayFairWeather(series, await readFeatureSeries(dailyTiles));
    const scored = scoreSeries(series, flags, params);
    const outputs: ScoredSeries[] = [scored];
    const stationKey = `${series.source}/${series.station}`;
    if (series.cadence !== 'P1D' && !hasDaily.has(stationKey)) outputs.push(dailyFromSubDaily(scored, params.threshold));
    for (const out of outputs) {
      const w = writeScoreTiles(opts.tilesDir, out, series.stationMeta ?? null, params, changedFrom);
      summary.tilesWritten += w.tiles.length;
      for (const t of w.tiles) {
        summary.written.push(t);
        written.add(path.resolve(t));
      }
      summary.rowsScored += w.rows;
      summary.flagged += w.flagged;
      if (out.cadence === 'P1D' || outputs.length === 1) summary.daysScored += w.days;
    }
    state.set(id, { params: pkey, tiles: prints });
  }
  // Score tiles whose feature dataset is gone (ingest let go of a removed input and the features
  // followed), and periods a dataset rescored whole has no rows in any more: removed, so
  // /anomalies and the event association no longer see them.
  for (const t of listTiles(opts.tilesDir, { layer: 'score' as Layer })) {
    if (opts.sources && !opts.sources.includes(t.key.source)) continue;
    if (opts.stations && !opts.stations.includes(t.key.station)) continue;
    const ds = `${t.key.source}/${t.key.station}/${t.key.cadence}`;
    const wholeAgain = (producers.get(ds) ?? []).every((g) => rewritten.has(g));
    const stale = !live.has(ds) || (wholeAgain && !written.has(path.resolve(t.path)));
    if (!stale) continue;
    fs.rmSync(t.path, { force: true });
    summary.removedTiles++;
  }
  opts.onProgress?.({ done, total: groups.size, dataset: '' });
  return summary;
}

/** Write the score tiles of a scored series (periods ending after `fromMs`). */
export function writeScoreTiles(
  tilesDir: string,
  s: ScoredSeries,
  stationMeta: Record<string, unknown> | null,
  params: ScoreParams,
  fromMs = -Infinity,
): { tiles: string[]; rows: number; flagged: number; days: number } {
  const cad = parseCadenceMs(s.cadence);
  const out = { tiles: [] as string[], rows: 0, flagged: 0, days: 0 };
  let i = 0;
  const days = new Set<number>();
  while (i < s.ts.length) {
    const per = tilePeriod(cad > 0 ? cad : DAY, s.ts[i]);
    let j = i;
    while (j < s.ts.length && s.ts[j] < per.endMs) j++;
    if (per.endMs > fromMs) {
      const units: Record<string, string> = { score: 'robust z (max |z|)', flagged: 'bool', disturbed: 'bool', baseline_n: 'count' };
      for (const f of s.features) units[`${f}_z`] = 'robust z';
      const w = writeTile(tilesDir, {
        key: { layer: 'score' as Layer, source: s.source, station: s.station, cadence: s.cadence, period: per.period },
        ts: s.ts.subarray(i, j),
        columns: scoreColumns(s, [i, j]),
        meta: {
          units,
          sources: [],
          params: { ...params, excludeFeatures: params.excludeFeatures.source, method: 'robust z = (x - median)/(1.4826 MAD), trailing window, disturbed/non-fair-weather excluded' },
          station: stationMeta ? (stationMeta as { name?: string; latitude?: number; longitude?: number; elevation?: number }) : undefined,
          extra: { features: s.features },
        },
      });
      out.tiles.push(w.path);
      out.rows += j - i;
      for (let k = i; k < j; k++) {
        out.flagged += s.flagged[k];
        days.add(Math.floor(s.ts[k] / DAY));
      }
    }
    i = j;
  }
  out.days = days.size;
  return out;
}

/** True when a tile tree has any score tile. */
export function hasScores(tilesDir: string): boolean {
  return fs.existsSync(tilesDir) && listTiles(tilesDir, { layer: 'score' as Layer }).length > 0;
}

// ---------------------------------------------------------------------------------------------
// Reading scores back (routes, association, eval)

export interface ScoreRow {
  source: string;
  station: string;
  cadence: string;
  /** Row (bin) start, epoch ms. */
  time: number;
  /** Bin length in ms (lead times use the bin centre). */
  cadenceMs: number;
  score: number | null;
  flagged: number;
  disturbed: number;
  /** Feature with the largest |z| in the row, and that z. */
  feature: string | null;
  z: number | null;
}

export interface ReadScoresFilter {
  startMs?: number;
  endMs?: number;
  source?: string;
  station?: string;
  /** Default 'P1D' (the daily per-source score). */
  cadence?: string;
}

/**
 * Score rows in [startMs, endMs), sorted by time, source, station. With `skipped`, a damaged
 * tile is left out and its path added there (tiles.ts skipUnreadable); without, it throws.
 */
export async function readScoreRows(tilesDir: string, f: ReadScoresFilter = {}, skipped?: string[]): Promise<ScoreRow[]> {
  const out: ScoreRow[] = [];
  const cadence = f.cadence ?? 'P1D';
  for (const t of listTiles(tilesDir, { layer: 'score' as Layer, source: f.source, station: f.station, cadence, startMs: f.startMs, endMs: f.endMs })) {
    const d = await skipUnreadable(t.path, skipped, () => readTile(t.path, { startMs: f.startMs, endMs: f.endMs }));
    if (!d) continue;
    const cad = parseCadenceMs(t.key.cadence);
    const zCols = Object.keys(d.columns).filter((c) => c.endsWith('_z'));
    const score = d.columns.score;
    const flagged = d.columns.flagged;
    const disturbed = d.columns.disturbed;
    for (let i = 0; i < d.rows; i++) {
      let best: string | null = null;
      let bz = NaN;
      for (const c of zCols) {
        const v = d.columns[c][i];
        if (v === v && !(Math.abs(bz) >= Math.abs(v))) {
          bz = v;
          best = c.slice(0, -2);
        }
      }
      const s = score ? score[i] : NaN;
      out.push({
        source: t.key.source,
        station: t.key.station,
        cadence: t.key.cadence,
        time: d.ts[i],
        cadenceMs: cad > 0 ? cad : DAY,
        score: s === s ? s : null,
        flagged: flagged ? flagged[i] : 0,
        disturbed: disturbed ? disturbed[i] : 0,
        feature: best,
        z: bz === bz ? bz : null,
      });
    }
  }
  out.sort((a, b) => a.time - b.time || (a.source < b.source ? -1 : a.source > b.source ? 1 : a.station < b.station ? -1 : a.station > b.station ? 1 : 0));
  return out;
}
