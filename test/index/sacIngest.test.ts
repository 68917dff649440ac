/**
 * SAC ingestion end to end on every file of ../shared/data/sac (both byte orders, v6, NUL-
 * terminated strings, integer and float samples): dataselect serves exactly the SAC samples,
 * station lists the synthesized channel, events are seeded where the header has one, re-ingest
 * changes nothing, a broken file is reported while the others load.
 *
 * Headers of the shared files (read with formats/sac.ts): events in II.TLY.BHZ.SAC (Tohoku,
 * evdp 24400 m, mag 8.9), dis.G.SCZ.__.BHE_short (evdp 10000 m, mag 6.03) and seism.sac (kevnm
 * K8108838, no depth/mag); null_terminated.sac has o but no evla/evlo (no event). test.sac and
 * test.sac.swap are the same data in two byte orders and have no coordinates.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import request from 'supertest';
import { createApp } from '../../src/app';
import { main, type CliIo } from '../../src/cli';
import { defaultConfig } from '../../src/config';
import { decodeRecord, iterateRecords } from '../../src/formats/mseed';
import { newSacHeader, readSac, sacIsIntegral, writeSac, type SacFile } from '../../src/formats/sac';
import { nsToIso, utcToNs } from '../../src/formats/time';
import type { Channel, Inventory } from '../../src/formats/stationxml';
import { loadInventory, loadStationXml } from '../../src/index/metadata';
import { openIndexDb } from '../../src/index/db';
import { ingestSac, nominalSampleRate, type SacIngestSummary } from '../../src/index/sacIngest';
import { describeShared, sharedFiles, sharedPath } from '../helpers/sharedData';

const binary = ((res: NodeJS.ReadableStream, cb: (err: Error | null, body: Buffer) => void): void => {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
}) as unknown as Parameters<request.Test['parse']>[0];

/** All samples of a miniSEED body, in record order, plus the encodings seen. */
function decodeAll(body: Buffer): { samples: number[]; encodings: Set<number>; records: number } {
  const samples: number[] = [];
  const encodings = new Set<number>();
  let records = 0;
  for (const r of iterateRecords(body)) {
    if (!r.ok) throw r.error;
    records++;
    encodings.add(r.header.encoding);
    const s = decodeRecord(body, r.header);
    if (typeof s === 'string') throw new Error('text record');
    samples.push(...Array.from(s));
  }
  return { samples, encodings, records };
}

const iso = (ns: bigint) => nsToIso(ns, 6, false);
const locParam = (l: string) => (l === '' ? '--' : l);

/** Rows of a table as JSON strings, sorted (for before/after comparisons without ids). */
function rows(db: Database.Database, sql: string): string[] {
  return (db.prepare(sql).safeIntegers(true).all() as object[]).map((r) => JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))).sort();
}

function archiveState(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = `${fs.statSync(p, { bigint: true }).mtimeNs}:${fs.readFileSync(p).toString('base64')}`;
    }
  };
  walk(dir);
  return out;
}

test('nominalSampleRate snaps float32 deltas, keeps odd rates', () => {
  expect(nominalSampleRate(Math.fround(0.05000016))).toBe(20); // II.TLY: 19.99994 Hz
  expect(nominalSampleRate(Math.fround(0.01))).toBe(100);
  expect(nominalSampleRate(Math.fround(10))).toBe(0.1);
  expect(nominalSampleRate(Math.fround(0.4))).toBe(2.5);
  expect(nominalSampleRate(1)).toBe(1);
  expect(nominalSampleRate(0.0123)).toBe(81.301); // 81.30081 Hz: 3 decimals are within 1e-4
  expect(nominalSampleRate(810.5)).toBe(1 / 810.5); // no nominal value within 1e-4: kept
});

