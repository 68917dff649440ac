/**
 * Station metadata store: FDSN StationXML files loaded into the SQLite file of the waveform
 * index (own `geonode_*` tables beside `tsindex`, which is never touched), and the selection
 * logic of fdsnws-station 1.1 (`queryMetadata` → Inventory model for the stationxml writers).
 *
 * Storage
 *  - one row per loaded file in geonode_meta_sources (path, sha256, load time). Loading a file
 *    replaces everything it loaded before in ONE transaction; an unchanged sha256 is skipped.
 *    The source id grows with every (re)load (AUTOINCREMENT), and is the merge priority below.
 *  - networks / stations / channel epochs with the columns the service filters on, the
 *    <Response> verbatim (response_xml, read only for level=response) and the remaining model
 *    fields as JSON (extra_json), so the Inventory comes back exactly as parsed.
 *  - times as fixed-width ISO text `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn` (NULL = open): exact to the
 *    nanosecond and ordered as text, where epoch-ns integers would overflow int64 for the
 *    `2599-12-31` end dates IRIS writes and REAL seconds would lose sub-microsecond detail.
 *  - `updated` per row = load time of the file that last CHANGED the row (a reload keeps the
 *    old time for rows whose content hash is unchanged), for `updatedafter`.
 *
 * Merging sources: several files may describe the same epoch (IU.ANMO is in three shared
 * files). Elements are identified by codes + start date (network: code+start; station:
 * net+code+start; channel: net+sta+loc+cha+start) and the row of the most recently loaded file
 * wins, so the service never lists an epoch twice. Children hang under their parent's key,
 * so a station described by two files gets the union of their channels.
 *
 * Selection (FDSN station 1.1, see /work/shared/docs/fdsn-services.md §3):
 *  - the "target level" is the deepest level a criterion refers to: channel when level is
 *    channel/response, or location/channel codes are given, or matchtimeseries; else station
 *    when level is station, station codes or geographic limits are given; else network.
 *    Ancestors of the target are included only when they have a matching descendant (a station
 *    is listed when it has matching channels if channel criteria are given).
 *  - the time window (starttime/endtime, inclusive) applies at every level; strict
 *    start/end before/after, geographic limits (coordinates of the target level: channels can
 *    sit elsewhere than their station) and updatedafter apply at the target level.
 *  - restricted: effective status = own restrictedStatus, else the parent's; `closed` (or a
 *    station restricted by the operator's policy, GEONODE_RESTRICTED) is hidden when
 *    includerestricted=false.
 *
 * Speed (large inventories, e.g. network=* over 6,000 channels): queryMetadataFor reads and
 * decodes only what the chosen output prints (no extra_json for text; only counts below the
 * level for XML), never reads a column stored after the channel's <Response> unless needed,
 * maps raw rows with fixed-shape literals, counts totals with grouped SQL, and reuses the
 * candidate rows of recent queries while the database is unchanged. queryMetadataReference is
 * the former straightforward path, kept for the equivalence tests.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { channelKey, parseStationXml, type Channel, type Inventory, type Network, type Station } from '../formats/stationxml';
import { nsToIso, parseIsoToNs } from '../formats/time';
import { computeAvailability } from './availability';
import type { RestrictionPolicy, StatedStatus } from './restrictions';
import type { Selection } from './types';

// ---------------------------------------------------------------------------------------------
// Schema

const DDL = [
  `CREATE TABLE IF NOT EXISTS geonode_meta_sources (id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL UNIQUE,
     sha256 TEXT NOT NULL, loaded TEXT NOT NULL, schema_version TEXT, header_json TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS geonode_networks (id INTEGER PRIMARY KEY, source_id INTEGER NOT NULL, code TEXT NOT NULL,
     start_time TEXT, end_time TEXT, restricted TEXT, description TEXT, updated TEXT NOT NULL, row_hash TEXT NOT NULL,
     extra_json TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS geonode_stations (id INTEGER PRIMARY KEY, source_id INTEGER NOT NULL, network_id INTEGER NOT NULL,
     network TEXT NOT NULL, network_start TEXT, code TEXT NOT NULL, start_time TEXT, end_time TEXT, restricted TEXT,
     latitude REAL NOT NULL, longitude REAL NOT NULL, elevation REAL NOT NULL, site_name TEXT NOT NULL,
     updated TEXT NOT NULL, row_hash TEXT NOT NULL, extra_json TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS geonode_channels (id INTEGER PRIMARY KEY, source_id INTEGER NOT NULL, station_id INTEGER NOT NULL,
     network TEXT NOT NULL, station TEXT NOT NULL, station_start TEXT, location TEXT NOT NULL, channel TEXT NOT NULL,
     start_time TEXT, end_time TEXT, restricted TEXT, latitude REAL NOT NULL, longitude REAL NOT NULL, elevation REAL NOT NULL,
     depth REAL NOT NULL, azimuth REAL, dip REAL, sample_rate REAL, sensitivity REAL, sensitivity_frequency REAL,
     sensitivity_units TEXT, sensor TEXT, response_xml TEXT, updated TEXT NOT NULL, row_hash TEXT NOT NULL, extra_json TEXT NOT NULL)`,
  'CREATE INDEX IF NOT EXISTS geonode_networks_code_idx ON geonode_networks (code, start_time)',
  'CREATE INDEX IF NOT EXISTS geonode_networks_source_idx ON geonode_networks (source_id)',
  'CREATE INDEX IF NOT EXISTS geonode_stations_code_idx ON geonode_stations (network, code, start_time)',
  'CREATE INDEX IF NOT EXISTS geonode_stations_source_idx ON geonode_stations (source_id)',
  'CREATE INDEX IF NOT EXISTS geonode_channels_nslc_idx ON geonode_channels (network, station, location, channel, start_time)',
  'CREATE INDEX IF NOT EXISTS geonode_channels_source_idx ON geonode_channels (source_id)',
  'CREATE INDEX IF NOT EXISTS geonode_channels_updated_idx ON geonode_channels (updated)',
  // Covers the channel totals per station key (SELECT DISTINCT … GROUP BY in index order, no temp tree).
  'CREATE INDEX IF NOT EXISTS geonode_channels_station_key_idx ON geonode_channels (network, station, station_start, location, channel, start_time)',
];

/** Create the metadata tables if missing (idempotent; needs a writable connection). */
export function ensureMetadataSchema(db: Database.Database): void {
  db.transaction(() => {
    for (const ddl of DDL) db.exec(ddl);
  })();
}

/** True when the store tables exist (a read-only server may open a db that never had metadata loaded). */
export function hasMetadataStore(db: Database.Database): boolean {
  const r = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('geonode_meta_sources','geonode_networks','geonode_stations','geonode_channels')").get() as { n: number };
  return r.n === 4;
}

// ---------------------------------------------------------------------------------------------
// Time text

/** Fixed-width, text-sortable, nanosecond-exact form (years 0000..9999). */
export function timeText(ns: bigint | null): string | null {
  return ns === null ? null : nsToIso(ns, 9, false);
}

function textNs(t: string | null): bigint | null {
  if (t === null) return null;
  const v = parseIsoToNs(t);
  if (v === null) throw new Error(`metadata store: unparseable time '${t}'`);
  return v;
}

/** JSON with bigint as decimal strings (fields are converted back by name when reading). */
function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
}
const big = (v: unknown): bigint | null => (v === null || v === undefined ? null : BigInt(v as string));

