/**
 * Read side of the index: selected sections + time windows → the ORIGINAL bytes of every record
 * that intersects a window (inclusive), in section order, each (file, byte offset) at most once.
 *
 * Memory stays bounded whatever the response size: files are read through a FileHandle in
 * chunks (default 256 KiB), records are yielded as slices of the chunk they live in (runs of
 * adjacent wanted records coalesced into one slice), and the consumer (a Readable piped into
 * the HTTP response) pulls only as fast as the socket drains.
 *
 * Seeking: the section's `timeindex` (`epoch=>fileoffset,…,latest=>0|1`, mseedindex) lists
 * record start times at absolute file offsets. When `latest=>1` (records in time order) reading
 * starts at the last entry at or before the window start and stops at the first record
 * starting after the window end, so a short window in a long file reads only nearby bytes.
 * With a NULL timeindex or `latest=>0`, the whole section is scanned.
 *
 * Fast paths (same bytes, far less work; see planFast):
 *  - a window that covers a whole section sends its bytes raw, in large reads, after checking
 *    the file size and the first (and, for uniform record lengths, the last) record header;
 *  - in a time-ordered section of uniform record length the first/last intersecting records are
 *    found by binary search over record headers read at candidate offsets (every probe is
 *    validated: parseable, same NSLC, same length, start times increasing), and the records in
 *    between are sent raw. Anything unexpected → the per-record scan below, unchanged.
 * De-duplicated (overlapping) sections always take the per-record path.
 */
import fs from 'node:fs/promises';
import fsSync from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { parseRecordHeader, MseedError } from '../formats/mseed';
import type { RecordHeader } from '../formats/mseed';
import { qualityLabel } from './quality';
import { epochTextToNs, type SelectedSection, type TimeWindow } from './select';

export interface TimeIndex {
  /** Record start times (ns) and their absolute file offsets, strictly increasing. */
  times: bigint[];
  offsets: number[];
  /** latest=>1: records of the section are in time order, so the index bounds them. */
  timeOrdered: boolean;
}

/** Parse an mseedindex timeindex; null when absent or malformed (→ scan the section). */
export function parseTimeIndex(text: string | null, sectionStart: number, sectionEnd: number): TimeIndex | null {
  if (!text) return null;
  const times: bigint[] = [];
  const offsets: number[] = [];
  let timeOrdered = false;
  for (const entry of text.split(',')) {
    const i = entry.indexOf('=>');
    if (i < 0) return null;
    const key = entry.slice(0, i).trim().replace(/^"|"$/g, '');
    const val = entry.slice(i + 2).trim().replace(/^"|"$/g, '');
    if (key === 'latest') {
      timeOrdered = val === '1';
      continue;
    }
    const t = epochTextToNs(key);
    const off = Number(val);
    if (t === null || !Number.isSafeInteger(off)) return null;
    // Offsets must be absolute positions inside the section and increasing; anything else
    // means an index we do not understand, so fall back to scanning.
    if (off < sectionStart || off >= sectionEnd) return null;
    if (times.length && (t < times[times.length - 1] || off <= offsets[offsets.length - 1])) return null;
    times.push(t);
    offsets.push(off);
  }
  if (times.length === 0) return null;
  return { times, offsets, timeOrdered };
}

// Parsed time indexes by (section range, text): every request for a channel re-reads the same
// rows, and parsing ~25 entries into bigints per request is measurable. Bounded LRU.
const TIME_INDEX_CACHE_MAX = 2048;
const timeIndexCache = new Map<string, TimeIndex | null>();

/** parseTimeIndex through a small LRU cache (results are shared: treat them as read-only). */
export function cachedTimeIndex(text: string | null, sectionStart: number, sectionEnd: number): TimeIndex | null {
  if (!text) return null;
  const key = `${sectionStart}:${sectionEnd}:${text}`;
  const hit = timeIndexCache.get(key);
  if (hit !== undefined) {
    timeIndexCache.delete(key);
    timeIndexCache.set(key, hit);
    return hit;
  }
  const parsed = parseTimeIndex(text, sectionStart, sectionEnd);
  timeIndexCache.set(key, parsed);
  if (timeIndexCache.size > TIME_INDEX_CACHE_MAX) timeIndexCache.delete(timeIndexCache.keys().next().value as string);
  return parsed;
}

const overlapCache = new Map<string, boolean>();

/**
 * Do the time spans of a row (mseedindex `timespans`, `[start:end],…` in epoch seconds) overlap?
 * Contiguous records merge into one span, so two spans mean a gap or an overlap. Cached (rows
 * repeat across requests); NULL or unparsable text: no overlap known.
 */
