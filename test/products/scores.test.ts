/**
 * Anomaly scores: robust z against hand-computed median/MAD, the min-valid rule, storm days kept
 * out of the baseline (and flagged `disturbed`, not counted), non-fair-weather AEF days, score
 * tiles written/read back, sub-daily cadences, incremental reruns.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { computeScores, defaultScoreParams, memoryScoreState, minCountFor, readScoreRows, robustStats, robustZ, scoreSeries, type StormFlags } from '../../src/products/scores';
import { listTiles, readTile, writeTile, type Layer } from '../../src/products/tiles';

const DAY = 86_400_000;
const T0 = Date.UTC(2020, 0, 1);
/** Independent reference: median by full sort, MAD the same way, scale 1.4826·MAD (MAD > 0 in every use). */
function naiveZ(x: number, base: number[]): number {
  const med = (a: number[]) => {
    const s = [...a].sort((p, q) => p - q);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const m = med(base);
  const mad = med(base.map((v) => Math.abs(v - m)));
  if (mad === 0) throw new Error('test data must have MAD > 0');
  return (x - m) / (1.4826 * mad);
}
const noFlags = (): StormFlags => ({ daily: new Map(), hourly: new Map() });

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scores-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function dailyTile(source: string, station: string, cols: Record<string, number[]>, first = T0) {
  const n = Object.values(cols)[0].length;
  writeTile(dir, {
    key: { layer: 'feat' as Layer, source, station, cadence: 'P1D', period: '2020' },
    ts: Array.from({ length: n }, (_, i) => first + i * DAY),
    columns: Object.entries(cols).map(([name, v]) => ({ name, type: 'DOUBLE' as const, values: Float64Array.from(v) })),
    meta: { units: {}, sources: [], station: { name: station, latitude: 36.2, longitude: 140.2 } },
  });
}

describe('robust statistics', () => {
  test('median, MAD and z on a series with known values', () => {
    // values 1..9 plus 100: median = 5.5, |x − 5.5| = 4.5 3.5 2.5 1.5 0.5 0.5 1.5 2.5 3.5 94.5 → MAD = 2.5
    const s = robustStats([1, 2, 3, 4, 5, 6, 7, 8, 9, 100]);
    expect(s.median).toBe(5.5);
    expect(s.mad).toBe(2.5);
    expect(s.scale).toBeCloseTo(1.4826 * 2.5, 12);
    // The trailing window of the 11th value (30) is those 10 values.
    const ts = Array.from({ length: 11 }, (_, i) => T0 + i * DAY);
    const r = robustZ(ts, [1, 2, 3, 4, 5, 6, 7, 8, 9, 100, 30], { windowMs: 30 * DAY, minCount: 10 });
    expect(r.z[10]).toBeCloseTo((30 - 5.5) / (1.4826 * 2.5), 10);
    expect(r.n[10]).toBe(10);
    // Rows with < 10 baseline values have no z.
    for (let i = 0; i < 10; i++) expect(Number.isNaN(r.z[i])).toBe(true);
  });

  test('median and MAD (selection, not sorting) equal the full-sort reference on random data with ties, odd and even n', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const med = (a: number[]) => {
      const q = [...a].sort((x, y) => x - y);
      return q.length % 2 ? q[(q.length - 1) / 2] : (q[q.length / 2 - 1] + q[q.length / 2]) / 2;
    };
    for (const n of [1, 2, 3, 4, 5, 10, 11, 100, 101, 1000, 4321]) {
      for (const kind of ['continuous', 'ties', 'sorted', 'reversed', 'constant']) {
        let v = Array.from({ length: n }, () => (kind === 'ties' ? Math.floor(rnd() * 5) : rnd() * 100 - 50));
        if (kind === 'sorted') v.sort((x, y) => x - y);
        if (kind === 'reversed') v.sort((x, y) => y - x);
        if (kind === 'constant') v = v.map(() => 3);
        const m = med(v);
        const s = robustStats(v);
        expect([n, kind, s.median]).toEqual([n, kind, m]);
        expect([n, kind, s.mad]).toEqual([n, kind, med(v.map((x) => Math.abs(x - m)))]);
      }
    }
  });

  test('strata: a value only meets baseline values of its own stratum (AEF minute vs hourly days)', () => {
    // 20 hourly-based days (level 50) then 20 minute-based days (level 10, spread 1): a
    // minute-based day at 10 is ordinary among its kind, an outlier against the hourly ones.
    const n = 40;
    const ts = Array.from({ length: n }, (_, i) => T0 + i * DAY);
    const x = Array.from({ length: n }, (_, i) => (i < 20 ? 50 + (i % 3) : 9 + (i % 3)));
    const res = Array.from({ length: n }, (_, i) => (i < 20 ? 60 : 1));
    const mixed = robustZ(ts, x, { windowMs: 30 * DAY, minCount: 15 });
    const strat = robustZ(ts, x, { windowMs: 30 * DAY, minCount: 15, stratum: res });
    expect(Math.abs(mixed.z[20])).toBeGreaterThan(3); // first minute day against hourly days
    expect(strat.n[20]).toBe(0); // no minute-based baseline yet
    expect(Number.isNaN(strat.z[20])).toBe(true);
    expect(strat.n[39]).toBe(19);
    expect(strat.z[39]).toBeCloseTo(naiveZ(x[39], x.slice(20, 39)), 10);
    // The scorer never scores the stratum column itself, nor the QC counters.
    const s = scoreSeries({ source: 'aef', station: 'KAK', cadence: 'P1D', ts: Float64Array.from(ts), columns: { pg_min: Float64Array.from(x), resolution_minutes: Float64Array.from(res), valid_minutes: Float64Array.from(res, (r) => 1440 / r) } }, noFlags());
    expect(s.features).toEqual(['pg_min']);
    expect(s.z.pg_min[39]).toBeCloseTo(naiveZ(x[39], x.slice(20, 39)), 10);
  });

  test('NaN values are not baseline values; a NaN row has no z', () => {
    const ts = Array.from({ length: 6 }, (_, i) => T0 + i * DAY);
    const r = robustZ(ts, [1, NaN, 3, 5, 7, NaN], { windowMs: 30 * DAY, minCount: 3 });
    // Row 4: baseline {1, 3, 5}: median 3, MAD 2.
    expect(r.n[4]).toBe(3);
    expect(r.z[4]).toBeCloseTo((7 - 3) / (1.4826 * 2), 12);
    expect(Number.isNaN(r.z[5])).toBe(true);
  });

  test('trailing window is time based and excludes the row itself', () => {
    // 40 daily values 0..39: row 35's 30-day window holds values 5..34 (median 19.5).
    const ts = Array.from({ length: 40 }, (_, i) => T0 + i * DAY);
    const x = Array.from({ length: 40 }, (_, i) => i);
    const r = robustZ(ts, x, { windowMs: 30 * DAY, minCount: 15 });
    expect(r.median[35]).toBe(19.5);
    expect(r.n[35]).toBe(30);
    // |k − 19.5| for k = 5..34 → 0.5..14.5, twice each: MAD = 7.5
    expect(r.scale[35]).toBeCloseTo(1.4826 * 7.5, 12);
  });

  test('min-valid rule: 14 valid values give no z, 15 do; scaled for sub-daily cadences', () => {
    const ts = Array.from({ length: 16 }, (_, i) => T0 + i * DAY);
    const x = Array.from({ length: 16 }, (_, i) => (i % 2 ? 10 : 12));
    const p = defaultScoreParams();
    const r = robustZ(ts, x, { windowMs: p.windowMs, minCount: minCountFor(p, DAY) });
    expect(Number.isNaN(r.z[14])).toBe(true); // 14 values before row 14
    expect(Number.isFinite(r.z[15])).toBe(true);
    expect(minCountFor(p, DAY)).toBe(15);
    expect(minCountFor(p, 3_600_000)).toBe(360);
    expect(minCountFor(p, 60_000)).toBe(21_600);
  });

  test('zero MAD falls back to the mean absolute deviation; a constant baseline gives 0 or the cap', () => {
    // 20 zeros and 2 ones: MAD = 0, mean |x − 0| = 2/22.
    const base = [...Array(20).fill(0), 1, 1];
    const s = robustStats(base);
    expect(s.mad).toBe(0);
    expect(s.scale).toBeCloseTo(1.2533141373155001 * (2 / 22), 12);
    const c = robustStats(Array(20).fill(5));
    expect(c.scale).toBe(0);
    const ts = Array.from({ length: 22 }, (_, i) => T0 + i * DAY);
    const r = robustZ(ts, [...Array(20).fill(5), 5, 6], { windowMs: 30 * DAY, minCount: 15 });
    expect(r.z[20]).toBe(0);
    expect(r.z[21]).toBe(99);
  });
});

