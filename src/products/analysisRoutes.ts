/**
 * Analysis routes under /products (mounted beside the tile/catalog router of routes.ts):
 *
 *   GET /features?source=&station=&feature=&cadence=P1D&start=&stop=
 *       feature tiles as parallel arrays: {datasets:[{id, source, station, cadence, times[], values{name:[]}}]}
 *   GET /anomalies?start=&stop=&source=&station=&minScore=0&flagged=&cadence=P1D&event=
 *       {anomalies:[{time, score, source, station, feature, z, flagged, disturbed, latitude?, longitude?, distanceKm?}], stormDays:[YYYY-MM-DD]}
 *   GET /heatmap?feature=score|<feature>|<feature>_z&start=&stop=&source=&bin=P1D&agg=max|min|mean|absmax
 *       {feature, units, stations:[…], rows:[{source, station, cadence}], days:[YYYY-MM-DD], values:[row][day]}
 *   GET /events/:eventid/association?N=&M=&K=dobrovolsky|<km>&hypocentral=&format=json|csv
 *   GET /events/:eventid/package?N=&M=&K=&hypocentral=     (application/zip)
 *
 * Times: `start` inclusive, `stop` exclusive (HAPI), ISO with optional Z; `starttime`/`endtime`
 * accepted as aliases. JSON carries null for gaps (never NaN). Errors: JSON
 * {error:{status, message}} with the HTTP status. Shapes follow what the dashboard reads
 * (web/js/views/products.js, map.js, event.js).
 */
import path from 'node:path';
import express from 'express';
import type Database from 'better-sqlite3';
import type { NodeConfig } from '../config';
import { syncMetadataRestrictions } from '../index/metadata';
import { restrictionPolicyFor, type RestrictionPolicy } from '../index/restrictions';
import { associateEvent, associationCsv, associationRows, defaultWindows, eventSummary, findEvent, haversineKm, parseDurationMs, stationLocations, type AssociationWindows } from './association';
import { planEventPackage, writeEventPackage, PackageError } from './package';
import { parseIsoTime, unknownQueryParameter } from './params';
import { readScoreRows, readStormFlags } from './scores';
import { listTiles, readTile, skipUnreadable, type Layer } from './tiles';
import { hiddenProducts } from './restricted';
import { nameSkipped } from './routes';

const DAY = 86_400_000;

export interface AnalysisContext {
  db: Database.Database;
  config: NodeConfig;
  restrictions?: RestrictionPolicy;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Tile root: config.tilesDir (GEONODE_TILES), else var/tiles. */
export function tilesDirOf(config: NodeConfig): string {
  const c = config as NodeConfig & { tilesDir?: string };
  return c.tilesDir ?? path.resolve(process.env.GEONODE_TILES ?? path.join('var', 'tiles'));
}

type Query = Record<string, unknown>;

/** The first of `names` given, as a string; a repeated parameter is an error, not a silent pick. */
function str(q: Query, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = q[n];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw new HttpError(400, `parameter ${n} must be given once, as a plain value`);
    if (v !== '') return v;
  }
  return undefined;
}

/** Times as in the other /products routes (params.ts parseIsoTime: HAPI forms, offsets). */
function timeMs(q: Query, names: string[], fallback?: number): number | undefined {
  const s = str(q, ...names);
  if (s === undefined) return fallback;
  const ms = parseIsoTime(s);
  if (!Number.isFinite(ms)) throw new HttpError(400, `${names[0]} must be an ISO 8601 UTC time (YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|±hh:mm], or YYYY-DDD), got "${s}"`);
  return ms;
}

