/**
 * VLF std tiles (see writeVlfGroup in ingest.ts for the layout): the per-window median spectra of
 * ISEE VLF CDF files, built with bounded memory and merged into tiles that other inputs share.
 *
 * Work unit. A frame belongs to the reduce window floor(t / reduceMs)·reduceMs, and a window to
 * the tile period of its start (tilePeriod: a day below 1 h, a month from 1 h, a year from 1 day).
 * The files of a station are streamed in the order of their first frame, one at a time; a window
 * is reduced as soon as no later file can add to it (the next file starts at or after its end),
 * and a tile is written as soon as all its windows are. Memory is one file's bytes and a chunk
 * of its frames decoded (CHUNK_FRAMES), the frames of the open windows (one window in the usual
 * case, two where files overlap: all the frames one window needs, since its exact median needs
 * them all) and the medians of the open tiles — not the day's files (24 hourly files of 1024
 * bins were ~2 GB decoded at once).
 *
 * Merge rule. A tile is rebuilt from every input of this run that has frames in it (a file whose
 * last frames spill past midnight, the days of a month tile when vlfReduceMs ≥ 1 h). Rows are
 * keyed by (ts, bin) and a window carries all its bins, so the rows of a window the rebuild
 * computed replace those already in the tile; windows it did not compute keep their rows when the
 * tile also holds rows of inputs this run does not know (files ingested earlier and not given now,
 * or failing now). When every input listed in the existing tile is known to this run, the tile is
 * simply replaced (no stale rows of a changed file survive).
 */
import fs from 'node:fs';
import path from 'node:path';
import { CdfError } from '../formats/cdf';
import { readIseeVlfChunks, scanIseeVlf, type IseeVlfData } from '../formats/iseeVlf';
import type { ProductsConfig } from './config';
import { medianInPlace } from './median';
import { Q_MISSING, Q_SENTINEL } from './quality';
import { isoCadence, parseTilePath, periodRange, readTile, readTileMetadata, tileBinCenters, tilePath, tilePeriod, writeTile, type TileKey, type TileSourceFile, type WrittenTile } from './tiles';

/** One VLF input file as planned by scanVlfFile (no spectra decoded). */
export interface VlfFileScan {
  path: string;
  src: TileSourceFile;
  /** Upper-case station code (tile key). */
  station: string;
  /** First and last valid frame time, Unix ms. */
  startMs: number;
  endMs: number;
  /** Frames with a valid epoch. */
  frames: number;
  /** Frames dropped for a fill/invalid epoch_vlf. */
  droppedFrames: number;
  /** Tile periods its frames fall into (by window start), ascending. */
  periods: string[];
}

/** Why a VLF input failed, for the report. */
export function vlfFailureReason(e: unknown): string {
  if (e instanceof CdfError && e.code === 'BAD_MAGIC') return `not a CDF file (${e.message.replace(/^CDF bad_magic: /, '')})`;
  // By shape, not instanceof: errors of Node's fs may come from another realm (a vm context).
  return typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string' ? (e as Error).message : String(e);
}

/** Frames [start, end) whose windows start inside the tile period (windows may run past its end). */
export function vlfPeriodFrameRange(reduceMs: number, period: { startMs: number; endMs: number }): { startMs: number; endMs: number } {
  return { startMs: Math.ceil(period.startMs / reduceMs) * reduceMs, endMs: Math.ceil(period.endMs / reduceMs) * reduceMs };
}

/** Read and check a VLF file, and summarize where its frames go. Throws on a bad file. */
export function scanVlfFile(file: string, src: TileSourceFile, reduceMs: number): VlfFileScan {
  const s = scanIseeVlf(fs.readFileSync(file), path.basename(file));
  const station = (s.station ?? '').toUpperCase();
  if (!/^[A-Z0-9]+$/.test(station)) throw new Error('no station code');
  if (s.times.length === 0) {
    throw new Error(s.droppedFrames ? `no VLF frames with a valid epoch_vlf (${s.droppedFrames} fill/invalid epochs)` : 'no VLF frames');
  }
  let startMs = Infinity;
  let endMs = -Infinity;
  const periods = new Set<string>();
  let cur: { period: string; startMs: number; endMs: number } | null = null;
  for (const t of s.times) {
    if (t < startMs) startMs = t;
    if (t > endMs) endMs = t;
    const m = Math.floor(t / reduceMs) * reduceMs;
    if (!cur || m < cur.startMs || m >= cur.endMs) {
      cur = tilePeriod(reduceMs, m);
      periods.add(cur.period);
    }
  }
  return { path: file, src, station, startMs, endMs, frames: s.times.length, droppedFrames: s.droppedFrames, periods: [...periods].sort() };
}

