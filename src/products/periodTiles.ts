/**
 * Raw and std tiles of one station-period of a geomag or AEF series (ingest.ts). A pure function
 * of its inputs: ingest runs it in the main thread or, for large files, in tile workers
 * (tileWorker.ts), one station-period per job, so everything it takes is structured-cloneable.
 */
import { SENTINEL_MISSING, SENTINEL_NOT_RECORDED, type IagaHeader } from '../formats/iaga2002';
import type { ProductsConfig } from './config';
import { Q_MISSING, Q_NOT_RECORDED, Q_SENTINEL } from './quality';
import { deriveHD, gridMap, gridTimes, standardizeSeries, type GridSpec, type StdSeries } from './standardize';
import type { PriorInputs } from './tileMerge';
import { discardTile, encodeTile, isoCadence, tilePeriod, writeTile, type TileColumn, type TileSourceFile, type WriteTileInput, type WrittenTile } from './tiles';

export interface SeriesColumn {
  name: string;
  units: string;
  values: Float64Array;
  sentinel: Uint8Array;
}

export interface PeriodSeries {
  times: Float64Array;
  columns: SeriesColumn[];
}

export interface SeriesContext {
  source: 'geomag' | 'aef';
  station: string;
  cadenceMs: number;
  stampOffsetMs: number;
  header: IagaHeader;
  file: TileSourceFile;
  /** Other inputs whose rows were merged into this period (tileMerge.ts). */
  prior?: PriorInputs;
}

export interface PeriodOptions {
  /** Stand-in for `ctx.file.sha256` while the file is still being hashed (tiles.ts commitTile). */
  hashPlaceholder?: string;
  /** Standardize and encode the tiles but write nothing (tileWarmup.ts); writePeriod returns []. */
  encodeOnly?: boolean;
}

const FLAG_MISSING = Q_MISSING | Q_SENTINEL;
const FLAG_NOT_RECORDED = Q_MISSING | Q_NOT_RECORDED;
const CODE_MISSING = SENTINEL_MISSING;
const CODE_NOT_RECORDED = SENTINEL_NOT_RECORDED;

/** True when every byte of b is 0 (read a 32-bit word at a time when b is aligned). */
function noneSet(b: Uint8Array): boolean {
  if ((b.byteOffset & 3) !== 0) return orBytes(b, 0) === 0;
  const w = new Uint32Array(b.buffer, b.byteOffset, b.length >>> 2);
  return (orWords(w) | orBytes(b, w.length << 2)) === 0;
}

// Leaf loops (nothing after the loop for V8 to compile without type feedback: see ingest.ts).
function orWords(w: Uint32Array): number {
  let any = 0;
  for (let k = 0; k < w.length; k++) any |= w[k];
  return any;
}

function orBytes(b: Uint8Array, i: number): number {
  let any = 0;
  for (; i < b.length; i++) any |= b[i];
  return any;
}

/**
 * Raw-layer flags from the reader's sentinel codes. Branch-free, with the codes in module
 * constants: a rare branch reading imported bindings had no type feedback when V8 optimized the
 * loop, and each first sentinel threw the optimized code away.
 */
function rawFlags(sentinel: Uint8Array): Int32Array {
  const n = sentinel.length;
  const f = new Int32Array(n);
  if (noneSet(sentinel)) return f; // the common case: no fill value in the period
  for (let i = 0; i < n; i++) {
    const s = sentinel[i];
    f[i] = (+(s === CODE_MISSING)) * FLAG_MISSING + (+(s === CODE_NOT_RECORDED)) * FLAG_NOT_RECORDED;
  }
  return f;
}

/** Write the raw and std tiles of one station-period. */
export function writePeriod(root: string, ctx: SeriesContext, s: PeriodSeries, cfg: ProductsConfig, opts: PeriodOptions = {}): WrittenTile[] {
  const out: WrittenTile[] = [];
  try {
    periodTiles(root, ctx, s, cfg, opts, out);
  } catch (e) {
    for (const t of out) discardTile(t); // pending tiles of a failed period would never be committed
    throw e;
  }
  return out;
}

function periodTiles(root: string, ctx: SeriesContext, s: PeriodSeries, cfg: ProductsConfig, opts: PeriodOptions, out: WrittenTile[]): void {
  if (s.times.length === 0) return;
  const cadence = isoCadence(ctx.cadenceMs);
  const per = tilePeriod(ctx.cadenceMs, s.times[0]);
  const base = { source: ctx.source, station: ctx.station, cadence, period: per.period };
  const h = ctx.header;
  const station = { name: h.stationName, latitude: h.latitude, longitude: h.longitude, elevation: h.elevation };
  const units: Record<string, string> = {};
  for (const c of s.columns) units[c.name] = c.units;
  const extra = { time_stamp_offset_ms: ctx.stampOffsetMs, data_type: ctx.prior ? ctx.prior.dataType : (h.dataType ?? ''), interval_type: h.intervalType ?? '' };
  const wopts = { codec: cfg.codec, hashPlaceholder: opts.hashPlaceholder };
  const file = opts.hashPlaceholder === undefined ? ctx.file : { ...ctx.file, sha256: opts.hashPlaceholder };
  const sources = ctx.prior ? [...ctx.prior.sources, file] : [file];
  const emit = (input: WriteTileInput) => {
    if (opts.encodeOnly) encodeTile(input, wopts);
    else out.push(writeTile(root, input, wopts));
  };

  // raw: the file's rows as read (fill values → null, flagged).
  const rawCols: TileColumn[] = [];
  for (const c of s.columns) {
    rawCols.push({ name: c.name, type: 'DOUBLE', values: c.values });
    rawCols.push({ name: `${c.name}_q`, type: 'INT32', values: rawFlags(c.sentinel) });
  }
  emit({ key: { layer: 'raw', ...base }, ts: s.times, columns: rawCols, meta: { units, sources, station, extra } });

  // std: regular grid over the whole period, stamps at the file's offset inside the cadence.
  const step = ctx.cadenceMs;
  const start = per.startMs + ctx.stampOffsetMs;
  const grid: GridSpec = { start, step, count: Math.max(1, Math.ceil((per.endMs - start) / step)) };
  const params = cfg.sources[ctx.source];
  const std = new Map<string, StdSeries>();
  const counts: Record<string, { outliers: number; interpolated: number; missing: number }> = {};
  const map = gridMap(s.times, grid); // same stamps for every column
  for (const c of s.columns) {
    const r = standardizeSeries(s.times, c.values, c.sentinel, grid, params, map);
    std.set(c.name, r);
    counts[c.name] = { outliers: r.outliers, interpolated: r.interpolated, missing: r.missing };
  }
  const stdUnits = { ...units };
  // XYZ files get derived H (nT) and D (arcmin) in std (products need H/D; data-formats §1.2).
  if (ctx.source === 'geomag' && std.has('X') && std.has('Y') && !std.has('H') && !std.has('D')) {
    const { H, D } = deriveHD(std.get('X')!, std.get('Y')!);
    std.set('H', H);
    std.set('D', D);
    stdUnits.H = 'nT';
    stdUnits.D = 'arcmin';
  }
  const stdCols: TileColumn[] = [];
  for (const [name, r] of std) {
    stdCols.push({ name, type: 'DOUBLE', values: r.values });
    stdCols.push({ name: `${name}_q`, type: 'INT32', values: r.flags });
  }
  emit({
    key: { layer: 'std', ...base },
    ts: gridTimes(grid),
    columns: stdCols,
    meta: { units: stdUnits, sources, station, params, extra: { ...extra, counts, derived: std.has('H') && !units.H ? ['H', 'D'] : [] } },
  });
}
