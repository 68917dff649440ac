/**
 * Feature layer (issue 5): tiles under `layer=feat`, computed from the std tiles and the
 * waveform index, incrementally per (source, station, UTC day).
 *
 * ===================================== OUTPUT CONTRACT =====================================
 * Path: <tilesDir>/layer=feat/source=<geomag|aef|vlf|seismic|indices>/station=<STA>/
 *       cadence=<PT1M|PT1H|P1D>/date=<YYYY-MM-DD | YYYY-MM | YYYY>/part-0.parquet
 * (period per tiles.tilePeriod: PT1M → one file per UTC day, PT1H → per month, P1D → per year).
 * Columns: `ts` (INT64 ms UTC; row = minute / hour / day START) + one DOUBLE per feature, null
 * when not computable; no `_q` columns. Units in `geonode.units`; inputs (std tile paths relative
 * to tilesDir, or `tsindex:NET.STA:day`, with sha256) in `geonode.source_files`; parameters in
 * `geonode.params`.
 *
 * geomag (station = IAGA code, e.g. KAK)
 *   PT1M  <E>_mean, <E>_min, <E>_max, <E>_std for each element present (X,Y,Z,F,H,D,E; D arcmin,
 *         others nT), dbdt_max, dbdt_rms (nT/s, horizontal from X/Y, H/D or H/E, 1 s data only)
 *   PT1H  ulf_z, ulf_h, ulf_d, ulf_g (nT², band power 0.01–0.05 Hz), zg_ratio (√(S_Z/S_G))
 *   P1D   dbdt_max, dbdt_rms, ulf_z, ulf_g, zg_ratio, zg_night_median (+ ulf_h, ulf_d)
 * aef (station = KAK)
 *   PT1M  pg (V/m), pg_negative (0/1), pg_resid (V/m, minus 61-min running median)
 *   P1D   fair_weather (0/1), pg_median, pg_neg_minutes, pg_min, neg_bay_max_minutes
 *         (+ valid_minutes, resolution_minutes (1, or 60 from the hourly fallback),
 *         fluct_power_10_60)
 * vlf (station = MOS)
 *   PT1M  bp_<band>_<ch> (V²), peak_freq_<ch> (Hz), peak_prom_<ch> (dB);
 *         band ∈ 10_300, 300_3000, 3000_10000, 10000_20000; ch ∈ ns (ch1), ew (ch2)
 *   P1D   bp_<band>_<ch> and peak_freq_<ch>: daily medians of the minutes
 * seismic (station = NET.STA; <cha> = LOC_CHA or CHA when the location is blank)
 *   PT1M  rms_<cha>, stalta_max_<cha>, bp_<cha> (1–10 Hz), peak_freq_<cha>
 *   P1D   rms_median_<cha>, stalta_max_<cha>, ratio_EZ, ratio_NZ, ratio_EN,
 *         availability_pct_<cha>, gaps_<cha> (+ bp_median_<cha>, peak_freq_median_<cha>)
 * indices (station = GLOBAL)
 *   PT1H  disturbed (0/1), dbdt_coherent (nT/s), dst, kp, stations
 *   P1D   disturbed (0/1), dbdt_coherent_max (nT/s), kp_max, dst_min (null without index
 *         files) (+ disturbed_hours, stations, from_indices)
 * ===========================================================================================
 *
 * Incremental: each unit `<source>:<station>:<YYYY-MM-DD>` stores a fingerprint of its inputs
 * (std tiles: relative path, size, mtime; seismic: the tsindex rows of the day; indices: the
 * geomag feature tiles of the day and the index files) and a parameter hash in the SQLite table
 * `geonode_feature_runs`; an unchanged unit whose outputs still exist is skipped. Geomag runs
 * before indices (the storm flag reads the geomag PT1M dbdt_max of every station).
 * Methods and papers: see the header of each source module (geomag.ts, aef.ts, vlf.ts,
 * seismic.ts, storm.ts, dsp.ts).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { listTiles, readTile, tilePath, type TileInfo, type TileSourceFile } from '../tiles';
import { aefDayFeatures, DEFAULT_AEF_PARAMS, type AefParams } from './aef';
import { DAY_MS, dropFeatureDay, HOUR_MS, isoDay, readColumnsIfPresent, relName, sha256OfFile, writeFeatureRows, type FeatureTable } from './common';
import { DEFAULT_GEOMAG_PARAMS, geomagDayFeatures, toDayGrid, type GeomagParams } from './geomag';
import { DEFAULT_SEISMIC_PARAMS, readSeismicDay, seismicDayFeatures, type SeismicParams } from './seismic';
import { seismicStationDays } from '../seismic';
import { DEFAULT_STORM_PARAMS, loadIndices, stormDayFeatures, type IndexFiles, type StormParams } from './storm';
import { DEFAULT_VLF_PARAMS, vlfDayFeatures, type VlfParams } from './vlf';
import { findSections } from '../../index/select';

export * from './dsp';
export { geomagDayFeatures, ulfPowers, dbdtSeries, dbdtPerMinute, toDayGrid } from './geomag';
export { aefDayFeatures, aefDaily } from './aef';
export { vlfDayFeatures, vlfSpectrumFeatures, vlfAxis } from './vlf';
export { seismicDayFeatures, energyRatios, channelMinuteFeatures, channelAvailability, readSeismicDay } from './seismic';
export { stormDayFeatures, parseDst, parseKp, coherentDbdt, loadIndices } from './storm';
export type { IndexFiles } from './storm';

/** Version of the feature definitions (part of the parameter hash). */
export const FEATURES_VERSION = '1.1.0';

