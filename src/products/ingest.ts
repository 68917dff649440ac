/**
 * `geonode ingest`: walk input directories, detect each file (name + content), and write raw and
 * standardized tiles (tiles.ts) per station and period.
 *
 *   IAGA-2002 `*.sec|*.min|*.hor|*.day`  → source geomag (streamed, one period in memory)
 *   AEF `kak*daef.min|hor`, IAGA files whose comments talk about the atmospheric electric
 *   field, or whose X/Y/F are entirely 88888 → source aef, column `pg` (V/m); X/Y/F dropped
 *   `isee_vlf_*.cdf`                      → source vlf (std only, see writeVlfGroup)
 *
 * Incremental: each input's sha256 (and the parameter hash) is kept in the SQLite table
 * `geonode_product_inputs`; an unchanged input is skipped. A bad file is reported as
 * {file, reason} and skipped; the run goes on. Later inputs replace tiles of the same key.
 *
 * IAGA-2002 files: the main thread reads each file once (sha256 of the same bytes unless an
 * earlier row asks for the skip decision first), parses it and cuts it into tile periods; the
 * periods (independent: no state crosses a UTC day) are standardized, encoded and written by a
 * pool of tile workers (tilePool.ts), at most two per worker in flight.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { iagaStream, readFileChunks, readIaga2002, type IagaHeader } from '../formats/iaga2002';
import { hasAefDummyLayout, parseAefFileName, readAef } from '../formats/aef';
import { loadProductsConfig, paramsHash, type ProductsConfig } from './config';
import { writePeriod, type PeriodSeries, type SeriesContext } from './periodTiles';
import { buildVlfTiles, checkVlfSpectra, scanVlfFile, vlfFailureReason, vlfRecordedTiles, vlfTileRel, type VlfFileScan, type VlfGroupOptions, type VlfGroupResult } from './vlfIngest';
import { cdfVariableNames, isCdfMagic } from '../formats/cdf';
import { mergeExistingPeriod } from './tileMerge';
import { defaultTileWorkers, inProcessRunner, startTilePool, type PeriodRunner } from './tilePool';
import { commitTile, discardTile, isoCadence, readTileMetadata, tilePeriod, type TileSourceFile, type WrittenTile } from './tiles';
import { ensureProductSchema, recordedTiles, releaseVanishedTiles, vanishedInputs, type ProductInputRow } from './inputTable';

export { ensureProductSchema, PRODUCT_INPUTS_DDL, recordedTiles, type ProductInputRow } from './inputTable';

export type InputSource = 'geomag' | 'aef' | 'vlf';

export interface IngestProgress {
  done: number;
  total: number;
  bytes: number;
  totalBytes: number;
  file: string;
}

export interface IngestOptions {
  /** Root of the tile tree. */
  tilesDir: string;
  /** SQLite file (or open handle) holding geonode_product_inputs. */
  db: string | Database.Database;
  config?: ProductsConfig;
  /** Re-process inputs even when unchanged. */
  force?: boolean;
  onProgress?: (p: IngestProgress) => void;
  /**
   * Tile worker threads for IAGA-2002 files (tilePool.ts): default one per CPU when running from
   * compiled JS, 0 (everything in this thread) from .ts sources.
   */
  workers?: number;
  /** Worker entry (compiled tileWorker.js); default: the one beside tilePool.js. */
  workerScript?: string;
  /**
   * Tile workers warm up their JIT as they start (tileWarmup.ts); default: when the first
   * IAGA-2002 file they serve has at least 12 MiB.
   */
  tileWarmUp?: boolean;
  /**
   * Let go of inputs recorded under the given directories whose files are gone (deleted,
   * renamed): their rows leave the tiles (default true, as the indexer prunes vanished files).
   */
  pruneMissing?: boolean;
}

export interface IngestFailure {
  file: string;
  reason: string;
}

export interface IngestSummary {
  /** Input files found, plus the paths that failed before becoming one (missing, unreadable, not ISEE VLF). */
  files: number;
  processed: number;
  /** Unchanged since the last run. */
  skipped: number;
  failed: IngestFailure[];
  /** VLF inputs with a higher version of the same station-hour in this run (in no tile). */
  superseded: number;
  /** Tiles removed because no input has rows in them any more. */
  removedTiles: number;
  /** Inputs recorded under the ingested directories whose files are gone (rows let go). */
  removedInputs: number;
  /** Inputs ingested with reader warnings (also kept in geonode_product_inputs.reason). */
  warnings: IngestFailure[];
  tilesWritten: number;
  rawTiles: number;
  stdTiles: number;
  /** Rows written over all tiles. */
  rows: number;
  /** Input rows (IAGA data records, AEF records, VLF frames) read. */
  inputRows: number;
  inputBytes: number;
  tileBytes: number;
  /** Total tile encode+write time, ms (summed over threads). */
  tileWriteMs: number;
  /** Tile worker threads used for IAGA-2002 files (0: all in the calling thread). */
  workers: number;
  seconds: number;
}

/** sha256 of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const h = crypto.createHash('sha256');
  for await (const c of fs.createReadStream(file, { highWaterMark: 4 << 20 })) h.update(c as Buffer);
  return h.digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Detection

/**
 * A failure reason that is the machine's, not the file's (Node's system error codes, wherever
 * the reason quotes them: "ENOSPC: …" from a geomag tile write, "tile 2020-09-12: ENOSPC: …"
 * from a VLF one): the input is tried again on the next run instead of kept as bad.
 */
