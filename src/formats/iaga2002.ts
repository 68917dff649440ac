/**
 * IAGA-2002 (INTERMAGNET exchange format) reader and writer.
 *
 * Layout (docs/data-formats.md §1): header records ` Label…Value…|`, optional ` # comment |`
 * records, one `DATE TIME DOY XXXA …|` record naming the columns, then data records
 * `YYYY-MM-DD hh:mm:ss.sss DDD   vvvvvvvvvv×4` (70 characters, LF or CRLF).
 *
 * Speed matters (multi-GB 1-second archives), so data records are parsed from bytes: no
 * per-line strings, regexes or split(). A fixed-width fast path handles standard 70-character
 * records; anything else falls back to a whitespace tokenizer on the same bytes (the spec says
 * "split on whitespace", and hand-made files ignore the columns).
 *
 * Missing values: any |v| ≥ 88888 becomes NaN; the sentinel array says which kind it was
 * (9-filled = missing, 8-filled = element not recorded) for the quality bitmask downstream.
 */
import fs from 'node:fs';
import type { Readable } from 'node:stream';

// ---------------------------------------------------------------------------------------------
// Types

/** Sentinel codes stored per value (Uint8Array). */
export const SENTINEL_NONE = 0;
/** 9-filled (99999.00, 99999.90, …) or any other |v| ≥ 88888 that is not 8-filled: gap / bad. */
export const SENTINEL_MISSING = 1;
/** 8-filled (88888.00): element not observed/recorded. */
export const SENTINEL_NOT_RECORDED = 2;

/** Values at or above this magnitude are fill values, never data (spec §1.3). */
export const FILL_THRESHOLD = 88888;
// Module-local copy: the compiled `exports.FILL_THRESHOLD` is a property load per value.
const FILL = 88888;

export interface IagaHeaderRecord {
  /** Label as written in the file (e.g. `IAGA CODE`, `IAGA Code`). */
  label: string;
  /** Normalised key for known labels, null for unknown ones. */
  key: IagaHeaderKey | null;
  /** Value text, trimmed (may be empty). */
  value: string;
}

export type IagaHeaderKey =
  | 'format'
  | 'source'
  | 'stationName'
  | 'iagaCode'
  | 'latitude'
  | 'longitude'
  | 'elevation'
  | 'reported'
  | 'sensorOrientation'
  | 'digitalSampling'
  | 'intervalType'
  | 'dataType'
  | 'publicationDate';

export interface IagaHeader {
  format: string | null;
  source: string | null;
  stationName: string | null;
  /** Upper-case IAGA code; '' when the file has none. */
  iagaCode: string;
  /** Degrees north, null when blank or out of range (some producers write projected coordinates). */
  latitude: number | null;
  /** Degrees east as written (0..360 or −180..180), null when blank or out of range. */
  longitude: number | null;
  /** Metres, null when blank. */
  elevation: number | null;
  /** `Reported` text as written (e.g. `HENULNUL`). */
  reported: string | null;
  /** `Reported` split into elements (`NUL` kept as a 3-letter placeholder). */
  reportedElements: string[];
  sensorOrientation: string | null;
  digitalSampling: string | null;
  intervalType: string | null;
  dataType: string | null;
  publicationDate: string | null;
  /** Comment texts: what lies between ` #` and the closing `|`, right-trimmed. */
  comments: string[];
  /** Column names from the DATE record (e.g. `BOUH`, `LLONUL`); [] when there is no DATE record. */
  columnNames: string[];
  /** Column identities (e.g. `H`, `D`, `NUL`), from the DATE record, else from `Reported`. */
  elements: string[];
  /** Header records in file order (for verbatim re-writing and unknown labels). */
  records: IagaHeaderRecord[];
  /** Non-fatal findings (Reported vs column names, bad coordinates, …). */
  warnings: string[];
  /** Whether data records carry the DOY field (false only when the DATE record lacks `DOY`). */
  hasDoy: boolean;
  /** Byte offset of the first data record (just after the DATE record). */
  dataOffset: number;
}

export interface IagaColumn {
  /** Element identity (`H`, `X`, `NUL`, …). */
  element: string;
  /** Column name in the DATE record (e.g. `BOUH`), or IAGA code + element when absent. */
  name: string;
  /** Values, NaN where the file has a fill value. */
  values: Float64Array;
  /** SENTINEL_* per value. */
  sentinel: Uint8Array;
}

export type IagaCadenceIso = 'PT1S' | 'PT1M' | 'PT1H' | 'P1D' | string;

export interface IagaCadence {
  /** ISO-8601 duration (`PT1S`, `PT1M`, `PT1H`, `P1D`, or `PTnS` for anything else); null if unknown. */
  iso: IagaCadenceIso | null;
  /** Step in ms; null if unknown. */
  ms: number | null;
  /** Where the cadence came from: time steps first, then file name, then interval-type text. */
  source: 'timestamps' | 'fileName' | 'intervalType' | 'unknown';
  /**
   * Offset of the first stamp inside its cadence interval, in ms, reported as-is (hourly BOU
   * values: 29:30 → 1 770 000; hourly ESK 30:00 → 1 800 000; daily BOU 11:59:30 → 43 170 000).
   */
  stampOffsetMs: number | null;
}

export interface IagaFile {
  header: IagaHeader;
  /** Epoch milliseconds (UTC). */
  times: Float64Array;
  columns: IagaColumn[];
  cadence: IagaCadence;
  /** Number of data rows. */
  rows: number;
  /** Lines skipped in the data section (comment/blank lines, or bad lines with `onBadLine: 'skip'`). */
  skippedLines: number;
}

export interface IagaBatch {
  header: IagaHeader;
  /** Index of this batch's first row in the file. */
  firstRow: number;
  times: Float64Array;
  columns: IagaColumn[];
  /** Cadence from the first rows of the file (same object for every batch). */
  cadence: IagaCadence;
}

export interface IagaReadOptions {
  /** File name, used for the cadence when time steps cannot tell (one-row files). */
  fileName?: string;
  /** What to do with a data record that cannot be parsed (default: throw). */
  onBadLine?: 'throw' | 'skip';
}

export interface IagaStreamOptions extends IagaReadOptions {
  /** Rows per batch (default 65536). */
  batchRows?: number;
  /** Read chunk size when given a path (default 2 MiB). */
  chunkBytes?: number;
}

export class IagaParseError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(line > 0 ? `IAGA-2002 line ${line}: ${message}` : `IAGA-2002: ${message}`);
    this.name = 'IagaParseError';
  }
}

// ---------------------------------------------------------------------------------------------
// Header

const LABELS: [string, IagaHeaderKey][] = [
  ['format', 'format'],
  ['source of data', 'source'],
  ['station name', 'stationName'],
  ['iaga code', 'iagaCode'],
  ['geodetic latitude', 'latitude'],
  ['geodetic longitude', 'longitude'],
  ['elevation', 'elevation'],
  ['reported', 'reported'],
  ['sensor orientation', 'sensorOrientation'],
  ['digital sampling', 'digitalSampling'],
  ['data interval type', 'intervalType'],
  ['data type', 'dataType'],
  ['publication date', 'publicationDate'],
];

/** Split `Reported` (`HDZF`, `HENULNUL`, `UVWNUL`) into elements. */
export function splitReported(reported: string): string[] {
  const s = reported.replace(/\s+/g, '').toUpperCase();
  const out: string[] = [];
  for (let i = 0; i < s.length; ) {
    if (s.startsWith('NUL', i)) {
      out.push('NUL');
      i += 3;
    } else {
      out.push(s[i]);
      i += 1;
    }
  }
  return out;
}

