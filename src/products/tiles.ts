/**
 * Product tiles: one Parquet file per dataset and period, hive-partitioned so DuckDB, Arrow or
 * hyparquet can scan them directly:
 *
 *   <root>/layer=raw|std/source=geomag|aef|vlf|seismic/station=KAK/cadence=PT1S/date=2020-01-01/part-0.parquet
 *
 * Period per cadence (tilePeriod): cadence < 1 h → one file per UTC day (`date=YYYY-MM-DD`);
 * 1 h ≤ cadence < 1 d → per month (`date=YYYY-MM`); ≥ 1 d → per year (`date=YYYY`).
 *
 * File layout: `ts` INT64 TIMESTAMP(MILLIS, isAdjustedToUTC) sorted and required; value
 * columns DOUBLE (or FLOAT) OPTIONAL with Parquet nulls for gaps (never NaN); `<col>_q` INT32
 * quality bitmask (quality.ts); one row group per file, statistics on (ts min/max prune).
 * Key-value metadata `geonode.*`: layer/source/station/cadence/period, units (JSON),
 * source_files (JSON [{name, sha256, bytes}]), source_sha256 (comma list), params, pipeline
 * version, quality bit names, station coordinates, data_span (JSON [first, last] stamp with a
 * value, or null: a std grid spans its whole period), and for spectra `bins` (HAPI style).
 *
 * Writer: the own flat-schema encoder (src/formats/parquet.ts); reader: hyparquet. Files are written to a temp name and
 * renamed, so a reader never sees a half-written tile (ingest may hold the rename until the source
 * file is hashed: WriteTileOptions.hashPlaceholder, commitTile).
 */
import fs from 'node:fs';
import path from 'node:path';
import { encodeParquet, type ParquetColumnSpec } from '../formats/parquet';
import type { AsyncBuffer, FileMetaData } from 'hyparquet';
import { PIPELINE_VERSION } from './config';
import { QUALITY_BITS } from './quality';

// hyparquet (ESM) is loaded on first use: loading it costs ~50 ms per thread, and the ingest
// tile workers only write, with the own encoder.
/* eslint-disable @typescript-eslint/no-require-imports */
let hyparquetModule: typeof import('hyparquet') | null = null;
const hyparquet = (): typeof import('hyparquet') => (hyparquetModule ??= require('hyparquet') as typeof import('hyparquet'));
/* eslint-enable @typescript-eslint/no-require-imports */

export type Layer = 'raw' | 'std' | 'feat' | 'score';

export interface TileKey {
  layer: Layer;
  /** geomag | aef | vlf | seismic */
  source: string;
  /** Upper-case station code (`KAK`, `MOS`, `IU.ANMO` for seismic). */
  station: string;
  /** ISO-8601 duration (`PT1S`, `PT1M`, `PT1H`, `P1D`, `PT0.4096S`). */
  cadence: string;
  /** `YYYY-MM-DD`, `YYYY-MM` or `YYYY` (see tilePeriod). */
  period: string;
}

export type TileColumnType = 'DOUBLE' | 'FLOAT' | 'INT32';

export interface TileColumn {
  name: string;
  type: TileColumnType;
  /** DOUBLE/FLOAT: NaN is written as null. INT32: required (no nulls). */
  values: Float64Array | Float32Array | Int32Array;
}

export interface TileSourceFile {
  /** Base name (or path relative to the ingest root). */
  name: string;
  sha256: string;
  bytes?: number;
}

export interface TileMetaInput {
  /** Units per value column (`{ X: 'nT', D: 'arcmin' }`). */
  units: Record<string, string>;
  sources: TileSourceFile[];
  /** Pipeline parameters (std) written as JSON. */
  params?: unknown;
  station?: { name?: string | null; latitude?: number | null; longitude?: number | null; elevation?: number | null };
  /** Extra `geonode.<key>` entries (values as given; objects are JSON-encoded). */
  extra?: Record<string, unknown>;
}

export interface WriteTileInput {
  key: TileKey;
  /** Epoch ms, ascending. */
  ts: ArrayLike<number>;
  columns: TileColumn[];
  meta: TileMetaInput;
}

