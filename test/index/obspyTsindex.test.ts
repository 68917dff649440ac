/**
 * Can ObsPy's `obspy.clients.filesystem.tsindex.Client` read our index?
 *
 * We have no Python ObsPy here, so this test runs the SQL that ObsPy's TSIndexDatabaseHandler
 * issues (`_resolve_request` through the summary table, then `_fetch_index_rows`), copied
 * verbatim in shape from obspy/clients/filesystem/tsindex.py, against two databases:
 *   - the one EarthScope's mseedindex wrote for the three shared files (independent truth), and
 *   - the one our indexer writes for the same files.
 * Both must return the same rows for the same requests, and every row must point at bytes
 * whose MD5 is the row's hash (what ObsPy's extractor reads).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describeShared, sharedPath } from '../helpers/sharedData';
import { openIndexDb } from '../../src/index/db';
import { indexArchive } from '../../src/index/indexer';
import { parseIsoToNs } from '../../src/formats/time';

type Req = [string, string, string, string, string, string];

/** ObsPy `_clean_query_rows` + `_resolve_request` + `_fetch_index_rows`, in SQL form. */
function obspyFetchIndexRows(db: Database.Database, requests: Req[]): Record<string, unknown>[] {
  const table = 'request_' + crypto.randomBytes(8).toString('hex');
  db.exec(`CREATE TEMPORARY TABLE ${table}_orig (network TEXT, station TEXT, location TEXT, channel TEXT, starttime TEXT, endtime TEXT)`);
  const ins = db.prepare(`INSERT INTO ${table}_orig VALUES (?,?,?,?,?,?)`);
  for (const r of requests) ins.run(...r.map((v, i) => (i === 2 && v === '--' ? '' : v)));
  db.exec(`CREATE TEMPORARY TABLE ${table} (network TEXT, station TEXT, location TEXT, channel TEXT, starttime TEXT, endtime TEXT)`);
  db.exec(
    `INSERT INTO ${table} (network, station, location, channel, starttime, endtime) ` +
      `SELECT s.network, s.station, s.location, s.channel,` +
      `CASE WHEN r.starttime='*' THEN s.earliest ELSE r.starttime END,` +
      `CASE WHEN r.endtime='*' THEN s.latest ELSE r.endtime END ` +
      `FROM tsindex_summary s, ${table}_orig r WHERE ` +
      `  (r.starttime='*' OR r.starttime <= s.latest) ` +
      `  AND (r.endtime='*' OR r.endtime >= s.earliest) ` +
      `  AND (r.network='*' OR s.network GLOB r.network) ` +
      `  AND (r.station='*' OR s.station GLOB r.station) ` +
      `  AND (r.location='*' OR s.location GLOB r.location) ` +
      `  AND (r.channel='*' OR s.channel GLOB r.channel) `,
  );
  const rows = db
    .prepare(
      `SELECT DISTINCT ts.network,ts.station,ts.location,ts.channel,ts.quality,ts.starttime,ts.endtime,` +
        `ts.samplerate,ts.filename,ts.byteoffset,ts.bytes,ts.hash, ts.timeindex,ts.timespans,ts.timerates,ts.format,` +
        `ts.filemodtime,ts.updated,ts.scanned,r.starttime AS requeststart, r.endtime AS requestend ` +
        `FROM tsindex ts, ${table} r WHERE ts.network = r.network AND ts.station = r.station ` +
        `AND ts.location = r.location AND ts.channel = r.channel ` +
        `AND ts.starttime <= r.endtime AND ts.endtime >= r.starttime ` +
        `ORDER BY ts.network, ts.station, ts.location, ts.channel, ts.starttime, ts.endtime`,
    )
    .all() as Record<string, unknown>[];
  db.exec(`DROP TABLE ${table}; DROP TABLE ${table}_orig`);
  return rows;
}

/** The columns whose meaning is defined by the data, not by when/where the scan ran. */
const DATA_COLUMNS = ['network', 'station', 'location', 'channel', 'starttime', 'endtime', 'samplerate', 'filename', 'byteoffset', 'bytes', 'hash', 'timeindex', 'timespans', 'timerates', 'format'];

