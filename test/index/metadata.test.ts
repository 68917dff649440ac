/**
 * The StationXML metadata store: loading (all shared files), replace-on-reload, unchanged
 * skip, merging of epochs described by several files, `updated` bookkeeping and the
 * restriction sync. Expected values come from the source files (parsed independently of the
 * store, or counted from the raw XML text).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseStationXml } from '../../src/formats/stationxml';
import { openIndexDb } from '../../src/index/db';
import {
  greatCircleDegrees,
  listMetadataSources,
  loadMetadataPaths,
  loadStationXml,
  queryMetadata,
  removeMetadataSource,
  syncMetadataRestrictions,
  type MetadataQuery,
} from '../../src/index/metadata';
import { RestrictionPolicy } from '../../src/index/restrictions';
import { describeShared, sharedFiles, sharedPath } from '../helpers/sharedData';

const ALL: MetadataQuery['selections'] = [{ network: ['*'], station: ['*'], location: ['*'], channel: ['*'], startNs: null, endNs: null }];

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-meta-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function freshDb(name: string) {
  return openIndexDb(path.join(tmp, `${name}.sqlite`));
}

const countChannels = (inv: ReturnType<typeof queryMetadata>) => inv.networks.reduce((a, n) => a + n.stations.reduce((b, s) => b + s.channels.length, 0), 0);

describeShared('metadata store with the shared StationXML files', () => {
  it('loads every file of shared/data/stationxml (raw element counts stored)', () => {
    const db = freshDb('all');
    const { results, errors } = loadMetadataPaths(db, [sharedPath('stationxml')]);
    expect(errors).toEqual([]);
    expect(results.map((r) => path.basename(r.source))).toEqual(sharedFiles('stationxml').map((f) => path.basename(f)));
    for (const r of results) {
      const text = fs.readFileSync(r.source, 'latin1');
      // Independent count: start tags in the source text (no prefixes are used for these).
      expect(r.networks).toBe((text.match(/<Network[\s>]/g) ?? []).length);
      expect(r.stations).toBe((text.match(/<Station[\s>]/g) ?? []).length);
      expect(r.channels).toBe((text.match(/<Channel[\s>]/g) ?? []).length);
      expect(r.status).toBe('loaded');
    }
    // A second run skips everything (same sha256).
    const again = loadMetadataPaths(db, [sharedPath('stationxml')]);
    expect(again.results.every((r) => r.status === 'unchanged')).toBe(true);
    expect(listMetadataSources(db)).toHaveLength(results.length);
    db.close();
  });

  it('merges epochs described by several files: each channel epoch once', () => {
    const db = freshDb('merge');
    loadMetadataPaths(db, [sharedPath('stationxml')]);
    const inv = queryMetadata(db, { selections: ALL, level: 'channel' });
    // Truth: distinct NSLC + start over all parsed files.
    const keys = new Set<string>();
    for (const f of sharedFiles('stationxml')) {
      const src = parseStationXml(fs.readFileSync(f), f);
      for (const n of src.networks) for (const s of n.stations) for (const c of s.channels) keys.add(`${n.code}.${s.code}.${c.location}.${c.code}.${c.startNs}`);
    }
    const got: string[] = [];
    for (const n of inv.networks) for (const s of n.stations) for (const c of s.channels) got.push(`${n.code}.${s.code}.${c.location}.${c.code}.${c.startNs}`);
    expect(got.length).toBe(new Set(got).size);
    expect(new Set(got)).toEqual(keys);
    // IU.ANMO (three files) is one station with the union of the channel epochs.
    const anmo = inv.networks.find((n) => n.code === 'IU')!.stations.filter((s) => s.code === 'ANMO');
    expect(anmo).toHaveLength(1);
    expect(anmo[0].channels).toHaveLength(9);
    db.close();
  });

  it('keeps the response verbatim for level=response only', () => {
    const db = freshDb('resp');
    loadStationXml(db, fs.readFileSync(sharedPath('stationxml', 'IU_ULN_00_LH1.xml')), 'uln');
    const src = parseStationXml(fs.readFileSync(sharedPath('stationxml', 'IU_ULN_00_LH1.xml')));
    const r = queryMetadata(db, { selections: ALL, level: 'response' }).networks[0].stations[0].channels[0];
    expect(r.responseXml).toBe(src.networks[0].stations[0].channels[0].responseXml);
    expect(r.sensitivity).toEqual(src.networks[0].stations[0].channels[0].sensitivity);
    expect(queryMetadata(db, { selections: ALL, level: 'channel' }).networks[0].stations[0].channels[0].responseXml).toBeNull();
    db.close();
  });
});

const doc = (stations: string, netAttrs = '') => `<?xml version="1.0" encoding="UTF-8"?>
<FDSNStationXML xmlns="http://www.fdsn.org/xml/station/1" schemaVersion="1.2">
  <Source>test</Source><Created>2024-01-01T00:00:00Z</Created>
  <Network code="XX" startDate="2000-01-01T00:00:00Z"${netAttrs}>${stations}</Network>
</FDSNStationXML>`;
const sta = (code: string, channels: string, attrs = '') =>
  `<Station code="${code}" startDate="2010-01-01T00:00:00Z"${attrs}><Latitude>10</Latitude><Longitude>20</Longitude><Elevation>5</Elevation><Site><Name>${code} site</Name></Site>${channels}</Station>`;
const cha = (code: string, rate = 20) =>
  `<Channel code="${code}" locationCode="00" startDate="2010-01-01T00:00:00Z"><Latitude>10</Latitude><Longitude>20</Longitude><Elevation>5</Elevation><Depth>0</Depth><SampleRate>${rate}</SampleRate></Channel>`;

describe('metadata store: reload, updated, restrictions', () => {
  it('a changed file replaces its previous content; an unchanged one is skipped', () => {
    const db = freshDb('reload');
    expect(loadStationXml(db, doc(sta('AAA', cha('BHZ') + cha('BHN'))), 'f.xml').status).toBe('loaded');
    expect(loadStationXml(db, doc(sta('AAA', cha('BHZ') + cha('BHN'))), 'f.xml').status).toBe('unchanged');
    const r = loadStationXml(db, doc(sta('BBB', cha('HHZ'))), 'f.xml');
    expect(r).toMatchObject({ status: 'replaced', networks: 1, stations: 1, channels: 1 });
    const inv = queryMetadata(db, { selections: ALL, level: 'channel' });
    expect(inv.networks[0].stations.map((s) => s.code)).toEqual(['BBB']);
    expect(inv.networks[0].stations[0].channels.map((c) => c.code)).toEqual(['HHZ']);
    // A broken file changes nothing.
    expect(() => loadStationXml(db, '<FDSNStationXML', 'f.xml')).toThrow();
    expect(queryMetadata(db, { selections: ALL, level: 'station' }).networks[0].stations.map((s) => s.code)).toEqual(['BBB']);
    expect(removeMetadataSource(db, 'f.xml')).toBe(true);
    expect(queryMetadata(db, { selections: ALL, level: 'network' }).networks).toEqual([]);
    db.close();
  });

  it('the most recently loaded file wins for the same epoch', () => {
    const db = freshDb('prio');
    loadStationXml(db, doc(sta('AAA', cha('BHZ', 20))), 'a.xml');
    loadStationXml(db, doc(sta('AAA', cha('BHZ', 40))), 'b.xml');
    let ch = queryMetadata(db, { selections: ALL, level: 'channel' }).networks[0].stations[0].channels;
    expect(ch.map((c) => c.sampleRate)).toEqual([40]);
    loadStationXml(db, doc(sta('AAA', cha('BHZ', 50))), 'a.xml'); // reloaded (changed) → newest
    ch = queryMetadata(db, { selections: ALL, level: 'channel' }).networks[0].stations[0].channels;
    expect(ch.map((c) => c.sampleRate)).toEqual([50]);
    db.close();
  });

  it('updated changes only for rows whose content changed', () => {
    const db = freshDb('updated');
    const t1 = new Date('2021-01-01T00:00:00Z');
    const t2 = new Date('2022-01-01T00:00:00Z');
    loadStationXml(db, doc(sta('AAA', cha('BHZ') + cha('BHN'))), 'u.xml', t1);
    loadStationXml(db, doc(sta('AAA', cha('BHZ') + cha('BHN', 40))), 'u.xml', t2);
    const after = (iso: string) => queryMetadata(db, { selections: ALL, level: 'channel', updatedAfterNs: BigInt(Date.parse(iso)) * 1_000_000n });
    expect(countChannels(after('2020-12-31T00:00:00Z'))).toBe(2);
    const changed = after('2021-06-01T00:00:00Z');
    expect(changed.networks[0].stations[0].channels.map((c) => `${c.code}@${c.sampleRate}`)).toEqual(['BHN@40']);
    expect(after('2022-01-01T00:00:00Z').networks).toEqual([]); // strictly after
    db.close();
  });

  it('closed networks/stations are registered with the restriction policy and hidden on request', () => {
    const db = freshDb('restricted');
    loadStationXml(db, doc(sta('OPN', cha('BHZ')) + sta('CLS', cha('BHZ'), ' restrictedStatus="closed"')), 'r.xml');
    const policy = new RestrictionPolicy();
    syncMetadataRestrictions(db, policy);
    syncMetadataRestrictions(db, policy); // idempotent
    expect([policy.isRestricted('XX', 'CLS'), policy.isRestricted('XX', 'CLS', '', 'BHZ'), policy.isRestricted('XX', 'OPN', '', 'BHZ')]).toEqual([true, true, false]);
    expect(policy.list()).toEqual([]); // the operator's entries only
    expect(queryMetadata(db, { selections: ALL, level: 'station' }).networks[0].stations.map((s) => s.code)).toEqual(['CLS', 'OPN']);
    expect(queryMetadata(db, { selections: ALL, level: 'station', includeRestricted: false }).networks[0].stations.map((s) => s.code)).toEqual(['OPN']);
    db.close();
  });

  it('an empty database (no store tables) answers with an empty inventory', () => {
    const db = freshDb('empty');
    expect(queryMetadata(db, { selections: ALL, level: 'station' }).networks).toEqual([]);
    db.close();
  });

  it('great-circle distance in degrees', () => {
    expect(greatCircleDegrees(0, 0, 0, 90)).toBeCloseTo(90, 9);
    expect(greatCircleDegrees(0, 179, 0, -179)).toBeCloseTo(2, 9);
    expect(greatCircleDegrees(90, 0, -90, 0)).toBeCloseTo(180, 9);
    expect(greatCircleDegrees(10, 20, 10, 20)).toBe(0);
  });
});

// fdsnws-station: endafter = epochs ending strictly after t; an open epoch (no endDate) has not
// ended (the parameter's own doc: "open epochs always do"). The fast-path comparison shares this
// predicate with the reference query, so it is checked here on its own.
test('endafter keeps open (current) epochs', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-endafter-'));
  const db = openIndexDb(path.join(dir, 'x.sqlite'));
  try {
    const xml = `<?xml version="1.0"?><FDSNStationXML xmlns="http://www.fdsn.org/xml/station/1" schemaVersion="1.2"><Source>t</Source><Created>2024-01-01T00:00:00</Created>
<Network code="XX" startDate="2000-01-01T00:00:00"><Station code="OPEN" startDate="2000-01-01T00:00:00"><Latitude>1</Latitude><Longitude>2</Longitude><Elevation>3</Elevation><Site><Name>s</Name></Site>
<Channel code="BHZ" locationCode="" startDate="2000-01-01T00:00:00"><Latitude>1</Latitude><Longitude>2</Longitude><Elevation>3</Elevation><Depth>0</Depth><Azimuth>0</Azimuth><Dip>-90</Dip><SampleRate>20</SampleRate></Channel>
</Station></Network></FDSNStationXML>`;
    loadStationXml(db, xml, 'open.xml');
    const inv = queryMetadata(db, {
      selections: [{ network: ['*'], station: ['*'], location: ['*'], channel: ['*'], startNs: null, endNs: null }],
      level: 'channel',
      endAfterNs: BigInt(Date.UTC(2020, 0, 1)) * 1_000_000n,
    });
    expect(inv.networks.flatMap((n) => n.stations.flatMap((s) => s.channels.map((c) => `${n.code}.${s.code}.${c.code}`)))).toEqual(['XX.OPEN.BHZ']);
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