const TIME_PARAMETERS = ['start', 'starttime', 'stop', 'end', 'endtime'];
const ASSOCIATION_PARAMETERS = ['N', 'before', 'M', 'after', 'Ndaily', 'K', 'radius', 'radiusKm', 'hypocentral'];
/** Query parameters each analysis route takes; anything else is a 400. */
export const ANALYSIS_ROUTE_PARAMETERS: Record<string, readonly string[]> = {
  features: [...TIME_PARAMETERS, 'source', 'station', 'feature', 'parameters', 'cadence'],
  anomalies: [...TIME_PARAMETERS, 'source', 'station', 'minScore', 'flagged', 'cadence', 'event', 'eventid'],
  heatmap: [...TIME_PARAMETERS, 'feature', 'parameter', 'bin', 'source', 'station', 'layer', 'agg'],
  association: [...ASSOCIATION_PARAMETERS, 'format'],
  package: ASSOCIATION_PARAMETERS,
};

/** The request's query, after checking that the route takes every parameter in it. */
function queryOf(req: express.Request, route: keyof typeof ANALYSIS_ROUTE_PARAMETERS): Query {
  const q = req.query as Query;
  const u = unknownQueryParameter(q, ANALYSIS_ROUTE_PARAMETERS[route]);
  if (u) throw new HttpError(400, u.message);
  return q;
}

function num(q: Query, name: string, fallback: number): number {
  const s = str(q, name);
  if (s === undefined) return fallback;
  const v = Number(s);
  if (!Number.isFinite(v)) throw new HttpError(400, `${name} must be a number, got "${s}"`);
  return v;
}

function bool(q: Query, name: string): boolean | undefined {
  const s = str(q, name);
  if (s === undefined) return undefined;
  if (/^(true|1|yes)$/i.test(s)) return true;
  if (/^(false|0|no)$/i.test(s)) return false;
  throw new HttpError(400, `${name} must be true or false, got "${s}"`);
}

/** Comma list → set (undefined = all). */
function list(q: Query, name: string): Set<string> | undefined {
  const s = str(q, name);
  return s === undefined ? undefined : new Set(s.split(',').map((x) => x.trim()).filter(Boolean));
}

/** start/stop of a request, with a default span ending at the newest data when absent. */
function window(q: Query): { startMs: number; endMs: number } {
  const startMs = timeMs(q, ['start', 'starttime']);
  const endMs = timeMs(q, ['stop', 'end', 'endtime']);
  if (startMs === undefined || endMs === undefined) throw new HttpError(400, 'start and stop are required (ISO times; start inclusive, stop exclusive)');
  if (endMs <= startMs) throw new HttpError(400, 'stop must be after start');
  if (endMs - startMs > 3660 * DAY) throw new HttpError(400, 'the window may span at most 10 years');
  return { startMs, endMs };
}

/** Feature/score cadences the analysis writes; anything else is a client error, not an empty answer. */
const ANALYSIS_CADENCES = ['PT1M', 'PT1H', 'P1D'];

function cadenceOf(q: Query): string {
  const c = str(q, 'cadence') ?? 'P1D';
  if (!ANALYSIS_CADENCES.includes(c)) throw new HttpError(400, `cadence must be one of ${ANALYSIS_CADENCES.join(', ')}, got "${c}"`);
  return c;
}

function windowsOf(q: Query): Partial<AssociationWindows> {
  const w: Partial<AssociationWindows> = {};
  const n = str(q, 'N', 'before');
  const m = str(q, 'M', 'after');
  if (n !== undefined) {
    const v = parseDurationMs(n);
    if (v === null) throw new HttpError(400, `N must be a duration (72h, 30d, PT72H), got "${n}"`);
    // One N overrides both cadence windows (an explicit request means exactly that window).
    w.beforeSubDailyMs = v;
    w.beforeDailyMs = v;
  }
  const nd = str(q, 'Ndaily');
  if (nd !== undefined) {
    const v = parseDurationMs(nd);
    if (v === null) throw new HttpError(400, `Ndaily must be a duration, got "${nd}"`);
    w.beforeDailyMs = v;
  }
  if (m !== undefined) {
    const v = parseDurationMs(m);
    if (v === null) throw new HttpError(400, `M must be a duration (24h, PT24H), got "${m}"`);
    w.afterMs = v;
  }
  return w;
}

