/**
 * The event package, read back with INDEPENDENT readers: Info-ZIP `unzip` (listing, integrity
 * test) when installed and Python's zipfile (extraction). Every entry's sha256 must equal the
 * manifest; the miniSEED entry must equal what fdsnws-dataselect returns for the same window;
 * QuakeML and StationXML must parse with the project's parsers. Also the ZIP writer alone
 * (stored + deflated + streamed entries, CRC-32 check value).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import request from 'supertest';
import type Database from 'better-sqlite3';
import { createApp } from '../../src/app';
import { defaultConfig } from '../../src/config';
import { encodeRecords, parseRecordHeader } from '../../src/formats/mseed';
import { parseQuakeML } from '../../src/formats/quakeml';
import { parseStationXml } from '../../src/formats/stationxml';
import { openIndexDb } from '../../src/index/db';
import { loadEventFiles } from '../../src/index/events';
import { indexArchive } from '../../src/index/indexer';
import { loadStationXml } from '../../src/index/metadata';
import { syntheticScenario } from '../../src/products/eval';
import { computeScores } from '../../src/products/scores';
import { crc32, ZipWriter } from '../../src/products/zip';

const HOUR = 3_600_000;
const hasPython = spawnSync('python3', ['-c', 'import zipfile'], { encoding: 'utf8' }).status === 0;
const hasUnzip = spawnSync('unzip', ['-v'], { encoding: 'utf8' }).status === 0;

/** Extract every entry with Python's zipfile (independent reader) → {name: Buffer}; also runs testzip(). */
function pyExtract(zipFile: string, outDir: string): Record<string, Buffer> {
  const script = [
    'import sys, zipfile, json',
    'z = zipfile.ZipFile(sys.argv[1])',
    'bad = z.testzip()',
    'assert bad is None, bad',
    'z.extractall(sys.argv[2])',
    'print(json.dumps([i.filename for i in z.infolist()]))',
  ].join('\n');
  const names = JSON.parse(execFileSync('python3', ['-c', script, zipFile, outDir], { encoding: 'utf8' })) as string[];
  return Object.fromEntries(names.map((n) => [n, fs.readFileSync(path.join(outDir, n))]));
}

const binary = ((res: NodeJS.ReadableStream, cb: (err: Error | null, body: Buffer) => void): void => {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
}) as unknown as Parameters<request.Test['parse']>[0];

