/**
 * Seismic features of one station-day, decoded from the miniSEED records the waveform index
 * (tsindex) points at (the same day grids as products/seismic.ts), plus availability from the
 * index's time spans.
 *
 * Per channel `<LOC_>CHA` (blank location → `CHA`), per minute (PT1M):
 * - `rms_<cha>` (counts): √(mean (x − x̄)²) over the minute (MUSTANG sample_rms of the demeaned
 *   minute: the DC offset of raw counts would otherwise dominate).
 * - `stalta_max_<cha>`: max of the classic STA/LTA, STA 3 s / LTA 30 s (IRISSeismic STALTA
 *   defaults, MUSTANG max_stalta; ObsPy classic_sta_lta, Allen 1978), computed on the trace
 *   high-passed at 1 Hz (4th-order Butterworth) so microseisms and drift do not mask events.
 * - `bp_<cha>` (counts²): Welch band power Σ S(f)Δf in 1–10 Hz (capped at 0.9 × Nyquist), and
 *   `peak_freq_<cha>` (Hz): the highest spectral peak above 0.05 Hz. Welch on the minute, Hann,
 *   50 % overlap, nfft the largest power of two giving ≥ 4 segments.
 * Per day (P1D): `rms_median_<cha>`, `stalta_max_<cha>`, `bp_median_<cha>`,
 *   `peak_freq_median_<cha>`, `availability_pct_<cha>` and `gaps_<cha>` (from the index time
 *   spans, MUSTANG percent_availability / num_gaps style: % of the UTC day covered by
 *   continuous segments, each sample counting one period; gaps = holes in the day's coverage
 *   longer than 1.5 sample periods, leading/trailing ones included), and the component energy
 *   ratios `ratio_EZ`, `ratio_NZ`, `ratio_EN` of Pedersen et al. 2020 (SRL 91(1):272, "China
 *   Earthquake Networks" station QC): band-pass 0.01–5 Hz, energy Σx² per 5-min window on
 *   each component, daily median of the per-window ratios. Jumps reveal gain, metadata or
 *   orientation problems. Components: the first (location, band+instrument) group holding Z
 *   and N|1 and E|2.
 */
import type Database from 'better-sqlite3';
import { continuousSegments, findSections } from '../../index/select';
import type { Section } from '../../index/types';
import { bandPower, bandpassRuns, chooseNfft, classicStaLta, median, nanMax, spectralPeak, welch } from './dsp';
import { DAY_MS, emptyTable, gridTs, MINUTE_MS, type FeatureTable } from './common';
import { readChannelDay } from '../seismicSamples';

const { sqrt, round, floor, min, max } = Math;

export interface SeismicParams {
  staSec: number;
  ltaSec: number;
  staltaHighpassHz: number;
  band: [number, number];
  peakMinHz: number;
  ratioBand: [number, number];
  ratioWindowSec: number;
  /** Minimum valid fraction of a window / minute. */
  minValidFraction: number;
}

export const DEFAULT_SEISMIC_PARAMS: SeismicParams = {
  staSec: 3,
  ltaSec: 30,
  staltaHighpassHz: 1,
  band: [1, 10],
  peakMinHz: 0.05,
  ratioBand: [0.01, 5],
  ratioWindowSec: 300,
  minValidFraction: 0.9,
};

/** Channel label as in the std seismic tiles. */
export const chanLabel = (location: string, channel: string) => (location ? `${location}_${channel}` : channel);

/**
 * Component energy ratios (Pedersen et al. 2020): per window of `winSamples` with ≥ minValid
 * valid samples on all three, E_ij = Σx_i² / Σx_j²; the daily value is the median over windows.
 * Inputs are the (already band-passed) E, N, Z series on the same sample grid.
 */
export function energyRatios(E: Float64Array, N: Float64Array, Z: Float64Array, winSamples: number, minValidFraction = 0.9): { EZ: number; NZ: number; EN: number; windows: number } {
  const n = min(E.length, N.length, Z.length);
  const ez: number[] = [];
  const nz: number[] = [];
  const en: number[] = [];
  for (let s = 0; s + winSamples <= n; s += winSamples) {
    let se = 0;
    let sn = 0;
    let sz = 0;
    let c = 0;
    for (let k = s; k < s + winSamples; k++) {
      const e = E[k];
      const nn = N[k];
      const z = Z[k];
      if (e !== e || nn !== nn || z !== z) continue;
      c++;
      se += e * e;
      sn += nn * nn;
      sz += z * z;
    }
    if (c < minValidFraction * winSamples || !(sz > 0) || !(sn > 0)) continue;
    ez.push(se / sz);
    nz.push(sn / sz);
    en.push(se / sn);
  }
  return { EZ: median(ez), NZ: median(nz), EN: median(en), windows: ez.length };
}

