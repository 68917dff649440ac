/**
 * Feature layer (issue 5): every feature on signals with known answers.
 */
import { aefDayFeatures } from '../../src/products/features/aef';
import { bandPower, bandpassRuns, classicStaLta, fillMasked, mainsMask, median, spectralPeak, welch } from '../../src/products/features/dsp';
import { dbdtPerMinute, dbdtSeries, geomagDayFeatures, ulfPowers, type DaySeries } from '../../src/products/features/geomag';
import { channelAvailability, energyRatios, seismicDayFeatures } from '../../src/products/features/seismic';
import { coherentDbdt, parseDst, parseKp, stormDayFeatures } from '../../src/products/features/storm';
import { hourlyMedianMax, vlfAxis, vlfDayFeatures, vlfSpectrumFeatures } from '../../src/products/features/vlf';
import type { Section } from '../../src/index/types';

const { sin, PI, sqrt, log, cos } = Math;

/** Seeded Gaussian noise (mulberry32 + Box–Muller). */
function gauss(seed: number): () => number {
  let a = seed >>> 0;
  const u = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => sqrt(-2 * log(u() + 1e-300)) * cos(2 * PI * u());
}

const DAY = Date.UTC(2020, 8, 12);

describe('dsp: Welch, band power, peak, mains mask, STA/LTA', () => {
  test('bandpassRuns is a 4th-order Butterworth: −3 dB at the corner, |H|² = 1/(1 + (fc/f)^8) (scipy butter(4))', () => {
    const fs = 20;
    const fc = 1;
    // steady-state amplitude of a unit sine through the high-pass alone (fHigh 0 = no low-pass)
    const gain = (f: number) => {
      const n = 20_000;
      const y = bandpassRuns(Float64Array.from({ length: n }, (_, i) => sin(2 * PI * f * (i / fs))), fs, fc, 0);
      let s2 = 0; // rms over whole cycles of the second half → amplitude
      for (let i = n / 2; i < n; i++) s2 += y[i] * y[i];
      return sqrt((2 * s2) / (n / 2));
    };
    // Analogue Butterworth magnitude at the bilinear-prewarped frequency (the digital response).
    const want = (f: number) => {
      const wa = Math.tan((PI * f) / fs) / Math.tan((PI * fc) / fs);
      return 1 / sqrt(1 + wa ** -8);
    };
    expect(gain(1)).toBeCloseTo(Math.SQRT1_2, 3);
    for (const f of [0.5, 2, 4]) expect(gain(f)).toBeCloseTo(want(f), 3);
  });

  test('a sine at a known frequency gives that spectral peak', () => {
    const fs = 1;
    const f0 = 20 / 1024; // on a bin of nfft 1024
    const x = Float64Array.from({ length: 3600 }, (_, i) => 3 * sin(2 * PI * f0 * i) + 0.01 * ((i * 7919) % 13));
    const w = welch(x, fs, { nfft: 1024 });
    expect(w.segments).toBe(6);
    const pk = spectralPeak(w.freqs, w.psd, { fmin: 0.002 });
    expect(pk.freq).toBe(f0);
    expect(pk.prominenceDb).toBeGreaterThan(30);
    // Off-bin tone: peak within one bin of the true frequency.
    const f1 = 0.0333;
    const y = Float64Array.from({ length: 4096 }, (_, i) => sin(2 * PI * f1 * i));
    const wy = welch(y, 1, { nfft: 1024 });
    expect(Math.abs(spectralPeak(wy.freqs, wy.psd).freq - f1)).toBeLessThanOrEqual(wy.df / 2 + 1e-12);
  });

  test('Welch PSD of white noise of variance σ² integrates to σ²', () => {
    const g = gauss(42);
    const sigma = 3;
    const fs = 20;
    const x = Float64Array.from({ length: 1 << 17 }, () => sigma * g());
    const w = welch(x, fs, { nfft: 1024 });
    let s = 0;
    for (let k = 0; k < w.psd.length; k++) s += w.psd[k] * w.df;
    expect(s / (sigma * sigma)).toBeCloseTo(1, 1);
    expect(Math.abs(s / (sigma * sigma) - 1)).toBeLessThan(0.02);
    // flat: the level is 2σ²/fs
    expect(w.psd[100] / ((2 * sigma * sigma) / fs)).toBeGreaterThan(0.7);
    expect(w.psd[100] / ((2 * sigma * sigma) / fs)).toBeLessThan(1.3);
  });

  test('band power of a tone in and out of the band', () => {
    const a = 2;
    const x = Float64Array.from({ length: 8192 }, (_, i) => a * sin(2 * PI * 0.1 * i));
    const w = welch(x, 1, { nfft: 1024 });
    expect(bandPower(w.freqs, w.psd, 0.05, 0.15) / ((a * a) / 2)).toBeCloseTo(1, 3);
    expect(bandPower(w.freqs, w.psd, 0.3, 0.4)).toBeLessThan(1e-8);
    // gap-aware: segments with NaN are skipped, the answer is unchanged
    const g = Float64Array.from(x);
    for (let i = 3000; i < 3100; i++) g[i] = NaN;
    const wg = welch(g, 1, { nfft: 1024 });
    expect(wg.segments).toBeLessThan(w.segments);
    expect(bandPower(wg.freqs, wg.psd, 0.05, 0.15) / ((a * a) / 2)).toBeCloseTo(1, 3);
  });

  test('mains harmonics are masked: a 50/100/150 Hz comb does not become the peak', () => {
    const freqs = Float64Array.from({ length: 401 }, (_, i) => i * 5); // 0..2000 Hz, 5 Hz bins
    const psd = new Float64Array(freqs.length).fill(1e-3);
    psd[10] = 1; // 50 Hz
    psd[20] = 0.5; // 100 Hz
    psd[30] = 0.3; // 150 Hz
    psd[146] = 0.1; // 730 Hz natural emission
    psd[145] = psd[147] = 0.02;
    expect(spectralPeak(freqs, psd).freq).toBe(50); // unmasked: the mains line wins
    const mask = mainsMask(freqs, 50, 2000, 2);
    expect(mask[10] && mask[20] && mask[30] && mask[400]).toBeTruthy();
    expect(mask[146]).toBe(0);
    const pk = spectralPeak(freqs, psd, { mask });
    expect(pk.freq).toBe(730);
    expect(pk.prominenceDb).toBeCloseTo(10 * Math.log10(0.1 / 1e-3), 6);
    // band power over a masked comb keeps the background only
    const filled = fillMasked(psd, mask);
    expect(bandPower(freqs, filled, 10, 300)).toBeCloseTo(1e-3 * 290, 9);
    const axis = vlfAxis(freqs);
    expect(axis.maskBandPower).toBe(true);
    const f = vlfSpectrumFeatures(axis, psd);
    expect(f.peakFreq).toBe(730);
    expect(f.bands['10_300']).toBeCloseTo(1e-3 * 290, 9);
    expect(f.bands['300_3000']).toBeGreaterThan(1e-3 * 1700); // includes the 730 Hz emission, not masked
  });

  test('classic STA/LTA (3 s / 30 s) of a step', () => {
    const fs = 1;
    const x = new Float64Array(200).fill(1);
    for (let i = 100; i < 200; i++) x[i] = sqrt(10); // energy steps 1 → 10
    const r = classicStaLta(x, 3 * fs, 30 * fs);
    expect(r[28]).toBe(0); // LTA not yet full
    expect(r[50]).toBeCloseTo(1, 12);
    // max when the STA is full of the new level and the LTA still mostly old: 10 / ((27 + 30) / 30)
    let m = 0;
    let at = -1;
    for (let i = 0; i < r.length; i++) if (r[i] > m) (m = r[i]), (at = i);
    expect(at).toBe(102);
    expect(m).toBeCloseTo(10 / (57 / 30), 10);
    expect(r[199]).toBeCloseTo(1, 12); // both windows inside the new level
  });
});

