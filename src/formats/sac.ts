/**
 * SAC binary reader/writer (pure: Buffer in, plain objects out; no I/O).
 *
 * Layout (SAC manual, "SAC Data File Format"; verified on ../shared/data/sac):
 *   632-byte header = 70 float32 (bytes 0-279) + 40 int32 (280-439) + 192 bytes of
 *   8-character strings (kevnm is 16), then npts float32 samples (a second npts array for
 *   uneven or spectral files), then for header version 7 a footer of 22 float64 that carry
 *   the time/position fields in double precision.
 * Byte order is not flagged anywhere, so it is detected from nvhdr (6 or 7) read both ways.
 * "Undefined" is -12345.0 / -12345 / "-12345" and is returned as null.
 */
import { yearDayToNs } from './time';

export class SacError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SacError';
  }
}

export const SAC_HEADER_BYTES = 632;
const FLOAT_UNDEF = -12345;
const INT_UNDEF = -12345;
const STRING_UNDEF = '-12345';

/** Float header names in file order (index = position). `internalN`/`unusedN` keep slots. */
export const SAC_FLOAT_FIELDS = [
  'delta', 'depmin', 'depmax', 'scale', 'odelta', 'b', 'e', 'o', 'a', 'internal1',
  't0', 't1', 't2', 't3', 't4', 't5', 't6', 't7', 't8', 't9',
  'f', 'resp0', 'resp1', 'resp2', 'resp3', 'resp4', 'resp5', 'resp6', 'resp7', 'resp8',
  'resp9', 'stla', 'stlo', 'stel', 'stdp', 'evla', 'evlo', 'evel', 'evdp', 'mag',
  'user0', 'user1', 'user2', 'user3', 'user4', 'user5', 'user6', 'user7', 'user8', 'user9',
  'dist', 'az', 'baz', 'gcarc', 'sb', 'sdelta', 'depmen', 'cmpaz', 'cmpinc', 'xminimum',
  'xmaximum', 'yminimum', 'ymaximum', 'unused1', 'unused2', 'unused3', 'unused4', 'unused5', 'unused6', 'unused7',
] as const;

/** Integer (and logical) header names in file order. */
export const SAC_INT_FIELDS = [
  'nzyear', 'nzjday', 'nzhour', 'nzmin', 'nzsec', 'nzmsec', 'nvhdr', 'norid', 'nevid', 'npts',
  'nsnpts', 'nwfid', 'nxsize', 'nysize', 'unused8', 'iftype', 'idep', 'iztype', 'unused9', 'iinst',
  'istreg', 'ievreg', 'ievtyp', 'iqual', 'isynth', 'imagtyp', 'imagsrc', 'ibody', 'unused10', 'unused11',
  'unused12', 'unused13', 'unused14', 'unused15', 'unused16', 'leven', 'lpspol', 'lovrok', 'lcalda', 'unused17',
] as const;

/** String header names with their byte offset (from byte 440) and width. */
export const SAC_STRING_FIELDS: ReadonlyArray<readonly [SacStringName, number, number]> = [
  ['kstnm', 0, 8], ['kevnm', 8, 16], ['khole', 24, 8], ['ko', 32, 8], ['ka', 40, 8],
  ['kt0', 48, 8], ['kt1', 56, 8], ['kt2', 64, 8], ['kt3', 72, 8], ['kt4', 80, 8],
  ['kt5', 88, 8], ['kt6', 96, 8], ['kt7', 104, 8], ['kt8', 112, 8], ['kt9', 120, 8],
  ['kf', 128, 8], ['kuser0', 136, 8], ['kuser1', 144, 8], ['kuser2', 152, 8], ['kcmpnm', 160, 8],
  ['knetwk', 168, 8], ['kdatrd', 176, 8], ['kinst', 184, 8],
];

/** v7 footer: 22 float64 after the data, in this order (SAC 102 manual). */
const V7_FOOTER_FIELDS = [
  'delta', 'b', 'e', 'o', 'a', 't0', 't1', 't2', 't3', 't4', 't5', 't6', 't7', 't8', 't9',
  'f', 'evlo', 'evla', 'stlo', 'stla', 'sb', 'sdelta',
] as const;
const V7_FOOTER_BYTES = V7_FOOTER_FIELDS.length * 8;