const ENVIRONMENT_ERROR = /(?:^|: )E[A-Z]{2,}: /;

const IAGA_EXT = /\.(sec|min|hor|day)$/i;
/** ISEE VLF file name: station, YYYY, MM, DD, HH, version. */
const VLF_NAME = /^isee_vlf_([a-z0-9]{3})_(\d{4})(\d{2})(\d{2})(\d{2})_v(\d+)\.cdf$/i;

/**
 * Source of a file from its name and first bytes; null when it is not a product input.
 * AEF (data-formats §2.3): the documented name, IAGA content whose comments mention the
 * atmospheric electric field / potential gradient, or whose X/Y/F columns are entirely 88888
 * with a Z column (aefByDummies). VLF: see detectCdf.
 */
export function detectInput(file: string, head: Uint8Array): InputSource | null {
  const base = path.basename(file);
  if (VLF_NAME.test(base)) return 'vlf'; // named as ISEE VLF: the loader says what is wrong, if anything
  if (/\.cdf$/i.test(base)) return detectCdf(file, head);
  if (!IAGA_EXT.test(base)) return null;
  if (parseAefFileName(base)) return 'aef';
  const text = Buffer.from(head).toString('latin1');
  if (!/^\s*Format\s+IAGA-2002/im.test(text)) return 'geomag'; // let the reader report what is wrong
  if (/atmospheric electric|potential gradient/i.test(text)) return 'aef';
  return aefByDummies(file, head) ? 'aef' : 'geomag';
}

/** Content-only AEF detection reads at most this much of a file (AEF files are ≤ 1 MB). */
const AEF_CONTENT_MAX_BYTES = 64 << 20;

/**
 * The third AEF rule of data-formats §2.3: X, Y and F entirely 88888. The head's complete rows
 * decide whether to look; the whole file (small: a day of minutes, a month of hours) confirms,
 * so a magnetometer file whose first rows happen to be 8-filled stays geomagnetic and keeps
 * X/Y/F. Any read or parse failure answers no: the geomagnetic reader then reports it.
 */
function aefByDummies(file: string, head: Uint8Array): boolean {
  const lastNl = head.lastIndexOf(0x0a);
  if (lastNl < 0) return false;
  try {
    if (!hasAefDummyLayout(readIaga2002(head.subarray(0, lastNl + 1)))) return false;
    if (fs.statSync(file).size > AEF_CONTENT_MAX_BYTES) return false;
    return hasAefDummyLayout(readIaga2002(fs.readFileSync(file)));
  } catch {
    return false;
  }
}

/**
 * Another `*.cdf`: an ISEE VLF input when it is a CDF (v2 or v3 magic, plain or compressed) with
 * the ISEE VLF variable `epoch_vlf`, read from its descriptors (cdfVariableNames: a few hundred
 * bytes per variable, not the file).
 *  - A valid CDF without it is skipped (null), like any other file that is not a product input:
 *    ingest is pointed at data-centre trees that hold CDFs of other instruments, and reporting
 *    each of them as a failure would bury the real failures (and fail the run). Named explicitly
 *    on the command line it is reported instead ("not an ISEE VLF CDF (variables: …)", see the
 *    VLF part of ingest()), since the operator then clearly meant it.
 *  - A `.cdf` that is no CDF at all (bad magic, too short: typically an error page saved by a
 *    failed download) or whose descriptors cannot be read is an input, so that the loader
 *    reports it as failed ("not a CDF file (…)") wherever it was found: the file is broken.
 */
function detectCdf(file: string, head: Uint8Array): InputSource | null {
  if (!isCdfMagic(head)) return 'vlf';
  try {
    return cdfVariableNames(file).includes('epoch_vlf') ? 'vlf' : null;
  } catch {
    return 'vlf';
  }
}

/**
 * Inputs named explicitly that are readable CDFs without the ISEE VLF variables (detectCdf
 * skipped them): reported, so that naming one does not end in "0 inputs" and a zero exit code.
 */
function explicitNonVlfCdfs(inputs: string[], inputPaths: Set<string>): IngestFailure[] {
  const out: IngestFailure[] = [];
  for (const p of inputs) {
    const f = path.resolve(p);
    if (!/\.cdf$/i.test(f) || inputPaths.has(f)) continue;
    let names: string[];
    try {
      if (!fs.statSync(f).isFile()) continue;
      names = cdfVariableNames(f);
    } catch {
      continue; // not readable / not a CDF: detectCdf made it an input, the walk reported it
    }
    const list = names.length > 20 ? `${names.slice(0, 20).join(', ')}, … (${names.length} in all)` : names.join(', ');
    out.push({ file: f, reason: `not an ISEE VLF CDF (variables: ${list || 'none'})` });
  }
  return out;
}