export function spansOverlap(timespans: string | null): boolean {
  if (!timespans || timespans.indexOf('],[') < 0) return false;
  const hit = overlapCache.get(timespans);
  if (hit !== undefined) return hit;
  const spans: [number, number][] = [];
  for (const m of timespans.matchAll(/\[\s*([-\d.]+)\s*:\s*([-\d.]+)\s*\]/g)) spans.push([Number(m[1]), Number(m[2])]);
  spans.sort((a, b) => a[0] - b[0]);
  let overlap = false;
  let end = -Infinity;
  for (const [a, b] of spans) {
    if (a < end) overlap = true;
    end = Math.max(end, b);
  }
  if (overlapCache.size >= TIME_INDEX_CACHE_MAX) overlapCache.delete(overlapCache.keys().next().value as string);
  overlapCache.set(timespans, overlap);
  return overlap;
}

/** One unit of reading work. */
export interface ExtractItem {
  /** Absolute path (dataRoot resolved). */
  path: string;
  sel: SelectedSection;
  sectionStart: number;
  sectionEnd: number;
  index: TimeIndex | null;
  /** Another planned section of the same file shares bytes with this one → de-duplicate offsets. */
  dedupe: boolean;
}

export interface ExtractOptions {
  /** Directory that relative index filenames are resolved against (config.dataRoot). */
  dataRoot: string;
  /** D/R/Q/M: skip records whose (v2) quality differs; B/undefined: any. */
  quality?: string;
  /** Bytes per file read (default 256 KiB when records are parsed one by one, 1 MiB for raw runs). */
  chunkBytes?: number;
  /** Disable the fast paths (tests compare both). */
  noFastPath?: boolean;
  /**
   * Large raw-run chunks come from a small pool of reusable buffers; the consumer MUST hand each
   * yielded buffer back with releaseChunk() once it no longer needs it (e.g. in the socket write
   * callback) — or never, then it is simply garbage collected. Fresh 1 MiB buffers cost page
   * faults on every chunk. Off by default.
   */
  pooledChunks?: boolean;
  /** Where problems (missing file, stale index, corrupt record) are reported; default console.warn. */
  log?: (message: string) => void;
  /** Called for each data file that cannot be opened (it is skipped): dataselect's 500 when nothing was sent. */
  onUnreadable?: (path: string, reason: string) => void;
}

// Tolerance for the µs-rounded epochs of timeindex entries (mseedindex writes %.6f).
const INDEX_ROUNDING_NS = 1000n;

/** Resolve paths, parse time indexes and mark sections whose byte ranges overlap. */
export function planExtraction(selected: readonly SelectedSection[], dataRoot: string): ExtractItem[] {
  const items: ExtractItem[] = selected.map((sel) => {
    const s = sel.section;
    const sectionStart = Number(s.byteoffset);
    const sectionEnd = sectionStart + Number(s.bytes);
    let index = cachedTimeIndex(s.timeindex, sectionStart, sectionEnd);
    // Records that overlap in time: one starting before an index entry may reach into a window
    // after it, so the index cannot bound where to start reading: scan the section.
    if (index?.timeOrdered && spansOverlap(s.timespans)) index = { ...index, timeOrdered: false };
    return {
      path: path.resolve(dataRoot, s.filename),
      sel,
      sectionStart,
      sectionEnd,
      index,
      dedupe: false,
    };
  });
  // Overlap detection per file: sort by start, compare with the running maximum end.
  const byFile = new Map<string, ExtractItem[]>();
  for (const it of items) {
    let l = byFile.get(it.path);
    if (!l) byFile.set(it.path, (l = []));
    l.push(it);
  }
  for (const list of byFile.values()) {
    if (list.length < 2) continue;
    const sorted = [...list].sort((a, b) => a.sectionStart - b.sectionStart);
    let maxEnd = -1;
    let maxItem: ExtractItem | null = null;
    for (const it of sorted) {
      if (maxItem && it.sectionStart < maxEnd) {
        it.dedupe = true;
        maxItem.dedupe = true;
      }
      if (it.sectionEnd > maxEnd) {
        maxEnd = it.sectionEnd;
        maxItem = it;
      }
    }
  }
  return items;
}

/** Byte ranges [from, to) of the item that may hold records of the windows (upper bound). */
export function itemRanges(it: ExtractItem): Array<[number, number]> {
  const idx = it.index;
  if (!idx || !idx.timeOrdered) return [[it.sectionStart, it.sectionEnd]];
  const ranges: Array<[number, number]> = [];
  for (const w of it.sel.windows) {
    const { from, to } = windowRange(idx, w, it.sectionStart, it.sectionEnd);
    const last = ranges[ranges.length - 1];
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else if (to > from) ranges.push([from, to]);
  }
  return ranges;
}

/**
 * Upper bound of the bytes a response will carry (for 413 before any header is sent): sum of
 * the byte ranges, counting ranges shared by overlapping sections once.
 */
