/**
 * Shared plumbing of the feature layer: feature tables, reading the std tiles of one UTC day,
 * and writing feature tiles, including the read–merge–write of the monthly (PT1H) and yearly
 * (P1D) tiles a single day only contributes rows to (tilePeriod: ≥ 1 h → month, ≥ 1 d → year).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { cadenceMs, parseTilePath, readTile, readTileMetadata, tilePath, tilePeriod, writeTile, type TileColumn, type TileData, type TileKey, type TileSourceFile, type WrittenTile } from '../tiles';

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;
export const MINUTE_MS = 60_000;

/** Feature values of one dataset over one day: `ts` plus DOUBLE columns (NaN → null). */
export interface FeatureTable {
  ts: Float64Array;
  columns: Record<string, Float64Array>;
  units: Record<string, string>;
}

export function emptyTable(ts: Float64Array, names: string[], units: Record<string, string>): FeatureTable {
  const columns: Record<string, Float64Array> = {};
  for (const n of names) columns[n] = new Float64Array(ts.length).fill(NaN);
  return { ts, columns, units: { ...units } };
}

/** n stamps day + k·step. */
export function gridTs(day: number, step: number, n: number): Float64Array {
  const ts = new Float64Array(n);
  for (let k = 0; k < n; k++) ts[k] = day + k * step;
  return ts;
}

export function isoDay(day: number): string {
  return new Date(day).toISOString().slice(0, 10);
}

/** Value columns (not `_q`, not ts) of a tile, from its footer. */
export async function tileValueColumns(file: string): Promise<{ name: string; type: string; units: string | null }[]> {
  const { metadata, kv } = await readTileMetadata(file);
  let units: Record<string, string> = {};
  try {
    units = JSON.parse(kv['geonode.units'] ?? '{}') as Record<string, string>;
  } catch {
    /* none */
  }
  return metadata.schema
    .slice(1)
    .filter((s) => s.name !== 'ts')
    .map((s) => ({ name: s.name, type: String(s.type), units: units[s.name] ?? null }));
}

/** Read the named columns (those that exist) of the rows of [startMs, endMs). */
export async function readColumnsIfPresent(file: string, wanted: string[], startMs: number, endMs: number): Promise<TileData> {
  const have = new Set((await tileValueColumns(file)).map((c) => c.name));
  return readTile(file, { columns: wanted.filter((w) => have.has(w)), startMs, endMs });
}