describe('geomagnetic features', () => {
  test('a ramp of slope s nT/s gives dB/dt = s', () => {
    const s = 0.37;
    const n = 600;
    const X = Float64Array.from({ length: n }, (_, i) => 30000 + s * i);
    const Y = new Float64Array(n).fill(-4000);
    const r = dbdtSeries(X, Y, 1);
    expect(r[0]).toBeNaN();
    for (let i = 1; i < n; i++) expect(r[i]).toBeCloseTo(s, 9);
    const pm = dbdtPerMinute(r, 54);
    expect(pm.max[3]).toBeCloseTo(s, 9);
    expect(pm.rms[3]).toBeCloseTo(s, 9);
    // via the day features, from H/D (HDZ file): the horizontal rate is the same
    const sec: DaySeries = { stepMs: 1000, elements: { H: Float64Array.from({ length: 86400 }, (_, i) => 30000 + s * i), D: new Float64Array(86400).fill(-7.6 * 60), Z: new Float64Array(86400).fill(35000) } };
    const f = geomagDayFeatures({ day: DAY, sec });
    expect(f.daily.columns.dbdt_max[0]).toBeCloseTo(s, 6);
    expect(f.daily.columns.dbdt_rms[0]).toBeCloseTo(s, 6);
    expect(f.minute.columns.dbdt_max[100]).toBeCloseTo(s, 6);
    // per-minute statistics of the ramp: mean at the centre, min/max at the ends, std of a uniform ramp
    expect(f.minute.columns.H_mean[10]).toBeCloseTo(30000 + s * (600 + 29.5), 6);
    expect(f.minute.columns.H_min[10]).toBeCloseTo(30000 + s * 600, 6);
    expect(f.minute.columns.H_max[10]).toBeCloseTo(30000 + s * 659, 6);
    expect(f.minute.columns.H_std[10]).toBeCloseTo(s * sqrt((60 * 60 - 1) / 12), 6);
  });

  test('an HEZ variation day (H, E in nT, no D) gets the same dB/dt and ULF as its XYZ form', () => {
    // X/Y of a field with Pc3-like pulsations and a ramp; H/E are the same vectors in a frame
    // turned by a baseline declination the file does not report (data-formats §1.2).
    const g = gauss(11);
    const n = 86400;
    const d0 = (-7.4 * PI) / 180;
    const X = new Float64Array(n);
    const Y = new Float64Array(n);
    const Z = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      X[i] = 29800 + 0.7 * sin(2 * PI * 0.03 * i) + 0.0001 * i + 0.05 * g();
      Y[i] = -3900 + 0.4 * sin(2 * PI * 0.02 * i + 1) + 0.05 * g();
      Z[i] = 35000 + 0.3 * sin(2 * PI * 0.04 * i) + 0.05 * g();
    }
    const H = Float64Array.from(X, (x, i) => x * cos(d0) + Y[i] * sin(d0));
    const E = Float64Array.from(X, (x, i) => -x * sin(d0) + Y[i] * cos(d0));
    const xy = geomagDayFeatures({ day: DAY, sec: { stepMs: 1000, elements: { X, Y, Z } } });
    const he = geomagDayFeatures({ day: DAY, sec: { stepMs: 1000, elements: { H, E, Z } } });
    expect(Number.isFinite(he.daily.columns.dbdt_max[0])).toBe(true);
    expect(he.daily.columns.dbdt_max[0]).toBeCloseTo(xy.daily.columns.dbdt_max[0], 9);
    expect(he.daily.columns.dbdt_rms[0]).toBeCloseTo(xy.daily.columns.dbdt_rms[0], 9);
    expect(he.minute.columns.dbdt_max[700]).toBeCloseTo(xy.minute.columns.dbdt_max[700], 9);
    for (const k of ['ulf_z', 'ulf_h', 'ulf_d', 'ulf_g', 'zg_ratio']) {
      expect(Number.isFinite(he.hourly.columns[k][5])).toBe(true);
      expect(he.hourly.columns[k][5] / xy.hourly.columns[k][5]).toBeCloseTo(1, 6);
    }
    // E gets its own minute statistics
    expect(he.minute.columns.E_mean[0]).toBeCloseTo(E.subarray(0, 60).reduce((a, b) => a + b) / 60, 9);
  });

  test('a known Z/G ratio in the ULF band (0.01–0.05 Hz)', () => {
    const az = 0.6;
    const ah = 0.8;
    const ad = 0.5;
    const g = gauss(7);
    const n = 3600;
    const Z = Float64Array.from({ length: n }, (_, i) => 35000 + az * sin(2 * PI * 0.02 * i) + 0.002 * g());
    const H = Float64Array.from({ length: n }, (_, i) => 30000 + ah * sin(2 * PI * 0.03 * i + 1) + 0.002 * g());
    const D = Float64Array.from({ length: n }, (_, i) => ad * sin(2 * PI * 0.04 * i + 2) + 0.002 * g());
    const r = ulfPowers(Z, H, D, 1);
    expect(r.ulf_z / ((az * az) / 2)).toBeCloseTo(1, 2);
    expect(r.ulf_g / ((ah * ah + ad * ad) / 2)).toBeCloseTo(1, 2);
    expect(r.zg_ratio / (az / sqrt(ah * ah + ad * ad))).toBeCloseTo(1, 2);
    // a tone outside the band (0.1 Hz) does not count
    const Zo = Float64Array.from({ length: n }, (_, i) => 35000 + 5 * sin(2 * PI * 0.1 * i) + az * sin(2 * PI * 0.02 * i));
    expect(ulfPowers(Zo, H, D, 1).zg_ratio / (az / sqrt(ah * ah + ad * ad))).toBeCloseTo(1, 2);
  });

  test('hourly ULF and the nightly (20–04 JST = 11–19 UTC) median Z/G from a day of 1 s H, D (arcmin), Z', () => {
    const H0 = 30000;
    const arcminPerNt = 1 / (H0 * (PI / 10800));
    const n = 86400;
    const ah = 0.8;
    const ad = 0.6; // nT
    const H = new Float64Array(n);
    const D = new Float64Array(n);
    const Z = new Float64Array(n);
    const F = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const hour = Math.floor(i / 3600);
      const az = hour >= 11 && hour < 19 ? 1.0 : 0.3; // night enhancement
      H[i] = H0 + ah * sin(2 * PI * 0.03 * i);
      D[i] = -456 + ad * arcminPerNt * sin(2 * PI * 0.025 * i + 0.5);
      Z[i] = 35000 + az * sin(2 * PI * 0.02 * i);
      F[i] = 46000;
    }
    for (let i = 50_000; i < 50_500; i++) Z[i] = NaN; // a gap in hour 13: still ≥ 3 segments
    const f = geomagDayFeatures({ day: DAY, sec: { stepMs: 1000, elements: { H, D, Z, F } } });
    const g = sqrt(ah * ah + ad * ad);
    expect(f.hourly.ts[13]).toBe(DAY + 13 * 3_600_000);
    expect(f.hourly.columns.zg_ratio[3] / (0.3 / g)).toBeCloseTo(1, 2);
    expect(f.hourly.columns.zg_ratio[13] / (1.0 / g)).toBeCloseTo(1, 2);
    expect(f.hourly.columns.ulf_d[3] / ((ad * ad) / 2)).toBeCloseTo(1, 2);
    expect(f.daily.columns.zg_night_median[0] / (1.0 / g)).toBeCloseTo(1, 2);
    expect(f.daily.columns.zg_ratio[0] / (0.3 / g)).toBeCloseTo(1, 2); // 16 of 24 hours are day hours
    expect(f.daily.columns.ulf_z[0] / 0.5).toBeCloseTo(1, 2);
    // 1-min data only: no ULF (Nyquist 8.3 mHz < band), no dB/dt; minute means still there
    const m = geomagDayFeatures({ day: DAY, min: { stepMs: 60_000, elements: { Z: new Float64Array(1440).fill(35000) } } });
    expect(m.hourly.columns.zg_ratio.every((v) => Number.isNaN(v))).toBe(true);
    expect(m.daily.columns.dbdt_max[0]).toBeNaN();
    expect(m.minute.columns.Z_mean[5]).toBe(35000);
  });
});