/** Element of a DATE-record column name: strip the IAGA code (`BOUH` → `H`, `LLONUL` → `NUL`). */
function elementOf(name: string, code: string): string {
  const n = name.toUpperCase();
  if (code && n.length > code.length && n.startsWith(code)) return n.slice(code.length);
  if (n.length > 3 && n.endsWith('NUL')) return 'NUL';
  return n.length > 3 ? n.slice(3) : n;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A header line as text: UTF-8 when it is valid UTF-8 (station names such as "Kakioka 柿岡" or
 * "Mårten" written by current tools), else Latin-1 (older files), so no byte is lost either way.
 */
function headerText(b: Uint8Array): string {
  for (let i = 0; i < b.length; i++) {
    if (b[i] >= 0x80) {
      try {
        return utf8.decode(b);
      } catch {
        return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
      }
    }
  }
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
}

/** Scan lines of the header; returns null when the header is not complete within `bytes`. */
function scanHeader(bytes: Uint8Array, eof: boolean): IagaHeader | null {
  const h: IagaHeader = {
    format: null,
    source: null,
    stationName: null,
    iagaCode: '',
    latitude: null,
    longitude: null,
    elevation: null,
    reported: null,
    reportedElements: [],
    sensorOrientation: null,
    digitalSampling: null,
    intervalType: null,
    dataType: null,
    publicationDate: null,
    comments: [],
    columnNames: [],
    elements: [],
    records: [],
    warnings: [],
    hasDoy: true,
    dataOffset: -1,
  };
  let pos = 0;
  let dateLine: string | null = null;
  const n = bytes.length;
  while (pos < n) {
    let nl = bytes.indexOf(10, pos);
    if (nl < 0) {
      if (!eof) return null;
      nl = n;
    }
    // Data begins without a DATE record (hand-made files): stop before this line.
    let fs0 = pos;
    while (fs0 < nl && (bytes[fs0] === 32 || bytes[fs0] === 9)) fs0++;
    if (fs0 < nl && isDigit(bytes[fs0])) {
      h.dataOffset = pos;
      break;
    }
    let end = nl;
    if (end > pos && bytes[end - 1] === 13) end--;
    const line = headerText(bytes.subarray(pos, end));
    pos = Math.min(nl + 1, n);
    const t = line.trimStart();
    if (t === '') continue;
    if (/^date\b/i.test(t)) {
      dateLine = t;
      h.dataOffset = pos;
      break;
    }
    // Body without the closing `|` (column 70).
    const bar = line.lastIndexOf('|');
    const body = bar >= 0 && line.slice(bar + 1).trim() === '' ? line.slice(0, bar) : line;
    if (t.startsWith('#')) {
      h.comments.push(body.slice(body.indexOf('#') + 1).trimEnd());
      continue;
    }
    const lower = body.trimStart().toLowerCase();
    let rec: IagaHeaderRecord | null = null;
    for (const [lab, key] of LABELS) {
      // Prefix match on the label, not fixed columns: some files shift the value (esk2003dhor.hor).
      if (lower.startsWith(lab) && (lower.length === lab.length || lower[lab.length] === ' ' || lower[lab.length] === '\t')) {
        const bt = body.trimStart();
        rec = { label: bt.slice(0, lab.length), key, value: bt.slice(lab.length).trim() };
        break;
      }
    }
    if (!rec) rec = { label: body.slice(0, 24).trim(), key: null, value: body.slice(24).trim() };
    h.records.push(rec);
  }
  if (h.dataOffset < 0) {
    if (!eof) return null;
    h.dataOffset = n;
  }
  for (const r of h.records) {
    if (!r.key) continue;
    const v = r.value === '' ? null : r.value;
    switch (r.key) {
      case 'iagaCode':
        h.iagaCode = (v ?? '').toUpperCase();
        break;
      case 'latitude':
      case 'longitude':
      case 'elevation': {
        const num = v === null ? NaN : Number(v);
        const [lo, hi] = r.key === 'latitude' ? [-90, 90] : r.key === 'longitude' ? [-180, 360] : [-12000, 10000];
        if (v !== null && !(num >= lo && num <= hi)) h.warnings.push(`${r.label} '${v}' is not a plausible value: ignored`);
        h[r.key] = num >= lo && num <= hi ? num : null;
        break;
      }
      case 'reported':
        h.reported = v;
        h.reportedElements = v ? splitReported(v) : [];
        break;
      default:
        h[r.key] = v;
    }
  }
  if (dateLine !== null) {
    const toks = dateLine.split(/[\s|]+/).filter((s) => s !== '');
    // DATE TIME DOY then the column names; tolerate a missing DOY.
    let i = 1;
    if (toks[i]?.toUpperCase() === 'TIME') i++;
    if (toks[i]?.toUpperCase() === 'DOY') i++;
    else h.hasDoy = false;
    h.columnNames = toks.slice(i);
    h.elements = h.columnNames.map((c) => elementOf(c, h.iagaCode));
    const rep = h.reportedElements;
    if (rep.length > 0 && rep.join() !== h.elements.join()) {
      h.warnings.push(`Reported '${h.reported}' disagrees with column names ${h.columnNames.join(' ')}: using the column names`);
    }
  } else {
    h.elements = h.reportedElements.slice();
    h.columnNames = h.elements.map((e) => h.iagaCode + e);
    if (h.elements.length === 0 && h.dataOffset < n) throw new IagaParseError('no DATE record and no Reported elements: column identities unknown', 0);
  }
  return h;
}

/** Parse the header (records, comments and the DATE record) of an IAGA-2002 file. */
export function parseIagaHeader(text: string | Uint8Array): IagaHeader {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  return scanHeader(bytes, true)!;
}

// ---------------------------------------------------------------------------------------------
// Data records

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

function sentinelOf(v: number): number {
  const a = Math.trunc(Math.abs(v));
  return a === 88888 || a === 888888 || a === 8888888 || a === 88888888 ? SENTINEL_NOT_RECORDED : SENTINEL_MISSING;
}

function daysInMonth(y: number, m: number): number {
  return m === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/**
 * Parses complete data records into column arrays. Whole-file mode grows the arrays;
 * stream mode stops when the batch is full so the caller can hand it out.
 */
class RowParser {
  readonly ncol: number;
  cap: number;
  len = 0;
  times: Float64Array;
  vals: Float64Array[];
  sent: Uint8Array[];
  line: number; // 1-based line number of the next line
  skipped = 0;
  private dayKey = -1;
  private dayMs = 0;
  private dayDoy = 0;
  private readonly fixed: boolean;
  private readonly tokS: Int32Array;
  private readonly tokE: Int32Array;
  // fixedRun's view of the buffer being parsed; dropped after parse() so no chunk stays pinned.
  private dv: DataView | null = null;
  private dvSrc: Uint8Array | null = null;
  /** Whether fixedRun has had its short first call (see parseLines). */
  private primed = false;
  /** Whether fixedRun's last call took fill values (storeRaw markers to resolve). */
  private runFills = 0;

  constructor(
    readonly header: IagaHeader,
    cap: number,
    private readonly grow: boolean,
    firstLine: number,
    private readonly onBad: 'throw' | 'skip',
  ) {
    this.ncol = header.elements.length;
    this.cap = Math.max(1, cap);
    this.times = new Float64Array(this.cap);
    this.vals = [];
    this.sent = [];
    for (let c = 0; c < this.ncol; c++) {
      this.vals.push(new Float64Array(this.cap));
      this.sent.push(new Uint8Array(this.cap));
    }
    this.line = firstLine;
    this.fixed = this.ncol === 4;
    this.tokS = new Int32Array(this.ncol + 8);
    this.tokE = new Int32Array(this.ncol + 8);
  }

  /** Hand out the filled part and start a new batch (new arrays: the consumer owns the old ones). */
  take(): { times: Float64Array; vals: Float64Array[]; sent: Uint8Array[] } {
    const n = this.len;
    const out = {
      times: n === this.cap ? this.times : this.times.slice(0, n),
      vals: this.vals.map((v) => (n === this.cap ? v : v.slice(0, n))),
      sent: this.sent.map((s) => (n === this.cap ? s : s.slice(0, n))),
    };
    this.times = new Float64Array(this.cap);
    this.vals = this.vals.map(() => new Float64Array(this.cap));
    this.sent = this.sent.map(() => new Uint8Array(this.cap));
    this.len = 0;
    return out;
  }

  private growTo(cap: number): void {
    const t = new Float64Array(cap);
    t.set(this.times);
    this.times = t;
    for (let c = 0; c < this.ncol; c++) {
      const v = new Float64Array(cap);
      v.set(this.vals[c]);
      this.vals[c] = v;
      const s = new Uint8Array(cap);
      s.set(this.sent[c]);
      this.sent[c] = s;
    }
    this.cap = cap;
  }

  private bad(msg: string): void {
    if (this.onBad === 'throw') throw new IagaParseError(msg, this.line);
    this.skipped++;
  }

  /** Epoch ms of a calendar day, cached: consecutive rows share the day (per-day cache). */
  private day(y: number, mo: number, d: number, doy: number): boolean {
    const key = y * 10000 + mo * 100 + d;
    if (key !== this.dayKey) {
      if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return false;
      this.dayMs = Date.UTC(y, mo - 1, d);
      this.dayDoy = Math.round((this.dayMs - Date.UTC(y, 0, 1)) / 86_400_000) + 1;
      this.dayKey = key;
      if (doy >= 0 && doy !== this.dayDoy) this.header.warnings.push(`line ${this.line}: DOY ${doy} does not match date ${y}-${mo}-${d} (DOY ${this.dayDoy})`);
    }
    return true;
  }

  /**
   * Parse complete lines in b[pos, end). When `final`, a last line without LF counts too.
   * Returns the position after the last consumed line (stops early when a batch is full).
   */
  parse(b: Uint8Array, pos: number, end: number, final: boolean): number {
    const r = this.parseLines(b, pos, end, final);
    this.dv = null;
    this.dvSrc = null;
    return r;
  }

  private parseLines(b: Uint8Array, pos: number, end: number, final: boolean): number {
    const ncol = this.ncol;
    while (pos < end) {
      if (this.len === this.cap) {
        if (!this.grow) return pos;
        this.growTo(this.cap * 2);
      }
      if (this.fixed) {
        // The first call takes at most 64 records: V8 then has type feedback for fixedRun's
        // entry and exit before it optimizes the loop (else it did so during the first long call
        // and threw the code away at the next entry, several times, ~150 ms cold for 65 536 rows).
        const row0 = this.len;
        pos = this.fixedRun(b, pos, this.primed ? end : Math.min(end, pos + 64 * 72));
        if (this.runFills !== 0) resolveFills(this.vals, this.sent, row0, this.len);
        this.primed = true;
        if (pos >= end) break;
        if (this.len === this.cap) continue;
      }
      // Line bounds: the standard record is 70 bytes + LF/CRLF, checked without a search.
      let le: number;
      let next: number;
      const p70 = pos + 70;
      if (p70 < end && b[p70] === 10) {
        le = p70;
        next = p70 + 1;
      } else if (p70 + 1 < end && b[p70] === 13 && b[p70 + 1] === 10) {
        le = p70;
        next = p70 + 2;
      } else {
        let nl = b.indexOf(10, pos);
        if (nl < 0 || nl >= end) {
          if (!final) return pos;
          nl = end;
        }
        next = nl + 1;
        le = nl > pos && b[nl - 1] === 13 ? nl - 1 : nl;
      }
      const row = this.len;
      if (le - pos === 70 && this.fixed && this.fixedRow(b, pos, row)) {
        this.len = row + 1;
      } else {
        // The 70-byte guess may span two short lines: find the real end before tokenizing.
        let nl = b.indexOf(10, pos);
        if (nl < 0 || nl >= end) nl = end;
        next = nl + 1;
        le = nl > pos && b[nl - 1] === 13 ? nl - 1 : nl;
        if (this.looseRow(b, pos, le, row, ncol)) this.len = row + 1;
      }
      this.line++;
      pos = next;
    }
    return pos > end ? end : pos;
  }

  /**
   * Consecutive standard records (70 characters + LF/CRLF, 4 columns) in one tight loop, the bulk
   * of any real file. Stops at the end of the batch or of the complete lines, and at the first
   * record it does not take, which parse() then reads through fixedRow/looseRow (they accept a
   * superset; checks run in fixedRow's order, so values, times and warnings are the same either
   * way). Returns the position after the last record taken.
   *
   * Bytes are read as little-endian 32-bit words through a DataView (TurboFan compiles these to
   * plain unaligned loads) and checked/decoded several bytes at a time: about 20 loads per record
   * instead of 80. The date is decoded only when its words differ from those of the last record
   * that went through runDay.
   */
  private fixedRun(b: Uint8Array, pos: number, end: number): number {
    if (this.dvSrc !== b || this.dv === null) {
      this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      this.dvSrc = b;
    }
    const dv = this.dv;
    const times = this.times;
    const v0 = this.vals[0], v1 = this.vals[1], v2 = this.vals[2], v3 = this.vals[3];
    const s0 = this.sent[0], s1 = this.sent[1], s2 = this.sent[2], s3 = this.sent[3];
    const cap = this.cap;
    const row0 = this.len;
    const line0 = this.line;
    let row = row0;
    // Date words (bytes 0–3, 4–7, 8–9, 24–27) of the last record that went through runDay; that
    // record was fully checked, so equal words need no further check.
    let pw0 = 0, pw1 = 0, pw2 = 0, pw6 = 0;
    let have = false;
    let dayMs = this.dayMs;
    let fills = 0; // any storeRaw fill marker in rows row0..row
    while (row < cap) {
      const p = pos;
      const p70 = p + 70;
      let next: number;
      if (p70 < end && b[p70] === 10) next = p70 + 1;
      else if (p70 + 1 < end && b[p70] === 13 && b[p70 + 1] === 10) next = p70 + 2;
      else break;
      const w0 = dv.getInt32(p, true); // YYYY
      const w1 = dv.getInt32(p + 4, true); // -MM-
      const w2 = dv.getInt32(p + 8, true); // DD␠h
      const w3 = dv.getInt32(p + 12, true); // h:mm
      const w4 = dv.getInt32(p + 16, true); // :ss.
      const w5 = dv.getInt32(p + 20, true); // fff␠
      const w6 = dv.getInt32(p + 24, true); // DOY␠
      // Separators and time digits. A byte is a digit iff its high nibble is 3 and stays 3 after
      // adding 6 (no carries: the first test already bounds every byte).
      if (
        (w1 & 0xff0000ff) !== 0x2d00002d ||
        (w2 & 0xf0ff0000) !== 0x30200000 || ((w2 + 0x06000000) & 0xf0ff0000) !== 0x30200000 ||
        (w3 & 0xf0f0fff0) !== 0x30303a30 || ((w3 + 0x06060006) & 0xf0f0fff0) !== 0x30303a30 ||
        (w4 & 0xfff0f0ff) !== 0x2e30303a || ((w4 + 0x00060600) & 0xfff0f0ff) !== 0x2e30303a ||
        (w5 & 0xfff0f0f0) !== 0x20303030 || ((w5 + 0x00060606) & 0xfff0f0f0) !== 0x20303030 ||
        (w6 & 0xff000000) !== 0x20000000 || dv.getUint16(p + 28, true) !== 0x2020
      ) break;
      if (!(have && w0 === pw0 && w1 === pw1 && ((w2 ^ pw2) & 0xffff) === 0 && w6 === pw6)) {
        this.line = line0 + (row - row0); // day() warnings name this line
        if (!this.runDay(b, p)) break;
        dayMs = this.dayMs;
        pw0 = w0;
        pw1 = w1;
        pw2 = w2;
        pw6 = w6;
        have = true;
      }
      const hh = ((w2 >>> 24) & 15) * 10 + (w3 & 15);
      const mi = ((w3 >>> 16) & 15) * 10 + ((w3 >>> 24) & 15);
      const ss = ((w4 >>> 8) & 15) * 10 + ((w4 >>> 16) & 15);
      const ms = (w5 & 15) * 100 + ((w5 >>> 8) & 15) * 10 + ((w5 >>> 16) & 15);
      if ((hh > 23 || mi > 59 || ss > 59) && !(hh === 24 && mi === 0 && ss === 0 && ms === 0)) break; // leap seconds: looseRow
      // Values, unrolled by hand: straight-line code is ~15% faster than a loop over the columns,
      // and four copies of a helper exceed TurboFan's inlining budget. Shapes `  ddddd.dd`,
      // ` -ddddd.dd`, `  -dddd.dd`, `   dddd.dd` (words h = ␠ c1 c2 d3, a = d3..d6, t = d6 . e1 e2)
      // are read as field() reads them: one integer of hundredths, one division, so the same
      // double (and parseFloat's; -(n / 100) is (-n) / 100, −0 included). Other shapes go to
      // field(). 1e9 marks "not taken here": a NaN marker would box x. A rejected record may
      // leave values in this row's slots: whichever path takes it overwrites them.
      {
        const h = dv.getInt32(p + 30, true), a = dv.getInt32(p + 33, true), t = dv.getInt32(p + 36, true);
        let x = 1e9;
        if ((((a & 0xf0f0f0f0) ^ 0x30303030) | (((a + 0x06060606) & 0xf0f0f0f0) ^ 0x30303030) | ((t & 0xf0f0ff00) ^ 0x30302e00) | (((t + 0x06060000) & 0xf0f0ff00) ^ 0x30302e00) | ((h & 0xff) ^ 32)) === 0) {
          const d = a & 0x0f0f0f0f, q = (Math.imul(d, 10) + (d >>> 8)) & 0x00ff00ff; // d3d4 and d5d6 side by side
          const n = ((Math.imul(q, 100) + (q >>> 16)) & 0xffff) * 100 + ((t >>> 16) & 15) * 10 + ((t >>> 24) & 15);
          const lead = (h >>> 8) & 0xffff, d2 = (lead >>> 8) - 48;
          if (d2 >= 0 && d2 <= 9) x = (lead & 0xff) === 32 ? (d2 * 1000000 + n) / 100 : (lead & 0xff) === 45 ? -((d2 * 1000000 + n) / 100) : 1e9;
          else x = lead === 0x2020 ? n / 100 : lead === 0x2d20 ? -(n / 100) : 1e9;
        }
        if (x !== 1e9) fills |= storeRaw(v0, s0, row, x);
        else {
          const y = field(b, p + 30);
          if (y !== y) break;
          fills |= storeRaw(v0, s0, row, y);
        }
      }
      {
        const h = dv.getInt32(p + 40, true), a = dv.getInt32(p + 43, true), t = dv.getInt32(p + 46, true);
        let x = 1e9;
        if ((((a & 0xf0f0f0f0) ^ 0x30303030) | (((a + 0x06060606) & 0xf0f0f0f0) ^ 0x30303030) | ((t & 0xf0f0ff00) ^ 0x30302e00) | (((t + 0x06060000) & 0xf0f0ff00) ^ 0x30302e00) | ((h & 0xff) ^ 32)) === 0) {
          const d = a & 0x0f0f0f0f, q = (Math.imul(d, 10) + (d >>> 8)) & 0x00ff00ff; // d3d4 and d5d6 side by side
          const n = ((Math.imul(q, 100) + (q >>> 16)) & 0xffff) * 100 + ((t >>> 16) & 15) * 10 + ((t >>> 24) & 15);
          const lead = (h >>> 8) & 0xffff, d2 = (lead >>> 8) - 48;
          if (d2 >= 0 && d2 <= 9) x = (lead & 0xff) === 32 ? (d2 * 1000000 + n) / 100 : (lead & 0xff) === 45 ? -((d2 * 1000000 + n) / 100) : 1e9;
          else x = lead === 0x2020 ? n / 100 : lead === 0x2d20 ? -(n / 100) : 1e9;
        }
        if (x !== 1e9) fills |= storeRaw(v1, s1, row, x);
        else {
          const y = field(b, p + 40);
          if (y !== y) break;
          fills |= storeRaw(v1, s1, row, y);
        }
      }
      {
        const h = dv.getInt32(p + 50, true), a = dv.getInt32(p + 53, true), t = dv.getInt32(p + 56, true);
        let x = 1e9;
        if ((((a & 0xf0f0f0f0) ^ 0x30303030) | (((a + 0x06060606) & 0xf0f0f0f0) ^ 0x30303030) | ((t & 0xf0f0ff00) ^ 0x30302e00) | (((t + 0x06060000) & 0xf0f0ff00) ^ 0x30302e00) | ((h & 0xff) ^ 32)) === 0) {
          const d = a & 0x0f0f0f0f, q = (Math.imul(d, 10) + (d >>> 8)) & 0x00ff00ff; // d3d4 and d5d6 side by side
          const n = ((Math.imul(q, 100) + (q >>> 16)) & 0xffff) * 100 + ((t >>> 16) & 15) * 10 + ((t >>> 24) & 15);
          const lead = (h >>> 8) & 0xffff, d2 = (lead >>> 8) - 48;
          if (d2 >= 0 && d2 <= 9) x = (lead & 0xff) === 32 ? (d2 * 1000000 + n) / 100 : (lead & 0xff) === 45 ? -((d2 * 1000000 + n) / 100) : 1e9;
          else x = lead === 0x2020 ? n / 100 : lead === 0x2d20 ? -(n / 100) : 1e9;
        }
        if (x !== 1e9) fills |= storeRaw(v2, s2, row, x);
        else {
          const y = field(b, p + 50);
          if (y !== y) break;
          fills |= storeRaw(v2, s2, row, y);
        }
      }
      {
        const h = dv.getInt32(p + 60, true), a = dv.getInt32(p + 63, true), t = dv.getInt32(p + 66, true);
        let x = 1e9;
        if ((((a & 0xf0f0f0f0) ^ 0x30303030) | (((a + 0x06060606) & 0xf0f0f0f0) ^ 0x30303030) | ((t & 0xf0f0ff00) ^ 0x30302e00) | (((t + 0x06060000) & 0xf0f0ff00) ^ 0x30302e00) | ((h & 0xff) ^ 32)) === 0) {
          const d = a & 0x0f0f0f0f, q = (Math.imul(d, 10) + (d >>> 8)) & 0x00ff00ff; // d3d4 and d5d6 side by side
          const n = ((Math.imul(q, 100) + (q >>> 16)) & 0xffff) * 100 + ((t >>> 16) & 15) * 10 + ((t >>> 24) & 15);
          const lead = (h >>> 8) & 0xffff, d2 = (lead >>> 8) - 48;
          if (d2 >= 0 && d2 <= 9) x = (lead & 0xff) === 32 ? (d2 * 1000000 + n) / 100 : (lead & 0xff) === 45 ? -((d2 * 1000000 + n) / 100) : 1e9;
          else x = lead === 0x2020 ? n / 100 : lead === 0x2d20 ? -(n / 100) : 1e9;
        }
        if (x !== 1e9) fills |= storeRaw(v3, s3, row, x);
        else {
          const y = field(b, p + 60);
          if (y !== y) break;
          fills |= storeRaw(v3, s3, row, y);
        }
      }
      times[row] = dayMs + hh * 3_600_000 + mi * 60_000 + ss * 1000 + ms;
      row++;
      pos = next;
    }
    this.runFills = fills; // resolved by parseLines: a call here had no type feedback (see storeRaw)
    this.line = line0 + (row - row0);
    this.len = row;
    return pos;
  }

  /** Date and DOY of a standard record at p, as fixedRow checks them (kept out of fixedRun's loop). */
  private runDay(b: Uint8Array, p: number): boolean {
    const y0 = b[p] - 48, y1 = b[p + 1] - 48, y2 = b[p + 2] - 48, y3 = b[p + 3] - 48;
    const m0 = b[p + 5] - 48, m1 = b[p + 6] - 48, d0 = b[p + 8] - 48, d1 = b[p + 9] - 48;
    const a0 = b[p + 24] - 48, a1 = b[p + 25] - 48, a2 = b[p + 26] - 48;
    if ((y0 | (9 - y0) | y1 | (9 - y1) | y2 | (9 - y2) | y3 | (9 - y3) | m0 | (9 - m0) | m1 | (9 - m1) | d0 | (9 - d0) | d1 | (9 - d1) | a0 | (9 - a0) | a1 | (9 - a1) | a2 | (9 - a2)) < 0) return false;
    const y = y0 * 1000 + y1 * 100 + y2 * 10 + y3;
    const mo = m0 * 10 + m1;
    const d = d0 * 10 + d1;
    return y * 10000 + mo * 100 + d === this.dayKey || this.day(y, mo, d, a0 * 100 + a1 * 10 + a2);
  }

  /** Fast path for a standard 70-character record with 4 columns; false → use the tokenizer. */
  private fixedRow(b: Uint8Array, p: number, row: number): boolean {
    if (b[p + 4] !== 45 || b[p + 7] !== 45 || b[p + 10] !== 32 || b[p + 13] !== 58 || b[p + 16] !== 58 || b[p + 19] !== 46 || b[p + 23] !== 32) return false;
    const y0 = b[p] - 48, y1 = b[p + 1] - 48, y2 = b[p + 2] - 48, y3 = b[p + 3] - 48;
    const m0 = b[p + 5] - 48, m1 = b[p + 6] - 48, d0 = b[p + 8] - 48, d1 = b[p + 9] - 48;
    const h0 = b[p + 11] - 48, h1 = b[p + 12] - 48, i0 = b[p + 14] - 48, i1 = b[p + 15] - 48;
    const s0 = b[p + 17] - 48, s1 = b[p + 18] - 48, f0 = b[p + 20] - 48, f1 = b[p + 21] - 48, f2 = b[p + 22] - 48;
    const a0 = b[p + 24] - 48, a1 = b[p + 25] - 48, a2 = b[p + 26] - 48;
    if (b[p + 27] !== 32 || b[p + 28] !== 32 || b[p + 29] !== 32) return false;
    // Each digit must be 0..9: (v | (9 - v)) is negative otherwise.
    const chk = (y0 | (9 - y0) | y1 | (9 - y1) | y2 | (9 - y2) | y3 | (9 - y3) | m0 | (9 - m0) | m1 | (9 - m1) | d0 | (9 - d0) | d1 | (9 - d1) |
      h0 | (9 - h0) | h1 | (9 - h1) | i0 | (9 - i0) | i1 | (9 - i1) | s0 | (9 - s0) | s1 | (9 - s1) | f0 | (9 - f0) | f1 | (9 - f1) | f2 | (9 - f2) |
      a0 | (9 - a0) | a1 | (9 - a1) | a2 | (9 - a2));
    if (chk < 0) return false;
    const y = y0 * 1000 + y1 * 100 + y2 * 10 + y3;
    const mo = m0 * 10 + m1;
    const d = d0 * 10 + d1;
    const key = y * 10000 + mo * 100 + d;
    if (key !== this.dayKey) {
      // DOY is redundant: checked against the date once per day, not per row.
      if (!this.day(y, mo, d, a0 * 100 + a1 * 10 + a2)) return false;
    }
    const hh = h0 * 10 + h1, mi = i0 * 10 + i1, ss = s0 * 10 + s1;
    if (hh > 23 || mi > 59 || ss > 59) {
      if (!(hh === 24 && mi === 0 && ss === 0 && f0 === 0 && f1 === 0 && f2 === 0)) return false; // leap seconds: looseRow
    }
    // Values: 4 right-aligned fields in columns 31–40, 41–50, 51–60, 61–70 (1X,F9.2).
    const v0 = field(b, p + 30), v1 = field(b, p + 40), v2 = field(b, p + 50), v3 = field(b, p + 60);
    // Parsed values are never NaN, so NaN means "not a plain field": use the tokenizer.
    if (v0 !== v0 || v1 !== v1 || v2 !== v2 || v3 !== v3) return false;
    store(this.vals[0], this.sent[0], row, v0);
    store(this.vals[1], this.sent[1], row, v1);
    store(this.vals[2], this.sent[2], row, v2);
    store(this.vals[3], this.sent[3], row, v3);
    this.times[row] = this.dayMs + hh * 3_600_000 + mi * 60_000 + ss * 1000 + f0 * 100 + f1 * 10 + f2;
    return true;
  }

  /** Whitespace tokenizer for any record (shifted columns, other widths, tabs). */
  private looseRow(b: Uint8Array, p: number, le: number, row: number, ncol: number): boolean {
    const ts = this.tokS;
    const te = this.tokE;
    let nt = 0;
    let i = p;
    while (i < le) {
      while (i < le && (b[i] === 32 || b[i] === 9)) i++;
      if (i >= le) break;
      if (nt === ts.length) {
        this.bad(`too many fields (expected ${ncol} values)`);
        return false;
      }
      ts[nt] = i;
      while (i < le && b[i] !== 32 && b[i] !== 9) i++;
      te[nt++] = i;
    }
    if (nt === 0) {
      this.skipped++; // blank line
      return false;
    }
    const c0 = b[ts[0]];
    if (c0 === 35 /* # */ || c0 === 124 /* | */ || ((c0 | 32) === 100 && nt > 1 && (b[ts[1]] | 32) === 116) /* DATE TIME repeated */) {
      this.skipped++;
      return false;
    }
    if (nt > 0 && te[nt - 1] - ts[nt - 1] === 1 && b[ts[nt - 1]] === 124) nt--; // trailing `|`
    // DATE TIME DOY v1..vn (DOY only absent when the DATE record has none: a row with one
    // value too few must not be read as a row without DOY).
    const hasDoy = this.header.hasDoy;
    const vi = hasDoy ? 3 : 2;
    const doyTok = hasDoy ? 2 : -1;
    if (nt !== ncol + vi) {
      this.bad(nt <= vi ? `not a data record (expected DATE TIME${hasDoy ? ' DOY' : ''} and ${ncol} values)` : `expected ${ncol} values, found ${nt - vi}`);
      return false;
    }
    // Date YYYY-MM-DD
    const ds = ts[0];
    if (te[0] - ds !== 10 || b[ds + 4] !== 45 || b[ds + 7] !== 45) {
      this.bad('bad date');
      return false;
    }
    const y = digits(b, ds, 4), mo = digits(b, ds + 5, 2), d = digits(b, ds + 8, 2);
    // Time hh:mm[:ss[.fff…]]
    const tsb = ts[1], tse = te[1];
    const hh = digits(b, tsb, 2), mi = tse - tsb >= 5 && b[tsb + 2] === 58 ? digits(b, tsb + 3, 2) : -1;
    let ss = 0;
    let ms = 0;
    let tOk = tse - tsb === 5;
    if (tse - tsb >= 8 && b[tsb + 5] === 58) {
      ss = digits(b, tsb + 6, 2);
      tOk = tse - tsb === 8;
      if (tse - tsb > 9 && b[tsb + 8] === 46) {
        // Fraction of any length, rounded to ms.
        let f = 0;
        let k = tsb + 9;
        let scale = 1;
        tOk = true;
        for (; k < tse; k++) {
          const v = b[k] - 48;
          if (v < 0 || v > 9) tOk = false;
          if (scale < 1e9) {
            f = f * 10 + v;
            scale *= 10;
          }
        }
        ms = Math.round((f * 1000) / scale);
      }
    }
    let doy = -1;
    if (doyTok >= 0) {
      doy = digits(b, ts[2], te[2] - ts[2]);
      if (doy < 0) {
        this.bad('bad day of year');
        return false;
      }
    }
    if (y < 0 || mo < 0 || d < 0 || hh < 0 || mi < 0 || ss < 0 || !tOk || !this.day(y, mo, d, doy)) {
      this.bad('bad date/time');
      return false;
    }
    if ((hh > 23 || mi > 59 || ss > 60) && !(hh === 24 && mi === 0 && ss === 0 && ms === 0)) {
      this.bad('time out of range');
      return false;
    }
    // A leap second (23:59:60[.f]) has no epoch time of its own: it is kept, as the last
    // millisecond of its day (23:59:59.999), so the row stays in its day and in time order.
    let t = this.dayMs + hh * 3_600_000 + mi * 60_000 + ss * 1000 + ms;
    if (ss === 60) {
      if (hh !== 23 || mi !== 59) {
        this.bad('second 60 outside 23:59 (a leap second ends a UTC day)');
        return false;
      }
      t = this.dayMs + 86_399_999;
    }
    for (let c = 0; c < ncol; c++) {
      const v = parseNumber(b, ts[vi + c], te[vi + c]);
      if (Number.isNaN(v)) {
        this.bad(`bad value in column ${c + 1}`);
        return false;
      }
      if (v >= FILL_THRESHOLD || v <= -FILL_THRESHOLD) {
        this.sent[c][row] = sentinelOf(v);
        this.vals[c][row] = NaN;
      } else {
        this.sent[c][row] = 0;
        this.vals[c][row] = v;
      }
    }
    this.times[row] = t;
    return true;
  }
}

/** Store a value, turning fill values (|v| ≥ 88888) into NaN + sentinel code. */
function store(vals: Float64Array, sent: Uint8Array, row: number, v: number): void {
  if (v >= FILL || v <= -FILL) {
    sent[row] = sentinelOf(v);
    vals[row] = NaN;
  } else {
    sent[row] = 0;
    vals[row] = v;
  }
}

/**
 * fixedRun's store: the value as read, and for a fill value (|v| ≥ 88888) the marker 1; returns 1
 * for a fill. parseLines has resolveFills turn the marked slots into NaN + sentinel code after the
 * run. Calling sentinelOf here, on a branch fixedRun had not seen before V8 optimized it (fill
 * values come later in a file), threw the optimized parser away at the first fill.
 */
function storeRaw(vals: Float64Array, sent: Uint8Array, row: number, v: number): number {
  const fill = (+(v >= FILL)) | (+(v <= -FILL));
  vals[row] = v;
  sent[row] = fill;
  return fill;
}

/** NaN + sentinel code (store's) for the slots storeRaw marked in rows [from, to). */
function resolveFills(vals: Float64Array[], sent: Uint8Array[], from: number, to: number): void {
  for (let c = 0; c < vals.length; c++) {
    const v = vals[c];
    const s = sent[c];
    for (let i = from; i < to; i++) {
      if (s[i] === 1) {
        s[i] = sentinelOf(v[i]);
        v[i] = NaN;
      }
    }
  }
}

/**
 * A 10-character value field at b[i..i+10): a blank, then a right-aligned decimal. The
 * standard F9.2 form (point at i+7) is parsed right to left; this function is kept small so
 * V8 inlines it into the row loop. Other forms go to fieldSlow. NaN when not a plain decimal.
 */
function field(b: Uint8Array, i: number): number {
  if (b[i + 7] !== 46 || b[i] !== 32) return fieldSlow(b, i);
  const f1 = b[i + 8] - 48;
  const f2 = b[i + 9] - 48;
  let k = i + 6;
  let d = b[k] - 48;
  if ((f1 | (9 - f1) | f2 | (9 - f2) | d | (9 - d)) < 0) return fieldSlow(b, i);
  let ip = 0;
  let mul = 1;
  // Stops at the leading blank at the latest.
  do {
    ip += d * mul;
    mul *= 10;
    d = b[--k] - 48;
  } while (d >= 0 && d <= 9);
  let sign = 1;
  if (b[k] === 45) {
    sign = -1;
    k--;
  }
  while (k > i) if (b[k--] !== 32) return NaN;
  // Integer / 100 is one correctly rounded division: identical to parseFloat.
  return (sign * (ip * 100 + f1 * 10 + f2)) / 100;
}

/** Any other right-aligned decimal in a 10-character field (other precisions). */
function fieldSlow(b: Uint8Array, i: number): number {
  if (b[i] !== 32) return NaN;
  const e = i + 10;
  let k = i + 1;
  while (k < e && b[k] === 32) k++;
  let neg = false;
  if (b[k] === 45) {
    neg = true;
    k++;
  }
  let m = 0;
  let fd = -1;
  let nd = 0;
  for (; k < e; k++) {
    const ch = b[k];
    const v = ch - 48;
    if (v >= 0 && v <= 9) {
      m = m * 10 + v;
      nd++;
      if (fd >= 0) fd++;
    } else if (ch === 46 && fd < 0) fd = 0;
    else return NaN;
  }
  if (nd === 0) return NaN;
  const v = fd > 0 ? m / POW10[fd] : m;
  return neg ? -v : v;
}

/** n decimal digits at b[i..] as an integer, −1 if any is not a digit. */
function digits(b: Uint8Array, i: number, n: number): number {
  if (n <= 0) return -1;
  let v = 0;
  for (let k = 0; k < n; k++) {
    const d = b[i + k] - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

const DECIMAL_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Decimal number in b[s, e): hand-rolled for the common form, Number() for exponents etc. */
function parseNumber(b: Uint8Array, s: number, e: number): number {
  let i = s;
  let neg = false;
  if (b[i] === 45 || b[i] === 43) {
    neg = b[i] === 45;
    i++;
  }
  let m = 0;
  let fd = -1;
  let nd = 0;
  for (; i < e; i++) {
    const v = b[i] - 48;
    if (v >= 0 && v <= 9) {
      m = m * 10 + v;
      nd++;
      if (fd >= 0) fd++;
    } else if (b[i] === 46 && fd < 0) fd = 0;
    else break;
  }
  if (i === e && nd > 0 && nd <= 15 && fd <= 22) {
    const v = fd > 0 ? m / POW10[fd] : m;
    return neg ? -v : v;
  }
  // Rare forms (exponent, very long mantissa): slow but exact. Decimal only: Number() alone
  // would also read 0x10, 0b11 and 0o17.
  const text = Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('latin1');
  if (!DECIMAL_NUMBER.test(text)) return NaN;
  const v = Number(text);
  return Number.isFinite(v) ? v : NaN;
}

function columnsOf(header: IagaHeader, vals: Float64Array[], sent: Uint8Array[]): IagaColumn[] {
  return header.elements.map((element, c) => ({
    element,
    name: header.columnNames[c] ?? header.iagaCode + element,
    values: vals[c],
    sentinel: sent[c],
  }));
}

/** Count lines before byte offset `end` (for error messages with file line numbers). */
function lineCount(b: Uint8Array, end: number): number {
  let n = 0;
  for (let i = b.indexOf(10); i >= 0 && i < end; i = b.indexOf(10, i + 1)) n++;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Cadence

const STANDARD: [number, string][] = [
  [1000, 'PT1S'],
  [60_000, 'PT1M'],
  [3_600_000, 'PT1H'],
  [86_400_000, 'P1D'],
];

function isoOf(ms: number): string {
  const std = STANDARD.find(([m]) => m === ms);
  return std ? std[1] : `PT${ms / 1000}S`;
}

/**
 * Cadence from the most common step among the first rows (gaps and partial days do not
 * fool it), else from the file extension, else from the Data Interval Type text. The stamp
 * offset inside the interval is reported as found, never rounded (spec §1.4).
 */
export function inferCadence(times: ArrayLike<number>, header: Pick<IagaHeader, 'intervalType'> | null, fileName?: string): IagaCadence {
  let ms: number | null = null;
  let source: IagaCadence['source'] = 'unknown';
  const n = Math.min(times.length, 1001);
  if (n >= 2) {
    const counts = new Map<number, number>();
    for (let i = 1; i < n; i++) {
      const d = times[i] - times[i - 1];
      if (d > 0) counts.set(d, (counts.get(d) ?? 0) + 1);
    }
    let best = 0;
    for (const [d, c] of counts) if (c > best || (c === best && d < (ms ?? Infinity))) [ms, best] = [d, c];
    if (ms !== null) source = 'timestamps';
  }
  if (ms === null && fileName) {
    const ext = /\.(sec|min|hor|day)$/i.exec(fileName)?.[1]?.toLowerCase();
    const map: Record<string, number> = { sec: 1000, min: 60_000, hor: 3_600_000, day: 86_400_000 };
    if (ext) [ms, source] = [map[ext], 'fileName'];
  }
  if (ms === null && header?.intervalType) {
    const t = header.intervalType.toLowerCase();
    const m = /\b(second|minute|hour|day|daily|hourly)\b/.exec(t.replace(/-/g, ' '));
    const map: Record<string, number> = { second: 1000, minute: 60_000, hour: 3_600_000, hourly: 3_600_000, day: 86_400_000, daily: 86_400_000 };
    if (m) [ms, source] = [map[m[1]], 'intervalType'];
  }
  return { iso: ms === null ? null : isoOf(ms), ms, source, stampOffsetMs: ms === null ? null : stampOffset(times, n, ms) };
}

/**
 * HAPI timeStampLocation from the window a Data Interval Type names, e.g. "Average 1-Minute
 * (00:30-01:29)" (the minute stamped 01:00 averages 00:30–01:29: centred), "filtered 1-minute
 * (00:15-01:45)", "1-second (501-1500)" (ms), "1-hour (00:00-59:59)" (begin, or centre when the
 * stamps sit at hh:30). The window's labels are [mm:]ss or hh:mm:ss (inclusive, to the label's
 * resolution) or plain ms; the stamp is the one inside the window at the file's offset within the
 * cadence. null when the text names no window or the stamp is neither at its start, centre nor
 * end: callers then judge from the stamp offset alone. Pure text rule, no I/O.
 */
export function stampLocationOf(intervalType: string, cadenceMs: number, stampOffsetMs: number): 'begin' | 'center' | 'end' | null {
  const m = /\(\s*([\d:.]+)\s*-\s*([\d:.]+)\s*\)/.exec(intervalType);
  if (!m || !(cadenceMs > 0)) return null;
  const label = (t: string): [number, number] | null => {
    if (!t.includes(':')) return /^\d+$/.test(t) ? [Number(t), 1] : null; // plain ms
    const parts = t.split(':');
    if (parts.length > 3 || parts.some((p) => !/^\d+(\.\d+)?$/.test(p))) return null;
    return [parts.reduce((a, p) => a * 60 + Number(p), 0) * 1000, 1000];
  };
  const a = label(m[1]);
  const b = label(m[2]);
  if (!a || !b) return null;
  const start = a[0];
  const end = b[0] + b[1]; // inclusive label: through the end of that second (or ms)
  if (!(end > start)) return null;
  // The stamp inside [start, end): the first instant at the file's offset within the cadence.
  const o = ((stampOffsetMs % cadenceMs) + cadenceMs) % cadenceMs;
  const stamp = start + ((((o - start) % cadenceMs) + cadenceMs) % cadenceMs);
  if (stamp >= end) return null;
  const tol = Math.max(1, 0.1 * Math.min(cadenceMs, end - start));
  if (Math.abs(stamp - (start + end) / 2) <= tol) return 'center';
  if (Math.abs(stamp - start) <= tol) return 'begin';
  if (Math.abs(end - stamp) <= tol) return 'end';
  return null;
}

/**
 * HAPI timeStampLocation of an IAGA-2002 series (also the AEF files, same layout): the window the
 * Data Interval Type names (stampLocationOf), else the stamp offset inside the cadence: about
 * half a cadence (within a minute per hour: hourly means stamped hh:29:30 or hh:30, daily ones
 * 11:59:30) is the centre, anything else the beginning.
 */
export function hapiStampLocation(intervalType: string | null | undefined, cadenceMs: number, stampOffsetMs: number): 'begin' | 'center' | 'end' {
  const fromText = intervalType ? stampLocationOf(intervalType, cadenceMs, stampOffsetMs) : null;
  if (fromText) return fromText;
  if (stampOffsetMs > 0 && cadenceMs > 0 && Math.abs(stampOffsetMs - cadenceMs / 2) <= Math.max(1000, cadenceMs / 60)) return 'center';
  return 'begin';
}

/**
 * Where the stamps sit inside the cadence: the most common offset among the first n stamps
 * (the smallest on a tie), so that one odd first row does not shift the whole grid.
 */
function stampOffset(times: ArrayLike<number>, n: number, ms: number): number | null {
  if (times.length === 0) return null;
  const counts = new Map<number, number>();
  for (let i = 0; i < Math.max(1, n); i++) {
    const o = ((times[i] % ms) + ms) % ms;
    counts.set(o, (counts.get(o) ?? 0) + 1);
  }
  let best = -1;
  let off = 0;
  for (const [o, c] of counts) if (c > best || (c === best && o < off)) [off, best] = [o, c];
  return off;
}

// ---------------------------------------------------------------------------------------------
// Readers

/** Read a whole (small or medium) IAGA-2002 file held in memory. */
export function readIaga2002(buf: Buffer | Uint8Array | string, opts: IagaReadOptions = {}): IagaFile {
  const b = typeof buf === 'string' ? Buffer.from(buf, 'latin1') : buf;
  const header = scanHeader(b, true)!;
  const est = Math.ceil((b.length - header.dataOffset) / 70) + 2; // standard records: exact
  const p = new RowParser(header, est, true, lineCount(b, header.dataOffset) + 1, opts.onBadLine ?? 'throw');
  p.parse(b, header.dataOffset, b.length, true);
  const n = p.len;
  const times = p.times.subarray(0, n);
  const columns = columnsOf(
    header,
    p.vals.map((v) => v.subarray(0, n)),
    p.sent.map((s) => s.subarray(0, n)),
  );
  return { header, times, columns, cadence: inferCadence(times, header, opts.fileName), rows: n, skippedLines: p.skipped };
}

/** A path, a Node stream, or any (async) iterable of byte chunks. */
export type IagaSource = string | Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/**
 * A file in chunks of `chunkBytes`, one read ahead (the next chunk is read while the current one
 * is used): bounded memory whatever the file size. Three buffers in turn, so the consumer must be
 * done with a chunk when it asks for the next one (iagaStream is, and copies what it keeps). A
 * fresh buffer per chunk came with fresh pages: ~1/4 of the page faults of a 30-day 1 s parse.
 */
export async function* readFileChunks(file: string, chunkBytes: number): AsyncGenerator<Buffer> {
  const fh = await fs.promises.open(file, 'r');
  try {
    const ring = [0, 1, 2].map(() => Buffer.allocUnsafeSlow(chunkBytes));
    let turn = 0;
    const next = () => {
      const buf = ring[turn++ % 3];
      const p = fh.read(buf, 0, chunkBytes, null).then((r) => buf.subarray(0, r.bytesRead));
      p.catch(() => {}); // awaited below, unless the consumer stops first
      return p;
    };
    let pending = next();
    for (;;) {
      const buf = await pending;
      if (buf.length === 0) break;
      pending = next();
      yield buf;
    }
  } finally {
    await fh.close();
  }
}

async function* chunksOf(source: IagaSource, chunkBytes: number): AsyncGenerator<Uint8Array> {
  if (typeof source === 'string') yield* readFileChunks(source, chunkBytes);
  else for await (const c of source as AsyncIterable<Uint8Array | string>) yield typeof c === 'string' ? Buffer.from(c, 'latin1') : c;
}

/**
 * Streaming reader: yields column batches of at most `batchRows` rows, in bounded memory
 * (one read chunk + one batch + a partial line). Each batch owns fresh arrays, so batches the
 * consumer drops are garbage. At least one batch is always yielded (possibly with 0 rows), so
 * the header is delivered even for a file without data.
 */
/** Longest line the stream reader joins across chunks. */
const MAX_LINE_BYTES = 1 << 20;

export async function* iagaStream(source: IagaSource, opts: IagaStreamOptions = {}): AsyncGenerator<IagaBatch> {
  const batchRows = Math.max(1, Math.floor(opts.batchRows ?? 65536));
  const fileName = opts.fileName ?? (typeof source === 'string' ? source : undefined);
  let head: Buffer | null = Buffer.alloc(0); // bytes before the header is complete
  let header: IagaHeader | null = null;
  let parser: RowParser | null = null;
  let carry: Buffer | null = null; // partial line across chunks
  let cadence: IagaCadence | null = null;
  let emitted = 0;
  let firstRow = 0;

  const batch = (): IagaBatch => {
    const { times, vals, sent } = parser!.take();
    if (!cadence) cadence = inferCadence(times, header, fileName);
    const out: IagaBatch = { header: header!, firstRow, times, columns: columnsOf(header!, vals, sent), cadence };
    firstRow += times.length;
    emitted++;
    return out;
  };

  // Parse b[pos..] and yield full batches; returns the unconsumed tail start.
  function* run(b: Uint8Array, pos: number, final: boolean): Generator<IagaBatch, number> {
    for (;;) {
      pos = parser!.parse(b, pos, b.length, final);
      if (parser!.len === parser!.cap) yield batch();
      else return pos;
    }
  }

  for await (const chunk of chunksOf(source, opts.chunkBytes ?? 2 << 20)) {
    let b: Uint8Array = chunk;
    let pos = 0;
    if (!header) {
      head = Buffer.concat([head!, chunk]);
      header = scanHeader(head, false);
      if (!header) {
        if (head.length > 4 << 20) throw new IagaParseError('no DATE record within the first 4 MiB', 0);
        continue;
      }
      parser = new RowParser(header, batchRows, false, lineCount(head, header.dataOffset) + 1, opts.onBadLine ?? 'throw');
      b = head;
      pos = header.dataOffset;
      head = null;
    } else if (carry) {
      // Complete the straddling line in a small buffer, then parse the chunk in place.
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        // A record is ~70 bytes: a "line" this long is not IAGA-2002 (and joining it chunk by
        // chunk would cost time and memory without end).
        if (carry.length + chunk.length > MAX_LINE_BYTES) throw new IagaParseError(`a line longer than ${MAX_LINE_BYTES >> 20} MiB: not an IAGA-2002 record (a file without line breaks?)`, parser!.line);
        carry = Buffer.concat([carry, chunk]);
        continue;
      }
      const line = Buffer.concat([carry, chunk.subarray(0, nl + 1)]);
      carry = null;
      yield* run(line, 0, true);
      pos = nl + 1;
    }
    const rest = yield* run(b, pos, false);
    if (rest < b.length) carry = Buffer.from(b.subarray(rest)); // copy: do not pin the chunk
  }
  if (!header) {
    if (head!.length === 0) throw new IagaParseError('empty file', 0);
    header = scanHeader(head!, true)!;
    parser = new RowParser(header, batchRows, false, lineCount(head!, header.dataOffset) + 1, opts.onBadLine ?? 'throw');
    carry = Buffer.from(head!.subarray(header.dataOffset));
  }
  if (carry && carry.length > 0) yield* run(carry, 0, true);
  if (parser!.len > 0 || emitted === 0) yield batch();
}

/** Concatenate stream batches into one IagaFile (convenience for tests and small files). */
export function concatBatches(batches: IagaBatch[]): IagaFile {
  if (batches.length === 0) throw new Error('no batches');
  const header = batches[0].header;
  const n = batches.reduce((a, x) => a + x.times.length, 0);
  const times = new Float64Array(n);
  const vals = header.elements.map(() => new Float64Array(n));
  const sent = header.elements.map(() => new Uint8Array(n));
  let o = 0;
  for (const x of batches) {
    times.set(x.times, o);
    x.columns.forEach((c, i) => {
      vals[i].set(c.values, o);
      sent[i].set(c.sentinel, o);
    });
    o += x.times.length;
  }
  return { header, times, columns: columnsOf(header, vals, sent), cadence: batches[0].cadence, rows: n, skippedLines: 0 };
}

// ---------------------------------------------------------------------------------------------
// Writer

export interface IagaWriteColumn {
  element: string;
  /** Column name in the DATE record (default IAGA code + element). */
  name?: string;
  values: ArrayLike<number>;
  /** SENTINEL_* per value: NaN with SENTINEL_NOT_RECORDED is written 88888.00, other NaN 99999.00. */
  sentinel?: ArrayLike<number>;
}

export interface IagaWriteHeader {
  iagaCode: string;
  source?: string | null;
  stationName?: string | null;
  latitude?: number | string | null;
  longitude?: number | string | null;
  elevation?: number | string | null;
  /** Default: the column elements joined (`XYZF`). */
  reported?: string | null;
  sensorOrientation?: string | null;
  digitalSampling?: string | null;
  intervalType?: string | null;
  dataType?: string | null;
  publicationDate?: string | null;
  comments?: string[];
  /**
   * Header records written verbatim instead of the fields above (a parsed header's
   * `records`, to re-write a file unchanged).
   */
  records?: { label: string; value: string }[];
}

export interface IagaWriteOptions {
  /** Line ending (default LF). */
  eol?: '\n' | '\r\n';
  /** Decimals of the F9.n value fields (default 2). */
  decimals?: number;
}

export interface IagaWriteInput {
  header: IagaWriteHeader;
  /** Epoch ms. */
  times: ArrayLike<number>;
  columns: IagaWriteColumn[];
}

function record(label: string, value: string): string {
  const v = value.length > 45 ? value.slice(0, 45) : value;
  return ` ${label.padEnd(23)}${v.padEnd(45)}|`;
}

/** Header records, comments and the DATE record (each 70 characters + eol). */
export function formatIagaHeader(h: IagaWriteHeader, columns: Pick<IagaWriteColumn, 'element' | 'name'>[], opts: IagaWriteOptions = {}): string {
  const eol = opts.eol ?? '\n';
  const code = h.iagaCode.toUpperCase();
  const s = (v: number | string | null | undefined): string => (v === null || v === undefined ? '' : String(v));
  const recs =
    h.records ??
    ([
      ['Format', 'IAGA-2002'],
      ['Source of Data', s(h.source)],
      ['Station Name', s(h.stationName)],
      ['IAGA CODE', code],
      ['Geodetic Latitude', s(h.latitude)],
      ['Geodetic Longitude', s(h.longitude)],
      ['Elevation', s(h.elevation)],
      ['Reported', h.reported ?? columns.map((c) => c.element).join('')],
      ['Sensor Orientation', s(h.sensorOrientation)],
      ['Digital Sampling', s(h.digitalSampling)],
      ['Data Interval Type', s(h.intervalType)],
      ['Data Type', s(h.dataType)],
      ...(h.publicationDate ? [['Publication Date', h.publicationDate]] : []),
    ].map(([label, value]) => ({ label, value })) as { label: string; value: string }[]);
  const lines = recs.map((r) => record(r.label, r.value));
  for (const c of h.comments ?? []) {
    // Long comments are wrapped so every record stays 70 characters.
    for (let i = 0; i === 0 || i < c.length; i += 67) lines.push(` #${c.slice(i, i + 67).padEnd(67)}|`);
  }
  let dl = 'DATE       TIME         DOY     ';
  columns.forEach((c, i) => {
    const name = c.name ?? code + c.element;
    dl += i < columns.length - 1 ? name.padEnd(10) : name.padEnd(7);
  });
  lines.push(`${dl}|`);
  return lines.join(eol) + eol;
}

/**
 * Data records as bytes: `YYYY-MM-DD hh:mm:ss.sss DDD` + 3 blanks + right-aligned 10-character
 * values. Written digit by digit into one Buffer (the generator writes GB-sized files).
 */
export function formatIagaRows(times: ArrayLike<number>, columns: IagaWriteColumn[], from = 0, to = times.length, opts: IagaWriteOptions = {}): Buffer {
  const eol = opts.eol ?? '\n';
  const dec = opts.decimals ?? 2;
  const ncol = columns.length;
  const lineLen = 30 + 10 * ncol + eol.length;
  const out = Buffer.allocUnsafe(Math.max(0, to - from) * lineLen);
  const scale = POW10[dec];
  let dayStart = NaN;
  let o = 0;
  const stamp = Buffer.alloc(27);
  for (let r = from; r < to; r++) {
    const t = times[r];
    if (!Number.isFinite(t)) throw new RangeError(`row ${r}: time is not finite`);
    const day = Math.floor(t / 86_400_000) * 86_400_000;
    if (day !== dayStart) {
      dayStart = day;
      const d = new Date(day);
      const y = d.getUTCFullYear();
      const doy = Math.round((day - Date.UTC(y, 0, 1)) / 86_400_000) + 1;
      stamp.write(`${String(y).padStart(4, '0')}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')} 00:00:00.000 ${String(doy).padStart(3, '0')}`, 'latin1');
    }
    stamp.copy(out, o);
    let ms = Math.round(t - day);
    const hh = Math.floor(ms / 3_600_000);
    ms -= hh * 3_600_000;
    const mi = Math.floor(ms / 60_000);
    ms -= mi * 60_000;
    const ss = Math.floor(ms / 1000);
    ms -= ss * 1000;
    out[o + 11] = 48 + Math.floor(hh / 10);
    out[o + 12] = 48 + (hh % 10);
    out[o + 14] = 48 + Math.floor(mi / 10);
    out[o + 15] = 48 + (mi % 10);
    out[o + 17] = 48 + Math.floor(ss / 10);
    out[o + 18] = 48 + (ss % 10);
    out[o + 20] = 48 + Math.floor(ms / 100);
    out[o + 21] = 48 + (Math.floor(ms / 10) % 10);
    out[o + 22] = 48 + (ms % 10);
    out[o + 27] = 32;
    out[o + 28] = 32;
    out[o + 29] = 32;
    for (let c = 0; c < ncol; c++) {
      const col = columns[c];
      let v = col.values[r];
      if (Number.isNaN(v)) v = col.sentinel && col.sentinel[r] === SENTINEL_NOT_RECORDED ? 88888 : 99999;
      const end = o + 30 + (c + 1) * 10;
      writeFixed(out, end - 10, end, v, dec, scale, r);
    }
    o += 30 + 10 * ncol;
    if (eol.length === 2) out[o++] = 13;
    out[o++] = 10;
  }
  return out;
}

/** Right-aligned fixed-point value in out[s, e) (Fortran F9.n with a leading blank). */
function writeFixed(out: Buffer, s: number, e: number, v: number, dec: number, scale: number, row: number): void {
  const neg = v < 0 || Object.is(v, -0);
  let n = Math.round(Math.abs(v) * scale);
  let i = e - 1;
  for (let k = 0; k < dec; k++) {
    out[i--] = 48 + (n % 10);
    n = Math.floor(n / 10);
  }
  if (dec > 0) out[i--] = 46;
  do {
    out[i--] = 48 + (n % 10);
    n = Math.floor(n / 10);
  } while (n > 0 && i >= s);
  if (neg) out[i--] = 45;
  if (n > 0 || i < s) throw new RangeError(`row ${row}: value ${v} does not fit a 9-character field`);
  while (i >= s) out[i--] = 32;
}

/** A complete IAGA-2002 file (header + data records), every record 70 characters. */
export function writeIaga2002(input: IagaWriteInput, opts: IagaWriteOptions = {}): Buffer {
  const head = Buffer.from(formatIagaHeader(input.header, input.columns, opts), 'latin1');
  return Buffer.concat([head, formatIagaRows(input.times, input.columns, 0, input.times.length, opts)]);
}