/**
 * Decode every spectrum of a file once (throws on damage the epoch scan cannot see, e.g. a bad
 * GZIP block). Used where a file would supersede another version: a damaged new version must
 * not push out the previous one.
 */
export function checkVlfSpectra(file: string): void {
  for (const d of readIseeVlfChunks(fs.readFileSync(file), path.basename(file), { chunkFrames: CHUNK_FRAMES })) void d;
}

// ---------------------------------------------------------------------------------------------
// Per-window medians

/** Records decoded at a time: 1024 frames × 1024 bins × 2 channels = 8 MB. */
const CHUNK_FRAMES = 1024;

/** Frames of one reduce window, both channels, row-major [frame][bin]; grows as needed. */
class FrameWindow {
  n = 0;
  ch1: Float32Array;
  ch2: Float32Array;
  constructor(readonly nf: number) {
    this.ch1 = new Float32Array(nf * 64);
    this.ch2 = new Float32Array(nf * 64);
  }

  add(d: IseeVlfData, i: number): void {
    const nf = this.nf;
    if ((this.n + 1) * nf > this.ch1.length) {
      const grow = (a: Float32Array) => {
        const b = new Float32Array(a.length * 2);
        b.set(a.subarray(0, this.n * nf));
        return b;
      };
      this.ch1 = grow(this.ch1);
      this.ch2 = grow(this.ch2);
    }
    this.ch1.set(d.ch1.subarray(i * nf, (i + 1) * nf), this.n * nf);
    this.ch2.set(d.ch2.subarray(i * nf, (i + 1) * nf), this.n * nf);
    this.n++;
  }
}