describe('AEF features', () => {
  const fair = () => Float64Array.from({ length: 1440 }, (_, i) => 150 + 20 * sin((2 * PI * i) / 1440));
  test('a day with a synthetic negative bay of known length', () => {
    const pg = fair();
    for (let i = 600; i < 600 + 137; i++) pg[i] = -100 - (i - 600); // bay to −236 V/m
    for (let i = 900; i < 920; i++) pg[i] = -30; // a shorter second bay
    pg[300] = NaN;
    const f = aefDayFeatures(DAY, pg, null);
    const d = f.daily.columns;
    expect(d.neg_bay_max_minutes[0]).toBe(137);
    expect(d.pg_neg_minutes[0]).toBe(157);
    expect(d.pg_min[0]).toBe(-236);
    expect(d.valid_minutes[0]).toBe(1439);
    expect(d.fair_weather[0]).toBe(0); // 157 of 1439 minutes negative > 5 %
    expect(f.minute.columns.pg_negative[650]).toBe(1);
    expect(f.minute.columns.pg_negative[100]).toBe(0);
    expect(f.minute.columns.pg[300]).toBeNaN();
  });
  test('a fair-weather day', () => {
    const f = aefDayFeatures(DAY, fair(), null);
    const d = f.daily.columns;
    expect(d.fair_weather[0]).toBe(1);
    expect(d.pg_neg_minutes[0]).toBe(0);
    expect(d.neg_bay_max_minutes[0]).toBe(0);
    expect(d.pg_median[0]).toBeCloseTo(150, 1);
    expect(d.pg_min[0]).toBeCloseTo(130, 6);
  });
  test('hourly fallback counts hours × 60', () => {
    const h = Float64Array.from({ length: 24 }, (_, i) => (i >= 5 && i < 8 ? -50 : 120));
    const d = aefDayFeatures(DAY, null, h).daily.columns;
    expect(d.neg_bay_max_minutes[0]).toBe(180);
    expect(d.resolution_minutes[0]).toBe(60);
  });
});

