/**
 * fdsnws-availability with restricted data: anonymous /query and /extent (includerestricted),
 * /queryauth and /extentauth behind HTTP Digest.
 *
 * The Digest client is the independent one shared with auth.test.ts
 * (test/helpers/digestClient.ts: written from RFC 7616 §3.4 and urllib's
 * AbstractDigestAuthHandler, not from src/fdsnws/digestAuth.ts). Archive: OP (open), XR
 * (restricted network), YY.SECR (restricted station of an otherwise open network), ZZ
 * (restricted to alice only), written with the project's encoder.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import request from 'supertest';
import type { Response } from 'supertest';
import { XMLValidator } from 'fast-xml-parser';
import { createApp } from '../../src/app';
import { defaultConfig, type NodeConfig } from '../../src/config';
import { encodeRecords } from '../../src/formats/mseed';
import { utcToNs } from '../../src/formats/time';
import { openIndexDb } from '../../src/index/db';
import { indexArchive } from '../../src/index/indexer';
import { authorization, md5, parseChallenge } from '../helpers/digestClient';

const A = '/fdsnws/availability/1';
const REALM = 'FDSN';
const T0 = utcToNs(2020, 1, 1);
const WIN = 'starttime=2020-01-01T00%3A00%3A00.000000&endtime=2020-01-01T00%3A01%3A00.000000';
const STATIONS = [
  ['OP', 'OPN1'],
  ['XR', 'RST1'],
  ['YY', 'OPEN'],
  ['YY', 'SECR'],
  ['ZZ', 'ALC'],
] as const;

/** Data lines of text output as cell arrays (header dropped). */
const lines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(/\s+/));
const netSta = (text: string) => [...new Set(lines(text).map((c) => `${c[0]}.${c[1]}`))].sort();
/** NET.STA → Restriction column (last) of /extent text. */
const restriction = (text: string) => Object.fromEntries(lines(text).map((c) => [`${c[0]}.${c[1]}`, c[c.length - 1]]));

function expect401(r: Response): Record<string, string> {
  expect(r.status).toBe(401);
  expect(r.text).toMatch(/^Error 401: Unauthorized\n/);
  expect(r.text).toMatch(/\/fdsnws\/availability\/1\/application\.wadl/);
  expect(r.text).toMatch(/Service version:\n1\.0\.\d+\n$/);
  const { scheme, p } = parseChallenge(r.headers['www-authenticate']);
  expect(scheme).toBe('Digest');
  expect(p.realm).toBe(REALM);
  return p;
}

