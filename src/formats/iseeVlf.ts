/**
 * ISEE (Nagoya Univ.) ELF/VLF spectra CDF loader (shared/docs/data-formats.md §3):
 * `isee_vlf_<sss>_<YYYYMMDDhh>_v<NN>.cdf` with `epoch_vlf` (TT2000), `freq_vlf` [1024] NRV,
 * `ch1` (N–S) / `ch2` (E–W) [n_time][1024] in V²/Hz, optional `amplitude_cal_vlf_ch1/2`.
 * Goes through the generic CDF reader, so majority, compression and blocking do not matter.
 * Missing values (FILLVAL −1e31, values ≤ 0, non-finite) become NaN: the spectra are
 * log-distributed, so ≤ 0 cannot be a real power (§3.3).
 */
import { CdfAttrValue, CdfFile, CdfType, openCdf, toEpochMs } from './cdf';

export interface IseeVlfCal {
  freqHz: Float64Array;
  /** Antenna-system gain G(f) in V/T. */
  gainVPerT: Float64Array;
}

export interface IseeVlfData {
  /** Three-letter station code, lower case (Station_code attribute, else from the file name). */
  station: string | null;
  stationName: string | null;
  /** Frame times, Unix ms UTC (TT2000 converted with leap seconds). */
  times: Float64Array;
  freqHz: Float32Array;
  /** N–S spectra, row-major [time][freq], V²/Hz; NaN where missing. */
  ch1: Float32Array;
  /** E–W spectra, row-major [time][freq], V²/Hz; NaN where missing. */
  ch2: Float32Array;
  nTime: number;
  nFreq: number;
  /**
   * Frames of the file dropped because their epoch_vlf is a fill/pad value (TT2000 −2^63, EPOCH
   * −1e31, the variable's FILLVAL) or otherwise not a valid time; counted over the whole file.
   */
  droppedFrames: number;
  units: { ch1: string | null; ch2: string | null; freq: string | null };
  cal: { ch1: IseeVlfCal | null; ch2: IseeVlfCal | null };
  attrs: {
    pi: string | null;
    piAffiliation: string | null;
    /** Rules of the road (TEXT entries joined by newlines). */
    text: string | null;
    linkText: string | null;
    latitude: number | null;
    longitude: number | null;
    elevation: number | null;
    /** Every global attribute, entries as read. */
    global: Record<string, CdfAttrValue[]>;
  };
}

export interface IseeVlfOptions {
  /** Keep only frames with startMs <= t < endMs (reads only the matching records). */
  startMs?: number;
  endMs?: number;
}

const FILE_RE = /isee_vlf_([a-z0-9]{3})_(\d{10})_v(\d+)\.cdf$/i;

export class IseeVlfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IseeVlfError';
  }
}

function firstText(cdf: CdfFile, ...names: string[]): string | null {
  for (const n of names) {
    const v = cdf.globalAttr(n);
    if (v && v.length) return v.map((x) => (typeof x === 'string' ? x : x.join(' '))).join('\n').trim() || null;
  }
  return null;
}

function firstNumber(cdf: CdfFile, pattern: RegExp): number | null {
  for (const [name, entries] of Object.entries(cdf.globalAttributes)) {
    if (!pattern.test(name) || !entries.length) continue;
    const v = entries[0].value;
    const n = typeof v === 'string' ? Number.parseFloat(v) : Number(v[0]);
    if (Number.isFinite(n)) return n;
  }
  return null;
}

function toF32(values: ArrayLike<number | bigint>): Float32Array {
  return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
}

/** Replace fill (±1e31 or the variable's FILLVAL), ≤ 0 and non-finite by NaN, in place. */
function cleanSpectra(a: Float32Array, fill: number | null): Float32Array {
  const f32fill = fill === null ? null : Math.fround(fill);
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (!(x > 0) || !Number.isFinite(x) || x === f32fill || Math.abs(x) >= 1e30) a[i] = NaN;
  }
  return a;
}

function readCal(cdf: CdfFile, name: string): IseeVlfCal | null {
  if (!cdf.hasVariable(name)) return null;
  const r = cdf.readVariable(name, { recStart: 0, recCount: Math.min(1, cdf.variable(name).numRecords) });
  const shape = r.shape.slice(1);
  const v = Float64Array.from(r.values as ArrayLike<number>);
  if (shape.length !== 2) return null;
  // [2][N] (row 0 freq, row 1 gain) or the transposed [N][2]: accept both (§3.2).
  if (shape[0] === 2) return { freqHz: v.slice(0, shape[1]), gainVPerT: v.slice(shape[1], 2 * shape[1]) };
  if (shape[1] === 2) {
    const n = shape[0];
    const f = new Float64Array(n);
    const g = new Float64Array(n);
    for (let i = 0; i < n; i++) (f[i] = v[2 * i], (g[i] = v[2 * i + 1]));
    return { freqHz: f, gainVPerT: g };
  }
  return null;
}

