/**
 * Seismic products from the waveform index: per-window (default per-minute) statistics per
 * channel, decoded from the indexed miniSEED records, written as std tiles
 * `source=seismic/station=NET.STA/cadence=PT1M` (one per station-day).
 *
 * Per channel `<LOC_>CHA`, over the window [ts, ts + window):
 * - `_rms` = √(mean (x − x̄)²) and `_mean_abs` = mean |x − x̄|, about the window mean x̄ (the
 *   MUSTANG sample_rms of the demeaned window, as the seismic features do: the DC offset of raw
 *   counts would otherwise be all these measure); `_mean` = x̄; units are those of the samples:
 *   counts for integer and Steim data, none given (null in /products/info) for float data.
 * - `_n`: samples in the window. Samples come from the day's sample grid (products/
 *   seismicSamples.ts), so duplicated or overlapping records count once.
 * - `_rms_q`, `_mean_abs_q`, `_mean_q` (quality bits): MISSING where the value is null (no
 *   samples, or fewer than `seismicMinCoverage` of the window's sample slots), NO_SAMPLE where
 *   some of the window's slots have no sample.
 * A tile's rows run from the first to the last window with samples.
 *
 * Incremental per station-day: a day is redone when the tsindex rows intersecting it (filename,
 * offset, bytes, hash, updated) or the parameters changed, when its tiles are gone, or when it
 * failed last time. Days and stations no longer in the index have their tiles removed.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { findSections, sectionSpans } from '../index/select';
import type { Section } from '../index/types';
import { defaultProductsConfig, paramsHash, type ProductsConfig } from './config';
import { ensureProductSchema, recordedTiles } from './inputTable';
import { Q_MISSING, Q_NO_SAMPLE } from './quality';
import { fillSlots, hasRecordsIn, planChannelDay, planProblems, slotAt, type ChannelPlan, type SampleProblem } from './seismicSamples';
import { isoCadence, tilePeriod, writeTile, type TileColumn, type WriteTileInput, type WrittenTile } from './tiles';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export interface SeismicOptions {
  tilesDir: string;
  /** Directory that relative tsindex filenames are resolved against. */
  dataRoot?: string;
  config?: ProductsConfig;
  force?: boolean;
}

export interface SeismicSummary {
  /** Stations in the index. */
  stations: number;
  /** Station-days in the index. */
  days: number;
  /** Station-days unchanged since the last run. */
  skipped: number;
  tiles: WrittenTile[];
  /** Tiles removed: days or stations gone from the index, or a day left without samples. */
  removed: number;
  /** Samples placed on the grids of the days processed. */
  samples: number;
  /** Unreadable files (retried next run) and corrupt records (skipped), for the operator. */
  failed: { file: string; reason: string }[];
}

interface Row {
  sha256: string;
  params: string;
  status: string;
  tiles: string | null;
}

/** The window must tile a UTC day and stay under an hour (tiles are per day below PT1H). */
export function checkSeismicWindow(win: number): void {
  if (!Number.isInteger(win) || win < 1000 || win >= HOUR_MS || DAY_MS % win !== 0) {
    throw new Error(`products config: seismicWindowMs must be a whole number of ms from 1000 to under 3600000 that divides a day (got ${win})`);
  }
}

