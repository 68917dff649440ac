/**
 * Event association: which stations sit in an earthquake's preparation zone, and which of their
 * scores/anomalies fall in the time window around its origin.
 *
 *  - Radius: Dobrovolsky et al. (1979) R = 10^(0.43·M) km (M5 → 141 km, M6 → 380 km,
 *    M7 → 1023 km), or a fixed radius in km (`K=<km>`, e.g. the 200 km of PRA studies).
 *  - Distance: great circle (haversine on a sphere of 6371 km: stable for the short distances
 *    that matter here; the ellipsoid changes them by < 0.5 %); `hypocentral` uses √(d² + h²)
 *    with the origin depth h, as some implementations do.
 *  - Window [origin − N, origin + M]: N = 72 h for sub-daily features, 30 d for daily ones
 *    (ULF nightly ratios and AEF daily statistics vary slowly, so their precursor window is
 *    longer), M = 24 h (methods doc §6). The window applies per score cadence.
 *  - Lead time of a station/source = origin − centre of the earliest flagged row before the
 *    origin, in hours. The bin centre (not its start) is used because a daily row stands for the
 *    whole day: for an anomaly at an unknown hour the centre is the unbiased estimate.
 *
 * Station coordinates: from the tile metadata (`geonode.station_meta`: geomag/AEF/VLF ingest
 * writes latitude/longitude there), and for seismic `NET.STA` from the StationXML store.
 */
import type Database from 'better-sqlite3';
import { hasMetadataStore, queryMetadata } from '../index/metadata';
import { hasEventStore, queryEvents, type StoredEvent } from '../index/events';
import { cadenceMs as parseCadenceMs, listTiles, readTileMetadata, type Layer } from './tiles';
import { readScoreRows, type ScoreRow } from './scores';

const DAY = 86_400_000;
const HOUR = 3_600_000;
export const EARTH_RADIUS_KM = 6371.0;

/** Dobrovolsky preparation-zone radius in km for magnitude M. */
export function dobrovolskyRadiusKm(magnitude: number): number {
  return 10 ** (0.43 * magnitude);
}

/** Great-circle distance in km (haversine). */
export function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const r = Math.PI / 180;
  const dLat = (lat2 - lat1) * r;
  const dLon = (lon2 - lon1) * r;
  const s1 = Math.sin(dLat / 2);
  const s2 = Math.sin(dLon / 2);
  const a = s1 * s1 + Math.cos(lat1 * r) * Math.cos(lat2 * r) * s2 * s2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Hypocentral distance √(d² + h²) in km. */
export function hypocentralKm(epicentralKm: number, depthKm: number | null | undefined): number {
  const h = depthKm !== null && depthKm !== undefined && Number.isFinite(depthKm) ? depthKm : 0;
  return Math.sqrt(epicentralKm * epicentralKm + h * h);
}

export interface AssociationWindows {
  /** Before the origin for sub-daily rows (default 72 h). */
  beforeSubDailyMs: number;
  /** Before the origin for daily rows (default 30 d). */
  beforeDailyMs: number;
  /** After the origin (default 24 h). */
  afterMs: number;
}

export function defaultWindows(): AssociationWindows {
  return { beforeSubDailyMs: 72 * HOUR, beforeDailyMs: 30 * DAY, afterMs: 24 * HOUR };
}

/** [start, end) of the window for rows of a cadence. A row belongs when it overlaps the window. */
export function windowFor(originMs: number, cadenceMs: number, w: AssociationWindows): { startMs: number; endMs: number } {
  return { startMs: originMs - (cadenceMs >= DAY ? w.beforeDailyMs : w.beforeSubDailyMs), endMs: originMs + w.afterMs };
}

/** Parse a duration parameter: `72h`, `30d`, `90m`, `3600s`, ISO `PT72H`/`P30D`, or bare hours. */
export function parseDurationMs(text: string): number | null {
  const t = text.trim();
  const m = /^(\d+(?:\.\d+)?)\s*([smhd]?)$/i.exec(t);
  if (m) {
    const v = Number(m[1]);
    const u = (m[2] || 'h').toLowerCase();
    return v * (u === 's' ? 1000 : u === 'm' ? 60_000 : u === 'h' ? HOUR : DAY);
  }
  const iso = parseCadenceMs(t.toUpperCase());
  return Number.isFinite(iso) && iso > 0 ? iso : null;
}

export interface StationLocation {
  /** Station code as in the tiles (`KAK`, `IU.ANMO` for seismic). */
  station: string;
  source: string;
  network?: string;
  latitude: number;
  longitude: number;
  elevation?: number | null;
  name?: string | null;
}