/** Largest |Unix ms| a JS Date (hence a tile period) can hold. */
const MAX_DATE_MS = 8.64e15;

/**
 * Open the file, check the ISEE variables and read epoch_vlf as Unix ms. An epoch that is the
 * type's fill or pad value (TT2000 −2^63 / −2^63+1, EPOCH −1e31 / 0, EPOCH16 likewise), the
 * variable's FILLVAL, non-finite or outside the Date range is not a time: it becomes NaN and is
 * counted, so its frame is dropped instead of reaching time arithmetic downstream.
 */
function openVlf(buf: Uint8Array): { cdf: CdfFile; times: Float64Array; dropped: number } {
  const cdf = openCdf(buf);
  for (const n of ['epoch_vlf', 'freq_vlf', 'ch1', 'ch2']) {
    if (!cdf.hasVariable(n)) throw new IseeVlfError(`not an ISEE VLF file: variable ${n} missing`);
  }
  const ev = cdf.variable('epoch_vlf');
  const raw = cdf.readVariable('epoch_vlf').values as ArrayLike<number | bigint>;
  const times = ev.type === CdfType.TIME_TT2000 || ev.type === CdfType.EPOCH || ev.type === CdfType.EPOCH16
    ? toEpochMs(raw, ev.type)
    : Float64Array.from(raw as ArrayLike<number>);
  const fa = ev.attrs.FILLVAL?.value;
  const fill = Array.isArray(fa) && fa.length === 1 ? fa[0] : undefined;
  const stride = ev.type === CdfType.EPOCH16 ? 2 : 1;
  let dropped = 0;
  for (let i = 0; i < times.length; i++) {
    if (!(Math.abs(times[i]) <= MAX_DATE_MS) || (fill !== undefined && raw[i * stride] === fill)) {
      times[i] = NaN;
      dropped++;
    }
  }
  return { cdf, times, dropped };
}

function stationOf(cdf: CdfFile, fileName?: string): string | null {
  let station = firstText(cdf, 'Station_code');
  const m = fileName ? FILE_RE.exec(fileName) : null;
  if (!station && m) station = m[1];
  return station ? station.toLowerCase() : null;
}

function readFreq(cdf: CdfFile): Float32Array {
  const freqRead = cdf.readVariable('freq_vlf', { recStart: 0, recCount: Math.min(1, cdf.variable('freq_vlf').numRecords) });
  return toF32(freqRead.values as ArrayLike<number>);
}

/** What ingest needs to plan its work, without decoding the spectra. */
export interface IseeVlfScan {
  station: string | null;
  /** Unix ms of the frames with a valid epoch, in record order. */
  times: Float64Array;
  /** Frames whose epoch_vlf is a fill/pad or invalid value (they are dropped on read). */
  droppedFrames: number;
  freqHz: Float32Array;
}

/**
 * Check an ISEE VLF file the way readIseeVlf would (variables, record counts, values per frame)
 * and return its valid frame times, reading only epoch_vlf and freq_vlf.
 */
export function scanIseeVlf(buf: Uint8Array, fileName?: string): IseeVlfScan {
  const { cdf, times, dropped } = openVlf(buf);
  const freqHz = readFreq(cdf);
  for (const name of ['ch1', 'ch2']) {
    const info = cdf.variable(name);
    if (info.numRecords < times.length) throw new IseeVlfError(`${name} has ${info.numRecords} records, epoch_vlf ${times.length}`);
    const perRec = info.recordShape.reduce((a, b) => a * b, 1);
    if (perRec !== freqHz.length) throw new IseeVlfError(`${name} has ${perRec} values per frame, freq_vlf ${freqHz.length}`);
  }
  return { station: stationOf(cdf, fileName), times: times.filter((t) => t === t), droppedFrames: dropped, freqHz };
}

/**
 * Records [recStart, recEnd) spanning the frames with a valid epoch inside [lo, hi) (frames are in
 * time order, so for a time subset that range is the subset); empty when there are none.
 */
function frameSpan(all: Float64Array, lo: number, hi: number): { recStart: number; recEnd: number } {
  let recStart = -1;
  let recEnd = 0;
  for (let i = 0; i < all.length; i++) {
    if (all[i] >= lo && all[i] < hi) {
      if (recStart < 0) recStart = i;
      recEnd = i + 1;
    }
  }
  return recStart < 0 ? { recStart: 0, recEnd: 0 } : { recStart, recEnd };
}

/** Parse an ISEE VLF CDF. fileName (optional) supplies the station when the attribute is missing. */
export function readIseeVlf(buf: Uint8Array, fileName?: string, opts: IseeVlfOptions = {}): IseeVlfData {
  const v = openVlf(buf);
  const lo = opts.startMs ?? -Infinity;
  const hi = opts.endMs ?? Infinity;
  const { recStart, recEnd } = frameSpan(v.times, lo, hi);
  return readFrames(v, fileName, recStart, recEnd, lo, hi);
}

