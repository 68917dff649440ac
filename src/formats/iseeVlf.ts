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

/** Parse an ISEE VLF CDF. fileName (optional) supplies the station when the attribute is missing. */
export function readIseeVlf(buf: Uint8Array, fileName?: string, opts: IseeVlfOptions = {}): IseeVlfData {
  const cdf = openCdf(buf);
  for (const n of ['epoch_vlf', 'freq_vlf', 'ch1', 'ch2']) {
    if (!cdf.hasVariable(n)) throw new IseeVlfError(`not an ISEE VLF file: variable ${n} missing`);
  }
  const ev = cdf.variable('epoch_vlf');
  const allTimes = cdf.readVariable('epoch_vlf');
  let times = ev.type === CdfType.TIME_TT2000 || ev.type === CdfType.EPOCH || ev.type === CdfType.EPOCH16
    ? toEpochMs(allTimes.values as ArrayLike<number | bigint>, ev.type)
    : Float64Array.from(allTimes.values as ArrayLike<number>);
  // Time subset → record range (frames are in time order); only those records of ch1/ch2 are read.
  let recStart = 0;
  let recEnd = times.length;
  if (opts.startMs !== undefined || opts.endMs !== undefined) {
    const lo = opts.startMs ?? -Infinity;
    const hi = opts.endMs ?? Infinity;
    while (recStart < recEnd && !(times[recStart] >= lo)) recStart++;
    let e = recStart;
    while (e < times.length && times[e] < hi) e++;
    recEnd = e;
    times = times.slice(recStart, recEnd);
  }
  const freqRead = cdf.readVariable('freq_vlf', { recStart: 0, recCount: Math.min(1, cdf.variable('freq_vlf').numRecords) });
  const freqHz = toF32(freqRead.values as ArrayLike<number>);
  const nFreq = freqHz.length;
  const nTime = recEnd - recStart;
  const chan = (name: string): Float32Array => {
    const info = cdf.variable(name);
    const avail = Math.min(info.numRecords, recEnd) - recStart;
    if (avail < nTime) throw new IseeVlfError(`${name} has ${info.numRecords} records, epoch_vlf ${times.length + recStart}`);
    const r = cdf.readVariable(name, { recStart, recCount: nTime });
    const perRec = r.shape.slice(1).reduce((a, b) => a * b, 1);
    if (perRec !== nFreq) throw new IseeVlfError(`${name} has ${perRec} values per frame, freq_vlf ${nFreq}`);
    const out = r.values instanceof Float32Array ? r.values : Float32Array.from(r.values as ArrayLike<number>);
    const fa = info.attrs.FILLVAL?.value;
    const fill = Array.isArray(fa) && typeof fa[0] === 'number' ? (fa[0] as number) : null;
    return cleanSpectra(out, fill);
  };
  const unit = (n: string): string | null => {
    const u = cdf.hasVariable(n) ? cdf.variable(n).attrs.UNITS?.value : undefined;
    return typeof u === 'string' ? u.trim() : null;
  };

  let station = firstText(cdf, 'Station_code');
  const m = fileName ? FILE_RE.exec(fileName) : null;
  if (!station && m) station = m[1];
  const global: Record<string, CdfAttrValue[]> = {};
  for (const [k, v] of Object.entries(cdf.globalAttributes)) global[k] = v.map((e) => e.value);

  return {
    station: station ? station.toLowerCase() : null,
    stationName: firstText(cdf, 'Station_name'),
    times,
    freqHz,
    ch1: chan('ch1'),
    ch2: chan('ch2'),
    nTime,
    nFreq,
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