describeShared('SAC ingestion of ../shared/data/sac', () => {
  let dir: string;
  let archive: string;
  let db: Database.Database;
  let app: ReturnType<typeof createApp>;
  let first: SacIngestSummary;
  let truncated: string;
  const files = sharedFiles('sac');
  const sacs = new Map<string, SacFile>(files.map((f) => [f, readSac(fs.readFileSync(f))]));

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-sac-'));
    archive = path.join(dir, 'archive');
    truncated = path.join(dir, 'broken', 'truncated.sac');
    fs.mkdirSync(path.dirname(truncated));
    const whole = fs.readFileSync(sharedPath('sac', 'II.TLY.BHZ.SAC'));
    fs.writeFileSync(truncated, whole.subarray(0, 632 + 400));
    db = openIndexDb(path.join(dir, 'idx.sqlite'));
    first = await ingestSac(db, [sharedPath('sac'), truncated], { archiveDir: archive });
    app = createApp({ db, config: { ...defaultConfig({}), dataRoot: '/' } });
  });
  afterAll(() => {
    db?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('summary: every shared file ingested, the truncated one reported', () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
    expect(first.files).toBe(files.length + 1);
    expect(first.errors).toEqual([{ sacFile: truncated, reason: expect.stringMatching(/^truncated SAC file/) }]);
    expect(new Set(first.written.map((w) => w.sacFile))).toEqual(new Set(files));
    // test.sac.swap holds the records of test.sac: stored once.
    const swap = first.written.filter((w) => w.sacFile.endsWith('test.sac.swap'));
    expect(swap.map((w) => w.status)).toEqual(['duplicate']);
    expect(first.written.filter((w) => w.status === 'written')).toHaveLength(files.length - 1);
    expect(first.index?.errors).toEqual([]);
    for (const w of first.written) expect(path.relative(archive, w.mseedFile)).toMatch(/^\d{4}\/\w+\/\w+\/\w+\.D\/[\w-]+\.[\w-]+\.[\w-]*\.\w+\.D\.\d{4}\.\d{3}\.sac-[0-9a-f]{8}\.[0-9a-f]{8}$/);
    expect(first.notes.map((n) => path.basename(n.sacFile)).sort()).toEqual(['test.sac', 'test.sac.swap']);
  });

  test('dataselect returns exactly the SAC samples (Steim-2 for integers, float32 otherwise)', async () => {
    for (const [file, sac] of sacs) {
      const net = sac.network || 'XX';
      const start = sac.startNs!;
      const end = start + BigInt(Math.ceil((sac.npts / nominalSampleRate(sac.delta)) * 1e9)) + 1_000_000_000n;
      const url = `/fdsnws/dataselect/1/query?network=${net}&station=${sac.station}&location=${locParam(sac.location)}&channel=${sac.channel}&starttime=${iso(start - 1_000_000_000n)}&endtime=${iso(end)}`;
      const r = await request(app).get(url).buffer(true).parse(binary);
      expect([path.basename(file), r.status]).toEqual([path.basename(file), 200]);
      const d = decodeAll(r.body as Buffer);
      const integral = sacIsIntegral(sac.data);
      expect([path.basename(file), [...d.encodings]]).toEqual([path.basename(file), [integral ? 11 : 4]]);
      // Exactly npts samples (no duplicate records), each equal to the SAC float32 value.
      expect(d.samples).toHaveLength(sac.npts);
      expect(Float32Array.from(d.samples)).toEqual(sac.data);
    }
  });

  test('record times: first sample at the SAC start, nominal rate in the index', () => {
    const tly = sacs.get(sharedPath('sac', 'II.TLY.BHZ.SAC'))!;
    const row = db.prepare("SELECT samplerate, starttime FROM tsindex WHERE network = 'II' AND station = 'TLY'").get() as { samplerate: number; starttime: string };
    expect(row.samplerate).toBe(20);
    expect(row.starttime.startsWith(nsToIso(tly.startNs!, 4, false).slice(0, 23))).toBe(true);
  });

  test('station: synthesized channel with the SAC coordinates, azimuth and dip = cmpinc − 90', async () => {
    for (const [file, sac] of sacs) {
      if (sac.stla === null) continue;
      const net = sac.network || 'XX';
      const r = await request(app).get(`/fdsnws/station/1/query?network=${net}&station=${sac.station}&location=${locParam(sac.location)}&channel=${sac.channel}&level=channel&format=text`);
      expect([path.basename(file), r.status]).toEqual([path.basename(file), 200]);
      const lines = r.text.trim().split('\n');
      expect(lines[0]).toMatch(/^#Network\|Station\|Location\|Channel\|Latitude\|Longitude\|Elevation\|Depth\|Azimuth\|Dip\|/);
      expect(lines).toHaveLength(2);
      const c = lines[1].split('|');
      expect(c.slice(0, 4)).toEqual([net, sac.station, sac.location, sac.channel]);
      expect(Number(c[4])).toBeCloseTo(sac.stla, 4);
      expect(Number(c[5])).toBeCloseTo(sac.stlo!, 4);
      expect(Number(c[6])).toBeCloseTo(sac.stel ?? 0, 3);
      expect(Number(c[7])).toBeCloseTo(sac.stdp ?? 0, 3);
      if (sac.cmpaz !== null) expect(Number(c[8])).toBeCloseTo(sac.cmpaz, 4);
      if (sac.cmpinc !== null) expect(Number(c[9])).toBeCloseTo(sac.cmpinc - 90, 4);
      expect(Number(c[14])).toBe(nominalSampleRate(sac.delta));
    }
    // II.TLY BHZ: cmpinc 0 → dip −90 (up); G.SCZ BHE: cmpaz 90, cmpinc 90 → dip 0.
    const tly = await request(app).get('/fdsnws/station/1/query?network=II&station=TLY&level=channel&format=text');
    expect(tly.text.trim().split('\n')[1].split('|').slice(8, 10).map(Number)).toEqual([0, -90]);
    const scz = await request(app).get('/fdsnws/station/1/query?network=G&station=SCZ&level=channel&format=text');
    expect(scz.text.trim().split('\n')[1].split('|').slice(8, 10).map(Number)).toEqual([90, 0]);
    // No coordinates in test.sac: no channel epoch made up at 0°, 0°.
    expect((await request(app).get('/fdsnws/station/1/query?network=XX&station=STA&level=channel')).status).toBe(204);
    // StationXML of a synthesized channel is well formed and carries the provenance.
    const xml = await request(app).get('/fdsnws/station/1/query?network=NZ&station=CRLZ&level=channel');
    expect(xml.status).toBe(200);
    expect(xml.text).toContain('Synthesized from SAC file CRLZ.HHZ.10.NZ.SAC');
  });

  test('events seeded from the headers that have one', async () => {
    expect(first.eventsSeeded).toBe(3);
    const r = await request(app).get('/fdsnws/event/1/query?format=text&orderby=time-asc');
    expect(r.status).toBe(200);
    const lines = r.text.trim().split('\n').slice(1).map((l) => l.split('|'));
    expect(lines).toHaveLength(3);
    const [seism, scz, tly] = lines;
    expect(seism[0]).toBe('K8108838');
    expect(seism[1]).toMatch(/^1981-03-29T10:38:14/);
    expect(scz[1]).toMatch(/^2004-01-03T08:09:02\.4/);
    expect(Number(scz[4])).toBeCloseTo(10, 3); // evdp 10000 (metres) → 10 km
    expect(Number(scz[10])).toBeCloseTo(6.03, 3);
    expect(tly[1]).toMatch(/^2011-03-11T05:46:23\.69/);
    expect(Number(tly[2])).toBeCloseTo(38.3215, 3);
    expect(Number(tly[3])).toBeCloseTo(142.3693, 3);
    expect(Number(tly[4])).toBeCloseTo(24.4, 3);
    expect(Number(tly[10])).toBeCloseTo(8.9, 3);
  });

  test('re-ingest is idempotent: same files (bytes and mtimes), same index, metadata and event rows', async () => {
    const before = {
      files: archiveState(archive),
      tsindex: rows(db, 'SELECT * FROM tsindex'),
      channels: rows(db, 'SELECT * FROM geonode_channels'),
      stations: rows(db, 'SELECT * FROM geonode_stations'),
      sources: rows(db, 'SELECT * FROM geonode_meta_sources'),
      events: rows(db, 'SELECT * FROM events'),
    };
    const again = await ingestSac(db, [sharedPath('sac')], { archiveDir: archive });
    expect(again.errors).toEqual([]);
    expect(again.written.every((w) => w.status === 'unchanged' || w.status === 'duplicate')).toBe(true);
    expect(again.channelsSynthesized).toBe(0);
    expect(again.eventsSeeded).toBe(0);
    expect(again.index?.filesScanned).toBe(0);
    expect({
      files: archiveState(archive),
      tsindex: rows(db, 'SELECT * FROM tsindex'),
      channels: rows(db, 'SELECT * FROM geonode_channels'),
      stations: rows(db, 'SELECT * FROM geonode_stations'),
      sources: rows(db, 'SELECT * FROM geonode_meta_sources'),
      events: rows(db, 'SELECT * FROM events'),
    }).toEqual(before);
  });
});