export function estimateBytes(items: readonly ExtractItem[], rangesOf: (it: ExtractItem) => Array<[number, number]> = itemRanges): number {
  const perFile = new Map<string, Array<[number, number]>>();
  for (const it of items) {
    let l = perFile.get(it.path);
    if (!l) perFile.set(it.path, (l = []));
    for (const r of rangesOf(it)) l.push(r);
  }
  let total = 0;
  for (const ranges of perFile.values()) {
    ranges.sort((a, b) => a[0] - b[0]);
    let curS = -1;
    let curE = -1;
    for (const [s, e] of ranges) {
      if (s > curE) {
        if (curE > curS) total += curE - curS;
        curS = s;
        curE = e;
      } else if (e > curE) curE = e;
    }
    if (curE > curS) total += curE - curS;
  }
  return total;
}

/**
 * Bytes a response will carry, for the 413 decision against `limit`. estimateBytes first (no
 * I/O, exact only to the index step: an hour of records around a 1-s window); only when that
 * bound exceeds the limit, the sections the fast path can plan (whole sections, and time-ordered
 * ones of uniform record length) count their exact record runs, found from a few record headers
 * near the window edges (planFast). Still an upper bound: other sections keep their index range,
 * and the quality filter is not applied.
 */
export function responseBytes(items: readonly ExtractItem[], limit: number): number {
  const coarse = estimateBytes(items);
  return coarse <= limit ? coarse : estimateBytes(items, exactRanges);
}

/** The exact record runs planFast finds for an item, or its index ranges when it cannot plan it. */
function exactRanges(it: ExtractItem): Array<[number, number]> {
  if (!fastCandidate(it, undefined)) return itemRanges(it);
  let fd: number;
  try {
    fd = fsSync.openSync(it.path, 'r');
  } catch {
    return itemRanges(it); // the read reports it
  }
  try {
    const plan = planFast(fd, it, fsSync.fstatSync(fd).size);
    return plan ? plan.runs : itemRanges(it);
  } catch {
    return itemRanges(it);
  } finally {
    fsSync.closeSync(fd);
  }
}

/**
 * Byte range of a time-ordered section that can hold records intersecting w: from the last
 * index entry at/before the window start to the first entry strictly after the window end.
 */
function windowRange(idx: TimeIndex, w: TimeWindow, sectionStart: number, sectionEnd: number): { from: number; to: number } {
  const from = seekOffset(idx, w.startNs, sectionStart);
  let to = sectionEnd;
  for (let i = 0; i < idx.times.length; i++) {
    if (idx.times[i] > w.endNs + INDEX_ROUNDING_NS) {
      to = idx.offsets[i];
      break;
    }
  }
  return { from, to };
}

/** Offset of the last index entry starting at or before t (records before it end before t: sections whose records overlap are scanned instead, planExtraction). */
function seekOffset(idx: TimeIndex, t: bigint, sectionStart: number): number {
  let lo = 0;
  let hi = idx.times.length - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (idx.times[mid] <= t - INDEX_ROUNDING_NS) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best < 0 ? sectionStart : idx.offsets[best];
}

/** miniSEED 3 channels may be written `B_H_Z` by one tool and `BHZ` by another. */
function sameChannel(a: string, b: string): boolean {
  return a === b || a.replace(/_/g, '') === b.replace(/_/g, '');
}

function intersects(h: RecordHeader, windows: readonly TimeWindow[]): boolean {
  for (const w of windows) if (h.startNs <= w.endNs && h.endNs >= w.startNs) return true;
  return false;
}

// Enough bytes for any record header (v3: 40 + 255 SID + 65535 extra headers) and for
// libmseed-style record-length inference of v2 records without blockette 1000 (≤ 65536 + 48),
// so that an arbitrary chunk end is never mistaken for a record end.
const HEADER_WINDOW = 65536 + 4096;
// Refuse to buffer single records above this size (the index would be corrupt anyway).
const MAX_RECORD_BYTES = 16 * 1024 * 1024;

// ---------------------------------------------------------------------------------- fast paths

/** Bytes read around a probed record when it is not cached yet. */
const PROBE_BYTES = 8 * 1024;
/** Largest block read ahead around the estimated position of a window. */
const PREFETCH_MAX_BYTES = 64 * 1024;
/** Record length per section (path, range, row update time): saves reading the section head. */
const RECORD_LENGTH_CACHE_MAX = 4096;
const recordLengthCache = new Map<string, number>();
/** Raw runs are read in chunks of this size unless opts.chunkBytes says otherwise. */
const RAW_CHUNK_BYTES = 1024 * 1024;

interface Block {
  start: number;
  buf: Buffer;
}

/**
 * The planner's blocks in memory, ordered by start, looked up near a position: a POST of many
 * windows on one section reads thousands of them, and scanning them all per probe made its
 * planning quadratic.
 */
class Blocks {
  private readonly list: Block[] = [];
  private maxLen = 0;

