/**
 * Event association and the analysis routes: Dobrovolsky radius and haversine against
 * independent values, windows and lead times on synthetic feature tiles (eval's 40-day scenario,
 * truth known by construction) + an event stored through src/index/events.ts, and the
 * /products analysis routes through supertest.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import request from 'supertest';
import type Database from 'better-sqlite3';
import { defaultConfig } from '../../src/config';
import { openIndexDb } from '../../src/index/db';
import { loadEventFiles } from '../../src/index/events';
import { associateEvent, associationCsv, associationRows, dobrovolskyRadiusKm, eventSummary, findEvent, haversineKm, hypocentralKm, parseDurationMs, stationLocations } from '../../src/products/association';
import { createAnalysisRouter } from '../../src/products/analysisRoutes';
import { analyze } from '../../src/products/analyze';
import { syntheticScenario, type SyntheticScenario } from '../../src/products/eval';
import { computeScores } from '../../src/products/scores';
import { writeTile } from '../../src/products/tiles';
import { main } from '../../src/cli';

const HEADER = '#EventID|Time|Latitude|Longitude|Depth/km|Author|Catalog|Contributor|ContributorID|MagType|Magnitude|MagAuthor|EventLocationName|EventType';
const DAY = 86_400_000;
const HOUR = 3_600_000;

describe('radius and distance', () => {
  test('Dobrovolsky R = 10^(0.43 M): M5 → 141 km, M6 → 380 km, M7 → 1023 km', () => {
    expect(Math.round(dobrovolskyRadiusKm(5))).toBe(141);
    expect(Math.round(dobrovolskyRadiusKm(6))).toBe(380);
    expect(Math.round(dobrovolskyRadiusKm(7))).toBe(1023);
  });

  test('haversine: equator degree, quarter meridian, a known city pair', () => {
    // 2π·6371/360 = 111.19 km per degree on a 6371 km sphere.
    expect(haversineKm(0, 0, 0, 1)).toBeCloseTo((2 * Math.PI * 6371) / 360, 6);
    expect(haversineKm(0, 10, 90, 10)).toBeCloseTo((Math.PI * 6371) / 2, 6);
    // Paris (48.8566 N, 2.3522 E) – London (51.5074 N, 0.1278 W): 343.5 km great circle on 6371 km.
    expect(haversineKm(48.8566, 2.3522, 51.5074, -0.1278)).toBeCloseTo(343.5, 0);
    // Across the date line.
    expect(haversineKm(0, 179.5, 0, -179.5)).toBeCloseTo((2 * Math.PI * 6371) / 360, 6);
    expect(hypocentralKm(30, 40)).toBe(50);
  });

  test('durations', () => {
    expect(parseDurationMs('72h')).toBe(72 * HOUR);
    expect(parseDurationMs('30d')).toBe(30 * DAY);
    expect(parseDurationMs('PT24H')).toBe(24 * HOUR);
    expect(parseDurationMs('12')).toBe(12 * HOUR);
    expect(parseDurationMs('soon')).toBeNull();
  });
});

describe('association on the synthetic scenario', () => {
  let dir: string;
  let db: Database.Database;
  let sc: SyntheticScenario;
  let app: express.Express;
  const EV = 'syn2020091302';

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assoc-'));
    const tiles = path.join(dir, 'tiles');
    sc = syntheticScenario(tiles);
    // The coincidence rule (>= 2 features) has no false alarm on the reference seed (eval.test),
    // so the flagged rows here are exactly the injected anomalies.
    await computeScores({ tilesDir: tiles, params: { minFeatures: 2 } });
    db = openIndexDb(path.join(dir, 'index.sqlite'));
    const e = sc.truth.events[0];
    const lines = [
      HEADER,
      `${e.id}|${e.time.replace('Z', '')}|${e.latitude}|${e.longitude}|${e.depthKm}|syn|SYN|syn||Mj|${e.magnitude}|syn|OFF EAST COAST OF HONSHU|earthquake`,
      // An event with no stations inside its radius (M4 in the Pacific).
      `far1|2020-09-05T00:00:00|20.0|160.0|10|syn|SYN|syn||Mj|4.0|syn|FAR|earthquake`,
    ];
    fs.writeFileSync(path.join(dir, 'events.txt'), lines.join('\n') + '\n');
    loadEventFiles(db, [path.join(dir, 'events.txt')]);
    app = express();
    app.use('/products', createAnalysisRouter({ db, config: { ...defaultConfig({}), tilesDir: tiles, dataRoot: dir } as ReturnType<typeof defaultConfig> }));
  });
  afterAll(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('stations come from tile metadata; KAK (geomag + aef) is inside R(6.2), the others outside', async () => {
    const tiles = path.join(dir, 'tiles');
    const locs = await stationLocations(tiles, db);
    expect(locs.map((l) => `${l.source}/${l.station}`).sort()).toEqual(['aef/KAK', 'geomag/KAK', 'geomag/KNY', 'geomag/MMB', 'vlf/MOS']);
    const ev = eventSummary(findEvent(db, EV)!)!;
    const a = await associateEvent(ev, { tilesDir: tiles, db });
    expect(a.radiusKm).toBeCloseTo(10 ** (0.43 * 6.2), 9);
    expect(a.stations.map((s) => `${s.source}/${s.station}`).sort()).toEqual(['aef/KAK', 'geomag/KAK']);
    const kak = a.stations.find((s) => s.source === 'geomag')!;
    expect(kak.distanceKm).toBeCloseTo(haversineKm(38.75, 142.26, 36.232, 140.186), 9);
    // Independent check: the demo's own epicentral figure for KAK is ~340 km.
    expect(Math.abs(kak.distanceKm - 340)).toBeLessThan(15);
    // Daily window: 30 days before → the storm days (33, 34) and the anomaly day 32 are inside.
    expect(kak.windows.P1D).toEqual({ start: new Date(ev.timeMs - 30 * DAY).toISOString(), end: new Date(ev.timeMs + 24 * HOUR).toISOString() });
    expect(kak.flaggedCount).toBe(1);
    const anomaly = kak.anomalies.find((x) => x.flagged)!;
    expect(anomaly.time).toBe(new Date(sc.firstDayMs + 32 * DAY).toISOString());
    // Lead time from the centre of day 32 to the origin (day 33 02:44:11).
    const lead = (ev.timeMs - (sc.firstDayMs + 32 * DAY + 12 * HOUR)) / HOUR;
    expect(kak.leadTimeHours).toBeCloseTo(lead, 9);
    expect(anomaly.leadTimeHours).toBeCloseTo(lead, 9);
    // Score rows in the window: days 3..34 of the scenario overlap [day 3 02:44, day 34 02:44).
    expect(kak.scoreRows).toBe(32);
    expect(kak.maxScore).toBeGreaterThanOrEqual(3);

    const rows = associationRows(a);
    expect(rows).toHaveLength(2);
    const csv = associationCsv(rows).split('\r\n');
    expect(csv[0]).toBe('event_id,event_time,magnitude,radius_km,source,station,latitude,longitude,distance_km,hypocentral_km,lead_time_hours,max_score,flagged_count,first_anomaly,anomaly_days');
    expect(csv[1].startsWith(`${EV},`)).toBe(true);
  });

  test('windows: N = 1 h leaves the anomaly day outside; a fixed radius K takes more stations', async () => {
    const tiles = path.join(dir, 'tiles');
    const ev = eventSummary(findEvent(db, EV)!)!;
    const a = await associateEvent(ev, { tilesDir: tiles, db, windows: { beforeDailyMs: HOUR, beforeSubDailyMs: HOUR } });
    const kak = a.stations.find((s) => s.source === 'geomag')!;
    expect(kak.flaggedCount).toBe(0);
    expect(kak.leadTimeHours).toBeUndefined();
    // Rows overlapping [origin − 1 h, origin + 24 h): day 33 and day 34 (both storm days).
    expect(kak.scoreRows).toBe(2);
    expect(kak.anomalies.every((x) => x.disturbed === 1)).toBe(true);
    const wide = await associateEvent(ev, { tilesDir: tiles, db, radiusKm: 700 });
    const inside = wide.stations.map((s) => `${s.source}/${s.station}`).sort();
    const expected = sc.stations.filter((s) => haversineKm(ev.latitude, ev.longitude, s.latitude, s.longitude) <= 700).map((s) => `${s.source}/${s.station}`).sort();
    expect(inside).toEqual(expected);
    expect(inside.length).toBeGreaterThan(2);
    // Hypocentral distance is never smaller than the epicentral one.
    for (const s of wide.stations) expect(s.hypocentralKm).toBeGreaterThanOrEqual(s.distanceKm);
  });

  test('analyze writes geonode_associations for every located event', async () => {
    const s = await analyze({ tilesDir: path.join(dir, 'tiles'), db, skipFeatures: true, scoreParams: { minFeatures: 2 } });
    expect(s.scores.skipped + s.scores.datasets).toBeGreaterThan(0);
    expect(s.association.events).toBe(2);
    const rows = db.prepare('SELECT event_id, source, station, lead_time_hours, flagged_count FROM geonode_associations ORDER BY event_id, source').all() as Array<Record<string, unknown>>;
    expect(rows.filter((r) => r.event_id === 'far1')).toHaveLength(0);
    expect(rows.filter((r) => r.event_id === EV).map((r) => `${r.source}/${r.station}`)).toEqual(['aef/KAK', 'geomag/KAK']);
    expect(s.association.withAnomalies).toBe(1);
  });

  test('geonode analyze (CLI): help, a run over the tiles, usage errors', async () => {
    let out = '';
    let err = '';
    const io = { stdout: { write: (c: string) => ((out += c), true) }, stderr: { write: (c: string) => ((err += c), true) }, env: {}, cwd: dir } as unknown as Parameters<typeof main>[1];
    expect(await main(['analyze', '--help'], io)).toBe(0);
    expect(out).toMatch(/--skip-features/);
    out = '';
    const code = await main(['analyze', '--tiles', path.join(dir, 'tiles'), '--db', path.join(dir, 'cli.sqlite'), '--skip-features', '--min-features', '2'], io);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/^analyze: features skipped.*scores: 5 dataset\(s\)/);
    expect(await main(['analyze', '--threshold', '-1'], io)).toBe(2);
  });

  test('GET /products/events/{id}/association (json, csv, errors)', async () => {
    const r = await request(app).get(`/products/events/${EV}/association`);
    expect(r.status).toBe(200);
    expect(r.body.event).toMatchObject({ id: EV, magnitude: 6.2, latitude: 38.75, longitude: 142.26 });
    expect(r.body.radiusKm).toBeCloseTo(10 ** (0.43 * 6.2), 6);
    const kak = r.body.stations.find((s: { source: string }) => s.source === 'geomag');
    expect(kak).toMatchObject({ station: 'KAK', source: 'geomag', flaggedCount: 1 });
    expect(typeof kak.distanceKm).toBe('number');
    expect(typeof kak.leadTimeHours).toBe('number');
    expect(typeof kak.maxScore).toBe('number');
    expect(Array.isArray(kak.anomalies)).toBe(true);
    const k = await request(app).get(`/products/events/${EV}/association?K=700&N=72h&M=24h`);
    expect(k.body.stations.length).toBeGreaterThan(2);
    expect(k.body.windows).toEqual({ beforeSubDailyHours: 72, beforeDailyDays: 3, afterHours: 24 });
    const csv = await request(app).get(`/products/events/${EV}/association?format=csv`);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.text.split('\r\n')[0]).toMatch(/^event_id,/);
    const nf = await request(app).get('/products/events/nope/association');
    expect(nf.status).toBe(404);
    expect(nf.body).toEqual({ error: { status: 404, message: expect.stringContaining('nope') } });
    const bad = await request(app).get(`/products/events/${EV}/association?K=-3`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.status).toBe(400);
    // a bad parameter is a 400 whatever the event; the event is looked up only for a valid request
    for (const qs of ['K=-3', 'N=soon', 'format=xml']) expect([qs, (await request(app).get(`/products/events/nope/association?${qs}`)).status]).toEqual([qs, 400]);
  });

  test('an unknown cadence is a 400, not an empty 200 (features, anomalies)', async () => {
    const start = new Date(sc.firstDayMs).toISOString();
    const stop = new Date(sc.firstDayMs + 10 * DAY).toISOString();
    for (const route of ['/products/features', '/products/anomalies']) {
      const r = await request(app).get(route).query({ start, stop, cadence: 'BOGUS' });
      expect([route, r.status, r.body.error?.message]).toEqual([route, 400, expect.stringContaining('cadence')]);
      expect((await request(app).get(route).query({ start, stop, cadence: 'PT1H' })).status).toBe(200);
    }
  });

  test('GET /products/anomalies: shape, filters, storm days, distance from an event', async () => {
    const start = new Date(sc.firstDayMs).toISOString();
    const stop = new Date(sc.firstDayMs + 40 * DAY).toISOString();
    const r = await request(app).get('/products/anomalies').query({ start, stop, minScore: 3 });
    expect(r.status).toBe(200);
    const day = (d: number) => new Date(sc.firstDayMs + d * DAY).toISOString().slice(0, 10);
    expect(r.body.stormDays).toEqual([day(33), day(34)]);
    for (const a of r.body.anomalies) {
      expect(a.score).toBeGreaterThanOrEqual(3);
      expect(Object.keys(a)).toEqual(expect.arrayContaining(['time', 'score', 'source', 'station', 'feature', 'flagged', 'disturbed']));
    }
    // Storm-day rows are there (score ≥ 3) but disturbed and not flagged.
    const storm = r.body.anomalies.filter((a: { time: string }) => a.time.startsWith(day(33)));
    expect(storm.length).toBeGreaterThan(0);
    expect(storm.every((a: { disturbed: number; flagged: number }) => a.disturbed === 1 && a.flagged === 0)).toBe(true);
    const f = await request(app).get('/products/anomalies').query({ start, stop, flagged: 'true', source: 'geomag', station: 'KAK', event: EV });
    expect(f.body.anomalies.map((a: { time: string }) => a.time.slice(0, 10))).toContain(day(32));
    for (const a of f.body.anomalies) {
      expect(a).toMatchObject({ source: 'geomag', station: 'KAK', flagged: 1 });
      expect(a.distanceKm).toBeCloseTo(haversineKm(38.75, 142.26, 36.232, 140.186), 2);
    }
    const bad = await request(app).get('/products/anomalies').query({ start: 'yesterday', stop });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/start/);
  });

  test('GET /products/heatmap: station × day matrix of score and of a feature', async () => {
    const start = new Date(sc.firstDayMs + 30 * DAY).toISOString();
    const stop = new Date(sc.firstDayMs + 35 * DAY).toISOString();
    const r = await request(app).get('/products/heatmap').query({ feature: 'score', start, stop, bin: 'P1D' });
    expect(r.status).toBe(200);
    expect(r.body.days).toHaveLength(5);
    expect(r.body.stations).toHaveLength(5);
    expect(r.body.values).toHaveLength(5);
    for (const row of r.body.values) expect(row).toHaveLength(5);
    const f = await request(app).get('/products/heatmap').query({ feature: 'ulf_z', start, stop });
    expect(f.body.stations).toEqual(['KAK', 'KNY', 'MMB']);
    expect(f.body.agg).toBe('mean');
    expect(typeof f.body.values[0][0]).toBe('number');
    const bad = await request(app).get('/products/heatmap').query({ feature: 'score', start, stop, bin: 'PT1H' });
    expect(bad.status).toBe(400);
  });

  test('GET /products/heatmap of a z column: a day is its z of largest magnitude, sign kept (a strongly negative day is not hidden)', async () => {
    // One day of hourly score rows: H_min_z peaks at +2.3 but dips to -13.7 (a storm's H).
    const tiles = path.join(dir, 'tiles-z');
    const day = Date.UTC(2020, 8, 13);
    const z = [0.5, 2.3, -13.7, -4, 1];
    writeTile(tiles, {
      key: { layer: 'score', source: 'geomag', station: 'KNY', cadence: 'PT1H', period: '2020-09' },
      ts: z.map((_, i) => day + i * HOUR),
      columns: [{ name: 'H_min_z', type: 'DOUBLE', values: Float64Array.from(z) }, { name: 'score', type: 'DOUBLE', values: Float64Array.from(z.map(Math.abs)) }],
      meta: { units: {}, sources: [], station: { name: 'KNY', latitude: 31.4, longitude: 130.9 } },
    });
    const zApp = express();
    zApp.use('/products', createAnalysisRouter({ db, config: { ...defaultConfig({}), tilesDir: tiles, dataRoot: dir } as ReturnType<typeof defaultConfig> }));
    const q = { feature: 'H_min_z', start: '2020-09-13', stop: '2020-09-14' };
    const r = await request(zApp).get('/products/heatmap').query(q);
    expect([r.status, r.body.layer, r.body.agg, r.body.values]).toEqual([200, 'score', 'absmax', [[-13.7]]]);
    expect((await request(zApp).get('/products/heatmap').query({ ...q, agg: 'max' })).body.values).toEqual([[2.3]]);
    expect((await request(zApp).get('/products/heatmap').query({ ...q, agg: 'min' })).body.values).toEqual([[-13.7]]);
    const sc2 = await request(zApp).get('/products/heatmap').query({ ...q, feature: 'score' });
    expect([sc2.body.agg, sc2.body.values]).toEqual(['max', [[13.7]]]);
    expect((await request(zApp).get('/products/heatmap').query({ ...q, agg: 'median' })).status).toBe(400);
  });

  test('GET /products/features: parallel arrays with nulls', async () => {
    const start = new Date(sc.firstDayMs).toISOString();
    const stop = new Date(sc.firstDayMs + 3 * DAY).toISOString();
    const r = await request(app).get('/products/features').query({ start, stop, source: 'aef', feature: 'pg_median,fair_weather' });
    expect(r.status).toBe(200);
    expect(r.body.datasets).toHaveLength(1);
    const d = r.body.datasets[0];
    expect(d).toMatchObject({ id: 'feat/aef/KAK/P1D', source: 'aef', station: 'KAK', cadence: 'P1D' });
    expect(d.times).toHaveLength(3);
    expect(Object.keys(d.values).sort()).toEqual(['fair_weather', 'pg_median']);
    expect(d.values.fair_weather).toEqual([1, 1, 1]);
  });

  test('analysis routes: same time syntax as /products/timeseries; unknown, repeated or misspelt parameters are 400', async () => {
    const day0 = new Date(sc.firstDayMs);
    const start = day0.toISOString();
    const stop = new Date(sc.firstDayMs + 3 * DAY).toISOString();
    const want = await request(app).get('/products/features').query({ start, stop, source: 'aef', feature: 'pg_median' });
    // day of year and an offset name the same instants
    const doy = Math.round((sc.firstDayMs - Date.UTC(day0.getUTCFullYear(), 0, 1)) / DAY) + 1;
    const alt = await request(app).get('/products/features').query({ start: `${day0.getUTCFullYear()}-${String(doy).padStart(3, '0')}`, stop: stop.replace('T00:00:00.000Z', 'T09:00+09:00'), source: 'aef', feature: 'pg_median' });
    expect(alt.status).toBe(200);
    expect(alt.body.datasets).toEqual(want.body.datasets);
    for (const [route, query, message] of [
      ['/products/features', { start, stop, feature: 'pg_mediam' }, /unknown feature "pg_mediam".*pg_median/],
      ['/products/heatmap', { start, stop, feature: 'nope' }, /unknown feature "nope"/],
      ['/products/anomalies', { start, stop, minscore: 3 }, /did you mean minScore/],
      ['/products/heatmap', { start, stop, feature: 'score', bins: 'P1D' }, /unknown query parameter "bins"/],
      ['/products/features', `start=${start}&stop=${stop}&start=2001-01-01`, /start must be given once/],
      [`/products/events/${EV}/association`, { K: 200, radius_km: 3 }, /unknown query parameter "radius_km"/],
    ] as const) {
      const r = await request(app).get(route).query(query);
      expect({ route, status: r.status }).toEqual({ route, status: 400 });
      expect(r.body.error.message).toMatch(message);
    }
  });
});