/** sha256 of a (tile) file. */
export function sha256OfFile(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

export interface FeatureWrite {
  root: string;
  source: string;
  station: string;
  cadence: 'PT1M' | 'PT1H' | 'P1D';
  /** UTC day the rows belong to: rows of [day, day + 1 d) are replaced in the period tile. */
  day: number;
  table: FeatureTable;
  sources: TileSourceFile[];
  params?: unknown;
  extra?: Record<string, unknown>;
}

/**
 * Write a day's feature rows. PT1M: the day tile is replaced. PT1H/P1D: the month/year tile is
 * read, its rows of that day replaced by the new ones (column set = union, missing → null), and
 * rewritten atomically (writeTile renames a temp file).
 */
export async function writeFeatureRows(w: FeatureWrite): Promise<WrittenTile> {
  const step = cadenceMs(w.cadence);
  const per = tilePeriod(step, w.day);
  const key: TileKey = { layer: 'feat', source: w.source, station: w.station, cadence: w.cadence, period: per.period };
  let ts = w.table.ts;
  let cols = w.table.columns;
  let units = w.table.units;
  let sources = w.sources;
  const file = tilePath(w.root, key);
  if (w.cadence !== 'PT1M' && fs.existsSync(file)) {
    const old = await readTile(file);
    const keep: number[] = [];
    for (let i = 0; i < old.rows; i++) if (old.ts[i] < w.day || old.ts[i] >= w.day + DAY_MS) keep.push(i);
    const names = [...new Set([...Object.keys(old.columns), ...Object.keys(cols)])];
    const order: { t: number; src: 'old' | 'new'; i: number }[] = keep.map((i) => ({ t: old.ts[i], src: 'old' as const, i }));
    for (let i = 0; i < ts.length; i++) order.push({ t: ts[i], src: 'new', i });
    order.sort((a, b) => a.t - b.t);
    const merged: Record<string, Float64Array> = {};
    for (const n of names) {
      const a = new Float64Array(order.length).fill(NaN);
      const o = old.columns[n] as Float64Array | undefined;
      const nw = cols[n];
      order.forEach((r, k) => {
        if (r.src === 'old') a[k] = o ? o[r.i] : NaN;
        else a[k] = nw ? nw[r.i] : NaN;
      });
      merged[n] = a;
    }
    ts = Float64Array.from(order.map((r) => r.t));
    cols = merged;
    try {
      units = { ...(JSON.parse(old.kv['geonode.units'] ?? '{}') as Record<string, string>), ...units };
    } catch {
      /* keep new units */
    }
    try {
      const prev = JSON.parse(old.kv['geonode.source_files'] ?? '[]') as TileSourceFile[];
      const seen = new Set(sources.map((s) => `${s.name}\u0000${s.sha256}`));
      // Keep the provenance of the other days; replace the entries of this day's inputs.
      const mine = new Set(sources.map((s) => s.name));
      sources = [...prev.filter((s) => !mine.has(s.name) && !seen.has(`${s.name}\u0000${s.sha256}`)), ...sources];
    } catch {
      /* keep new sources */
    }
  }
  const columns: TileColumn[] = Object.keys(cols)
    .sort()
    .map((name) => ({ name, type: 'DOUBLE' as const, values: cols[name] }));
  return writeTile(w.root, { key, ts, columns, meta: { units, sources, params: w.params, extra: { ...(w.extra ?? {}), layout: 'wide', null_when: 'not computable' } } });
}

/** Metadata keys writeTile/writeFeatureRows set themselves; the others are a tile's `extra`. */
const OWN_KEYS = new Set(['pipeline_version', 'layer', 'source', 'station', 'cadence', 'period', 'units', 'source_files', 'source_sha256', 'quality_bits', 'columns', 'params', 'station_meta', 'layout', 'null_when', 'data_span']);

/**
 * Take a day's rows out of a feature tile (rel: relative to the root), its inputs being gone: a
 * PT1M day tile is deleted; a PT1H/P1D month/year tile is rewritten without them (its other
 * days, parameters and extras kept), and deleted when no row remains.
 */
export async function dropFeatureDay(root: string, rel: string, day: number): Promise<void> {
  const file = path.join(root, rel);
  const key = parseTilePath(rel);
  if (!key || !fs.existsSync(file)) return;
  if (key.cadence !== 'PT1H' && key.cadence !== 'P1D') {
    fs.rmSync(file);
    return;
  }
  const old = await readTile(file, { columns: [] });
  let left = 0;
  for (let i = 0; i < old.rows; i++) if (old.ts[i] < day || old.ts[i] >= day + DAY_MS) left++;
  if (left === old.rows) return;
  if (left === 0) {
    fs.rmSync(file);
    return;
  }
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(old.kv)) {
    if (!k.startsWith('geonode.') || OWN_KEYS.has(k.slice(8))) continue;
    try {
      extra[k.slice(8)] = JSON.parse(v);
    } catch {
      extra[k.slice(8)] = v; // stored as a bare string
    }
  }
  const params = old.kv['geonode.params'] !== undefined ? (JSON.parse(old.kv['geonode.params']) as unknown) : undefined;
  // An empty table for the day: writeFeatureRows keeps the rows, units and provenance of the others.
  await writeFeatureRows({ root, source: key.source, station: key.station, cadence: key.cadence, day, table: { ts: new Float64Array(0), columns: {}, units: {} }, sources: [], params, extra });
}

/** Tile path relative to the root (for provenance entries). */
export function relName(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}