export interface WriteTileOptions {
  codec?: 'SNAPPY' | 'UNCOMPRESSED';
  /**
   * A 64-character stand-in for a source sha256 that is not known yet (ingest hashes a file while
   * it is processed): the tile stays under a temporary name, with the offsets of the stand-in in
   * `pending`, until commitTile writes the real hash there and renames it.
   */
  hashPlaceholder?: string;
}

export interface WrittenTile {
  key: TileKey;
  path: string;
  rows: number;
  bytes: number;
  /** Encode + write time in ms. */
  ms: number;
  /** Written with WriteTileOptions.hashPlaceholder: the temporary file and the stand-in's offsets. */
  pending?: { tmp: string; at: number[] };
}

export interface TileInfo {
  key: TileKey;
  path: string;
  /** Period covered by the file name: [startMs, endMs). */
  startMs: number;
  endMs: number;
  bytes: number;
  mtimeMs: number;
}

export interface TileData {
  key: TileKey | null;
  path: string;
  rows: number;
  /** Epoch ms. */
  ts: Float64Array;
  /** Value columns: Float64Array with NaN for null; `_q` and other INT32 columns: Int32Array. */
  columns: Record<string, Float64Array | Int32Array>;
  /** Key-value metadata (raw strings). */
  kv: Record<string, string>;
}

export interface ReadTileOptions {
  /** Columns to read besides ts (default all). */
  columns?: string[];
  /** Keep rows with startMs <= ts < endMs. */
  startMs?: number;
  endMs?: number;
}

// ---------------------------------------------------------------------------------------------
// Paths and periods

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** Milliseconds of an ISO-8601 cadence (`PT1S`, `PT0.4096S`, `PT1M`, `PT1H`, `P1D`); NaN if unknown. */
export function cadenceMs(iso: string): number {
  const m = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(iso);
  if (!m || iso === 'P' || iso.endsWith('T')) return NaN;
  return Number(m[1] ?? 0) * DAY + Number(m[2] ?? 0) * HOUR + Number(m[3] ?? 0) * 60_000 + Number(m[4] ?? 0) * 1000;
}

/** ISO-8601 duration of a step in ms (`PT1S`, `PT1M`, `PT1H`, `P1D`, else `PTxS`). */
export function isoCadence(ms: number): string {
  if (ms === DAY) return 'P1D';
  if (ms === HOUR) return 'PT1H';
  if (ms === 60_000) return 'PT1M';
  return `PT${ms / 1000}S`;
}

/** The tile period holding time t for a cadence, with its [start, end) in epoch ms. */
export function tilePeriod(cadence: number, t: number): { period: string; startMs: number; endMs: number } {
  const d = new Date(t);
  const y = d.getUTCFullYear();
  const mo = d.getUTCMonth();
  const p2 = (n: number) => String(n).padStart(2, '0');
  if (cadence >= DAY) return { period: String(y), startMs: Date.UTC(y, 0, 1), endMs: Date.UTC(y + 1, 0, 1) };
  if (cadence >= HOUR) return { period: `${y}-${p2(mo + 1)}`, startMs: Date.UTC(y, mo, 1), endMs: Date.UTC(y, mo + 1, 1) };
  const s = Date.UTC(y, mo, d.getUTCDate());
  return { period: `${y}-${p2(mo + 1)}-${p2(d.getUTCDate())}`, startMs: s, endMs: s + DAY };
}

/** [start, end) of a period string (`YYYY-MM-DD`, `YYYY-MM`, `YYYY`); null if malformed. */
export function periodRange(period: string): { startMs: number; endMs: number } | null {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(period);
  if (!m) return null;
  const y = Number(m[1]);
  if (m[3] !== undefined) {
    const s = Date.UTC(y, Number(m[2]) - 1, Number(m[3]));
    return { startMs: s, endMs: s + DAY };
  }
  if (m[2] !== undefined) return { startMs: Date.UTC(y, Number(m[2]) - 1, 1), endMs: Date.UTC(y, Number(m[2]), 1) };
  return { startMs: Date.UTC(y, 0, 1), endMs: Date.UTC(y + 1, 0, 1) };
}