function sha256(s: string | Buffer): string {
  return crypto.createHash('sha256').update(s).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Loading

export interface LoadResult {
  source: string;
  /** loaded = new file; replaced = changed file, old content replaced; unchanged = same sha256, skipped. */
  status: 'loaded' | 'replaced' | 'unchanged';
  networks: number;
  stations: number;
  channels: number;
  /** `sac:` sources whose synthesized channel epoch this load now covers, removed. */
  supersededSac?: string[];
}

interface OldRow {
  hash: string;
  updated: string;
}

/**
 * Load one StationXML document under the name `source` (normally the absolute file path).
 * Parse first (a broken file changes nothing), then delete the source's previous rows and
 * insert the new ones in one immediate transaction.
 */
export function loadStationXml(db: Database.Database, input: Buffer | string, source: string, now: Date = new Date()): LoadResult {
  return storeInventory(db, sha256(input), () => parseStationXml(input, path.basename(source)), source, now);
}

/**
 * Load an Inventory built in code (e.g. a channel epoch synthesized from a SAC header) under the
 * name `source`, with the same rules as a StationXML file: reloading replaces what the source
 * loaded before, an identical model is 'unchanged' (the digest is taken over the model, so
 * build it deterministically: no creation time of "now"), merges by key as documented above.
 */
export function loadInventory(db: Database.Database, inv: Inventory, source: string, now: Date = new Date()): LoadResult {
  return storeInventory(db, sha256('model:' + toJson(inv)), () => inv, source, now);
}

/** Shared by loadStationXml / loadInventory: `build` runs only when the digest changed. */
function storeInventory(db: Database.Database, digest: string, build: () => Inventory, source: string, now: Date): LoadResult {
  ensureMetadataSchema(db);
  const prev = db.prepare('SELECT id, sha256 FROM geonode_meta_sources WHERE source = ?').get(source) as { id: number; sha256: string } | undefined;
  if (prev && prev.sha256 === digest) {
    const count = (t: string) => (db.prepare(`SELECT count(*) AS n FROM ${t} WHERE source_id = ?`).get(prev.id) as { n: number }).n;
    return { source, status: 'unchanged', networks: count('geonode_networks'), stations: count('geonode_stations'), channels: count('geonode_channels') };
  }
  const inv = build();
  const loaded = nsToIso(BigInt(now.getTime()) * 1_000_000n, 9, false);
  const result: LoadResult = { source, status: prev ? 'replaced' : 'loaded', networks: 0, stations: 0, channels: 0 };

  db.transaction(() => {
    // Keep `updated` of rows whose content did not change (key + hash), so updatedafter only
    // reports what really changed in a reloaded file.
    const old = new Map<string, OldRow>();
    if (prev) {
      for (const t of ['geonode_networks', 'geonode_stations', 'geonode_channels']) {
        for (const r of db.prepare(`SELECT row_hash AS hash, updated FROM ${t} WHERE source_id = ?`).iterate(prev.id) as Iterable<OldRow>) old.set(`${t}\u0000${r.hash}`, r);
      }
      for (const t of ['geonode_networks', 'geonode_stations', 'geonode_channels']) db.prepare(`DELETE FROM ${t} WHERE source_id = ?`).run(prev.id);
      db.prepare('DELETE FROM geonode_meta_sources WHERE id = ?').run(prev.id);
    }
    const header = { source: inv.source, sender: inv.sender, module: inv.module, moduleUri: inv.moduleUri, createdNs: inv.createdNs };
    const sourceId = Number(
      db.prepare('INSERT INTO geonode_meta_sources (source, sha256, loaded, schema_version, header_json) VALUES (?, ?, ?, ?, ?)').run(source, digest, loaded, inv.schemaVersion, toJson(header))
        .lastInsertRowid,
    );
    const updatedFor = (table: string, hash: string) => old.get(`${table}\u0000${hash}`)?.updated ?? loaded;
    const insNet = db.prepare(
      'INSERT INTO geonode_networks (source_id, code, start_time, end_time, restricted, description, updated, row_hash, extra_json) VALUES (?,?,?,?,?,?,?,?,?)',
    );
    const insSta = db.prepare(
      `INSERT INTO geonode_stations (source_id, network_id, network, network_start, code, start_time, end_time, restricted, latitude, longitude,
       elevation, site_name, updated, row_hash, extra_json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
    );
    const insCha = db.prepare(
      `INSERT INTO geonode_channels (source_id, station_id, network, station, station_start, location, channel, start_time, end_time, restricted,
       latitude, longitude, elevation, depth, azimuth, dip, sample_rate, sensitivity, sensitivity_frequency, sensitivity_units, sensor,
       response_xml, updated, row_hash, extra_json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
    );
    for (const net of inv.networks) {
      const netStart = timeText(net.startNs);
      const extra = toJson({ totalNumberStations: net.totalNumberStations, attributes: net.attributes, extras: net.extras });
      const cols = [net.code, netStart, timeText(net.endNs), net.restrictedStatus, net.description];
      const hash = sha256(toJson(cols) + extra);
      const netId = Number(insNet.run(sourceId, ...cols, updatedFor('geonode_networks', hash), hash, extra).lastInsertRowid);
      result.networks++;
      for (const sta of net.stations) {
        const staStart = timeText(sta.startNs);
        const sExtra = toJson({
          description: sta.description,
          site: sta.site,
          creationDateNs: sta.creationDateNs,
          terminationDateNs: sta.terminationDateNs,
          totalNumberChannels: sta.totalNumberChannels,
          attributes: sta.attributes,
          valueAttributes: sta.valueAttributes ?? null,
          extras: sta.extras,
        });
        const sCols = [net.code, netStart, sta.code, staStart, timeText(sta.endNs), sta.restrictedStatus, sta.lat, sta.lon, sta.elevation, sta.siteName];
        const sHash = sha256(toJson(sCols) + sExtra);
        const staId = Number(insSta.run(sourceId, netId, ...sCols, updatedFor('geonode_stations', sHash), sHash, sExtra).lastInsertRowid);
        result.stations++;
        for (const ch of sta.channels) {
          const cExtra = toJson({
            description: ch.description,
            types: ch.types,
            clockDrift: ch.clockDrift,
            sensitivity: ch.sensitivity,
            responseStageCount: ch.responseStageCount,
            dataAvailability: ch.dataAvailability,
            attributes: ch.attributes,
            valueAttributes: ch.valueAttributes ?? null,
            extras: ch.extras,
          });
          const s = ch.sensitivity;
          const cCols = [
            net.code, sta.code, staStart, ch.location, ch.code, timeText(ch.startNs), timeText(ch.endNs), ch.restrictedStatus,
            ch.lat, ch.lon, ch.elevation, ch.depth, ch.azimuth, ch.dip, ch.sampleRate, s?.value ?? null, s?.frequency ?? null,
            s?.inputUnits ?? null, ch.sensorDescription, ch.responseXml,
          ]; // prettier-ignore
          const cHash = sha256(toJson(cCols) + cExtra);
          insCha.run(sourceId, staId, ...cCols, updatedFor('geonode_channels', cHash), cHash, cExtra);
          result.channels++;
        }
      }
    }
  }).immediate();
  if (!source.startsWith(SAC_SOURCE_PREFIX)) result.supersededSac = dropSupersededSacEpochs(db);
  return result;
}

/** Metadata sources `load-sac` synthesizes (one channel epoch per SAC file). */
export const SAC_SOURCE_PREFIX = 'sac:';

/**
 * Remove the SAC-synthesized channel epochs that another source's epoch of the same channel
 * now covers: real StationXML wins whichever was loaded first (load-sac already skips a
 * channel StationXML covers). Left beside it, the channel had two overlapping epochs (and its
 * station and network two entries), which ObsPy's response lookup refuses. Returns the sources removed.
 */
function dropSupersededSacEpochs(db: Database.Database): string[] {
  type Row = { source: string; sac: number; network: string; station: string; location: string; channel: string; start_time: string | null; end_time: string | null };
  const rows = db
    .prepare(
      `SELECT s.source, s.source LIKE '${SAC_SOURCE_PREFIX}%' AS sac, c.network, c.station, c.location, c.channel, c.start_time, c.end_time
       FROM geonode_channels c JOIN geonode_meta_sources s ON s.id = c.source_id
       WHERE (c.network, c.station, c.location, c.channel) IN (
         SELECT c2.network, c2.station, c2.location, c2.channel FROM geonode_channels c2 JOIN geonode_meta_sources s2 ON s2.id = c2.source_id
         WHERE s2.source LIKE '${SAC_SOURCE_PREFIX}%')`,
    )
    .all() as Row[];
  const others = rows.filter((r) => !r.sac);
  const drop = new Set<string>();
  for (const r of rows) {
    if (!r.sac) continue;
    const a = textNs(r.start_time);
    const b = textNs(r.end_time);
    const covered = others.some((o) => {
      if (o.network !== r.network || o.station !== r.station || o.location !== r.location || o.channel !== r.channel) return false;
      const oa = textNs(o.start_time);
      const ob = textNs(o.end_time);
      return (oa === null || (a !== null && oa <= a)) && (ob === null || (b !== null && ob >= b));
    });
    if (covered) drop.add(r.source);
  }
  for (const src of drop) removeMetadataSource(db, src);
  return [...drop];
}

/**
 * One station epoch for the SAC files of a station: the synthesized station epochs of other
 * `sac:` sources of `network.code` overlapping [startNs, endNs] are widened to the union of
 * them all, which is returned for the new file's epoch. Three components whose first samples
 * differ by a few ms were three overlapping epochs of one station; sharing the union as their
 * key (codes + start), they merge into one station with the three channels.
 */
export function widenSacStationEpochs(db: Database.Database, network: string, code: string, startNs: bigint, endNs: bigint, exceptSource: string, now: Date = new Date()): { startNs: bigint; endNs: bigint } {
  if (!hasMetadataStore(db)) return { startNs, endNs };
  type Row = { source_id: number; start_time: string | null; end_time: string | null };
  const rows = db
    .prepare(
      // Synthesized epochs only: a SAC channel hung under a stored (StationXML) station keeps a
      // copy of that epoch, whose key it shares; widening the copy would let SAC values replace
      // the real station's.
      `SELECT st.source_id, st.start_time, st.end_time FROM geonode_stations st JOIN geonode_meta_sources s ON s.id = st.source_id
       WHERE s.source LIKE '${SAC_SOURCE_PREFIX}%' AND s.source <> ? AND st.network = ? AND st.code = ?
         AND NOT EXISTS (SELECT 1 FROM geonode_stations o JOIN geonode_meta_sources os ON os.id = o.source_id
                         WHERE os.source NOT LIKE '${SAC_SOURCE_PREFIX}%' AND o.network = st.network AND o.code = st.code
                           AND o.start_time IS st.start_time)`,
    )
    .all(exceptSource, network, code) as Row[];
  let a = startNs;
  let b = endNs;
  const overlapping: Row[] = [];
  // Repeat until stable: widening may reach epochs the first span did not.
  for (let grew = true; grew; ) {
    grew = false;
    for (const r of rows) {
      if (overlapping.includes(r)) continue;
      const ra = textNs(r.start_time);
      const rb = textNs(r.end_time);
      if (ra === null || rb === null || ra > b || rb < a) continue;
      overlapping.push(r);
      if (ra < a) a = ra;
      if (rb > b) b = rb;
      grew = true;
    }
  }
  const start = timeText(a);
  const end = timeText(b);
  const updated = nsToIso(BigInt(now.getTime()) * 1_000_000n, 9, false);
  db.transaction(() => {
    for (const r of overlapping) {
      if (r.start_time === start && r.end_time === end) continue;
      db.prepare('UPDATE geonode_stations SET start_time = ?, end_time = ?, updated = ? WHERE source_id = ? AND network = ? AND code = ?').run(start, end, updated, r.source_id, network, code);
      db.prepare('UPDATE geonode_channels SET station_start = ? WHERE source_id = ? AND network = ? AND station = ?').run(start, r.source_id, network, code);
    }
  }).immediate();
  return { startNs: a, endNs: b };
}

/** Load one file (its absolute path is the source name). */
export function loadStationXmlFile(db: Database.Database, file: string, now?: Date): LoadResult {
  const abs = path.resolve(file);
  return loadStationXml(db, fs.readFileSync(abs), abs, now);
}

/** File names taken from directories: StationXML by extension (explicitly named files load whatever their name). */
const STATIONXML_FILE = /\.(xml|stationxml)$/i;

/** Expand files and directories (recursively, sorted, hidden entries skipped) into StationXML files. */
export function stationXmlFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && STATIONXML_FILE.test(e.name)) out.push(p);
    }
  };
  for (const p of paths) {
    const abs = path.resolve(p);
    if (fs.statSync(abs).isDirectory()) walk(abs);
    else out.push(abs);
  }
  return out;
}

