/**
 * Text encodings of the mseedindex `tsindex` columns, written byte-for-byte like mseedindex 3
 * (C printf `%.6f` / `%.6g`, libmseed ms_nstime2timestr) and parsed back for the read side.
 *
 *   timeindex  `epoch=>offset,epoch=>offset,...,latest=>0|1`
 *   timespans  `[start:end],[start:end],...`
 *   timerates  `r1,r2,...`
 *   time       `YYYY-MM-DDThh:mm:ss[.ffffff|.fffffffff]` (v3) or always `.ffffff` (v2-era)
 */
import { nsToIso, parseIsoToNs } from '../formats/time';

/**
 * How section start/end strings are written.
 * 'v3'    = mseedindex 3 (libmseed NANO_MICRO_NONE): no fraction when zero, else 6 or 9 digits.
 * 'micro' = mseedindex 2.x: always 6 digits (sub-microsecond detail truncated).
 */
export type TimeStringStyle = 'v3' | 'micro';

/** Section start/end time string. */
export function formatSectionTime(ns: bigint, style: TimeStringStyle = 'v3'): string {
  return style === 'v3' ? nsToIso(ns, 'auto') : nsToIso(ns, 6);
}

/** filemodtime / updated / scanned: whole seconds, no fraction (libmseed ISOMONTHDAY, NONE). */
export function formatSecondsTime(epochSeconds: number): string {
  return new Date(Math.floor(epochSeconds) * 1000).toISOString().slice(0, 19);
}

/** Parse any tsindex time string (variable precision) to epoch ns; null if malformed. */
export function parseTsTime(text: string): bigint | null {
  return parseIsoToNs(text);
}

/**
 * Epoch seconds as C computes MS_NSTIME2EPOCH: the int64 converted to double, then divided.
 * Number(bigint) rounds to nearest like the C conversion, so the double is the same.
 */
export function nsToEpochDouble(ns: bigint): number {
  return Number(ns) / 1e9;
}

/**
 * C `printf("%.6f", x)`. JS toFixed agrees with glibc except on exact ties, where glibc rounds
 * half to even and toFixed rounds up. An exact tie at 6 decimals needs x*2e6 to be an odd
 * integer, which for a double means x is a multiple of 1/128 but not of 1/64.
 */
export function formatFixed6(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const x128 = x * 128;
  if (Number.isInteger(x128) && !Number.isInteger(x * 64)) {
    const neg = x < 0;
    const scaled = Math.abs(x) * 1e6; // exact: k + 0.5 with < 2^53 magnitude for realistic epochs
    let n = Math.floor(scaled);
    if (n % 2 === 1) n += 1; // half to even
    const intPart = Math.floor(n / 1e6);
    const frac = n - intPart * 1e6;
    const s = `${intPart}.${String(frac).padStart(6, '0')}`;
    return neg && n !== 0 ? '-' + s : s;
  }
  return x.toFixed(6);
}

/** C `printf("%.6g", x)`: 6 significant digits, trailing zeros stripped, exponent of >= 2 digits. */
export function formatG6(x: number): string {
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  const exp = x.toExponential(5); // d.ddddde±X, rounded to 6 significant digits
  const eIdx = exp.indexOf('e');
  const e = Number(exp.slice(eIdx + 1));
  if (e < -4 || e >= 6) {
    const mant = stripZeros(exp.slice(0, eIdx));
    const sign = e < 0 ? '-' : '+';
    return `${mant}e${sign}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  return stripZeros(x.toFixed(5 - e));
}

function stripZeros(s: string): string {
  if (s.indexOf('.') < 0) return s;
  s = s.replace(/0+$/, '');
  return s.endsWith('.') ? s.slice(0, -1) : s;
}

/** The REAL stored in `samplerate`: mseedindex inserts the rate as `%.6g` SQL text. */
export function roundRate6(rate: number): number {
  return Number(formatG6(rate));
}

export interface TimeIndexEntry {
  /** Record start time (epoch ns). */
  ns: bigint;
  /** Byte offset of that record in the file. */
  offset: number;
}

/** `epoch=>offset,...,latest=>0|1` */
export function encodeTimeIndex(entries: readonly TimeIndexEntry[], latest: boolean): string {
  let s = '';
  for (const e of entries) s += `${formatFixed6(nsToEpochDouble(e.ns))}=>${e.offset},`;
  return s + (latest ? 'latest=>1' : 'latest=>0');
}

export interface ParsedTimeIndex {
  /** Entries in stored order: epoch seconds (microsecond precision) and byte offset. */
  entries: { epoch: number; offset: number }[];
  /** true when the section's records are in time order (index also locates the latest data). */
  latest: boolean | null;
}

/** Parse a timeindex string; returns null for NULL/empty or malformed text. */
export function parseTimeIndex(text: string | null | undefined): ParsedTimeIndex | null {
  if (!text) return null;
  const entries: { epoch: number; offset: number }[] = [];
  let latest: boolean | null = null;
  for (const part of text.split(',')) {
    const arrow = part.indexOf('=>');
    if (arrow < 0) return null;
    const key = part.slice(0, arrow).trim();
    const value = part.slice(arrow + 2).trim();
    if (key === 'latest') {
      latest = value === '1';
      continue;
    }
    const epoch = Number(key);
    const offset = Number(value);
    if (!Number.isFinite(epoch) || !Number.isInteger(offset)) return null;
    entries.push({ epoch, offset });
  }
  return { entries, latest };
}

export interface Span {
  startNs: bigint;
  endNs: bigint;
  /** Sample rate (Hz) of the record that started the span. */
  rate: number;
}

/** `[start:end],[start:end],...` with `%.6f` epochs. */
export function encodeTimeSpans(spans: readonly Span[]): string | null {
  if (spans.length === 0) return null;
  return spans.map((s) => `[${formatFixed6(nsToEpochDouble(s.startNs))}:${formatFixed6(nsToEpochDouble(s.endNs))}]`).join(',');
}

/** Parse timespans to [startEpoch, endEpoch] pairs (seconds); null for NULL/malformed. */
export function parseTimeSpans(text: string | null | undefined): [number, number][] | null {
  if (!text) return null;
  const out: [number, number][] = [];
  const re = /\[\s*([-+0-9.eE]+)\s*:\s*([-+0-9.eE]+)\s*\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    if (!Number.isFinite(a) || !Number.isFinite(b)) return null;
    out.push([a, b]);
  }
  return out.length > 0 ? out : null;
}

/** `r1,r2,...` with `%.6g`, one per span. */
export function encodeTimeRates(spans: readonly Span[]): string | null {
  if (spans.length === 0) return null;
  return spans.map((s) => formatG6(s.rate)).join(',');
}

export function parseTimeRates(text: string | null | undefined): number[] | null {
  if (!text) return null;
  const out = text.split(',').map((t) => Number(t.trim()));
  return out.every((n) => Number.isFinite(n)) ? out : null;
}
