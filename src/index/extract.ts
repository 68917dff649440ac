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
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { parseRecordHeader, MseedError } from '../formats/mseed';
import type { RecordHeader } from '../formats/mseed';
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
  /** Bytes per file read (default 256 KiB). */
  chunkBytes?: number;
  /** Where problems (missing file, stale index, corrupt record) are reported; default console.warn. */
  log?: (message: string) => void;
}

// Tolerance for the µs-rounded epochs of timeindex entries (mseedindex writes %.6f).
const INDEX_ROUNDING_NS = 1000n;

/** Resolve paths, parse time indexes and mark sections whose byte ranges overlap. */
export function planExtraction(selected: readonly SelectedSection[], dataRoot: string): ExtractItem[] {
  const items: ExtractItem[] = selected.map((sel) => {
    const s = sel.section;
    const sectionStart = Number(s.byteoffset);
    const sectionEnd = sectionStart + Number(s.bytes);
    return {
      path: path.resolve(dataRoot, s.filename),
      sel,
      sectionStart,
      sectionEnd,
      index: parseTimeIndex(s.timeindex, sectionStart, sectionEnd),
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
export function estimateBytes(items: readonly ExtractItem[]): number {
  const perFile = new Map<string, Array<[number, number]>>();
  for (const it of items) {
    let l = perFile.get(it.path);
    if (!l) perFile.set(it.path, (l = []));
    l.push(...itemRanges(it));
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

/** Offset of the last index entry starting at or before t (records before it end before t). */
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
  let fh: fs.FileHandle | null = null;
  let fhPath = '';

  try {
    for (const it of items) {
      if (failedPaths.has(it.path)) continue;
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
            (quality === undefined || header.quality === null || header.quality === quality) &&
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
