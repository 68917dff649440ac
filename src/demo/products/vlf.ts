/**
 * Synthetic ISEE ELF/VLF spectra for Moshiri as hourly CDF files
 * `products/vlf/MOS/YYYY/MM/isee_vlf_mos_YYYYMMDDhh_v01.cdf` (data-formats.md §3).
 *
 * REDUCED on purpose (real hour files would make the demo ~5 GB): one frame every 10 s instead
 * of ≈0.4096 s (360 instead of ≈8,646 frames per hour) and 256 frequency bins — every 4th bin
 * of the real 1,024-bin axis 10 + 19.53125·k Hz, so 10 … 19,932 Hz in 78.125 Hz steps — instead
 * of 1,024. Variables, types, attributes and layout are otherwise those of §3.2 (REAL4 ch1/ch2
 * [time][freq] in V²/Hz, FILLVAL −1e31, TT2000 epoch_vlf, NRV freq_vlf, calibration tables),
 * with per-variable GZIP like the real files probably have. truth.json repeats this.
 *
 * Spectrum model per frame (10-s average) and channel (ch1 N–S, ch2 E–W), V²/Hz:
 *  - natural background falling with frequency (∝ f^-1.5) over a receiver floor, raised at
 *    night above ~2 kHz (less D-region absorption), plus night-time hiss (0.8–8 kHz, +4 dB),
 *    storm-time chorus (scenario storms) and injected band enhancements (scenario anomalies);
 *  - 50 Hz mains harmonics (Hokkaido grid; odd harmonics strongest, more load by day, EW > NS);
 *  - sferics: a Poisson number per frame (more at night and in the local afternoon), each with a
 *    random arrival azimuth splitting its energy between NS and EW, spectrum peaking ≈6 kHz;
 *  - day-to-day levels (see dayLevel): background ±1.5 dB, sferic rate ±25 %, mains ±8 % (1σ);
 *  - ±1.2 dB (1σ) estimation noise per value.
 * The calibration tables are plausible search-coil gains (V/T), not Moshiri's.
 */
import { CdfType, TT2000_FILL, unixMsToTt2000, writeCdf } from '../../formats/cdf';
import { writeProductFile, type ProductFileTruth } from './common';
import { gaussAt, hash3, seedOf, smoothstep, taper, uniformAt } from './noise';
import { isoMs, resolveTime, VLF_STATION, type ProductsScenario } from './scenario';

const M = Math; // see noise.ts

export const VLF_FRAME_SECONDS = 10;
export const VLF_BINS = 256;
/** Real axis: 1,024 bins, 10 Hz + k·40,000/2,048 Hz; the demo keeps every 4th. */
export const VLF_REAL = { frameSeconds: 0.4096, framesPerHour: 8646, bins: 1024, f0: 10, df: 40000 / 2048 };
export const VLF_FILL = -1e31;
const LN10_10 = M.log(10) / 10;
/** Fixed so that two runs write identical bytes. */
const GENERATION_DATE = '20201001';

export function vlfFrequencies(): Float32Array {
  return Float32Array.from({ length: VLF_BINS }, (_, k) => VLF_REAL.f0 + 4 * k * VLF_REAL.df);
}

interface Profiles {
  freq: Float32Array;
  bg: Float64Array;
  nightGain: Float64Array;
  mains: Float64Array;
  sferic: Float64Array;
  hiss: Float64Array;
}

function profiles(): Profiles {
  const freq = vlfFrequencies();
  const n = freq.length;
  const bw = 4 * VLF_REAL.df;
  const bg = new Float64Array(n);
  const nightGain = new Float64Array(n);
  const mains = new Float64Array(n);
  const sferic = new Float64Array(n);
  const hiss = new Float64Array(n);
  for (let b = 0; b < n; b++) {
    const f = freq[b];
    bg[b] = 2e-13 * (f / 1000) ** -1.5 + 4e-16;
    nightGain[b] = 1 + 3 * smoothstep(1500, 4000, f);
    // Harmonic power spread over the bin width (each 78 Hz bin sees one or two harmonics).
    for (let h = 1; h <= 60; h++) {
      const fh = 50 * h;
      const w = M.exp(-0.5 * ((f - fh) / (0.45 * bw)) ** 2);
      if (w > 1e-4) mains[b] += w * 6e-10 * h ** -2.2 * (h % 2 ? 1 : 0.25);
    }
    sferic[b] = M.exp(-0.5 * ((M.log10(f) - M.log10(6000)) / 0.35) ** 2) + 0.05 * (f / 1000) ** -1;
    hiss[b] = M.exp(-0.5 * ((M.log10(f) - M.log10(2500)) / 0.25) ** 2);
  }
  return { freq, bg, nightGain, mains, sferic, hiss };
}