describe('availability: restricted data, includerestricted, queryauth/extentauth', () => {
  let dir: string;
  let db: Database.Database;
  let config: NodeConfig;
  let app: ReturnType<typeof createApp>;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-avauth-'));
    const arch = path.join(dir, 'archive');
    fs.mkdirSync(arch);
    const samples = Int32Array.from({ length: 2000 }, (_, i) => Math.round(1000 * Math.sin(i / 10)));
    for (const [net, sta] of STATIONS) {
      const recs = encodeRecords({ network: net, station: sta, location: '00', channel: 'HHZ', startNs: T0, sampleRate: 20 }, samples, { formatVersion: 2, encoding: 'steim2', recordLength: 512 });
      fs.writeFileSync(path.join(arch, `${net}.${sta}.00.HHZ.mseed`), Buffer.concat(recs));
    }
    db = openIndexDb(path.join(dir, 'idx.sqlite'));
    await indexArchive(db, [arch], { workers: 0 });
    fs.writeFileSync(path.join(dir, 'restricted.txt'), 'XR\nYY.SECR\nZZ alice\n');
    fs.writeFileSync(path.join(dir, 'users'), `alice:${REALM}:${md5(`alice:${REALM}:wonder land`)}\nbob:b:o:b\n`);
    config = { ...defaultConfig({}), dataRoot: '/', usersFile: path.join(dir, 'users'), restrictedFile: path.join(dir, 'restricted.txt'), authRealm: REALM };
    app = createApp({ db, config });
  });
  afterAll(() => {
    db?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const get = (url: string, auth?: string) => {
    const t = request(app).get(url);
    if (auth) t.set('Authorization', auth);
    return t;
  };
  const authGet = async (url: string, user: string, password: string) => {
    const chal = expect401(await get(url));
    return get(url, authorization('GET', url, user, password, chal));
  };

  test('anonymous /query never lists restricted spans, with or without includerestricted', async () => {
    for (const extra of ['', '&includerestricted=false', '&includerestricted=true']) {
      const r = await get(`${A}/query?${WIN}${extra}`);
      expect(r.status).toBe(200);
      expect(netSta(r.text)).toEqual(['OP.OPN1', 'YY.OPEN']);
    }
    // Only restricted data selected → plain no-data.
    expect((await get(`${A}/query?network=XR&${WIN}&includerestricted=true`)).status).toBe(204);
    expect((await get(`${A}/query?network=ZZ&${WIN}&nodata=404`)).status).toBe(404);
    const p = await request(app).post(`${A}/query`).set('Content-Type', 'text/plain').send('includerestricted=true\nXR * * * 2020-01-01T00:00:00 2020-01-01T00:01:00\n');
    expect(p.status).toBe(204);
  });

  test('anonymous /extent: restricted rows hidden by default, listed as RESTRICTED with includerestricted=true', async () => {
    const plain = await get(`${A}/extent?${WIN}`);
    expect(plain.status).toBe(200);
    expect(restriction(plain.text)).toEqual({ 'OP.OPN1': 'OPEN', 'YY.OPEN': 'OPEN' });
    const all = await get(`${A}/extent?${WIN}&includerestricted=true`);
    expect(all.status).toBe(200);
    expect(restriction(all.text)).toEqual({ 'OP.OPN1': 'OPEN', 'XR.RST1': 'RESTRICTED', 'YY.OPEN': 'OPEN', 'YY.SECR': 'RESTRICTED', 'ZZ.ALC': 'RESTRICTED' });
    // Alignment holds with the longer word: every line has the same number of cells.
    expect(new Set(lines(all.text).map((c) => c.length)).size).toBe(1);

    const csv = await get(`${A}/extent?${WIN}&includerestricted=true&format=geocsv`);
    const rows = csv.text.split('\n').filter((l) => l && !l.startsWith('#')).slice(1).map((l) => l.split('|'));
    expect(Object.fromEntries(rows.map((c) => [`${c[0]}.${c[1]}`, c[c.length - 1]]))).toEqual(restriction(all.text));

    const json = await get(`${A}/extent?${WIN}&includerestricted=true&format=json`);
    const ds = (JSON.parse(json.text) as { datasources: Array<{ network: string; station: string; restriction: string }> }).datasources;
    expect(Object.fromEntries(ds.map((d) => [`${d.network}.${d.station}`, d.restriction]))).toEqual(restriction(all.text));
  });

  test('queryauth/extentauth without credentials → 401 Digest challenge with the availability error body', async () => {
    expect401(await get(`${A}/queryauth?${WIN}`));
    expect401(await get(`${A}/extentauth?${WIN}`));
    // Wrong password: 401 again.
    const url = `${A}/queryauth?${WIN}`;
    const chal = expect401(await get(url));
    expect401(await get(url, authorization('GET', url, 'bob', 'wrong', chal)));
  });

  test('queryauth: spans of the restricted data the user may access, nothing else', async () => {
    const url = `${A}/queryauth?${WIN}`;
    const bob = await authGet(url, 'bob', 'b:o:b');
    expect(bob.status).toBe(200);
    expect(netSta(bob.text)).toEqual(['OP.OPN1', 'XR.RST1', 'YY.OPEN', 'YY.SECR']);
    const alice = await authGet(url, 'alice', 'wonder land');
    expect(netSta(alice.text)).toEqual(['OP.OPN1', 'XR.RST1', 'YY.OPEN', 'YY.SECR', 'ZZ.ALC']);
    // includerestricted cannot add spans the user may not access.
    expect(netSta((await authGet(`${url}&includerestricted=true`, 'bob', 'b:o:b')).text)).toEqual(['OP.OPN1', 'XR.RST1', 'YY.OPEN', 'YY.SECR']);
    // Only data bob may not access → 403 (as dataselect's queryauth).
    const zz = await authGet(`${A}/queryauth?network=ZZ&${WIN}`, 'bob', 'b:o:b');
    expect(zz.status).toBe(403);
    expect(zz.text).toMatch(/^Error 403: Forbidden\n/);
    // Unrestricted spans are identical to the anonymous /query.
    const anon = await get(`${A}/query?network=OP&${WIN}`);
    expect((await authGet(`${A}/queryauth?network=OP&${WIN}`, 'bob', 'b:o:b')).text).toBe(anon.text);
  });

  test('extentauth: accessible restricted rows marked RESTRICTED; includerestricted=true adds the others', async () => {
    const r = await authGet(`${A}/extentauth?${WIN}`, 'bob', 'b:o:b');
    expect(r.status).toBe(200);
    expect(restriction(r.text)).toEqual({ 'OP.OPN1': 'OPEN', 'XR.RST1': 'RESTRICTED', 'YY.OPEN': 'OPEN', 'YY.SECR': 'RESTRICTED' });
    const all = await authGet(`${A}/extentauth?${WIN}&includerestricted=true`, 'bob', 'b:o:b');
    expect(restriction(all.text)).toEqual({ 'OP.OPN1': 'OPEN', 'XR.RST1': 'RESTRICTED', 'YY.OPEN': 'OPEN', 'YY.SECR': 'RESTRICTED', 'ZZ.ALC': 'RESTRICTED' });
  });

  test('POST queryauth: 401 before the body is read, then the answer with credentials', async () => {
    const url = `${A}/queryauth`;
    const body = 'format=request\nXR * * * 2020-01-01T00:00:00 2020-01-01T00:01:00\n';
    const first = await request(app).post(url).set('Content-Type', 'text/plain').send(body);
    const chal = expect401(first);
    const r = await request(app).post(url).set('Content-Type', 'text/plain').set('Authorization', authorization('POST', url, 'bob', 'b:o:b', chal)).send(body);
    expect(r.status).toBe(200);
    expect(r.text).toBe('XR RST1 00 HHZ 2020-01-01T00:00:00.000000Z 2020-01-01T00:01:00.000000Z\n');
  });

  test('WADL lists queryauth and extentauth after the anonymous methods', async () => {
    const w = await get(`${A}/application.wadl`);
    expect(w.status).toBe(200);
    expect(XMLValidator.validate(w.text)).toBe(true);
    for (const id of ['extent', 'query', 'extentauth', 'queryauth']) expect(w.text).toContain(`<method name="GET" id="${id}">`);
    expect(w.text.indexOf('id="query"')).toBeLessThan(w.text.indexOf('id="queryauth"'));
    expect(w.text).toContain('<resource path="queryauth">');
    expect(w.text).toContain('<resource path="extentauth">');
  });
});