/**
 * Every (source, station) with coordinates: tile metadata of the std/feat/score layers (newest
 * tile footer per dataset), seismic stations from the metadata store (channel-less station
 * level). One entry per (source, station).
 */
export async function stationLocations(tilesDir: string, db?: Database.Database | null): Promise<StationLocation[]> {
  const out = new Map<string, StationLocation>();
  const newest = new Map<string, string>();
  for (const layer of ['std', 'feat', 'score'] as const) {
    for (const t of listTiles(tilesDir, { layer: layer as Layer })) {
      if (t.key.source === 'indices') continue;
      newest.set(`${t.key.source}/${t.key.station}/${layer}`, t.path);
    }
  }
  for (const [k, file] of newest) {
    const [source, station] = k.split('/');
    if (out.has(`${source}/${station}`)) continue;
    try {
      const { kv } = await readTileMetadata(file);
      const meta = kv['geonode.station_meta'] ? (JSON.parse(kv['geonode.station_meta']) as { latitude?: number | null; longitude?: number | null; elevation?: number | null; name?: string | null }) : null;
      if (meta && Number.isFinite(meta.latitude) && Number.isFinite(meta.longitude)) {
        out.set(`${source}/${station}`, { station, source, latitude: meta.latitude!, longitude: meta.longitude!, elevation: meta.elevation ?? null, name: meta.name ?? null });
      }
    } catch {
      /* unreadable footer: no coordinates */
    }
  }
  if (db && hasMetadataStore(db)) {
    const inv = queryMetadata(db, { selections: [{ network: ['*'], station: ['*'], location: ['*'], channel: ['*'], startNs: null, endNs: null }], level: 'station' });
    for (const net of inv.networks) {
      for (const sta of net.stations) {
        const id = `${net.code}.${sta.code}`;
        if (out.has(`seismic/${id}`)) continue;
        out.set(`seismic/${id}`, { station: id, source: 'seismic', network: net.code, latitude: sta.lat, longitude: sta.lon, elevation: sta.elevation, name: sta.siteName || null });
      }
    }
  }
  return [...out.values()].sort((a, b) => (a.source + a.station < b.source + b.station ? -1 : 1));
}

export interface EventSummary {
  id: string;
  publicId: string;
  time: string;
  timeMs: number;
  latitude: number;
  longitude: number;
  depthKm: number | null;
  magnitude: number | null;
  magType: string | null;
  region: string | null;
}

export function eventSummary(e: StoredEvent): EventSummary | null {
  if (e.timeNs === null || e.lat === null || e.lon === null) return null;
  const timeMs = Number(e.timeNs / 1_000_000n);
  return { id: e.eventId, publicId: e.publicId, time: new Date(timeMs).toISOString(), timeMs, latitude: e.lat, longitude: e.lon, depthKm: e.depthKm, magnitude: e.mag, magType: e.magType, region: e.locationName };
}

/** An event by short id or publicID (null when the store or the event is absent). */
export function findEvent(db: Database.Database, eventId: string): StoredEvent | null {
  if (!hasEventStore(db)) return null;
  return queryEvents(db, { eventId, limit: 1 })[0] ?? null;
}

export interface AssociationOptions {
  tilesDir: string;
  db?: Database.Database | null;
  windows?: Partial<AssociationWindows>;
  /** Fixed radius in km instead of Dobrovolsky. */
  radiusKm?: number;
  /** Compare the radius with the hypocentral distance instead of the epicentral one. */
  hypocentral?: boolean;
  /** Score cadences to look at (default every cadence present). */
  cadences?: string[];
  /** Precomputed locations (analyze reuses them for every event). */
  locations?: StationLocation[];
  /** Stations left out (products of restricted waveforms, restricted.ts). */
  hide?: (source: string, station: string) => boolean;
}

export interface AssociatedAnomaly {
  time: string;
  timeMs: number;
  cadence: string;
  score: number | null;
  flagged: number;
  disturbed: number;
  feature: string | null;
  z: number | null;
  /** origin − bin centre, hours (positive = before the origin). */
  leadTimeHours: number;
}

export interface AssociatedStation {
  station: string;
  source: string;
  network?: string;
  latitude: number;
  longitude: number;
  distanceKm: number;
  hypocentralKm: number;
  /** Windows actually used per cadence (ISO). */
  windows: Record<string, { start: string; end: string }>;
  /** Lead time of the earliest flagged row before the origin (hours). */
  leadTimeHours?: number;
  /** Largest score in the window (null when no score rows). */
  maxScore: number | null;
  flaggedCount: number;
  /** Rows in the window: every flagged row plus the row of the max score. */
  anomalies: AssociatedAnomaly[];
  scoreRows: number;
}

