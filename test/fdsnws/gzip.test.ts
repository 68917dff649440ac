/**
 * gzip in one place (src/fdsnws/send.ts): with `Accept-Encoding: gzip` (what ObsPy sends for
 * discovery and bulk requests) WADL, station, event and availability text responses are valid
 * gzip with `Content-Encoding: gzip` and `Vary: Accept-Encoding`, and gunzip to exactly the bytes
 * sent without it. Raw node http is used: supertest would decompress transparently.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import type { AddressInfo } from 'node:net';
import type Database from 'better-sqlite3';
import { createApp } from '../../src/app';
import { defaultConfig } from '../../src/config';
import { encodeRecords } from '../../src/formats/mseed';
import { utcToNs } from '../../src/formats/time';
import { openIndexDb } from '../../src/index/db';
import { loadEventFiles } from '../../src/index/events';
import { indexArchive } from '../../src/index/indexer';
import { loadStationXmlFile } from '../../src/index/metadata';
import { GZIP_MIN_BYTES } from '../../src/fdsnws/send';
import { describeShared, sharedPath } from '../helpers/sharedData';

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function rawGet(port: number, urlPath: string, gzip: boolean): Promise<Raw> {
  return new Promise((resolve, reject) => {
    http
      .get({ port, path: urlPath, headers: gzip ? { 'Accept-Encoding': 'gzip' } : {} }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

describeShared('gzip for WADL, station, event and availability text', () => {
  let dir: string;
  let db: Database.Database;
  let server: http.Server;
  let port: number;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-gzip-'));
    const arch = path.join(dir, 'archive');
    fs.mkdirSync(arch);
    // 60 pieces with gaps → 60 availability spans (a body well above the gzip threshold).
    const t0 = utcToNs(2020, 1, 1);
    const recs: Buffer[] = [];
    for (let i = 0; i < 60; i++) {
      const samples = Int32Array.from({ length: 200 }, (_, k) => k % 50);
      recs.push(...encodeRecords({ network: 'GZ', station: 'GAPS', location: '00', channel: 'BHZ', startNs: t0 + BigInt(i) * 60_000_000_000n, sampleRate: 10 }, samples, { formatVersion: 2, encoding: 'steim2' }));
    }
    fs.writeFileSync(path.join(arch, 'GZ.GAPS.00.BHZ.mseed'), Buffer.concat(recs));
    db = openIndexDb(path.join(dir, 'idx.sqlite'));
    await indexArchive(db, [arch], { workers: 0 });
    loadStationXmlFile(db, sharedPath('stationxml', 'IU_ANMO_BH.xml'));
    loadEventFiles(db, [sharedPath('quakeml')]);
    const app = createApp({ db, config: { ...defaultConfig({}), dataRoot: '/' } });
    server = http.createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server?.close(() => r()));
    db?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const urls = [
    '/fdsnws/dataselect/1/application.wadl',
    '/fdsnws/station/1/application.wadl',
    '/fdsnws/event/1/application.wadl',
    '/fdsnws/availability/1/application.wadl',
    '/fdsnws/station/1/query?network=IU&level=response',
    '/fdsnws/station/1/query?network=IU&level=channel&format=text',
    '/fdsnws/event/1/query',
    '/fdsnws/event/1/query?format=text',
    '/fdsnws/availability/1/query?network=GZ',
    '/fdsnws/availability/1/query?network=GZ&format=geocsv',
    '/fdsnws/availability/1/query?network=GZ&format=json',
  ];

  test.each(urls)('%s: gzip when accepted, same bytes after gunzip', async (url) => {
    const plain = await rawGet(port, url, false);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    const gz = await rawGet(port, url, true);
    expect(gz.status).toBe(200);
    expect(gz.headers.vary).toMatch(/Accept-Encoding/i);
    if (plain.body.length < GZIP_MIN_BYTES) {
      // Small bodies stay plain (the gzip framing would cost more than it saves).
      expect(gz.headers['content-encoding']).toBeUndefined();
      expect(gz.body.equals(plain.body)).toBe(true);
      return;
    }
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers.vary).toMatch(/Accept-Encoding/i);
    expect(gz.headers['content-type']).toBe(plain.headers['content-type']);
    expect(gz.body.length).toBeLessThan(plain.body.length);
    const unzipped = zlib.gunzipSync(gz.body);
    // Event QuakeML and station XML carry a creation time: compare without it.
    const norm = (b: Buffer) => b.toString('utf8').replace(/<(Created|creationTime)>[^<]*</g, '<$1><').replace(/"created":"[^"]*"/, '"created":""');
    expect(norm(unzipped)).toBe(norm(plain.body));
  });

  test('gzip;q=0 or no header → identity', async () => {
    const r = await new Promise<Raw>((resolve, reject) => {
      http
        .get({ port, path: '/fdsnws/station/1/application.wadl', headers: { 'Accept-Encoding': 'gzip;q=0, identity' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        })
        .on('error', reject);
    });
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(r.body.toString('utf8')).toMatch(/^<\?xml/);
  });
});
