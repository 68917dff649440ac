/**
 * The products demo (src/demo/products.ts): every file parses with the project's readers
 * (readIaga2002, readAef, readIseeVlf) with the cadences, row counts, element orders and
 * sentinels truth.json lists; values are in realistic ranges; the storm is seen at the same
 * time at all three observatories; each injected anomaly is visible in its source at its time;
 * and generation is deterministic (byte-identical reruns, and a 1-day run equals the matching
 * day of the 3-day run).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readAef } from '../../src/formats/aef';
import { readIaga2002, SENTINEL_MISSING, SENTINEL_NOT_RECORDED, type IagaFile } from '../../src/formats/iaga2002';
import { readIseeVlf, type IseeVlfData } from '../../src/formats/iseeVlf';
import { generateProductsDemo, type ProductsSummary } from '../../src/demo/products';

interface FileTruth {
  path: string;
  source: string;
  station: string;
  cadence: string;
  first: string;
  last: string;
  rows: number;
  bytes: number;
  sha256: string;
  elements?: string[];
  sentinels?: Record<string, { missing?: number; notRecorded?: number; fillFrames?: number }>;
}
interface Truth {
  days: number;
  range: { start: string; end: string };
  stations: { geomag: Array<{ code: string; elements: string[]; latitude: number }>; aef: unknown[]; vlf: unknown[] };
  storms: Array<{ id: string; ssc: string; mainPhaseMinimum: string; minNt: number; stations: string[] }>;
  anomalies: Array<{ id: string; source: string; station: string; kind: string; start: string; end: string; amplitude: number; bandHz?: number[]; relatedEvent?: string; leadHours?: number }>;
  weather: Array<{ kind: string; start: string; end: string; inDemoDays: boolean }>;
  gaps: Array<{ source: string; station: string; start: string; end: string; elements?: string[] | 'all'; mode?: string; channels?: string[] }>;
  spikes: Array<{ station: string; time: string; element: string; nT: number; file: string }>;
  notRecorded: Array<{ station: string; day: string; element: string; files: string[] }>;
  vlf: { missingFiles: string[] };
  files: FileTruth[];
}

const ms = (iso: string) => Date.parse(iso);
let dir: string;
let summary: ProductsSummary;
let truth: Truth;
const cache = new Map<string, IagaFile>();

function iaga(rel: string): IagaFile {
  let f = cache.get(rel);
  if (!f) {
    f = readIaga2002(fs.readFileSync(path.join(dir, rel)), { fileName: path.basename(rel) });
    cache.set(rel, f);
  }
  return f;
}
const fileOf = (source: string, station: string, cadence: string, day: string) =>
  truth.files.find((f) => f.source === source && f.station === station && f.cadence === cadence && f.first.startsWith(day))!;
const col = (f: IagaFile, el: string) => f.columns.find((c) => c.element === el)!;
/** The horizontal intensity of a geomag file (H column, or |X,Y|). */
function horizontal(f: IagaFile): Float64Array {
  const h = f.columns.find((c) => c.element === 'H');
  if (h) return h.values;
  const x = col(f, 'X').values;
  const y = col(f, 'Y').values;
  return Float64Array.from(x, (v, i) => Math.hypot(v, y[i]));
}
function median(a: number[]): number {
  const s = a.filter((v) => Number.isFinite(v)).sort((p, q) => p - q);
  return s[Math.floor(s.length / 2)];
}
/** RMS of the 10–50 mHz band over [a, b): x minus its 101-s running mean, then a 7-s running mean. */
function ulfRms(x: Float64Array, a: number, b: number): number {
  const seg = x.slice(a - 60, b + 60);
  const run = (v: Float64Array, half: number) => {
    const c = new Float64Array(v.length + 1);
    for (let i = 0; i < v.length; i++) c[i + 1] = c[i] + v[i];
    return Float64Array.from(v, (_, i) => {
      const lo = Math.max(0, i - half);
      const hi = Math.min(v.length, i + half + 1);
      return (c[hi] - c[lo]) / (hi - lo);
    });
  };
  const lp = run(seg, 50);
  const bp = run(Float64Array.from(seg, (v, i) => v - lp[i]), 3);
  let s = 0;
  for (let i = 60; i < bp.length - 60; i++) s += bp[i] ** 2;
  return Math.sqrt(s / (bp.length - 120));
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-products-'));
  summary = await generateProductsDemo(dir);
  truth = JSON.parse(fs.readFileSync(summary.truthPath, 'utf8')) as Truth;
}, 120_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('truth.json and the file tree', () => {
  test('3 geomag stations × 3 days × (sec + min), 13 AEF minute files (from the start of the month) + 1 monthly hour file, 71 VLF hour files', () => {
    expect(truth.days).toBe(3);
    expect(truth.range).toEqual({ start: '2020-09-11T00:00:00.000Z', end: '2020-09-14T00:00:00.000Z' });
    const count = (s: string, c?: string) => truth.files.filter((f) => f.source === s && (!c || f.cadence === c)).length;
    // AEF minute files from the first month's start (09-01) to the last day (the scores' baseline).
    expect([count('geomag', 'PT1S'), count('geomag', 'PT1M'), count('aef', 'PT1M'), count('aef', 'PT1H'), count('vlf')]).toEqual([9, 9, 13, 1, 71]);
    expect(truth.vlf.missingFiles).toEqual(['products/vlf/MOS/2020/09/isee_vlf_mos_2020091221_v01.cdf']);
    expect(summary.files).toBe(truth.files.length);
    const names = truth.files.map((f) => f.path);
    expect(names).toContain('products/geomag/KAK/kak20200911vsec.sec');
    expect(names).toContain('products/geomag/KNY/kny20200912vmin.min');
    expect(names).toContain('products/aef/KAK/kak20200913daef.min');
    expect(names).toContain('products/aef/KAK/kak202009daef.hor');
    expect(names).toContain('products/vlf/MOS/2020/09/isee_vlf_mos_2020091102_v01.cdf');
  });

  test('every listed file exists with the listed size and sha256', () => {
    for (const f of truth.files) {
      const buf = fs.readFileSync(path.join(dir, f.path));
      expect(buf.length).toBe(f.bytes);
      expect(crypto.createHash('sha256').update(buf).digest('hex')).toBe(f.sha256);
    }
  });

  test('the scenario: one storm at all three observatories, one anomaly per source before the mainshock', () => {
    expect(truth.storms).toHaveLength(1);
    expect(truth.storms[0].stations).toEqual(['KAK', 'KNY', 'MMB']);
    expect(truth.anomalies.map((a) => `${a.source}/${a.station}/${a.kind}`).sort()).toEqual(['aef/KAK/aef-negative-bay', 'geomag/KAK/ulf-z-enhancement', 'vlf/MOS/vlf-band-enhancement']);
    for (const a of truth.anomalies) {
      expect(a.relatedEvent).toBe('demo20200912a');
      expect(a.leadHours).toBeGreaterThan(0);
    }
  });
});