export type SacFloatName = (typeof SAC_FLOAT_FIELDS)[number];
export type SacIntName = (typeof SAC_INT_FIELDS)[number];
export type SacStringName =
  | 'kstnm' | 'kevnm' | 'khole' | 'ko' | 'ka' | 'kt0' | 'kt1' | 'kt2' | 'kt3' | 'kt4' | 'kt5' | 'kt6'
  | 'kt7' | 'kt8' | 'kt9' | 'kf' | 'kuser0' | 'kuser1' | 'kuser2' | 'kcmpnm' | 'knetwk' | 'kdatrd' | 'kinst';

/** Every header value; null = undefined in the file. Floats are the float32 values widened to
 *  double (or the v7 footer doubles where present). */
export interface SacHeader {
  floats: Record<SacFloatName, number | null>;
  ints: Record<SacIntName, number | null>;
  strings: Record<SacStringName, string | null>;
}

/** SAC iftype enumerations we name (only ITIME is readable as samples). */
export const SAC_IFTYPE = { ITIME: 1, IRLIM: 2, IAMPH: 3, IXY: 4, IXYZ: 51 } as const;

export interface SacFile {
  byteOrder: 'LE' | 'BE';
  /** Header version (6 or 7). */
  nvhdr: 6 | 7;
  header: SacHeader;
  /** Samples of the evenly spaced time series. */
  data: Float32Array;
  /** Bytes after the data (and footer) that were ignored (0 for well-formed files). */
  trailingBytes: number;

  // Convenience views of the header (codes trimmed, '' when undefined).
  network: string;
  station: string;
  location: string;
  channel: string;
  stla: number | null;
  stlo: number | null;
  stel: number | null;
  stdp: number | null;
  cmpaz: number | null;
  cmpinc: number | null;
  /** FDSN dip = cmpinc − 90 (SAC cmpinc is measured from vertical-up, FDSN dip from horizontal, down positive). */
  dip: number | null;
  delta: number;
  sampleRate: number;
  b: number | null;
  npts: number;
  /** Reference time (nzyear…nzmsec) as epoch ns; null when any part is undefined. */
  referenceNs: bigint | null;
  /** Time of the first sample = reference + b (b rounded to the microsecond); null without reference. */
  startNs: bigint | null;
  evla: number | null;
  evlo: number | null;
  /** EVDP as stored. SAC defines km, but many writers store metres (shared samples: 24400, 10000). */
  evdp: number | null;
  /** EVDP in km: values above 1000 can only be metres (no earthquake is deeper than ~700 km). */
  evdpKm: number | null;
  mag: number | null;
  /** Origin time (reference + o) as epoch ns when both are defined. */
  originNs: bigint | null;
}

function emptyHeader(): SacHeader {
  const floats = {} as Record<SacFloatName, number | null>;
  for (const n of SAC_FLOAT_FIELDS) floats[n] = null;
  const ints = {} as Record<SacIntName, number | null>;
  for (const n of SAC_INT_FIELDS) ints[n] = null;
  const strings = {} as Record<SacStringName, string | null>;
  for (const [n] of SAC_STRING_FIELDS) strings[n] = null;
  return { floats, ints, strings };
}

/** A header with everything undefined except the fields SAC requires for a time series. */
export function newSacHeader(): SacHeader {
  const h = emptyHeader();
  h.ints.nvhdr = 6;
  h.ints.iftype = SAC_IFTYPE.ITIME;
  h.ints.leven = 1;
  h.floats.b = 0;
  h.floats.delta = 1;
  return h;
}

function decodeString(buf: Buffer, start: number, width: number): string | null {
  let raw = buf.toString('latin1', start, start + width);
  // Strings end at the first NUL (anything after it is garbage, see null_terminated.sac) or
  // are space padded.
  const nul = raw.indexOf('\0');
  if (nul >= 0) raw = raw.slice(0, nul);
  const s = raw.trim();
  if (s === STRING_UNDEF) return null;
  return s;
}

function detectByteOrder(buf: Buffer): 'LE' | 'BE' {
  const at = 280 + 6 * 4;
  const le = buf.readInt32LE(at);
  if (le === 6 || le === 7) return 'LE';
  const be = buf.readInt32BE(at);
  if (be === 6 || be === 7) return 'BE';
  throw new SacError(`not a SAC file: header version (nvhdr) is ${le} / ${be} in either byte order, expected 6 or 7`);
}