/** Local time of Moshiri (h) and a smooth night weight (1 at night, 0 by day). */
function nightWeight(tSec: number): { lt: number; night: number } {
  const lh = tSec / 3600 + VLF_STATION.longitude / 15;
  const lt = lh - 24 * M.floor(lh / 24);
  return { lt, night: smoothstep(0.3, 0.7, 0.5 + 0.5 * M.cos((2 * M.PI * lt) / 24)) };
}

interface Injections {
  storms: Array<{ start: number; end: number; db: number }>;
  bands: Array<{ start: number; end: number; db: number; mask: Float64Array }>;
}

function injections(scenario: ProductsScenario, p: Profiles): Injections {
  return {
    storms: scenario.storms.map((s) => {
      const start = resolveTime(s.ssc) / 1000;
      return { start, end: start + s.vlfHours * 3600, db: s.vlfChorusDb };
    }),
    bands: scenario.anomalies
      .filter((a) => a.source === 'vlf' && a.station === VLF_STATION.code)
      .map((a) => {
        if (a.kind !== 'vlf-band-enhancement' || !a.bandHz) throw new Error(`vlf anomaly ${a.id}: unsupported kind ${a.kind} (or no bandHz)`);
        const [f1, f2] = a.bandHz;
        const mask = Float64Array.from(p.freq, (f) => smoothstep(f1 * 0.9, f1 * 1.1, f) * (1 - smoothstep(f2 * 0.9, f2 * 1.1, f)));
        return { start: resolveTime(a.start) / 1000, end: resolveTime(a.end) / 1000, db: a.amplitude, mask };
      }),
  };
}

/**
 * 10^(1.2 dB · g / 10) for the near-Gaussian g of gaussFromHash (sum of the hash's 4 bytes):
 * only 1,021 possible sums, so a table replaces exp() (the hot loop writes ~13 M values).
 */
const sS = seedOf('vlf', 'sferic');
const s1 = seedOf('vlf', 'noise', 'ch1');
const s2 = seedOf('vlf', 'noise', 'ch2');
const NOISE_TABLE = Float64Array.from({ length: 1021 }, (_, sum) => M.exp(1.2 * ((sum - 510) / M.sqrt((4 * (256 * 256 - 1)) / 12)) * LN10_10));
function noiseFactor(seed: number, i: number): number {
  const h = hash3(seed, i >>> 0, M.floor(i / 4294967296) >>> 0);
  return NOISE_TABLE[(h & 255) + ((h >>> 8) & 255) + ((h >>> 16) & 255) + (h >>> 24)];
}

/**
 * Slow day-to-day level (unit-σ Gaussian values at each UTC noon, linearly interpolated): real
 * ELF/VLF levels change from day to day with D-region conditions, global thunderstorm activity
 * and grid load; without it every daily median would repeat to a fraction of a dB and any
 * small shift would look anomalous.
 */
function dayLevel(seed: number, t: number): number {
  const x = t / 86400 - 0.5;
  const d = M.floor(x);
  const f = x - d;
  return (1 - f) * gaussAt(seed, d) + f * gaussAt(seed, d + 1);
}
const sLevelBg = seedOf('vlf', 'day-level', 'background');
const sLevelSf = seedOf('vlf', 'day-level', 'sferics');
const sLevelMains = seedOf('vlf', 'day-level', 'mains');

/** Spectra of one frame (epoch s) into ch1/ch2 at offset o: a function of t alone. */
function synthFrame(p: Profiles, inj: Injections, t: number, ch1: Float32Array, ch2: Float32Array, o: number): void {
  const n = p.freq.length;
  const fi = M.round(t / VLF_FRAME_SECONDS); // absolute frame number: the noise stream index
  const { lt, night } = nightWeight(t);
  // Sferics: Poisson count, exponential energies, azimuth splits NS/EW.
  const lambda = (3 + 5 * night + 4 * M.exp(-(((lt - 15) / 2.5) ** 2))) * M.exp(0.25 * dayLevel(sLevelSf, t));
  let count = 0;
  for (let prod = uniformAt(sS, fi * 64); prod > M.exp(-lambda) && count < 60; count++) prod *= uniformAt(sS, fi * 64 + count + 1);
  let e1 = 0;
  let e2 = 0;
  for (let i = 0; i < count; i++) {
    const e = -M.log(1 - uniformAt(sS ^ 0x5bd1e995, fi * 64 + i)) * 4e-14;
    const az = M.PI * uniformAt(sS ^ 0x27d4eb2f, fi * 64 + i);
    e1 += e * M.cos(az) ** 2;
    e2 += e * M.sin(az) ** 2;
  }
  const load = (1 + 0.3 * (1 - night)) * (1 + 0.08 * dayLevel(sLevelMains, t));
  const level = M.exp(1.5 * dayLevel(sLevelBg, t) * LN10_10); // ±1.5 dB (1σ) background
  // Chorus centre drifts (rising/falling elements averaged over a frame).
  let chorusDb = 0;
  for (const s of inj.storms) chorusDb += s.db * taper(t, s.start, s.end, 1800);
  const fc = 2500 * (1 + 0.25 * M.sin((2 * M.PI * t) / 900));
  const hissDb = 4 * night;
  const bandEnv = inj.bands.map((b) => b.db * taper(t, b.start, b.end, 600));
  for (let b = 0; b < n; b++) {
    let gDb = hissDb * p.hiss[b];
    if (chorusDb > 0) gDb += chorusDb * M.exp(-0.5 * ((M.log10(p.freq[b]) - M.log10(fc)) / 0.25) ** 2);
    for (let j = 0; j < inj.bands.length; j++) if (bandEnv[j] !== 0) gDb += bandEnv[j] * inj.bands[j].mask[b];
    let natural = level * p.bg[b] * (1 + (p.nightGain[b] - 1) * night);
    if (gDb !== 0) natural *= M.exp(gDb * LN10_10);
    const idx = fi * n + b;
    ch1[o + b] = (natural + load * p.mains[b] + e1 * p.sferic[b]) * noiseFactor(s1, idx);
    ch2[o + b] = (0.85 * natural + 1.6 * load * p.mains[b] + e2 * p.sferic[b]) * noiseFactor(s2, idx);
  }
}