function radiusOf(q: Query): number | undefined {
  const k = str(q, 'K', 'radius', 'radiusKm');
  if (k === undefined || /^dobrovolsky$/i.test(k)) return undefined;
  const v = Number(k.replace(/km$/i, ''));
  if (!(v > 0) || !Number.isFinite(v)) throw new HttpError(400, `K must be "dobrovolsky" or a radius in km, got "${k}"`);
  return v;
}

const iso = (ms: number) => new Date(ms).toISOString();
const dayOf = (ms: number) => iso(Math.floor(ms / DAY) * DAY).slice(0, 10);
const fin = (v: number): number | null => (Number.isFinite(v) ? v : null);

export function createAnalysisRouter(ctx: AnalysisContext): express.Router {
  const router = express.Router();
  const tilesDir = tilesDirOf(ctx.config);
  const policy = restrictionPolicyFor(ctx);
  const dataRoot = ctx.config.dataRoot;

  const wrap =
    (fn: (req: express.Request, res: express.Response) => Promise<void>): express.RequestHandler =>
    (req, res, next) => {
      fn(req, res).catch(next);
    };

  // ------------------------------------------------------------------ /features
  router.get(
    '/features',
    wrap(async (req, res) => {
      const q = queryOf(req, 'features');
      const { startMs, endMs } = window(q);
      const sources = list(q, 'source');
      const stations = list(q, 'station');
      const wanted = list(q, 'feature') ?? list(q, 'parameters');
      const cadence = cadenceOf(q);
      const groups = new Map<string, ReturnType<typeof listTiles>>();
      const hide = hiddenProducts(ctx.db, policy);
      for (const t of listTiles(tilesDir, { layer: 'feat' as Layer, cadence, startMs, endMs })) {
        if (hide(t.key.source, t.key.station)) continue;
        if (sources && !sources.has(t.key.source)) continue;
        if (stations && !stations.has(t.key.station)) continue;
        const id = `feat/${t.key.source}/${t.key.station}/${t.key.cadence}`;
        groups.set(id, [...(groups.get(id) ?? []), t]);
      }
      const datasets = [];
      let points = 0;
      const seen = new Set<string>();
      const skipped: string[] = [];
      for (const [id, tiles] of groups) {
        const times: string[] = [];
        const values: Record<string, (number | null)[]> = {};
        for (const t of tiles) {
          const d = await skipUnreadable(t.path, skipped, () => readTile(t.path, { startMs, endMs }));
          if (!d) continue;
          for (const c of Object.keys(d.columns)) seen.add(c);
          const names = Object.keys(d.columns).filter((c) => !wanted || wanted.has(c));
          for (const n of names) values[n] ??= new Array(times.length).fill(null);
          for (let i = 0; i < d.rows; i++) {
            times.push(iso(d.ts[i]));
            for (const n of Object.keys(values)) {
              const c = d.columns[n];
              values[n].push(c ? fin(c[i]) : null);
            }
          }
        }
        if (wanted && Object.keys(values).length === 0) continue;
        points += times.length * Object.keys(values).length;
        if (points > 2_000_000) throw new HttpError(413, 'too many values: narrow the window, the stations or the features (at most 2,000,000 values per request)');
        const [, source, station, cad] = id.split('/');
        datasets.push({ id, source, station, cadence: cad, times, values });
      }
      // A name no selected tile has is a typo, not an empty answer (with no tiles, nothing to tell).
      const missing = wanted && seen.size ? [...wanted].filter((w) => !seen.has(w)) : [];
      if (missing.length) throw new HttpError(400, `unknown feature ${missing.map((m) => JSON.stringify(m)).join(', ')}; the selected feature tiles have: ${[...seen].sort().join(', ')}`);
      const skippedTiles = nameSkipped(tilesDir, res, skipped);
      res.json({ start: iso(startMs), stop: iso(endMs), cadence, datasets, ...(skippedTiles.length ? { skippedTiles } : {}) });
    }),
  );

  // ------------------------------------------------------------------ /anomalies
  router.get(
    '/anomalies',
    wrap(async (req, res) => {
      const q = queryOf(req, 'anomalies');
      const { startMs, endMs } = window(q);
      const sources = list(q, 'source');
      const stations = list(q, 'station');
      const minScore = num(q, 'minScore', 0);
      const onlyFlagged = bool(q, 'flagged');
      const cadence = cadenceOf(q);
      const eventId = str(q, 'event', 'eventid');
      let ev = null;
      if (eventId !== undefined) {
        const row = findEvent(ctx.db, eventId);
        ev = row ? eventSummary(row) : null;
        if (!ev) throw new HttpError(404, `no located event ${eventId}`);
      }
      const locs = new Map((await stationLocations(tilesDir, ctx.db)).map((l) => [`${l.source}/${l.station}`, l]));
      const skipped: string[] = [];
      const hide = hiddenProducts(ctx.db, policy);
      const rows = (await readScoreRows(tilesDir, { startMs, endMs, cadence }, skipped)).filter(
        (r) => !hide(r.source, r.station) && (!sources || sources.has(r.source)) && (!stations || stations.has(r.station)) && r.score !== null && r.score >= minScore && (onlyFlagged === undefined || (r.flagged === 1) === onlyFlagged),
      );
      const anomalies = rows.map((r) => {
        const loc = locs.get(`${r.source}/${r.station}`);
        return {
          time: iso(r.time),
          score: r.score,
          source: r.source,
          station: r.station,
          cadence: r.cadence,
          feature: r.feature,
          z: r.z,
          flagged: r.flagged,
          disturbed: r.disturbed,
          ...(loc ? { latitude: loc.latitude, longitude: loc.longitude } : {}),
          ...(loc && ev ? { distanceKm: Number(haversineKm(ev.latitude, ev.longitude, loc.latitude, loc.longitude).toFixed(3)) } : {}),
        };
      });
      if (anomalies.length > 200_000) throw new HttpError(413, 'more than 200,000 scores: narrow the window or raise minScore');
      const skippedTiles = nameSkipped(tilesDir, res, skipped);
      const storm = await readStormFlags(tilesDir, { startMs, endMs });
      const stormDays = new Set<string>();
      for (const [d, v] of storm.daily) if (v === 1 && d + DAY > startMs && d < endMs) stormDays.add(dayOf(d));
      for (const r of rows) if (r.disturbed === 1) stormDays.add(dayOf(r.time));
      res.json({
        start: iso(startMs),
        stop: iso(endMs),
        cadence,
        ...(ev ? { event: ev } : {}),
        count: anomalies.length,
        anomalies,
        stormDays: [...stormDays].sort(),
        ...(skippedTiles.length ? { skippedTiles } : {}),
      });
    }),
  );

  // ------------------------------------------------------------------ /heatmap
  router.get(
    '/heatmap',
    wrap(async (req, res) => {
      const q = queryOf(req, 'heatmap');
      const { startMs, endMs } = window(q);
      const feature = str(q, 'feature', 'parameter') ?? 'score';
      const bin = str(q, 'bin') ?? 'P1D';
      if (bin !== 'P1D') throw new HttpError(400, 'bin must be P1D (station × day matrix)');
      const sources = list(q, 'source');
      const stationsWanted = list(q, 'station');
      // Which layer: `layer=` when given; score/flagged/disturbed/baseline_n are score columns;
      // `<feature>_z` names are looked up as features first (ulf_z is a geomag feature), then
      // as the z column of a score tile.
      const layerParam = str(q, 'layer');
      if (layerParam !== undefined && layerParam !== 'feat' && layerParam !== 'score') throw new HttpError(400, 'layer must be feat or score');
      const scoreCols = new Set(['score', 'flagged', 'disturbed', 'baseline_n']);
      const skipped: string[] = [];
      const d0 = Math.floor(startMs / DAY) * DAY;
      const nDays = Math.ceil((endMs - d0) / DAY);
      if (nDays > 3660) throw new HttpError(400, 'at most 3660 days');
      const days = Array.from({ length: nDays }, (_, i) => dayOf(d0 + i * DAY));
      type Acc = { source: string; station: string; sum: Float64Array; n: Float64Array; ext: Float64Array };
      let units: string | null = null;
      const seen = new Set<string>();
      const hide = hiddenProducts(ctx.db, policy);
      const collect = async (layer: Layer, agg: string): Promise<Map<string, Acc>> => {
        const acc = new Map<string, Acc>();
        for (const t of listTiles(tilesDir, { layer, startMs, endMs })) {
          if (hide(t.key.source, t.key.station)) continue;
          if (t.key.source === 'indices' && feature !== 'disturbed') continue;
          if (sources && !sources.has(t.key.source)) continue;
          if (stationsWanted && !stationsWanted.has(t.key.station)) continue;
          const d = await skipUnreadable(t.path, skipped, () => readTile(t.path, { startMs, endMs }));
          if (d) for (const c of Object.keys(d.columns)) seen.add(c);
          const col = d?.columns[feature];
          if (!d || !col) continue;
          if (units === null) {
            try {
              units = (JSON.parse(d.kv['geonode.units'] ?? '{}') as Record<string, string>)[feature] ?? null;
            } catch {
              units = null;
            }
          }
          const key = `${t.key.source}/${t.key.station}/${t.key.cadence}`;
          let a = acc.get(key);
          if (!a) {
            a = { source: t.key.source, station: t.key.station, sum: new Float64Array(nDays), n: new Float64Array(nDays), ext: new Float64Array(nDays).fill(NaN) };
            acc.set(key, a);
          }
          // Sub-daily rows are aggregated per UTC day.
          for (let i = 0; i < d.rows; i++) {
            const v = col[i];
            if (v !== v) continue;
            const k = Math.floor((d.ts[i] - d0) / DAY);
            if (k < 0 || k >= nDays) continue;
            a.sum[k] += v;
            a.n[k]++;
            const cur = a.ext[k];
            if (cur !== cur || (agg === 'max' ? v > cur : agg === 'absmax' ? Math.abs(v) > Math.abs(cur) : v < cur)) a.ext[k] = v;
          }
        }
        return acc;
      };
      let layer: Layer = (layerParam as Layer | undefined) ?? ((scoreCols.has(feature) ? 'score' : 'feat') as Layer);
      const aggParam = str(q, 'agg');
      if (aggParam !== undefined && !['max', 'min', 'mean', 'absmax'].includes(aggParam)) throw new HttpError(400, 'agg must be max, min, mean or absmax');
      // A z column's day is its z of largest magnitude, sign kept: max alone would hide a day
      // of strongly negative z (a storm's H_min at -13.7 showed as +3.4).
      const scoreDefault = (): string => (feature.endsWith('_z') ? 'absmax' : 'max');
      let agg = aggParam ?? (layer === 'score' ? scoreDefault() : 'mean');
      let acc = await collect(layer, agg);
      if (acc.size === 0 && layerParam === undefined && layer === 'feat' && feature.endsWith('_z')) {
        layer = 'score' as Layer;
        agg = aggParam ?? scoreDefault();
        acc = await collect(layer, agg);
      }
      if (acc.size === 0 && seen.size) throw new HttpError(400, `unknown feature ${JSON.stringify(feature)}; the tiles of this window have: ${[...seen].sort().join(', ')}`);
      // One row per source/station: a P1D dataset wins over sub-daily ones of the same station.
      const best = new Map<string, { source: string; station: string; sum: Float64Array; n: Float64Array; ext: Float64Array; cadence: string }>();
      for (const [key, a] of acc) {
        const cad = key.split('/')[2];
        const rk = `${a.source}/${a.station}`;
        const prev = best.get(rk);
        if (!prev || (cad === 'P1D' && prev.cadence !== 'P1D')) best.set(rk, { ...a, cadence: cad });
      }
      const rows = [...best.values()].sort((a, b) => (a.source + '/' + a.station < b.source + '/' + b.station ? -1 : 1));
      const oneSource = new Set(rows.map((r) => r.source)).size <= 1;
      const skippedTiles = nameSkipped(tilesDir, res, skipped);
      res.json({
        feature,
        layer,
        units,
        bin,
        agg,
        start: iso(startMs),
        stop: iso(endMs),
        stations: rows.map((r) => (oneSource ? r.station : `${r.station} (${r.source})`)),
        rows: rows.map((r) => ({ source: r.source, station: r.station, cadence: r.cadence })),
        days,
        values: rows.map((r) => Array.from({ length: nDays }, (_, k) => (r.n[k] === 0 ? null : agg === 'mean' ? r.sum[k] / r.n[k] : r.ext[k]))),
        ...(skippedTiles.length ? { skippedTiles } : {}),
      });
    }),
  );

  // ------------------------------------------------------------------ association
  router.get(
    '/events/:eventid/association',
    wrap(async (req, res) => {
      const q = queryOf(req, 'association');
      const eventId = String(req.params.eventid);
      // Parameters first: a bad request is a 400 whatever the event (FDSN order).
      const radiusKm = radiusOf(q);
      const windows = { ...defaultWindows(), ...windowsOf(q) };
      const hypocentral = bool(q, 'hypocentral') ?? false;
      const format = str(q, 'format') ?? 'json';
      if (format !== 'json' && format !== 'csv') throw new HttpError(400, 'format must be json or csv');
      const row = findEvent(ctx.db, eventId);
      if (!row) throw new HttpError(404, `no event ${eventId} in the catalogue`);
      const ev = eventSummary(row);
      if (!ev) throw new HttpError(422, `event ${eventId} has no located origin`);
      if (radiusKm === undefined && ev.magnitude === null) throw new HttpError(422, `event ${eventId} has no magnitude: give a radius in km (K=200)`);
      const a = await associateEvent(ev, { tilesDir, db: ctx.db, windows, radiusKm, hypocentral, hide: hiddenProducts(ctx.db, policy) });
      if (format === 'csv') {
        res.type('text/csv; charset=utf-8').send(associationCsv(associationRows(a)));
        return;
      }
      res.json({ ...a, table: associationRows(a) });
    }),
  );

  router.get(
    '/events/:eventid/package',
    wrap(async (req, res) => {
      const q = queryOf(req, 'package');
      const eventId = String(req.params.eventid);
      let plan;
      syncMetadataRestrictions(ctx.db, policy); // the package's waveforms follow the metadata loaded so far
      try {
        plan = await planEventPackage({
          db: ctx.db,
          tilesDir,
          dataRoot,
          eventId,
          windows: windowsOf(q),
          radiusKm: radiusOf(q),
          hypocentral: bool(q, 'hypocentral') ?? false,
          policy,
          maxWaveformBytes: ctx.config.maxResponseBytes,
        });
      } catch (e) {
        if (e instanceof PackageError) throw new HttpError(e.status, e.message);
        throw e;
      }
      if (!plan) throw new HttpError(404, `no event ${eventId} in the catalogue`);
      const safe = plan.eventId.replace(/[^A-Za-z0-9._-]/g, '_');
      res.status(200);
      res.setHeader('Content-Type', 'application/zip');
      res.setHeader('Content-Disposition', `attachment; filename="${safe}.zip"`);
      try {
        await writeEventPackage(res, plan);
        res.end();
      } catch (e) {
        // Headers are gone: the only honest signal left is a broken transfer.
        res.destroy(e instanceof Error ? e : new Error(String(e)));
      }
    }),
  );

  router.use((err: unknown, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const status = err instanceof HttpError ? err.status : 500;
    const message = err instanceof Error ? err.message : String(err);
    res.status(status).json({ error: { status, message } });
  });

  return router;
}