const SAFE = /^[A-Za-z0-9._-]+$/;

/** Directory of a tile (hive layout). Station/cadence values are validated (no path tricks). */
export function tileDir(root: string, key: TileKey): string {
  for (const v of [key.layer, key.source, key.station, key.cadence, key.period]) {
    if (!SAFE.test(v) || v === '.' || v === '..') throw new Error(`tile key part ${JSON.stringify(v)} is not path-safe`);
  }
  return path.join(root, `layer=${key.layer}`, `source=${key.source}`, `station=${key.station}`, `cadence=${key.cadence}`, `date=${key.period}`);
}

/** File of a tile: `<tileDir>/part-0.parquet`. */
export function tilePath(root: string, key: TileKey): string {
  return path.join(tileDir(root, key), 'part-0.parquet');
}

/** Dataset id used by the catalog: `<layer>/<source>/<station>/<cadence>`. */
export function datasetId(key: Pick<TileKey, 'layer' | 'source' | 'station' | 'cadence'>): string {
  return `${key.layer}/${key.source}/${key.station}/${key.cadence}`;
}

// ---------------------------------------------------------------------------------------------
// Writing

/**
 * First and last time stamp with a value in any DOUBLE/FLOAT column (null: none). A std tile is a
 * regular grid over its whole period, so its `ts` range is the period, not the data: 15 minutes
 * of 1 s data make a day of rows. Scans from both ends: a few rows unless the tile is empty.
 */
export function tileDataSpan(ts: ArrayLike<number>, columns: readonly TileColumn[]): [number, number] | null {
  const vals = columns.filter((c) => c.type !== 'INT32').map((c) => c.values);
  if (ts.length === 0) return null;
  if (vals.length === 0) return [ts[0], ts[ts.length - 1]];
  const has = (i: number) => vals.some((v) => v[i] === v[i]);
  let i = 0;
  while (i < ts.length && !has(i)) i++;
  if (i === ts.length) return null;
  let j = ts.length - 1;
  while (!has(j)) j--;
  return [ts[i], ts[j]];
}

/** Key-value metadata entries of a tile. */
export function tileKvMetadata(key: TileKey, meta: TileMetaInput, columns: TileColumn[], ts: ArrayLike<number>): { key: string; value: string }[] {
  const kv: Record<string, string> = {
    'geonode.pipeline_version': PIPELINE_VERSION,
    'geonode.layer': key.layer,
    'geonode.source': key.source,
    'geonode.station': key.station,
    'geonode.cadence': key.cadence,
    'geonode.period': key.period,
    'geonode.units': JSON.stringify(meta.units),
    'geonode.source_files': JSON.stringify(meta.sources),
    'geonode.source_sha256': meta.sources.map((s) => s.sha256).join(','),
    'geonode.quality_bits': JSON.stringify(QUALITY_BITS),
    'geonode.columns': JSON.stringify(columns.map((c) => ({ name: c.name, type: c.type, units: meta.units[c.name] ?? null }))),
  };
  if (meta.params !== undefined) kv['geonode.params'] = JSON.stringify(meta.params);
  if (meta.station) kv['geonode.station_meta'] = JSON.stringify(meta.station);
  for (const [k, v] of Object.entries(meta.extra ?? {})) kv[`geonode.${k}`] = typeof v === 'string' ? v : JSON.stringify(v);
  // Always this tile's own rows (after the extras: a rewritten tile's carried-over keys must not replace it).
  kv['geonode.data_span'] = JSON.stringify(tileDataSpan(ts, columns));
  return Object.entries(kv).map(([k, value]) => ({ key: k, value }));
}

