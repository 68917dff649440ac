/**
 * Restricted data + HTTP Digest on /fdsnws/dataselect/1/queryauth, end to end.
 *
 * The Digest client (test/helpers/digestClient.ts) is written from RFC 7616 §3.4 and from what
 * Python's urllib.request.AbstractDigestAuthHandler.get_authorization sends (ObsPy's only auth
 * path), independently of src/fdsnws/digestAuth.ts.
 *
 * The archive is written with the project's encoder into a temp dir and indexed with the
 * project's indexer: OP (open), XR (restricted network), YY.SECR (restricted station of an
 * otherwise open network), ZZ (restricted to alice only).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import request from 'supertest';
import type { Response } from 'supertest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app';
import { createDataselectFastPath } from '../../src/fdsnws/dataselect';
import { loadStationXml, removeMetadataSource } from '../../src/index/metadata';
import { defaultConfig, type NodeConfig } from '../../src/config';
import { encodeRecords } from '../../src/formats/mseed';
import { utcToNs } from '../../src/formats/time';
import { openIndexDb } from '../../src/index/db';
import { indexArchive } from '../../src/index/indexer';
import { authorization, md5, parseChallenge, type ClientState } from '../helpers/digestClient';
import { binary, records } from '../helpers/mseedResponse';

const QA = '/fdsnws/dataselect/1/queryauth';
const Q = '/fdsnws/dataselect/1/query';
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

// ---------------------------------------------------------------- helpers
/** NET.STA of every record of a miniSEED body, deduplicated and sorted. */
function stationsOf(body: Buffer): string[] {
  return [...new Set(records(body).map((h) => `${h.network}.${h.station}`))].sort();
}

/** GET with an optional Authorization header, the body kept as bytes. */
function getBytes(app: Parameters<typeof request>[0], url: string, auth?: string) {
  const t = request(app).get(url);
  if (auth) t.set('Authorization', auth);
  return t.buffer(true).parse(binary);
}