/** Per-window statistics of every channel in the index, one station-day at a time. */
export function seismicProducts(db: Database.Database, opts: SeismicOptions): SeismicSummary {
  const cfg = opts.config ?? defaultProductsConfig();
  const win = cfg.seismicWindowMs;
  checkSeismicWindow(win);
  const minCoverage = cfg.seismicMinCoverage;
  if (!(minCoverage >= 0 && minCoverage <= 1)) throw new Error(`products config: seismicMinCoverage must be a fraction from 0 to 1 (got ${minCoverage})`);
  ensureProductSchema(db);
  const out: SeismicSummary = { stations: 0, days: 0, skipped: 0, tiles: [], removed: 0, samples: 0, failed: [] };
  // No index table (yet): nothing to do, and nothing to withdraw either.
  if (!db.prepare("SELECT name FROM sqlite_master WHERE type='table' AND name='tsindex'").get()) return out;
  const byStationDay = stationDays(db);
  const getRow = db.prepare('SELECT sha256, params, status, tiles FROM geonode_product_inputs WHERE path = ?');
  const putRow = db.prepare(
    "INSERT OR REPLACE INTO geonode_product_inputs (path, source, sha256, bytes, params, status, reason, tiles, ingested) VALUES (?, 'seismic', ?, ?, ?, ?, ?, ?, ?)",
  );
  const ph = paramsHash(cfg, 'seismic');
  const root = opts.tilesDir;
  const live = new Set<string>();
  const liveTiles = new Set<string>();
  const remove = (rel: string) => {
    if (liveTiles.has(rel)) return;
    try {
      fs.rmSync(path.join(root, rel));
      out.removed++;
    } catch {
      /* already gone */
    }
  };
  for (const [id, days] of [...byStationDay].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    out.stations++;
    for (const [day, sections] of [...days].sort((a, b) => a[0] - b[0])) {
      out.days++;
      const key = `seismic:${id}/${new Date(day).toISOString().slice(0, 10)}`;
      live.add(key);
      const fpRows = sections.map((s) => [s.filename, s.byteoffset, s.bytes, s.hash, s.updated]).sort();
      const fp = crypto.createHash('sha256').update(JSON.stringify(fpRows)).digest('hex');
      const prev = getRow.get(key) as Row | undefined;
      const prevTiles = prev ? recordedTiles(prev) : [];
      if (!opts.force && prev && prev.sha256 === fp && prev.params === ph && prev.status === 'ok' && prevTiles.every((t) => fs.existsSync(path.join(root, t)))) {
        out.skipped++;
        for (const t of prevTiles) liveTiles.add(t);
        continue;
      }
      const r = stationDayTile(sections, day, id, fp, win, minCoverage, opts.dataRoot ?? '/');
      out.samples += r.samples;
      for (const p of [...r.unreadable, ...r.problems]) out.failed.push({ file: p.file, reason: p.offset === null ? p.reason : `offset ${p.offset}: ${p.reason}` });
      const written: string[] = [];
      if (r.tile) {
        const w = writeTile(root, r.tile, { codec: cfg.codec });
        out.tiles.push(w);
        written.push(path.relative(root, w.path));
      }
      for (const t of written) liveTiles.add(t);
      for (const t of prevTiles) if (!written.includes(t)) remove(t);
      // Unreadable files make the day 'error' so the next run tries it again; corrupt records do not (the bytes would not change).
      const reasons = [...r.unreadable, ...r.problems].map((p) => `${p.file}${p.offset === null ? '' : `@${p.offset}`}: ${p.reason}`);
      putRow.run(key, fp, r.bytes, ph, r.unreadable.length ? 'error' : 'ok', reasons.length ? reasons.join('; ').slice(0, 4000) : null, JSON.stringify(written), new Date().toISOString());
    }
  }
  // Rows of days and stations the index no longer has (and rows of the former per-station layout).
  const rows = db.prepare("SELECT path, tiles FROM geonode_product_inputs WHERE source = 'seismic'").all() as { path: string; tiles: string | null }[];
  const del = db.prepare('DELETE FROM geonode_product_inputs WHERE path = ?');
  for (const row of rows) {
    if (live.has(row.path)) continue;
    for (const t of recordedTiles(row)) remove(t);
    del.run(row.path);
  }
  return out;
}

/**
 * Every tsindex section, grouped by station (`NET.STA`) and by each UTC day its time spans touch
 * (the spans, not start..end: one mis-dated record must not make a section span 1000 days).
 * Sections whose index rate is 0 are kept: their first record may be a detection record, with
 * data records after it (the reader skips records without samples).
 */