/** Parquet schema of a tile for the own encoder (src/formats/parquet.ts). */
function tileParquetSchema(columns: TileColumn[]): ParquetColumnSpec[] {
  // DELTA_BINARY_PACKED for the (regular) time stamps; RLE_DICTIONARY for INT32 columns such as
  // the mostly-zero quality flags (runs of a few values: a fraction of DELTA's size and time; the
  // encoder falls back to DELTA_BINARY_PACKED for other INT32 columns); BYTE_STREAM_SPLIT for
  // floats (better SNAPPY ratio on measurement noise).
  const schema: ParquetColumnSpec[] = [{ name: 'ts', type: 'INT64', logical: 'TIMESTAMP_MILLIS', encoding: 'DELTA_BINARY_PACKED' }];
  for (const c of columns) {
    if (c.type === 'INT32') schema.push({ name: c.name, type: 'INT32', encoding: 'RLE_DICTIONARY' });
    else schema.push({ name: c.name, type: c.type, repetition: 'OPTIONAL', encoding: 'BYTE_STREAM_SPLIT' });
  }
  return schema;
}

/**
 * Encode a tile into Parquet bytes (one row group, statistics on) with the own flat-schema
 * encoder (src/formats/parquet.ts). What it rejects (duplicate or reserved column names,
 * fractional times) is a programming error and is thrown with its message.
 */
export function encodeTile(input: WriteTileInput, opts: WriteTileOptions = {}): Uint8Array {
  const n = input.ts.length;
  for (const c of input.columns) if (c.values.length !== n) throw new Error(`tile column ${c.name}: ${c.values.length} values for ${n} rows`);
  const kvMetadata = tileKvMetadata(input.key, input.meta, input.columns, input.ts);
  return encodeParquet(tileParquetSchema(input.columns), [input.ts, ...input.columns.map((c) => c.values)], {
    codec: opts.codec ?? 'SNAPPY',
    statistics: true,
    kvMetadata,
    createdBy: `geonode products ${PIPELINE_VERSION} (geonode parquet)`,
  });
}

/** Write (replace) one tile atomically (or leave it pending, see WriteTileOptions.hashPlaceholder). */
export function writeTile(root: string, input: WriteTileInput, opts: WriteTileOptions = {}): WrittenTile {
  const t0 = performance.now();
  const bytes = encodeTile(input, opts);
  const file = tilePath(root, input.key);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const out: WrittenTile = { key: input.key, path: file, rows: input.ts.length, bytes: bytes.length, ms: 0 };
  try {
    fs.writeFileSync(tmp, bytes);
    if (opts.hashPlaceholder !== undefined) out.pending = { tmp, at: placeholderOffsets(bytes, opts.hashPlaceholder) };
    else fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true }); // a full disk keeps no half-written temp file
    throw e;
  }
  out.ms = performance.now() - t0;
  return out;
}

/** Offsets of the placeholder in the footer (key-value metadata) of encoded tile bytes. */
function placeholderOffsets(bytes: Uint8Array, placeholder: string): number[] {
  if (!/^[0-9a-f]{64}$/.test(placeholder)) throw new Error('hash placeholder must be 64 lower-case hex digits');
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const footer = b.length - 8 - b.readUInt32LE(b.length - 8);
  const at: number[] = [];
  for (let i = b.indexOf(placeholder, footer, 'latin1'); i >= 0; i = b.indexOf(placeholder, i + 64, 'latin1')) at.push(i);
  return at;
}

