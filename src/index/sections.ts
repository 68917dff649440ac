/**
 * Records -> tsindex sections, following mseedindex 3 (src/mseedindex.c main loop) and the
 * libmseed 3 trace-list merge used for `timespans` (mstl3_addmsr, default tolerances).
 *
 * A section is a run of records of one file that are physically adjacent (each record starts
 * where the previous one ended) and share NSLC + publication version (v2: + quality).
 * Works on record headers only; the caller supplies the section hash (it owns the bytes).
 */
import type { RecordHeader } from '../formats/mseed/types';
import { encodeTimeIndex, encodeTimeRates, encodeTimeSpans, roundRate6, type Span, type TimeIndexEntry } from './tsindexText';

/** The header fields the section builder reads. */
export type SectionRecord = Pick<
  RecordHeader,
  | 'formatVersion'
  | 'network'
  | 'station'
  | 'location'
  | 'channel'
  | 'quality'
  | 'pubVersion'
  | 'startNs'
  | 'endNs'
  | 'sampleRate'
  | 'sampleCount'
  | 'recordLength'
  | 'offset'
>;

/** One section, everything of a tsindex row except the file-level columns and time strings. */
export interface SectionData {
  network: string;
  station: string;
  location: string;
  channel: string;
  /** v2: SEED quality char; v3: null. */
  quality: string | null;
  /** v3 publication version; v2: quality mapped as libmseed 3 does (R1 D2 Q3 M4, else 0). */
  version: number;
  /** Earliest sample of the section (epoch ns). */
  startNs: bigint;
  /** Latest sample of the section (time of the last sample, epoch ns). */
  endNs: bigint;
  /** Nominal rate of the first record, rounded like mseedindex's `%.6g`. */
  samplerate: number;
  byteoffset: number;
  bytes: number;
  hash: string | null;
  timeindex: string | null;
  timespans: string | null;
  timerates: string | null;
  records: number;
  samples: number;
}

export interface SectionOptions {
  /** Sub-index interval in seconds (mseedindex -si), default 3600. */
  subIndexSeconds?: number;
  /** MD5 hex of file bytes [start, endExclusive); null/absent leaves hash null. */
  hashRange?: (start: number, endExclusive: number) => string | null;
}

/** libmseed 3 maps the v2 quality indicator to a publication version this way (unpack.c). */
export function qualityToPubVersion(quality: string | null): number {
  switch (quality) {
    case 'R':
      return 1;
    case 'D':
      return 2;
    case 'Q':
      return 3;
    case 'M':
      return 4;
    default:
      return 0;
  }
}

/** libmseed MS_ISRATETOLERABLE: abs(1 - a/b) < 0.0001 (false for b == 0, NaN included). */
export function isRateTolerable(a: number, b: number): boolean {
  return Math.abs(1.0 - a / b) < 0.0001;
}

/** -tol <= gap <= tol */
function isWithin(gap: bigint, tol: bigint): boolean {
  return gap <= tol && gap >= -tol;
}

interface Seg {
  start: bigint;
  end: bigint;
  rate: number;
}

/**
 * Coverage of one trace id (all records of a section share it), merged into contiguous segments
 * exactly like libmseed's mstl3_addmsr with splitversion=1, autoheal=1 and default tolerances
 * (½ sample period, rate tolerance abs(1-sr1/sr2) < 0.0001). Segments stay sorted by time.
 */
export class SpanList {
  private readonly segs: Seg[] = [];
  private earliest = 0n;
  private latest = 0n;
  private lastRate = NaN;
  private nsdelta = 0n;
  private tol = 0n;