describe('storm and weather exclusion', () => {
  // 30 quiet days alternating 10/12 (median 11, MAD 1), storm days 30–31 at 40, then day 32 at 16.
  const quiet = Array.from({ length: 30 }, (_, i) => (i % 2 ? 12 : 10));
  const x = [...quiet, 40, 40, 16];
  const ts = Float64Array.from(x.map((_, i) => T0 + i * DAY));
  const flags = (): StormFlags => ({ daily: new Map([[T0 + 30 * DAY, 1], [T0 + 31 * DAY, 1]]), hourly: new Map() });

  test('a storm day does not inflate the baseline and is disturbed, not an anomaly', () => {
    const s = scoreSeries({ source: 'geomag', station: 'KAK', cadence: 'P1D', ts, columns: { ulf_z: Float64Array.from(x) } }, flags());
    // Day 32: baseline = days 2..29 (30..31 excluded): 28 values of 10/12 → median 11, MAD 1.
    expect(s.z.ulf_z[32]).toBeCloseTo((16 - 11) / 1.4826, 10);
    expect(s.flagged[32]).toBe(1);
    expect(s.disturbed[32]).toBe(0);
    // Storm days: huge score, disturbed, never flagged.
    for (const d of [30, 31]) {
      expect(s.score[d]).toBeGreaterThan(3);
      expect(s.disturbed[d]).toBe(1);
      expect(s.flagged[d]).toBe(0);
    }
    // Without the exclusion the storm enters day 32's baseline and the MAD grows.
    const incl = scoreSeries({ source: 'geomag', station: 'KAK', cadence: 'P1D', ts, columns: { ulf_z: Float64Array.from(x) } }, flags(), { ...defaultScoreParams(), excludeDisturbed: false });
    expect(Math.abs(incl.z.ulf_z[32])).toBeLessThan(Math.abs(s.z.ulf_z[32]));
    expect(incl.flagged[30]).toBe(1); // the storm would then be reported as a local anomaly
  });

  test('a row exactly at the threshold is flagged ("|z| at or above"), one just above it is not', () => {
    const series = { source: 'geomag' as const, station: 'KAK', cadence: 'P1D', ts, columns: { ulf_z: Float64Array.from(x) } };
    const z32 = (16 - 11) / 1.4826; // day 32 against its baseline (median 11, MAD 1)
    const at = scoreSeries(series, flags(), { ...defaultScoreParams(), threshold: z32, minFeatures: 1 });
    expect(at.z.ulf_z[32]).toBe(z32);
    expect(at.flagged[32]).toBe(1);
    const above = scoreSeries(series, flags(), { ...defaultScoreParams(), threshold: z32 + 1e-9, minFeatures: 1 });
    expect(above.flagged[32]).toBe(0);
  });

  test('every minute of a storm day is disturbed, not only the hours over the dB/dt threshold (the recovery phase too)', () => {
    // Hourly minute rows: 20 quiet days of 10/12, then storm day 20 whose flagged hours are 04–14
    // (as the demo's dB/dt flag) while H stays depressed until midnight, then quiet day 21.
    const H = 3_600_000;
    const n = 22 * 24;
    const t = Float64Array.from({ length: n }, (_, i) => T0 + i * H);
    const v = Float64Array.from({ length: n }, (_, i) => (i >= 20 * 24 && i < 21 * 24 ? 60 : i % 2 ? 12 : 10));
    // As the indices tiles hold them: a flag for every day and every hour, 0 when quiet.
    const storm: StormFlags = {
      daily: new Map(Array.from({ length: 22 }, (_, d) => [T0 + d * DAY, d === 20 ? 1 : 0] as [number, number])),
      hourly: new Map(Array.from({ length: n }, (_, i) => [T0 + i * H, i >= 20 * 24 + 4 && i <= 20 * 24 + 14 ? 1 : 0] as [number, number])),
    };
    const params = { ...defaultScoreParams(), minFeatures: 1 };
    const s = scoreSeries({ source: 'geomag', station: 'KAK', cadence: 'PT1H', ts: t, columns: { H_min: v } }, storm, params);
    for (let h = 0; h < 24; h++) {
      const i = 20 * 24 + h;
      expect([h, s.disturbed[i], s.flagged[i]]).toEqual([h, 1, 0]);
      expect(s.score[i]).toBeGreaterThan(3); // scored, but a storm, not a local anomaly
    }
    // The storm's hours stay out of day 21's baseline: 10/12 again is no anomaly.
    for (let i = 21 * 24; i < n; i++) expect([s.disturbed[i], s.flagged[i]]).toEqual([0, 0]);
    // An hourly flag on a day the daily flag calls quiet still marks that hour.
    const hourOnly: StormFlags = { daily: new Map(), hourly: new Map([[T0 + 20 * DAY + 5 * H, 1], [T0 + 20 * DAY + 6 * H, 0]]) };
    const h1 = scoreSeries({ source: 'geomag', station: 'KAK', cadence: 'PT1H', ts: t, columns: { H_min: v } }, hourOnly, params);
    expect([h1.disturbed[20 * 24 + 5], h1.disturbed[20 * 24 + 6]]).toEqual([1, 0]);
  });

  test('AEF non-fair-weather days stay out of baselines and flags', () => {
    const pg = [...quiet.map((v, i) => v * 10 + (i % 3)), -300, 60];
    const fair = [...quiet.map(() => 1), 0, 1];
    const t = Float64Array.from(pg.map((_, i) => T0 + i * DAY));
    const s = scoreSeries({ source: 'aef', station: 'KAK', cadence: 'P1D', ts: t, columns: { pg_median: Float64Array.from(pg), fair_weather: Float64Array.from(fair) } }, noFlags());
    expect(s.features).toEqual(['pg_median']); // fair_weather is a flag, not a feature
    expect(s.flagged[30]).toBe(0);
    expect(s.fairWeather[30]).toBe(0);
    // Day 31: baseline days 1..29 only (day 30 rainy).
    expect(s.z.pg_median[31]).toBeCloseTo(naiveZ(60, pg.slice(1, 30)), 10);
    expect(s.flagged[31]).toBe(1);
  });
});

