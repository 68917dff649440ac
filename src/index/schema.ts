/**
 * SQLite schema of the archive index: mseedindex's `tsindex` table and indexes verbatim (so
 * portable-fdsnws-dataselect, ObsPy's tsindex client and mseedindex itself can share the file),
 * the `tsindex_summary` table those clients expect, and one side table of our own.
 */
import type Database from 'better-sqlite3';

/** The 20 tsindex columns in mseedindex order. */
export const TSINDEX_COLUMNS = [
  'network',
  'station',
  'location',
  'channel',
  'quality',
  'version',
  'starttime',
  'endtime',
  'samplerate',
  'filename',
  'byteoffset',
  'bytes',
  'hash',
  'timeindex',
  'timespans',
  'timerates',
  'format',
  'filemodtime',
  'updated',
  'scanned',
] as const;

/** Same text as mseedindex's SyncSQLite (with IF NOT EXISTS, which SQLite drops from the stored sql). */
export const TSINDEX_DDL =
  'CREATE TABLE IF NOT EXISTS tsindex (network TEXT,station TEXT,location TEXT,channel TEXT,quality TEXT,' +
  'version INTEGER,starttime TEXT,endtime TEXT,samplerate REAL,filename TEXT,byteoffset INTEGER,bytes INTEGER,' +
  'hash TEXT,timeindex TEXT,timespans TEXT,timerates TEXT,format TEXT,filemodtime TEXT,updated TEXT,scanned TEXT)';

export const TSINDEX_INDEX_DDL = [
  'CREATE INDEX IF NOT EXISTS tsindex_nslcse_idx ON tsindex (network,station,location,channel,starttime,endtime)',
  'CREATE INDEX IF NOT EXISTS tsindex_filename_idx ON tsindex (filename)',
  'CREATE INDEX IF NOT EXISTS tsindex_updated_idx ON tsindex (updated)',
];

/**
 * The summary statement used by mseedindex's fetchIndexInfo.py, PFD and ObsPy. We run it over
 * zero rows only to get exactly their column names and declared types (4 TEXT + 3 untyped).
 */
export const SUMMARY_DDL =
  'CREATE TABLE tsindex_summary AS SELECT network,station,location,channel, ' +
  "min(starttime) AS earliest, max(endtime) AS latest, datetime('now') AS updt " +
  'FROM tsindex GROUP BY 1,2,3,4';

/** Our bookkeeping for incremental runs (mseedindex has none): size+mtime of each scanned file. */
export const FILES_DDL =
  'CREATE TABLE IF NOT EXISTS geonode_files (filename TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, scanned TEXT, status TEXT)';

/** Create tsindex, its indexes and the side table if missing (idempotent). */
export function ensureSchema(db: Database.Database): void {
  db.exec(TSINDEX_DDL);
  for (const ddl of TSINDEX_INDEX_DDL) db.exec(ddl);
  db.exec(FILES_DDL);
}

// Variable-precision v3 time strings do not sort lexically ("…:00" < "…:00.000000" though equal,
// "…:00.5" vs "…:00.500000"), so min/max run over a 9-digit normal form, mapped back to the
// mseedindex 3 form (no fraction when zero, 6 digits when whole microseconds, else 9).
const norm = (col: string) =>
  `(CASE WHEN length(${col}) = 19 THEN ${col} || '.000000000' WHEN length(${col}) < 29 THEN substr(${col} || '000000000', 1, 29) ELSE ${col} END)`;
const denorm = (expr: string) =>
  `(CASE WHEN substr(${expr}, 21) = '000000000' THEN substr(${expr}, 1, 19) WHEN substr(${expr}, 27) = '000' THEN substr(${expr}, 1, 26) ELSE ${expr} END)`;

/**
 * Rebuild tsindex_summary (stale otherwise): same 7 columns/types as SUMMARY_DDL, but earliest /
 * latest are the true min/max times, not lexical ones. One short transaction.
 */
export function rebuildSummary(db: Database.Database): void {
  const fill =
    `INSERT INTO tsindex_summary SELECT network,station,location,channel, ` +
    `${denorm(`min(${norm('starttime')})`)}, ${denorm(`max(${norm('endtime')})`)}, datetime('now') ` +
    `FROM tsindex GROUP BY 1,2,3,4`;
  db.transaction(() => {
    db.exec('DROP TABLE IF EXISTS tsindex_summary');
    db.exec(SUMMARY_DDL.replace('FROM tsindex GROUP BY', 'FROM tsindex WHERE 0 GROUP BY'));
    db.exec(fill);
  }).immediate();
}