  add(start: bigint, end: bigint, rate: number): void {
    const segs = this.segs;
    if (segs.length === 0) {
      segs.push({ start, end, rate });
      this.earliest = start;
      this.latest = end;
      return;
    }
    // (nstime_t)(NSTMODULUS / samprate) and (nstime_t)(0.5 * nsdelta): C truncation. Cached per
    // rate: almost every record of a section has the same one (saves bigint allocations).
    if (rate !== this.lastRate) {
      const nsdeltaNum = rate > 0 ? Math.trunc(1e9 / rate) : 0;
      this.lastRate = rate;
      this.nsdelta = BigInt(nsdeltaNum);
      this.tol = BigInt(Math.trunc(0.5 * nsdeltaNum));
    }
    const nsdelta = this.nsdelta;
    const tol = this.tol;
    const ntol = -tol;
    const first = segs[0];
    const last = segs[segs.length - 1];
    const lastgap = start - last.end - nsdelta;
    let idx: number; // index of the modified/created segment, to sort into place

    if (lastgap <= tol && lastgap >= ntol && isRateTolerable(rate, last.rate)) {
      last.end = end; // fits at end of last segment
      idx = segs.length - 1;
    } else if (start - nsdelta - tol > this.latest) {
      segs.push({ start, end, rate }); // after all coverage
      idx = segs.length - 1;
    } else if (end + nsdelta + tol < this.earliest) {
      segs.unshift({ start, end, rate }); // before all coverage
      idx = 0;
    } else if (isWithin(first.start - end - nsdelta, tol) && isRateTolerable(rate, first.rate)) {
      first.start = start; // fits at beginning of first segment
      idx = 0;
    } else {
      let before = -1;
      let after = -1;
      let follow = -1;
      for (let i = 0; i < segs.length; i++) {
        const s = segs[i];
        // An exact duplicate of a segment cannot join any other segment (autoheal would have).
        if (start === s.start && end === s.end) {
          follow = i;
          break;
        }
        if (start > s.start) follow = i;
        let whence = 0;
        const postgap = start - s.end - nsdelta;
        if (before < 0 && postgap <= tol && postgap >= ntol) whence = 1;
        const pregap = s.start - end - nsdelta;
        if (after < 0 && pregap <= tol && pregap >= ntol) whence = 2;
        if (whence === 0) continue;
        if (!isRateTolerable(rate, s.rate)) continue;
        if (whence === 1) before = i;
        else after = i;
        if (before >= 0 && after >= 0) break;
      }
      if (before >= 0) {
        const b = segs[before];
        b.end = end;
        if (after >= 0 && after !== before) {
          b.end = segs[after].end; // record bridged two segments: heal them
          segs.splice(after, 1);
          if (after < before) before--;
        }
        idx = before;
      } else if (after >= 0) {
        segs[after].start = start;
        idx = after;
      } else {
        idx = follow + 1;
        segs.splice(idx, 0, { start, end, rate });
      }
    }
    if (start < this.earliest) this.earliest = start;
    if (end > this.latest) this.latest = end;

    // Sort the touched segment into place (same comparisons as libmseed's bubble step).
    while (idx + 1 < segs.length) {
      const s = segs[idx];
      const n = segs[idx + 1];
      if (s.start > n.start || (s.start === n.start && s.end < n.end)) {
        segs[idx] = n;
        segs[idx + 1] = s;
        idx++;
      } else break;
    }
    while (idx > 0) {
      const s = segs[idx];
      const p = segs[idx - 1];
      if (s.start < p.start || (s.start === p.start && s.end > p.end)) {
        segs[idx] = p;
        segs[idx - 1] = s;
        idx--;
      } else break;
    }
  }

  spans(): Span[] {
    return this.segs.map((s) => ({ startNs: s.start, endNs: s.end, rate: s.rate }));
  }

  get length(): number {
    return this.segs.length;
  }
}

/** State of the section being accumulated. */
interface OpenSection {
  network: string;
  station: string;
  location: string;
  channel: string;
  quality: string | null;
  version: number;
  startOffset: number;
  endOffset: number; // exclusive
  earliest: bigint;
  latest: bigint;
  nomRate: number;
  rateMismatch: boolean;
  timeOrdered: boolean;
  tindex: TimeIndexEntry[];
  nextIndex: bigint;
  spans: SpanList;
  records: number;
  samples: number;
}

/**
 * Incremental builder: feed records of ONE file in file order with add(); each completed
 * section is passed to onSection (so memory stays bounded for huge files); call finish() at EOF.
 */