/**
 * mseedindex 3 writes no fraction for whole seconds (`…:00`) where the older mseedindex that made
 * the shared file wrote `…:00.000000`; compare those two columns as instants, the rest verbatim.
 */
function pick(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    DATA_COLUMNS.map((c) => [c, c === 'starttime' || c === 'endtime' ? parseIsoToNs(String(row[c])) : row[c]]),
  );
}

describeShared('ObsPy tsindex client SQL against our index', () => {
  const dataDir = sharedPath('tsindex', 'tsindex_data');
  let ours: Database.Database;
  let theirs: Database.Database;
  let tmp: string;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-obspy-'));
    // Our indexer writes into a temp DB; the data files are only read.
    const db = openIndexDb(path.join(tmp, 'ours.sqlite'));
    // Only the three data files (the folder also holds mseedindex's own sqlite file).
    const summary = await indexArchive(db, [path.join(dataDir, 'IU'), path.join(dataDir, 'CU')], { relativeTo: dataDir });
    expect(summary.errors).toEqual([]);
    db.close();
    ours = new Database(path.join(tmp, 'ours.sqlite'), { readonly: true });
    // mseedindex's file has no summary table: build ObsPy's temporary one on a copy.
    fs.copyFileSync(path.join(dataDir, 'timeseries.sqlite'), path.join(tmp, 'theirs.sqlite'));
    theirs = new Database(path.join(tmp, 'theirs.sqlite'));
    theirs.exec(
      `CREATE TABLE tsindex_summary AS SELECT network,station,location,channel, min(starttime) AS earliest, max(endtime) AS latest, datetime('now') AS updt FROM tsindex GROUP BY 1,2,3,4`,
    );
  });

  afterAll(() => {
    ours?.close();
    theirs?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const requests: Array<[string, Req[]]> = [
    ['everything', [['*', '*', '*', '*', '*', '*']]],
    ['IU BHZ, any time', [['IU', '*', '*', 'BHZ', '*', '*']]],
    ['one second of ANMO (ObsPy docstring example)', [['IU', '*', '*', 'BHZ', '2018-01-01T00:00:00.019500', '2018-01-01T00:00:01.019500']]],
    ['window after all data', [['*', '*', '*', '*', '2018-01-01T00:02:00', '2018-01-01T00:03:00']]],
    ['exact-second bounds', [['CU', 'TGUH', '00', 'BHZ', '2018-01-01T00:01:00', '2018-01-01T00:02:00']]],
    ['wildcard station', [['?U', 'C*', '*', 'BH?', '2018-01-01T00:00:30', '2018-01-01T00:00:31']]],
  ];

  test.each(requests)('%s: same rows as mseedindex', (_name, reqs) => {
    const a = obspyFetchIndexRows(ours, reqs).map(pick);
    const b = obspyFetchIndexRows(theirs, reqs).map(pick);
    expect(a).toEqual(b);
  });

  test('the summary table has the 7 columns ObsPy maps', () => {
    const cols = (ours.prepare('PRAGMA table_info(tsindex_summary)').all() as { name: string }[]).map((c) => c.name);
    expect(cols).toEqual(['network', 'station', 'location', 'channel', 'earliest', 'latest', 'updt']);
  });

  test('every row points at bytes whose MD5 is its hash (what the extractor reads)', () => {
    const rows = obspyFetchIndexRows(ours, [['*', '*', '*', '*', '*', '*']]);
    expect(rows.length).toBe(3);
    for (const r of rows) {
      const fd = fs.openSync(path.join(dataDir, String(r.filename)), 'r');
      const buf = Buffer.alloc(Number(r.bytes));
      fs.readSync(fd, buf, 0, buf.length, Number(r.byteoffset));
      fs.closeSync(fd);
      expect(crypto.createHash('md5').update(buf).digest('hex')).toBe(r.hash);
    }
  });
});