function stationDays(db: Database.Database): Map<string, Map<number, Section[]>> {
  const all = findSections(db, { network: '*', station: '*', location: '*', channel: '*', startNs: -62135596800n * 1_000_000_000n, endNs: 253402300799n * 1_000_000_000n });
  const out = new Map<string, Map<number, Section[]>>();
  const dayNs = BigInt(DAY_MS) * 1_000_000n;
  const floorDay = (ns: bigint) => Number((ns >= 0n ? ns / dayNs : (ns - dayNs + 1n) / dayNs) * BigInt(DAY_MS));
  for (const { section: s } of all) {
    const id = `${s.network}.${s.station}`;
    let days = out.get(id);
    if (!days) out.set(id, (days = new Map()));
    const touched = new Set<number>();
    for (const sp of sectionSpans(s)) for (let d = floorDay(sp.startNs); d <= floorDay(sp.endNs); d += DAY_MS) touched.add(d);
    for (const d of touched) {
      const l = days.get(d);
      if (l) l.push(s);
      else days.set(d, [s]);
    }
  }
  return out;
}

/** The UTC days (epoch ms, sorted) on which each station (`NET.STA`) has indexed data, as the tiles above count them. */
export function seismicStationDays(db: Database.Database): Map<string, number[]> {
  if (!db.prepare("SELECT name FROM sqlite_master WHERE type='table' AND name='tsindex'").get()) return new Map();
  return new Map([...stationDays(db)].map(([id, days]) => [id, [...days.keys()].sort((a, b) => a - b)]));
}

interface DayResult {
  tile: WriteTileInput | null;
  samples: number;
  bytes: number;
  problems: SampleProblem[];
  unreadable: SampleProblem[];
}

/** Statistics of one station-day, one channel in memory at a time. */
function stationDayTile(sections: Section[], day: number, id: string, fp: string, win: number, minCoverage: number, dataRoot: string): DayResult {
  const res: DayResult = { tile: null, samples: 0, bytes: 0, problems: [], unreadable: [] };
  const byChan = new Map<string, Section[]>();
  for (const s of sections) {
    const lab = s.location ? `${s.location}_${s.channel}` : s.channel;
    const l = byChan.get(lab);
    if (l) l.push(s);
    else byChan.set(lab, [s]);
    res.bytes += s.bytes;
  }
  const perDay = DAY_MS / win;
  const chans: { lab: string; stats: WindowStats; rate: number; integers: boolean }[] = [];
  for (const [lab, secs] of [...byChan].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const plan = planChannelDay(secs, day, dataRoot);
    if (!plan) continue;
    const st = channelWindowStats(plan, win, perDay, minCoverage);
    const pp = planProblems(plan);
    res.samples += st.samples;
    res.problems.push(...pp.problems);
    res.unreadable.push(...pp.unreadable);
    if (st.samples > 0) chans.push({ lab, stats: st, rate: plan.rate, integers: st.integers });
  }
  // Rows from the first to the last window with samples in any channel.
  let first = perDay;
  let last = -1;
  for (const c of chans) {
    for (let m = 0; m < perDay; m++) if (c.stats.n[m] > 0) { first = Math.min(first, m); break; }
    for (let m = perDay - 1; m >= 0; m--) if (c.stats.n[m] > 0) { last = Math.max(last, m); break; }
  }
  if (last < first) return res;
  const rows = last - first + 1;
  const ts = new Float64Array(rows);
  for (let k = 0; k < rows; k++) ts[k] = day + (first + k) * win;
  const columns: TileColumn[] = [];
  const units: Record<string, string> = {};
  for (const { lab, stats, integers } of chans) {
    const sl = <T extends Float64Array | Int32Array>(a: T) => a.slice(first, last + 1) as T;
    const q = sl(stats.q);
    columns.push(
      { name: `${lab}_rms`, type: 'DOUBLE', values: sl(stats.rms) },
      { name: `${lab}_mean_abs`, type: 'DOUBLE', values: sl(stats.meanAbs) },
      { name: `${lab}_mean`, type: 'DOUBLE', values: sl(stats.mean) },
      { name: `${lab}_n`, type: 'DOUBLE', values: sl(stats.n) },
      { name: `${lab}_rms_q`, type: 'INT32', values: q },
      { name: `${lab}_mean_abs_q`, type: 'INT32', values: q },
      { name: `${lab}_mean_q`, type: 'INT32', values: q },
    );
    // Integer and Steim samples are counts; float samples may be in physical units the records do not name.
    if (integers) units[`${lab}_rms`] = units[`${lab}_mean_abs`] = units[`${lab}_mean`] = 'counts';
    units[`${lab}_n`] = 'count';
  }
  res.tile = {
    key: { layer: 'std', source: 'seismic', station: id, cadence: isoCadence(win), period: tilePeriod(win, day).period },
    ts,
    columns,
    meta: {
      units,
      sources: [{ name: `tsindex:${id}:${new Date(day).toISOString().slice(0, 10)}`, sha256: fp }],
      params: {
        windowMs: win,
        minCoverage,
        stats: { rms: 'sqrt(mean((x - mean)^2)) over the window', mean_abs: 'mean(|x - mean|)', mean: 'mean(x)', n: 'samples in the window' },
        sample_rates: Object.fromEntries(chans.map((c) => [c.lab, c.rate])),
      },
    },
  };
  return res;
}