function walk(p: string, out: string[], failed: { file: string; reason: string }[], seen = new Set<string>()): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch (e) {
    failed.push({ file: p, reason: errorText(e) }); // e.g. a broken symlink: that entry only
    return;
  }
  if (st.isFile()) {
    out.push(p);
    return;
  }
  if (!st.isDirectory()) return;
  // A directory reached twice (a symlink loop, or two links to one tree) is walked once.
  let real: string;
  let entries: string[];
  try {
    real = fs.realpathSync(p);
    if (seen.has(real)) return;
    seen.add(real);
    entries = fs.readdirSync(p).sort();
  } catch (e) {
    failed.push({ file: p, reason: errorText(e) });
    return;
  }
  for (const e of entries) {
    if (e.startsWith('.')) continue;
    walk(path.join(p, e), out, failed, seen);
  }
}

// ---------------------------------------------------------------------------------------------
// Series → tiles (geomag and AEF; the tiles of a period: periodTiles.ts)

const GEOMAG_UNITS: Record<string, string> = { D: 'arcmin', I: 'arcmin' };

/**
 * First i ≥ 1 with t[i] not after t[i − 1], or −1. Scans like this one are leaf functions: V8
 * optimizes a hot loop on the stack of the function it is in, and the code after it (not run yet,
 * so without type feedback) then sent that whole function back to the interpreter.
 */
function notIncreasingAt(t: Float64Array): number {
  for (let i = 1; i < t.length; i++) if (!(t[i] > t[i - 1])) return i;
  return -1;
}

/** First j ≥ i (at most n) with times[j] outside [start, end). */
function insideUntil(times: Float64Array, i: number, n: number, start: number, end: number): number {
  let j = i;
  while (j < n && times[j] >= start && times[j] < end) j++;
  return j;
}

/**
 * Cuts a row stream into tile periods. A finished period is copied into fresh arrays on one
 * SharedArrayBuffer of its own (shared with a tile worker, not transferred: see tilePool.ts) and
 * waits in `take()`.
 */
class PeriodAccumulator {
  private parts: PeriodSeries[] = [];
  private periodEnd = -Infinity;
  private periodStart = Infinity;
  private ready: PeriodSeries[] = [];
  constructor(private readonly cadenceMs: number) {}

  add(s: PeriodSeries): void {
    let i = 0;
    const n = s.times.length;
    while (i < n) {
      const t = s.times[i];
      if (t < this.periodStart || t >= this.periodEnd) {
        this.flush();
        const p = tilePeriod(this.cadenceMs, t);
        this.periodStart = p.startMs;
        this.periodEnd = p.endMs;
      }
      const j = insideUntil(s.times, i, n, this.periodStart, this.periodEnd);
      this.parts.push({ times: s.times.subarray(i, j), columns: s.columns.map((c) => ({ ...c, values: c.values.subarray(i, j), sentinel: c.sentinel.subarray(i, j) })) });
      i = j;
    }
  }

  flush(): void {
    if (this.parts.length === 0) return;
    const n = this.parts.reduce((a, p) => a + p.times.length, 0);
    const k = this.parts[0].columns.length;
    // One shared buffer per period: times, then the values, then the sentinel codes.
    const shared = new SharedArrayBuffer(8 * n * (1 + k) + k * n);
    const times = new Float64Array(shared, 0, n);
    const cols = this.parts[0].columns.map((c, i) => ({ name: c.name, units: c.units, values: new Float64Array(shared, 8 * n * (1 + i), n), sentinel: new Uint8Array(shared, 8 * n * (1 + k) + i * n, n) }));
    let o = 0;
    for (const p of this.parts) {
      times.set(p.times, o);
      p.columns.forEach((c, k) => {
        cols[k].values.set(c.values, o);
        cols[k].sentinel.set(c.sentinel, o);
      });
      o += p.times.length;
    }
    this.parts = [];
    this.ready.push({ times, columns: cols });
  }

  /** Finished periods since the last call, in time order. */
  take(): PeriodSeries[] {
    const r = this.ready;
    this.ready = [];
    return r;
  }
}

function stationCode(header: IagaHeader, file: string): string {
  const code = (header.iagaCode || path.basename(file).slice(0, 3)).toUpperCase().replace(/[^A-Z0-9_-]/g, '');
  if (!code) throw new Error('no IAGA code in header or file name');
  return code;
}

const READ_CHUNK = 2 << 20;

/**
 * Tile workers warm up (tileWarmup.ts, ~0.1 s of CPU each) when the first IAGA-2002 file they
 * serve has at least this many bytes (two 1 s days): smaller files would wait for it.
 */
const WARM_UP_BYTES = 12 << 20;

/** The file in 2 MiB chunks (iaga2002.ts readFileChunks), each fed to `hash` as it is handed out. */
async function* hashedChunks(file: string, hash: crypto.Hash, read: { bytes: number }): AsyncGenerator<Uint8Array> {
  for await (const buf of readFileChunks(file, READ_CHUNK)) {
    hash.update(buf);
    read.bytes += buf.length;
    yield buf;
  }
}

/** Hash the bytes of a file from `from` to its end (after a parse stopped early). */
async function hashRest(file: string, hash: crypto.Hash, from: number): Promise<void> {
  for await (const c of fs.createReadStream(file, { start: from, highWaterMark: 4 << 20 })) hash.update(c as Buffer);
}

/**
 * Geomag: stream the file and hand each finished tile period to `runner` (in this thread or a tile
 * worker), with at most 2 periods per worker queued: memory stays bounded whatever the file length.
 * `src.sha256 === ''` means "not hashed yet": the file is hashed from the same bytes as it is
 * parsed, its tiles are written pending (a random placeholder where the hash goes, tiles.ts
 * commitTile) and committed once the whole file is hashed; src.sha256 then holds the hash, also
 * when the file fails. As before, tiles of periods finished before an error are kept.
 */
