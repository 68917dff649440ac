import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { encodeRecords, iterateFileRecords } from '../../src/formats/mseed';
import { parseIsoToNs } from '../../src/formats/time';
import { openIndexDb } from '../../src/index/db';
import { indexArchive } from '../../src/index/indexer';
import { rebuildSummary, TSINDEX_COLUMNS } from '../../src/index/schema';
import type { TsIndexRow } from '../../src/index/types';
import { describeShared, sharedPath } from '../helpers/sharedData';

const tmpDirs: string[] = [];
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-indexer-'));
  tmpDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

function rows(db: Database.Database, where = '1'): TsIndexRow[] {
  return db.prepare(`SELECT * FROM tsindex WHERE ${where} ORDER BY filename, byteoffset`).all() as TsIndexRow[];
}

/** 1 Hz Steim-2 series of n samples starting at startNs, as v2 records. */
function series(station: string, startNs: bigint, n: number, opts: { quality?: string; recordLength?: number } = {}): Buffer {
  const samples = Int32Array.from({ length: n }, (_, i) => Math.round(1000 * Math.sin(i / 10)));
  return Buffer.concat(
    encodeRecords({ network: 'XX', station, location: '00', channel: 'LHZ', quality: opts.quality ?? 'D', startNs, sampleRate: 1 }, samples, {
      formatVersion: 2,
      encoding: 'steim2',
      recordLength: opts.recordLength ?? 512,
    }),
  );
}

const T2020 = 1577836800n * 1_000_000_000n; // 2020-01-01T00:00:00