export interface LoadError {
  source: string;
  reason: string;
}

/** Load files/directories; a broken file is reported and the others still load. Order = argument order (later files win merges). */
export function loadMetadataPaths(db: Database.Database, paths: readonly string[]): { results: LoadResult[]; errors: LoadError[] } {
  const results: LoadResult[] = [];
  const errors: LoadError[] = [];
  for (const f of stationXmlFiles(paths)) {
    try {
      results.push(loadStationXmlFile(db, f));
    } catch (e) {
      errors.push({ source: f, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  return { results, errors };
}

/** Remove a source's content; false when it was not loaded. */
export function removeMetadataSource(db: Database.Database, source: string): boolean {
  if (!hasMetadataStore(db)) return false;
  return db
    .transaction(() => {
      const prev = db.prepare('SELECT id FROM geonode_meta_sources WHERE source = ?').get(source) as { id: number } | undefined;
      if (!prev) return false;
      for (const t of ['geonode_networks', 'geonode_stations', 'geonode_channels']) db.prepare(`DELETE FROM ${t} WHERE source_id = ?`).run(prev.id);
      db.prepare('DELETE FROM geonode_meta_sources WHERE id = ?').run(prev.id);
      return true;
    })
    .immediate();
}

export interface MetadataSourceInfo {
  id: number;
  source: string;
  sha256: string;
  loaded: string;
}

export function listMetadataSources(db: Database.Database): MetadataSourceInfo[] {
  if (!hasMetadataStore(db)) return [];
  return db.prepare('SELECT id, source, sha256, loaded FROM geonode_meta_sources ORDER BY id').all() as MetadataSourceInfo[];
}

/**
 * Register what the loaded metadata closes with the node's restriction policy, so dataselect,
 * availability and the event packages protect the waveforms it says are closed. The nearest
 * stated restrictedStatus wins (a channel's, else its station's, else its network's: see
 * RestrictionPolicy.setMetadataStatus), so a closed network also closes the stations it has data
 * of but no metadata for, and an open channel beside a closed one serves its data as
 * fdsnws-station lists it. Cheap when nothing changed: called by every dataselect, station and
 * availability request, so metadata loaded while serving takes effect at once (and a file
 * reloaded with restrictedStatus="open" reopens).
 */
export function syncMetadataRestrictions(db: Database.Database, policy: RestrictionPolicy): void {
  let seen = syncState.get(policy);
  if (!seen) syncState.set(policy, (seen = new Map()));
  const dbStamp = databaseStamp(db);
  const last = seen.get(db);
  if (last?.db === dbStamp) return;
  if (!hasMetadataStore(db)) {
    seen.set(db, { db: dbStamp, sources: '' });
    return;
  }
  const stamp = (db.prepare("SELECT ifnull(max(id), 0) || '/' || count(*) AS s FROM geonode_meta_sources").get() as { s: string }).s;
  seen.set(db, { db: dbStamp, sources: stamp });
  if (last?.sources === stamp) return;
  // Per code: 'closed' when any epoch is closed (at all times: erring on the closed side), else
  // the epochs stated open (a silent epoch states nothing: the parent decides there).
  const stated = (rows: Array<{ k: string; restricted: string | null; s: string | null; e: string | null }>) => {
    const out = new Map<string, StatedStatus>();
    for (const r of rows) {
      const prev = out.get(r.k);
      if (prev === 'closed' || r.restricted === null) continue;
      if (isClosed(r.restricted)) {
        out.set(r.k, 'closed');
        continue;
      }
      const start = r.s ? parseIsoToNs(r.s) : null;
      const end = r.e ? parseIsoToNs(r.e) : null;
      if ((r.s && start === null) || (r.e && end === null)) continue; // an unreadable time opens nothing
      out.set(r.k, [...(prev ?? []), [start, end] as const]);
    }
    return out;
  };
  const rows = (sql: string) => db.prepare(sql).all() as Array<{ k: string; restricted: string | null; s: string | null; e: string | null }>;
  // The whole set each time: a file reloaded with restrictedStatus="open" reopens.
  policy.setMetadataStatus({
    networks: stated(rows('SELECT code AS k, restricted, start_time AS s, end_time AS e FROM geonode_networks')),
    stations: stated(rows("SELECT network || '.' || code AS k, restricted, start_time AS s, end_time AS e FROM geonode_stations")),
    channels: stated(rows("SELECT network || '.' || station || '.' || location || '.' || channel AS k, restricted, start_time AS s, end_time AS e FROM geonode_channels")),
  });
}
const syncState = new WeakMap<RestrictionPolicy, Map<Database.Database, { db: string; sources: string }>>();

// ---------------------------------------------------------------------------------------------
// Query

export type MetadataLevel = 'network' | 'station' | 'channel' | 'response';

/** One request line (GET builds one; POST has one per selection line). Codes may use * and ?; '' = blank location. */
export interface MetadataSelection {
  network: readonly string[];
  station: readonly string[];
  location: readonly string[];
  channel: readonly string[];
  /** Window (inclusive); null = open. */
  startNs: bigint | null;
  endNs: bigint | null;
}

export interface MetadataQuery {
  selections: readonly MetadataSelection[];
  level: MetadataLevel;
  startBeforeNs?: bigint;
  startAfterNs?: bigint;
  endBeforeNs?: bigint;
  endAfterNs?: bigint;
  /** Rectangle, inclusive; minLon > maxLon = a box crossing the date line. */
  box?: { minLat: number; maxLat: number; minLon: number; maxLon: number };
  /** Great-circle distance limits in degrees around (lat, lon), inclusive. */
  radius?: { lat: number; lon: number; minRadius: number; maxRadius: number };
  updatedAfterNs?: bigint;
  /** Default true. */
  includeRestricted?: boolean;
  /** Extra restriction source (the node policy); consulted only when includeRestricted is false. */
  isRestricted?: (network: string, station: string) => boolean;
  /** Keep only channel epochs with data in the waveform index (within epoch ∩ window). */
  matchTimeseries?: boolean;
  /** Ignore rows of these sources (names as loaded), e.g. a source about to be replaced by its caller. */
  excludeSources?: readonly string[];
}

interface NetRow {
  id: number;
  source_id: number;
  code: string;
  start_time: string | null;
  end_time: string | null;
  restricted: string | null;
  description: string | null;
  /** Read only when the query has updatedafter (else null). */
  updated: string | null;
  /** Read only when the full model is built (else null). */
  extra_json: string | null;
}
interface StaRow {
  id: number;
  source_id: number;
  network: string;
  network_start: string | null;
  code: string;
  start_time: string | null;
  end_time: string | null;
  restricted: string | null;
  latitude: number;
  longitude: number;
  elevation: number;
  site_name: string;
  /** Read only when the query has updatedafter (else null). */
  updated: string | null;
  /** Read only when the full model is built (else null). */
  extra_json: string | null;
}
interface ChaRow {
  id: number;
  source_id: number;
  network: string;
  station: string;
  station_start: string | null;
  location: string;
  channel: string;
  start_time: string | null;
  end_time: string | null;
  restricted: string | null;
  latitude: number;
  longitude: number;
  elevation: number;
  depth: number;
  azimuth: number | null;
  dip: number | null;
  sample_rate: number | null;
  sensor: string | null;
  /** InstrumentSensitivity value / frequency / input units columns (what the text format prints). */
  sensitivity: number | null;
  sensitivity_frequency: number | null;
  sensitivity_units: string | null;
  /** Read only when the query has updatedafter (else null). */
  updated: string | null;
  /** Read only when the full model is built (else null). */
  extra_json: string | null;
}

/** Parsed epochs, computed once per row. */
interface Epoch {
  startNs: bigint | null;
  endNs: bigint | null;
  /** Parsed only when the query has updatedafter (0n otherwise: never compared). */
  updatedNs: bigint;
}
interface Net extends Epoch {
  row: NetRow;
  key: string;
}
interface Sta extends Epoch {
  row: StaRow;
  key: string;
  netKey: string;
}
interface Cha extends Epoch {
  row: ChaRow;
  key: string;
  staKey: string;
}

const SEP = '\u0000';
const netKeyOf = (code: string, start: string | null) => `${code}${SEP}${start ?? ''}`;
const staKeyOf = (net: string, code: string, start: string | null) => `${net}${SEP}${code}${SEP}${start ?? ''}`;
const chaKeyOf = (r: ChaRow) => `${r.network}${SEP}${r.station}${SEP}${r.location}${SEP}${r.channel}${SEP}${r.start_time ?? ''}`;

const hasWildcard = (p: string) => p.includes('*') || p.includes('?');
/** `*`/`?` → GLOB; `[` would open a GLOB character class. */
const glob = (p: string) => p.replace(/\[/g, '[[]');
function codeRegex(patterns: readonly string[]): RegExp {
  const alts = patterns.map((p) => p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.'));
  return new RegExp(`^(?:${alts.join('|')})$`);
}
const allWild = (patterns: readonly string[]) => patterns.every((p) => /^\*+$/.test(p));
/** codeRegex, or a no-op test for `*` (most large requests). */
const MATCH_ALL = { test: (_s: string) => true };
const codeMatcher = (patterns: readonly string[]): { test: (s: string) => boolean } => (allWild(patterns) ? MATCH_ALL : codeRegex(patterns));

/**
 * Prepared statements cached per connection (a statement belongs to its connection; SQLite
 * re-prepares by itself after a schema change). The SQL texts are a small bounded family
 * (one per pattern shape); the cache is still capped so unusual request mixes cannot grow it.
 */
const statementCache = new WeakMap<Database.Database, Map<string, Database.Statement>>();
const STATEMENT_CACHE_MAX = 256;
function cachedStatement(db: Database.Database, sql: string, raw = false): Database.Statement {
  let m = statementCache.get(db);
  if (!m) statementCache.set(db, (m = new Map()));
  const key = raw ? `raw:${sql}` : sql;
  let st = m.get(key);
  if (!st) {
    if (m.size >= STATEMENT_CACHE_MAX) m.clear();
    st = db.prepare(sql);
    if (raw) st.raw(true);
    m.set(key, st);
  }
  return st;
}

/** Rows whose codes match, via the code indexes; one statement per combination of patterns. */
function fetchRows<T extends { id: number }>(
  db: Database.Database,
  table: string,
  columns: readonly string[],
  combos: Iterable<readonly string[]>,
  select: string,
  toRow: (a: unknown[]) => T,
): T[] {
  const byId = new Map<number, T>();
  for (const combo of combos) {
    const where: string[] = [];
    const args: string[] = [];
    combo.forEach((p, i) => {
      if (allWild([p])) return; // `*` matches everything: no condition
      where.push(hasWildcard(p) ? `${columns[i]} GLOB ?` : `${columns[i]} = ?`);
      args.push(hasWildcard(p) ? glob(p) : p);
    });
    const sql = `SELECT ${select} FROM ${table}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
    // Raw (array) rows turned into objects by a fixed-shape literal: better-sqlite3's own row objects cost ~2x more.
    for (const a of cachedStatement(db, sql, true).all(...args) as unknown[][]) {
      const r = toRow(a);
      byId.set(r.id, r);
    }
  }
  return [...byId.values()];
}

function* product(lists: ReadonlyArray<readonly string[]>): Generator<string[]> {
  if (lists.length === 0) {
    yield [];
    return;
  }
  const [first, ...rest] = lists;
  for (const a of first) for (const tail of product(rest)) yield [a, ...tail];
}

/** Keep, per key, the row of the most recently loaded source. */
function dedupe<T extends { row: { source_id: number }; key: string }>(items: T[]): Map<string, T> {
  const m = new Map<string, T>();
  for (const it of items) {
    const cur = m.get(it.key);
    if (!cur || it.row.source_id > cur.row.source_id) m.set(it.key, it);
  }
  return m;
}

const updNs = (t: string): bigint => parseIsoToNs(t) ?? 0n;

/** textNs / updNs memoised for one query: stores share few distinct dates (bulk loads, epochs). */
function timeParsers(): { ns: (t: string | null) => bigint | null; upd: (t: string) => bigint } {
  const seen = new Map<string, bigint | null>();
  const seenUpd = new Map<string, bigint>();
  return {
    ns: (t) => {
      if (t === null) return null;
      let v = seen.get(t);
      if (v === undefined) seen.set(t, (v = textNs(t)));
      return v;
    },
    upd: (t) => {
      let v = seenUpd.get(t);
      if (v === undefined) seenUpd.set(t, (v = updNs(t)));
      return v;
    },
  };
}

/** Epoch [start, end] (null = open) intersects the window [ws, we] (null = open), inclusive. */
function intersects(e: Epoch, ws: bigint | null, we: bigint | null): boolean {
  if (we !== null && e.startNs !== null && e.startNs > we) return false;
  if (ws !== null && e.endNs !== null && e.endNs < ws) return false;
  return true;
}

/** Strict comparisons (FDSN: startbefore/startafter/endbefore/endafter do not match equality); an open end is "after" everything. */
function strictTimes(e: Epoch, q: MetadataQuery): boolean {
  if (q.startBeforeNs !== undefined && !(e.startNs === null || e.startNs < q.startBeforeNs)) return false;
  if (q.startAfterNs !== undefined && !(e.startNs !== null && e.startNs > q.startAfterNs)) return false;
  if (q.endBeforeNs !== undefined && !(e.endNs !== null && e.endNs < q.endBeforeNs)) return false;
  if (q.endAfterNs !== undefined && !(e.endNs === null || e.endNs > q.endAfterNs)) return false;
  return true;
}

/** Great-circle distance in degrees on a sphere (the FDSN / ObsPy locations2degrees convention). */
export function greatCircleDegrees(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const r = Math.PI / 180;
  const p1 = lat1 * r;
  const p2 = lat2 * r;
  const dl = (lon2 - lon1) * r;
  const y = Math.hypot(Math.cos(p2) * Math.sin(dl), Math.cos(p1) * Math.sin(p2) - Math.sin(p1) * Math.cos(p2) * Math.cos(dl));
  const x = Math.sin(p1) * Math.sin(p2) + Math.cos(p1) * Math.cos(p2) * Math.cos(dl);
  return Math.atan2(y, x) / r;
}

function geoOk(lat: number, lon: number, q: MetadataQuery): boolean {
  const b = q.box;
  if (b) {
    if (lat < b.minLat || lat > b.maxLat) return false;
    // minLon > maxLon: the box crosses the date line (e.g. 170 .. -170).
    if (b.minLon <= b.maxLon ? lon < b.minLon || lon > b.maxLon : lon < b.minLon && lon > b.maxLon) return false;
  }
  const c = q.radius;
  if (c) {
    const d = greatCircleDegrees(c.lat, c.lon, lat, lon);
    // 1e-9° slack: a point given exactly at the limit must not be lost to rounding.
    if (d < c.minRadius - 1e-9 || d > c.maxRadius + 1e-9) return false;
  }
  return true;
}

const isClosed = (s: string | null | undefined) => (s ?? '').toLowerCase() === 'closed';

/**
 * Data time spans per channel (NSLC key) within the given windows, from the waveform index.
 * Returns an empty map when the db has no tsindex.
 */
function dataSpans(db: Database.Database, sels: Selection[]): Map<string, Array<{ startNs: bigint; endNs: bigint }>> {
  const out = new Map<string, Array<{ startNs: bigint; endNs: bigint }>>();
  if (sels.length === 0 || !hasTable(db, 'tsindex')) return out;
  for (const row of computeAvailability(db, sels, { mode: 'query', mergeQuality: true, mergeSampleRate: true, mergeOverlap: true })) {
    out.set(channelKey(row.network, row.station, row.location, row.channel), row.spans);
  }
  return out;
}

function hasTable(db: Database.Database, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

/** Open bounds for index look-ups (the ±2^62 ns convention of expandSelections: 1823..2116). */
const OPEN_START = -(2n ** 62n);
const OPEN_END = 2n ** 62n;
const maxBig = (a: bigint, b: bigint) => (a > b ? a : b);
const minBig = (a: bigint, b: bigint) => (a < b ? a : b);

// ---------------------------------------------------------------------------------------------
// What a caller prints decides what is read and built

/**
 * Per element kind: `true` = the full model (extra_json decoded: attributes, extras, site,
 * sensitivity with output units ...), `false` = a light element built from the table columns
 * only (codes, epoch, restriction, coordinates, site name, sensor, sample rate, sensitivity
 * value/frequency/input units; no attributes, extras, site details, types). Totals are the
 * store counts printed as TotalNumberStations / TotalNumberChannels.
 */
interface Detail {
  net: boolean;
  sta: boolean;
  cha: boolean;
  /** Channels are printed (text at level=channel, or full): read their columns, not just codes and epochs. */
  chaPrinted: boolean;
  /** Read response_xml (level=response). */
  response: boolean;
  netTotals: boolean;
  staTotals: boolean;
}

/** Output an Inventory from queryMetadataFor is meant for (see there). */
export type MetadataOutput = 'model' | 'xml' | 'text';

function detailFor(level: MetadataLevel, output: MetadataOutput): Detail {
  if (output === 'text' && level !== 'response') {
    // stationText prints column values only; network rows print the store's station total.
    return { net: false, sta: false, cha: false, chaPrinted: level === 'channel', response: false, netTotals: level === 'network', staTotals: false };
  }
  if (output === 'xml') {
    // writeStationXml prints full elements down to the level and only counts below it.
    const deep = level === 'channel' || level === 'response';
    return { net: true, sta: level !== 'network', cha: deep, chaPrinted: deep, response: level === 'response', netTotals: true, staTotals: level !== 'network' };
  }
  return { net: true, sta: true, cha: true, chaPrinted: true, response: level === 'response', netTotals: true, staTotals: true };
}

/*
 * Column lists. A channel row stores the whole <Response> (response_xml, tens of KiB, in SQLite
 * overflow pages) BEFORE `updated` and `extra_json`: reading either column walks the overflow
 * chain of every row, which cost most of a large query. So `updated` is read only when the query
 * has updatedafter, and `extra_json` only for full elements; the light channel columns all sit
 * before response_xml.
 */
const NET_COLUMNS = 'id, source_id, code, start_time, end_time, restricted, description';
const STA_COLUMNS = 'id, source_id, network, network_start, code, start_time, end_time, restricted, latitude, longitude, elevation, site_name';
const CHA_COLUMNS =
  'id, source_id, network, station, station_start, location, channel, start_time, end_time, restricted, latitude, longitude, elevation, depth, ' +
  'azimuth, dip, sample_rate, sensor, sensitivity, sensitivity_frequency, sensitivity_units';
/** Channels below the output level (only counted, or their start used as a fallback) when channels are not the target. */
const CHA_KEY_COLUMNS =
  'id, source_id, network, station, station_start, location, channel, start_time, end_time, restricted, NULL, NULL, NULL, NULL, ' +
  'NULL, NULL, NULL, NULL, NULL, NULL, NULL';
/** The column list, then `updated` and `extra_json` or NULL in their place (fixed positions for the row mappers). */
const columnsFor = (columns: string, full: boolean, updated: boolean) => `${columns}, ${updated ? 'updated' : 'NULL'}, ${full ? 'extra_json' : 'NULL'}`;
const str = (v: unknown) => v as string;
const strOrNull = (v: unknown) => v as string | null;
const numOrNull = (v: unknown) => v as number | null;
const netRowOf = (a: unknown[]): NetRow => ({
  id: a[0] as number,
  source_id: a[1] as number,
  code: str(a[2]),
  start_time: strOrNull(a[3]),
  end_time: strOrNull(a[4]),
  restricted: strOrNull(a[5]),
  description: strOrNull(a[6]),
  updated: strOrNull(a[7]),
  extra_json: strOrNull(a[8]),
});
const staRowOf = (a: unknown[]): StaRow => ({
  id: a[0] as number,
  source_id: a[1] as number,
  network: str(a[2]),
  network_start: strOrNull(a[3]),
  code: str(a[4]),
  start_time: strOrNull(a[5]),
  end_time: strOrNull(a[6]),
  restricted: strOrNull(a[7]),
  latitude: a[8] as number,
  longitude: a[9] as number,
  elevation: a[10] as number,
  site_name: str(a[11]),
  updated: strOrNull(a[12]),
  extra_json: strOrNull(a[13]),
});
const chaRowOf = (a: unknown[]): ChaRow => ({
  id: a[0] as number,
  source_id: a[1] as number,
  network: str(a[2]),
  station: str(a[3]),
  station_start: strOrNull(a[4]),
  location: str(a[5]),
  channel: str(a[6]),
  start_time: strOrNull(a[7]),
  end_time: strOrNull(a[8]),
  restricted: strOrNull(a[9]),
  latitude: a[10] as number,
  longitude: a[11] as number,
  elevation: a[12] as number,
  depth: a[13] as number,
  azimuth: numOrNull(a[14]),
  dip: numOrNull(a[15]),
  sample_rate: numOrNull(a[16]),
  sensor: strOrNull(a[17]),
  sensitivity: numOrNull(a[18]),
  sensitivity_frequency: numOrNull(a[19]),
  sensitivity_units: strOrNull(a[20]),
  updated: strOrNull(a[21]),
  extra_json: strOrNull(a[22]),
});

/**
 * Run an fdsnws-station selection against the store. Returns the inventory (networks →
 * stations → channels, sorted by codes and start) ready for writeStationXml/stationText;
 * `networks` is empty when nothing matched. Channels are filled at every level (their count is
 * SelectedNumberChannels); `responseXml` only at level=response.
 */
export function queryMetadata(db: Database.Database, q: MetadataQuery): Inventory {
  return runQuery(db, q, detailFor(q.level, 'model'));
}

/**
 * queryMetadata for one output: the same selection, order and counts, but only what that output
 * prints at `q.level` is read and decoded, so large answers stay cheap.
 *  - 'xml': writeStationXml(inv, { level: q.level }) gives exactly the document of the full
 *    model; elements below the level are light (only their number is printed);
 *  - 'text': stationText(inv, q.level) gives exactly the text of the full model; every element
 *    is light (no attributes, extras, site details, types, clock drift, output units);
 *  - 'model': the full model (= queryMetadata).
 * Use queryMetadata for anything else than passing the result to that writer.
 */
export function queryMetadataFor(db: Database.Database, q: MetadataQuery, output: MetadataOutput): Inventory {
  return runQuery(db, q, detailFor(q.level, output));
}

function emptyInventory(): Inventory {
  return { schemaVersion: '1.2', source: null, sender: null, module: null, moduleUri: null, createdNs: null, networks: [] };
}

function queryTarget(q: MetadataQuery): 'network' | 'station' | 'channel' {
  const geo = q.box !== undefined || q.radius !== undefined;
  const channelCriteria = q.selections.some((s) => !allWild(s.location) || !allWild(s.channel));
  const stationCriteria = q.selections.some((s) => !allWild(s.station));
  return q.level === 'channel' || q.level === 'response' || channelCriteria || q.matchTimeseries
    ? 'channel'
    : q.level === 'station' || stationCriteria || geo
      ? 'station'
      : 'network';
}

interface Candidates {
  nets: Map<string, Net>;
  stas: Map<string, Sta>;
  chas: Map<string, Cha>;
}
interface Selected {
  selNets: Set<string>;
  selStas: Set<string>;
  selChas: Set<string>;
}

/**
 * Candidate sets of recent queries, per connection, reused while the database is unchanged:
 * `PRAGMA data_version` moves when another connection commits (a load-metadata run beside the
 * server), total_changes() when this connection writes anything. Repeated large requests
 * (harvesters asking for network=* again and again) then skip reading and decoding the rows;
 * any write empties the cache. Bounded by entries and by rows; the cached objects are only read
 * (the inventories handed out are built fresh from them).
 */
const CANDIDATE_CACHE_ENTRIES = 8;
const CANDIDATE_CACHE_MAX_ROWS = 200_000;
interface CandidateCache {
  stamp: string;
  entries: Map<string, { c: Candidates; rows: number }>;
  rows: number;
  /** Store totals by kind and network codes (same validity). */
  totals: Map<string, Map<string, number>>;
}
const candidateCaches = new WeakMap<Database.Database, CandidateCache>();

function databaseStamp(db: Database.Database): string {
  const v = cachedStatement(db, 'PRAGMA data_version').get() as { data_version: number };
  const t = cachedStatement(db, 'SELECT total_changes() AS n').get() as { n: number };
  return `${v.data_version}/${t.n}`;
}

/** Totals for the same network codes are reused while the database is unchanged (see cachedCandidates). */
function cachedTotals(db: Database.Database, kind: 'stations' | 'channels', codes: string[]): Map<string, number> {
  const cache = candidateCaches.get(db);
  const fresh = () => (kind === 'stations' ? stationTotals(db, codes) : channelTotals(db, codes));
  if (!cache || db.inTransaction || cache.stamp !== databaseStamp(db)) return fresh();
  const key = `${kind}\u0000${[...new Set(codes)].sort().join('\u0000')}`;
  let t = cache.totals.get(key);
  if (!t) {
    if (cache.totals.size >= 2 * CANDIDATE_CACHE_ENTRIES) cache.totals.clear();
    cache.totals.set(key, (t = fresh()));
  }
  return t;
}

function cachedCandidates(db: Database.Database, q: MetadataQuery, d: Detail): Candidates {
  // Inside a transaction the content may still be rolled back without moving the stamp: no cache.
  if (db.inTransaction) return candidates(db, q, d);
  const stamp = databaseStamp(db);
  let cache = candidateCaches.get(db);
  if (!cache || cache.stamp !== stamp) candidateCaches.set(db, (cache = { stamp, entries: new Map(), rows: 0, totals: new Map() }));
  // Everything candidates() depends on: codes of each line, excluded sources, columns read.
  const key = JSON.stringify([
    q.selections.map((l) => [l.network, l.station, l.location, l.channel]),
    q.excludeSources ?? [],
    d.net,
    d.sta,
    d.cha,
    d.chaPrinted || queryTarget(q) === 'channel',
    q.updatedAfterNs !== undefined,
  ]);
  const hit = cache.entries.get(key);
  if (hit) {
    cache.entries.delete(key); // most recently used last
    cache.entries.set(key, hit);
    return hit.c;
  }
  const c = candidates(db, q, d);
  const rows = c.nets.size + c.stas.size + c.chas.size;
  if (rows <= CANDIDATE_CACHE_MAX_ROWS) {
    for (const [k, e] of cache.entries) {
      if (cache.entries.size < CANDIDATE_CACHE_ENTRIES && cache.rows + rows <= CANDIDATE_CACHE_MAX_ROWS) break;
      cache.entries.delete(k);
      cache.rows -= e.rows;
    }
    cache.entries.set(key, { c, rows });
    cache.rows += rows;
  }
  return c;
}

/** 1. Candidate rows by codes (all sources), parsed once, deduplicated by key; only the columns `d` needs. */
function candidates(db: Database.Database, q: MetadataQuery, d: Detail): Candidates {
  const excluded = excludedSourceIds(db, q.excludeSources);
  const keep = <T extends { source_id: number }>(rows: T[]): T[] => (excluded.size === 0 ? rows : rows.filter((r) => !excluded.has(r.source_id)));
  const tp = timeParsers();
  const withUpdated = q.updatedAfterNs !== undefined;
  // Channel coordinates are only looked at when channels are the target level (geographic limits).
  const chaColumns = d.chaPrinted || queryTarget(q) === 'channel' ? CHA_COLUMNS : CHA_KEY_COLUMNS;
  const upd = withUpdated ? (t: string | null) => tp.upd(t!) : () => 0n;
  const netCombos = q.selections.flatMap((s) => [...product([s.network])]);
  const staCombos = q.selections.flatMap((s) => [...product([s.network, s.station])]);
  const chaCombos = q.selections.flatMap((s) => [...product([s.network, s.station, s.location, s.channel])]);
  const nets = dedupe(
    keep(fetchRows<NetRow>(db, 'geonode_networks', ['code'], netCombos, columnsFor(NET_COLUMNS, d.net, withUpdated), netRowOf)).map(
      (row): Net => ({ row, key: netKeyOf(row.code, row.start_time), startNs: tp.ns(row.start_time), endNs: tp.ns(row.end_time), updatedNs: upd(row.updated) }),
    ),
  );
  const stas = dedupe(
    keep(fetchRows<StaRow>(db, 'geonode_stations', ['network', 'code'], staCombos, columnsFor(STA_COLUMNS, d.sta, withUpdated), staRowOf)).map(
      (row): Sta => ({
        row,
        key: staKeyOf(row.network, row.code, row.start_time),
        netKey: netKeyOf(row.network, row.network_start),
        startNs: tp.ns(row.start_time),
        endNs: tp.ns(row.end_time),
        updatedNs: upd(row.updated),
      }),
    ),
  );
  const chas = dedupe(
    keep(fetchRows<ChaRow>(db, 'geonode_channels', ['network', 'station', 'location', 'channel'], chaCombos, columnsFor(chaColumns, d.cha, withUpdated), chaRowOf)).map(
      (row): Cha => ({
        row,
        key: chaKeyOf(row),
        staKey: staKeyOf(row.network, row.station, row.station_start),
        startNs: tp.ns(row.start_time),
        endNs: tp.ns(row.end_time),
        updatedNs: upd(row.updated),
      }),
    ),
  );
  return { nets, stas, chas };
}

/** 2. Per selection line: what matches; the union over lines is the answer. */
function select(db: Database.Database, q: MetadataQuery, c: Candidates): Selected {
  const { nets, stas, chas } = c;
  const includeRestricted = q.includeRestricted ?? true;
  const geo = q.box !== undefined || q.radius !== undefined;
  const target = queryTarget(q);
  const selNets = new Set<string>();
  const selStas = new Set<string>();
  const selChas = new Set<string>();
  const policyHides = (net: string, sta: string) => !includeRestricted && q.isRestricted !== undefined && q.isRestricted(net, sta);
  for (const line of q.selections) {
    const reNet = codeMatcher(line.network);
    const reSta = codeMatcher(line.station);
    const reLoc = codeMatcher(line.location);
    const reCha = codeMatcher(line.channel);
    const ws = line.startNs;
    const we = line.endNs;
    const atTarget = (e: Epoch, lat?: number, lon?: number) =>
      strictTimes(e, q) && (q.updatedAfterNs === undefined || e.updatedNs > q.updatedAfterNs) && (lat === undefined || !geo || geoOk(lat, lon!, q));

    const lineNets = new Map<string, Net>();
    for (const n of nets.values()) {
      if (!reNet.test(n.row.code) || !intersects(n, ws, we)) continue;
      // Own status, else the parent's: a closed network's explicitly open stations are listed
      // (the network as their container, below); at level=network the network is its own status.
      if (!includeRestricted && target === 'network' && isClosed(n.row.restricted)) continue;
      if (target === 'network' && !atTarget(n)) continue;
      lineNets.set(n.key, n);
    }
    const lineStas = new Map<string, Sta>();
    for (const s of stas.values()) {
      const n = lineNets.get(s.netKey);
      if (!n || !reSta.test(s.row.code) || !intersects(s, ws, we)) continue;
      if (!includeRestricted && (isClosed(s.row.restricted ?? n.row.restricted) || policyHides(s.row.network, s.row.code))) continue;
      if (target === 'station' && !atTarget(s, s.row.latitude, s.row.longitude)) continue;
      lineStas.set(s.key, s);
    }
    let lineChas: Cha[] = [];
    for (const c of chas.values()) {
      const s = lineStas.get(c.staKey);
      if (!s || !reLoc.test(c.row.location) || !reCha.test(c.row.channel) || !intersects(c, ws, we)) continue;
      if (!includeRestricted && isClosed(c.row.restricted ?? s.row.restricted ?? lineNets.get(s.netKey)?.row.restricted)) continue;
      if (target === 'channel' && !atTarget(c, c.row.latitude, c.row.longitude)) continue;
      lineChas.push(c);
    }
    if (q.matchTimeseries) {
      // Data must exist for the channel inside its epoch ∩ the request window.
      const windows = new Map<Cha, { startNs: bigint; endNs: bigint }>();
      for (const c of lineChas) {
        const a = maxBig(c.startNs ?? OPEN_START, ws ?? OPEN_START);
        const b = minBig(c.endNs ?? OPEN_END, we ?? OPEN_END);
        if (a <= b) windows.set(c, { startNs: a, endNs: b });
      }
      const spans = dataSpans(
        db,
        [...windows].map(([c, w]) => ({ network: c.row.network, station: c.row.station, location: c.row.location, channel: c.row.channel, ...w })),
      );
      lineChas = lineChas.filter((c) => {
        const w = windows.get(c);
        const sp = spans.get(channelKey(c.row.network, c.row.station, c.row.location, c.row.channel));
        return w !== undefined && sp !== undefined && sp.some((x) => x.startNs <= w.endNs && x.endNs >= w.startNs);
      });
    }
    // Prune ancestors without matching descendants where the target level requires them.
    const staWithCha = new Set(lineChas.map((c) => c.staKey));
    for (const [k, s] of lineStas) if (target === 'channel' && !staWithCha.has(k)) lineStas.delete(k);
    const netWithSta = new Set([...lineStas.values()].map((s) => s.netKey));
    for (const k of lineNets.keys()) if (target !== 'network' && !netWithSta.has(k)) lineNets.delete(k);
    for (const k of lineNets.keys()) selNets.add(k);
    for (const s of lineStas.values()) if (lineNets.has(s.netKey)) selStas.add(s.key);
    for (const c of lineChas) if (lineStas.has(c.staKey) && lineNets.has(lineStas.get(c.staKey)!.netKey)) selChas.add(c.key);
  }
  return { selNets, selStas, selChas };
}

function runQuery(db: Database.Database, q: MetadataQuery, d: Detail): Inventory {
  const inv = emptyInventory();
  if (!hasMetadataStore(db) || q.selections.length === 0) return inv;
  const c = cachedCandidates(db, q, d);
  const { selNets, selStas, selChas } = select(db, q, c);
  if (selNets.size === 0) return inv;
  const { nets, stas, chas } = c;

  // 3. Totals in the store (all sources, deduplicated by key) for the output networks/stations, when printed.
  const codes = [...selNets].map((k) => nets.get(k)!.row.code);
  const netTotals = d.netTotals ? cachedTotals(db, 'stations', codes) : new Map<string, number>();
  const staTotals = d.staTotals ? cachedTotals(db, 'channels', codes) : new Map<string, number>();

  // 4. Build the tree, sorted.
  const responses = d.response ? responseXmlById(db, [...selChas].map((k) => chas.get(k)!.row.id)) : new Map<number, string | null>();
  const netOut = new Map<string, Network>();
  for (const k of [...selNets].sort(cmp)) {
    const n = nets.get(k)!;
    netOut.set(k, d.net ? toNetwork(n, netTotals.get(k) ?? 0) : toNetworkLight(n, netTotals.get(k) ?? 0));
  }
  const staOut = new Map<string, Station>();
  for (const k of [...selStas].sort(cmp)) {
    const s = stas.get(k)!;
    const n = netOut.get(s.netKey);
    if (!n) continue;
    const st = d.sta ? toStation(s, staTotals.get(k) ?? 0) : toStationLight(s, staTotals.get(k) ?? 0);
    n.stations.push(st);
    staOut.set(k, st);
  }
  const chaList = [...selChas].map((k) => chas.get(k)!);
  chaList.sort((a, b) => cmp(a.row.location, b.row.location) || cmp(a.row.channel, b.row.channel) || cmp(a.row.start_time ?? '', b.row.start_time ?? ''));
  for (const ch of chaList) {
    const st = staOut.get(ch.staKey);
    if (st) st.channels.push(d.cha ? toChannel(ch, responses.get(ch.row.id) ?? null) : toChannelLight(ch));
  }
  inv.networks = [...netOut.values()];
  return inv;
}

/**
 * The straightforward full-model path as it was before the per-output fast path (every column
 * and extra_json read and decoded, totals counted row by row in JS). Kept as the reference the
 * tests compare queryMetadata / queryMetadataFor against; not used by the service.
 * @internal
 */
export function queryMetadataReference(db: Database.Database, q: MetadataQuery): Inventory {
  const inv = emptyInventory();
  if (!hasMetadataStore(db) || q.selections.length === 0) return inv;
  const excluded = excludedSourceIds(db, q.excludeSources);
  const keep = <T extends { source_id: number }>(rows: T[]): T[] => (excluded.size === 0 ? rows : rows.filter((r) => !excluded.has(r.source_id)));
  const netCombos = q.selections.flatMap((s) => [...product([s.network])]);
  const staCombos = q.selections.flatMap((s) => [...product([s.network, s.station])]);
  const chaCombos = q.selections.flatMap((s) => [...product([s.network, s.station, s.location, s.channel])]);
  const nets = dedupe(
    keep(fetchRows<NetRow>(db, 'geonode_networks', ['code'], netCombos, columnsFor(NET_COLUMNS, true, true), netRowOf)).map(
      (row): Net => ({ row, key: netKeyOf(row.code, row.start_time), startNs: textNs(row.start_time), endNs: textNs(row.end_time), updatedNs: updNs(row.updated!) }),
    ),
  );
  const stas = dedupe(
    keep(
      fetchRows<StaRow>(
        db,
        'geonode_stations',
        ['network', 'code'],
        staCombos,
        columnsFor(STA_COLUMNS, true, true),
        staRowOf,
      ),
    ).map(
      (row): Sta => ({
        row,
        key: staKeyOf(row.network, row.code, row.start_time),
        netKey: netKeyOf(row.network, row.network_start),
        startNs: textNs(row.start_time),
        endNs: textNs(row.end_time),
        updatedNs: updNs(row.updated!),
      }),
    ),
  );
  const chas = dedupe(
    keep(
      fetchRows<ChaRow>(
        db,
        'geonode_channels',
        ['network', 'station', 'location', 'channel'],
        chaCombos,
        columnsFor(CHA_COLUMNS, true, true),
        chaRowOf,
      ),
    ).map(
      (row): Cha => ({
        row,
        key: chaKeyOf(row),
        staKey: staKeyOf(row.network, row.station, row.station_start),
        startNs: textNs(row.start_time),
        endNs: textNs(row.end_time),
        updatedNs: updNs(row.updated!),
      }),
    ),
  );
  const { selNets, selStas, selChas } = select(db, q, { nets, stas, chas });
  if (selNets.size === 0) return inv;
  const totals = storeTotalsReference(db, [...selNets].map((k) => nets.get(k)!.row.code));
  const responses = q.level === 'response' ? responseXmlById(db, [...selChas].map((k) => chas.get(k)!.row.id)) : new Map<number, string | null>();
  const netOut = new Map<string, Network>();
  for (const k of [...selNets].sort((a, b) => cmp(a, b))) netOut.set(k, toNetwork(nets.get(k)!, totals.stations.get(k) ?? 0));
  const staOut = new Map<string, Station>();
  for (const k of [...selStas].sort((a, b) => cmp(a, b))) {
    const s = stas.get(k)!;
    const n = netOut.get(s.netKey);
    if (!n) continue;
    const st = toStation(s, totals.channels.get(k) ?? 0);
    n.stations.push(st);
    staOut.set(k, st);
  }
  const chaList = [...selChas].map((k) => chas.get(k)!);
  chaList.sort((a, b) => cmp(a.row.location, b.row.location) || cmp(a.row.channel, b.row.channel) || cmp(a.row.start_time ?? '', b.row.start_time ?? ''));
  for (const c of chaList) {
    const st = staOut.get(c.staKey);
    if (st) st.channels.push(toChannel(c, responses.get(c.row.id) ?? null));
  }
  inv.networks = [...netOut.values()];
  return inv;
}

function excludedSourceIds(db: Database.Database, sources: readonly string[] | undefined): Set<number> {
  if (!sources || sources.length === 0) return new Set();
  const st = db.prepare('SELECT id FROM geonode_meta_sources WHERE source = ?').pluck();
  return new Set(sources.map((s) => st.get(s) as number | undefined).filter((id): id is number => id !== undefined));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const inList = (n: number) => Array.from({ length: n }, () => '?').join(',');

/**
 * Distinct station keys per network key, for the given network codes (all sources). A station
 * key listed under several network starts counts once, for the first such row (as before).
 */
function stationTotals(db: Database.Database, codes: string[]): Map<string, number> {
  const stations = new Map<string, number>();
  const uniq = [...new Set(codes)];
  const rows = cachedStatement(db, `SELECT DISTINCT network, network_start, code, start_time FROM geonode_stations WHERE network IN (${inList(uniq.length)})`).all(
    ...uniq,
  ) as Array<{ network: string; network_start: string | null; code: string; start_time: string | null }>;
  const seenSta = new Set<string>();
  for (const r of rows) {
    const sk = staKeyOf(r.network, r.code, r.start_time);
    if (seenSta.has(sk)) continue;
    seenSta.add(sk);
    const nk = netKeyOf(r.network, r.network_start);
    stations.set(nk, (stations.get(nk) ?? 0) + 1);
  }
  return stations;
}

/** Distinct channel keys per station key, for the given network codes (all sources): one grouped query. */
function channelTotals(db: Database.Database, codes: string[]): Map<string, number> {
  const channels = new Map<string, number>();
  const uniq = [...new Set(codes)];
  const rows = cachedStatement(
    db,
    `SELECT network, station, station_start, count(*) AS n FROM
       (SELECT DISTINCT network, station, station_start, location, channel, start_time FROM geonode_channels WHERE network IN (${inList(uniq.length)}))
     GROUP BY network, station, station_start`,
  ).all(...uniq) as Array<{ network: string; station: string; station_start: string | null; n: number }>;
  for (const r of rows) {
    const sk = staKeyOf(r.network, r.station, r.station_start);
    channels.set(sk, (channels.get(sk) ?? 0) + r.n);
  }
  return channels;
}

/** Distinct station keys per network key and channel keys per station key, for the given network codes (reference path). */
function storeTotalsReference(db: Database.Database, codes: string[]): { stations: Map<string, number>; channels: Map<string, number> } {
  const stations = new Map<string, number>();
  const channels = new Map<string, number>();
  const uniq = [...new Set(codes)];
  const marks = uniq.map(() => '?').join(',');
  const staRows = db.prepare(`SELECT DISTINCT network, network_start, code, start_time FROM geonode_stations WHERE network IN (${marks})`).all(...uniq) as Array<{
    network: string;
    network_start: string | null;
    code: string;
    start_time: string | null;
  }>;
  const seenSta = new Set<string>();
  for (const r of staRows) {
    const sk = staKeyOf(r.network, r.code, r.start_time);
    if (seenSta.has(sk)) continue;
    seenSta.add(sk);
    const nk = netKeyOf(r.network, r.network_start);
    stations.set(nk, (stations.get(nk) ?? 0) + 1);
  }
  const chaRows = db
    .prepare(`SELECT DISTINCT network, station, station_start, location, channel, start_time FROM geonode_channels WHERE network IN (${marks})`)
    .all(...uniq) as Array<{ network: string; station: string; station_start: string | null }>;
  for (const r of chaRows) {
    const sk = staKeyOf(r.network, r.station, r.station_start);
    channels.set(sk, (channels.get(sk) ?? 0) + 1);
  }
  return { stations, channels };
}

function responseXmlById(db: Database.Database, ids: number[]): Map<number, string | null> {
  const out = new Map<number, string | null>();
  const st = cachedStatement(db, 'SELECT response_xml FROM geonode_channels WHERE id = ?');
  for (const id of ids) out.set(id, (st.get(id) as { response_xml: string | null } | undefined)?.response_xml ?? null);
  return out;
}

function extraJson(row: { extra_json: string | null }): string {
  if (row.extra_json === null) throw new Error('metadata store: extra_json was not selected for a full element');
  return row.extra_json;
}

function toNetwork(n: Net, totalStations: number): Network {
  const x = JSON.parse(extraJson(n.row)) as Pick<Network, 'attributes' | 'extras'>;
  return {
    code: n.row.code,
    description: n.row.description,
    startNs: n.startNs,
    endNs: n.endNs,
    restrictedStatus: n.row.restricted,
    // The store's own count: the source's TotalNumberStations describes the exporting data centre.
    totalNumberStations: totalStations,
    stations: [],
    attributes: x.attributes,
    extras: x.extras,
  };
}

/** Light network: columns only (no attributes/extras). */
function toNetworkLight(n: Net, totalStations: number): Network {
  return {
    code: n.row.code,
    description: n.row.description,
    startNs: n.startNs,
    endNs: n.endNs,
    restrictedStatus: n.row.restricted,
    totalNumberStations: totalStations,
    stations: [],
    attributes: [],
    extras: [],
  };
}

function toStation(s: Sta, totalChannels: number): Station {
  const x = JSON.parse(extraJson(s.row)) as {
    description: string | null;
    site: Station['site'];
    creationDateNs: string | null;
    terminationDateNs: string | null;
    attributes: Station['attributes'];
    valueAttributes: Station['valueAttributes'] | null;
    extras: Station['extras'];
  };
  const st: Station = {
    code: s.row.code,
    startNs: s.startNs,
    endNs: s.endNs,
    restrictedStatus: s.row.restricted,
    description: x.description,
    lat: s.row.latitude,
    lon: s.row.longitude,
    elevation: s.row.elevation,
    siteName: s.row.site_name,
    site: x.site,
    creationDateNs: big(x.creationDateNs),
    terminationDateNs: big(x.terminationDateNs),
    totalNumberChannels: totalChannels,
    channels: [],
    attributes: x.attributes,
    extras: x.extras,
  };
  if (x.valueAttributes) st.valueAttributes = x.valueAttributes;
  return st;
}

/** Light station: columns only (site = its name; no description, dates, attributes, extras). */
function toStationLight(s: Sta, totalChannels: number): Station {
  return {
    code: s.row.code,
    startNs: s.startNs,
    endNs: s.endNs,
    restrictedStatus: s.row.restricted,
    description: null,
    lat: s.row.latitude,
    lon: s.row.longitude,
    elevation: s.row.elevation,
    siteName: s.row.site_name,
    site: { name: s.row.site_name },
    creationDateNs: null,
    terminationDateNs: null,
    totalNumberChannels: totalChannels,
    channels: [],
    attributes: [],
    extras: [],
  };
}

function toChannel(c: Cha, responseXml: string | null): Channel {
  const x = JSON.parse(extraJson(c.row)) as {
    description: string | null;
    types: string[];
    clockDrift: number | null;
    sensitivity: Channel['sensitivity'];
    responseStageCount: number;
    dataAvailability: { startNs: string; endNs: string } | null;
    attributes: Channel['attributes'];
    valueAttributes: Channel['valueAttributes'] | null;
    extras: Channel['extras'];
  };
  const ch: Channel = {
    location: c.row.location,
    code: c.row.channel,
    startNs: c.startNs,
    endNs: c.endNs,
    restrictedStatus: c.row.restricted,
    description: x.description,
    lat: c.row.latitude,
    lon: c.row.longitude,
    elevation: c.row.elevation,
    depth: c.row.depth,
    azimuth: c.row.azimuth,
    dip: c.row.dip,
    types: x.types,
    sampleRate: c.row.sample_rate,
    clockDrift: x.clockDrift,
    sensorDescription: c.row.sensor,
    sensitivity: x.sensitivity,
    responseXml,
    responseStageCount: x.responseStageCount,
    dataAvailability: x.dataAvailability ? { startNs: BigInt(x.dataAvailability.startNs), endNs: BigInt(x.dataAvailability.endNs) } : null,
    attributes: x.attributes,
    extras: x.extras,
  };
  if (x.valueAttributes) ch.valueAttributes = x.valueAttributes;
  return ch;
}

/**
 * Light channel: columns only. The sensitivity comes from its columns (value, frequency, input
 * units; output units unknown = ''); a value the JSON of the full model would turn into null
 * (NaN, ±Infinity) prints the same empty text field.
 */
function toChannelLight(c: Cha): Channel {
  const r = c.row;
  const v = r.sensitivity ?? null;
  const f = r.sensitivity_frequency ?? null;
  const u = r.sensitivity_units ?? null;
  return {
    location: r.location,
    code: r.channel,
    startNs: c.startNs,
    endNs: c.endNs,
    restrictedStatus: r.restricted,
    description: null,
    lat: r.latitude,
    lon: r.longitude,
    elevation: r.elevation,
    depth: r.depth,
    azimuth: r.azimuth,
    dip: r.dip,
    types: [],
    sampleRate: r.sample_rate,
    clockDrift: null,
    sensorDescription: r.sensor,
    sensitivity: v === null && f === null && u === null ? null : { value: v ?? NaN, frequency: f ?? NaN, inputUnits: u ?? '', outputUnits: '' },
    responseXml: null,
    responseStageCount: 0,
    dataAvailability: null,
    attributes: [],
    extras: [],
  };
}

/**
 * Data extents (first sample .. last sample over the whole index) of the inventory's channels,
 * keyed by channelKey, for `includeavailability` (the writer clips them to each epoch).
 */
export function channelExtents(db: Database.Database, inv: Inventory): Map<string, { startNs: bigint; endNs: bigint }> {
  const out = new Map<string, { startNs: bigint; endNs: bigint }>();
  if (!hasTable(db, 'tsindex')) return out;
  const sels: Selection[] = [];
  const seen = new Set<string>();
  for (const n of inv.networks)
    for (const s of n.stations)
      for (const c of s.channels) {
        const k = channelKey(n.code, s.code, c.location, c.code);
        if (seen.has(k)) continue;
        seen.add(k);
        sels.push({ network: n.code, station: s.code, location: c.location, channel: c.code, startNs: OPEN_START, endNs: OPEN_END });
      }
  if (sels.length === 0) return out;
  for (const row of computeAvailability(db, sels, { mode: 'extent', mergeQuality: true, mergeSampleRate: true })) {
    out.set(channelKey(row.network, row.station, row.location, row.channel), { startNs: row.earliestNs, endNs: row.latestNs });
  }
  return out;
}