/** Per-minute rms (demeaned), STA/LTA max, band power and peak of one channel-day. */
export function channelMinuteFeatures(x: Float64Array, fs: number, p: SeismicParams = DEFAULT_SEISMIC_PARAMS): { rms: Float64Array; stalta: Float64Array; bp: Float64Array; peak: Float64Array } {
  const spm = round(fs * 60);
  const mins = floor(x.length / spm);
  const rms = new Float64Array(mins).fill(NaN);
  const stalta = new Float64Array(mins).fill(NaN);
  const bp = new Float64Array(mins).fill(NaN);
  const peak = new Float64Array(mins).fill(NaN);
  const hp = bandpassRuns(x, fs, p.staltaHighpassHz, 0);
  const ratio = classicStaLta(hp, max(1, round(p.staSec * fs)), max(2, round(p.ltaSec * fs)));
  const nfft = chooseNfft(spm, 4, 16, 4096);
  const nyq = fs / 2;
  const b1 = min(p.band[1], 0.9 * nyq);
  const minValid = p.minValidFraction * spm;
  for (let m = 0; m < mins; m++) {
    const a = m * spm;
    let c = 0;
    let s = 0;
    let rmax = -Infinity;
    for (let k = a; k < a + spm; k++) {
      const v = x[k];
      if (v !== v) continue;
      c++;
      s += v;
      const r = ratio[k];
      if (r > rmax) rmax = r;
    }
    if (c < minValid) continue;
    const mean = s / c;
    let s2 = 0;
    for (let k = a; k < a + spm; k++) {
      const v = x[k];
      if (v === v) s2 += (v - mean) * (v - mean);
    }
    rms[m] = sqrt(s2 / c);
    stalta[m] = rmax > 0 ? rmax : NaN;
    const w = welch(x.subarray(a, a + spm), fs, { nfft, overlap: 0.5, detrend: 'constant' });
    if (w.segments >= 2) {
      bp[m] = p.band[0] < b1 ? bandPower(w.freqs, w.psd, p.band[0], b1) : NaN;
      peak[m] = spectralPeak(w.freqs, w.psd, { fmin: p.peakMinHz }).freq;
    }
  }
  return { rms, stalta, bp, peak };
}

/** Availability % and gap count of one channel-day from its index sections. */
export function channelAvailability(sections: readonly Section[], day: number): { pct: number; gaps: number } {
  const d0 = BigInt(day) * 1_000_000n;
  const d1 = d0 + BigInt(DAY_MS) * 1_000_000n;
  const rate = sections[0]?.samplerate ?? 0;
  const period = rate > 0 ? BigInt(round(1e9 / rate)) : 0n;
  const tol = (period * 3n) / 2n;
  const segs = continuousSegments(sections)
    .map((s) => ({ s: s.startNs < d0 ? d0 : s.startNs, e: s.endNs + period > d1 ? d1 : s.endNs + period }))
    .filter((s) => s.e > s.s)
    .sort((a, b) => (a.s < b.s ? -1 : a.s > b.s ? 1 : 0));
  let covered = 0n;
  let gaps = 0;
  let cursor = d0;
  for (const g of segs) {
    if (g.s - cursor > tol) gaps++;
    const s = g.s > cursor ? g.s : cursor;
    if (g.e > s) covered += g.e - s;
    if (g.e > cursor) cursor = g.e;
  }
  if (d1 - cursor > tol) gaps++;
  return { pct: (Number(covered) / 1e6 / DAY_MS) * 100, gaps };
}

export interface SeismicDayInput {
  day: number;
  /** channel label → samples on the day grid (NaN = missing) and its rate */
  channels: Map<string, { fs: number; x: Float64Array; location: string; channel: string }>;
  /** channel label → its index sections intersecting the day */
  sections: Map<string, Section[]>;
}

/**
 * Read the samples of one station-day from the indexed byte ranges (products/seismicSamples.ts:
 * one day grid per channel, duplicates and overlaps counted once, corrupt records skipped and
 * listed in `failed` with unreadable files).
 */
export function readSeismicDay(db: Database.Database, network: string, station: string, day: number, dataRoot = '/'): SeismicDayInput & { fingerprintRows: unknown[]; failed: { file: string; reason: string }[] } {
  const startNs = BigInt(day) * 1_000_000n;
  const endNs = startNs + BigInt(DAY_MS) * 1_000_000n - 1n;
  const found = findSections(db, { network, station, location: '*', channel: '*', startNs, endNs });
  // Availability from the sections with a rate; samples from every section (one whose index rate
  // is 0 may begin with a detection record and hold data records after it).
  const sections = new Map<string, Section[]>();
  const all = new Map<string, Section[]>();
  for (const { section } of found) {
    const lab = chanLabel(section.location, section.channel);
    for (const m of section.samplerate > 0 ? [sections, all] : [all]) {
      const l = m.get(lab) ?? [];
      l.push(section);
      m.set(lab, l);
    }
  }
  const channels: SeismicDayInput['channels'] = new Map();
  const failed: { file: string; reason: string }[] = [];
  for (const [lab, secs] of [...all].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const cd = readChannelDay(secs, day, dataRoot);
    if (!cd) continue;
    for (const p of [...cd.unreadable, ...cd.problems]) failed.push({ file: p.file, reason: p.offset === null ? p.reason : `offset ${p.offset}: ${p.reason}` });
    if (cd.samples > 0) channels.set(lab, { fs: cd.rate, x: cd.x, location: secs[0].location, channel: secs[0].channel });
  }
  const fingerprintRows = found.map((f) => [f.section.filename, f.section.byteoffset, f.section.hash, f.section.updated]).sort();
  return { day, channels, sections, fingerprintRows, failed };
}