describe('geomagnetic IAGA-2002 files', () => {
  test('cadence, rows, element order, 70-character records and realistic levels', () => {
    for (const f of truth.files.filter((x) => x.source === 'geomag')) {
      const st = truth.stations.geomag.find((s) => s.code === f.station)!;
      const r = iaga(f.path);
      expect(r.header.warnings).toEqual([]);
      expect(r.cadence.iso).toBe(f.cadence);
      expect(r.rows).toBe(f.cadence === 'PT1S' ? 86400 : 1440);
      expect(r.rows).toBe(f.rows);
      expect(r.header.elements).toEqual(st.elements);
      expect(r.header.iagaCode).toBe(f.station);
      expect(new Date(r.times[0]).toISOString()).toBe(f.first);
      for (const c of r.columns) {
        const v = Array.from(c.values).filter(Number.isFinite);
        const lim: Record<string, [number, number]> = { X: [25000, 34000], Y: [-5000, -3000], H: [25000, 34000], D: [-600, -350], Z: [30000, 42000], F: [44000, 50000] };
        if (v.length === 0) continue;
        expect(Math.min(...v)).toBeGreaterThan(lim[c.element][0]);
        // Spikes stay within a few hundred nT.
        expect(Math.max(...v)).toBeLessThan(lim[c.element][1] + 1000);
      }
    }
    const text = fs.readFileSync(path.join(dir, 'products/geomag/KNY/kny20200912vmin.min'), 'latin1');
    expect(text.split('\n').slice(0, -1).every((l) => l.length === 70)).toBe(true);
  });

  test('sentinel counts per file equal truth.json, and sit where the gaps are', () => {
    for (const f of truth.files.filter((x) => x.source === 'geomag')) {
      const r = iaga(f.path);
      const got: Record<string, { missing?: number; notRecorded?: number }> = {};
      for (const c of r.columns) {
        const m = c.sentinel.filter((s) => s === SENTINEL_MISSING).length;
        const n = c.sentinel.filter((s) => s === SENTINEL_NOT_RECORDED).length;
        if (m || n) got[c.element] = { ...(m ? { missing: m } : {}), ...(n ? { notRecorded: n } : {}) };
      }
      expect([f.path, got]).toEqual([f.path, f.sentinels ?? {}]);
    }
    // KNY logger restart: 20 min of 9-filled seconds, all elements; 21 minute values (> 10 % missing).
    const g = truth.gaps.find((x) => x.source === 'geomag' && x.station === 'KNY')!;
    const sec = iaga(fileOf('geomag', 'KNY', 'PT1S', '2020-09-12').path);
    const i0 = (ms(g.start) - sec.times[0]) / 1000;
    for (const c of sec.columns) {
      expect(c.sentinel[i0 - 1]).toBe(0);
      expect(c.sentinel.slice(i0, i0 + 1200).every((s) => s === SENTINEL_MISSING)).toBe(true);
      expect(c.sentinel[i0 + 1200]).toBe(0);
    }
    expect(fileOf('geomag', 'KNY', 'PT1M', '2020-09-12').sentinels).toEqual({ H: { missing: 21 }, D: { missing: 21 }, Z: { missing: 21 }, F: { missing: 21 } });
    // MMB F not recorded on 2020-09-13: 88888 in both files of the day.
    const nr = truth.notRecorded[0];
    expect(nr).toMatchObject({ station: 'MMB', day: '2020-09-13', element: 'F' });
    for (const p of nr.files) expect(col(iaga(p), 'F').sentinel.every((s) => s === SENTINEL_NOT_RECORDED)).toBe(true);
    expect(fs.readFileSync(path.join(dir, nr.files[0]), 'latin1')).toContain('  88888.00\n');
  });

  test('minute values are the mean of the seconds [t-30 s, t+29 s]', () => {
    const sec = iaga('products/geomag/KAK/kak20200912vsec.sec');
    const min = iaga('products/geomag/KAK/kak20200912vmin.min');
    for (const m of [1, 163, 700, 1438]) {
      for (const el of ['X', 'Y', 'Z', 'F']) {
        const s = col(sec, el).values.slice(60 * m - 30, 60 * m + 30);
        const mean = s.reduce((a, b) => a + b, 0) / 60;
        expect(Math.abs(col(min, el).values[m] - mean)).toBeLessThan(0.006);
      }
    }
  });

  test('spikes are where truth.json says, with the listed size', () => {
    expect(truth.spikes.length).toBe(6);
    for (const sp of truth.spikes) {
      const r = iaga(sp.file);
      const i = (ms(sp.time) - r.times[0]) / 1000;
      const v = col(r, sp.element).values;
      const around = median([v[i - 3], v[i - 2], v[i - 1], v[i + 1], v[i + 2], v[i + 3]]);
      expect(Math.abs(v[i] - around - sp.nT)).toBeLessThan(Math.abs(sp.nT) * 0.05 + 1);
    }
  });

  test('the storm: the largest 10-s dB/dt of the day is the SSC at all three stations at once, then a main phase of ~-100 nT', () => {
    const storm = truth.storms[0];
    const ssc = ms(storm.ssc);
    const day = storm.ssc.slice(0, 10);
    const peaks: number[] = [];
    for (const code of ['KAK', 'KNY', 'MMB']) {
      const r = iaga(fileOf('geomag', code, 'PT1S', day).path);
      const h = horizontal(r);
      // Spikes are single samples: replace them (truth.json) by their neighbour before differencing.
      for (const sp of truth.spikes.filter((s) => s.station === code && s.time.startsWith(day))) {
        const i = (ms(sp.time) - r.times[0]) / 1000;
        h[i] = h[i - 1];
      }
      let best = 0;
      let at = 0;
      for (let i = 10; i + 10 < h.length; i++) {
        const d = Math.abs(h[i + 10] - h[i]) / 10;
        if (Number.isFinite(d) && d > best) (best = d, (at = r.times[i + 5]));
      }
      expect(Math.abs(at - ssc)).toBeLessThanOrEqual(20_000);
      expect(best).toBeGreaterThan(0.8);
      peaks.push(at);
      const iS = (ssc - r.times[0]) / 1000;
      const iMin = (ms(storm.mainPhaseMinimum) - r.times[0]) / 1000;
      const before = median(Array.from(h.slice(iS - 1800, iS - 60)));
      const lowest = median(Array.from(h.slice(iMin - 900, iMin + 900)));
      expect(lowest - before).toBeLessThan(-80);
      expect(lowest - before).toBeGreaterThan(-160);
    }
    expect(Math.max(...peaks) - Math.min(...peaks)).toBeLessThanOrEqual(20_000);
  });

  test('the ULF anomaly: Z 10-50 mHz power at KAK rises during the injection, not at MMB', () => {
    const a = truth.anomalies.find((x) => x.kind === 'ulf-z-enhancement')!;
    const s = ms(a.start);
    const e = ms(a.end);
    const ratio = (code: string) => {
      // The anomaly crosses midnight: join the two day files.
      const d1 = iaga(fileOf('geomag', code, 'PT1S', a.start.slice(0, 10)).path);
      const d2 = iaga(fileOf('geomag', code, 'PT1S', new Date(ms(a.start) + 86_400_000).toISOString().slice(0, 10)).path);
      const z = new Float64Array(d1.rows + d2.rows);
      z.set(col(d1, 'Z').values);
      z.set(col(d2, 'Z').values, d1.rows);
      const i = (t: number) => (t - d1.times[0]) / 1000;
      const inside = ulfRms(z, i(s) + 900, i(e) - 900);
      const before = ulfRms(z, i(s) - 4 * 3600, i(s) - 900);
      return inside / before;
    };
    expect(ratio('KAK')).toBeGreaterThan(2.5);
    expect(ratio('MMB')).toBeLessThan(1.5);
    expect(ratio('KNY')).toBeLessThan(1.5);
  });
});