/** Plausible search-coil gains (V/T): rising as f below ~300 Hz, flat above. */
function calTable(scale: number): Float32Array {
  const N = 64;
  const out = new Float32Array(2 * N);
  for (let i = 0; i < N; i++) {
    const f = 10 * 2000 ** (i / (N - 1));
    out[i] = f;
    out[N + i] = scale * 1.2e6 * (f / 300) / M.sqrt(1 + (f / 300) ** 2);
  }
  return out;
}

/**
 * Keep 7 of the 23 mantissa bits (≤ 0.4 %, 0.02 dB: far below the 1.2 dB estimation noise) so
 * that GZIP halves the files; full-precision noise would barely compress. FILLVAL is untouched.
 */
function quantize(a: Float32Array): void {
  const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
  for (let i = 0; i < u.length; i++) if (a[i] !== VLF_FILL_F32) u[i] = (u[i] + 0x8000) & 0xffff0000;
}
const VLF_FILL_F32 = M.fround(VLF_FILL);

export interface VlfResult {
  files: ProductFileTruth[];
  missingFiles: string[];
}

/** One CDF per UTC hour of [firstDayMs, +days), except the scenario's missing hours. */
export function writeVlfFiles(root: string, scenario: ProductsScenario, firstDayMs: number, days: number): VlfResult {
  const p = profiles();
  const inj = injections(scenario, p);
  const gaps = scenario.gaps.filter((g) => g.source === 'vlf' && g.station === VLF_STATION.code).map((g) => ({ ...g, a: resolveTime(g.start), b: resolveTime(g.end) }));
  const code = VLF_STATION.code.toLowerCase();
  const cal1 = calTable(1);
  const cal2 = calTable(0.95);
  const out: VlfResult = { files: [], missingFiles: [] };
  for (let h = 0; h < days * 24; h++) {
    const hourMs = firstDayMs + h * 3_600_000;
    const stamp = new Date(hourMs).toISOString();
    const yyyymmddhh = stamp.slice(0, 13).replace(/[-T]/g, '');
    const rel = `products/vlf/${VLF_STATION.code}/${stamp.slice(0, 4)}/${stamp.slice(5, 7)}/isee_vlf_${code}_${yyyymmddhh}_v01.cdf`;
    if (gaps.some((g) => g.vlfMode === 'file' && g.a < hourMs + 3_600_000 && g.b > hourMs)) {
      out.missingFiles.push(rel);
      continue;
    }
    const frames: number[] = [];
    for (let k = 0; k < 3600 / VLF_FRAME_SECONDS; k++) {
      const t = hourMs + k * VLF_FRAME_SECONDS * 1000;
      if (!gaps.some((g) => g.vlfMode === 'drop' && t >= g.a && t < g.b)) frames.push(t);
    }
    const nb = VLF_BINS;
    const ch1 = new Float32Array(frames.length * nb);
    const ch2 = new Float32Array(frames.length * nb);
    const fillFrames = { ch1: 0, ch2: 0 };
    frames.forEach((t, i) => {
      synthFrame(p, inj, t / 1000, ch1, ch2, i * nb);
      for (const g of gaps) {
        if (g.vlfMode !== 'fill' || t < g.a || t >= g.b) continue;
        for (const ch of g.elements ?? ['ch1', 'ch2']) {
          (ch === 'ch1' ? ch1 : ch2).fill(VLF_FILL, i * nb, (i + 1) * nb);
          fillFrames[ch as 'ch1' | 'ch2']++;
        }
      }
    });
    quantize(ch1);
    quantize(ch2);
    const id = `isee_vlf_${code}_${yyyymmddhh}_v01`;
    const spec = (name: 'ch1' | 'ch2', values: Float32Array) => ({
      name,
      type: CdfType.REAL4,
      dims: [nb],
      values,
      compress: 'gzip' as const,
      gzipLevel: 1,
      // Several CVVR blocks per variable (VXR entries), as long real files have.
      blockRecords: 90,
      attrs: {
        CATDESC: `${name === 'ch1' ? 'N-S' : 'E-W'} search-coil power spectral density (uncalibrated)`,
        FIELDNAM: name,
        UNITS: 'V^2/Hz',
        FILLVAL: VLF_FILL,
        VALIDMIN: 0,
        VALIDMAX: 1e10,
        DEPEND_0: 'epoch_vlf',
        DEPEND_1: 'freq_vlf',
        DISPLAY_TYPE: 'spectrogram',
        SCALETYP: 'log',
        VAR_TYPE: 'data',
      },
    });
    const buf = writeCdf({
      littleEndian: true,
      globalAttributes: {
        Project: 'ISEE ELF/VLF network (format only: SYNTHETIC DEMO DATA)',
        Source_name: 'ISEE>Institute for Space-Earth Environmental Research, Nagoya University',
        Station_code: code,
        Station_name: VLF_STATION.name,
        Geographic_latitude: { type: CdfType.REAL8, value: [VLF_STATION.latitude] },
        Geographic_longitude: { type: CdfType.REAL8, value: [VLF_STATION.longitude] },
        Elevation: { type: CdfType.REAL8, value: [VLF_STATION.elevation] },
        Logical_file_id: id,
        Logical_source: `isee_vlf_${code}`,
        Logical_source_description: 'ELF/VLF power spectra of two horizontal search-coil antennas (ch1 N-S, ch2 E-W)',
        Data_version: '01',
        Generation_date: GENERATION_DATE,
        PI_name: 'N/A (synthetic demo data)',
        PI_affiliation: 'N/A (synthetic demo data)',
        TEXT: [
          'SYNTHETIC DEMO DATA written by geonode generate; not ISEE data.',
          `Reduced from the real product: one ${VLF_FRAME_SECONDS}-s frame (real ~0.4096 s) and ${VLF_BINS} bins (every 4th of the real 1024, 10-19932 Hz).`,
          'Injected storms, anomalies and gaps: see products/truth.json.',
        ],
        LINK_TEXT: 'Real data: ERG Science Center, https://ergsc.isee.nagoya-u.ac.jp/',
      },
      variables: [
        { name: 'epoch_vlf', type: CdfType.TIME_TT2000, values: BigInt64Array.from(frames, (t) => unixMsToTt2000(t)), attrs: { CATDESC: 'frame start time', FIELDNAM: 'epoch_vlf', UNITS: 'ns', FILLVAL: TT2000_FILL, VAR_TYPE: 'support_data' } },
        { name: 'freq_vlf', type: CdfType.REAL4, dims: [nb], recVary: false, values: p.freq, attrs: { CATDESC: 'bin centre frequency', FIELDNAM: 'freq_vlf', UNITS: 'Hz', VAR_TYPE: 'support_data' } },
        spec('ch1', ch1),
        spec('ch2', ch2),
        { name: 'amplitude_cal_vlf_ch1', type: CdfType.REAL4, dims: [2, 64], recVary: false, values: cal1, attrs: { CATDESC: 'row 0 frequency (Hz), row 1 antenna-system gain (V/T), ch1', VAR_TYPE: 'support_data' } },
        { name: 'amplitude_cal_vlf_ch2', type: CdfType.REAL4, dims: [2, 64], recVary: false, values: cal2, attrs: { CATDESC: 'row 0 frequency (Hz), row 1 antenna-system gain (V/T), ch2', VAR_TYPE: 'support_data' } },
      ],
    });
    const w = writeProductFile(root, rel, buf);
    const sentinels: NonNullable<ProductFileTruth['sentinels']> = {};
    if (fillFrames.ch1) sentinels.ch1 = { fillFrames: fillFrames.ch1 };
    if (fillFrames.ch2) sentinels.ch2 = { fillFrames: fillFrames.ch2 };
    out.files.push({
      ...w,
      source: 'vlf',
      station: VLF_STATION.code,
      cadence: `PT${VLF_FRAME_SECONDS}S`,
      first: isoMs(frames[0]),
      last: isoMs(frames[frames.length - 1]),
      rows: frames.length,
      ...(Object.keys(sentinels).length ? { sentinels } : {}),
    });
  }
  return out;
}