describe('coincidence rule: near-copies count once', () => {
  const n = 40;
  const t = Float64Array.from({ length: n }, (_, i) => T0 + i * DAY);
  const base = (k: number) => Array.from({ length: n }, (_, i) => 100 + ((i * (3 + k)) % 7));
  test('a level change moving H_mean, H_min, H_max and F_mean is one group; adding dbdt makes two', () => {
    const cols: Record<string, Float64Array> = {};
    for (const [k, f] of ['H_mean', 'H_min', 'H_max', 'F_mean', 'dbdt_max', 'dbdt_rms', 'H_std'].entries()) cols[f] = Float64Array.from(base(k));
    for (const f of ['H_mean', 'H_min', 'H_max', 'F_mean']) cols[f][35] = 500; // level shift only
    for (const f of ['H_mean', 'dbdt_max', 'dbdt_rms']) cols[f][38] = 500; // level + rate: 2 groups
    const s = scoreSeries({ source: 'geomag', station: 'KNY', cadence: 'P1D', ts: t, columns: cols }, noFlags());
    expect(s.score[35]).toBeGreaterThan(3);
    expect(s.flagged[35]).toBe(0); // 4 features over the threshold, one group
    expect(s.flagged[38]).toBe(1);
  });

  test('AEF minute rows of a rainy day (daily fair_weather = 0) are neither flagged nor baseline', async () => {
    const days = 20;
    const perDay = 24; // sparse "minute" rows keep the test small; the rule is per UTC day
    const step = DAY / perDay;
    const m = days * perDay;
    const pg = Float64Array.from({ length: m }, (_, i) => 120 + ((i * 7) % 11));
    const neg = Float64Array.from({ length: m }, (_, i) => (i % 5) * 0.1);
    for (let i = 18 * perDay; i < 18 * perDay + 6; i++) (pg[i] = -400), (neg[i] = 5); // rain on day 18
    for (let i = 19 * perDay; i < 19 * perDay + 3; i++) (pg[i] = -400), (neg[i] = 5); // a fair-day bay on day 19
    const minuteTs = Array.from({ length: m }, (_, i) => T0 + i * step);
    writeTile(dir, {
      key: { layer: 'feat' as Layer, source: 'aef', station: 'KAK', cadence: 'PT1H', period: '2020-01' },
      ts: minuteTs,
      columns: [
        { name: 'pg', type: 'DOUBLE', values: pg },
        { name: 'pg_negative', type: 'DOUBLE', values: neg },
      ],
      meta: { units: {}, sources: [] },
    });
    dailyTile('aef', 'KAK', { pg_median: Array.from({ length: days }, () => 120), fair_weather: Array.from({ length: days }, (_, d) => (d === 18 ? 0 : 1)) });
    await computeScores({ tilesDir: dir, params: { minValid: 10 } });
    const rows = await readScoreRows(dir, { source: 'aef', cadence: 'PT1H' });
    const on = (d: number) => rows.filter((r) => r.time >= T0 + d * DAY && r.time < T0 + (d + 1) * DAY);
    expect(on(18).filter((r) => (r.score ?? 0) >= 3)).toHaveLength(6); // scored and visible
    expect(on(18).some((r) => r.flagged)).toBe(false); // but rain is not an anomaly
    expect(on(19).filter((r) => r.flagged)).toHaveLength(3);
  });
});