describe('VLF features', () => {
  test('per-minute band powers and peak from long-format rows, both channels', () => {
    const nb = 64;
    const freqs = Float64Array.from({ length: nb }, (_, k) => 10 + k * 312.5); // 10 Hz .. ~19.7 kHz
    const M = 61; // daily medians need ≥ 60 minutes
    const rows = { ts: new Float64Array(M * nb), bin: new Int32Array(M * nb), freq: new Float64Array(M * nb), ch1: new Float64Array(M * nb), ch2: new Float64Array(M * nb) };
    for (let m = 0; m < M; m++)
      for (let b = 0; b < nb; b++) {
        const r = m * nb + b;
        rows.ts[r] = DAY + m * 60_000;
        rows.bin[r] = b;
        rows.freq[r] = freqs[b];
        rows.ch1[r] = b === 16 ? 1e-9 : 1e-12; // tone at 5010 Hz on NS
        rows.ch2[r] = b === 40 ? 1e-9 : 1e-12; // tone at 12510 Hz on EW
      }
    const f = vlfDayFeatures(DAY, rows);
    const c = f.minute.columns;
    expect(c.peak_freq_ns[0]).toBe(5010);
    expect(c.peak_freq_ew[1]).toBe(12510);
    expect(c.bp_3000_10000_ns[0]).toBeCloseTo(1e-9 * 312.5 + 1e-12 * 312.5 * 21, 15);
    expect(c.bp_10000_20000_ns[0]).toBeCloseTo(1e-12 * 312.5 * 32, 15);
    expect(c.bp_10_300_ns[100]).toBeNaN(); // no data in minute 100
    expect(vlfDayFeatures(DAY, { ts: rows.ts.subarray(0, 2 * nb), bin: rows.bin.subarray(0, 2 * nb), freq: rows.freq.subarray(0, 2 * nb), ch1: rows.ch1.subarray(0, 2 * nb), ch2: rows.ch2.subarray(0, 2 * nb) }).daily.columns.peak_freq_ns[0]).toBeNaN();
    expect(f.daily.columns.peak_freq_ns[0]).toBe(5010);
    expect(f.daily.columns.bp_3000_10000_ew[0]).toBeCloseTo(1e-12 * 312.5 * 22, 15);
    // 61 minutes = hour 0 (60) + 1 minute of hour 1 (< 30 valid): hmax = hour 0's median.
    expect(f.daily.columns.bp_3000_10000_ew_hmax[0]).toBeCloseTo(1e-12 * 312.5 * 22, 15);
  });

  test('hourly-median maximum: a 2-hour burst sets it, the daily median and single loud minutes do not', () => {
    const day = new Float64Array(1440).fill(1);
    for (let m = 600; m < 720; m++) day[m] = 20; // 10:00–12:00, 10× (+10 dB)
    for (const m of [100, 200, 300, 1000]) day[m] = 1000; // sferic-rich minutes
    for (let m = 1300; m < 1340; m++) day[m] = NaN; // gap: hour 21 has 20 valid minutes only
    day[1320] = 5000; // inside the short hour: ignored
    expect(hourlyMedianMax(day)).toBe(20);
    expect(median(day)).toBe(1);
    const quiet = Float64Array.from(day, (v, m) => (m >= 600 && m < 720 ? 1 : v));
    expect(hourlyMedianMax(quiet)).toBe(1);
    expect(hourlyMedianMax(new Float64Array(1440).fill(NaN))).toBeNaN();
  });
});

