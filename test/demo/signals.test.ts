/**
 * The synthetic signal: exact reproducibility for any window, and physically sensible content
 * (noise levels, microseism band, diurnal cultural noise, P/S arrivals, magnitude scaling).
 */
import { parseIsoToNs } from '../../src/formats/time';
import { arrivalAt, DEMO_EVENTS, epicentralDistanceKm, VP_KM_S, VS_KM_S } from '../../src/demo/quakes';
import { demoSamples } from '../../src/demo/scenario';
import { findDemoStream } from '../../src/demo/stations';

const t = (iso: string): bigint => parseIsoToNs(iso)!;
const rms = (a: Int32Array, from = 0, to = a.length): number => {
  let m = 0;
  for (let i = from; i < to; i++) m += a[i];
  m /= to - from;
  let v = 0;
  for (let i = from; i < to; i++) v += (a[i] - m) ** 2;
  return Math.sqrt(v / (to - from));
};
const maxAbsDev = (a: Int32Array, from: number, to: number, mean: number): number => {
  let m = 0;
  for (let i = from; i < to; i++) m = Math.max(m, Math.abs(a[i] - mean));
  return m;
};
const mean = (a: Int32Array): number => a.reduce((s, v) => s + v, 0) / a.length;
/** Power at frequency f (Hz) of x sampled at fs (Goertzel). */
const power = (x: Int32Array, fs: number, f: number): number => {
  const w = (2 * Math.PI * f) / fs;
  const c = 2 * Math.cos(w);
  const m = mean(x);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < x.length; i++) {
    const s = x[i] - m + c * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return (s1 * s1 + s2 * s2 - c * s1 * s2) / x.length;
};

describe('demoSamples: exact and window-independent', () => {
  test('a sub-window equals the slice of a larger window, across the hourly block boundary', () => {
    const start = t('2020-09-11T00:58:00');
    const big = demoSamples('JP', 'JMM', '', 'BHZ', start, 20 * 240);
    const sub = demoSamples('JP', 'JMM', '', 'BHZ', t('2020-09-11T00:59:59.5'), 123);
    const offset = (60 + 59.5) * 20;
    expect(Array.from(sub)).toEqual(Array.from(big.subarray(offset, offset + 123)));
    // Same call twice: identical.
    expect(demoSamples('JP', 'JMM', '', 'BHZ', start, 1000)).toEqual(demoSamples('JP', 'JMM', '', 'BHZ', start, 1000));
  });

  test('no step at the block boundary (warm-up makes the filtered noise continuous)', () => {
    const s = demoSamples('II', 'ERM', '10', 'BHZ', t('2020-09-11T05:59:00'), 40 * 120);
    const diffs: number[] = [];
    for (let i = 1; i < s.length; i++) diffs.push(Math.abs(s[i] - s[i - 1]));
    const boundary = 40 * 60; // 06:00:00
    const typical = diffs.reduce((a, b) => a + b, 0) / diffs.length;
    expect(Math.abs(s[boundary] - s[boundary - 1])).toBeLessThan(6 * typical);
  });

  test('channels differ from each other, and off-grid start times are rejected', () => {
    const start = t('2020-09-11T12:00:00');
    const z = demoSamples('JP', 'JSD', '', 'BHZ', start, 200);
    const n = demoSamples('JP', 'JSD', '', 'BHN', start, 200);
    expect(Array.from(z)).not.toEqual(Array.from(n));
    expect(() => demoSamples('JP', 'JSD', '', 'BHZ', start + 1_000_000n, 10)).toThrow(/sample grid/);
    expect(() => demoSamples('JP', 'XXX', '', 'BHZ', start, 10)).toThrow(/not a demo channel/);
  });
});