describe('score tiles', () => {
  test('computeScores writes score/<source>/<station>/P1D with z, score, flagged, disturbed; readScoreRows reads them', async () => {
    const quiet = Array.from({ length: 30 }, (_, i) => (i % 2 ? 12 : 10));
    const zg = [...quiet.map((v, i) => v / 10 + (i % 3) * 0.01), 1.1, 2];
    dailyTile('geomag', 'KAK', { ulf_z: [...quiet, 40, 11], zg_ratio: zg });
    writeTile(dir, {
      key: { layer: 'feat' as Layer, source: 'indices', station: 'GLOBAL', cadence: 'P1D', period: '2020' },
      ts: Array.from({ length: 32 }, (_, i) => T0 + i * DAY),
      columns: [{ name: 'disturbed', type: 'DOUBLE', values: Float64Array.from({ length: 32 }, (_, i) => (i === 30 ? 1 : 0)) }],
      meta: { units: {}, sources: [] },
    });
    const sum = await computeScores({ tilesDir: dir });
    expect(sum.tilesWritten).toBe(1);
    const [tile] = listTiles(dir, { layer: 'score' as Layer });
    expect(tile.key).toMatchObject({ source: 'geomag', station: 'KAK', cadence: 'P1D', period: '2020' });
    const d = await readTile(tile.path);
    expect(Object.keys(d.columns).sort()).toEqual(['baseline_n', 'disturbed', 'flagged', 'score', 'ulf_z_z', 'zg_ratio_z'].sort());
    expect(JSON.parse(d.kv['geonode.station_meta'])).toMatchObject({ latitude: 36.2 });
    const rows = await readScoreRows(dir);
    expect(rows).toHaveLength(32);
    const storm = rows[30];
    expect(storm).toMatchObject({ disturbed: 1, flagged: 0, feature: 'ulf_z' });
    const day31 = rows[31];
    // zg_ratio 5 against days 1..29 (day 30 disturbed)
    expect(day31.feature).toBe('zg_ratio');
    expect(day31.score!).toBeCloseTo(naiveZ(2, zg.slice(1, 30)), 6);
    // One feature over the threshold: the default coincidence rule (2 features) does not flag it…
    expect(day31.flagged).toBe(0);
    expect(rows[0].score).toBeNull();
    // …the bare max|z| rule of the methods doc does.
    await computeScores({ tilesDir: dir, params: { minFeatures: 1 }, force: true });
    expect((await readScoreRows(dir))[31]).toMatchObject({ feature: 'zg_ratio', flagged: 1 });
  });

  test('incremental: unchanged inputs are skipped; a new day rewrites only from its period on', async () => {
    dailyTile('vlf', 'MOS', { bp_300_3000_ns: Array.from({ length: 20 }, (_, i) => i % 3) });
    const state = memoryScoreState();
    const a = await computeScores({ tilesDir: dir, state });
    expect(a.tilesWritten).toBe(1);
    const b = await computeScores({ tilesDir: dir, state });
    expect(b.skipped).toBe(1);
    expect(b.tilesWritten).toBe(0);
    // New days in the next year's tile: the dataset is rescored (baseline needs the past), but
    // only the 2021 score tile is rewritten.
    const first2021 = Date.UTC(2021, 0, 1);
    writeTile(dir, {
      key: { layer: 'feat' as Layer, source: 'vlf', station: 'MOS', cadence: 'P1D', period: '2021' },
      ts: [first2021, first2021 + DAY],
      columns: [{ name: 'bp_300_3000_ns', type: 'DOUBLE', values: Float64Array.from([1, 2]) }],
      meta: { units: {}, sources: [] },
    });
    const c = await computeScores({ tilesDir: dir, state });
    expect(c.tilesWritten).toBe(1);
    expect(c.written[0]).toContain('date=2021');
  });

  test('sub-daily features: hourly scores with a day-stable baseline, plus a P1D day-max tile', async () => {
    const n = 24 * 20;
    const x = Array.from({ length: n }, (_, i) => 5 + ((i * 7) % 5) * 0.1);
    x[n - 5] = 50;
    writeTile(dir, {
      key: { layer: 'feat' as Layer, source: 'geomag', station: 'MMB', cadence: 'PT1H', period: '2020-01' },
      ts: Array.from({ length: n }, (_, i) => T0 + i * 3_600_000),
      columns: [{ name: 'ulf_z', type: 'DOUBLE', values: Float64Array.from(x) }],
      meta: { units: {}, sources: [] },
    });
    await computeScores({ tilesDir: dir });
    const hourly = await readScoreRows(dir, { cadence: 'PT1H' });
    const daily = await readScoreRows(dir, { cadence: 'P1D' });
    // 15 days' worth (360 hourly values) needed: day 15 is the first scored day.
    expect(hourly.find((r) => r.score !== null)!.time).toBe(T0 + 15 * DAY);
    expect(hourly[n - 5].flagged).toBe(1);
    expect(daily).toHaveLength(20);
    expect(daily[19].flagged).toBe(1);
    expect(daily[18].flagged).toBe(0);
  });
});