describe('seismic features', () => {
  test('energy ratios of E/N/Z with known amplitude ratios (Pedersen et al. 2020)', () => {
    const fs = 20;
    const n = 3600 * fs;
    const g = gauss(3);
    const aZ = 100;
    const aN = 150;
    const aE = 70;
    const mk = (a: number, ph: number) => Float64Array.from({ length: n }, (_, i) => 5000 + a * sin(2 * PI * 1.3 * (i / fs) + ph) + 0.5 * g());
    const E = mk(aE, 0.3);
    const N = mk(aN, 1.1);
    const Z = mk(aZ, 2.0);
    const bp = (x: Float64Array) => bandpassRuns(x, fs, 0.01, 5);
    const r = energyRatios(bp(E), bp(N), bp(Z), 300 * fs);
    expect(r.windows).toBe(12);
    expect(r.EZ / (aE / aZ) ** 2).toBeCloseTo(1, 2);
    expect(r.NZ / (aN / aZ) ** 2).toBeCloseTo(1, 2);
    expect(r.EN / (aE / aN) ** 2).toBeCloseTo(1, 2);
  });

  test('day features: rms, STA/LTA of an event, band power/peak, ratios, availability and gaps', () => {
    const fs = 10;
    const n = 86400 * fs;
    const g = gauss(11);
    const chans = new Map<string, { fs: number; x: Float64Array; location: string; channel: string }>();
    const amp: Record<string, number> = { HHZ: 10, HHN: 20, HHE: 5 };
    for (const c of ['HHZ', 'HHN', 'HHE']) {
      const x = new Float64Array(n);
      for (let i = 0; i < n; i++) x[i] = 1000 + amp[c] * sin(2 * PI * 2.5 * (i / fs)) + 0.1 * g();
      chans.set(c, { fs, x, location: '', channel: c });
    }
    const z = chans.get('HHZ')!.x;
    for (let i = 36000 * fs; i < 36000 * fs + 50; i++) z[i] += 500 * sin(2 * PI * 4 * (i / fs)); // a 5 s burst at 10:00
    for (let i = 43200 * fs; i < 43200 * fs + 6000; i++) z[i] = NaN; // 10 min gap at 12:00
    // index sections: HHZ has a 10-minute hole at 12:00 → 2 segments
    const ns = (ms: number) => BigInt(ms) * 1_000_000n;
    const sec = (s: number, e: number, cha: string): Section =>
      ({ network: 'XX', station: 'TST', location: '', channel: cha, samplerate: fs, startNs: ns(s), endNs: ns(e), timespans: null, timerates: null }) as unknown as Section;
    const sections = new Map<string, Section[]>([
      ['HHZ', [sec(DAY, DAY + 43_200_000 - 100, 'HHZ'), sec(DAY + 43_800_000, DAY + 86_400_000 - 100, 'HHZ')]],
      ['HHN', [sec(DAY, DAY + 86_400_000 - 100, 'HHN')]],
      ['HHE', [sec(DAY + 3_600_000, DAY + 86_400_000 - 100, 'HHE')]],
    ]);
    const f = seismicDayFeatures({ day: DAY, channels: chans, sections });
    const m = f.minute.columns;
    const d = f.daily.columns;
    expect(m.rms_HHN[5] / (20 / Math.SQRT2)).toBeCloseTo(1, 2);
    expect(m.peak_freq_HHZ[5]).toBeCloseTo(2.5, 1);
    expect(m.bp_HHN[5] / (20 * 20 / 2)).toBeCloseTo(1, 1);
    expect(m.stalta_max_HHZ[600]).toBeGreaterThan(8); // the burst minute (classic STA/LTA ≤ nlta/nsta = 10)
    expect(m.stalta_max_HHZ[300]).toBeLessThan(2);
    expect(m.rms_HHZ[725]).toBeNaN(); // gap minute
    expect(d.availability_pct_HHZ[0]).toBeCloseTo(100 * (1 - 600 / 86400), 3);
    expect(d.gaps_HHZ[0]).toBe(1);
    expect(d.availability_pct_HHN[0]).toBeCloseTo(100, 6);
    expect(d.gaps_HHN[0]).toBe(0);
    expect(d.gaps_HHE[0]).toBe(1); // leading hour missing
    expect(d.ratio_EZ[0] / (5 / 10) ** 2).toBeCloseTo(1, 2);
    expect(d.ratio_NZ[0] / (20 / 10) ** 2).toBeCloseTo(1, 2);
    expect(d.ratio_EN[0] / (5 / 20) ** 2).toBeCloseTo(1, 2);
    expect(d.stalta_max_HHZ[0]).toBeGreaterThan(8);
    expect(d.rms_median_HHE[0] / (5 / Math.SQRT2)).toBeCloseTo(1, 2);
  });

  test('availability of a channel-day with no sections beyond the day', () => {
    const ns = (ms: number) => BigInt(ms) * 1_000_000n;
    const s = { samplerate: 1, startNs: ns(DAY - 3_600_000), endNs: ns(DAY + 86_400_000 + 3_600_000), timespans: null, timerates: null } as unknown as Section;
    expect(channelAvailability([s], DAY)).toEqual({ pct: 100, gaps: 0 });
  });
});