/** Per-bin median over all frames of a window (NaN where every frame is missing). */
function binMedians(frames: Float32Array, n: number, nf: number, scratch: { a: Float64Array }): Float64Array {
  if (scratch.a.length < n) scratch.a = new Float64Array(Math.max(n, 2 * scratch.a.length));
  const s = scratch.a;
  const out = new Float64Array(nf);
  for (let b = 0; b < nf; b++) {
    let k = 0;
    for (let f = 0, o = b; f < n; f++, o += nf) {
      const v = frames[o];
      if (v === v) s[k++] = v;
    }
    out[b] = k === 0 ? NaN : medianInPlace(s, k);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Tiles

interface WindowResult {
  ts: number;
  ch1: Float64Array;
  ch2: Float64Array;
  frames: number;
}

interface TileAcc {
  period: string;
  frameEndMs: number;
  freq: Float32Array;
  firstFile: string;
  sources: TileSourceFile[];
  names: Set<string>;
  droppedFrames: number;
  frameStepMs: number;
  station: { latitude: number | null; longitude: number | null; elevation: number | null; name: string | null };
  windows: WindowResult[];
}

function sameBins(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Median spacing of consecutive frames (NaN with fewer than 2). */
function frameStep(times: Float64Array): number {
  if (times.length < 2) return NaN;
  const d = new Float64Array(times.length - 1);
  for (let i = 1; i < times.length; i++) d[i - 1] = times[i] - times[i - 1];
  return medianInPlace(d, d.length);
}

export interface VlfGroupOptions {
  /** Tile periods to (re)build; frames of other periods are not read. */
  periods: Set<string>;
  /** Base names of the inputs whose current content this run knows (see the merge rule). */
  known: Set<string>;
  /** Called once per file, after it has been read (or skipped). */
  onFile?: (f: VlfFileScan) => void;
}

export interface VlfGroupResult {
  tiles: WrittenTile[];
  /** Frames read (with a valid epoch, inside the rebuilt periods). */
  frames: number;
  /** Files that failed (reading, or a tile they have frames in could not be written). */
  failed: Map<string, string>;
  /** Things repaired on the way (a damaged tile rebuilt). */
  warnings: string[];
}

/**
 * Rebuild the `periods` tiles of one station from its files (see the module comment): files in
 * the order of their first frame, one at a time and decoded in chunks, windows reduced as soon
 * as complete, tiles written as soon as all their windows are.
 */
export async function buildVlfTiles(root: string, files: VlfFileScan[], cfg: ProductsConfig, opts: VlfGroupOptions): Promise<VlfGroupResult> {
  const reduce = cfg.vlfReduceMs;
  const sorted = [...files].sort((a, b) => a.startMs - b.startMs || a.src.name.localeCompare(b.src.name));
  const failed = new Map<string, string>();
  const warnings: string[] = [];
  const failedNames = new Set<string>();
  const out: WrittenTile[] = [];
  const windows = new Map<number, { w: FrameWindow; tile: TileAcc }>();
  const tiles = new Map<string, TileAcc>();
  const members = new Map<string, string[]>(); // period → paths with frames in it
  const scratch = { a: new Float64Array(256) };
  let frames = 0;
  const periodOf = (() => {
    let cur: { period: string; startMs: number; endMs: number } | null = null;
    return (m: number) => {
      if (!cur || m < cur.startMs || m >= cur.endMs) cur = tilePeriod(reduce, m);
      return cur;
    };
  })();

  const flushWindows = (bound: number) => {
    for (const m of [...windows.keys()].sort((a, b) => a - b)) {
      if (m + reduce > bound) break;
      const { w, tile } = windows.get(m)!;
      windows.delete(m);
      tile.windows.push({ ts: m, ch1: binMedians(w.ch1, w.n, w.nf, scratch), ch2: binMedians(w.ch2, w.n, w.nf, scratch), frames: w.n });
    }
  };
  const finishTiles = async (bound: number) => {
    for (const t of [...tiles.values()].sort((a, b) => a.frameEndMs - b.frameEndMs)) {
      if (t.frameEndMs > bound) break;
      tiles.delete(t.period);
      try {
        // A file failing now is not "known": its current content is not in the tile.
        const known = (name: string) => opts.known.has(name) && !failedNames.has(name);
        const w = await writeVlfTile(root, sorted[0].station, t, cfg, known, (m) => warnings.push(m));
        if (w) out.push(w);
      } catch (e) {
        const reason = `tile ${t.period}: ${vlfFailureReason(e)}`;
        for (const p of members.get(t.period) ?? []) if (!failed.has(p)) failed.set(p, reason);
      }
    }
  };

  for (let k = 0; k < sorted.length; k++) {
    const f = sorted[k];
    const targets = f.periods.filter((p) => opts.periods.has(p));
    if (targets.length) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const p of targets) {
        const r = vlfPeriodFrameRange(reduce, periodRange(p)!);
        lo = Math.min(lo, r.startMs);
        hi = Math.max(hi, r.endMs);
      }
      // The file is decoded CHUNK_FRAMES records at a time. What it adds is undone if it fails
      // part-way (windows are only reduced between files), so a bad file spoils nothing.
      const touched = new Map<number, number>(); // window start → its frame count before this file
      const created: string[] = [];
      const hit = new Set<string>();
      let fileFrames = 0;
      try {
        let checked = false;
        for (const d of readIseeVlfChunks(fs.readFileSync(f.path), path.basename(f.path), { startMs: lo, endMs: hi, chunkFrames: CHUNK_FRAMES })) {
          if (!checked) {
            for (const p of targets) {
              const t = tiles.get(p);
              if (t && !sameBins(t.freq, d.freqHz)) throw new Error(`frequency bins differ from those of ${t.firstFile} (tile ${p})`);
            }
            checked = true;
          }
          for (let i = 0; i < d.nTime; i++) {
            const m = Math.floor(d.times[i] / reduce) * reduce;
            const per = periodOf(m);
            if (!opts.periods.has(per.period)) continue;
            let tile = tiles.get(per.period);
            if (!tile) {
              tile = {
                period: per.period,
                frameEndMs: vlfPeriodFrameRange(reduce, per).endMs,
                freq: d.freqHz,
                firstFile: f.src.name,
                sources: [],
                names: new Set(),
                droppedFrames: 0,
                frameStepMs: frameStep(d.times),
                station: { latitude: d.attrs.latitude, longitude: d.attrs.longitude, elevation: d.attrs.elevation, name: d.stationName },
                windows: [],
              };
              tiles.set(per.period, tile);
              created.push(per.period);
            }
            hit.add(per.period);
            let e = windows.get(m);
            if (!e) windows.set(m, (e = { w: new FrameWindow(d.nFreq), tile }));
            if (!touched.has(m)) touched.set(m, e.w.n);
            e.w.add(d, i);
            fileFrames++;
          }
        }
        for (const p of hit) {
          const tile = tiles.get(p)!;
          tile.names.add(f.src.name);
          tile.sources.push(f.src);
          tile.droppedFrames += f.droppedFrames;
          const l = members.get(p);
          if (l) l.push(f.path);
          else members.set(p, [f.path]);
        }
        frames += fileFrames;
      } catch (e) {
        for (const [m, n0] of touched) {
          if (n0 === 0) windows.delete(m);
          else windows.get(m)!.w.n = n0;
        }
        for (const p of created) tiles.delete(p);
        failed.set(f.path, vlfFailureReason(e));
        failedNames.add(f.src.name);
      }
    }
    opts.onFile?.(f);
    const bound = k + 1 < sorted.length ? sorted[k + 1].startMs : Infinity;
    flushWindows(bound);
    await finishTiles(bound);
  }
  return { tiles: out, frames, failed, warnings };
}

/** Write one tile: its new windows, plus (merge rule) the old rows of windows not recomputed. */
async function writeVlfTile(root: string, station: string, t: TileAcc, cfg: ProductsConfig, known: (name: string) => boolean, onWarning: (w: string) => void): Promise<WrittenTile | null> {
  if (t.windows.length === 0) return null;
  const reduce = cfg.vlfReduceMs;
  const key: TileKey = { layer: 'std', source: 'vlf', station, cadence: isoCadence(reduce), period: t.period };
  const file = tilePath(root, key);
  const nf = t.freq.length;
  let sources = t.sources;
  let old: { ts: Float64Array; columns: Record<string, Float64Array | Int32Array> } | null = null;
  if (fs.existsSync(file)) {
    let listed: TileSourceFile[] | null = null;
    let tile: Awaited<ReturnType<typeof readTile>> | null = null;
    try {
      listed = JSON.parse((await readTileMetadata(file)).kv['geonode.source_files'] ?? 'null') as TileSourceFile[] | null;
      if (!Array.isArray(listed)) listed = null;
    } catch (e) {
      // A damaged tile (truncated, not Parquet) has no rows to keep: it is rebuilt from this
      // run's inputs, and said so, instead of failing them all on every run.
      onWarning(`tile ${t.period} was unreadable (${e instanceof Error ? e.message : String(e)}): rebuilt from this run's inputs`);
      listed = [];
    }
    const foreign = listed?.filter((s) => !known(s.name) && !t.names.has(s.name)) ?? null;
    if (foreign === null || foreign.length > 0) {
      try {
        tile = await readTile(file);
      } catch (e) {
        onWarning(`tile ${t.period} was unreadable (${e instanceof Error ? e.message : String(e)}): rebuilt from this run's inputs`);
      }
      if (tile) {
        const bins = tileBinCenters(tile.kv);
        for (const c of ['bin', 'ch1', 'ch1_q', 'ch2', 'ch2_q', 'frames', 'freq_hz']) if (!tile.columns[c]) throw new Error(`existing tile has no column ${c}`);
        if (!bins || !sameBins(Float32Array.from(bins), t.freq)) throw new Error(`frequency bins differ from the existing tile's (inputs ${(foreign ?? []).map((s) => s.name).join(', ') || 'unknown'})`);
        old = tile;
        const seen = new Set(t.sources.map((s) => s.name));
        sources = [...t.sources, ...(foreign ?? []).filter((s) => !seen.has(s.name))];
      }
    }
  }

  // Segments in time order: a new window (all bins), or a run of old rows of one ts not recomputed.
  const fresh = new Set(t.windows.map((w) => w.ts));
  const segs: { ts: number; w?: WindowResult; from?: number; to?: number }[] = t.windows.map((w) => ({ ts: w.ts, w }));
  if (old) {
    for (let i = 0; i < old.ts.length; ) {
      let j = i;
      while (j < old.ts.length && old.ts[j] === old.ts[i]) j++;
      if (!fresh.has(old.ts[i])) segs.push({ ts: old.ts[i], from: i, to: j });
      i = j;
    }
  }
  segs.sort((a, b) => a.ts - b.ts);
  const n = segs.reduce((a, s) => a + (s.w ? nf : s.to! - s.from!), 0);
  const ts = new Float64Array(n);
  const bin = new Int32Array(n);
  const fz = new Float64Array(n);
  const c1 = new Float64Array(n);
  const c2 = new Float64Array(n);
  const q1 = new Int32Array(n);
  const q2 = new Int32Array(n);
  const nfr = new Int32Array(n);
  let r = 0;
  for (const s of segs) {
    if (s.w) {
      const w = s.w;
      for (let b = 0; b < nf; b++, r++) {
        ts[r] = w.ts;
        bin[r] = b;
        fz[r] = t.freq[b];
        c1[r] = w.ch1[b];
        c2[r] = w.ch2[b];
        q1[r] = c1[r] !== c1[r] ? Q_MISSING | Q_SENTINEL : 0;
        q2[r] = c2[r] !== c2[r] ? Q_MISSING | Q_SENTINEL : 0;
        nfr[r] = w.frames;
      }
    } else {
      const o = old!.columns;
      for (let i = s.from!; i < s.to!; i++, r++) {
        ts[r] = old!.ts[i];
        bin[r] = o.bin[i];
        fz[r] = o.freq_hz[i];
        c1[r] = o.ch1[i];
        q1[r] = o.ch1_q[i];
        c2[r] = o.ch2[i];
        q2[r] = o.ch2_q[i];
        nfr[r] = o.frames[i];
      }
    }
  }
  return writeTile(
    root,
    {
      key,
      ts,
      columns: [
        { name: 'bin', type: 'INT32', values: bin },
        { name: 'freq_hz', type: 'DOUBLE', values: fz },
        { name: 'ch1', type: 'DOUBLE', values: c1 },
        { name: 'ch1_q', type: 'INT32', values: q1 },
        { name: 'ch2', type: 'DOUBLE', values: c2 },
        { name: 'ch2_q', type: 'INT32', values: q2 },
        { name: 'frames', type: 'INT32', values: nfr },
      ],
      meta: {
        units: { ch1: 'V^2/Hz', ch2: 'V^2/Hz', freq_hz: 'Hz', bin: '', frames: '' },
        sources,
        station: t.station,
        params: { reduce: 'median', reduceMs: reduce },
        extra: {
          layout: 'long',
          bins: { name: 'frequency', units: 'Hz', centers: Array.from(t.freq) },
          frame_cadence_ms: t.frameStepMs,
          channels: { ch1: 'N-S', ch2: 'E-W' },
          raw: 'source CDF files (see source_files)',
          // Frames of this tile's input files dropped because epoch_vlf was a fill/invalid value
          // (they cannot be placed in time, so they are in no tile).
          invalid_epoch_frames: t.droppedFrames,
        },
      },
    },
    { codec: cfg.codec },
  );
}

// ---------------------------------------------------------------------------------------------
// Bookkeeping helpers for ingest.ts

/** The VLF std tiles (station, period) among tile paths recorded for an input, at this cadence. */
export function vlfRecordedTiles(recorded: string[], cadence: string): { station: string; period: string }[] {
  const out: { station: string; period: string }[] = [];
  for (const t of recorded) {
    const k = parseTilePath(t);
    if (k && k.layer === 'std' && k.source === 'vlf' && k.cadence === cadence) out.push({ station: k.station, period: k.period });
  }
  return out;
}

/** Path (relative to the tiles root) of a VLF std tile. */
export function vlfTileRel(root: string, station: string, cadence: string, period: string): string {
  return path.relative(root, tilePath(root, { layer: 'std', source: 'vlf', station, cadence, period }));
}