describe('demo signal content', () => {
  // A quiet hour: 2020-09-11 15:00-16:00 UTC (00:00 JST), no events.
  const quiet = t('2020-09-11T15:00:00');

  test('integer counts at realistic levels (velocity x sensitivity), different per station', () => {
    const levels: Record<string, number> = {};
    for (const [net, sta, loc] of [['II', 'ERM', '00'], ['JP', 'JKA', ''], ['JP', 'JMM', ''], ['JP', 'JSD', ''], ['JP', 'JTM', ''], ['JP', 'JYT', '']]) {
      const rate = findDemoStream(net, sta, loc, 'BHZ')!.channel.sampleRate;
      const s = demoSamples(net, sta, loc, 'BHZ', quiet, rate * 600);
      levels[sta] = rms(s);
    }
    // Microseism of 2.5e-7..6e-7 m/s with 1e9..4e9 counts/(m/s): hundreds to a few thousand counts.
    for (const v of Object.values(levels)) {
      expect(v).toBeGreaterThan(100);
      expect(v).toBeLessThan(10_000);
    }
    expect(new Set(Object.values(levels).map((v) => Math.round(v))).size).toBe(6);
    expect(levels.ERM).toBeGreaterThan(levels.JKA); // coastal cape vs inland Hokkaido, and higher gain
  });

  test('secondary microseism dominates: power near 0.2 Hz far above 3 Hz', () => {
    const s = demoSamples('JP', 'JMM', '', 'BHZ', quiet, 20 * 1200);
    expect(power(s, 20, 0.2)).toBeGreaterThan(100 * power(s, 20, 3));
  });

  test('cultural noise follows local daytime: JYT high-frequency noise at noon JST > at 03:00 JST', () => {
    // Second differences emphasise the >1 Hz cultural band over the microseism.
    const hf = (iso: string) => {
      const s = demoSamples('JP', 'JYT', '', 'BHZ', t(iso), 20 * 600);
      const d = new Int32Array(s.length - 2);
      for (let i = 2; i < s.length; i++) d[i - 2] = s[i] - 2 * s[i - 1] + s[i - 2];
      return rms(d);
    };
    const noon = hf('2020-09-11T03:00:00'); // Friday 12:00 JST
    const night = hf('2020-09-11T18:00:00'); // Saturday 03:00 JST
    expect(noon).toBeGreaterThan(1.5 * night);
  });

  test('the M6.2 mainshock: P then S at JMM at the half-space travel times, S strongest on horizontals', () => {
    const ev = DEMO_EVENTS.find((e) => e.real)!;
    expect(ev).toMatchObject({ time: '2020-09-12T02:44:11.000', latitude: 38.75, longitude: 142.26, depthKm: 35, magnitude: 6.2 });
    const jmm = findDemoStream('JP', 'JMM', '', 'BHZ')!.channel;
    const a = arrivalAt(ev, jmm.latitude, jmm.longitude, jmm.elevation);
    // Independent recomputation of the travel times.
    const epi = epicentralDistanceKm(ev.latitude, ev.longitude, jmm.latitude, jmm.longitude);
    expect(epi).toBeGreaterThan(120);
    expect(epi).toBeLessThan(170);
    const hypo = Math.hypot(epi, 35 + jmm.elevation / 1000);
    const origin = t('2020-09-12T02:44:11');
    expect(Number(a.pNs - origin) / 1e9).toBeCloseTo(hypo / VP_KM_S, 5);
    expect(Number(a.sNs - origin) / 1e9).toBeCloseTo(hypo / VS_KM_S, 5);

    const start = t('2020-09-12T02:44:00');
    const fs = 20;
    const idx = (ns: bigint) => Math.round(Number(ns - start) / 1e9 * fs);
    const z = demoSamples('JP', 'JMM', '', 'BHZ', start, fs * 300);
    const n = demoSamples('JP', 'JMM', '', 'BHN', start, fs * 300);
    const e = demoSamples('JP', 'JMM', '', 'BHE', start, fs * 300);
    const pI = idx(a.pNs);
    const sI = idx(a.sNs);
    const zMean = mean(z.subarray(0, pI));
    const noise = maxAbsDev(z, 0, pI - 2, zMean);
    const pPeak = maxAbsDev(z, pI, sI - 2, zMean);
    const sPeakZ = maxAbsDev(z, sI, sI + 30 * fs, zMean);
    expect(pPeak).toBeGreaterThan(20 * noise);
    expect(sPeakZ).toBeGreaterThan(pPeak);
    const hPeak = Math.max(maxAbsDev(n, sI, sI + 30 * fs, mean(n.subarray(0, pI))), maxAbsDev(e, sI, sI + 30 * fs, mean(e.subarray(0, pI))));
    expect(hPeak).toBeGreaterThan(sPeakZ);
    // Coda decays: the last minute is far below the S peak.
    expect(maxAbsDev(z, z.length - 60 * fs, z.length, zMean)).toBeLessThan(sPeakZ / 20);
  });

  test('amplitude scales with magnitude and decays with distance', () => {
    const peakAfterS = (eventId: string, net: string, sta: string) => {
      const ev = DEMO_EVENTS.find((x) => x.id === eventId)!;
      const ch = findDemoStream(net, sta, '', 'BHZ')!.channel;
      const a = arrivalAt(ev, ch.latitude, ch.longitude, ch.elevation);
      const from = a.sNs - (a.sNs % 50_000_000n);
      const s = demoSamples(net, sta, '', 'BHZ', from, 20 * 20);
      const m = mean(demoSamples(net, sta, '', 'BHZ', from - 200_000_000_000n, 20 * 60));
      return maxAbsDev(s, 0, s.length, m);
    };
    const main = DEMO_EVENTS.find((e) => e.real)!.id;
    expect(peakAfterS(main, 'JP', 'JMM')).toBeGreaterThan(10 * peakAfterS('demo20200912b', 'JP', 'JMM')); // M6.2 vs M4.6
    expect(peakAfterS(main, 'JP', 'JMM')).toBeGreaterThan(peakAfterS(main, 'JP', 'JSD')); // ~145 km vs ~350 km
  });
});