describe('Kakioka AEF files', () => {
  test('minute files: 1440 rows PT1M, dummies 88888, PG realistic, gaps where truth.json says', () => {
    for (const f of truth.files.filter((x) => x.source === 'aef' && x.cadence === 'PT1M')) {
      const r = readAef(fs.readFileSync(path.join(dir, f.path)), path.basename(f.path));
      expect(r.warnings).toEqual([]);
      expect(r.dummiesAreFill).toBe(true);
      expect(r.cadence.iso).toBe('PT1M');
      expect(r.times.length).toBe(1440);
      expect(r.fileName).toMatchObject({ station: 'KAK', cadence: 'PT1M' });
      const missing = r.sentinel.filter((s) => s === SENTINEL_MISSING).length;
      expect(missing).toBe(f.sentinels?.Z?.missing ?? 0);
      const pg = Array.from(r.pg).filter(Number.isFinite);
      expect(median(pg)).toBeGreaterThan(80);
      expect(median(pg)).toBeLessThan(200);
    }
    const g = truth.gaps.find((x) => x.source === 'aef' && x.start.startsWith('2020-09-12'))!;
    const r = readAef(fs.readFileSync(path.join(dir, 'products/aef/KAK/kak20200912daef.min')));
    const i = (ms(g.start) - r.times[0]) / 60_000;
    expect(Number.isNaN(r.pg[i - 1])).toBe(false);
    expect(Array.from(r.pg.slice(i, i + 40)).every(Number.isNaN)).toBe(true);
  });

  test('the negative bay goes well below zero in fair weather; rain turns PG negative too', () => {
    const a = truth.anomalies.find((x) => x.kind === 'aef-negative-bay')!;
    const r = readAef(fs.readFileSync(path.join(dir, `products/aef/KAK/kak${a.start.slice(0, 10).replace(/-/g, '')}daef.min`)));
    const i = (t: number) => Math.round((t - r.times[0]) / 60_000);
    const bay = Array.from(r.pg.slice(i(ms(a.start)), i(ms(a.end))));
    const before = Array.from(r.pg.slice(i(ms(a.start)) - 240, i(ms(a.start))));
    expect(Math.min(...bay)).toBeLessThan(-50);
    expect(Math.min(...before)).toBeGreaterThan(30);
    expect(truth.weather.filter((w) => w.inDemoDays && ms(w.start) < ms(a.end) && ms(w.end) > ms(a.start))).toEqual([]);
    const rain = truth.weather.find((w) => w.kind === 'rain' && w.inDemoDays)!;
    const rr = readAef(fs.readFileSync(path.join(dir, `products/aef/KAK/kak${rain.start.slice(0, 10).replace(/-/g, '')}daef.min`)));
    const j = (t: number) => Math.round((t - rr.times[0]) / 60_000);
    expect(median(Array.from(rr.pg.slice(j(ms(rain.start)) + 30, j(ms(rain.end)) - 30)))).toBeLessThan(-100);
  });

  test('monthly hourly file: whole month PT1H stamped hh:30, hourly means of the minute files', () => {
    const f = truth.files.find((x) => x.source === 'aef' && x.cadence === 'PT1H')!;
    const h = readAef(fs.readFileSync(path.join(dir, f.path)), path.basename(f.path));
    expect(h.warnings).toEqual([]);
    expect(h.cadence).toMatchObject({ iso: 'PT1H', stampOffsetMs: 1_800_000 });
    expect(h.times.length).toBe(720);
    expect(new Date(h.times[0]).toISOString()).toBe('2020-09-01T00:30:00.000Z');
    const m = readAef(fs.readFileSync(path.join(dir, 'products/aef/KAK/kak20200911daef.min')));
    const k0 = (m.times[0] - Date.UTC(2020, 8, 1)) / 3_600_000;
    for (const hr of [0, 5, 13, 23]) {
      const v = Array.from(m.pg.slice(60 * hr, 60 * hr + 60)).filter(Number.isFinite);
      expect(Math.abs(h.pg[k0 + hr] - v.reduce((a, b) => a + b, 0) / v.length)).toBeLessThan(0.006);
    }
  });
});