/**
 * The same frames as readIseeVlf, decoded `chunkFrames` records at a time (default 1024): a file
 * of 1024 bins then has ~8 MB of decoded spectra at once, plus, for a compressed file, the
 * inflated block being read of each channel (kept between chunks so it is inflated once; a
 * whole hour when the writer made one block). Each chunk is an IseeVlfData of its own frames;
 * the metadata are the file's. The file is opened once.
 */
export function* readIseeVlfChunks(buf: Uint8Array, fileName?: string, opts: IseeVlfOptions & { chunkFrames?: number } = {}): Generator<IseeVlfData> {
  const v = openVlf(buf);
  const lo = opts.startMs ?? -Infinity;
  const hi = opts.endMs ?? Infinity;
  const { recStart, recEnd } = frameSpan(v.times, lo, hi);
  const step = Math.max(1, Math.floor(opts.chunkFrames ?? 1024));
  for (let s = recStart; s < recEnd; s += step) yield readFrames(v, fileName, s, Math.min(recEnd, s + step), lo, hi);
}

/** Frames of records [recStart, recEnd) with a valid epoch inside [lo, hi): the others are dropped. */
function readFrames(v: { cdf: CdfFile; times: Float64Array; dropped: number }, fileName: string | undefined, recStart: number, recEnd: number, lo: number, hi: number): IseeVlfData {
  const { cdf, times: all, dropped } = v;
  const span = recEnd - recStart;
  let nTime = 0;
  for (let i = recStart; i < recEnd; i++) if (all[i] >= lo && all[i] < hi) nTime++;
  const times = new Float64Array(nTime);
  const keep = nTime < span ? new Uint8Array(span) : null;
  for (let i = recStart, k = 0; i < recEnd; i++) {
    if (all[i] >= lo && all[i] < hi) {
      times[k++] = all[i];
      if (keep) keep[i - recStart] = 1;
    }
  }
  const freqHz = readFreq(cdf);
  const nFreq = freqHz.length;
  const chan = (name: string): Float32Array => {
    const info = cdf.variable(name);
    if (info.numRecords < recEnd) throw new IseeVlfError(`${name} has ${info.numRecords} records, epoch_vlf ${all.length}`);
    const r = cdf.readVariable(name, { recStart, recCount: span });
    const perRec = r.shape.slice(1).reduce((a, b) => a * b, 1);
    if (perRec !== nFreq) throw new IseeVlfError(`${name} has ${perRec} values per frame, freq_vlf ${nFreq}`);
    let out = r.values instanceof Float32Array ? r.values : Float32Array.from(r.values as ArrayLike<number>);
    if (keep) {
      let o = 0;
      for (let k = 0; k < span; k++) {
        if (!keep[k]) continue;
        if (o !== k) out.copyWithin(o * nFreq, k * nFreq, (k + 1) * nFreq);
        o++;
      }
      out = out.subarray(0, nTime * nFreq);
    }
    const fa = info.attrs.FILLVAL?.value;
    const fill = Array.isArray(fa) && typeof fa[0] === 'number' ? (fa[0] as number) : null;
    return cleanSpectra(out, fill);
  };
  const unit = (n: string): string | null => {
    const u = cdf.hasVariable(n) ? cdf.variable(n).attrs.UNITS?.value : undefined;
    return typeof u === 'string' ? u.trim() : null;
  };

  const station = stationOf(cdf, fileName);
  const global: Record<string, CdfAttrValue[]> = {};
  for (const [k, v] of Object.entries(cdf.globalAttributes)) global[k] = v.map((e) => e.value);

  return {
    station,
    stationName: firstText(cdf, 'Station_name'),
    times,
    freqHz,
    ch1: chan('ch1'),
    ch2: chan('ch2'),
    nTime,
    nFreq,
    droppedFrames: dropped,
    units: { ch1: unit('ch1'), ch2: unit('ch2'), freq: unit('freq_vlf') },
    cal: { ch1: readCal(cdf, 'amplitude_cal_vlf_ch1'), ch2: readCal(cdf, 'amplitude_cal_vlf_ch2') },
    attrs: {
      pi: firstText(cdf, 'PI_name'),
      piAffiliation: firstText(cdf, 'PI_affiliation'),
      text: firstText(cdf, 'TEXT'),
      linkText: firstText(cdf, 'LINK_TEXT'),
      latitude: firstNumber(cdf, /^(station_)?(geographic_)?lat(itude)?$/i),
      longitude: firstNumber(cdf, /^(station_)?(geographic_)?lon(gitude)?$/i),
      elevation: firstNumber(cdf, /^(station_)?(elevation|elev|altitude|alt)$/i),
      global,
    },
  };
}
