/**
 * Detector evaluation on the synthetic 40-day scenario (truth known by construction: 4 injected
 * anomalies, a 2-day storm, a rainy AEF day) — the default demo (3 days) cannot hold the 30-day
 * / 15-valid-day baseline, see eval.ts. Hand-made truth/score rows check the TP/FP/FN arithmetic.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { evaluate, evaluateSynthetic, main, SEEDS, type TruthFile } from '../../src/products/eval';
import type { ScoreRow } from '../../src/products/scores';

const DAY = 86_400_000;
const T0 = Date.UTC(2020, 8, 10);

const row = (station: string, source: string, day: number, flagged: number, disturbed = 0): ScoreRow => ({
  source,
  station,
  cadence: 'P1D',
  time: T0 + day * DAY,
  cadenceMs: DAY,
  score: flagged ? 5 : 1,
  flagged,
  disturbed,
  feature: 'x',
  z: flagged ? 5 : 1,
});

test('TP/FP/FN per (station, source, day); lead-time error from the flagged day centre', () => {
  const truth: TruthFile = {
    range: { start: new Date(T0).toISOString(), end: new Date(T0 + 5 * DAY).toISOString() },
    anomalies: [
      // Spans two days (22:00 → 02:00): both days are truth units.
      { id: 'a', source: 'geomag', station: 'KAK', start: new Date(T0 + DAY + 22 * 3_600_000).toISOString(), end: new Date(T0 + 2 * DAY + 2 * 3_600_000).toISOString(), leadHours: 30 },
      { id: 'b', source: 'aef', station: 'KAK', start: new Date(T0 + 3 * DAY).toISOString(), end: new Date(T0 + 3 * DAY + 3_600_000).toISOString() },
    ],
    storms: [{ disturbedDays: [new Date(T0 + 4 * DAY).toISOString().slice(0, 10)] }],
  };
  const rows = [row('KAK', 'geomag', 1, 1), row('KAK', 'geomag', 2, 0), row('KNY', 'geomag', 2, 1), row('KAK', 'aef', 3, 0), row('KAK', 'geomag', 4, 0, 1)];
  const r = evaluate(truth, rows);
  expect(r.tp).toEqual([{ station: 'KAK', source: 'geomag', day: '2020-09-11' }]);
  expect(r.fp).toEqual([{ station: 'KNY', source: 'geomag', day: '2020-09-12' }]);
  expect(r.fn.map((u) => u.day)).toEqual(['2020-09-13', '2020-09-12']);
  expect(r.precision).toBe(0.5);
  expect(r.recall).toBeCloseTo(1 / 3, 12);
  // Event = start + 30 h = day 3 04:00; detected lead from day 1 12:00 = 40 h → error 10 h.
  expect(r.leadTimes).toEqual([expect.objectContaining({ anomaly: 'a', trueLeadHours: 30, detectedLeadHours: 40, errorHours: 10 })]);
  expect(r.stormDays).toEqual(['2020-09-14']);
  expect(r.flaggedOnStormDays).toBe(0);
});

describe('synthetic 40-day scenario', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eval-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('bare rule (max|z| >= 3, --min-features 1): every anomaly found, none on storm/rain days; precision is what it is', async () => {
    const { result } = await evaluateSynthetic(dir, { minFeatures: 1 });
    expect(result.recall).toBe(1);
    expect(result.tp.map((u) => `${u.source}/${u.station}/${u.day}`).sort()).toEqual(['aef/KAK/2020-09-11', 'geomag/KAK/2020-09-11', 'geomag/MMB/2020-09-16', 'vlf/MOS/2020-09-11']);
    expect(result.flaggedOnStormDays).toBe(0);
    // No flag on the rainy AEF day (day 27) and none on the storm days (33, 34).
    const bad = new Set(['2020-09-06', '2020-09-12', '2020-09-13']);
    expect(result.fp.filter((u) => bad.has(u.day))).toEqual([]);
    // Independent Gaussian noise in 3 features with 15–30-value baselines: the single-feature
    // rule raises false alarms (documented figure for the reference seed: 6 → precision 0.4).
    expect(result.fp.length).toBe(6);
    expect(result.precision).toBeCloseTo(0.4, 12);
    // The MMB anomaly right after the storm is only detectable because the storm stayed out of the baseline.
    const noExclusion = await evaluateSynthetic(fs.mkdtempSync(path.join(dir, 'b-')), { excludeDisturbed: false, minFeatures: 1 });
    expect(noExclusion.result.flaggedOnStormDays).toBeGreaterThan(0);
  });

  test('default rule (>= 2 features): precision and recall >= 0.8 on every seed; lead-time error bounded by the day bin', async () => {
    for (const seed of SEEDS) {
      const sub = fs.mkdtempSync(path.join(dir, `s${seed}-`));
      const { result } = await evaluateSynthetic(sub, {}, seed);
      expect(result.precision!).toBeGreaterThanOrEqual(0.8);
      expect(result.recall!).toBeGreaterThanOrEqual(0.8);
      expect(result.leadTimes).toHaveLength(3);
      for (const l of result.leadTimes) expect(Math.abs(l.errorHours)).toBeLessThanOrEqual(12);
    }
  });

  test('CLI main prints the tables and exits 0 (demo truth without scores → explained gap)', async () => {
    const archive = path.join(dir, 'archive');
    fs.mkdirSync(path.join(archive, 'products'), { recursive: true });
    fs.writeFileSync(
      path.join(archive, 'products', 'truth.json'),
      JSON.stringify({ days: 3, range: { start: '2020-09-11T00:00:00.000Z', end: '2020-09-14T00:00:00.000Z' }, anomalies: [{ source: 'geomag', station: 'KAK', start: '2020-09-11T13:14:11.000Z', end: '2020-09-11T17:14:11.000Z', leadHours: 13.5 }], storms: [{ disturbedDays: ['2020-09-13'] }] }),
    );
    let out = '';
    const code = await main(['--archive', archive, '--tiles', path.join(dir, 'none')], { write: (c: string) => ((out += c), true) } as unknown as NodeJS.WritableStream, {});
    expect(code).toBe(0);
    expect(out).toMatch(/no usable daily scores for the demo range/);
    expect(out).toMatch(/precision 0\.400 {2}recall 1\.000/); // bare rule, reference seed
    expect(out).toMatch(/default: flag >= 2 features/);
    expect(out).toMatch(/bare: flag max\|z\| >= 3/);
  }, 120_000);
});