export interface Association {
  event: EventSummary;
  radiusKm: number;
  radiusRule: string;
  distance: 'epicentral' | 'hypocentral';
  windows: { beforeSubDailyHours: number; beforeDailyDays: number; afterHours: number };
  stations: AssociatedStation[];
}

/** Associate one event with the stations inside its radius and their score rows. */
export async function associateEvent(ev: EventSummary, opts: AssociationOptions): Promise<Association> {
  const w = { ...defaultWindows(), ...(opts.windows ?? {}) };
  const radiusKm = opts.radiusKm ?? (ev.magnitude !== null ? dobrovolskyRadiusKm(ev.magnitude) : NaN);
  const radiusRule = opts.radiusKm !== undefined ? `fixed ${opts.radiusKm} km` : ev.magnitude !== null ? `Dobrovolsky 10^(0.43*${ev.magnitude})` : 'no magnitude: no radius';
  const locs = opts.locations ?? (await stationLocations(opts.tilesDir, opts.db));
  const stations: AssociatedStation[] = [];
  for (const loc of locs) {
    if (opts.hide?.(loc.source, loc.station)) continue;
    const d = haversineKm(ev.latitude, ev.longitude, loc.latitude, loc.longitude);
    const hd = hypocentralKm(d, ev.depthKm);
    if (!((opts.hypocentral ? hd : d) <= radiusKm)) continue;
    const cadences = new Set(listTiles(opts.tilesDir, { layer: 'score' as Layer, source: loc.source, station: loc.station }).map((t) => t.key.cadence));
    const rows: ScoreRow[] = [];
    const windows: AssociatedStation['windows'] = {};
    for (const cad of cadences) {
      if (opts.cadences && !opts.cadences.includes(cad)) continue;
      const cms = parseCadenceMs(cad);
      const win = windowFor(ev.timeMs, cms > 0 ? cms : DAY, w);
      windows[cad] = { start: new Date(win.startMs).toISOString(), end: new Date(win.endMs).toISOString() };
      // A row [t, t + cadence) overlaps the window when t > start − cadence and t < end.
      // A loop, not push(...rows): 144k minute rows (N = 100 d) would overflow the stack.
      for (const r of await readScoreRows(opts.tilesDir, { source: loc.source, station: loc.station, cadence: cad, startMs: win.startMs - (cms > 0 ? cms : DAY) + 1, endMs: win.endMs })) rows.push(r);
    }
    let maxScore: number | null = null;
    let maxRow: ScoreRow | null = null;
    let flaggedCount = 0;
    let lead: number | undefined;
    const anomalies: AssociatedAnomaly[] = [];
    const toAnomaly = (r: ScoreRow): AssociatedAnomaly => ({
      time: new Date(r.time).toISOString(),
      timeMs: r.time,
      cadence: r.cadence,
      score: r.score,
      flagged: r.flagged,
      disturbed: r.disturbed,
      feature: r.feature,
      z: r.z,
      leadTimeHours: (ev.timeMs - (r.time + r.cadenceMs / 2)) / HOUR,
    });
    for (const r of rows) {
      if (r.score !== null && (maxScore === null || r.score > maxScore)) {
        maxScore = r.score;
        maxRow = r;
      }
      if (r.flagged) {
        flaggedCount++;
        const a = toAnomaly(r);
        anomalies.push(a);
        if (a.leadTimeHours > 0 && (lead === undefined || a.leadTimeHours > lead)) lead = a.leadTimeHours;
      }
    }
    if (maxRow && !maxRow.flagged) anomalies.push(toAnomaly(maxRow));
    anomalies.sort((a, b) => a.timeMs - b.timeMs);
    stations.push({
      station: loc.station,
      source: loc.source,
      ...(loc.network ? { network: loc.network } : {}),
      latitude: loc.latitude,
      longitude: loc.longitude,
      distanceKm: d,
      hypocentralKm: hd,
      windows,
      ...(lead !== undefined ? { leadTimeHours: lead } : {}),
      maxScore,
      flaggedCount,
      anomalies,
      scoreRows: rows.length,
    });
  }
  stations.sort((a, b) => a.distanceKm - b.distanceKm || (a.source < b.source ? -1 : 1));
  return {
    event: ev,
    radiusKm,
    radiusRule,
    distance: opts.hypocentral ? 'hypocentral' : 'epicentral',
    windows: { beforeSubDailyHours: w.beforeSubDailyMs / HOUR, beforeDailyDays: w.beforeDailyMs / DAY, afterHours: w.afterMs / HOUR },
    stations,
  };
}