export type FeatureSource = 'geomag' | 'aef' | 'vlf' | 'seismic' | 'indices';
export const FEATURE_SOURCES: readonly FeatureSource[] = ['geomag', 'aef', 'vlf', 'seismic', 'indices'];

export interface FeatureParams {
  geomag: GeomagParams;
  aef: AefParams;
  vlf: VlfParams;
  seismic: SeismicParams;
  storm: StormParams;
}

export function defaultFeatureParams(): FeatureParams {
  return structuredClone({ geomag: DEFAULT_GEOMAG_PARAMS, aef: DEFAULT_AEF_PARAMS, vlf: DEFAULT_VLF_PARAMS, seismic: DEFAULT_SEISMIC_PARAMS, storm: DEFAULT_STORM_PARAMS });
}

export interface FeatureProgress {
  done: number;
  total: number;
  source: FeatureSource;
  station: string;
  day: string;
  status: 'computed' | 'skipped' | 'failed';
}

export interface FeatureOptions {
  tilesDir: string;
  /** SQLite file or handle: holds geonode_feature_runs, and tsindex for seismic features. */
  db: string | Database.Database;
  /** Directory that relative tsindex filenames are resolved against (seismic). */
  dataRoot?: string;
  /** Only UTC days intersecting [startMs, endMs). */
  days?: [number, number];
  force?: boolean;
  onProgress?: (p: FeatureProgress) => void;
  /** Dst / Kp files for the storm flag (WDC Dst format, GFZ Kp format, or `ISO value` lines). */
  indices?: IndexFiles;
  /** Sources to compute (default all). */
  sources?: FeatureSource[];
  /** Parameter overrides per source (shallow merge). */
  params?: { [K in keyof FeatureParams]?: Partial<FeatureParams[K]> };
}

export interface FeatureSummary {
  /** Units (source, station, day) considered. */
  units: number;
  computed: number;
  skipped: number;
  failed: { unit: string; reason: string }[];
  /** Tiles written (a PT1H/P1D tile rewritten for several days counts each time). */
  tilesWritten: number;
  /** Units of earlier runs whose inputs are gone: their rows were taken out of the feature tiles. */
  removed: number;
  bySource: Record<FeatureSource, { computed: number; skipped: number; failed: number; stations: string[] }>;
  seconds: number;
}

export const FEATURE_RUNS_DDL =
  'CREATE TABLE IF NOT EXISTS geonode_feature_runs (unit TEXT PRIMARY KEY, source TEXT, station TEXT, day TEXT, ' +
  'fingerprint TEXT, params TEXT, status TEXT, reason TEXT, outputs TEXT, updated TEXT)';

interface Unit {
  source: FeatureSource;
  station: string;
  day: number;
  /** Input tiles (std) for tile-based sources. */
  inputs: TileInfo[];
}