describe('zip writer', () => {
  test('CRC-32 check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.from('6789'), crc32(Buffer.from('12345')))).toBe(0xcbf43926);
  });

  (hasPython ? test : test.skip)('stored, deflated and streamed entries read back with Python zipfile', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zipw-'));
    try {
      const out = new PassThrough();
      const chunks: Buffer[] = [];
      out.on('data', (c: Buffer) => chunks.push(c));
      const z = new ZipWriter(out, { date: new Date(Date.UTC(2020, 8, 12, 2, 44, 10)) });
      const big = crypto.randomBytes(300_000);
      await z.addBuffer('a/stored.bin', big, { method: 'store' });
      await z.addBuffer('b.txt', 'hello '.repeat(1000));
      await z.addStream('c/streamed.bin', (function* () {
        for (let i = 0; i < 50; i++) yield Buffer.alloc(10_000, i);
      })());
      await z.addBuffer('empty.txt', '');
      const entries = await z.finish();
      expect(entries.map((e) => e.name)).toEqual(['a/stored.bin', 'b.txt', 'c/streamed.bin', 'empty.txt']);
      await expect(z.addBuffer('late', 'x')).rejects.toThrow();
      const file = path.join(dir, 't.zip');
      fs.writeFileSync(file, Buffer.concat(chunks));
      const got = pyExtract(file, path.join(dir, 'x'));
      expect(got['a/stored.bin'].equals(big)).toBe(true);
      expect(got['b.txt'].toString()).toBe('hello '.repeat(1000));
      expect(got['c/streamed.bin'].equals(Buffer.concat(Array.from({ length: 50 }, (_, i) => Buffer.alloc(10_000, i))))).toBe(true);
      expect(got['empty.txt'].length).toBe(0);
      for (const e of entries) expect(crypto.createHash('sha256').update(got[e.name]).digest('hex')).toBe(e.sha256);
      if (hasUnzip) expect(execFileSync('unzip', ['-tq', file], { encoding: 'utf8' })).toMatch(/No errors detected/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('unsafe names are refused', async () => {
    const z = new ZipWriter(new PassThrough());
    await expect(z.addBuffer('../x', 'a')).rejects.toThrow(/unsafe/);
    await expect(z.addBuffer('/abs', 'a')).rejects.toThrow(/unsafe/);
  });
});

(hasPython ? describe : describe.skip)('event package', () => {
  let dir: string;
  let db: Database.Database;
  let app: ReturnType<typeof createApp>;
  let eventMs: number;
  const EV = 'syn2020091302';

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pkg-'));
    const tiles = path.join(dir, 'tiles');
    const sc = syntheticScenario(tiles);
    await computeScores({ tilesDir: tiles });
    eventMs = Date.parse(sc.truth.mainshock!.time);
    // Waveforms: XX.SYN inside the radius (3 h around the origin), XX.FAR far away.
    const archive = path.join(dir, 'archive');
    fs.mkdirSync(archive, { recursive: true });
    for (const [sta, offsetH] of [['SYN', -2], ['FAR', -2]] as const) {
      const n = 20 * 3 * 3600;
      const x = new Int32Array(n);
      for (let i = 0; i < n; i++) x[i] = Math.round(500 * Math.sin(i / 7) + ((i * 7919) % 101));
      const recs = encodeRecords({ network: 'XX', station: sta, location: '00', channel: 'HHZ', startNs: BigInt(eventMs + offsetH * HOUR) * 1_000_000n, sampleRate: 20 }, x, { formatVersion: 2, encoding: 'steim2', recordLength: 512 });
      fs.writeFileSync(path.join(archive, `XX.${sta}.00.HHZ.mseed`), Buffer.concat(recs));
    }
    db = openIndexDb(path.join(dir, 'index.sqlite'));
    await indexArchive(db, [archive]);
    const cha = `<Channel code="HHZ" locationCode="00" startDate="2010-01-01T00:00:00Z"><Latitude>37</Latitude><Longitude>141</Longitude><Elevation>5</Elevation><Depth>0</Depth><SampleRate>20</SampleRate></Channel>`;
    const sta = (code: string, lat: number, lon: number) =>
      `<Station code="${code}" startDate="2010-01-01T00:00:00Z"><Latitude>${lat}</Latitude><Longitude>${lon}</Longitude><Elevation>5</Elevation><Site><Name>${code} site</Name></Site>${cha}</Station>`;
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<FDSNStationXML xmlns="http://www.fdsn.org/xml/station/1" schemaVersion="1.2"><Source>test</Source><Created>2024-01-01T00:00:00Z</Created>
<Network code="XX" startDate="2000-01-01T00:00:00Z">${sta('SYN', 37.0, 141.0)}${sta('FAR', 10, 20)}</Network></FDSNStationXML>`;
    expect(loadStationXml(db, xml, 'stations.xml').status).toBe('loaded');
    const e = sc.truth.events[0];
    fs.writeFileSync(
      path.join(dir, 'events.txt'),
      '#EventID|Time|Latitude|Longitude|Depth/km|Author|Catalog|Contributor|ContributorID|MagType|Magnitude|MagAuthor|EventLocationName|EventType\n' +
        `${e.id}|${e.time.replace('Z', '')}|${e.latitude}|${e.longitude}|${e.depthKm}|syn|SYN|syn||Mj|${e.magnitude}|syn|OFF EAST COAST OF HONSHU|earthquake\n`,
    );
    loadEventFiles(db, [path.join(dir, 'events.txt')]);
    app = createApp({ db, config: { ...defaultConfig({}), tilesDir: tiles, dataRoot: '/' } as ReturnType<typeof defaultConfig> });
  });
  afterAll(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the zip unpacks with independent readers; hashes, miniSEED, QuakeML, StationXML check out', async () => {
    const r = await request(app).get(`/products/events/${EV}/package`).buffer(true).parse(binary);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/zip');
    expect(r.headers['content-disposition']).toBe(`attachment; filename="${EV}.zip"`);
    const file = path.join(dir, 'pkg.zip');
    fs.writeFileSync(file, r.body as Buffer);
    if (hasUnzip) {
      const listing = execFileSync('unzip', ['-l', file], { encoding: 'utf8' });
      for (const n of ['event.xml', 'stations.xml', 'waveforms.mseed', 'association.csv', 'association.json', 'manifest.json']) expect(listing).toContain(n);
      expect(execFileSync('unzip', ['-p', file, 'manifest.json'], { encoding: 'utf8' })).toContain('geonode-event-package');
    }
    const got = pyExtract(file, path.join(dir, 'x'));
    const manifest = JSON.parse(got['manifest.json'].toString('utf8'));
    expect(manifest.format).toBe('geonode-event-package');
    // Every entry but the manifest is listed with the sha256 of its bytes.
    expect(manifest.entries.map((e: { path: string }) => e.path).sort()).toEqual(Object.keys(got).filter((n) => n !== 'manifest.json').sort());
    for (const e of manifest.entries) {
      expect(crypto.createHash('sha256').update(got[e.path]).digest('hex')).toBe(e.sha256);
      expect(got[e.path].length).toBe(e.bytes);
    }

    // QuakeML: the event.
    const evs = parseQuakeML(got['event.xml'].toString('utf8'));
    expect(evs).toHaveLength(1);
    expect(evs[0].preferredMagnitude?.value).toBeCloseTo(6.2, 6);
    expect(Number(evs[0].preferredOrigin!.timeNs / 1_000_000n)).toBe(eventMs);

    // StationXML: only the station inside the radius.
    const inv = parseStationXml(got['stations.xml']);
    expect(inv.networks.map((n) => n.code)).toEqual(['XX']);
    expect(inv.networks[0].stations.map((s) => s.code)).toEqual(['SYN']);

    // miniSEED equals dataselect for the same channels and window (72 h before, 24 h after).
    const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '');
    const ds = await request(app)
      .get('/fdsnws/dataselect/1/query')
      .query({ net: 'XX', sta: 'SYN', loc: '*', cha: '*', start: iso(eventMs - 72 * HOUR), end: iso(eventMs + 24 * HOUR) })
      .buffer(true)
      .parse(binary);
    expect(ds.status).toBe(200);
    const mseed = got['waveforms.mseed'];
    expect(mseed.length).toBeGreaterThan(0);
    expect(mseed.equals(ds.body as Buffer)).toBe(true);
    const stations = new Set<string>();
    for (let off = 0; off < mseed.length; ) {
      const h = parseRecordHeader(mseed, off);
      stations.add(h.station);
      off += h.recordLength;
    }
    expect([...stations]).toEqual(['SYN']);

    // Tiles of the associated stations (KAK geomag + aef) and the storm flags, as Parquet files
    // byte-identical to the tree.
    const tileNames = Object.keys(got).filter((n) => n.startsWith('tiles/'));
    expect(tileNames).toEqual(
      expect.arrayContaining([
        'tiles/layer=feat/source=geomag/station=KAK/cadence=P1D/date=2020/part-0.parquet',
        'tiles/layer=score/source=geomag/station=KAK/cadence=P1D/date=2020/part-0.parquet',
        'tiles/layer=feat/source=aef/station=KAK/cadence=P1D/date=2020/part-0.parquet',
        'tiles/layer=feat/source=indices/station=GLOBAL/cadence=P1D/date=2020/part-0.parquet',
      ]),
    );
    expect(tileNames.some((n) => n.includes('station=MOS'))).toBe(false);
    for (const n of tileNames) {
      expect(got[n].subarray(0, 4).toString()).toBe('PAR1');
      expect(got[n].equals(fs.readFileSync(path.join(dir, 'tiles', n.slice('tiles/'.length))))).toBe(true);
    }

    // Association table: CSV + JSON agree.
    const aj = JSON.parse(got['association.json'].toString('utf8'));
    const csvLines = got['association.csv'].toString('utf8').trim().split('\r\n');
    expect(csvLines).toHaveLength(1 + aj.table.length);
    expect(aj.stations.map((s: { station: string; source: string }) => `${s.source}/${s.station}`).sort()).toEqual(['aef/KAK', 'geomag/KAK', 'seismic/XX.SYN']);
  });

  test('unknown event → JSON 404', async () => {
    const r = await request(app).get('/products/events/nope/package');
    expect(r.status).toBe(404);
    expect(r.body.error.status).toBe(404);
  });
});

// A download aborted mid-archive: the writer must stop and let its sources go (an open data file
// per aborted package download was held for the life of the process).
test('ZipWriter: an output closed mid-entry rejects the write and releases the source', async () => {
  const out = new Writable({ highWaterMark: 1024, write: (_c, _e, cb) => setTimeout(cb, 5) });
  const zip = new ZipWriter(out);
  let released = false;
  async function* source(): AsyncGenerator<Buffer> {
    try {
      for (let i = 0; i < 1000; i++) {
        if (i === 3) out.destroy();
        yield crypto.randomBytes(64 * 1024); // incompressible: every chunk reaches the output
      }
    } finally {
      released = true;
    }
  }
  await expect(zip.addStream('waveforms.mseed', source())).rejects.toThrow(/output closed before the archive was written/);
  expect(released).toBe(true);
  // And a writer whose output is already gone fails at once instead of waiting for ever.
  await expect(new ZipWriter(out).addBuffer('x.txt', Buffer.alloc(10))).rejects.toThrow(/output closed/);
});