describe('SAC ingestion: day split, replacement, codes, CLI', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-sac2-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** 10 Hz integer series starting 2020-01-01T23:59:00 (60 s before midnight). */
  function makeSac(file: string, n: number, opts: { network?: string | null; station?: string | null; channel?: string | null; offset?: number; b?: number } = {}): Int32Array {
    const h = newSacHeader();
    Object.assign(h.ints, { nzyear: 2020, nzjday: 1, nzhour: 23, nzmin: 59, nzsec: 0, nzmsec: 0 });
    h.floats.delta = 0.1;
    if (opts.b !== undefined) h.floats.b = opts.b;
    h.floats.stla = 10;
    h.floats.stlo = 20;
    h.floats.cmpaz = 0;
    h.floats.cmpinc = 0;
    h.strings.knetwk = opts.network === undefined ? 'ZX' : opts.network;
    h.strings.kstnm = opts.station === undefined ? 'SPLIT' : opts.station;
    h.strings.kcmpnm = opts.channel === undefined ? 'HHZ' : opts.channel;
    const data = Int32Array.from({ length: n }, (_, i) => Math.round(5000 * Math.sin(i / 7)) + (opts.offset ?? 0));
    fs.writeFileSync(file, writeSac({ header: h, data }));
    return data;
  }

  test('a series crossing midnight goes into one file per day; a shorter re-ingest removes the stale day', async () => {
    const archive = path.join(dir, 'a1');
    const sacFile = path.join(dir, 'split.sac');
    const data = makeSac(sacFile, 2000);
    const db = openIndexDb(path.join(dir, 'a1.sqlite'));
    try {
      const s = await ingestSac(db, [sacFile], { archiveDir: archive });
      expect(s.errors).toEqual([]);
      expect(s.written.map((w) => path.relative(archive, w.mseedFile).replace(/sac-[0-9a-f]{8}\.[0-9a-f]{8}$/, 'sac-H'))).toEqual([
        '2020/ZX/SPLIT/HHZ.D/ZX.SPLIT..HHZ.D.2020.001.sac-H',
        '2020/ZX/SPLIT/HHZ.D/ZX.SPLIT..HHZ.D.2020.002.sac-H',
      ]);
      const app = createApp({ db, config: { ...defaultConfig({}), dataRoot: '/' } });
      const get = () =>
        request(app).get('/fdsnws/dataselect/1/query?net=ZX&sta=SPLIT&cha=HHZ&start=2020-01-01T23:00:00&end=2020-01-02T01:00:00').buffer(true).parse(binary);
      const d = decodeAll((await get()).body as Buffer);
      expect(Int32Array.from(d.samples)).toEqual(data);
      // Day 1 holds exactly the 600 samples before midnight.
      const day1 = decodeAll(fs.readFileSync(s.written[0].mseedFile));
      expect(day1.samples).toHaveLength(600);

      // Same source, now shorter and different: its files are replaced, the day-2 file disappears.
      const short = makeSac(sacFile, 300, { offset: 1 });
      const s2 = await ingestSac(db, [sacFile], { archiveDir: archive });
      expect(s2.written.map((w) => w.status)).toEqual(['written']);
      expect(fs.existsSync(s.written[1].mseedFile)).toBe(false);
      // The new day-1 version has a new (content) name; the old one is gone from disk and index.
      expect(s2.written[0].mseedFile).not.toBe(s.written[0].mseedFile);
      expect(fs.existsSync(s.written[0].mseedFile)).toBe(false);
      expect(db.prepare('SELECT DISTINCT filename FROM tsindex WHERE station = ?').pluck().all('SPLIT')).toEqual([s2.written[0].mseedFile]);
      expect(Int32Array.from(decodeAll((await get()).body as Buffer).samples)).toEqual(short);
      expect(s2.channelsSynthesized).toBe(1);
      const st = await request(app).get('/fdsnws/station/1/query?net=ZX&sta=SPLIT&level=channel&format=text');
      expect(st.text.trim().split('\n')).toHaveLength(2); // the epoch was replaced, not added
      expect(st.text).toContain('|2020-01-01T23:59:00|2020-01-01T23:59:29.9');
    } finally {
      db.close();
    }
  });

  test('a copy stored as a duplicate of another source keeps its data when that source changes in the same run', async () => {
    const archive = path.join(dir, 'twins');
    const a = path.join(dir, 'twins-in', 'a', 'x.sac');
    const b = path.join(dir, 'twins-in', 'b', 'x.sac');
    fs.mkdirSync(path.dirname(a), { recursive: true });
    fs.mkdirSync(path.dirname(b), { recursive: true });
    const original = makeSac(a, 300, { station: 'TWIN' });
    fs.copyFileSync(a, b);
    const db = openIndexDb(path.join(dir, 'twins.sqlite'));
    try {
      const s1 = await ingestSac(db, [path.dirname(path.dirname(a))], { archiveDir: archive });
      expect(s1.written.map((w) => [path.basename(path.dirname(w.sacFile)), w.status])).toEqual([
        ['a', 'written'],
        ['b', 'duplicate'],
      ]);
      // a/ changes: its old day file (b's records too) leaves the archive, so b must be written now.
      const edited = makeSac(a, 300, { station: 'TWIN', offset: 7 });
      const s2 = await ingestSac(db, [path.dirname(path.dirname(a))], { archiveDir: archive });
      expect(s2.errors).toEqual([]);
      expect(s2.written.map((w) => [path.basename(path.dirname(w.sacFile)), w.status])).toEqual([
        ['a', 'written'],
        ['b', 'written'],
      ]);
      for (const w of s2.written) expect(fs.existsSync(w.mseedFile)).toBe(true);
      const files = db.prepare('SELECT DISTINCT filename FROM tsindex WHERE station = ? ORDER BY filename').pluck().all('TWIN') as string[];
      expect(files.sort()).toEqual(s2.written.map((w) => w.mseedFile).sort());
      const held = files.map((f) => Int32Array.from(decodeAll(fs.readFileSync(f)).samples));
      expect(held).toContainEqual(original);
      expect(held).toContainEqual(edited);
      // A third run changes nothing.
      const s3 = await ingestSac(db, [path.dirname(path.dirname(a))], { archiveDir: archive });
      expect(s3.written.map((w) => w.status)).toEqual(['unchanged', 'unchanged']);
    } finally {
      db.close();
    }
  });

  test('a copy found a duplicate of a day file that a later source of the same run replaces is stored again', async () => {
    const archive = path.join(dir, 'twins2');
    const copy = path.join(dir, 'twins2-in', 'a', 'x.sac'); // sorted first
    const source = path.join(dir, 'twins2-in', 'b', 'x.sac');
    fs.mkdirSync(path.dirname(copy), { recursive: true });
    fs.mkdirSync(path.dirname(source), { recursive: true });
    const original = makeSac(source, 300, { station: 'TWIN2' });
    const db = openIndexDb(path.join(dir, 'twins2.sqlite'));
    try {
      const s1 = await ingestSac(db, [source], { archiveDir: archive });
      expect(s1.written.map((w) => w.status)).toEqual(['written']);
      // Now a copy of the old b/ appears and b/ itself changes: a/ is met first, while b/'s old
      // day file (its twin) is still there; b/ then replaces that file.
      fs.copyFileSync(source, copy);
      const edited = makeSac(source, 300, { station: 'TWIN2', offset: 3 });
      const s2 = await ingestSac(db, [path.dirname(path.dirname(copy))], { archiveDir: archive });
      expect(s2.errors).toEqual([]);
      expect(s2.written.map((w) => [path.basename(path.dirname(w.sacFile)), w.status])).toEqual([
        ['a', 'written'],
        ['b', 'written'],
      ]);
      expect(fs.existsSync(s1.written[0].mseedFile)).toBe(false);
      const files = db.prepare('SELECT DISTINCT filename FROM tsindex WHERE station = ? ORDER BY filename').pluck().all('TWIN2') as string[];
      expect(files.sort()).toEqual(s2.written.map((w) => w.mseedFile).sort());
      const held = files.map((f) => Int32Array.from(decodeAll(fs.readFileSync(f)).samples));
      expect(held).toContainEqual(original);
      expect(held).toContainEqual(edited);
      const s3 = await ingestSac(db, [path.dirname(path.dirname(copy))], { archiveDir: archive });
      expect(s3.written.map((w) => w.status)).toEqual(['unchanged', 'unchanged']);
    } finally {
      db.close();
    }
  });

  test('another process changing a day directory during the run: its removed file is no error, its added twin is seen', async () => {
    // The other process acts after this run wrote a.sac's day file, when it reads b.sac.
    const during = async (name: string, act: () => void) => {
      const read = fs.readFileSync;
      let done = false;
      const spy = jest.spyOn(fs, 'readFileSync').mockImplementation(((file: fs.PathOrFileDescriptor, o?: unknown) => {
        if (!done && String(file).endsWith(`${name}-in/b.sac`)) {
          done = true;
          act();
        }
        return read(file, o as never);
      }) as typeof fs.readFileSync);
      try {
        const input = path.join(dir, `${name}-in`);
        fs.mkdirSync(input);
        makeSac(path.join(input, 'a.sac'), 300, { station: 'RACE' });
        makeSac(path.join(input, 'b.sac'), 300, { station: 'RACE', offset: 1 });
        const db = openIndexDb(path.join(dir, `${name}.sqlite`));
        try {
          const s = await ingestSac(db, [input], { archiveDir: path.join(dir, name) });
          return { s, files: (db.prepare("SELECT DISTINCT filename FROM tsindex WHERE station = 'RACE'").pluck().all() as string[]).map((f) => path.basename(f)).sort() };
        } finally {
          db.close();
        }
      } finally {
        spy.mockRestore();
      }
    };
    // (a) A foreign file of the same channel-day is removed: b.sac still loads.
    const foreignDir = path.join(dir, 'race1', '2020', 'ZX', 'RACE', 'HHZ.D');
    fs.mkdirSync(foreignDir, { recursive: true });
    fs.writeFileSync(path.join(foreignDir, 'ZX.RACE..HHZ.D.2020.001'), Buffer.alloc(4096));
    const r1 = await during('race1', () => fs.rmSync(path.join(foreignDir, 'ZX.RACE..HHZ.D.2020.001')));
    expect(r1.s.errors).toEqual([]);
    expect(r1.s.written.map((w) => w.status)).toEqual(['written', 'written']);
    // (b) Another process stores b.sac's records first (a copy of it elsewhere): b is a duplicate, stored once.
    const scratch = openIndexDb(path.join(dir, 'race2-scratch.sqlite'));
    const copyIn = path.join(dir, 'race2-copy');
    fs.mkdirSync(copyIn);
    makeSac(path.join(copyIn, 'b-copy.sac'), 300, { station: 'RACE', offset: 1 });
    const theirs = (await ingestSac(scratch, [copyIn], { archiveDir: path.join(dir, 'race2-scratch') })).written[0].mseedFile;
    scratch.close();
    const r2 = await during('race2', () => fs.copyFileSync(theirs, path.join(dir, 'race2', '2020', 'ZX', 'RACE', 'HHZ.D', path.basename(theirs))));
    expect(r2.s.written.map((w) => w.status)).toEqual(['written', 'duplicate']);
    expect(r2.files).toHaveLength(2); // a's file and the other process's copy of b's records, each once
    expect(r2.files).toContain(path.basename(theirs));
  });

  test('metadata already loaded: a covering channel epoch wins; an existing station gets the new channel', async () => {
    const db = openIndexDb(path.join(dir, 'meta.sqlite'));
    try {
      const ch = (code: string): Channel => ({
        location: '', code, startNs: utcToNs(2019, 1, 1), endNs: null, restrictedStatus: null, description: 'from StationXML', lat: 10.5, lon: 20.5, elevation: 100,
        depth: 0, azimuth: 0, dip: -90, types: [], sampleRate: 10, clockDrift: null, sensorDescription: 'STS-2', sensitivity: null, responseXml: null,
        responseStageCount: 0, dataAvailability: null, attributes: [], extras: [],
      });
      const inv: Inventory = {
        schemaVersion: '1.2', source: 'test', sender: null, module: null, moduleUri: null, createdNs: null,
        networks: [{ code: 'ZX', description: 'Test net', startNs: utcToNs(2010, 1, 1), endNs: null, restrictedStatus: null, totalNumberStations: null, attributes: [], extras: [], stations: [{
          code: 'SPLIT', startNs: utcToNs(2019, 1, 1), endNs: null, restrictedStatus: null, description: null, lat: 10.5, lon: 20.5, elevation: 100, siteName: 'Real site',
          site: { name: 'Real site' }, creationDateNs: null, terminationDateNs: null, totalNumberChannels: null, channels: [ch('HHZ')], attributes: [], extras: [],
        }] }],
      }; // prettier-ignore
      loadInventory(db, inv, '/stationxml/zx.xml');
      const hhz = path.join(dir, 'meta-hhz.sac');
      const hhe = path.join(dir, 'meta-hhe.sac');
      makeSac(hhz, 100);
      makeSac(hhe, 100, { channel: 'HHE' });
      const s = await ingestSac(db, [hhz, hhe], { archiveDir: path.join(dir, 'a3') });
      expect(s.errors).toEqual([]);
      expect(s.channelsSynthesized).toBe(1); // HHE only
      const app = createApp({ db, config: { ...defaultConfig({}), dataRoot: '/' } });
      const r = await request(app).get('/fdsnws/station/1/query?net=ZX&sta=SPLIT&level=channel&format=text');
      const lines = r.text.trim().split('\n').slice(1).map((l) => l.split('|'));
      // One station epoch (the real one, with its site), HHE under it, HHZ from StationXML untouched.
      expect(lines.map((c) => [c[3], c[4], c[10]])).toEqual([
        ['HHE', '10', ''],
        ['HHZ', '10.5', 'STS-2'],
      ]);
      const sta = await request(app).get('/fdsnws/station/1/query?net=ZX&level=station&format=text');
      expect(sta.text.trim().split('\n').slice(1)).toEqual(['ZX|SPLIT|10.5|20.5|100|Real site|2019-01-01T00:00:00|']);
    } finally {
      db.close();
    }
  });

  test('metadata loaded after: a StationXML epoch covering a synthesized one replaces it (no second network, station or channel epoch)', async () => {
    const db = openIndexDb(path.join(dir, 'meta-after.sqlite'));
    try {
      const hhz = path.join(dir, 'after-hhz.sac');
      makeSac(hhz, 100);
      expect((await ingestSac(db, [hhz], { archiveDir: path.join(dir, 'a4') })).channelsSynthesized).toBe(1);
      const inv: Inventory = {
        schemaVersion: '1.2', source: 'test', sender: null, module: null, moduleUri: null, createdNs: null,
        networks: [{ code: 'ZX', description: 'Test net', startNs: utcToNs(2010, 1, 1), endNs: null, restrictedStatus: null, totalNumberStations: null, attributes: [], extras: [], stations: [{
          code: 'SPLIT', startNs: utcToNs(2019, 1, 1), endNs: null, restrictedStatus: null, description: null, lat: 10.5, lon: 20.5, elevation: 100, siteName: 'Real site',
          site: { name: 'Real site' }, creationDateNs: null, terminationDateNs: null, totalNumberChannels: null, attributes: [], extras: [], channels: [{
            location: '', code: 'HHZ', startNs: utcToNs(2019, 1, 1), endNs: null, restrictedStatus: null, description: 'from StationXML', lat: 10.5, lon: 20.5, elevation: 100,
            depth: 0, azimuth: 0, dip: -90, types: [], sampleRate: 10, clockDrift: null, sensorDescription: 'STS-2', sensitivity: null, responseXml: null,
            responseStageCount: 0, dataAvailability: null, attributes: [], extras: [],
          }],
        }] }],
      }; // prettier-ignore
      const r = loadInventory(db, inv, '/stationxml/zx-after.xml');
      expect(r.supersededSac).toEqual([`sac:${hhz}`]);
      const app = createApp({ db, config: { ...defaultConfig({}), dataRoot: '/' } });
      const text = async (level: string) => (await request(app).get(`/fdsnws/station/1/query?net=ZX&level=${level}&format=text`)).text.trim().split('\n').slice(1);
      expect(await text('network')).toEqual(['ZX|Test net|2010-01-01T00:00:00||1']);
      expect(await text('station')).toEqual(['ZX|SPLIT|10.5|20.5|100|Real site|2019-01-01T00:00:00|']);
      expect((await text('channel')).map((l) => l.split('|').slice(3, 11).join('|'))).toEqual(['HHZ|10.5|20.5|100|0|0|-90|STS-2']);
      // load-sac again: the channel is covered, nothing is synthesized back.
      expect((await ingestSac(db, [hhz], { archiveDir: path.join(dir, 'a4') })).channelsSynthesized).toBe(0);
      expect(await text('channel')).toHaveLength(1);
    } finally {
      db.close();
    }
  });

  test('three components whose first samples differ by a few ms are one station epoch spanning all their data', async () => {
    const db = openIndexDb(path.join(dir, 'comp.sqlite'));
    try {
      const files = ([['HHZ', 0.02], ['HHN', 0], ['HHE', 0.05]] as const).map(([cha, b]) => {
        const f = path.join(dir, `comp-${cha}.sac`);
        makeSac(f, 100, { station: 'COMP', channel: cha, b });
        return f;
      });
      // One at a time, as separate load-sac runs would: each widens the epochs before it.
      for (const f of files) expect((await ingestSac(db, [f], { archiveDir: path.join(dir, 'a5') })).errors).toEqual([]);
      const app = createApp({ db, config: { ...defaultConfig({}), dataRoot: '/' } });
      const text = async (level: string) => (await request(app).get(`/fdsnws/station/1/query?net=ZX&sta=COMP&level=${level}&format=text`)).text.trim().split('\n').slice(1);
      // Data: 2020-01-01T23:59:00 + b, 100 samples at 10 Hz (last sample 9.9 s later).
      expect(await text('station')).toEqual(['ZX|COMP|10|20|0|COMP|2020-01-01T23:59:00|2020-01-01T23:59:09.950000']);
      expect((await text('channel')).map((l) => l.split('|').slice(2, 4).join('.') + ' ' + l.split('|').slice(15).join(' '))).toEqual([
        '.HHE 2020-01-01T23:59:00.050000 2020-01-01T23:59:09.950000',
        '.HHN 2020-01-01T23:59:00 2020-01-01T23:59:09.900000',
        '.HHZ 2020-01-01T23:59:00.020000 2020-01-01T23:59:09.920000',
      ]);
      // The XML has one Station element holding the three channels.
      const xml = (await request(app).get('/fdsnws/station/1/query?net=ZX&sta=COMP&level=channel')).text;
      expect(xml.match(/<Station /g)).toHaveLength(1);
      expect(xml.match(/<Channel /g)).toHaveLength(3);
    } finally {
      db.close();
    }
  });

  test('widening SAC station epochs leaves a StationXML station alone (its copies under SAC channels too)', async () => {
    const db = openIndexDb(path.join(dir, 'widen-real.sqlite'));
    try {
      // StationXML ZX.WREAL 2019-01-01..2020-01-02 (HHZ); SAC HHN inside it hangs under it (a copy of
      // the real epoch); SAC HHE crossing its end gets a synthesized epoch, which must not widen the copy.
      const xml = `<?xml version="1.0" encoding="UTF-8"?>
<FDSNStationXML xmlns="http://www.fdsn.org/xml/station/1" schemaVersion="1.2"><Source>T</Source><Created>2020-01-01T00:00:00Z</Created>
<Network code="ZX" startDate="2010-01-01T00:00:00Z"><Station code="WREAL" startDate="2019-01-01T00:00:00Z" endDate="2020-01-02T00:00:00Z">
<Latitude>10.5</Latitude><Longitude>20.5</Longitude><Elevation>100</Elevation><Site><Name>Real site</Name></Site>
<Channel code="HHZ" locationCode="" startDate="2019-01-01T00:00:00Z" endDate="2020-01-02T00:00:00Z"><Latitude>10.5</Latitude><Longitude>20.5</Longitude><Elevation>100</Elevation><Depth>0</Depth><Azimuth>0</Azimuth><Dip>-90</Dip><SampleRate>10</SampleRate></Channel>
</Station></Network></FDSNStationXML>`;
      loadStationXml(db, xml, '/stationxml/wreal.xml');
      const hhn = path.join(dir, 'wreal-hhn.sac');
      const hhe = path.join(dir, 'wreal-hhe.sac');
      makeSac(hhn, 100, { station: 'WREAL', channel: 'HHN' }); // 23:59:00 .. 23:59:09.9
      makeSac(hhe, 300, { station: 'WREAL', channel: 'HHE', b: 50 }); // 23:59:50 .. 00:00:19.9 next day
      for (const f of [hhn, hhe]) expect((await ingestSac(db, [f], { archiveDir: path.join(dir, 'a6') })).errors).toEqual([]);
      const app = createApp({ db, config: { ...defaultConfig({}), dataRoot: '/' } });
      const sta = (await request(app).get('/fdsnws/station/1/query?net=ZX&sta=WREAL&level=station&format=text')).text.trim().split('\n').slice(1);
      expect(sta).toEqual([
        'ZX|WREAL|10.5|20.5|100|Real site|2019-01-01T00:00:00|2020-01-02T00:00:00',
        'ZX|WREAL|10|20|0|WREAL|2020-01-01T23:59:50|2020-01-02T00:00:19.900000',
      ]);
    } finally {
      db.close();
    }
  });

  test('undefined network → default; missing station/channel → per-file error, the others still load', async () => {
    const ok = path.join(dir, 'codes', 'ok.sac');
    const noSta = path.join(dir, 'codes', 'nosta.sac');
    const noCha = path.join(dir, 'codes', 'nocha.sac');
    fs.mkdirSync(path.dirname(ok));
    fs.writeFileSync(path.join(dir, 'codes', 'README'), 'not a SAC file, but long enough to be read as a header: ' + 'x'.repeat(700));
    makeSac(ok, 50, { network: null });
    makeSac(noSta, 50, { station: null });
    makeSac(noCha, 50, { channel: null });
    const db = openIndexDb(path.join(dir, 'codes.sqlite'));
    try {
      const s = await ingestSac(db, [path.join(dir, 'codes')], { archiveDir: path.join(dir, 'a2'), defaultNetwork: 'YY' });
      expect(s.files).toBe(3);
      expect(s.skipped).toEqual([path.join(dir, 'codes', 'README')]);
      expect(s.errors.map((e) => [path.basename(e.sacFile), e.reason]).sort()).toEqual([
        ['nocha.sac', 'no channel code (kcmpnm undefined)'],
        ['nosta.sac', 'no station code (kstnm undefined)'],
      ]);
      expect(s.written.map((w) => path.basename(w.mseedFile).replace(/sac-[0-9a-f]{8}\.[0-9a-f]{8}$/, 'sac-H'))).toEqual(['YY.SPLIT..HHZ.D.2020.001.sac-H']);
    } finally {
      db.close();
    }
  });

  test('CLI: geonode load-sac FILE|DIR --db --archive --network', async () => {
    const src = path.join(dir, 'cli');
    fs.mkdirSync(src);
    makeSac(path.join(src, 'a.sac'), 100, { network: null });
    fs.writeFileSync(path.join(src, 'bad.sac'), fs.readFileSync(path.join(src, 'a.sac')).subarray(0, 700)); // truncated
    const out = { text: '', isTTY: false, write(s: string) { this.text += s; return true; } };
    const err = { text: '', isTTY: false, write(s: string) { this.text += s; return true; } };
    const io: CliIo = { stdout: out, stderr: err, env: {}, cwd: dir, handleSignals: false };
    const code = await main(['load-sac', 'cli', '--db', 'cli.sqlite', '--archive', 'cli-archive', '--network', 'QQ'], io);
    expect(code).toBe(1); // bad.sac is neither skipped silently nor fatal for a.sac
    expect(err.text).toMatch(/bad\.sac/);
    expect(out.text).toMatch(/QQ\.SPLIT\.\.HHZ\.D\.2020\.001\.sac-[0-9a-f]{8}/);
    expect(fs.readdirSync(path.join(dir, 'cli-archive', '2020', 'QQ', 'SPLIT', 'HHZ.D'))).toHaveLength(1);
    expect(out.text).toMatch(/sac: 1 file\(s\) read \(day files: 1 written, 0 unchanged, 0 duplicate\), 1 failed/);
    // Again: nothing written, and the summary says so.
    const out2 = { text: '', isTTY: false, write(s: string) { this.text += s; return true; } };
    await main(['load-sac', 'cli', '--db', 'cli.sqlite', '--archive', 'cli-archive', '--network', 'QQ'], { ...io, stdout: out2 });
    expect(out2.text).toMatch(/sac: 1 file\(s\) read \(day files: 0 written, 1 unchanged, 0 duplicate\), 1 failed/);
    const help = { text: '', isTTY: false, write(s: string) { this.text += s; return true; } };
    expect(await main(['load-sac', '--help'], { ...io, stdout: help })).toBe(0);
    expect(help.text).toMatch(/load-sac/);
    expect(help.text).toMatch(/--network/);
  });
});