describe('ISEE VLF CDF files (reduced)', () => {
  const vlfCache = new Map<string, IseeVlfData>();
  const vlf = (hourIso: string): IseeVlfData => {
    const name = `isee_vlf_mos_${hourIso.slice(0, 13).replace(/[-T]/g, '')}_v01.cdf`;
    let v = vlfCache.get(name);
    if (!v) {
      v = readIseeVlf(fs.readFileSync(path.join(dir, 'products/vlf/MOS', hourIso.slice(0, 4), hourIso.slice(5, 7), name)), name);
      vlfCache.set(name, v);
    }
    return v;
  };
  /** Median over frames in [a, b) of the mean PSD over the band (dB). */
  function bandDb(v: IseeVlfData, ch: 'ch1' | 'ch2', f1: number, f2: number, a = -Infinity, b = Infinity): number {
    const bins = Array.from(v.freqHz.keys()).filter((k) => v.freqHz[k] >= f1 && v.freqHz[k] < f2);
    const per: number[] = [];
    for (let t = 0; t < v.nTime; t++) {
      if (v.times[t] < a || v.times[t] >= b) continue;
      per.push(10 * Math.log10(bins.reduce((s, k) => s + v[ch][t * v.nFreq + k], 0) / bins.length));
    }
    return median(per);
  }

  test('every file reads: 360 10-s frames × 256 bins (10–19932 Hz), units, station, frames per truth.json', () => {
    for (const f of truth.files.filter((x) => x.source === 'vlf')) {
      const v = vlf(f.first);
      expect(v.station).toBe('mos');
      expect(v.nFreq).toBe(256);
      expect(v.nTime).toBe(f.rows);
      expect(new Date(v.times[0]).toISOString()).toBe(f.first);
      expect(v.units).toEqual({ ch1: 'V^2/Hz', ch2: 'V^2/Hz', freq: 'Hz' });
      expect(v.cal.ch1?.gainVPerT.length).toBe(64);
      if (f.rows === 360) expect(new Set(Array.from(v.times.subarray(1), (t, i) => t - v.times[i]))).toEqual(new Set([10_000]));
    }
    const v = vlf('2020-09-12T00');
    expect(v.freqHz[0]).toBe(10);
    expect(v.freqHz[255]).toBeCloseTo(19931.875, 2);
    expect(v.attrs.latitude).toBeCloseTo(44.365, 3);
    // Realistic V²/Hz levels, falling with frequency.
    expect(bandDb(v, 'ch1', 10, 300)).toBeGreaterThan(bandDb(v, 'ch1', 10000, 20000) + 20);
    // Dropped frames: 12:21–12:24 on 2020-09-12 → 342 frames; FILLVAL frames on ch1 → NaN.
    expect(vlf('2020-09-12T12').nTime).toBe(342);
    const fill = truth.gaps.find((g) => g.mode === 'fill')!;
    const fv = vlf(fill.start);
    const fi = Array.from(fv.times.keys()).filter((t) => fv.times[t] >= ms(fill.start) && fv.times[t] < ms(fill.end));
    expect(fi.length).toBe(30);
    expect(fi.every((t) => Number.isNaN(fv.ch1[t * 256]) && Number.isFinite(fv.ch2[t * 256]))).toBe(true);
  });

  test('the band enhancement is visible at its time (vs the same local time a day later)', () => {
    const a = truth.anomalies.find((x) => x.kind === 'vlf-band-enhancement')!;
    const [f1, f2] = a.bandHz!;
    const mid = ms(a.start) + (ms(a.end) - ms(a.start)) / 2;
    const hour = new Date(mid).toISOString();
    const next = new Date(mid + 86_400_000).toISOString();
    for (const ch of ['ch1', 'ch2'] as const) {
      const inside = bandDb(vlf(hour), ch, f1, f2, mid - 900_000, mid + 900_000);
      const later = bandDb(vlf(next), ch, f1, f2, mid + 86_400_000 - 900_000, mid + 86_400_000 + 900_000);
      expect(inside - later).toBeGreaterThan(5);
      // Outside the band nothing changed.
      expect(Math.abs(bandDb(vlf(hour), ch, 10000, 20000, mid - 900_000, mid + 900_000) - bandDb(vlf(next), ch, 10000, 20000, mid + 86_400_000 - 900_000, mid + 86_400_000 + 900_000))).toBeLessThan(3);
    }
  });

  test('storm-time chorus raises 0.8–8 kHz at Moshiri (vs the same hour a day earlier)', () => {
    const ssc = ms(truth.storms[0].ssc);
    const h = new Date(ssc + 5 * 3_600_000).toISOString();
    const prev = new Date(ssc + 5 * 3_600_000 - 86_400_000).toISOString();
    expect(bandDb(vlf(h), 'ch1', 1500, 4000) - bandDb(vlf(prev), 'ch1', 1500, 4000)).toBeGreaterThan(5);
  });
});