export class SectionBuilder {
  private cur: OpenSection | null = null;
  private prevStart: bigint | null = null;
  private readonly subIndexNs: bigint;

  constructor(
    private readonly onSection: (s: SectionData) => void,
    private readonly opts: SectionOptions = {},
  ) {
    this.subIndexNs = BigInt(Math.round((opts.subIndexSeconds ?? 3600) * 1e9));
  }

  add(r: SectionRecord): void {
    const quality = r.formatVersion === 2 ? r.quality : null;
    const version = r.formatVersion === 2 ? qualityToPubVersion(r.quality) : (r.pubVersion ?? 0);
    const c = this.cur;
    const start = r.startNs;
    const end = r.endNs;
    if (
      c !== null &&
      c.endOffset === r.offset &&
      c.channel === r.channel &&
      c.station === r.station &&
      c.location === r.location &&
      c.network === r.network &&
      c.version === version &&
      c.quality === quality
    ) {
      c.endOffset = r.offset + r.recordLength;
      if (start < c.earliest) c.earliest = start;
      if (end > c.latest) c.latest = end;
      if (!c.rateMismatch && !isRateTolerable(c.nomRate, r.sampleRate)) c.rateMismatch = true;
      if (this.prevStart !== null && start <= this.prevStart) c.timeOrdered = false;
      // A new index entry each time a record crosses the next sub-index boundary. mseedindex adds
      // it unconditionally; we also require a later time than the last entry so the index stays
      // strictly increasing in time (only differs for out-of-order records).
      if (end > c.nextIndex) {
        if (start > c.tindex[c.tindex.length - 1].ns) c.tindex.push({ ns: start, offset: r.offset });
        while (c.nextIndex < end) c.nextIndex += this.subIndexNs;
      }
      if (r.sampleRate !== 0) c.spans.add(start, end, r.sampleRate);
      c.records++;
      c.samples += r.sampleCount;
    } else {
      if (c !== null) this.close(c);
      let nextIndex = start + this.subIndexNs;
      while (nextIndex < end) nextIndex += this.subIndexNs;
      const spans = new SpanList();
      if (r.sampleRate !== 0) spans.add(start, end, r.sampleRate);
      this.cur = {
        network: r.network,
        station: r.station,
        location: r.location,
        channel: r.channel,
        quality,
        version,
        startOffset: r.offset,
        endOffset: r.offset + r.recordLength,
        earliest: start,
        latest: end,
        nomRate: r.sampleRate,
        rateMismatch: false,
        timeOrdered: true,
        tindex: [{ ns: start, offset: r.offset }],
        nextIndex,
        spans,
        records: 1,
        samples: r.sampleCount,
      };
    }
    this.prevStart = start;
  }

  /** Close the open section (call at end of file, or before a read error to be safe). */
  finish(): void {
    if (this.cur !== null) this.close(this.cur);
    this.cur = null;
  }

  private close(c: OpenSection): void {
    const spans = c.spans.spans();
    const bytes = c.endOffset - c.startOffset;
    this.onSection({
      network: c.network,
      station: c.station,
      location: c.location,
      channel: c.channel,
      quality: c.quality,
      version: c.version,
      startNs: c.earliest,
      endNs: c.latest,
      samplerate: roundRate6(c.nomRate),
      byteoffset: c.startOffset,
      bytes,
      hash: this.opts.hashRange ? this.opts.hashRange(c.startOffset, c.endOffset) : null,
      // Only usable when the first record holds the earliest data (else read the whole section).
      timeindex: c.tindex[0].ns === c.earliest ? encodeTimeIndex(c.tindex, c.timeOrdered) : null,
      timespans: encodeTimeSpans(spans),
      timerates: c.rateMismatch ? encodeTimeRates(spans) : null,
      records: c.records,
      samples: c.samples,
    });
  }
}

/** Convenience: all sections of one file's records (in file order). */
export function buildSections(records: Iterable<SectionRecord>, opts: SectionOptions = {}): SectionData[] {
  const out: SectionData[] = [];
  const b = new SectionBuilder((s) => out.push(s), opts);
  for (const r of records) b.add(r);
  b.finish();
  return out;
}