export async function ingestIaga(file: string, src: TileSourceFile, root: string, cfg: ProductsConfig, runner: PeriodRunner = inProcessRunner()): Promise<InputResult> {
  const hash = src.sha256 === '' ? crypto.createHash('sha256') : null;
  const read = { bytes: 0 };
  const placeholder = hash ? crypto.randomBytes(32).toString('hex') : undefined;
  const jobs: Promise<{ tiles?: WrittenTile[]; error?: unknown }>[] = [];
  const limit = Math.max(1, 2 * runner.workers);
  let awaited = 0;
  let jobError: { error: unknown } | null = null;
  let acc: PeriodAccumulator | null = null;
  let ctx: SeriesContext | null = null;
  let rows = 0;
  let keep: number[] = [];
  let last = -Infinity;
  let failure: unknown = null;
  const dispatch = async () => {
    for (const series of acc!.take()) {
      while (jobs.length - awaited >= limit) await jobs[awaited++];
      if (jobError) throw jobError.error; // a period failed: stop reading, as a direct call would
      // Another input already wrote this period's tile: merge its rows in (tileMerge.ts).
      const m = await mergeExistingPeriod(root, ctx!, series);
      jobs.push(
        runner.run({ root, ctx: m ? { ...ctx!, prior: m.prior } : ctx!, series: m ? m.series : series, cfg, hashPlaceholder: placeholder }).then(
          (tiles) => ({ tiles }),
          (error: unknown) => {
            jobError ??= { error };
            return { error };
          },
        ),
      );
    }
  };
  try {
    for await (const b of iagaStream(hash ? hashedChunks(file, hash, read) : file, { fileName: file, batchRows: 65536 })) {
      if (!acc) {
        const h = b.header;
        if (b.cadence.ms === null || !(b.cadence.ms > 0)) throw new Error('cannot determine the cadence');
        const seen = new Set<string>();
        keep = [];
        h.elements.forEach((e, i) => {
          // NUL columns are placeholders (data-formats §1.2); duplicates would clash.
          if (e === 'NUL' || !/^[A-Za-z][A-Za-z0-9]*$/.test(e) || seen.has(e)) return;
          seen.add(e);
          keep.push(i);
        });
        if (keep.length === 0) throw new Error(`no usable element columns (${h.elements.join(',')})`);
        ctx = { source: 'geomag', station: stationCode(h, file), cadenceMs: b.cadence.ms, stampOffsetMs: b.cadence.stampOffsetMs ?? 0, header: h, file: src };
        acc = new PeriodAccumulator(b.cadence.ms);
      }
      const t = b.times;
      rows += t.length;
      if (t.length === 0) continue;
      if (!(t[0] > last)) throw new Error(`time stamps not increasing at data row ${b.firstRow + 1}`);
      const bad = notIncreasingAt(t);
      if (bad >= 0) throw new Error(`time stamps not increasing at data row ${b.firstRow + bad + 1}`);
      last = t[t.length - 1];
      acc.add({ times: t, columns: keep.map((i) => ({ name: b.columns[i].element, units: GEOMAG_UNITS[b.columns[i].element] ?? 'nT', values: b.columns[i].values, sentinel: b.columns[i].sentinel })) });
      await dispatch();
    }
    if (!acc) throw new Error('no IAGA-2002 header');
    if (rows === 0) throw new Error('no data records');
    acc.flush();
    await dispatch();
  } catch (e) {
    failure = e;
  }
  const tiles: WrittenTile[] = [];
  let periodError: { error: unknown } | null = null;
  for (const r of await Promise.all(jobs)) {
    if (r.tiles) tiles.push(...r.tiles);
    else periodError ??= { error: r.error };
  }
  // The first failing period comes before any parse error (it would have stopped a direct call).
  if (periodError) failure = periodError.error;
  if (hash) {
    try {
      if (failure) await hashRest(file, hash, read.bytes);
      src.sha256 = hash.digest('hex');
    } catch (e) {
      for (const t of tiles) discardTile(t);
      throw failure ?? e;
    }
    for (const t of tiles) commitTile(t, src.sha256);
  }
  if (failure) {
    const e = failure instanceof Error ? failure : new Error(String(failure));
    throw Object.assign(e, { keptTiles: tiles });
  }
  return { tiles, rows, warnings: capWarnings(ctx?.header.warnings ?? []) };
}

/** What one IAGA-2002 or AEF input gave: its tiles, rows read and the reader's warnings. */
export interface InputResult {
  tiles: WrittenTile[];
  rows: number;
  /** Header and content warnings (at most MAX_WARNINGS, then a count of the rest). */
  warnings: string[];
}

const MAX_WARNINGS = 10;

/** A bad file can warn on every line (a wrong DOY column): keep the first few and a count. */
function capWarnings(w: string[]): string[] {
  return w.length <= MAX_WARNINGS ? [...w] : [...w.slice(0, MAX_WARNINGS), `… and ${w.length - MAX_WARNINGS} more warnings`];
}