describe('determinism', () => {
  let one: string;
  let two: string;
  beforeAll(async () => {
    one = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-products-1d-'));
    two = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-products-1d-'));
    await generateProductsDemo(one, { days: 1 });
    await generateProductsDemo(two, { days: 1, sources: ['geomag', 'aef', 'vlf'] });
  }, 120_000);
  afterAll(() => {
    fs.rmSync(one, { recursive: true, force: true });
    fs.rmSync(two, { recursive: true, force: true });
  });

  test('two runs write identical bytes (truth.json included)', () => {
    const t1 = fs.readFileSync(path.join(one, 'products/truth.json'));
    expect(fs.readFileSync(path.join(two, 'products/truth.json')).equals(t1)).toBe(true);
    const files = (JSON.parse(t1.toString('utf8')) as Truth).files;
    expect(files.length).toBe(6 + 13 + 23); // 3 × (sec + min), AEF min 09-01..09-12 + hor, 24 VLF hours minus the missing one
    for (const f of files) expect([f.path, fs.readFileSync(path.join(two, f.path)).equals(fs.readFileSync(path.join(one, f.path)))]).toEqual([f.path, true]);
  });

  test('a 1-day run writes the same files as that day of the 3-day run (values depend on absolute time only)', () => {
    const files = (JSON.parse(fs.readFileSync(path.join(one, 'products/truth.json'), 'utf8')) as Truth).files;
    for (const f of files) {
      const big = truth.files.find((x) => x.path === f.path)!;
      expect([f.path, f.sha256]).toEqual([f.path, big.sha256]);
    }
  });
});