describeShared('indexer against mseedindex output (tsindex_data/timeseries.sqlite)', () => {
  const dataDir = sharedPath('tsindex', 'tsindex_data');
  const truthPath = path.join(dataDir, 'timeseries.sqlite');
  let truth: Database.Database;
  let db: Database.Database;

  beforeAll(async () => {
    truth = new Database(truthPath, { readonly: true, fileMustExist: true });
    db = openIndexDb(path.join(tmpDir(), 'idx.sqlite'));
    const summary = await indexArchive(db, [path.join(dataDir, 'IU'), path.join(dataDir, 'CU')], { relativeTo: dataDir, workers: 0 });
    expect(summary.errors).toEqual([]);
    expect(summary.filesScanned).toBe(3);
  });
  afterAll(() => {
    truth.close();
    db.close();
  });

  test('tsindex DDL equals mseedindex: columns, types, order, indexes', () => {
    const cols = (d: Database.Database) => d.prepare('PRAGMA table_info(tsindex)').all();
    expect(cols(db)).toEqual(cols(truth));
    expect((cols(db) as { name: string }[]).map((c) => c.name)).toEqual([...TSINDEX_COLUMNS]);
    const indexes = (d: Database.Database) =>
      (d.prepare("SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='tsindex' ORDER BY name").all() as {
        name: string;
        sql: string;
      }[]).map((i) => ({ ...i, cols: d.prepare(`PRAGMA index_info(${i.name})`).all() }));
    expect(indexes(db)).toEqual(indexes(truth));
    const tableSql = (d: Database.Database) => d.prepare("SELECT sql FROM sqlite_master WHERE name='tsindex'").pluck().get();
    expect(tableSql(db)).toBe(tableSql(truth));
  });

  test('rows equal mseedindex column by column', () => {
    const ours = rows(db);
    const theirs = rows(truth);
    expect(ours.map((r) => r.filename)).toEqual(theirs.map((r) => r.filename));
    for (let i = 0; i < theirs.length; i++) {
      const o = ours[i];
      const t = theirs[i];
      for (const c of ['network', 'station', 'location', 'channel', 'samplerate', 'filename', 'byteoffset', 'bytes', 'hash', 'timeindex', 'timespans', 'timerates', 'format'] as const) {
        expect([c, o[c]]).toEqual([c, t[c]]);
      }
      // Same instants; the string form differs only by design (v3: no fraction when zero).
      expect(parseIsoToNs(o.starttime)).toBe(parseIsoToNs(t.starttime));
      expect(parseIsoToNs(o.endtime)).toBe(parseIsoToNs(t.endtime));
      // That old mseedindex (v2 era) wrote quality 'M', version NULL; mseedindex 3 maps M -> version 4.
      expect(t.quality).toBe('M');
      expect(t.version).toBeNull();
      expect(o.quality).toBe('M');
      expect(o.version).toBe(4);
      expect(o.filemodtime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
      expect(o.updated).toBe(o.filemodtime);
      expect(o.scanned).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    }
  });

  test("with timeStyle 'micro' the time strings are byte-identical to that mseedindex", async () => {
    const db2 = openIndexDb(path.join(tmpDir(), 'idx.sqlite'));
    await indexArchive(db2, [dataDir], { relativeTo: dataDir, workers: 0, timeStyle: 'micro' });
    const ours = rows(db2);
    const theirs = rows(truth);
    expect(ours.map((r) => [r.starttime, r.endtime])).toEqual(theirs.map((r) => [r.starttime, r.endtime]));
    db2.close();
  });

  test('tsindex_summary: the 7-column schema of the standard CREATE TABLE AS, true earliest/latest', () => {
    const info = db.prepare('PRAGMA table_info(tsindex_summary)').all() as { name: string; type: string }[];
    expect(info.map((c) => [c.name, c.type])).toEqual([
      ['network', 'TEXT'],
      ['station', 'TEXT'],
      ['location', 'TEXT'],
      ['channel', 'TEXT'],
      ['earliest', ''],
      ['latest', ''],
      ['updt', ''],
    ]);
    const s = db.prepare("SELECT * FROM tsindex_summary WHERE station='TGUH'").get() as Record<string, string>;
    expect(s.earliest).toBe('2018-01-01T00:00:00');
    expect(s.latest).toBe('2018-01-01T00:01:00');
  });
});

describeShared('indexing all of shared/data/mseed', () => {
  const dir = sharedPath('mseed');
  let db: Database.Database;
  let summary: Awaited<ReturnType<typeof indexArchive>>;

  beforeAll(async () => {
    db = openIndexDb(path.join(tmpDir(), 'idx.sqlite'));
    summary = await indexArchive(db, [dir], { workers: 0 });
  });
  afterAll(() => db.close());

  test('record and byte totals match the reader; every row has a hash', () => {
    let records = 0;
    let bytes = 0;
    const files = fs.readdirSync(dir).filter((f) => !f.startsWith('.'));
    for (const f of files) {
      const p = path.join(dir, f);
      bytes += fs.statSync(p).size;
      for (const r of iterateFileRecords(p)) if (r.ok) records++;
    }
    expect(summary.records).toBe(records);
    expect(summary.bytes).toBe(bytes);
    expect(summary.filesScanned).toBe(files.length);
    const all = rows(db);
    expect(summary.sections).toBe(all.length);
    for (const r of all) expect(r.hash).toMatch(/^[0-9a-f]{32}$/);
    // Row byte ranges of a file never overlap and stay inside the file.
    const sumBytes = db.prepare('SELECT sum(bytes) FROM tsindex').pluck().get() as number;
    expect(sumBytes).toBeLessThanOrEqual(bytes);
  });

  test('mixed lengths / mixed order: timeindex NULL or latest=>0 as the rules say', () => {
    for (const name of ['libmseed__testdata-oneseries-mixedlengths-mixedorder.mseed2', 'libmseed__testdata-oneseries-mixedlengths-mixedorder.mseed3']) {
      const rs = rows(db, `filename = '${path.join(dir, name)}'`);
      expect(rs.length).toBeGreaterThan(0);
      for (const r of rs) {
        const recs = [...iterateFileRecords(path.join(dir, name))].flatMap((x) => (x.ok ? [x.header] : [])).filter((h) => h.offset >= r.byteoffset && h.offset < r.byteoffset + r.bytes);
        const earliest = recs.reduce((m, h) => (h.startNs < m ? h.startNs : m), recs[0].startNs);
        const ordered = recs.every((h, i) => i === 0 || h.startNs > recs[i - 1].startNs);
        if (recs[0].startNs !== earliest) expect(r.timeindex).toBeNull();
        else expect(r.timeindex).toMatch(ordered ? /latest=>1$/ : /latest=>0$/);
      }
      const anyDisorder = rs.some((r) => r.timeindex === null || r.timeindex.endsWith('latest=>0'));
      expect(anyDisorder).toBe(true);
    }
  });

  test('3-channel file: one row per run of adjacent same-channel records', () => {
    for (const name of ['libmseed__testdata-3channel-signal.mseed2', 'libmseed__testdata-3channel-signal.mseed3']) {
      const p = path.join(dir, name);
      const headers = [...iterateFileRecords(p)].flatMap((x) => (x.ok ? [x.header] : []));
      let runs = 0;
      headers.forEach((h, i) => {
        const prev = headers[i - 1];
        if (!prev || prev.channel !== h.channel || prev.offset + prev.recordLength !== h.offset) runs++;
      });
      const rs = rows(db, `filename = '${p}'`);
      expect(rs).toHaveLength(runs);
      expect(new Set(rs.map((r) => r.channel)).size).toBe(3);
      expect(rs.reduce((a, r) => a + r.bytes, 0)).toBe(fs.statSync(p).size);
    }
  });
});

describe('incremental runs, errors, pruning', () => {
  test('unchanged skipped, changed replaced (updated kept when hash same), removed pruned, summary rebuilt', async () => {
    const root = tmpDir();
    const archive = path.join(root, 'XX', 'A');
    fs.mkdirSync(archive, { recursive: true });
    const fa = path.join(archive, 'XX.A.00.LHZ.D.2020.001');
    const fb = path.join(archive, 'XX.B.00.LHZ.D.2020.001');
    fs.writeFileSync(fa, series('A', T2020, 3000));
    fs.writeFileSync(fb, series('B', T2020 + 500_000_000n, 1000));
    fs.writeFileSync(path.join(archive, '.hidden'), 'ignored');
    const old = new Date('2020-01-02T03:04:05Z');
    fs.utimesSync(fa, old, old);
    fs.utimesSync(fb, old, old);

    const dbPath = path.join(root, 'idx.sqlite');
    const db = openIndexDb(dbPath);
    const first = await indexArchive(db, [root], { workers: 0 });
    expect(first.errors).toEqual([]);
    expect(first.filesScanned).toBe(2);
    const rowsA1 = rows(db, `station = 'A'`);
    expect(rowsA1).toHaveLength(1);
    expect(rowsA1[0].filemodtime).toBe('2020-01-02T03:04:05');
    expect(rowsA1[0].updated).toBe('2020-01-02T03:04:05');
    expect(rowsA1[0].starttime).toBe('2020-01-01T00:00:00');

    // Second run: nothing changed.
    const second = await indexArchive(db, [root], { workers: 0 });
    expect(second.filesScanned).toBe(0);
    expect(second.filesSkipped).toBe(2);

    // A: touched only (same bytes) -> rescanned, `updated` kept. B: appended data -> new hash.
    const newer = new Date('2021-05-06T07:08:09Z');
    fs.utimesSync(fa, newer, newer);
    fs.appendFileSync(fb, series('B', T2020 + 2000_500_000_000n, 100));
    fs.utimesSync(fb, newer, newer);
    const third = await indexArchive(db, [root], { workers: 0 });
    expect(third.filesScanned).toBe(2);
    const a = rows(db, `station = 'A'`);
    expect(a).toHaveLength(1);
    expect(a[0].filemodtime).toBe('2021-05-06T07:08:09');
    expect(a[0].updated).toBe('2020-01-02T03:04:05');
    const b = rows(db, `station = 'B'`);
    expect(b).toHaveLength(1); // appended records are adjacent and same NSLC: one section
    expect(b[0].updated).toBe('2021-05-06T07:08:09');
    expect(b[0].timespans!.split('],[')).toHaveLength(2); // the gap shows in timespans

    // Summary: latest of B must be the true maximum even though A ends on a whole second.
    const sumB = db.prepare("SELECT earliest, latest FROM tsindex_summary WHERE station='B'").get() as { earliest: string; latest: string };
    expect(sumB).toEqual({ earliest: '2020-01-01T00:00:00.500000', latest: b[0].endtime });

    // Remove A -> its rows are pruned.
    fs.unlinkSync(fa);
    const fourth = await indexArchive(db, [root], { workers: 0 });
    expect(fourth.filesRemoved).toBe(1);
    expect(rows(db, `station = 'A'`)).toHaveLength(0);
    expect(db.prepare("SELECT count(*) FROM tsindex_summary WHERE station='A'").pluck().get()).toBe(0);
    db.close();
  });

  test('summary earliest/latest are true min/max, also over rows of mixed string precision', async () => {
    const root = tmpDir();
    fs.writeFileSync(path.join(root, 'a'), series('C', T2020, 10)); // 00:00:00 .. 00:00:09 (no fraction)
    fs.writeFileSync(path.join(root, 'b'), series('C', T2020 - 1_000n, 5)); // 23:59:59.999999 .. 00:00:03.999999
    const db = openIndexDb(path.join(root, 'idx.sqlite'));
    await indexArchive(db, [root], { workers: 0 });
    const get = () => db.prepare("SELECT earliest, latest FROM tsindex_summary WHERE station='C'").get();
    expect(get()).toEqual({ earliest: '2019-12-31T23:59:59.999999', latest: '2020-01-01T00:00:09' });
    // A row written by an older mseedindex (always 6 digits) for the same channel, ending later.
    db.prepare(
      "INSERT INTO tsindex (network,station,location,channel,starttime,endtime,filename) VALUES ('XX','C','00','LHZ','2020-01-01T00:00:09.000000','2020-01-01T00:00:09.500000','old')",
    ).run();
    rebuildSummary(db);
    expect(get()).toEqual({ earliest: '2019-12-31T23:59:59.999999', latest: '2020-01-01T00:00:09.500000' });
    db.close();
  });

  test('corrupt records and non-miniSEED files are reported and skipped, the rest indexed', async () => {
    const root = tmpDir();
    const good = series('G', T2020, 2000);
    const recLen = 512;
    const bad = Buffer.from(good);
    bad.fill(0x41, 2 * recLen, 3 * recLen); // third record destroyed
    fs.writeFileSync(path.join(root, 'corrupt.mseed'), bad);
    fs.writeFileSync(path.join(root, 'README.txt'), 'this is not miniSEED\n'.repeat(100));
    fs.writeFileSync(path.join(root, 'empty'), '');
    const db = openIndexDb(path.join(root, 'idx.sqlite'));
    const s = await indexArchive(db, [root], { workers: 0 });
    const byFile = (f: string) => s.errors.filter((e) => e.file === path.join(root, f));
    // Files without any miniSEED record are listed apart from damaged miniSEED files.
    expect(byFile('README.txt')).toHaveLength(0);
    expect(s.notMiniseed.map((e) => path.basename(e.file)).sort()).toEqual(['README.txt', 'empty']);
    expect(s.notMiniseed.find((e) => e.file.endsWith('README.txt'))!.reason).toMatch(/not miniSEED/);
    // The summary counts what was indexed: the one miniSEED file and its bytes.
    expect([s.filesScanned, s.bytes]).toEqual([1, bad.length]);
    expect(byFile('corrupt.mseed').length).toBeGreaterThanOrEqual(1);
    expect(byFile('corrupt.mseed')[0].offset).toBe(2 * recLen);
    const rs = rows(db);
    expect(rs.map((r) => [r.byteoffset, r.bytes])).toEqual([
      [0, 2 * recLen],
      [3 * recLen, good.length - 3 * recLen],
    ]);
    // Second run: bad files are unchanged, so skipped quietly; the two non-miniSEED files are
    // counted as such, not as unchanged miniSEED files.
    const s2 = await indexArchive(db, [root], { workers: 0 });
    expect([s2.filesSkipped, s2.notMiniseedKnown]).toEqual([1, 2]);
    expect(s2.errors).toEqual([]);
    expect(s2.notMiniseed).toEqual([]);
    db.close();
  });

  test('walk: any tree, files without extension, hidden entries skipped, symlink loops survived', async () => {
    const root = tmpDir();
    fs.mkdirSync(path.join(root, 'a', 'b'), { recursive: true });
    fs.mkdirSync(path.join(root, '.git'));
    fs.writeFileSync(path.join(root, 'a', 'b', 'XX.L.00.LHZ.D.2020.001'), series('L', T2020, 600));
    fs.writeFileSync(path.join(root, '.git', 'data'), series('H', T2020, 600));
    fs.symlinkSync(root, path.join(root, 'a', 'b', 'loop')); // directory loop
    fs.symlinkSync(path.join(root, 'missing'), path.join(root, 'dangling'));
    const db = openIndexDb(':memory:');
    const s = await indexArchive(db, [root], { workers: 0 });
    // the dangling link is named with its target (a moved target or an unmounted volume shows)
    expect(s.errors).toEqual([{ file: path.join(root, 'dangling'), offset: null, reason: `broken symbolic link → ${path.join(root, 'missing')}: ENOENT` }]);
    expect(s.filesScanned).toBe(1);
    expect(rows(db).map((r) => r.station)).toEqual(['L']);
    db.close();
  });

  test('a file reached by two names (symlink, hard link) is indexed once, under the name that is not a link; an earlier alias row goes', async () => {
    const root = tmpDir();
    fs.mkdirSync(path.join(root, 'links'));
    fs.mkdirSync(path.join(root, 'real'));
    const real = path.join(root, 'real', 'XX.A.00.LHZ.D.2020.001');
    fs.writeFileSync(real, series('A', T2020, 600));
    const db = openIndexDb(':memory:');
    // an index made before this rule, by the link alone
    fs.symlinkSync(real, path.join(root, 'links', 'alias'));
    await indexArchive(db, [path.join(root, 'links')], { workers: 0 });
    expect(rows(db).map((r) => r.filename)).toEqual([path.join(root, 'links', 'alias')]);
    fs.linkSync(real, path.join(root, 'real', 'hard')); // 'links' sorts first: the walk meets the link first
    const s = await indexArchive(db, [root], { workers: 0 });
    expect(rows(db).map((r) => r.filename)).toEqual([real]);
    expect(s.aliases.map((a) => [path.relative(root, a.file), a.reason])).toEqual([
      ['links/alias', `the same file as ${real}: indexed once, under that name`],
      ['real/hard', `the same file as ${real}: indexed once, under that name`],
    ]);
    db.close();
  });

  test('prune: a file below a directory that cannot be read, or behind a broken link, keeps its rows; a deleted one goes', async () => {
    const root = tmpDir();
    fs.mkdirSync(path.join(root, 'locked'));
    fs.mkdirSync(path.join(root, 'store'));
    fs.writeFileSync(path.join(root, 'locked', 'x'), series('X', T2020, 600));
    fs.writeFileSync(path.join(root, 'store', 'y'), series('Y', T2020, 600));
    fs.symlinkSync(path.join(root, 'store', 'y'), path.join(root, 'ylink'));
    fs.writeFileSync(path.join(root, 'z'), series('Z', T2020, 600));
    const db = openIndexDb(':memory:');
    await indexArchive(db, [path.join(root, 'locked'), path.join(root, 'ylink'), path.join(root, 'z')], { workers: 0 });
    expect(rows(db).map((r) => r.station).sort()).toEqual(['X', 'Y', 'Z']);
    // The directory becomes unreadable (a failing readdir; root ignores permissions), the link's
    // target goes, z is deleted.
    const readdir = fs.promises.readdir;
    const spy = jest.spyOn(fs.promises, 'readdir').mockImplementation(((p: fs.PathLike, o: unknown) =>
      String(p) === path.join(root, 'locked') ? Promise.reject(Object.assign(new Error(`EACCES: permission denied, scandir '${String(p)}'`), { code: 'EACCES' })) : readdir(p, o as never)) as never);
    try {
      fs.rmSync(path.join(root, 'store'), { recursive: true }); // as if its volume were unmounted
      fs.rmSync(path.join(root, 'z'));
      const s = await indexArchive(db, [root], { workers: 0 });
      expect(s.filesRemoved).toBe(1);
      expect(rows(db).map((r) => r.station).sort()).toEqual(['X', 'Y']);
      expect(s.errors.map((e) => e.reason)).toEqual(expect.arrayContaining([expect.stringMatching(/^cannot read directory: EACCES/), expect.stringMatching(/^broken symbolic link → .*store\/y: ENOENT$/)]));
    } finally {
      spy.mockRestore();
    }
    db.close();
  });

  test('a run that fails halfway keeps what it committed; the next run completes the rest', async () => {
    const root = tmpDir();
    for (let i = 0; i < 10; i++) fs.writeFileSync(path.join(root, `f${i}`), series(`P${i}`, T2020, 500));
    const db = openIndexDb(path.join(tmpDir(), 'idx.sqlite'));
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    await expect(
      indexArchive(db, [root], {
        workers: 0,
        onProgress: (p) => {
          if (p.filesDone >= 3) throw new Error('consumer crashed');
          Atomics.wait(sleeper, 0, 0, 110); // outlast the progress throttle so every file reports
        },
      }),
    ).rejects.toThrow('consumer crashed');
    const kept = db.prepare('SELECT count(DISTINCT filename) FROM tsindex').pluck().get() as number;
    expect(kept).toBe(3);
    const again = await indexArchive(db, [root], { workers: 0 });
    expect(again.filesSkipped).toBe(kept);
    expect(again.filesScanned).toBe(10 - kept);
    expect(db.prepare('SELECT count(DISTINCT filename) FROM tsindex').pluck().get()).toBe(10);
    db.close();
  });

  test('a reader holding a read transaction does not block indexing (WAL)', async () => {
    const root = tmpDir();
    fs.writeFileSync(path.join(root, 'f1'), series('R', T2020, 500));
    const dbPath = path.join(tmpDir(), 'idx.sqlite');
    const db = openIndexDb(dbPath);
    await indexArchive(db, [root], { workers: 0 });
    const reader = openIndexDb(dbPath, { readonly: true });
    const it = reader.prepare('SELECT * FROM tsindex').iterate();
    expect(it.next().done).toBe(false); // read transaction open on the old snapshot
    fs.writeFileSync(path.join(root, 'f2'), series('R2', T2020, 500));
    const s = await indexArchive(db, [root], { workers: 0 });
    expect(s.filesScanned).toBe(1);
    it.return?.(undefined);
    expect(reader.prepare('SELECT count(*) FROM tsindex').pluck().get()).toBe(2);
    reader.close();
    db.close();
  });

  test('progress is reported, throttled, and ends complete', async () => {
    const root = tmpDir();
    for (let i = 0; i < 30; i++) fs.writeFileSync(path.join(root, `f${i}`), series(`S${i}`, T2020, 500));
    const db = openIndexDb(path.join(root, 'idx.sqlite'));
    const seen: { filesDone: number; filesTotal: number; bytesDone: number; bytesTotal: number }[] = [];
    await indexArchive(db, [root], { workers: 0, onProgress: (p) => seen.push(p) });
    const last = seen[seen.length - 1];
    expect(last.filesDone).toBe(30);
    expect(last.filesTotal).toBe(30);
    expect(last.bytesDone).toBe(last.bytesTotal);
    expect(seen.length).toBeLessThan(30);
    db.close();
  });
});