/** AEF: whole file (a day of minutes or a month of hours), PG only. */
export async function ingestAef(file: string, buf: Buffer, src: TileSourceFile, root: string, cfg: ProductsConfig): Promise<InputResult> {
  const f = readAef(buf, path.basename(file));
  if (f.times.length === 0) throw new Error('no data records');
  if (f.cadence.ms === null || !(f.cadence.ms > 0)) throw new Error('cannot determine the cadence');
  for (let i = 1; i < f.times.length; i++) if (!(f.times[i] > f.times[i - 1])) throw new Error(`time stamps not increasing at data row ${i + 1}`);
  const station = (f.station || 'KAK').toUpperCase();
  const ctx: SeriesContext = { source: 'aef', station, cadenceMs: f.cadence.ms, stampOffsetMs: f.cadence.stampOffsetMs ?? 0, header: f.header, file: src };
  const acc = new PeriodAccumulator(f.cadence.ms);
  acc.add({ times: f.times, columns: [{ name: 'pg', units: 'V/m', values: f.pg, sentinel: f.sentinel }] });
  acc.flush();
  const tiles: WrittenTile[] = [];
  for (const s of acc.take()) {
    // A month of hours can come from a monthly and a multi-month file: merge (tileMerge.ts).
    const m = await mergeExistingPeriod(root, ctx, s);
    tiles.push(...writePeriod(root, m ? { ...ctx, prior: m.prior } : ctx, m ? m.series : s, cfg));
  }
  // e.g. X/Y/F holding values in an AEF-named file: only PG is kept, and the run says so.
  return { tiles, rows: f.times.length, warnings: capWarnings(f.warnings) };
}

// ---------------------------------------------------------------------------------------------
// VLF

/**
 * VLF std tiles, one per station and tile period (a day; a month when vlfReduceMs ≥ 1 h), in LONG
 * format: one row per (window, frequency bin) with `ts` (window start; windows of vlfReduceMs,
 * 1 minute by default), `bin` (INT32 index into the `bins` metadata), `freq_hz`, `ch1`/`ch2`
 * (median over ALL the window's frames of the V²/Hz power, null when every frame is fill),
 * `ch1_q`/`ch2_q`, and `frames` (frames in the window). Only windows with frames have rows.
 * Frames whose epoch_vlf is a fill/invalid value are dropped (`geonode.invalid_epoch_frames`).
 * Rows are sorted by (ts, bin), so a time window is a contiguous row range and reshapes directly
 * into the time × freq spectrogram matrix; `geonode.bins` carries HAPI-style bin centres.
 * Choice: a wide layout would need 2×1024 columns; raw 0.41 s frames (≈ 9 k × 1024 × 2 per hour)
 * are not duplicated into Parquet: the raw layer of VLF is the source CDF itself, recorded with
 * its sha256 in geonode_product_inputs and in the tile's `source_files`.
 */
export function writeVlfGroup(root: string, files: VlfFileScan[], cfg: ProductsConfig, opts: VlfGroupOptions): Promise<VlfGroupResult> {
  // Files of one station, one at a time and decoded in chunks; windows reduced as soon as
  // complete; tiles that other inputs share are merged (rule in vlfIngest.ts).
  return buildVlfTiles(root, files, cfg, opts);
}

// ---------------------------------------------------------------------------------------------
// Driver

interface Candidate {
  path: string;
  source: InputSource;
  bytes: number;
  sha256?: string;
  /** Hashed while it is processed (no earlier row to compare with, or forced). */
  hashInline?: boolean;
  /** VLF group key `station/day`. */
  group?: string;
}

function relTiles(root: string, tiles: WrittenTile[]): string {
  return JSON.stringify(tiles.map((t) => path.relative(root, t.path)));
}

/**
 * After an input changed and was ingested again: the tiles its previous version wrote that this
 * one did not (the file got shorter) are removed when that input was their only source; a tile
 * other inputs share keeps its rows (they cannot be told apart by input).
 */