  add(bl: Block): void {
    let a = 0;
    let b = this.list.length;
    while (a < b) {
      const m = (a + b) >> 1;
      if (this.list[m].start <= bl.start) a = m + 1;
      else b = m;
    }
    this.list.splice(a, 0, bl);
    this.maxLen = Math.max(this.maxLen, bl.buf.length);
  }

  /** The first block (starting last first) overlapping bytes [a, b) that `accept` takes, or null. */
  find(a: number, b: number, accept: (bl: Block) => boolean): Block | null {
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (this.list[m].start < b) lo = m + 1;
      else hi = m;
    }
    for (let k = lo - 1; k >= 0 && this.list[k].start + this.maxLen > a; k--) {
      const bl = this.list[k];
      if (bl.start + bl.buf.length > a && accept(bl)) return bl;
    }
    return null;
  }

  /** Bytes [a, b) when one block holds them all. */
  view(a: number, b: number): Buffer | null {
    const bl = this.find(a, b, (x) => a >= x.start && b <= x.start + x.buf.length);
    return bl ? bl.buf.subarray(a - bl.start, b - bl.start) : null;
  }
}

/** What the fast planner decided for one item: byte ranges to send raw (some already in memory). */
interface FastPlan {
  runs: Array<[number, number]>;
  blocks: Blocks;
}

/**
 * Small reads of the planner are synchronous: for page-cached data a pread takes a few µs,
 * while a promise-based FileHandle round trip through the libuv thread pool costs ~15 µs of
 * CPU per call — most of a 1-minute request. Large runs are read asynchronously.
 */
function readFullySync(fd: number, pos: number, len: number): Buffer {
  const b = Buffer.allocUnsafe(len);
  let filled = 0;
  while (filled < len) {
    const n = fsSync.readSync(fd, b, filled, len - filled, pos + filled);
    if (n === 0) break;
    filled += n;
  }
  return filled === len ? b : b.subarray(0, filled);
}

function readAsync(fd: number, buf: Buffer, off: number, len: number, pos: number): Promise<number> {
  return new Promise((resolve, reject) => fsSync.read(fd, buf, off, len, pos, (e, n) => (e ? reject(e) : resolve(n))));
}

const chunkPool: ArrayBuffer[] = [];
const CHUNK_POOL_MAX = 16;

/** Give a buffer yielded with opts.pooledChunks back for reuse (other buffers are ignored). */
export function releaseChunk(b: Buffer): void {
  const ab = b.buffer as ArrayBuffer;
  if (pooledBuffers.has(ab) && chunkPool.length < CHUNK_POOL_MAX && !chunkPool.includes(ab)) chunkPool.push(ab);
}
const pooledBuffers = new WeakSet<ArrayBuffer>();

function takeChunk(len: number): Buffer {
  if (len !== RAW_CHUNK_BYTES) return Buffer.allocUnsafe(len);
  let ab = chunkPool.pop();
  if (!ab) {
    ab = new ArrayBuffer(RAW_CHUNK_BYTES);
    pooledBuffers.add(ab);
  }
  return Buffer.from(ab, 0, len);
}

async function readFully(fd: number, pos: number, len: number, pooled = false): Promise<Buffer> {
  const b = pooled ? takeChunk(len) : Buffer.allocUnsafe(len);
  let filled = 0;
  while (filled < len) {
    const n = await readAsync(fd, b, filled, len - filled, pos + filled);
    if (n === 0) break;
    filled += n;
  }
  return filled === len ? b : b.subarray(0, filled);
}

function sameCodes(h: RecordHeader, s: SelectedSection['section']): boolean {
  return h.network === s.network && h.station === s.station && h.location === s.location && sameChannel(h.channel, s.channel);
}

/** Parse one record header from bytes known to hold [off, off+len); null when it is not a record of the section. */
function probeHeader(view: Buffer, file: string, s: SelectedSection['section'], len?: number): RecordHeader | null {
  let h: RecordHeader;
  try {
    h = parseRecordHeader(view, 0, file);
  } catch {
    return null;
  }
  if (!(h.recordLength > 0) || (len !== undefined && h.recordLength !== len) || !sameCodes(h, s)) return null;
  return h;
}

/**
 * Decide the bytes of one item without parsing every record, or return null (→ per-record path,
 * which also produces the log messages for whatever is wrong). Only reads small blocks.
 */
/** Cheap test on the index row alone: could planFast apply? (No I/O.) */
function fastCandidate(it: ExtractItem, quality: string | undefined): boolean {
  const s = it.sel.section;
  if (it.dedupe || it.sectionEnd <= it.sectionStart) return false;
  // All records of a row share its quality (sections split on it and on the version); a row
  // without quality may hold v2 records, whose own char decides, so it is checked per record.
  if (quality !== undefined && s.quality !== quality) return false;
  const ordered = it.index !== null && it.index.timeOrdered;
  const covered = it.sel.windows.some((w) => w.startNs + INDEX_ROUNDING_NS <= s.startNs && s.endNs + INDEX_ROUNDING_NS <= w.endNs);
  return covered || (ordered && s.timerates === null && s.samplerate > 0);
}