function expect401(r: Response, stale: boolean): Record<string, string> {
  expect(r.status).toBe(401);
  expect(r.headers['access-control-allow-origin']).toBe('*');
  expect(r.headers['content-type']).toMatch(/^text\/plain/);
  const text = (r.body as Buffer).toString('utf8');
  expect(text).toMatch(/^Error 401: Unauthorized\n\n[\s\S]+\n\nUsage details are available from http:\/\/\S+\/fdsnws\/dataselect\/1\/application\.wadl\n\nRequest:\n[\s\S]+Service version:\n1\.1\.\d+\n$/);
  const { scheme, p } = parseChallenge(r.headers['www-authenticate']);
  expect(scheme).toBe('Digest');
  expect(p.realm).toBe(REALM);
  expect(p.qop).toBe('auth');
  expect(p.algorithm).toBe('MD5');
  expect(p.nonce).toMatch(/^[^",\s]{20,}$/);
  expect(p.opaque).toBeTruthy();
  expect(p.stale === 'true').toBe(stale);
  return p;
}

describe('queryauth: HTTP Digest + restricted data', () => {
  let dir: string;
  let db: Database.Database;
  let config: NodeConfig;
  let app: ReturnType<typeof createApp>;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-auth-'));
    const arch = path.join(dir, 'archive');
    fs.mkdirSync(arch);
    const samples = Int32Array.from({ length: 2000 }, (_, i) => Math.round(1000 * Math.sin(i / 10)));
    for (const [net, sta] of STATIONS) {
      const recs = encodeRecords({ network: net, station: sta, location: '00', channel: 'HHZ', startNs: T0, sampleRate: 20 }, samples, { formatVersion: 2, encoding: 'steim2', recordLength: 512 });
      fs.writeFileSync(path.join(arch, `${net}.${sta}.00.HHZ.mseed`), Buffer.concat(recs));
    }
    db = openIndexDb(path.join(dir, 'idx.sqlite'));
    await indexArchive(db, [arch], { workers: 0 });
    fs.writeFileSync(path.join(dir, 'restricted.txt'), '# test policy\nXR\nYY.SECR   # one station\nZZ alice\n');
    // alice: htdigest line (what `htdigest users FDSN alice` writes); bob: plain password.
    fs.writeFileSync(path.join(dir, 'users'), `# users\nalice:${REALM}:${md5(`alice:${REALM}:wonder land`)}\nbob:b:o:b\n`);
    config = { ...defaultConfig({}), dataRoot: '/', usersFile: path.join(dir, 'users'), restrictedFile: path.join(dir, 'restricted.txt'), authRealm: REALM };
    app = createApp({ db, config });
  });
  afterAll(() => {
    db?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const get = (url: string, auth?: string) => getBytes(app, url, auth);
  const post = (url: string, body: string, auth?: string) => {
    const t = request(app).post(url).set('Content-Type', 'text/plain');
    if (auth) t.set('Authorization', auth);
    return t.send(body).buffer(true).parse(binary);
  };
  /** Full urllib dance for GET: unauthenticated request → 401 challenge → answered request. */
  const authGet = async (url: string, user: string, password: string) => {
    const chal = expect401(await get(url), false);
    return get(url, authorization('GET', url, user, password, chal));
  };

  test('anonymous query never returns restricted data', async () => {
    const all = await get(`${Q}?network=*&station=*&${WIN}`);
    expect(all.status).toBe(200);
    expect(stationsOf(all.body as Buffer)).toEqual(['OP.OPN1', 'YY.OPEN']);
    // Only restricted data selected → plain no-data (nothing hints that it exists).
    expect((await get(`${Q}?network=XR&${WIN}`)).status).toBe(204);
    expect((await get(`${Q}?network=YY&station=SECR&${WIN}`)).status).toBe(204);
    const n404 = await get(`${Q}?network=ZZ&${WIN}&nodata=404`);
    expect(n404.status).toBe(404);
    const p = await post(Q, 'quality=B\nXR RST1 00 HHZ 2020-01-01T00:00:00 2020-01-01T00:01:00\n');
    expect(p.status).toBe(204);
  });

  test('queryauth without credentials → 401 Digest challenge with the FDSN error body', async () => {
    const r = await get(`${QA}?network=XR&${WIN}`);
    expect401(r, false);
    expect((r.body as Buffer).toString()).toContain('Authentication required');
    // Every challenge carries a new nonce.
    const a = parseChallenge(r.headers['www-authenticate']).p.nonce;
    const b = parseChallenge((await get(`${QA}?network=XR&${WIN}`)).headers['www-authenticate']).p.nonce;
    expect(a).not.toBe(b);
  });

  test('challenge → correct answer → 200 with restricted and unrestricted data', async () => {
    const url = `${QA}?network=*&station=*&${WIN}`;
    const r = await authGet(url, 'bob', 'b:o:b'); // plain user:password line; password contains ':'
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/vnd.fdsn.mseed');
    // bob sees XR and YY.SECR (any authenticated user) but not ZZ (alice only).
    expect(stationsOf(r.body as Buffer)).toEqual(['OP.OPN1', 'XR.RST1', 'YY.OPEN', 'YY.SECR']);
    const a = await authGet(url, 'alice', 'wonder land'); // htdigest line
    expect(a.status).toBe(200);
    expect(stationsOf(a.body as Buffer)).toEqual(['OP.OPN1', 'XR.RST1', 'YY.OPEN', 'YY.SECR', 'ZZ.ALC']);
  });

  test('restricted bytes via queryauth equal the archived records; unrestricted data is identical to /query', async () => {
    const r = await authGet(`${QA}?network=XR&station=RST1&${WIN}`, 'bob', 'b:o:b');
    expect(r.status).toBe(200);
    const file = fs.readFileSync(path.join(dir, 'archive', 'XR.RST1.00.HHZ.mseed'));
    // 100 s of data, window covers the first 60 s: a prefix of the file, whole records.
    expect(file.subarray(0, (r.body as Buffer).length).equals(r.body as Buffer)).toBe(true);
    expect((r.body as Buffer).length % 512).toBe(0);
    const open = await authGet(`${QA}?network=OP&${WIN}`, 'bob', 'b:o:b');
    const anon = await get(`${Q}?network=OP&${WIN}`);
    expect(open.status).toBe(200);
    expect((open.body as Buffer).equals(anon.body as Buffer)).toBe(true);
  });

  test('authenticated user asking only for data not granted to them → 403', async () => {
    const r = await authGet(`${QA}?network=ZZ&${WIN}`, 'bob', 'b:o:b');
    expect(r.status).toBe(403);
    expect((r.body as Buffer).toString()).toMatch(/^Error 403: Forbidden\n/);
    // No data at all is still 204.
    expect((await authGet(`${QA}?network=OP&${WIN.replace(/2020/g, '2019')}`, 'bob', 'b:o:b')).status).toBe(204);
  });

  test('wrong password and unknown user → 401 without stale', async () => {
    const url = `${QA}?network=XR&${WIN}`;
    expect401(await authGet(url, 'bob', 'wrong'), false);
    expect401(await authGet(url, 'mallory', 'b:o:b'), false);
    // Right password, wrong realm in the answer.
    const chal = expect401(await get(url), false);
    expect401(await get(url, authorization('GET', url, 'bob', 'b:o:b', { ...chal, realm: 'other' })), false);
  });

  test('expired nonce with correct credentials → 401 stale=true; the new nonce then works', async () => {
    const url = `${QA}?network=XR&${WIN}`;
    const chal = expect401(await get(url), false);
    const realNow = Date.now();
    const spy = jest.spyOn(Date, 'now').mockReturnValue(realNow + 60 * 60 * 1000);
    try {
      const r = await get(url, authorization('GET', url, 'bob', 'b:o:b', chal));
      const fresh = expect401(r, true);
      expect(fresh.nonce).not.toBe(chal.nonce);
      const ok = await get(url, authorization('GET', url, 'bob', 'b:o:b', fresh));
      expect(ok.status).toBe(200);
      expect(stationsOf(ok.body as Buffer)).toEqual(['XR.RST1']);
      // Expired nonce and WRONG password: not stale (the client must ask the user again).
      expect401(await get(url, authorization('GET', url, 'bob', 'nope', chal)), false);
    } finally {
      spy.mockRestore();
    }
  });

  test('replayed Authorization header → 401 (stale=true); nc increments on the same nonce are accepted', async () => {
    const url = `${QA}?network=XR&${WIN}`;
    const chal = expect401(await get(url), false);
    const st: ClientState = { nonceCount: 0 };
    const h1 = authorization('GET', url, 'bob', 'b:o:b', chal, st);
    expect((await get(url, h1)).status).toBe(200);
    expect401(await get(url, h1), true);
    // urllib reuses a nonce with nc=00000002, 3, …: each is a new, valid request.
    const h2 = authorization('GET', url, 'bob', 'b:o:b', chal, st);
    expect(h2).toContain('nc=00000002');
    expect((await get(url, h2)).status).toBe(200);
    expect401(await get(url, h1), true);
  });

  test('garbled or foreign credentials → 401', async () => {
    const url = `${QA}?network=XR&${WIN}`;
    const chal = expect401(await get(url), false);
    const good = authorization('GET', url, 'bob', 'b:o:b', chal);
    const garbled = [
      'Basic ' + Buffer.from('bob:b:o:b').toString('base64'),
      'Digest',
      'Digest username="bob, realm="FDSN"',
      good.replace(/response="[0-9a-f]+"/, 'response="zz"'),
      good.replace(/response="([0-9a-f])/, (_m, c: string) => `response="${c === 'a' ? 'b' : 'a'}`),
      good.replace(/, qop=auth, nc=\w+, cnonce="[^"]*"/, ''), // RFC 2069 style: refused
      good.replace(/opaque="[^"]*"/, 'opaque="not-the-opaque"'),
      good + ', username="alice"', // duplicate parameter
      good.replace(/algorithm="MD5"/, 'algorithm="SHA-256"'),
    ];
    for (const h of garbled) expect401(await get(url, h), false);
    // A nonce the server never issued, with a correct digest for it: stale (not ours), not 200.
    const forged = authorization('GET', url, 'bob', 'b:o:b', { ...chal, nonce: 'abc.0123456789abcdef.0123456789abcdef012345' });
    expect401(await get(url, forged), true);
    // A correct answer for another URL must not open this one.
    const other = `${QA}?network=OP&${WIN}`;
    expect401(await get(url, authorization('GET', other, 'bob', 'b:o:b', chal)), false);
  });

  test('POST queryauth: challenge, then the bulk body with credentials', async () => {
    const body = 'quality=B\nlongestonly=false\nXR RST1 00 HHZ 2020-01-01T00:00:00.000000 2020-01-01T00:01:00.000000\nOP OPN1 -- HHZ 2020-01-01T00:00:00.000000 2020-01-01T00:01:00.000000\nOP OPN1 00 HHZ 2020-01-01T00:00:00.000000 2020-01-01T00:01:00.000000\n';
    const chal = expect401(await post(QA, body), false);
    const r = await post(QA, body, authorization('POST', QA, 'bob', 'b:o:b', chal));
    expect(r.status).toBe(200);
    expect(stationsOf(r.body as Buffer)).toEqual(['OP.OPN1', 'XR.RST1']);
    // Digest of a GET does not authorize a POST (method is part of HA2).
    const chal2 = expect401(await post(QA, body), false);
    expect401(await post(QA, body, authorization('GET', QA, 'bob', 'b:o:b', chal2)), false);
    // Anonymous POST /query: the same body gives only the open station.
    const anon = await post(Q, body);
    expect(anon.status).toBe(200);
    expect(stationsOf(anon.body as Buffer)).toEqual(['OP.OPN1']);
  });

  test('MD5-sess (RFC 7616 §3.4.2) is accepted', async () => {
    const url = `${QA}?network=XR&${WIN}`;
    const { nonce, opaque } = expect401(await get(url), false);
    const cnonce = 'f00dfeedf00dfeed';
    const ha1 = md5(`${md5(`bob:${REALM}:b:o:b`)}:${nonce}:${cnonce}`);
    const response = md5(`${ha1}:${nonce}:00000001:${cnonce}:auth:${md5(`GET:${url}`)}`);
    const h = `Digest username="bob", realm="${REALM}", nonce="${nonce}", uri="${url}", response="${response}", opaque="${opaque}", algorithm=MD5-sess, qop=auth, nc=00000001, cnonce="${cnonce}"`;
    expect((await get(url, h)).status).toBe(200);
  });

  test('without a users file queryauth can only challenge; query still works', async () => {
    const bare = createApp({ db, config: { ...config, usersFile: '' } });
    const url = `${QA}?network=XR&${WIN}`;
    const r1 = await request(bare).get(url).buffer(true).parse(binary);
    const chal = expect401(r1, false);
    const r2 = await request(bare).get(url).set('Authorization', authorization('GET', url, 'bob', 'b:o:b', chal)).buffer(true).parse(binary);
    expect401(r2, false);
    expect((await request(bare).get(`${Q}?network=XR&${WIN}`)).status).toBe(204);
  });

  test('StationXML loaded while serving closes (and, reloaded open, reopens) a station for dataselect at once, fast path too', async () => {
    const xml = (status: string) => `<?xml version="1.0" encoding="UTF-8"?>
<FDSNStationXML xmlns="http://www.fdsn.org/xml/station/1" schemaVersion="1.2"><Source>t</Source><Created>2024-01-01T00:00:00Z</Created>
<Network code="OP" startDate="2000-01-01T00:00:00Z"><Station code="OPN1" startDate="2000-01-01T00:00:00Z" restrictedStatus="${status}"><Latitude>1</Latitude><Longitude>2</Longitude><Elevation>3</Elevation><Site><Name>s</Name></Site></Station></Network></FDSNStationXML>`;
    // A separate app and policy: the shared one of the other tests must not see this file.
    const ownConfig = { ...config };
    const own = createApp({ db, config: ownConfig });
    const fast = createDataselectFastPath({ db, config: ownConfig });
    const server = http.createServer((req, res) => {
      const h = fast(req, res);
      if (h === false) void own(req, res);
      else void h.then((ok) => (ok ? undefined : own(req, res)));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${Q}?network=OP&station=OPN1&${WIN}`;
    const status = async () => (await fetch(url)).status;
    const file = path.join(dir, 'op.xml');
    try {
      expect([await status(), (await request(own).get(`${Q}?network=OP&station=OPN1&${WIN}`)).status]).toEqual([200, 200]);
      loadStationXml(db, xml('closed'), file, new Date('2024-01-01T00:00:00Z'));
      // No fdsnws-station request in between: dataselect itself picks the change up.
      expect([await status(), (await request(own).get(`${Q}?network=OP&station=OPN1&${WIN}`)).status]).toEqual([204, 204]);
      loadStationXml(db, xml('open'), file, new Date('2024-01-02T00:00:00Z'));
      expect([await status(), (await request(own).get(`${Q}?network=OP&station=OPN1&${WIN}`)).status]).toEqual([200, 200]);
    } finally {
      server.close();
      removeMetadataSource(db, file);
    }
  });

  test('WADL lists queryauth, ObsPy still picks the query method', async () => {
    const r = await request(app).get('/fdsnws/dataselect/1/application.wadl');
    expect(r.text).toContain('<resource path="queryauth">');
    expect(r.text).toContain('<method name="GET" id="query">');
  });
});

describe('restrictedStatus per channel: the nearest stated status wins for waveforms too', () => {
  let dir: string;
  let db: Database.Database;
  let config: NodeConfig;
  let app: ReturnType<typeof createApp>;
  const CHANNELS = ['HHZ', 'HHN', 'HHE'];
  const channelsOf = (body: Buffer) => [...new Set(records(body).map((h) => `${h.station}.${h.channel}`))].sort();
  /** Network PC, station TWO (status `sta`), channels HHZ/HHN/HHE with the given statuses ('' = none stated). */
  const xml = (sta: string, cha: Record<string, string>, epoch = 'startDate="2000-01-01T00:00:00Z"') => `<?xml version="1.0" encoding="UTF-8"?>
<FDSNStationXML xmlns="http://www.fdsn.org/xml/station/1" schemaVersion="1.2"><Source>t</Source><Created>2024-01-01T00:00:00Z</Created>
<Network code="PC" startDate="2000-01-01T00:00:00Z"><Station code="TWO" startDate="2000-01-01T00:00:00Z"${sta ? ` restrictedStatus="${sta}"` : ''}><Latitude>1</Latitude><Longitude>2</Longitude><Elevation>3</Elevation><Site><Name>s</Name></Site>${CHANNELS.map(
    (c) =>
      `<Channel code="${c}" locationCode="00" ${epoch}${cha[c] ? ` restrictedStatus="${cha[c]}"` : ''}><Latitude>1</Latitude><Longitude>2</Longitude><Elevation>3</Elevation><Depth>0</Depth><SampleRate>20</SampleRate></Channel>`,
  ).join('')}</Station></Network></FDSNStationXML>`;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-chanres-'));
    const arch = path.join(dir, 'archive');
    fs.mkdirSync(arch);
    const samples = Int32Array.from({ length: 2000 }, (_, i) => Math.round(1000 * Math.sin(i / 10)));
    for (const cha of CHANNELS) {
      const recs = encodeRecords({ network: 'PC', station: 'TWO', location: '00', channel: cha, startNs: T0, sampleRate: 20 }, samples, { formatVersion: 2, encoding: 'steim2', recordLength: 512 });
      fs.writeFileSync(path.join(arch, `PC.TWO.00.${cha}.mseed`), Buffer.concat(recs));
    }
    db = openIndexDb(path.join(dir, 'idx.sqlite'));
    await indexArchive(db, [arch], { workers: 0 });
    fs.writeFileSync(path.join(dir, 'users'), 'bob:b:o:b\n');
    config = { ...defaultConfig({}), dataRoot: '/', usersFile: path.join(dir, 'users'), restrictedFile: '', authRealm: REALM };
    app = createApp({ db, config });
  });
  afterAll(() => {
    db?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const get = (url: string, auth?: string) => getBytes(app, url, auth);
  const anon = async () => {
    const r = await get(`${Q}?network=PC&${WIN}`);
    return r.status === 200 ? channelsOf(r.body as Buffer) : r.status;
  };
  const bob = async () => {
    const url = `${QA}?network=PC&${WIN}`;
    const chal = expect401(await get(url), false);
    return channelsOf((await get(url, authorization('GET', url, 'bob', 'b:o:b', chal))).body as Buffer);
  };
  const availability = async (extra = '') => {
    const r = await request(app).get(`/fdsnws/availability/1/extent?network=PC&format=text${extra}`);
    return r.status === 200 ? r.text.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/).slice(1, 4).join('.') + (/RESTRICTED/.test(l) ? ' R' : '')) : r.status;
  };
  const file = () => path.join(dir, 'pc.xml');
  let when = Date.parse('2024-01-01T00:00:00Z');
  const load = (text: string) => loadStationXml(db, text, file(), new Date((when += 86_400_000)));

  test('a closed channel withholds only its own data; its open siblings are served to anyone', async () => {
    load(xml('open', { HHZ: 'closed' }));
    expect(await anon()).toEqual(['TWO.HHE', 'TWO.HHN']);
    expect(await bob()).toEqual(['TWO.HHE', 'TWO.HHN', 'TWO.HHZ']);
    expect(await availability()).toEqual(['TWO.00.HHE', 'TWO.00.HHN']);
    expect(await availability('&includerestricted=true')).toEqual(['TWO.00.HHE', 'TWO.00.HHN', 'TWO.00.HHZ R']);
    expect((await get(`${Q}?network=PC&channel=HHZ&${WIN}`)).status).toBe(204);
  });

  test('a closed station closes the channels stating nothing, not one stated open', async () => {
    load(xml('closed', { HHN: 'open' }));
    expect(await anon()).toEqual(['TWO.HHN']);
    expect(await bob()).toEqual(['TWO.HHE', 'TWO.HHN', 'TWO.HHZ']);
    load(xml('closed', {}));
    expect(await anon()).toBe(204);
    load(xml('', {}));
    expect(await anon()).toEqual(['TWO.HHE', 'TWO.HHN', 'TWO.HHZ']);
  });

  test('a channel stated open under a closed station opens only the data inside its open epochs', async () => {
    // The data are of 2020-01-01; the channels' only epoch is 2021–2022: for 2020 nothing but the
    // closed station states a status.
    load(xml('closed', { HHZ: 'open', HHN: 'open', HHE: 'open' }, 'startDate="2021-01-01T00:00:00Z" endDate="2022-01-01T00:00:00Z"'));
    expect(await anon()).toBe(204);
    expect(await availability('&includerestricted=true')).toEqual(['TWO.00.HHE R', 'TWO.00.HHN R', 'TWO.00.HHZ R']);
    load(xml('closed', { HHZ: 'open', HHN: 'open', HHE: 'open' }, 'startDate="2019-01-01T00:00:00Z" endDate="2021-01-01T00:00:00Z"'));
    expect(await anon()).toEqual(['TWO.HHE', 'TWO.HHN', 'TWO.HHZ']);
  });
});