interface WindowStats {
  n: Float64Array;
  rms: Float64Array;
  meanAbs: Float64Array;
  mean: Float64Array;
  q: Int32Array;
  samples: number;
  integers: boolean;
}

/** Slots decoded at once: ~4 M (32 MB of grid), whatever the rate. */
const BLOCK_SLOTS = 4_000_000;

/**
 * Per-window n, mean, rms and mean-abs about the mean of a channel-day, decoded a block of
 * windows at a time. Window m holds the slots whose time lies in [m·win, (m+1)·win).
 */
function channelWindowStats(plan: ChannelPlan, win: number, perDay: number, minCoverage: number): WindowStats {
  const st: WindowStats = { n: new Float64Array(perDay), rms: new Float64Array(perDay), meanAbs: new Float64Array(perDay), mean: new Float64Array(perDay), q: new Int32Array(perDay), samples: 0, integers: true };
  const startOf = (m: number) => (m >= perDay ? plan.slots : Math.min(plan.slots, slotAt(plan, (m * win) / 1000)));
  const perBlock = Math.max(1, Math.floor(BLOCK_SLOTS / Math.max(1, (win / 1000) * plan.rate)));
  for (let m0 = 0; m0 < perDay; m0 += perBlock) {
    const m1 = Math.min(perDay, m0 + perBlock);
    const from = startOf(m0);
    if (!hasRecordsIn(plan, from, startOf(m1))) {
      st.q.fill(Q_MISSING, m0, m1); // no record here: no grid to allocate
      st.rms.fill(NaN, m0, m1);
      st.meanAbs.fill(NaN, m0, m1);
      st.mean.fill(NaN, m0, m1);
      continue;
    }
    const fill = fillSlots(plan, from, startOf(m1));
    st.samples += fill.samples;
    if (!fill.integers) st.integers = false;
    for (let m = m0; m < m1; m++) windowStat(fill.x, startOf(m) - from, startOf(m + 1) - from, m, st, minCoverage);
  }
  return st;
}

/** Statistics of window m over x[a, b) (NaN = no sample). */
function windowStat(x: Float64Array, a: number, b: number, m: number, st: WindowStats, minCoverage: number): void {
  let c = 0;
  let s = 0;
  for (let k = a; k < b; k++) {
    const v = x[k];
    if (v === v) {
      c++;
      s += v;
    }
  }
  st.n[m] = c;
  if (c === 0 || c < minCoverage * (b - a)) {
    st.rms[m] = st.meanAbs[m] = st.mean[m] = NaN;
    st.q[m] = c === 0 ? Q_MISSING : Q_MISSING | Q_NO_SAMPLE;
    return;
  }
  const mean = s / c;
  let s2 = 0;
  let sa = 0;
  for (let k = a; k < b; k++) {
    const v = x[k];
    if (v === v) {
      const d = v - mean;
      s2 += d * d;
      sa += Math.abs(d);
    }
  }
  st.mean[m] = mean;
  st.rms[m] = Math.sqrt(s2 / c);
  st.meanAbs[m] = sa / c;
  st.q[m] = c < b - a ? Q_NO_SAMPLE : 0;
}
