/**
 * VLF/ELF spectral features of one station-day from the LONG std tile `std/vlf/<STA>/PT1M`
 * (one row per minute × frequency bin, ch1 = N-S, ch2 = E-W, per-minute median PSD in V²/Hz).
 *
 * products-methods §2 "VLF/ELF spectral features" ([E1], [V2]):
 * - band power BP = Σ_{f∈band} S(f)·Δf (V², uncalibrated: the ISEE gain table is not applied),
 *   bands 10–300 Hz, 0.3–3 kHz, 3–10 kHz, 10–20 kHz, per channel (`ns` = ch1, `ew` = ch2). The
 *   std layer already reduced the ≈ 0.41 s frames to the per-minute median spectrum, so the band
 *   power is taken of that median spectrum (not the median of per-frame band powers); the
 *   median keeps sferic bursts from dominating either way.
 * - Mains harmonics (k·50 Hz up to 3 kHz; Moshiri is on the 50 Hz Hokkaido grid) are masked: a
 *   bin is masked when a harmonic lies within half a bin (or 2 Hz) of its centre. Masked bins
 *   are never peak candidates; for band powers they are replaced by the log-linear
 *   interpolation of their clean neighbours — but only where the lines are resolved (bin width
 *   < base/2, e.g. the real 19.5 Hz ISEE bins). With wider bins (the demo's 78 Hz) every bin
 *   holds a harmonic, so band powers keep the mains power (`geonode.maskBandPower`), and only
 *   the bins of the strongest low-order harmonics (first 6, ≤ 300 Hz) are kept from being the
 *   peak — masking every bin up to 3 kHz would hide the natural ELF/VLF emissions there.
 * - Peak frequency = the highest local maximum of the masked spectrum, with its prominence in dB
 *   (scipy.signal.peak_prominences on 10·log10 S), per channel.
 * Daily P1D: `bp_<band>_<ch>` and `peak_freq_<ch>` are medians over the day's minutes (the
 *   background level); `bp_<band>_<ch>_hmax` is the largest hourly median of the day (bursts of
 *   an hour or more, see hourlyMedianMax).
 */
import { bandPower, binWidths, fillMasked, mainsMask, median, spectralPeak } from './dsp';
import { emptyTable, gridTs, MINUTE_MS, type FeatureTable } from './common';

export interface VlfParams {
  bands: [number, number][];
  mainsHz: number;
  mainsMaxHz: number;
  mainsHalfWidthHz: number;
  peakMinHz: number;
  /** With bins too wide to resolve the lines: mask only the bins of the first N harmonics. */
  unresolvedHarmonics: number;
}

export const DEFAULT_VLF_PARAMS: VlfParams = {
  bands: [
    [10, 300],
    [300, 3000],
    [3000, 10000],
    [10000, 20000],
  ],
  mainsHz: 50,
  mainsMaxHz: 3000,
  mainsHalfWidthHz: 2,
  peakMinHz: 10,
  unresolvedHarmonics: 6,
};

export const VLF_CHANNELS = [
  ['ch1', 'ns'],
  ['ch2', 'ew'],
] as const;

export const bandName = (b: [number, number]) => `${b[0]}_${b[1]}`;

export interface VlfSpectrumFeatures {
  /** band name → power (V²) */
  bands: Record<string, number>;
  peakFreq: number;
  peakProminenceDb: number;
}

/** Prepared per bin axis: widths, mask, whether band powers are masked. */
export interface VlfAxis {
  freqs: Float64Array;
  widths: Float64Array;
  mask: Uint8Array;
  maskBandPower: boolean;
}

export function vlfAxis(freqs: ArrayLike<number>, p: VlfParams = DEFAULT_VLF_PARAMS): VlfAxis {
  const f = Float64Array.from(freqs);
  const widths = binWidths(f);
  const resolved = median(widths) < p.mainsHz / 2;
  const maxHz = resolved ? p.mainsMaxHz : Math.min(p.mainsMaxHz, p.mainsHz * p.unresolvedHarmonics);
  const mask = mainsMask(f, p.mainsHz, maxHz, p.mainsHalfWidthHz);
  return { freqs: f, widths, mask, maskBandPower: resolved };
}

/** Band powers and peak of one spectrum (V²/Hz per bin). */
export function vlfSpectrumFeatures(axis: VlfAxis, psd: ArrayLike<number>, p: VlfParams = DEFAULT_VLF_PARAMS): VlfSpectrumFeatures {
  const s = axis.maskBandPower ? fillMasked(psd, axis.mask) : psd;
  const bands: Record<string, number> = {};
  for (const b of p.bands) bands[bandName(b)] = bandPower(axis.freqs, s, b[0], b[1], axis.widths);
  const pk = spectralPeak(axis.freqs, psd, { fmin: p.peakMinHz, mask: axis.mask });
  return { bands, peakFreq: pk.freq, peakProminenceDb: pk.prominenceDb };
}