describe('storm flag', () => {
  const base = (level: number) => new Float64Array(1440).fill(level);
  test('coherent dB/dt at 3 stations is flagged; a local one-station disturbance is not', () => {
    const coherent = new Map([
      ['KAK', base(0.05)],
      ['KNY', base(0.04)],
      ['MMB', base(0.06)],
    ]);
    for (const v of coherent.values()) for (let m = 5 * 60 + 10; m < 5 * 60 + 20; m++) v[m] = 1.2;
    const c = stormDayFeatures({ day: DAY, dbdtByStation: coherent, dst: null, kp: null });
    expect(c.daily.columns.disturbed[0]).toBe(1);
    expect(c.daily.columns.dbdt_coherent_max[0]).toBeCloseTo(1.2, 12);
    expect(c.daily.columns.kp_max[0]).toBeNaN();
    expect(c.daily.columns.dst_min[0]).toBeNaN();
    expect(c.hourly.columns.disturbed[5]).toBe(1);
    expect(c.hourly.columns.disturbed[6]).toBe(0);

    const local = new Map([
      ['KAK', base(0.05)],
      ['KNY', base(0.04)],
      ['MMB', base(0.06)],
    ]);
    for (let m = 5 * 60 + 10; m < 5 * 60 + 20; m++) local.get('KNY')![m] = 3;
    const l = stormDayFeatures({ day: DAY, dbdtByStation: local, dst: null, kp: null });
    expect(l.daily.columns.disturbed[0]).toBe(0);
    expect(l.daily.columns.dbdt_coherent_max[0]).toBeCloseTo(0.06, 12); // median of (0.05, 3, 0.06)
    expect(coherentDbdt([1, 2], 2)).toBe(1);
    expect(coherentDbdt([1], 2)).toBeNaN();
  });

  test('Dst (WDC format) and Kp files decide when supplied', () => {
    const hourly = Array.from({ length: 24 }, (_, h) => (h === 17 ? -80 : -10));
    const rec = (y: number, m: number, d: number, vals: number[]) =>
      `DST${String(y % 100).padStart(2, '0')}${String(m).padStart(2, '0')}*${String(d).padStart(2, '0')}  X2${String(Math.floor(y / 100))}   0` +
      vals.map((v) => String(v).padStart(4)).join('') +
      String(-13).padStart(4);
    const line = rec(2020, 9, 12, hourly);
    expect(line.length).toBe(120);
    const dst = parseDst(line + '\n');
    expect(dst.values.get(DAY + 17 * 3_600_000)).toBe(-80);
    expect(dst.values.size).toBe(24);
    const kp = parseKp('# GFZ\n2020 09 12  0.0  1.50 29104 29104.0625 2.333  9 1\n2020 09 12  3.0  4.50 29104 29104.1875 4.333 32 1\n2020-09-12T06:00:00Z 3+\n');
    expect(kp.values.get(DAY)).toBeCloseTo(2.333, 6);
    expect(kp.values.get(DAY + 3 * 3_600_000)).toBeCloseTo(4.333, 6);
    expect(kp.values.get(DAY + 6 * 3_600_000)).toBeCloseTo(3 + 1 / 3, 9);
    const quiet = new Map([
      ['KAK', base(0.05)],
      ['KNY', base(0.05)],
    ]);
    const s = stormDayFeatures({ day: DAY, dbdtByStation: quiet, dst, kp });
    expect(s.daily.columns.disturbed[0]).toBe(1);
    expect(s.daily.columns.dst_min[0]).toBe(-80);
    expect(s.daily.columns.kp_max[0]).toBeCloseTo(4.333, 6);
    expect(s.hourly.columns.disturbed[3]).toBe(1); // Kp 4.3 interval 03–06
    expect(s.hourly.columns.disturbed[0]).toBe(0);
    expect(s.hourly.columns.disturbed[17]).toBe(1); // Dst −80
  });
});