function planFast(fd: number, it: ExtractItem, fileSize: number): FastPlan | null {
  const s = it.sel.section;
  const windows = it.sel.windows;
  const { sectionStart, sectionEnd } = it;
  const bytes = sectionEnd - sectionStart;
  if (bytes <= 0 || fileSize < sectionEnd) return null;
  const idx = it.index;
  const ordered = idx !== null && idx.timeOrdered;
  // A window covering the section (1 µs margin for index rounding): every record is wanted.
  const covered = windows.some((w) => w.startNs + INDEX_ROUNDING_NS <= s.startNs && s.endNs + INDEX_ROUNDING_NS <= w.endNs);
  const uniformCandidate = ordered && s.timerates === null && s.samplerate > 0;
  if (!covered && !uniformCandidate) return null;

  const blocks = new Blocks();
  const headers = new Map<number, RecordHeader>();
  /** Indices of `headers`, ascending. */
  const probed: number[] = [];
  // Record length of the section: from a recent request (the probes below validate it again:
  // every probed record must parse with that length), else from its first record.
  const shapeKey = `${it.path}\u0000${sectionStart}\u0000${sectionEnd}\u0000${s.updated}`;
  let L = covered ? undefined : recordLengthCache.get(shapeKey);
  if (L === undefined) {
    const firstLen = Math.min(bytes, PROBE_BYTES);
    const head = readFullySync(fd, sectionStart, firstLen);
    if (head.length < firstLen) return null;
    blocks.add({ start: sectionStart, buf: head });
    const first = probeHeader(head, it.path, s);
    if (!first || first.recordLength > bytes) return null;
    L = first.recordLength;
    headers.set(0, first);
    probed.push(0);
    recordLengthCache.set(shapeKey, L);
    if (recordLengthCache.size > RECORD_LENGTH_CACHE_MAX) recordLengthCache.delete(recordLengthCache.keys().next().value as string);
  }
  const uniform = bytes % L === 0;

  const N = uniform ? bytes / L : 0;
  /** Header of record i (uniform sections), read in a small block when not cached; null = surprise. */
  const headerAt = (i: number, lo: number, hi: number): RecordHeader | null => {
    const known = headers.get(i);
    if (known) return known;
    const off = sectionStart + i * L;
    let view = blocks.view(off, off + L);
    if (!view) {
      const per = Math.max(1, Math.floor(PROBE_BYTES / L));
      const a = Math.max(lo, i - (per >> 1));
      const b = Math.min(hi, a + per);
      const buf = readFullySync(fd, sectionStart + a * L, (b - a) * L);
      if (buf.length < (b - a) * L) return null;
      blocks.add({ start: sectionStart + a * L, buf });
      view = buf.subarray(off - (sectionStart + a * L), off - (sectionStart + a * L) + L);
    }
    const h = probeHeader(view, it.path, s, L);
    if (!h) return null;
    // Time order must hold between every pair of probed records, or the search is meaningless.
    // The probed ones are in order already, so the neighbours by index decide (checking every
    // pair made a POST of thousands of windows on one section quadratic).
    let a = 0;
    let b = probed.length;
    while (a < b) {
      const m = (a + b) >> 1;
      if (probed[m] < i) a = m + 1;
      else b = m;
    }
    const before = a > 0 ? headers.get(probed[a - 1])! : null;
    const after = a < probed.length ? headers.get(probed[a])! : null;
    if ((before && before.startNs >= h.startNs) || (after && after.startNs <= h.startNs)) return null;
    headers.set(i, h);
    probed.splice(a, 0, i);
    return h;
  };

  if (covered) {
    if (uniform && N > 1) {
      const last = headerAt(N - 1, 0, N);
      if (!last) return null;
    }
    return { runs: [[sectionStart, sectionEnd]], blocks };
  }
  if (!uniform) return null;

  /** First i in [lo, hi) whose header satisfies pred (monotone: false…false true…true), hi if none. */
  const firstWhere = (lo: number, hi: number, pred: (h: RecordHeader) => boolean, rlo: number, rhi: number): number | null => {
    while (lo < hi) {
      let mid = -1;
      // Prefer records already in memory: the prefetched block usually brackets the answer.
      blocks.find(sectionStart + lo * L, sectionStart + hi * L, (bl) => {
        const a = Math.max(lo, Math.ceil((bl.start - sectionStart) / L));
        const b = Math.min(hi, Math.floor((bl.start + bl.buf.length - sectionStart) / L));
        if (a < b) mid = (a + b) >> 1;
        return a < b;
      });
      if (mid < 0) mid = (lo + hi) >> 1;
      const h = headerAt(mid, rlo, rhi);
      if (!h) return null;
      if (pred(h)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };

  // Longest time a record can span: at most 2 samples per byte at half the nominal rate.
  const maxRecordNs = BigInt(Math.ceil(((2 * L) / (s.samplerate / 2)) * 1e9));
  const tindex = idx as TimeIndex;
  const timeAtOffset = (off: number, fallback: bigint): bigint => {
    const k = tindex.offsets.indexOf(off);
    return k >= 0 ? tindex.times[k] : fallback;
  };
  const runs: Array<[number, number]> = [];
  const addRun = (a: number, b: number): void => {
    const last = runs[runs.length - 1];
    if (last && last[1] === a) last[1] = b;
    else runs.push([a, b]);
  };
  let carry = 0; // record index where the per-record path would continue (its `pos`)
  for (const w of windows) {
    const { from, to } = windowRange(tindex, w, sectionStart, sectionEnd);
    if ((from - sectionStart) % L !== 0 || (to - sectionStart) % L !== 0) return null;
    const fromIdx = (from - sectionStart) / L;
    const toIdx = (to - sectionStart) / L;
    const lo = Math.max(fromIdx, carry);
    if (lo >= toIdx) continue;
    // Read ahead around where the window should be (times ~ linear in offset inside a run).
    const tA = timeAtOffset(from, s.startNs);
    const tB = timeAtOffset(to, s.endNs);
    let probeFirst = true; // check the pass edges first (window reaching them) …
    let probeLast = true;
    if (tB > tA) {
      const span = Number(tB - tA);
      const n = toIdx - fromIdx;
      const est = (t: bigint) => fromIdx + Math.floor((n * Number(t - tA)) / span);
      const a = Math.max(lo, est(w.startNs - maxRecordNs) - 4);
      const b = Math.min(toIdx, est(w.endNs) + 5);
      // … unless the window is well inside the pass: then the search starts in the read-ahead block.
      probeFirst = a <= lo;
      probeLast = b >= toIdx;
      // Only for answers that fit in one small read; long runs are located with single probes.
      if (a < b && (b - a) * L <= PREFETCH_MAX_BYTES && !blocks.view(sectionStart + a * L, sectionStart + b * L)) {
        const buf = readFullySync(fd, sectionStart + a * L, (b - a) * L);
        if (buf.length < (b - a) * L) return null;
        blocks.add({ start: sectionStart + a * L, buf });
      }
    }
    // stop: first record starting after the window end (the per-record path stops there).
    let stop: number | null;
    if (probeLast) {
      const last = headerAt(toIdx - 1, lo, toIdx);
      if (!last) return null;
      stop = last.startNs > w.endNs ? firstWhere(lo, toIdx - 1, (h) => h.startNs > w.endNs, lo, toIdx) : toIdx;
    } else stop = firstWhere(lo, toIdx, (h) => h.startNs > w.endNs, lo, toIdx);
    if (stop === null) return null;
    if (stop > lo) {
      // Records starting before w.start - maxRecordNs end before the window; from there on,
      // check each record starting before the window start, then the rest is wanted whole.
      const low = w.startNs - maxRecordNs;
      let k0: number | null;
      if (probeFirst) {
        const h0 = headerAt(lo, lo, stop);
        if (!h0) return null;
        k0 = h0.startNs >= low ? lo : firstWhere(lo + 1, stop, (h) => h.startNs >= low, lo, stop);
      } else k0 = firstWhere(lo, stop, (h) => h.startNs >= low, lo, stop);
      if (k0 === null) return null;
      let i = k0;
      for (; i < stop; i++) {
        const h = headerAt(i, lo, stop);
        if (!h) return null;
        if (h.startNs >= w.startNs) break;
        if (h.endNs >= w.startNs) addRun(sectionStart + i * L, sectionStart + (i + 1) * L);
      }
      if (i < stop) {
        // Validate the last record of the raw run as well (normally probed already).
        if (!(headerAt(stop - 1, lo, stop))) return null;
        addRun(sectionStart + i * L, sectionStart + stop * L);
      }
    }
    carry = stop;
  }
  return { runs, blocks };
}

/**
 * Send planned raw runs: from memory when already read, else in large asynchronous reads with
 * the next read already in flight while the consumer writes the current chunk.
 */
async function* emitRuns(fd: number, it: ExtractItem, plan: FastPlan, chunkBytes: number, log: (m: string) => void, pooled: boolean): AsyncGenerator<Buffer, void, undefined> {
  for (const [a, b] of plan.runs) {
    const mem = plan.blocks.view(a, b);
    if (mem) {
      yield mem;
      continue;
    }
    let next: Promise<Buffer> | null = readFully(fd, a, Math.min(chunkBytes, b - a), pooled);
    try {
      for (let pos = a; pos < b; ) {
        const want = Math.min(chunkBytes, b - pos);
        const pending: Promise<Buffer> = next as Promise<Buffer>;
        next = null;
        const buf = await pending;
        const after = pos + want;
        if (after < b && buf.length === want) next = readFully(fd, after, Math.min(chunkBytes, b - after), pooled);
        if (buf.length > 0) yield buf;
        if (buf.length < want) {
          log(`dataselect: ${it.path} ends at byte ${pos + buf.length}, before the indexed section end ${it.sectionEnd} (index row ${it.sel.rowid} stale?); records after that skipped`);
          return;
        }
        pos = after;
      }
    } finally {
      // Stopped early (client gone): let the read in flight finish before the descriptor is closed.
      if (next) await (next as Promise<Buffer>).then(releaseChunk, () => undefined);
    }
  }
}

/**
 * Yield the wanted record bytes of all items, in item order. Problems with one file (missing,
 * unreadable, changed since indexing) are logged and that section is skipped.
 */
export async function* extractRecords(items: readonly ExtractItem[], opts: ExtractOptions): AsyncGenerator<Buffer, void, undefined> {
  const log = opts.log ?? ((m: string) => console.warn(m));
  const chunkBytes = Math.max(opts.chunkBytes ?? 256 * 1024, 4096);
  const quality = opts.quality && opts.quality !== 'B' ? opts.quality : undefined;
  const emitted = new Map<string, Set<number>>(); // only for items with dedupe
  const failedPaths = new Set<string>();
  const fastFiles = new Map<string, { fd: number; size: number }>(); // sync descriptors of the fast path
  let fh: fs.FileHandle | null = null;
  let fhPath = '';

  try {
    for (const it of items) {
      if (failedPaths.has(it.path)) continue;
      if (!opts.noFastPath && fastCandidate(it, quality)) {
        let f = fastFiles.get(it.path);
        if (!f) {
          try {
            const fd = fsSync.openSync(it.path, 'r');
            f = { fd, size: -1 };
            fastFiles.set(it.path, f);
            f.size = fsSync.fstatSync(fd).size;
          } catch {
            f = undefined; // the per-record path below reports it
          }
        }
        const plan = f ? planFast(f.fd, it, f.size) : null;
        if (f && plan) {
          yield* emitRuns(f.fd, it, plan, opts.chunkBytes !== undefined ? chunkBytes : RAW_CHUNK_BYTES, log, opts.pooledChunks === true);
          continue;
        }
      }
      if (fhPath !== it.path) {
        if (fh) await fh.close();
        fh = null;
        fhPath = '';
        try {
          fh = await fs.open(it.path, 'r');
          fhPath = it.path;
        } catch (e) {
          failedPaths.add(it.path);
          log(`dataselect: cannot open data file ${it.path} (index row ${it.sel.rowid}): ${(e as Error).message}; skipped`);
          opts.onUnreadable?.(it.path, (e as NodeJS.ErrnoException).code ?? (e as Error).message);
          continue;
        }
      }
      const handle = fh as fs.FileHandle;
      let seen: Set<number> | undefined;
      if (it.dedupe) {
        seen = emitted.get(it.path);
        if (!seen) emitted.set(it.path, (seen = new Set()));
      }
      const s = it.sel.section;
      const windows = it.sel.windows;
      const ordered = it.index?.timeOrdered === true;
      // Passes: one per window when the section is time-ordered (seek + early stop), else one
      // scan of the whole section checking all windows.
      // `to`: first index entry after the window end — records from there on start later.
      const passes: Array<{ from: number; to: number; stopAfterNs: bigint | null; windows: readonly TimeWindow[] }> = ordered
        ? windows.map((w) => ({ ...windowRange(it.index as TimeIndex, w, it.sectionStart, it.sectionEnd), stopAfterNs: w.endNs, windows: [w] }))
        : [{ from: it.sectionStart, to: it.sectionEnd, stopAfterNs: null, windows }];

      let buf: Buffer = Buffer.alloc(0);
      let bufStart = it.sectionStart; // file offset of buf[0]
      let pos = it.sectionStart; // next record offset
      let runStart = -1; // pending coalesced output [runStart, runEnd) in file offsets
      let runEnd = -1;
      let abort = false;

      // Readable end of the section: shrinks if the file turns out shorter than the index says.
      let end = it.sectionEnd;
      for (const pass of passes) {
        if (abort) break;
        if (pass.from > pos) {
          // Jump forward; flush what refers to the old buffer first.
          if (runStart >= 0) {
            yield buf.subarray(runStart - bufStart, runEnd - bufStart);
            runStart = runEnd = -1;
          }
          pos = pass.from;
          buf = Buffer.alloc(0);
          bufStart = pos;
        }
        while (pos < Math.min(pass.to, end)) {
          // Make sure the header window (or the rest of the section) is buffered.
          let need = Math.min(HEADER_WINDOW, end - pos);
          let header: RecordHeader | null = null;
          for (;;) {
            if (bufStart + buf.length - pos < need) {
              if (runStart >= 0) {
                yield buf.subarray(runStart - bufStart, runEnd - bufStart);
                runStart = runEnd = -1;
              }
              // Read a chunk, but not far past the bytes this pass can use.
              const want = Math.min(Math.max(need, Math.min(chunkBytes, pass.to - pos)), end - pos);
              const next = Buffer.allocUnsafe(want);
              const keep = Math.max(0, bufStart + buf.length - pos);
              if (keep > 0) buf.copy(next, 0, pos - bufStart, pos - bufStart + keep);
              let filled = keep;
              while (filled < want) {
                const { bytesRead } = await handle.read(next, filled, want - filled, pos + filled);
                if (bytesRead === 0) break;
                filled += bytesRead;
              }
              buf = next.subarray(0, filled);
              bufStart = pos;
              if (filled < want) {
                log(`dataselect: ${it.path} ends at byte ${pos + filled}, before the indexed section end ${it.sectionEnd} (index row ${it.sel.rowid} stale?); records after that skipped`);
                end = pos + filled;
                need = Math.min(need, filled);
                if (filled === 0) {
                  abort = true;
                  break;
                }
              }
            }
            try {
              // A view ending at the buffered data, so truncation is detected, not read past.
              const view = buf.subarray(pos - bufStart, pos - bufStart + Math.min(buf.length - (pos - bufStart), end - pos));
              header = parseRecordHeader(view, 0, it.path);
              break;
            } catch (e) {
              const avail = bufStart + buf.length - pos;
              if (e instanceof MseedError && avail < end - pos && need < MAX_RECORD_BYTES) {
                // Possibly a record larger than the window: widen and retry.
                need = Math.min(Math.max(need * 4, avail + 1), end - pos, MAX_RECORD_BYTES);
                continue;
              }
              log(`dataselect: unreadable record in ${it.path} at byte ${pos} (index row ${it.sel.rowid}): ${(e as Error).message}; rest of section skipped`);
              abort = true;
              break;
            }
          }
          if (abort || !header) break;
          const len = header.recordLength;
          if (!(len > 0) || pos + len > end) {
            log(`dataselect: record at ${it.path}:${pos} (length ${len}) crosses the indexed section end ${it.sectionEnd} (index row ${it.sel.rowid} stale?); rest of section skipped`);
            abort = true;
            break;
          }
          if (header.network !== s.network || header.station !== s.station || header.location !== s.location || !sameChannel(header.channel, s.channel)) {
            log(
              `dataselect: record at ${it.path}:${pos} is ${header.network}.${header.station}.${header.location}.${header.channel}, index row ${it.sel.rowid} says ${s.network}.${s.station}.${s.location}.${s.channel} (file changed since indexing?); rest of section skipped`,
            );
            abort = true;
            break;
          }
          if (pass.stopAfterNs !== null && header.startNs > pass.stopAfterNs) break; // time-ordered: nothing later matches this window
          const wanted =
            intersects(header, pass.windows) &&
            (quality === undefined || qualityLabel(header.quality, header.pubVersion) === quality) &&
            !(seen && seen.has(pos));
          if (wanted) {
            if (seen) seen.add(pos);
            if (runStart >= 0 && runEnd === pos) runEnd = pos + len;
            else {
              if (runStart >= 0) yield buf.subarray(runStart - bufStart, runEnd - bufStart);
              runStart = pos;
              runEnd = pos + len;
            }
          }
          pos += len;
        }
      }
      if (runStart >= 0) yield buf.subarray(runStart - bufStart, runEnd - bufStart);
    }
  } finally {
    if (fh) await fh.close();
    for (const f of fastFiles.values()) fsSync.closeSync(f.fd);
  }
}

/**
 * Start extraction and wait for the first bytes. Returns null when nothing at all matched
 * (→ the caller answers "no data" before committing to a 200), else a byte Readable that
 * yields those first bytes and the rest on demand (backpressure via pipe).
 */
export async function openRecordStream(items: readonly ExtractItem[], opts: ExtractOptions): Promise<Readable | null> {
  const gen = extractRecords(items, opts);
  const first = await gen.next();
  if (first.done) return null;
  const firstChunk: Buffer = first.value;
  async function* all(): AsyncGenerator<Buffer> {
    try {
      yield firstChunk;
      yield* gen;
    } finally {
      // Client went away early: close the file handle.
      await gen.return(undefined);
    }
  }
  return Readable.from(all(), { objectMode: false, highWaterMark: 64 * 1024 });
}