export interface VlfDayFeatures {
  minute: FeatureTable;
  daily: FeatureTable;
}

/**
 * Features of one day from the long-format rows (sorted by ts then bin, as the std writer
 * stores them).
 */
export function vlfDayFeatures(
  day: number,
  rows: { ts: Float64Array; bin: Int32Array; freq: Float64Array; ch1: Float64Array; ch2: Float64Array },
  p: VlfParams = DEFAULT_VLF_PARAMS,
): VlfDayFeatures & { axis: VlfAxis | null } {
  const names: string[] = [];
  const units: Record<string, string> = {};
  for (const [, ch] of VLF_CHANNELS) {
    for (const b of p.bands) {
      names.push(`bp_${bandName(b)}_${ch}`);
      units[`bp_${bandName(b)}_${ch}`] = 'V^2';
    }
    names.push(`peak_freq_${ch}`, `peak_prom_${ch}`);
    units[`peak_freq_${ch}`] = 'Hz';
    units[`peak_prom_${ch}`] = 'dB';
  }
  const minute = emptyTable(gridTs(day, MINUTE_MS, 1440), names, units);
  const dailyNames = names.filter((n) => !n.startsWith('peak_prom_'));
  const bpNames = names.filter((n) => n.startsWith('bp_'));
  const dailyUnits: Record<string, string> = { ...units };
  for (const n of bpNames) dailyUnits[`${n}_hmax`] = units[n];
  const daily = emptyTable(Float64Array.of(day), [...dailyNames, ...bpNames.map((n) => `${n}_hmax`)], dailyUnits);
  const n = rows.ts.length;
  let axis: VlfAxis | null = null;
  let nb = 0;
  // bins of the first minute define the axis
  if (n > 0) {
    let j = 0;
    while (j < n && rows.ts[j] === rows.ts[0]) j++;
    nb = j;
    axis = vlfAxis(rows.freq.subarray(0, nb), p);
  }
  if (!axis) return { minute, daily, axis };
  const spec = { ch1: new Float64Array(nb), ch2: new Float64Array(nb) };
  let i = 0;
  while (i < n) {
    const t = rows.ts[i];
    let j = i;
    spec.ch1.fill(NaN);
    spec.ch2.fill(NaN);
    while (j < n && rows.ts[j] === t) {
      const b = rows.bin[j];
      if (b >= 0 && b < nb) {
        spec.ch1[b] = rows.ch1[j];
        spec.ch2[b] = rows.ch2[j];
      }
      j++;
    }
    const m = Math.floor((t - day) / MINUTE_MS);
    if (m >= 0 && m < 1440) {
      for (const [key, ch] of VLF_CHANNELS) {
        const f = vlfSpectrumFeatures(axis, spec[key], p);
        for (const [bn, v] of Object.entries(f.bands)) minute.columns[`bp_${bn}_${ch}`][m] = v;
        minute.columns[`peak_freq_${ch}`][m] = f.peakFreq;
        minute.columns[`peak_prom_${ch}`][m] = f.peakProminenceDb;
      }
    }
    i = j;
  }
  // Daily medians need ≥ 1 h of minutes (a few minutes of a partial day are not a daily value).
  for (const name of dailyNames) {
    const col = minute.columns[name];
    let c = 0;
    for (let k = 0; k < col.length; k++) if (col[k] === col[k]) c++;
    daily.columns[name][0] = c >= 60 ? median(col) : NaN;
  }
  for (const name of bpNames) daily.columns[`${name}_hmax`][0] = hourlyMedianMax(minute.columns[name]);
  return { minute, daily, axis };
}

/**
 * Largest hourly median of a day of minute values (hours with ≥ 30 valid minutes; NaN when
 * none). The daily median is the background level and hardly moves for an emission lasting an
 * hour or two (Hayakawa-type ELF/VLF bursts last tens of minutes to hours); the hourly median
 * keeps single sferic-rich minutes out, the maximum over hours catches such a burst.
 */
export function hourlyMedianMax(col: Float64Array): number {
  let best = NaN;
  const buf = new Float64Array(60);
  for (let h = 0; h * 60 < col.length; h++) {
    let k = 0;
    for (let m = h * 60; m < h * 60 + 60 && m < col.length; m++) if (col[m] === col[m]) buf[k++] = col[m];
    if (k < 30) continue;
    const v = median(buf.subarray(0, k));
    if (!(best >= v)) best = v;
  }
  return best;
}