describe('known answers of scipy.signal.welch and dB/dt units', () => {
  // scipy.signal.welch(x, fs=1, window='hann', nperseg=8, scaling='density'): periodic Hann
  // (Σw² = 3), one-sided, DC and Nyquist not doubled. For x[n] = (−1)^n: |X_nyq| = Σw = 4 → 16/3.
  test('Welch: Nyquist bin not doubled, periodic Hann window', () => {
    const x = Float64Array.from({ length: 64 }, (_, n) => (n % 2 === 0 ? 1 : -1));
    expect(welch(x, 1, { nfft: 8 }).psd[4]).toBeCloseTo(16 / 3, 10);
    // A tone on bin 1: periodic Hann → |X_1| = 2 ⇒ P = 2·|X_1|²/(fs·Σw²) = 8/3.
    const y = Float64Array.from({ length: 64 }, (_, n) => Math.cos((2 * Math.PI * n) / 8));
    expect(welch(y, 1, { nfft: 8 }).psd[1]).toBeCloseTo(8 / 3, 10);
  });

  // dB/dt is nT per second whatever the sample interval (USGS DbDtAlgorithm).
  test('dB/dt divides by the sample interval', () => {
    expect(Array.from(dbdtSeries(Float64Array.from([0, 60, 120]), new Float64Array(3), 60)).slice(1)).toEqual([1, 1]);
  });
});