/** Finish a pending tile: the source sha256 goes where its placeholder was, then the rename. */
export function commitTile(t: WrittenTile, sha256: string): void {
  if (!t.pending) return;
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error('sha256 must be 64 lower-case hex digits');
  const fd = fs.openSync(t.pending.tmp, 'r+');
  try {
    const h = Buffer.from(sha256, 'latin1');
    for (const at of t.pending.at) fs.writeSync(fd, h, 0, 64, at);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(t.pending.tmp, t.path);
  delete t.pending;
}

/** Drop a pending tile (its source could not be hashed). */
export function discardTile(t: WrittenTile): void {
  if (!t.pending) return;
  fs.rmSync(t.pending.tmp, { force: true });
  delete t.pending;
}

/** Remove a tile (and its now-empty date directory). */
export function removeTile(root: string, key: TileKey): boolean {
  const file = tilePath(root, key);
  if (!fs.existsSync(file)) return false;
  fs.rmSync(file);
  try {
    fs.rmdirSync(path.dirname(file));
  } catch {
    /* not empty */
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Reading

/**
 * The tile as hyparquet reads it, through ONE descriptor from the stat to the last slice:
 * ingest and analyze replace tiles by rename, and a read that reopened the path per slice
 * could take the old footer's offsets to the new file's bytes (one version's times with the
 * other's values, silently). Close it when the read is done.
 */
function openTileFile(file: string): { buf: AsyncBuffer; close: () => void } {
  const fd = fs.openSync(file, 'r');
  let size: number;
  try {
    size = fs.fstatSync(fd).size;
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  return {
    buf: {
      byteLength: size,
      slice(start: number, end?: number): ArrayBuffer {
        const e = end ?? size;
        const b = Buffer.allocUnsafe(e - start);
        let got = 0;
        while (got < b.length) {
          const n = fs.readSync(fd, b, got, b.length - got, start + got);
          if (n === 0) break;
          got += n;
        }
        return b.buffer.slice(b.byteOffset, b.byteOffset + got) as ArrayBuffer;
      },
    },
    close: () => fs.closeSync(fd),
  };
}

/** Hive key of a tile path (null when the path is not in the layout). */
export function parseTilePath(file: string): TileKey | null {
  const parts = file.split(/[\\/]/);
  const get = (k: string) => parts.find((p) => p.startsWith(`${k}=`))?.slice(k.length + 1);
  const layer = get('layer');
  const source = get('source');
  const station = get('station');
  const cadence = get('cadence');
  const period = get('date');
  if (!layer || !source || !station || !cadence || !period || !['raw', 'std', 'feat', 'score'].includes(layer)) return null;
  return { layer: layer as Layer, source, station, cadence, period };
}

/** Footer only: Parquet metadata plus `kv` (key-value metadata as a record). */
export async function readTileMetadata(file: string): Promise<{ metadata: FileMetaData; kv: Record<string, string> }> {
  const f = openTileFile(file);
  try {
    const metadata = await hyparquet().parquetMetadataAsync(f.buf);
    const kv: Record<string, string> = {};
    for (const e of metadata.key_value_metadata ?? []) kv[e.key] = e.value ?? '';
    return { metadata, kv };
  } finally {
    f.close();
  }
}

function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

async function readColumns(file: AsyncBuffer, metadata: FileMetaData, columns: string[], rowStart: number, rowEnd: number): Promise<Map<string, unknown[] | ArrayLike<unknown>>> {
  const parts = new Map<string, { start: number; data: ArrayLike<unknown> }[]>();
  await hyparquet().parquetRead({
    file,
    metadata,
    columns,
    rowStart,
    rowEnd,
    parsers: { timestampFromMilliseconds: (ms: bigint) => Number(ms) },
    onChunk: (c) => {
      const list = parts.get(c.columnName) ?? [];
      list.push({ start: c.rowStart, data: c.columnData as ArrayLike<unknown> });
      parts.set(c.columnName, list);
    },
  });
  const out = new Map<string, ArrayLike<unknown>>();
  for (const name of columns) {
    const list = parts.get(name) ?? [];
    const arr: unknown[] = new Array(rowEnd - rowStart).fill(null);
    for (const p of list) {
      for (let i = 0; i < p.data.length; i++) {
        const r = p.start + i;
        if (r >= rowStart && r < rowEnd) arr[r - rowStart] = p.data[i];
      }
    }
    out.set(name, arr);
  }
  return out;
}

/**
 * Read a tile (or the rows of a time window) into typed arrays: value columns as Float64Array
 * with NaN for null, INT32 columns as Int32Array.
 */
export async function readTile(file: string, opts: ReadTileOptions = {}): Promise<TileData> {
  const f = openTileFile(file);
  try {
    return await readOpenTile(file, f.buf, opts);
  } finally {
    f.close();
  }
}

async function readOpenTile(file: string, buf: AsyncBuffer, opts: ReadTileOptions): Promise<TileData> {
  const metadata = await hyparquet().parquetMetadataAsync(buf);
  const kv: Record<string, string> = {};
  for (const e of metadata.key_value_metadata ?? []) kv[e.key] = e.value ?? '';
  const total = Number(metadata.num_rows);
  const leaf = metadata.schema.slice(1);
  const wanted = (opts.columns ?? leaf.map((s) => s.name).filter((n) => n !== 'ts')).filter((n) => n !== 'ts');
  for (const w of wanted) if (!leaf.some((s) => s.name === w)) throw new Error(`tile ${file}: no column ${w}`);
  const tsAll = (await readColumns(buf, metadata, ['ts'], 0, total)).get('ts')!;
  const tsFull = Float64Array.from(tsAll as ArrayLike<number>);
  const r0 = opts.startMs === undefined ? 0 : lowerBound(tsFull, opts.startMs);
  const r1 = opts.endMs === undefined ? total : lowerBound(tsFull, opts.endMs);
  const ts = tsFull.slice(r0, Math.max(r0, r1));
  const columns: Record<string, Float64Array | Int32Array> = {};
  if (wanted.length && ts.length) {
    const got = await readColumns(buf, metadata, wanted, r0, r1);
    for (const name of wanted) {
      const el = leaf.find((s) => s.name === name)!;
      const src = got.get(name)!;
      if (el.type === 'INT32') columns[name] = Int32Array.from(src as ArrayLike<number>);
      else {
        const a = new Float64Array(src.length);
        for (let i = 0; i < a.length; i++) a[i] = src[i] === null || src[i] === undefined ? NaN : Number(src[i]);
        columns[name] = a;
      }
    }
  } else {
    for (const name of wanted) columns[name] = leaf.find((s) => s.name === name)!.type === 'INT32' ? new Int32Array(0) : new Float64Array(0);
  }
  return { key: parseTilePath(file), path: file, rows: ts.length, ts, columns, kv };
}

// ---------------------------------------------------------------------------------------------
// Listing and catalog

export interface ListTilesFilter {
  layer?: Layer;
  source?: string;
  station?: string;
  cadence?: string;
  /** Keep tiles whose period intersects [startMs, endMs). */
  startMs?: number;
  endMs?: number;
}

function subdirs(dir: string, key: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name.startsWith(`${key}=`))
    .map((d) => d.name.slice(key.length + 1))
    .sort();
}

/** All tiles under root matching the filter, sorted by dataset then period. */
export function listTiles(root: string, filter: ListTilesFilter = {}): TileInfo[] {
  const out: TileInfo[] = [];
  const pick = (vals: string[], want?: string) => (want === undefined ? vals : vals.filter((v) => v === want));
  for (const layer of pick(subdirs(root, 'layer'), filter.layer)) {
    const dl = path.join(root, `layer=${layer}`);
    for (const source of pick(subdirs(dl, 'source'), filter.source)) {
      const ds = path.join(dl, `source=${source}`);
      for (const station of pick(subdirs(ds, 'station'), filter.station)) {
        const dst = path.join(ds, `station=${station}`);
        for (const cadence of pick(subdirs(dst, 'cadence'), filter.cadence)) {
          const dc = path.join(dst, `cadence=${cadence}`);
          for (const period of subdirs(dc, 'date')) {
            const range = periodRange(period);
            if (!range) continue;
            if (filter.startMs !== undefined && range.endMs <= filter.startMs) continue;
            if (filter.endMs !== undefined && range.startMs >= filter.endMs) continue;
            const file = path.join(dc, `date=${period}`, 'part-0.parquet');
            let st: fs.Stats;
            try {
              st = fs.statSync(file);
            } catch {
              continue;
            }
            out.push({ key: { layer: layer as Layer, source, station, cadence, period }, path: file, startMs: range.startMs, endMs: range.endMs, bytes: st.size, mtimeMs: st.mtimeMs });
          }
        }
      }
    }
  }
  return out;
}

export interface DatasetInfo {
  /** `<layer>/<source>/<station>/<cadence>` */
  id: string;
  layer: Layer;
  source: string;
  station: string;
  cadence: string;
  /** Milliseconds of the cadence (NaN if not parseable). */
  cadenceMs: number;
  tiles: number;
  bytes: number;
  /** Earliest period start / latest period end of the tiles (ms). */
  startMs: number;
  stopMs: number;
  /** Value columns with units (from the newest tile's metadata), quality columns excluded. */
  parameters: { name: string; type: string; units: string | null }[];
  /** `geonode.*` metadata of the newest tile (station_meta, bins, params, …), JSON-parsed when possible. */
  meta: Record<string, unknown>;
}

/** Bin centres from a tile's `geonode.bins` metadata (spectra); null when absent or unreadable. */
export function tileBinCenters(kv: Record<string, string>): number[] | null {
  try {
    const c = (JSON.parse(kv['geonode.bins'] ?? 'null') as { centers?: unknown } | null)?.centers;
    return Array.isArray(c) && c.every((x) => typeof x === 'number') ? (c as number[]) : null;
  } catch {
    return null;
  }
}

const reportedUnreadable = new Set<string>();

/** Log an unreadable tile once per path and process (the catalogue is rebuilt per request). */
export function reportUnreadableTile(file: string, e: unknown): void {
  if (reportedUnreadable.has(file)) return;
  reportedUnreadable.add(file);
  console.warn(`geonode: unreadable tile skipped: ${file}: ${e instanceof Error ? e.message : String(e)}`);
}

/**
 * A tile a window read cannot read (damaged on disk: tiles are written by rename, so never a
 * half-written one): logged once and left out, its path added to `skipped`, so the rest of the
 * window is still answered and the answer names what is missing (routes.ts nameSkipped).
 * Without `skipped` the error is thrown as before.
 */
export async function skipUnreadable<T>(file: string, skipped: string[] | undefined, read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (e) {
    if (!skipped) throw e;
    reportUnreadableTile(file, e);
    if (!skipped.includes(file)) skipped.push(file);
    return null;
  }
}

/** One entry per dataset (reads one tile footer per dataset; an unreadable tile is skipped). */
export async function tileCatalog(root: string, filter: ListTilesFilter = {}): Promise<DatasetInfo[]> {
  const groups = new Map<string, TileInfo[]>();
  for (const t of listTiles(root, filter)) {
    const id = datasetId(t.key);
    const g = groups.get(id) ?? [];
    g.push(t);
    groups.set(id, g);
  }
  const out: DatasetInfo[] = [];
  for (const [id, tiles] of groups) {
    // Metadata from the newest tile that reads: one damaged tile (a truncated copy, a full disk)
    // must not take the whole catalogue down; it is reported once in the log.
    let newest: TileInfo | null = null;
    let kv: Record<string, string> = {};
    for (let i = tiles.length - 1; i >= 0 && !newest; i--) {
      try {
        kv = (await readTileMetadata(tiles[i].path)).kv;
        newest = tiles[i];
      } catch (e) {
        reportUnreadableTile(tiles[i].path, e);
      }
    }
    if (!newest) continue;
    const meta: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(kv)) {
      if (!k.startsWith('geonode.')) continue;
      try {
        meta[k.slice(8)] = JSON.parse(v);
      } catch {
        meta[k.slice(8)] = v;
      }
    }
    const cols = (Array.isArray(meta.columns) ? meta.columns : []) as { name: string; type: string; units: string | null }[];
    out.push({
      id,
      layer: newest.key.layer,
      source: newest.key.source,
      station: newest.key.station,
      cadence: newest.key.cadence,
      cadenceMs: cadenceMs(newest.key.cadence),
      tiles: tiles.length,
      bytes: tiles.reduce((a, t) => a + t.bytes, 0),
      // reduce, not Math.min(...x): a spread of ~130k arguments overflows the stack
      startMs: tiles.reduce((a, t) => Math.min(a, t.startMs), Infinity),
      stopMs: tiles.reduce((a, t) => Math.max(a, t.endMs), -Infinity),
      parameters: cols.filter((c) => !c.name.endsWith('_q')),
      meta,
    });
  }
  return out;
}