const hash = (v: unknown) => crypto.createHash('sha256').update(JSON.stringify(v)).digest('hex');

function tileFingerprint(inputs: TileInfo[], root: string): unknown[] {
  return inputs.map((t) => [relName(root, t.path), t.bytes, Math.round(t.mtimeMs)]).sort();
}

function daysOf(t: TileInfo): number[] {
  const out: number[] = [];
  for (let d = t.startMs; d < t.endMs; d += DAY_MS) out.push(d);
  return out;
}

/** Compute (or refresh) the feature tiles. */
export async function computeFeatures(opts: FeatureOptions): Promise<FeatureSummary> {
  const t0 = performance.now();
  const root = opts.tilesDir;
  const db = typeof opts.db === 'string' ? new Database(opts.db) : opts.db;
  const ownDb = typeof opts.db === 'string';
  const params = defaultFeatureParams();
  for (const [k, v] of Object.entries(opts.params ?? {})) Object.assign((params as unknown as Record<string, object>)[k], v);
  const wanted = new Set(opts.sources ?? FEATURE_SOURCES);
  const inRange = (day: number) => !opts.days || (day + DAY_MS > opts.days[0] && day < opts.days[1]);
  const summary: FeatureSummary = { units: 0, computed: 0, skipped: 0, failed: [], tilesWritten: 0, removed: 0, bySource: {} as FeatureSummary['bySource'], seconds: 0 };
  for (const s of FEATURE_SOURCES) summary.bySource[s] = { computed: 0, skipped: 0, failed: 0, stations: [] };
  try {
    db.exec(FEATURE_RUNS_DDL);
    const getRun = db.prepare('SELECT fingerprint, params, status, outputs FROM geonode_feature_runs WHERE unit = ?');
    const putRun = db.prepare(
      'INSERT OR REPLACE INTO geonode_feature_runs (unit, source, station, day, fingerprint, params, status, reason, outputs, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const hasIndex = !!db.prepare("SELECT name FROM sqlite_master WHERE type='table' AND name='tsindex'").get();

    // ---- discover units
    const units: Unit[] = [];
    const allDays = new Set<number>();
    const tileUnits = (source: FeatureSource, cadences: string[], expand: (t: TileInfo) => number[]) => {
      const byKey = new Map<string, Unit>();
      for (const cad of cadences)
        for (const t of listTiles(root, { layer: 'std', source, cadence: cad })) {
          for (const day of expand(t)) {
            if (!inRange(day)) continue;
            const k = `${t.key.station}\u0000${day}`;
            let u = byKey.get(k);
            if (!u) byKey.set(k, (u = { source, station: t.key.station, day, inputs: [] }));
            u.inputs.push(t);
          }
        }
      return [...byKey.values()].sort((a, b) => (a.station < b.station ? -1 : a.station > b.station ? 1 : a.day - b.day));
    };
    if (wanted.has('geomag') || wanted.has('indices')) {
      const g = tileUnits('geomag', ['PT1S', 'PT1M'], (t) => [t.startMs]);
      g.forEach((u) => allDays.add(u.day));
      if (wanted.has('geomag')) for (const x of g) units.push(x);
    }
    // Storm-flag days: days with geomag data, plus days of supplied index files that fall within
    // the span of the other sources (an index file may cover decades).
    const spanDays: number[] = [];
    if (wanted.has('aef')) {
      const a = tileUnits('aef', ['PT1M', 'PT1H'], (t) => (t.key.cadence === 'PT1M' ? [t.startMs] : daysOf(t)));
      a.forEach((u) => spanDays.push(u.day));
      for (const x of a) units.push(x);
    }
    if (wanted.has('vlf')) {
      const v = tileUnits('vlf', ['PT1M'], (t) => [t.startMs]);
      v.forEach((u) => spanDays.push(u.day));
      for (const x of v) units.push(x);
    }
    if (wanted.has('seismic') && hasIndex) {
      // The days each station has data on (the spans of its index sections), as `ingest
      // --seismic` counts them: not every day from its first to its last sample (a station with
      // a few days of data years apart would get thousands of empty feature tiles).
      for (const [station, days] of [...seismicStationDays(db)].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
        for (const d of days) {
          if (!inRange(d)) continue;
          units.push({ source: 'seismic', station, day: d, inputs: [] });
          spanDays.push(d);
        }
      }
    }
    const indices = wanted.has('indices') ? loadIndices(opts.indices) : { dst: null, kp: null };
    if (wanted.has('indices')) {
      for (const d of allDays) spanDays.push(d);
      if (spanDays.length) {
        const lo = spanDays.reduce((a, b) => Math.min(a, b), Infinity); // no spread: 130k+ days of tiles
        const hi = spanDays.reduce((a, b) => Math.max(a, b), -Infinity);
        for (const s of [indices.dst, indices.kp])
          for (const t of s?.values.keys() ?? []) {
            const d = Math.floor(t / DAY_MS) * DAY_MS;
            if (d >= lo && d <= hi && inRange(d)) allDays.add(d);
          }
      }
      for (const d of [...allDays].sort((a, b) => a - b)) units.push({ source: 'indices', station: 'GLOBAL', day: d, inputs: [] });
    }
    summary.units = units.length;

    // Units of earlier runs that have no input any more (ingest let go of a removed input's std
    // tiles, the index lost a station-day): their rows leave the feature tiles, so the scores and
    // associations computed from them follow.
    const live = new Set(units.map((u) => `${u.source}:${u.station}:${isoDay(u.day)}`));
    const delRun = db.prepare('DELETE FROM geonode_feature_runs WHERE unit = ?');
    for (const r of db.prepare('SELECT unit, source, day, outputs FROM geonode_feature_runs').all() as { unit: string; source: FeatureSource; day: string; outputs: string | null }[]) {
      const day = Date.parse(`${r.day}T00:00:00Z`);
      if (live.has(r.unit) || !wanted.has(r.source) || !Number.isFinite(day) || !inRange(day)) continue;
      if (r.source === 'seismic' && !hasIndex) continue; // another database: nothing known of its days
      try {
        const outputs = JSON.parse(r.outputs ?? '[]') as string[];
        for (const rel of outputs) await dropFeatureDay(root, rel, day);
      } catch (e) {
        // An unreadable feature tile: reported, the unit kept for the next run.
        summary.failed.push({ unit: r.unit, reason: `removing the rows of a day without inputs: ${e instanceof Error ? e.message : String(e)}` });
        continue;
      }
      delRun.run(r.unit);
      summary.removed++;
    }
    const indexFilesFp = [...(opts.indices?.dst ?? []), ...(opts.indices?.kp ?? [])].map((f) => {
      const st = fs.statSync(f);
      return [f, st.size, Math.round(st.mtimeMs)];
    });

    let done = 0;
    for (const u of units) {
      const unitId = `${u.source}:${u.station}:${isoDay(u.day)}`;
      const bucket = summary.bySource[u.source];
      if (!bucket.stations.includes(u.station)) bucket.stations.push(u.station);
      let status: FeatureProgress['status'] = 'computed';
      try {
        const p = u.source === 'indices' ? params.storm : params[u.source];
        const ph = hash({ v: FEATURES_VERSION, p });
        // Fingerprint of the inputs.
        let fp: string;
        let geomagFeat: TileInfo[] = [];
        if (u.source === 'seismic') {
          const [net, sta] = u.station.split('.');
          const s0 = BigInt(u.day) * 1_000_000n;
          const found = findSections(db, { network: net, station: sta, location: '*', channel: '*', startNs: s0, endNs: s0 + BigInt(DAY_MS) * 1_000_000n - 1n });
          fp = hash(found.map((f) => [f.section.filename, f.section.byteoffset, f.section.hash, f.section.updated]).sort());
        } else if (u.source === 'indices') {
          geomagFeat = listTiles(root, { layer: 'feat', source: 'geomag', cadence: 'PT1M', startMs: u.day, endMs: u.day + DAY_MS });
          fp = hash([tileFingerprint(geomagFeat, root), indexFilesFp]);
        } else fp = hash(tileFingerprint(u.inputs, root));
        const prev = getRun.get(unitId) as { fingerprint: string; params: string; status: string; outputs: string } | undefined;
        const outputsExist = (o: string) => {
          try {
            return (JSON.parse(o) as string[]).every((r) => fs.existsSync(`${root}/${r}`));
          } catch {
            return false;
          }
        };
        if (!opts.force && prev && prev.status === 'ok' && prev.fingerprint === fp && prev.params === ph && outputsExist(prev.outputs)) {
          status = 'skipped';
          summary.skipped++;
          bucket.skipped++;
        } else {
          const written = await computeUnit(u, { root, db, dataRoot: opts.dataRoot, params, geomagFeat, indices });
          summary.tilesWritten += written.length;
          summary.computed++;
          bucket.computed++;
          putRun.run(unitId, u.source, u.station, isoDay(u.day), fp, ph, 'ok', null, JSON.stringify([...new Set(written)]), new Date().toISOString());
        }
      } catch (e) {
        status = 'failed';
        const reason = e instanceof Error ? e.message : String(e);
        summary.failed.push({ unit: unitId, reason });
        bucket.failed++;
        putRun.run(unitId, u.source, u.station, isoDay(u.day), '', '', 'error', reason, '[]', new Date().toISOString());
      }
      done++;
      opts.onProgress?.({ done, total: units.length, source: u.source, station: u.station, day: isoDay(u.day), status });
      // Let the event loop breathe between units (a server may run this in-process).
      await new Promise<void>((r) => setImmediate(r));
    }
  } finally {
    if (ownDb) db.close();
  }
  summary.seconds = (performance.now() - t0) / 1000;
  return summary;
}

interface UnitContext {
  root: string;
  db: Database.Database;
  dataRoot?: string;
  params: FeatureParams;
  geomagFeat: TileInfo[];
  indices: ReturnType<typeof loadIndices>;
}

/** Compute and write the tiles of one unit; returns the written tile paths (relative). */
async function computeUnit(u: Unit, ctx: UnitContext): Promise<string[]> {
  const { root } = ctx;
  const day = u.day;
  const end = day + DAY_MS;
  const srcOf = (tiles: TileInfo[]): TileSourceFile[] => tiles.map((t) => ({ name: relName(root, t.path), sha256: sha256OfFile(t.path), bytes: t.bytes }));
  const out: string[] = [];
  const put = async (source: string, station: string, cadence: 'PT1M' | 'PT1H' | 'P1D', table: FeatureTable, sources: TileSourceFile[], params: unknown, extra?: Record<string, unknown>) => {
    const w = await writeFeatureRows({ root, source, station, cadence, day, table, sources, params, extra });
    out.push(relName(root, w.path));
  };
  switch (u.source) {
    case 'geomag': {
      const sec = u.inputs.find((t) => t.key.cadence === 'PT1S');
      const min = u.inputs.find((t) => t.key.cadence === 'PT1M');
      const ELS = ['X', 'Y', 'Z', 'F', 'H', 'D', 'E'];
      const load = async (t: TileInfo | undefined, step: number) => {
        if (!t) return undefined;
        const d = await readColumnsIfPresent(t.path, ELS, day, end);
        return toDayGrid(day, step, d.ts, d.columns as Record<string, Float64Array>);
      };
      const f = geomagDayFeatures({ day, sec: await load(sec, 1000), min: await load(min, 60_000) }, ctx.params.geomag);
      const sources = srcOf(u.inputs);
      const extra = { from: sec ? 'PT1S' : 'PT1M' };
      await put('geomag', u.station, 'PT1M', f.minute, sources, ctx.params.geomag, extra);
      await put('geomag', u.station, 'PT1H', f.hourly, sources, ctx.params.geomag, extra);
      await put('geomag', u.station, 'P1D', f.daily, sources, ctx.params.geomag, extra);
      break;
    }
    case 'aef': {
      const mt = u.inputs.find((t) => t.key.cadence === 'PT1M');
      const ht = u.inputs.find((t) => t.key.cadence === 'PT1H');
      let minutePg: Float64Array | null = null;
      let hourPg: Float64Array | null = null;
      if (mt) {
        const d = await readColumnsIfPresent(mt.path, ['pg'], day, end);
        if (d.columns.pg) minutePg = toDayGrid(day, 60_000, d.ts, { pg: d.columns.pg as Float64Array }).elements.pg;
      }
      if (!minutePg && ht) {
        const d = await readColumnsIfPresent(ht.path, ['pg'], day, end);
        if (d.columns.pg) hourPg = toDayGrid(day, HOUR_MS, d.ts, { pg: d.columns.pg as Float64Array }).elements.pg;
        if (hourPg && !hourPg.some((v) => v === v)) hourPg = null;
      }
      if (!minutePg && !hourPg) return out;
      const f = aefDayFeatures(day, minutePg, hourPg, ctx.params.aef);
      const sources = srcOf(minutePg ? [mt!] : [ht!]);
      if (minutePg) await put('aef', u.station, 'PT1M', f.minute, sources, ctx.params.aef);
      await put('aef', u.station, 'P1D', f.daily, sources, ctx.params.aef, { from: minutePg ? 'PT1M' : 'PT1H' });
      break;
    }
    case 'vlf': {
      const t = u.inputs[0];
      const d = await readTile(t.path, { columns: ['bin', 'freq_hz', 'ch1', 'ch2'], startMs: day, endMs: end });
      const f = vlfDayFeatures(day, { ts: d.ts, bin: d.columns.bin as Int32Array, freq: d.columns.freq_hz as Float64Array, ch1: d.columns.ch1 as Float64Array, ch2: d.columns.ch2 as Float64Array }, ctx.params.vlf);
      const sources = srcOf(u.inputs);
      const extra = { channels: { ns: 'ch1', ew: 'ch2' }, maskBandPower: f.axis?.maskBandPower ?? null, masked_bins: f.axis ? Array.from(f.axis.mask).reduce((a, b) => a + b, 0) : 0 };
      await put('vlf', u.station, 'PT1M', f.minute, sources, ctx.params.vlf, extra);
      await put('vlf', u.station, 'P1D', f.daily, sources, ctx.params.vlf, extra);
      break;
    }
    case 'seismic': {
      const [net, sta] = u.station.split('.');
      const input = readSeismicDay(ctx.db, net, sta, day, ctx.dataRoot ?? '/');
      if (input.failed.length && input.channels.size === 0) throw new Error(input.failed.map((f) => `${f.file}: ${f.reason}`).join('; '));
      const f = seismicDayFeatures(input, ctx.params.seismic);
      const sources: TileSourceFile[] = [{ name: `tsindex:${u.station}:${isoDay(day)}`, sha256: hash(input.fingerprintRows) }];
      const extra = { sample_rates: Object.fromEntries([...input.channels].map(([k, c]) => [k, c.fs])), unreadable: input.failed };
      await put('seismic', u.station, 'PT1M', f.minute, sources, ctx.params.seismic, extra);
      await put('seismic', u.station, 'P1D', f.daily, sources, ctx.params.seismic, extra);
      break;
    }
    case 'indices': {
      const dbdtByStation = new Map<string, Float64Array>();
      for (const t of ctx.geomagFeat) {
        const d = await readColumnsIfPresent(t.path, ['dbdt_max'], day, end);
        if (!d.columns.dbdt_max) continue;
        dbdtByStation.set(t.key.station, toDayGrid(day, 60_000, d.ts, { v: d.columns.dbdt_max as Float64Array }).elements.v);
      }
      const f = stormDayFeatures({ day, dbdtByStation, dst: ctx.indices.dst, kp: ctx.indices.kp }, ctx.params.storm);
      const sources = srcOf(ctx.geomagFeat);
      const extra = { stations: [...dbdtByStation.keys()], index_files: ctx.indices.dst || ctx.indices.kp ? 'supplied' : 'none' };
      await put('indices', 'GLOBAL', 'PT1H', f.hourly, sources, ctx.params.storm, extra);
      await put('indices', 'GLOBAL', 'P1D', f.daily, sources, ctx.params.storm, extra);
      break;
    }
  }
  return out;
}

/** Path of a feature tile (convenience for consumers). */
export function featureTilePath(root: string, source: string, station: string, cadence: 'PT1M' | 'PT1H' | 'P1D', period: string): string {
  return tilePath(root, { layer: 'feat', source, station, cadence, period });
}