/** Flat table rows (CSV / SQLite): one per associated station and source. */
export interface AssociationRow {
  event_id: string;
  event_time: string;
  magnitude: number | null;
  radius_km: number;
  source: string;
  station: string;
  latitude: number;
  longitude: number;
  distance_km: number;
  hypocentral_km: number;
  lead_time_hours: number | null;
  max_score: number | null;
  flagged_count: number;
  first_anomaly: string | null;
  anomaly_days: string;
}

export function associationRows(a: Association): AssociationRow[] {
  return a.stations.map((s) => {
    const flagged = s.anomalies.filter((x) => x.flagged);
    return {
      event_id: a.event.id,
      event_time: a.event.time,
      magnitude: a.event.magnitude,
      radius_km: round(a.radiusKm, 3),
      source: s.source,
      station: s.station,
      latitude: s.latitude,
      longitude: s.longitude,
      distance_km: round(s.distanceKm, 3),
      hypocentral_km: round(s.hypocentralKm, 3),
      lead_time_hours: s.leadTimeHours !== undefined ? round(s.leadTimeHours, 3) : null,
      max_score: s.maxScore !== null ? round(s.maxScore, 4) : null,
      flagged_count: s.flaggedCount,
      first_anomaly: flagged.length ? flagged[0].time : null,
      anomaly_days: flagged.map((x) => x.time.slice(0, x.cadence === 'P1D' ? 10 : 16)).join(' '),
    };
  });
}

const round = (v: number, d: number): number => (Number.isFinite(v) ? Number(v.toFixed(d)) : v);

/** RFC 4180 CSV of association rows (header always present). */
export function associationCsv(rows: AssociationRow[]): string {
  const cols: (keyof AssociationRow)[] = ['event_id', 'event_time', 'magnitude', 'radius_km', 'source', 'station', 'latitude', 'longitude', 'distance_km', 'hypocentral_km', 'lead_time_hours', 'max_score', 'flagged_count', 'first_anomaly', 'anomaly_days'];
  const esc = (v: unknown): string => {
    if (v === null || v === undefined) return '';
    const s = String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [cols.join(','), ...rows.map((r) => cols.map((c) => esc(r[c])).join(','))].join('\r\n') + '\r\n';
}

/** SQLite table written by `analyze` (one row per event × source × station). */
export function ensureAssociationSchema(db: Database.Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS geonode_associations (
    event_id TEXT NOT NULL, event_time TEXT NOT NULL, magnitude REAL, radius_km REAL NOT NULL,
    source TEXT NOT NULL, station TEXT NOT NULL, latitude REAL, longitude REAL,
    distance_km REAL NOT NULL, hypocentral_km REAL NOT NULL, lead_time_hours REAL, max_score REAL,
    flagged_count INTEGER NOT NULL, first_anomaly TEXT, anomaly_days TEXT NOT NULL, updated TEXT NOT NULL,
    PRIMARY KEY (event_id, source, station))`);
}

/**
 * Drop the rows of events a run did not associate (gone from the catalogue, unlocated now, or
 * outside the span of the score tiles that remain); returns the rows deleted.
 */
export function pruneAssociations(db: Database.Database, associated: Set<string>): number {
  ensureAssociationSchema(db);
  const ids = db.prepare('SELECT DISTINCT event_id FROM geonode_associations').pluck().all() as string[];
  const del = db.prepare('DELETE FROM geonode_associations WHERE event_id = ?');
  let n = 0;
  db.transaction(() => {
    for (const id of ids) if (!associated.has(id)) n += del.run(id).changes;
  })();
  return n;
}

/** Replace the association rows of one event. */
export function storeAssociation(db: Database.Database, a: Association, now = new Date()): number {
  ensureAssociationSchema(db);
  const rows = associationRows(a);
  const del = db.prepare('DELETE FROM geonode_associations WHERE event_id = ?');
  const ins = db.prepare(
    `INSERT INTO geonode_associations (event_id, event_time, magnitude, radius_km, source, station, latitude, longitude, distance_km,
       hypocentral_km, lead_time_hours, max_score, flagged_count, first_anomaly, anomaly_days, updated)
     VALUES (@event_id, @event_time, @magnitude, @radius_km, @source, @station, @latitude, @longitude, @distance_km,
       @hypocentral_km, @lead_time_hours, @max_score, @flagged_count, @first_anomaly, @anomaly_days, @updated)`,
  );
  db.transaction(() => {
    del.run(a.event.id);
    for (const r of rows) ins.run({ ...r, radius_km: Number.isFinite(r.radius_km) ? r.radius_km : -1, updated: now.toISOString() });
  })();
  return rows.length;
}