export interface SeismicDayFeatures {
  minute: FeatureTable;
  daily: FeatureTable;
}

/** Find (E, N, Z) labels of the first complete component group. */
export function componentTriplet(labels: string[], channels: SeismicDayInput['channels']): { E: string; N: string; Z: string } | null {
  const groups = new Map<string, Record<string, string>>();
  for (const lab of labels.sort()) {
    const c = channels.get(lab);
    if (!c || c.channel.length < 3) continue;
    const g = `${c.location}|${c.channel.slice(0, 2)}`;
    const comp = c.channel[2].toUpperCase();
    const slot = comp === 'Z' ? 'Z' : comp === 'N' || comp === '1' ? 'N' : comp === 'E' || comp === '2' ? 'E' : null;
    if (!slot) continue;
    const m = groups.get(g) ?? {};
    m[slot] ??= lab;
    groups.set(g, m);
  }
  for (const m of groups.values()) if (m.E && m.N && m.Z) return { E: m.E, N: m.N, Z: m.Z };
  return null;
}

/** All seismic features of one station-day. */
export function seismicDayFeatures(input: SeismicDayInput, p: SeismicParams = DEFAULT_SEISMIC_PARAMS): SeismicDayFeatures {
  const { day } = input;
  const labels = [...new Set([...input.channels.keys(), ...input.sections.keys()])].sort();
  const mNames: string[] = [];
  const units: Record<string, string> = { ratio_EZ: '1', ratio_NZ: '1', ratio_EN: '1' };
  const dNames: string[] = [];
  for (const l of labels) {
    mNames.push(`rms_${l}`, `stalta_max_${l}`, `bp_${l}`, `peak_freq_${l}`);
    Object.assign(units, { [`rms_${l}`]: 'counts', [`stalta_max_${l}`]: '1', [`bp_${l}`]: 'counts^2', [`peak_freq_${l}`]: 'Hz' });
    dNames.push(`rms_median_${l}`, `stalta_max_${l}`, `bp_median_${l}`, `peak_freq_median_${l}`, `availability_pct_${l}`, `gaps_${l}`);
    Object.assign(units, { [`rms_median_${l}`]: 'counts', [`bp_median_${l}`]: 'counts^2', [`peak_freq_median_${l}`]: 'Hz', [`availability_pct_${l}`]: '%', [`gaps_${l}`]: 'count' });
  }
  dNames.push('ratio_EZ', 'ratio_NZ', 'ratio_EN');
  const minute = emptyTable(gridTs(day, MINUTE_MS, 1440), mNames, units);
  const daily = emptyTable(Float64Array.of(day), dNames, units);
  const dc = daily.columns;
  for (const l of labels) {
    const secs = input.sections.get(l);
    if (secs?.length) {
      const a = channelAvailability(secs, day);
      dc[`availability_pct_${l}`][0] = a.pct;
      dc[`gaps_${l}`][0] = a.gaps;
    } else {
      dc[`availability_pct_${l}`][0] = 0;
      dc[`gaps_${l}`][0] = 1;
    }
    const ch = input.channels.get(l);
    if (!ch) continue;
    const f = channelMinuteFeatures(ch.x, ch.fs, p);
    minute.columns[`rms_${l}`].set(f.rms.subarray(0, 1440));
    minute.columns[`stalta_max_${l}`].set(f.stalta.subarray(0, 1440));
    minute.columns[`bp_${l}`].set(f.bp.subarray(0, 1440));
    minute.columns[`peak_freq_${l}`].set(f.peak.subarray(0, 1440));
    dc[`rms_median_${l}`][0] = median(f.rms);
    dc[`stalta_max_${l}`][0] = nanMax(f.stalta);
    dc[`bp_median_${l}`][0] = median(f.bp);
    dc[`peak_freq_median_${l}`][0] = median(f.peak);
  }
  const tri = componentTriplet([...input.channels.keys()], input.channels);
  if (tri) {
    const E = input.channels.get(tri.E)!;
    const N = input.channels.get(tri.N)!;
    const Z = input.channels.get(tri.Z)!;
    if (E.fs === N.fs && N.fs === Z.fs) {
      const fs = Z.fs;
      const bp = (x: Float64Array) => bandpassRuns(x, fs, p.ratioBand[0], p.ratioBand[1]);
      const r = energyRatios(bp(E.x), bp(N.x), bp(Z.x), round(p.ratioWindowSec * fs), p.minValidFraction);
      dc.ratio_EZ[0] = r.EZ;
      dc.ratio_NZ[0] = r.NZ;
      dc.ratio_EN[0] = r.EN;
    }
  }
  return { minute, daily };
}