/** Round seconds to whole microseconds, as ns (float32 header values carry no more precision). */
function secondsToNs(s: number): bigint {
  return BigInt(Math.round(s * 1e6)) * 1000n;
}

/** Valid range of each reference-time field (SAC header definition; nzsec 60 is a leap second). */
const REFERENCE_FIELD_RANGES: [SacIntName, number, number][] = [
  ['nzyear', 0, 9999],
  ['nzjday', 1, 366],
  ['nzhour', 0, 23],
  ['nzmin', 0, 59],
  ['nzsec', 0, 60],
  ['nzmsec', 0, 999],
];

/**
 * Reference time (nzyear…nzmsec) as epoch ns, null when any part is undefined. A field out of
 * its range is a SacError: Date arithmetic would roll nzjday 400 into the next year and file
 * the data under a day it was not recorded on.
 */
function referenceTimeNs(ints: Record<SacIntName, number | null>): bigint | null {
  for (const [name] of REFERENCE_FIELD_RANGES) if (ints[name] === null) return null;
  for (const [name, lo, hi] of REFERENCE_FIELD_RANGES) {
    const v = ints[name] as number;
    if (v < lo || v > hi) throw new SacError(`invalid SAC header: ${name} is ${v}, outside ${lo}–${hi}`);
  }
  const year = ints.nzyear as number;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  if (ints.nzjday === 366 && !leap) throw new SacError(`invalid SAC header: nzjday is 366 in ${year}, not a leap year`);
  return yearDayToNs(year, ints.nzjday as number, ints.nzhour as number, ints.nzmin as number, ints.nzsec as number, (ints.nzmsec as number) * 1_000_000);
}

/** Parse a SAC binary file. Throws SacError for non-SAC, truncated, uneven or spectral files. */
export function readSac(buf: Buffer): SacFile {
  if (buf.length < SAC_HEADER_BYTES) {
    throw new SacError(`truncated SAC file: ${buf.length} bytes, the header alone needs ${SAC_HEADER_BYTES}`);
  }
  const byteOrder = detectByteOrder(buf);
  const le = byteOrder === 'LE';
  const header = emptyHeader();
  for (let i = 0; i < SAC_FLOAT_FIELDS.length; i++) {
    const v = le ? buf.readFloatLE(i * 4) : buf.readFloatBE(i * 4);
    header.floats[SAC_FLOAT_FIELDS[i]] = v === FLOAT_UNDEF ? null : v;
  }
  for (let i = 0; i < SAC_INT_FIELDS.length; i++) {
    const v = le ? buf.readInt32LE(280 + i * 4) : buf.readInt32BE(280 + i * 4);
    header.ints[SAC_INT_FIELDS[i]] = v === INT_UNDEF ? null : v;
  }
  for (const [name, off, width] of SAC_STRING_FIELDS) header.strings[name] = decodeString(buf, 440 + off, width);

  const nvhdr = header.ints.nvhdr as 6 | 7;
  const npts = header.ints.npts;
  if (npts === null || npts < 0) throw new SacError(`invalid SAC header: npts is ${npts ?? 'undefined'}`);
  // Only evenly spaced time series map onto miniSEED; the rest is refused loudly, not misread.
  const iftype = header.ints.iftype;
  if (iftype !== null && iftype !== SAC_IFTYPE.ITIME) {
    const kind = iftype === SAC_IFTYPE.IXY ? 'general x-y' : iftype === SAC_IFTYPE.IXYZ ? 'x-y-z' : 'spectral';
    throw new SacError(`unsupported SAC file: iftype ${iftype} (${kind}); only evenly sampled time series (ITIME) are supported`);
  }
  if (header.ints.leven === 0) {
    throw new SacError('unsupported SAC file: unevenly sampled (leven = false); only evenly sampled time series are supported');
  }
  const dataBytes = npts * 4;
  const footerBytes = nvhdr === 7 ? V7_FOOTER_BYTES : 0;
  const need = SAC_HEADER_BYTES + dataBytes + footerBytes;
  if (buf.length < need) {
    throw new SacError(
      `truncated SAC file: ${buf.length} bytes, need ${need} (632 header + ${npts} samples × 4${footerBytes ? ` + ${footerBytes} v7 footer` : ''})`,
    );
  }
  const data = new Float32Array(npts);
  for (let i = 0; i < npts; i++) {
    const p = SAC_HEADER_BYTES + i * 4;
    data[i] = le ? buf.readFloatLE(p) : buf.readFloatBE(p);
  }
  if (nvhdr === 7) {
    // The footer's doubles supersede the float32 header copies.
    const base = SAC_HEADER_BYTES + dataBytes;
    V7_FOOTER_FIELDS.forEach((name, i) => {
      const v = le ? buf.readDoubleLE(base + i * 8) : buf.readDoubleBE(base + i * 8);
      header.floats[name] = v === FLOAT_UNDEF ? null : v;
    });
  }
  const f = header.floats;
  const delta = f.delta;
  if (delta === null || !(delta > 0) || !Number.isFinite(delta)) throw new SacError(`invalid SAC header: delta is ${delta ?? 'undefined'}`);

  const referenceNs = referenceTimeNs(header.ints);
  // Undefined b is treated as 0 (first sample at the reference time), as ObsPy does.
  if (f.b !== null && !Number.isFinite(f.b)) throw new SacError(`invalid SAC header: b is ${f.b}`);
  const startNs = referenceNs === null ? null : referenceNs + secondsToNs(f.b ?? 0);
  // o is optional: a non-finite one is no origin time, not an unreadable file.
  const originNs = referenceNs === null || f.o === null || !Number.isFinite(f.o) ? null : referenceNs + secondsToNs(f.o);
  const s = header.strings;
  return {
    byteOrder,
    nvhdr,
    header,
    data,
    trailingBytes: buf.length - need,
    network: s.knetwk ?? '',
    station: s.kstnm ?? '',
    location: s.khole ?? '',
    channel: s.kcmpnm ?? '',
    stla: f.stla,
    stlo: f.stlo,
    stel: f.stel,
    stdp: f.stdp,
    cmpaz: f.cmpaz,
    cmpinc: f.cmpinc,
    dip: f.cmpinc === null ? null : f.cmpinc - 90,
    delta,
    sampleRate: 1 / delta,
    b: f.b,
    npts,
    referenceNs,
    startNs,
    evla: f.evla,
    evlo: f.evlo,
    evdp: f.evdp,
    evdpKm: f.evdp === null ? null : f.evdp > 1000 ? f.evdp / 1000 : f.evdp,
    mag: f.mag,
    originNs,
  };
}