async function dropStaleTiles(root: string, prev: ProductInputRow | undefined, name: string, now: WrittenTile[]): Promise<number> {
  if (!prev) return 0;
  let removed = 0;
  const keep = new Set(now.map((t) => path.relative(root, t.path)));
  for (const rel of recordedTiles(prev)) {
    if (keep.has(rel)) continue;
    const file = path.join(root, rel);
    if (!fs.existsSync(file)) continue;
    try {
      const sources = JSON.parse((await readTileMetadata(file)).kv['geonode.source_files'] ?? '[]') as TileSourceFile[];
      if (sources.length > 0 && sources.every((x) => x.name === name)) {
        fs.rmSync(file);
        removed++;
      }
    } catch {
      /* an unreadable tile is left for the operator, not deleted blindly */
    }
  }
  return removed;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Ingest input files/directories into tiles. */
export async function ingest(given: string[], opts: IngestOptions): Promise<IngestSummary> {
  const t0 = performance.now();
  const inputs = [...new Set(given.map((p) => path.resolve(p)))]; // a path given twice is one input
  const cfg = opts.config ?? loadProductsConfig();
  const db = typeof opts.db === 'string' ? new Database(opts.db) : opts.db;
  const ownDb = typeof opts.db === 'string';
  const root = path.resolve(opts.tilesDir);
  const summary: IngestSummary = { files: 0, processed: 0, skipped: 0, failed: [], warnings: [], superseded: 0, removedTiles: 0, removedInputs: 0, tilesWritten: 0, rawTiles: 0, stdTiles: 0, rows: 0, inputRows: 0, inputBytes: 0, tileBytes: 0, tileWriteMs: 0, workers: 0, seconds: 0 };
  try {
    ensureProductSchema(db);
    const getRow = db.prepare('SELECT * FROM geonode_product_inputs WHERE path = ?');
    const putRow = db.prepare(
      'INSERT OR REPLACE INTO geonode_product_inputs (path, source, sha256, bytes, params, status, reason, tiles, ingested) VALUES (@path, @source, @sha256, @bytes, @params, @status, @reason, @tiles, @ingested)',
    );
    const files: string[] = [];
    const seen = new Set<string>();
    for (const p of inputs) walk(p, files, summary.failed, seen);
    // A file reached twice (named, and inside a directory named) is one input.
    const unique = [...new Set(files)];
    files.length = 0;
    files.push(...unique);
    const cands: Candidate[] = [];
    for (const f of files) {
      const head = Buffer.alloc(4096);
      let n: number;
      let size: number;
      try {
        const fd = fs.openSync(f, 'r');
        try {
          n = fs.readSync(fd, head, 0, head.length, 0);
          size = fs.fstatSync(fd).size;
        } finally {
          fs.closeSync(fd);
        }
      } catch (e) {
        summary.failed.push({ file: f, reason: errorText(e) }); // unreadable: reported, the rest goes on
        continue;
      }
      const source = detectInput(f, head.subarray(0, n));
      if (!source) continue;
      const m = VLF_NAME.exec(path.basename(f));
      cands.push({ path: f, source, bytes: size, group: source === 'vlf' ? (m ? `${m[1].toLowerCase()}/${m[2]}-${m[3]}-${m[4]}` : f) : undefined });
    }
    summary.files = cands.length;

    // Inputs gone from under the directories given: their geomag/AEF tiles are deleted (and
    // rebuilt by the inputs that shared them, ingested again below), their VLF tiles rebuilt in
    // the VLF part. Directories that are missing themselves were reported by the walk.
    const dirs = inputs.map((p) => path.resolve(p)).filter((p) => {
      try {
        return fs.statSync(p).isDirectory();
      } catch {
        return false;
      }
    });
    const vanished = opts.pruneMissing === false ? [] : vanishedInputs(db, dirs);
    const released = await releaseVanishedTiles(root, db, vanished.filter((r) => r.source !== 'vlf'), new Set(cands.map((c) => c.path)));
    summary.removedTiles += released.removed;
    summary.warnings.push(...released.warnings);
    const delRow = db.prepare('DELETE FROM geonode_product_inputs WHERE path = ?');
    for (const r of vanished) {
      if (r.source === 'vlf' || released.held.has(r.path)) continue;
      delRow.run(r.path);
      summary.removedInputs++;
    }
    const forced = (c: Candidate) => opts.force === true || released.reingest.has(c.path);
    const totalBytes = cands.reduce((a, c) => a + c.bytes, 0);
    let done = 0;
    let doneBytes = 0;
    const progress = (file: string) => opts.onProgress?.({ done, total: cands.length, bytes: doneBytes, totalBytes, file });
    const now = () => new Date().toISOString();
    const record = (c: Candidate, status: 'ok' | 'error', reason: string | null, tiles: string) =>
      putRow.run({ path: c.path, source: c.source, sha256: c.sha256 ?? '', bytes: c.bytes, params: paramsHash(cfg, c.source), status, reason, tiles, ingested: now() });
    const unchanged = (c: Candidate): ProductInputRow | null => {
      const row = getRow.get(c.path) as ProductInputRow | undefined;
      if (forced(c) || !row || row.sha256 !== c.sha256 || row.params !== paramsHash(cfg, c.source)) return null;
      // Its tiles must still be there (another tile root, or tiles deleted: ingest again), and a
      // failure of the environment (EACCES, ENOSPC, ENOTDIR…) is not a verdict on the file.
      if (row.status === 'ok' && !recordedTiles(row).every((t) => fs.existsSync(path.join(root, t)))) return null;
      if (row.status !== 'ok' && ENVIRONMENT_ERROR.test(row.reason ?? '')) return null;
      return row;
    };
    const account = (tiles: WrittenTile[], rows: number) => {
      summary.tilesWritten += tiles.length;
      for (const t of tiles) {
        if (t.key.layer === 'raw') summary.rawTiles++;
        else summary.stdTiles++;
        summary.rows += t.rows;
        summary.tileBytes += t.bytes;
        summary.tileWriteMs += t.ms;
      }
      summary.inputRows += rows;
    };

    // Hash first what may be skipped: VLF groups (the decision needs all members), small AEF
    // files, and geomag files with a row from an earlier run. Other geomag files cannot be
    // unchanged, so they are hashed from the same bytes as they are parsed (one read, not two).
    for (const c of cands) {
      if (c.source === 'geomag' && (forced(c) || !getRow.get(c.path))) {
        c.hashInline = true;
        continue;
      }
      try {
        c.sha256 = await sha256File(c.path);
      } catch (e) {
        summary.failed.push({ file: c.path, reason: errorText(e) });
      }
    }
    const vlfGroups = new Map<string, Candidate[]>();
    for (const c of cands) if (c.source === 'vlf' && c.sha256) vlfGroups.set(c.group!, [...(vlfGroups.get(c.group!) ?? []), c]);

    // Station-periods of IAGA-2002 files go to tile workers, started with the first such file;
    // when that file is large they warm up while its first period is parsed (tileWarmup.ts).
    const workerCount = opts.workers ?? defaultTileWorkers(opts.workerScript);
    let runner: PeriodRunner | null = null;
    const periodRunner = (firstBytes: number): PeriodRunner => {
      runner ??= workerCount > 0 ? startTilePool(workerCount, opts.workerScript, { warmUp: opts.tileWarmUp ?? firstBytes >= WARM_UP_BYTES }) : inProcessRunner();
      summary.workers = runner.workers;
      return runner;
    };
    try {
      for (const c of cands) {
        if ((!c.sha256 && !c.hashInline) || c.source === 'vlf') continue;
        progress(c.path);
        const prev = c.hashInline ? null : unchanged(c);
        if (prev) {
          if (prev.status === 'ok') summary.skipped++;
          else summary.failed.push({ file: c.path, reason: prev.reason ?? 'failed before' });
        } else {
          const src: TileSourceFile = { name: path.basename(c.path), sha256: c.sha256 ?? '', bytes: c.bytes };
          try {
            const r = c.source === 'geomag' ? await ingestIaga(c.path, src, root, cfg, periodRunner(c.bytes)) : await ingestAef(c.path, fs.readFileSync(c.path), src, root, cfg);
            c.sha256 = src.sha256;
            account(r.tiles, r.rows);
            summary.inputBytes += c.bytes;
            summary.processed++;
            summary.removedTiles += await dropStaleTiles(root, getRow.get(c.path) as ProductInputRow | undefined, src.name, r.tiles);
            for (const w of r.warnings) summary.warnings.push({ file: c.path, reason: w });
            record(c, 'ok', r.warnings.length > 0 ? `warnings: ${r.warnings.join('; ')}` : null, relTiles(root, r.tiles));
          } catch (e) {
            c.sha256 = src.sha256;
            summary.failed.push({ file: c.path, reason: errorText(e) });
            // Periods finished before the error keep their tiles: recorded with the failure.
            const kept = (e as { keptTiles?: WrittenTile[] }).keptTiles ?? [];
            account(kept, 0);
            record(c, 'error', errorText(e), relTiles(root, kept));
          }
        }
        done++;
        doneBytes += c.bytes;
        progress(c.path);
      }
    } finally {
      await (runner as PeriodRunner | null)?.close();
    }

    // VLF (vlfIngest.ts). The unit of work is the tile, not the day of a file's name: the tiles a
    // new or changed input has frames in (and those its previous version had) are rebuilt from
    // every input of this run with frames in them, unchanged ones included (found through the
    // tiles recorded for them), so a file spilling past midnight or the days of a month tile
    // (vlfReduceMs ≥ 1 h) end up in the same tile instead of overwriting each other. Unchanged
    // inputs without frames in such a tile are skipped.
    {
      summary.failed.push(...explicitNonVlfCdfs(inputs, new Set(cands.map((c) => c.path))));
      const reduce = cfg.vlfReduceMs;
      const cadence = isoCadence(reduce);
      const stepped = new Set<Candidate>();
      const step = (c: Candidate) => {
        if (stepped.has(c)) return;
        stepped.add(c);
        done++;
        doneBytes += c.bytes;
        progress(c.path);
      };
      const known = new Set<string>(); // base names of the inputs whose current content is known
      const fail = (c: Candidate, reason: string) => {
        known.delete(path.basename(c.path));
        summary.failed.push({ file: c.path, reason });
        record(c, 'error', reason, '[]');
      };
      const srcOf = (c: Candidate): TileSourceFile => ({ name: path.basename(c.path), sha256: c.sha256!, bytes: c.bytes });
      const dirty = new Map<string, Set<string>>(); // station → tile periods to rebuild
      const markDirty = (station: string, period: string) => {
        let s = dirty.get(station);
        if (!s) dirty.set(station, (s = new Set()));
        s.add(period);
      };
      const scans = new Map<Candidate, VlfFileScan>();
      const writtenVlf = new Set<string>();
      const kept: { c: Candidate; keys: { station: string; period: string }[] }[] = [];
      // Versions of one station-hour (`_v01`, `_v02`): the highest that reads wins; the others
      // are superseded (recorded, in no tile), as a more final geomagnetic file or a higher
      // miniSEED publication version wins elsewhere. Highest version first, so a failing new
      // version leaves the previous one in use.
      const winner = new Map<string, string>(); // station-hour → winning base name
      const versionKey = (c: Candidate) => {
        const m = VLF_NAME.exec(path.basename(c.path));
        return m ? { key: `${m[1].toLowerCase()}/${m[2]}${m[3]}${m[4]}${m[5]}`, version: Number(m[6]) } : null;
      };
      // A vanished input's tiles are rebuilt from the inputs that remain (vlfIngest.ts merge rule).
      for (const r of vanished) {
        if (r.source !== 'vlf') continue;
        known.add(path.basename(r.path));
        for (const k of vlfRecordedTiles(recordedTiles(r), cadence)) markDirty(k.station, k.period);
        delRow.run(r.path);
        summary.removedInputs++;
      }
      const ordered = [...vlfGroups.values()].flat().sort((a, b) => (versionKey(b)?.version ?? 0) - (versionKey(a)?.version ?? 0));
      const versions = new Map<string, number>();
      for (const c of ordered) {
        const k = versionKey(c)?.key;
        if (k) versions.set(k, (versions.get(k) ?? 0) + 1);
      }
      for (const c of ordered) {
        progress(c.path);
        const vk = versionKey(c);
        const newer = vk ? winner.get(vk.key) : undefined;
        if (newer !== undefined && newer !== path.basename(c.path)) {
          known.add(path.basename(c.path)); // its rows in a tile are stale: rebuilt without them
          const before = getRow.get(c.path) as ProductInputRow | undefined;
          if (before) for (const k of vlfRecordedTiles(recordedTiles(before), cadence)) markDirty(k.station, k.period);
          record(c, 'ok', `superseded by ${newer}`, '[]');
          summary.superseded++;
          step(c);
          continue;
        }
        // Superseded last time but the winner now: read again (its tiles were rebuilt without it).
        const last = unchanged(c);
        const prev = last?.reason?.startsWith('superseded by ') ? null : last;
        if (prev && prev.status !== 'ok') {
          summary.failed.push({ file: c.path, reason: prev.reason ?? 'failed before' });
          step(c);
          continue;
        }
        known.add(path.basename(c.path));
        if (prev) {
          if (vk) winner.set(vk.key, path.basename(c.path));
          kept.push({ c, keys: vlfRecordedTiles(recordedTiles(prev), cadence) });
          continue;
        }
        const before = getRow.get(c.path) as ProductInputRow | undefined;
        if (before) for (const k of vlfRecordedTiles(recordedTiles(before), cadence)) markDirty(k.station, k.period);
        try {
          const s = scanVlfFile(c.path, srcOf(c), reduce);
          if (vk && versions.get(vk.key)! > 1) checkVlfSpectra(c.path);
          scans.set(c, s);
          if (vk) winner.set(vk.key, path.basename(c.path));
          for (const p of s.periods) markDirty(s.station, p);
        } catch (e) {
          fail(c, vlfFailureReason(e));
          step(c);
        }
      }
      for (const { c, keys } of kept) {
        if (!keys.some((k) => dirty.get(k.station)?.has(k.period))) {
          summary.skipped++;
          step(c);
          continue;
        }
        try {
          scans.set(c, scanVlfFile(c.path, srcOf(c), reduce));
        } catch (e) {
          fail(c, vlfFailureReason(e));
          step(c);
        }
      }
      const byStation = new Map<string, Candidate[]>();
      for (const [c, s] of scans) {
        const l = byStation.get(s.station);
        if (l) l.push(c);
        else byStation.set(s.station, [c]);
      }
      for (const [station, group] of byStation) {
        const files = group.map((c) => scans.get(c)!);
        const cand = new Map(group.map((c) => [c.path, c]));
        let r: VlfGroupResult;
        try {
          r = await writeVlfGroup(root, files, cfg, { periods: dirty.get(station) ?? new Set(), known, onFile: (f) => step(cand.get(f.path)!) });
        } catch (e) {
          for (const c of group) {
            fail(c, vlfFailureReason(e));
            step(c);
          }
          continue;
        }
        account(r.tiles, r.frames);
        for (const t of r.tiles) writtenVlf.add(t.path);
        for (const w of r.warnings) summary.warnings.push({ file: `VLF ${station}`, reason: w });
        for (const f of files) {
          const c = cand.get(f.path)!;
          const reason = r.failed.get(f.path);
          if (reason !== undefined) fail(c, reason);
          else {
            summary.inputBytes += c.bytes;
            summary.processed++;
            record(c, 'ok', null, JSON.stringify(f.periods.map((p) => vlfTileRel(root, station, cadence, p))));
          }
        }
      }
      // A tile to rebuild that no input has frames in any more (a changed file moved its frames
      // to another day, a version superseded) is removed when every input it lists is known to
      // this run: none of them has rows there now. A tile that also lists inputs this run does
      // not know keeps its rows (they cannot be told apart by input), as geomag tiles do.
      for (const [station, periods] of dirty) {
        for (const period of periods) {
          const rel = vlfTileRel(root, station, cadence, period);
          const file = path.join(root, rel);
          if (writtenVlf.has(file) || !fs.existsSync(file)) continue;
          try {
            const listed = JSON.parse((await readTileMetadata(file)).kv['geonode.source_files'] ?? '[]') as TileSourceFile[];
            if (Array.isArray(listed) && listed.every((x) => known.has(x.name))) {
              fs.rmSync(file);
              summary.removedTiles++;
            }
          } catch {
            /* an unreadable tile is left for the operator, not deleted blindly */
          }
        }
      }
    }
    // Paths that failed before becoming inputs (missing, unreadable, a CDF that is not ISEE VLF)
    // count as inputs too: processed + unchanged + superseded + failed add up to it.
    const candidates = new Set(cands.map((c) => c.path));
    summary.files = cands.length + new Set(summary.failed.filter((f) => !candidates.has(f.file)).map((f) => f.file)).size;
  } finally {
    if (ownDb) db.close();
  }
  summary.seconds = (performance.now() - t0) / 1000;
  return summary;
}
