/**
 * fdsnws-station 1.1 end to end (supertest against createApp).
 *
 * Truth is independent of the store: expected networks/stations/channels come from the shared
 * StationXML files themselves (distinct codes + start dates over all files, since several files
 * describe IU.ANMO), coordinates filters are recomputed here with their own formulas, the text
 * output is read back with ObsPy's STATIONTXT rules (test/helpers/obspyStationText.ts), XML is validated
 * with xmllint against the FDSN 1.2 XSD, and data extents come from the raw tsindex rows of two
 * real miniSEED files (IU.ULN.00.LH1 2015, IU.ANMO.00.BHZ 2010) indexed into the same file.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import type Database from 'better-sqlite3';
import request from 'supertest';
import { createApp } from '../../src/app';
import { defaultConfig } from '../../src/config';
import { parseStationXml, type Inventory } from '../../src/formats/stationxml';
import { parseIsoToNs } from '../../src/formats/time';
import { openIndexDb } from '../../src/index/db';
import { indexArchive } from '../../src/index/indexer';
import { loadMetadataPaths, loadStationXml } from '../../src/index/metadata';
import { RestrictionPolicy } from '../../src/index/restrictions';
import { obspyReadStationText } from '../helpers/obspyStationText';
import { describeShared, sharedFiles, sharedPath } from '../helpers/sharedData';

const S = '/fdsnws/station/1';
const XSD = path.join(__dirname, '..', 'fixtures', 'fdsn-station-1.2.xsd');
const canValidate = spawnSync('xmllint', ['--version']).status === 0 && fs.existsSync(XSD);
if (!canValidate) console.warn('xmllint or the FDSN 1.2 XSD missing: XSD validation in station tests is skipped');

function xsdErrors(xml: string): string | null {
  if (!canValidate) return null;
  const r = spawnSync('xmllint', ['--noout', '--schema', XSD, '-'], { input: xml, encoding: 'utf8' });
  return r.status === 0 ? null : r.stderr;
}

// ---------------------------------------------------------------------------------------------
// ObsPy STATIONTXT reader rules (test/helpers/obspyStationText.ts), plus what our own output must
// never need even where ObsPy would cope: quote characters (csv would start a quoted field) and
// non-finite numbers.

function readStationTxt(text: string): ReturnType<typeof obspyReadStationText> {
  if (text.includes('"')) throw new Error('quote character in output (csv would start a quoted field)');
  const parsed = obspyReadStationText(text);
  for (const row of parsed.rows) for (const v of row) if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`could not convert string to float: ${row.join('|')}`);
  return parsed;
}

// ---------------------------------------------------------------------------------------------
// Truth from the source files

interface TruthChannel {
  net: string;
  sta: string;
  loc: string;
  cha: string;
  startNs: bigint | null;
  endNs: bigint | null;
  lat: number;
  lon: number;
}
interface TruthStation {
  net: string;
  sta: string;
  startNs: bigint | null;
  lat: number;
  lon: number;
}
function truthOf(files: string[]) {
  const nets = new Map<string, string>();
  const stas = new Map<string, TruthStation>();
  const chas = new Map<string, TruthChannel>();
  for (const f of files) {
    const inv = parseStationXml(fs.readFileSync(f), f);
    for (const n of inv.networks) {
      nets.set(`${n.code}|${n.startNs}`, n.code);
      for (const s of n.stations) {
        stas.set(`${n.code}.${s.code}|${s.startNs}`, { net: n.code, sta: s.code, startNs: s.startNs, lat: s.lat, lon: s.lon });
        for (const c of s.channels) {
          chas.set(`${n.code}.${s.code}.${c.location}.${c.code}|${c.startNs}`, { net: n.code, sta: s.code, loc: c.location, cha: c.code, startNs: c.startNs, endNs: c.endNs, lat: c.lat, lon: c.lon });
        }
      }
    }
  }
  return { nets, stas, chas };
}

const counts = (inv: Inventory) => ({
  networks: inv.networks.length,
  stations: inv.networks.reduce((a, n) => a + n.stations.length, 0),
  channels: inv.networks.reduce((a, n) => a + n.stations.reduce((b, s) => b + s.channels.length, 0), 0),
});
const stationIds = (inv: Inventory) => inv.networks.flatMap((n) => n.stations.map((s) => `${n.code}.${s.code}`)).sort();
const channelIds = (inv: Inventory) =>
  inv.networks.flatMap((n) => n.stations.flatMap((s) => s.channels.map((c) => `${n.code}.${s.code}.${c.location}.${c.code}@${c.startNs === null ? '' : new Date(Number(c.startNs / 1_000_000n)).toISOString().slice(0, 10)}`))).sort();

function degrees(lat1: number, lon1: number, lat2: number, lon2: number): number {
  // Haversine (a different formula from the service's atan2 form).
  const r = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * r) / 2) ** 2 + Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(((lon2 - lon1) * r) / 2) ** 2;
  return (2 * Math.asin(Math.sqrt(a))) / r;
}


const ULN_MSEED = () => sharedPath('mseed', 'obspy__IU_ULN_00_LH1_2015-07-18T02.mseed');
const ANMO_MSEED = () => sharedPath('mseed', 'obspy__dataselect_example.mseed');

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-station-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const config = () => ({ ...defaultConfig({}), restrictedFile: '', usersFile: '' });

describeShared('fdsnws-station over all shared StationXML files + a small waveform index', () => {
  let db: Database.Database;
  let app: ReturnType<typeof createApp>;
  const truth = () => truthOf(sharedFiles('stationxml'));
  const get = (q: string) => request(app).get(`${S}/query?${q}`);
  const xml = async (q: string): Promise<Inventory> => {
    const res = await get(q).expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/xml/);
    expect(xsdErrors(res.text)).toBeNull();
    return parseStationXml(res.text, 'response');
  };

  beforeAll(async () => {
    db = openIndexDb(path.join(tmp, 'main.sqlite'));
    const summary = await indexArchive(db, [ULN_MSEED(), ANMO_MSEED()]);
    expect(summary.errors).toEqual([]);
    const { errors } = loadMetadataPaths(db, [sharedPath('stationxml')]);
    expect(errors).toEqual([]);
    app = createApp({ db, config: config(), restrictions: new RestrictionPolicy() } as Parameters<typeof createApp>[0]);
  });
  afterAll(() => db.close());

  it('version and WADL (every parameter by long name, simple xs types)', async () => {
    const v = await request(app).get(`${S}/version`).expect(200);
    expect(v.text).toBe('1.1.0');
    const w = await request(app).get(`${S}/application.wadl`).expect(200);
    expect(w.headers['content-type']).toMatch(/^application\/xml/);
    const body = w.text;
    expect(body).toMatch(/<resources base="[^"]*\/fdsnws\/station\/1\/"/);
    expect(body).toContain('<method name="GET" id="query">');
    const names = [...body.matchAll(/<param name="([^"]+)" style="query" type="([^"]+)"/g)].map((m) => [m[1], m[2]]);
    const expected = ['starttime', 'endtime', 'startbefore', 'startafter', 'endbefore', 'endafter', 'network', 'station', 'location', 'channel', 'minlatitude', 'maxlatitude', 'minlongitude', 'maxlongitude', 'latitude', 'longitude', 'minradius', 'maxradius', 'level', 'includerestricted', 'includeavailability', 'updatedafter', 'matchtimeseries', 'format', 'nodata'];
    expect(names.map((n) => n[0]).sort()).toEqual([...expected].sort());
    for (const [, type] of names) expect(type).toMatch(/^xs:(dateTime|string|double|int|boolean)$/);
    if (spawnSync('xmllint', ['--version']).status === 0) expect(spawnSync('xmllint', ['--noout', '-'], { input: body }).status).toBe(0);
  });

  it.each(['network', 'station', 'channel', 'response'] as const)('level=%s StationXML: counts match the source files, validates against the 1.2 XSD', async (level) => {
    const t = truth();
    const inv = await xml(`level=${level}`);
    const c = counts(inv);
    // At network level all networks; at station level all stations; at channel/response level
    // only stations with channels (PY has none) and their networks.
    const stasWithChannels = new Set([...t.chas.values()].map((x) => `${x.net}.${x.sta}`));
    if (level === 'network') expect(c.networks).toBe(t.nets.size);
    if (level === 'station') {
      expect(c.networks).toBe(t.nets.size);
      expect(stationIds(inv)).toEqual([...new Set([...t.stas.values()].map((s) => `${s.net}.${s.sta}`))].sort());
    }
    if (level === 'channel' || level === 'response') {
      expect(c.channels).toBe(t.chas.size);
      expect(stationIds(inv)).toEqual([...stasWithChannels].sort());
    }
    if (level === 'response') {
      const res = await get('level=response&sta=ANMO&loc=00&cha=BHZ').expect(200);
      expect(res.text).toContain('<Stage number="3">');
    }
  });

  it.each(['network', 'station', 'channel'] as const)('level=%s format=text is read back by the ObsPy STATIONTXT rules', async (level) => {
    const t = truth();
    const res = await get(`level=${level}&format=text`).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const header = {
      network: '#Network|Description|StartTime|EndTime|TotalStations',
      station: '#Network|Station|Latitude|Longitude|Elevation|SiteName|StartTime|EndTime',
      channel: '#Network|Station|Location|Channel|Latitude|Longitude|Elevation|Depth|Azimuth|Dip|SensorDescription|Scale|ScaleFreq|ScaleUnits|SampleRate|StartTime|EndTime',
    }[level];
    expect(res.text.split('\n')[0]).toBe(header);
    const parsed = readStationTxt(res.text);
    expect(parsed.level).toBe(level);
    const expected = level === 'network' ? t.nets.size : level === 'station' ? t.stas.size : t.chas.size;
    expect(parsed.rows).toHaveLength(expected);
    if (level === 'channel') {
      const uln = parsed.rows.find((r) => r[1] === 'ULN')!;
      expect(uln.slice(0, 4)).toEqual(['IU', 'ULN', '00', 'LH1']);
      expect(uln[14]).toBe(1);
      // Open epochs have an empty EndTime (the JP channels).
      expect(parsed.rows.find((r) => r[1] === 'JKA')![16]).toBeNull();
    }
  });

  it('aliases give the same answer as long names; wildcards, lists and -- work', async () => {
    const a = await get('network=IU&station=ANMO&location=00&channel=BH?&level=channel&format=text').expect(200);
    const b = await get('net=IU&sta=ANMO&loc=00&cha=BH*&level=channel&format=text').expect(200);
    expect(a.text).toBe(b.text);
    expect(readStationTxt(a.text).rows).toHaveLength(3);
    const blank = await xml('loc=--&level=channel&cha=BHZ');
    expect(channelIds(blank)).toEqual(['BW.FFB1..BHZ@2015-07-31', 'BW.FFB2..BHZ@2015-06-12', 'BW.FFB3..BHZ@2015-06-24', 'JP.JKA..BHZ@1996-09-24', 'JP.JMM..BHZ@1996-09-24', 'JP.JSD..BHZ@1996-09-29', 'JP.JTM..BHZ@1996-10-06', 'JP.JYT..BHZ@1996-09-05']);
    const list = await xml('sta=ERM,ULN&loc=--,00&level=channel');
    expect(channelIds(list)).toEqual(['II.ERM.00.BHZ@2016-08-24', 'IU.ULN.00.LH1@2013-09-29']);
  });

  it('channel criteria at station level: only stations with matching channels', async () => {
    const res = await get('cha=HDH').expect(200);
    expect(stationIds(parseStationXml(res.text))).toEqual(['3F.MRO01']);
    expect(res.text).toContain('<SelectedNumberChannels>1</SelectedNumberChannels>');
    expect(res.text).not.toContain('<Channel '); // level=station
    const noCh = await xml('level=station&net=PY');
    expect(stationIds(noCh)).toEqual(['PY.PY']); // a station without channels is still a station
    await get('level=channel&net=PY').expect(204);
  });

  it('time window: epochs intersecting [starttime, endtime], inclusive', async () => {
    // IU.ANMO.10 epochs are split at 2014-08-12T00:00:00 exactly.
    const at = await xml('sta=ANMO&loc=10&level=channel&starttime=2014-08-12T00:00:00&endtime=2014-08-12T00:00:00');
    expect(channelIds(at)).toHaveLength(6);
    const before = await xml('sta=ANMO&loc=10&level=channel&endtime=2014-08-11T23:59:59.999999');
    expect(channelIds(before)).toEqual(['IU.ANMO.10.BH1@2012-03-13', 'IU.ANMO.10.BH2@2012-03-13', 'IU.ANMO.10.BHZ@2012-03-13']);
    await get('sta=ANMO&endtime=2000-01-01').expect(204);
  });

  it('strict startbefore/startafter/endbefore/endafter (equality never matches)', async () => {
    const q = (p: string) => get(`sta=ANMO&loc=10&level=channel&${p}`);
    const ids = async (p: string) => {
      const r = await q(p);
      return r.status === 204 ? [] : channelIds(parseStationXml(r.text));
    };
    const early = ['IU.ANMO.10.BH1@2012-03-13', 'IU.ANMO.10.BH2@2012-03-13', 'IU.ANMO.10.BHZ@2012-03-13'];
    const late = ['IU.ANMO.10.BH1@2014-08-12', 'IU.ANMO.10.BH2@2014-08-12', 'IU.ANMO.10.BHZ@2014-08-12'];
    expect(await ids('endbefore=2014-08-12T00:00:00')).toEqual([]);
    expect(await ids('endbefore=2014-08-12T00:00:00.000001')).toEqual(early);
    expect(await ids('endafter=2014-08-12T00:00:00')).toEqual(late);
    expect(await ids('endafter=2014-08-11T23:59:59')).toEqual([...early, ...late].sort());
    expect(await ids('startafter=2014-08-12T00:00:00')).toEqual([]);
    expect(await ids('startafter=2014-08-11T23:59:59')).toEqual(late);
    expect(await ids('startbefore=2012-03-13T08:10:00')).toEqual([]);
    expect(await ids('startbefore=2012-03-13T08:10:00.5')).toEqual(early);
    // Combined with a window.
    expect(await ids('starttime=2013-01-01&endafter=2014-08-12T00:00:00')).toEqual(late);
  });

  it('latitude/longitude box (inclusive) and a box crossing the date line', async () => {
    const t = truth();
    const expectBox = (minLon: number, maxLon: number, minLat = -90, maxLat = 90) =>
      [...new Set([...t.stas.values()].filter((s) => s.lat >= minLat && s.lat <= maxLat && (minLon <= maxLon ? s.lon >= minLon && s.lon <= maxLon : s.lon >= minLon || s.lon <= maxLon)).map((s) => `${s.net}.${s.sta}`))].sort();
    const cross = await xml('minlon=150&maxlon=-100');
    expect(stationIds(cross)).toEqual(expectBox(150, -100));
    expect(stationIds(cross)).toEqual(['3F.MRO01', 'IU.ANMO']);
    const box = await xml('minlatitude=36.230831&maxlatitude=40&minlongitude=138&maxlongitude=141');
    expect(stationIds(box)).toEqual(expectBox(138, 141, 36.230831, 40)); // JYT exactly on the edge
    expect(stationIds(box)).toContain('JP.JYT');
    await get('minlon=170&maxlon=-170').expect(204);
    // Channel level uses channel coordinates: JP.JKA's channel is at 44.1N, its station at 41.1N.
    expect(stationIds(await xml('level=station&sta=JKA&minlat=41&maxlat=42'))).toEqual(['JP.JKA']);
    await get('level=channel&sta=JKA&minlat=41&maxlat=42').expect(204);
    expect(channelIds(await xml('level=channel&sta=JKA&minlat=44&maxlat=45'))).toEqual(['JP.JKA..BHZ@1996-09-24']);
  });

  it('radius search (great circle, degrees)', async () => {
    const t = truth();
    const within = (lat: number, lon: number, min: number, max: number) =>
      [...new Set([...t.stas.values()].filter((s) => degrees(lat, lon, s.lat, s.lon) >= min && degrees(lat, lon, s.lat, s.lon) <= max).map((s) => `${s.net}.${s.sta}`))].sort();
    const r1 = await xml('latitude=38&longitude=140&maxradius=2.5');
    expect(stationIds(r1)).toEqual(within(38, 140, 0, 2.5));
    expect(stationIds(r1)).toEqual(['JP.JMM', 'JP.JSD', 'JP.JYT']);
    const r2 = await xml('lat=38&lon=140&minradius=1&maxradius=2.5');
    expect(stationIds(r2)).toEqual(within(38, 140, 1, 2.5));
    // Across the date line: Macquarie (159.37E) from 170W.
    expect(stationIds(await xml('lat=-54&lon=-170&maxradius=25'))).toEqual(within(-54, -170, 0, 25));
    expect(stationIds(await xml('lat=-54&lon=-170&maxradius=25'))).toEqual(['3F.MRO01']);
  });

  it('matchtimeseries: only channel epochs with data in the index (epoch ∩ window)', async () => {
    const uln = await xml('level=channel&net=IU&matchtimeseries=true');
    // IU.ANMO.00.BHZ data (2010-02-27) lies before every ANMO epoch in the shared files.
    expect(channelIds(uln)).toEqual(['IU.ULN.00.LH1@2013-09-29']);
    expect(stationIds(await xml('level=station&matchtimeseries=true'))).toEqual(['IU.ULN']);
    await get('level=channel&sta=ULN&matchtimeseries=true&starttime=2015-07-18T05:27:32.1').expect(204);
    const inWin = await xml('level=channel&sta=ULN&matchtimeseries=true&starttime=2015-07-18T05:27:32&endtime=2015-07-19');
    expect(channelIds(inWin)).toEqual(['IU.ULN.00.LH1@2013-09-29']);
  });

  it('includeavailability: DataAvailability extents equal the index extents', async () => {
    const rows = db.prepare("SELECT starttime, endtime FROM tsindex WHERE station = 'ULN'").all() as Array<{ starttime: string; endtime: string }>;
    const start = rows.map((r) => parseIsoToNs(r.starttime)!).reduce((a, b) => (a < b ? a : b));
    const end = rows.map((r) => parseIsoToNs(r.endtime)!).reduce((a, b) => (a > b ? a : b));
    const res = await get('level=channel&sta=ULN&includeavailability=true').expect(200);
    expect(xsdErrors(res.text)).toBeNull();
    const ch = parseStationXml(res.text).networks[0].stations[0].channels[0];
    expect(ch.dataAvailability).toEqual({ startNs: start, endNs: end });
    // PROVENANCE.md: 2015-07-18T02:27:33.0695 (rounded there).
    expect(Number(ch.dataAvailability!.startNs - parseIsoToNs('2015-07-18T02:27:33.0695')!)).toBeLessThan(100_000);
    // Without the flag (and for channels without data) no DataAvailability.
    expect((await get('level=channel&sta=ULN').expect(200)).text).not.toContain('DataAvailability');
    expect((await get('level=channel&sta=JKA&includeavailability=true').expect(200)).text).not.toContain('DataAvailability');
  });

  it('POST body (key=value lines, then selection lines; 4-field lines and open times)', async () => {
    const body = 'level=channel\nformat=text\nIU * * BH? 2010-01-01T00:00:00 2020-01-01T00:00:00\n';
    const res = await request(app).post(`${S}/query`).set('Content-Type', 'text/plain').send(body).expect(200);
    const t = truth();
    const exp = [...t.chas.values()].filter(
      (c) => c.net === 'IU' && /^BH.$/.test(c.cha) && (c.startNs ?? 0n) <= parseIsoToNs('2020-01-01')! && (c.endNs === null || c.endNs >= parseIsoToNs('2010-01-01')!),
    );
    expect(readStationTxt(res.text).rows).toHaveLength(exp.length);
    expect(exp.length).toBe(9);
    // Several lines are a union; nodata honoured in POST.
    const two = await request(app).post(`${S}/query`).send('level=station\nformat=text\nJP JKA -- BHZ\nII ERM 00 BHZ * *\n').expect(200);
    expect(readStationTxt(two.text).rows.map((r) => `${r[0]}.${r[1]}`)).toEqual(['II.ERM', 'JP.JKA']);
    await request(app).post(`${S}/query`).send('nodata=404\nXX ABC 99 XXX 1980-01-01T00:00:00 1980-01-01T00:05:00\n').expect(404);
    await request(app).post(`${S}/query`).send('starttime=2010-01-01\nIU * * *\n').expect(400);
    await request(app).post(`${S}/query?level=channel`).send('IU * * *\n').expect(400);
  });

  it('no data: 204 with an empty body by default, 404 with the FDSN text with nodata=404', async () => {
    const q = 'net=XX&sta=ABC&loc=99&cha=XXX&start=1980-01-01T00:00:00&end=1980-01-01T00:05:00';
    const r204 = await get(q).expect(204);
    expect(r204.text ?? '').toBe('');
    const r404 = await get(`${q}&nodata=404`).expect(404);
    expect(r404.text).toMatch(/^Error 404: /);
    expect(r404.headers['access-control-allow-origin']).toBe('*');
  });

  it.each([
    ['unknown parameter', 'foo=bar'],
    ['exponent float', 'minlat=1e1'],
    ['latitude above 90', 'minlatitude=91'],
    ['centre latitude above 90', 'latitude=90.5'],
    ['longitude below -180', 'minlon=-181'],
    ['end before start', 'starttime=2020-01-02&endtime=2020-01-01'],
    ['bad level', 'level=sensor'],
    ['text at response level', 'level=response&format=text'],
    ['bad format', 'format=json'],
    ['bad boolean', 'includerestricted=maybe'],
    ['bad time', 'starttime=2020-13-01'],
    ['bad updatedafter', 'updatedafter=yesterday'],
    ['minlat > maxlat', 'minlat=10&maxlat=5'],
    ['minradius > maxradius', 'lat=0&lon=0&minradius=10&maxradius=5'],
    ['radius above 180', 'maxradius=181'],
    ['repeated parameter', 'net=IU&network=II'],
    ['bad nodata', 'nodata=500'],
  ])('400 for %s', async (_what, q) => {
    const res = await get(q).expect(400);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/^Error 400: /);
    for (const s of ['\nRequest:\n', '\nRequest Submitted:\n', '\nService version:\n1.1.0']) expect(res.text).toContain(s);
  });

  it('accepted time forms (Z, fractions, date only, 1970)', async () => {
    for (const t of ['2020-01-01', '2020-01-01T00:00:00', '2020-01-01T00:00:00.1', '2020-01-01T00:00:00.123456', '2020-01-01T00:00:00Z', '1970-01-01T00:00:00']) {
      await get(`sta=ULN&starttime=${t}`).expect(200);
    }
  });

  it('gzip when accepted', async () => {
    // Raw bytes over a real socket (supertest would inflate them itself).
    const server = app.listen(0);
    const port = (server.address() as import('node:net').AddressInfo).port;
    const raw = await new Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      http
        .get({ port, path: `${S}/query?level=response&sta=ANMO`, headers: { 'Accept-Encoding': 'gzip' } }, (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => resolve({ headers: r.headers, body: Buffer.concat(chunks) }));
        })
        .on('error', reject);
    });
    server.close();
    expect(raw.headers['content-encoding']).toBe('gzip');
    const text = zlib.gunzipSync(raw.body).toString('utf8');
    expect(text).toContain('<FDSNStationXML');
    expect(xsdErrors(text)).toBeNull();
  });

  it('unknown resource → 404 FDSN body', async () => {
    const res = await request(app).get(`${S}/nothing`).expect(404);
    expect(res.text).toMatch(/^Error 404: /);
  });
});

describeShared('fdsnws-station: matchtimeseries keeps IU.ANMO.00.BHZ when an epoch holds its data', () => {
  // The shared ANMO file has no epoch covering the 2010 data, so a copy moves 00.BHZ's epoch to
  // 2010-01-01 .. 2012-03-12T20:28:00 (only that Channel start tag is changed).
  let db: Database.Database;
  let app: ReturnType<typeof createApp>;
  beforeAll(async () => {
    const src = fs.readFileSync(sharedPath('stationxml', 'IU_ANMO_BH.xml'), 'latin1');
    const from = '<Channel locationCode="00" startDate="2012-03-12T20:28:00" restrictedStatus="open" endDate="2599-12-31T23:59:59" code="BHZ">';
    expect(src).toContain(from);
    const copy = path.join(tmp, 'IU_ANMO_BH_2010.xml');
    fs.writeFileSync(copy, src.replace(from, '<Channel locationCode="00" startDate="2010-01-01T00:00:00" restrictedStatus="open" endDate="2012-03-12T20:28:00" code="BHZ">'), 'latin1');
    db = openIndexDb(path.join(tmp, 'anmo.sqlite'));
    await indexArchive(db, [ANMO_MSEED(), ULN_MSEED()]);
    loadMetadataPaths(db, [copy, sharedPath('stationxml', 'IU_ULN_00_LH1.xml')]);
    app = createApp({ db, config: config(), restrictions: new RestrictionPolicy() } as Parameters<typeof createApp>[0]);
  });
  afterAll(() => db.close());

  it('drops the channels without data, keeps 00.BHZ in the data epoch', async () => {
    const all = parseStationXml((await request(app).get(`${S}/query?sta=ANMO&level=channel`).expect(200)).text);
    expect(counts(all).channels).toBe(9);
    const res = await request(app).get(`${S}/query?sta=ANMO&level=channel&matchtimeseries=true`).expect(200);
    expect(channelIds(parseStationXml(res.text))).toEqual(['IU.ANMO.00.BHZ@2010-01-01']);
    // Window outside the data, but inside the epoch → nothing.
    await request(app).get(`${S}/query?sta=ANMO&matchtimeseries=true&starttime=2011-01-01`).expect(204);
    // Text format too, with the station level pruned the same way.
    const txt = await request(app).get(`${S}/query?net=IU&level=station&format=text&matchtimeseries=true`).expect(200);
    expect(readStationTxt(txt.text).rows.map((r) => r[1])).toEqual(['ANMO', 'ULN']);
    // includeavailability on the 2010 epoch.
    const av = parseStationXml((await request(app).get(`${S}/query?sta=ANMO&cha=BHZ&loc=00&level=channel&includeavailability=true`).expect(200)).text);
    const ch = av.networks[0].stations[0].channels[0];
    const first = (db.prepare("SELECT starttime FROM tsindex WHERE station = 'ANMO'").all() as Array<{ starttime: string }>).map((r) => parseIsoToNs(r.starttime)!);
    expect(ch.dataAvailability?.startNs).toBe(first.reduce((a, b) => (a < b ? a : b)));
  });
});

describe('fdsnws-station: restricted metadata, updatedafter, reload', () => {
  const doc = (stations: string) => `<?xml version="1.0" encoding="UTF-8"?>
<FDSNStationXML xmlns="http://www.fdsn.org/xml/station/1" schemaVersion="1.2"><Source>t</Source><Created>2024-01-01T00:00:00Z</Created>
<Network code="XR" startDate="2000-01-01T00:00:00Z" restrictedStatus="partial">${stations}</Network></FDSNStationXML>`;
  const sta = (code: string, attrs = '', rate = 20) =>
    `<Station code="${code}" startDate="2010-01-01T00:00:00Z"${attrs}><Latitude>1</Latitude><Longitude>2</Longitude><Elevation>3</Elevation><Site><Name>S ${code}</Name></Site>` +
    `<Channel code="BHZ" locationCode="" startDate="2010-01-01T00:00:00Z"><Latitude>1</Latitude><Longitude>2</Longitude><Elevation>3</Elevation><Depth>0</Depth><SampleRate>${rate}</SampleRate></Channel></Station>`;
  let db: Database.Database;
  let app: ReturnType<typeof createApp>;
  let policy: RestrictionPolicy;
  const file = () => path.join(tmp, 'xr.xml');
  beforeAll(() => {
    db = openIndexDb(path.join(tmp, 'xr.sqlite'));
    loadStationXml(db, doc(sta('OPN', ' restrictedStatus="open"') + sta('CLS', ' restrictedStatus="closed"')), file(), new Date('2021-01-01T00:00:00Z'));
    policy = new RestrictionPolicy();
    app = createApp({ db, config: config(), restrictions: policy } as Parameters<typeof createApp>[0]);
  });
  afterAll(() => db.close());
  const ids = async (q: string) => {
    const r = await request(app).get(`${S}/query?${q}`);
    return r.status === 204 ? [] : stationIds(parseStationXml(r.text));
  };

  it('includerestricted (default TRUE) and =false; closed stations reach the restriction policy', async () => {
    expect(await ids('net=XR')).toEqual(['XR.CLS', 'XR.OPN']);
    expect(await ids('net=XR&includerestricted=true')).toEqual(['XR.CLS', 'XR.OPN']);
    expect(await ids('net=XR&includerestricted=false')).toEqual(['XR.OPN']);
    expect(await ids('net=XR&level=channel&includerestricted=FALSE')).toEqual(['XR.OPN']);
    expect(policy.isRestricted('XR', 'CLS')).toBe(true); // dataselect will not serve its waveforms anonymously
    expect(policy.isRestricted('XR', 'OPN')).toBe(false);
    const xml = (await request(app).get(`${S}/query?net=XR&level=channel`).expect(200)).text;
    expect(xsdErrors(xml)).toBeNull();
    expect(xml).toContain('restrictedStatus="closed"');
  });

  it("restrictedStatus says what the node enforces: a station the operator's policy restricts is closed (with its channels), its network partial or closed", async () => {
    const status = async (p: RestrictionPolicy) => {
      const a = createApp({ db, config: config(), restrictions: p } as Parameters<typeof createApp>[0]);
      const xml = (await request(a).get(`${S}/query?net=XR&level=channel`).expect(200)).text;
      expect(xsdErrors(xml)).toBeNull();
      const n = parseStationXml(xml).networks[0];
      return { net: n.restrictedStatus, ...Object.fromEntries(n.stations.map((st) => [st.code, [st.restrictedStatus, ...st.channels.map((c) => c.restrictedStatus)].join('/')])) };
    };
    // CLS is closed by its own file, which its channel (stating none) inherits: not rewritten.
    expect(await status(new RestrictionPolicy([{ network: 'XR', station: 'OPN' }]))).toEqual({ net: 'partial', OPN: 'closed/closed', CLS: 'closed/' });
    expect(await status(new RestrictionPolicy([{ network: 'XR', station: '*' }]))).toEqual({ net: 'closed', OPN: 'closed/closed', CLS: 'closed/closed' });
    // no policy entry: the file's own statuses (CLS closed reaches the policy for its waveforms, see above)
    expect(await status(new RestrictionPolicy())).toEqual({ net: 'partial', OPN: 'open/', CLS: 'closed/' }); // neither channel states one
  });

  it('updatedafter, and reload of a changed file (served without restarting)', async () => {
    expect(await ids('updatedafter=2020-12-31T00:00:00')).toEqual(['XR.CLS', 'XR.OPN']);
    await request(app).get(`${S}/query?updatedafter=2021-01-01T00:00:00`).expect(204); // strictly after
    // The file changes: CLS removed, OPN's channel changed, NEW added.
    const r = loadStationXml(db, doc(sta('OPN', ' restrictedStatus="open"', 40) + sta('NEW')), file(), new Date('2022-01-01T00:00:00Z'));
    expect(r.status).toBe('replaced');
    expect(await ids('net=XR')).toEqual(['XR.NEW', 'XR.OPN']);
    // Station level: OPN's station row is unchanged (only its channel changed).
    expect(await ids('updatedafter=2021-06-01&level=station')).toEqual(['XR.NEW']);
    expect(await ids('updatedafter=2021-06-01&level=channel')).toEqual(['XR.NEW', 'XR.OPN']);
    const text = (await request(app).get(`${S}/query?level=channel&format=text&sta=OPN`).expect(200)).text;
    expect(readStationTxt(text).rows[0][14]).toBe(40);
  });

  it('a child states its own status: open siblings of a closed channel and open stations of a closed network stay open; a reload reopens while serving', async () => {
    const cha = (code: string, status: string) =>
      `<Channel code="${code}" locationCode="" startDate="2000-01-01T00:00:00Z" restrictedStatus="${status}"><Latitude>1</Latitude><Longitude>1</Longitude><Elevation>0</Elevation><Depth>0</Depth><SampleRate>20</SampleRate></Channel>`;
    const st = (status: string, channels: string) =>
      `<Station code="OPN" startDate="2000-01-01T00:00:00Z" restrictedStatus="${status}"><Latitude>1</Latitude><Longitude>1</Longitude><Elevation>0</Elevation><Site><Name>x</Name></Site>${channels}</Station>`;
    const twoNets = (closed: string) => `<?xml version="1.0" encoding="UTF-8"?>
<FDSNStationXML xmlns="http://www.fdsn.org/xml/station/1" schemaVersion="1.2"><Source>t</Source><Created>2024-01-01T00:00:00Z</Created>
<Network code="ZR" startDate="2000-01-01T00:00:00Z" restrictedStatus="open">${st('open', cha('BHZ', closed) + cha('BHN', 'open'))}</Network>
<Network code="ZQ" startDate="2000-01-01T00:00:00Z" restrictedStatus="${closed}">${st('open', cha('BHZ', 'open'))}</Network></FDSNStationXML>`;
    const zdb = openIndexDb(path.join(tmp, 'zr.sqlite'));
    const zfile = path.join(tmp, 'zr.xml');
    try {
      loadStationXml(zdb, twoNets('closed'), zfile, new Date('2021-01-01T00:00:00Z'));
      const zpolicy = new RestrictionPolicy();
      const zapp = createApp({ db: zdb, config: config(), restrictions: zpolicy } as Parameters<typeof createApp>[0]);
      const statuses = async () => {
        const inv = parseStationXml((await request(zapp).get(`${S}/query?level=channel`).expect(200)).text);
        return inv.networks.flatMap((n) => n.stations.flatMap((x) => x.channels.map((c) => `${n.code}:${n.restrictedStatus}/${x.code}:${x.restrictedStatus}/${c.code}:${c.restrictedStatus}`)));
      };
      expect(await statuses()).toEqual(['ZQ:closed/OPN:open/BHZ:open', 'ZR:open/OPN:open/BHN:open', 'ZR:open/OPN:open/BHZ:closed']);
      const open = await request(zapp).get(`${S}/query?level=channel&format=text&includerestricted=false`).expect(200);
      expect(readStationTxt(open.text).rows.map((r) => `${r[0]}.${r[1]}..${r[3]}`)).toEqual(['ZQ.OPN..BHZ', 'ZR.OPN..BHN']);
      // Waveforms follow the same statuses: the closed channel withholds its own data only; ZQ.OPN,
      // stated open under its closed network, serves its data as listed, while the rest of ZQ (a
      // station with data but no metadata) stays closed.
      // (An open statement under a closed parent counts for data inside its epochs: `at`.)
      const at = [BigInt(Date.UTC(2020, 0, 1)) * 1_000_000n, BigInt(Date.UTC(2020, 0, 2)) * 1_000_000n] as const;
      const before = [BigInt(Date.UTC(1999, 0, 1)) * 1_000_000n, BigInt(Date.UTC(1999, 0, 2)) * 1_000_000n] as const;
      expect([
        zpolicy.isRestricted('ZR', 'OPN', '', 'BHZ', at),
        zpolicy.isRestricted('ZR', 'OPN', '', 'BHN', at),
        zpolicy.isRestricted('ZR', 'OPN'),
        zpolicy.isRestricted('ZQ', 'OPN', '', 'BHZ', at),
        zpolicy.isRestricted('ZQ', 'OPN', '', 'BHZ', before), // before every epoch: the network's closed
        zpolicy.isRestricted('ZQ', 'OPN', '', 'BHZ'), // no time given: the closed parent
        zpolicy.isRestricted('ZQ', 'OTHER'),
        zpolicy.isRestricted('ZQ', 'OTHER', '', 'BHZ', at),
      ]).toEqual([true, false, false, false, true, true, true, true]);
      // At level=network a closed network is its own status.
      const nets = await request(zapp).get(`${S}/query?level=network&format=text&includerestricted=false`).expect(200);
      expect(readStationTxt(nets.text).rows.map((r) => r[0])).toEqual(['ZR']);
      // Reloaded with everything open, while serving: reopened without a restart.
      expect(loadStationXml(zdb, twoNets('open'), zfile, new Date('2022-01-01T00:00:00Z')).status).toBe('replaced');
      expect(await statuses()).toEqual(['ZQ:open/OPN:open/BHZ:open', 'ZR:open/OPN:open/BHN:open', 'ZR:open/OPN:open/BHZ:open']);
      expect([zpolicy.isRestricted('ZR', 'OPN', '', 'BHZ'), zpolicy.isRestricted('ZQ', 'OPN'), zpolicy.isRestricted('ZQ', 'OTHER')]).toEqual([false, false, false]);
    } finally {
      zdb.close();
    }
  });
});