export interface SacWriteOptions {
  /** 6 (default) or 7 (adds the float64 footer). */
  nvhdr?: 6 | 7;
}

/**
 * Write a little-endian SAC file from a header and samples. npts is taken from `data`; nvhdr
 * from options (default 6). Nulls are written as the SAC undefined values.
 */
export function writeSac(file: { header: SacHeader; data: ArrayLike<number> }, options: SacWriteOptions = {}): Buffer {
  const nvhdr = options.nvhdr ?? 6;
  const n = file.data.length;
  const footer = nvhdr === 7 ? V7_FOOTER_BYTES : 0;
  const out = Buffer.alloc(SAC_HEADER_BYTES + n * 4 + footer);
  const fl = file.header.floats;
  SAC_FLOAT_FIELDS.forEach((name, i) => out.writeFloatLE(fl[name] ?? FLOAT_UNDEF, i * 4));
  const ints: Record<SacIntName, number | null> = { ...file.header.ints, npts: n, nvhdr };
  SAC_INT_FIELDS.forEach((name, i) => out.writeInt32LE(ints[name] ?? INT_UNDEF, 280 + i * 4));
  for (const [name, off, width] of SAC_STRING_FIELDS) {
    const v = file.header.strings[name] ?? STRING_UNDEF;
    if (v.length > width) throw new SacError(`SAC string ${name} longer than ${width} characters: ${JSON.stringify(v)}`);
    out.write(v.padEnd(width, ' '), 440 + off, width, 'latin1');
  }
  for (let i = 0; i < n; i++) out.writeFloatLE(file.data[i], SAC_HEADER_BYTES + i * 4);
  if (nvhdr === 7) {
    const base = SAC_HEADER_BYTES + n * 4;
    V7_FOOTER_FIELDS.forEach((name, i) => out.writeDoubleLE(fl[name] ?? FLOAT_UNDEF, base + i * 8));
  }
  return out;
}

/**
 * True when every sample is an integer within int32 range, so the series can be stored
 * losslessly as Steim-2 integers; otherwise ingestion keeps float32. (An empty series is integral.)
 */
export function sacIsIntegral(samples: ArrayLike<number>): boolean {
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i];
    if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) return false;
  }
  return true;
}
