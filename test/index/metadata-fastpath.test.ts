/**
 * The fast query paths of the metadata store give exactly what the previous full-model path
 * gave: queryMetadata (cached statements, grouped totals, lazily read columns) deep-equals
 * queryMetadataReference (the old path: every column and extra_json read and decoded, totals
 * counted row by row), and for every level and format the service output written from
 * queryMetadataFor(…, 'text' | 'xml') — with stationText, stationTextFast and writeStationXml —
 * is byte-identical to the output written from the reference model. On all shared StationXML
 * files (merged: IU.ANMO in three files) and on a generated store with edge cases.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { parseStationXml, stationText, writeStationXml, type Channel, type Inventory, type StationLevel } from '../../src/formats/stationxml';
import { stationTextFast } from '../../src/formats/stationxml/textRows';
import { openIndexDb } from '../../src/index/db';
import {
  loadInventory,
  loadMetadataPaths,
  loadStationXml,
  queryMetadata,
  queryMetadataFor,
  queryMetadataReference,
  type MetadataQuery,
  type MetadataSelection,
} from '../../src/index/metadata';
import { describeShared, sharedFiles, sharedPath } from '../helpers/sharedData';

const LEVELS: StationLevel[] = ['network', 'station', 'channel', 'response'];
const ns = (iso: string) => BigInt(Date.parse(iso)) * 1_000_000n;
const line = (network = '*', station = '*', location = '*', channel = '*', startNs: bigint | null = null, endNs: bigint | null = null): MetadataSelection => ({
  network: network.split(','),
  station: station.split(','),
  location: location.split(','),
  channel: channel.split(','),
  startNs,
  endNs,
});

/** Query variants (without level): codes, wildcards, windows, strict times, geography, restrictions, updatedafter, several lines. */
function variants(firstSource: string): Array<{ name: string; q: Omit<MetadataQuery, 'level'> }> {
  return [
    { name: 'all', q: { selections: [line()] } },
    { name: 'network IU', q: { selections: [line('IU')] } },
    { name: 'station wildcard', q: { selections: [line('I?,J*', 'A*,J?A,ULN')] } },
    { name: 'channel criteria', q: { selections: [line('*', '*', '00,--,', 'BH?,LH*,HH*')] } },
    { name: 'window', q: { selections: [line('*', '*', '*', '*', ns('2010-01-01T00:00:00Z'), ns('2012-06-30T00:00:00Z'))] } },
    { name: 'strict times', q: { selections: [line()], startBeforeNs: ns('2011-01-01T00:00:00Z'), endAfterNs: ns('2015-01-01T00:00:00Z') } },
    { name: 'start after / end before', q: { selections: [line()], startAfterNs: ns('2000-01-01T00:00:00Z'), endBeforeNs: ns('2600-01-01T00:00:00Z') } },
    { name: 'box', q: { selections: [line()], box: { minLat: 0, maxLat: 60, minLon: 100, maxLon: -100 } } },
    { name: 'radius', q: { selections: [line()], radius: { lat: 35, lon: -106, minRadius: 0, maxRadius: 60 } } },
    { name: 'restricted hidden + policy', q: { selections: [line()], includeRestricted: false, isRestricted: (n, s) => n === 'IU' && s === 'ULN' } },
    { name: 'updatedafter (all)', q: { selections: [line()], updatedAfterNs: ns('2000-01-01T00:00:00Z') } },
    { name: 'updatedafter (none)', q: { selections: [line()], updatedAfterNs: ns('2999-01-01T00:00:00Z') } },
    { name: 'exclude a source', q: { selections: [line()], excludeSources: [firstSource] } },
    { name: 'two lines', q: { selections: [line('IU', 'ANMO', '00', 'BHZ'), line('J*,B?,P*', '*', '*', '*', ns('2005-01-01T00:00:00Z'), null)] } },
    { name: 'matchtimeseries (no waveform index)', q: { selections: [line()], matchTimeseries: true } },
    { name: 'nothing', q: { selections: [line('ZZ')] } },
  ];
}

const CREATED = ns('2024-05-01T12:00:00Z');
const xml = (inv: Inventory, level: StationLevel) =>
  writeStationXml(inv, { level, source: 'GeoNode', sender: 'GeoNode', module: 'GeoNode fdsnws-station test', moduleUri: 'http://x/q', created: CREATED });

/** Every check for one store. Returns how many non-empty answers were compared (so a test cannot pass on empty stores). */
function expectSameOutputs(db: Database.Database, firstSource: string): number {
  let compared = 0;
  for (const v of variants(firstSource)) {
    for (const level of LEVELS) {
      const q: MetadataQuery = { ...v.q, level };
      const ref = queryMetadataReference(db, q);
      const what = `${v.name} @ ${level}`;
      expect({ what, inv: queryMetadata(db, q) }).toStrictEqual({ what, inv: ref });
      const forXml = queryMetadataFor(db, q, 'xml');
      expect({ what, empty: forXml.networks.length === 0 }).toEqual({ what, empty: ref.networks.length === 0 });
      if (ref.networks.length === 0) continue;
      compared++;
      expect({ what, xml: xml(forXml, level) }).toEqual({ what, xml: xml(ref, level) });
      if (level !== 'response') {
        const forText = queryMetadataFor(db, q, 'text');
        const want = stationText(ref, level);
        expect({ what, text: stationText(forText, level) }).toEqual({ what, text: want });
        expect({ what, text: stationTextFast(forText, level) }).toEqual({ what, text: want });
        expect({ what, text: stationTextFast(ref, level) }).toEqual({ what, text: want });
      }
    }
  }
  return compared;
}

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-meta-fast-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describeShared('metadata fast paths = reference path, on the shared StationXML files', () => {
  it('same model, same text and same StationXML for every level and query variant', () => {
    const db = openIndexDb(path.join(tmp, 'shared.sqlite'));
    const { errors, results } = loadMetadataPaths(db, [sharedPath('stationxml')]);
    expect(errors).toEqual([]);
    expect(expectSameOutputs(db, results[0].source)).toBeGreaterThan(40);
    db.close();
  });

  it('stationTextFast = stationText on every parsed shared file, every text level', () => {
    for (const f of sharedFiles('stationxml')) {
      const inv = parseStationXml(fs.readFileSync(f), path.basename(f));
      for (const level of ['network', 'station', 'channel'] as const) expect({ f, level, t: stationTextFast(inv, level) }).toEqual({ f, level, t: stationText(inv, level) });
    }
  });
});

describe('metadata fast paths = reference path, on a generated store with edge cases', () => {
  const base: Channel = {
    location: '00', code: 'BHZ', startNs: ns('2010-01-01T00:00:00Z'), endNs: null, restrictedStatus: null, description: 'd', lat: 10.5, lon: -20.25,
    elevation: 100, depth: 0, azimuth: 0, dip: -90, types: ['CONTINUOUS'], sampleRate: 20, clockDrift: 1e-5, sensorDescription: 'Sensor | "x"\tY',
    sensitivity: { value: 1.5e9, frequency: 1, inputUnits: 'M/S', outputUnits: 'COUNTS' }, responseXml: null, responseStageCount: 0,
    dataAvailability: null, attributes: [], extras: [],
  }; // prettier-ignore
  const build = (net: string, netStart: bigint | null, staStart: bigint | null, channels: Channel[], restricted: string | null = null): Inventory => ({
    schemaVersion: '1.2', source: 'gen', sender: null, module: null, moduleUri: null, createdNs: null,
    networks: [{
      code: net, description: `Net ${net}`, startNs: netStart, endNs: null, restrictedStatus: null, totalNumberStations: 99, attributes: [], extras: [],
      stations: [{
        code: 'STA', startNs: staStart, endNs: null, restrictedStatus: restricted, description: null, lat: 1, lon: 2, elevation: 3, siteName: 'Site, "q"',
        site: { name: 'Site, "q"', country: 'X' }, creationDateNs: null, terminationDateNs: null, totalNumberChannels: 42, channels, attributes: [], extras: [],
      }],
    }],
  }); // prettier-ignore

  it('same outputs with merges, null starts, odd sensitivities, responses, restricted stations', () => {
    const db = openIndexDb(path.join(tmp, 'gen.sqlite'));
    const resp = fs.existsSync(sharedPath('stationxml', 'IU_ULN_00_LH1.xml'))
      ? parseStationXml(fs.readFileSync(sharedPath('stationxml', 'IU_ULN_00_LH1.xml'))).networks[0].stations[0].channels[0]
      : null;
    const t0 = ns('2010-01-01T00:00:00Z');
    loadInventory(db, build('IU', t0, t0, [base, { ...base, code: 'BHN', azimuth: null, dip: null, sampleRate: null, sensitivity: null }]), 'gen:a');
    // Same channel epoch again under the same station (newer source wins) plus a NaN / infinite sensitivity.
    loadInventory(
      db,
      build('IU', t0, t0, [
        { ...base, sampleRate: 40 },
        { ...base, code: 'LHZ', sensitivity: { value: NaN, frequency: Infinity, inputUnits: 'PA', outputUnits: 'COUNTS' } },
        ...(resp ? [{ ...resp, location: '10', code: 'LH1' }] : []),
      ]),
      'gen:b',
    );
    // Open network/station starts (text falls back to the earliest start below), a channel without start, another station start for the same codes.
    loadInventory(db, build('XX', null, null, [{ ...base, startNs: null }, { ...base, code: 'HHZ', startNs: ns('2015-03-04T05:06:07.123456789Z') }]), 'gen:c');
    loadInventory(db, build('XX', null, ns('2001-01-01T00:00:00Z'), [{ ...base, location: '', code: 'EHZ' }], 'closed'), 'gen:d');
    loadStationXml(
      db,
      `<?xml version="1.0" encoding="UTF-8"?><FDSNStationXML xmlns="http://www.fdsn.org/xml/station/1" schemaVersion="1.2"><Source>t</Source><Created>2024-01-01T00:00:00Z</Created>
       <Network code="JP" startDate="2000-01-01T00:00:00Z" restrictedStatus="closed"><Station code="JKA" startDate="2010-01-01T00:00:00Z"><Latitude>35</Latitude><Longitude>139</Longitude><Elevation>5</Elevation><Site><Name>J</Name></Site>
       <Channel code="BHZ" locationCode="" startDate="2010-01-01T00:00:00Z" restrictedStatus="open"><Latitude>35.5</Latitude><Longitude>139.5</Longitude><Elevation>5</Elevation><Depth>0</Depth><SampleRate>20</SampleRate></Channel></Station></Network></FDSNStationXML>`,
      'jp.xml',
    );
    expect(expectSameOutputs(db, 'gen:a')).toBeGreaterThan(30);
    db.close();
  });

  it('repeated queries reuse cached candidates until anything is written (this connection or another one)', () => {
    const file = path.join(tmp, 'cache.sqlite');
    const db = openIndexDb(file);
    const other = openIndexDb(file);
    const q: MetadataQuery = { selections: [line()], level: 'channel' };
    const codes = () => queryMetadataFor(db, q, 'text').networks.flatMap((n) => n.stations.flatMap((s) => s.channels.map((c) => `${n.code}.${s.code}.${c.code}@${c.sampleRate}`)));
    loadInventory(db, build('AA', null, null, [base]), 'c:1');
    expect(codes()).toEqual(['AA.STA.BHZ@20']);
    expect(codes()).toEqual(['AA.STA.BHZ@20']); // served from the cache
    loadInventory(other, build('BB', null, null, [base]), 'c:2'); // another connection commits
    expect(codes()).toEqual(['AA.STA.BHZ@20', 'BB.STA.BHZ@20']);
    db.prepare("UPDATE geonode_channels SET sample_rate = 50 WHERE network = 'AA'").run(); // this connection writes
    expect(codes()).toEqual(['AA.STA.BHZ@50', 'BB.STA.BHZ@20']);
    other.prepare("DELETE FROM geonode_channels WHERE network = 'BB'").run();
    expect(codes()).toEqual(['AA.STA.BHZ@50']);
    // Nothing read inside a transaction is kept: a rollback does not move the stamp.
    expect(() =>
      db.transaction(() => {
        db.prepare("UPDATE geonode_channels SET sample_rate = 60 WHERE network = 'AA'").run();
        expect(codes()).toEqual(['AA.STA.BHZ@60']);
        throw new Error('roll back');
      })(),
    ).toThrow('roll back');
    expect(codes()).toEqual(['AA.STA.BHZ@50']);
    // Handed-out inventories are fresh objects: changing one does not leak into the next answer.
    queryMetadataFor(db, q, 'text').networks[0].stations[0].channels[0].sampleRate = 1;
    expect(codes()).toEqual(['AA.STA.BHZ@50']);
    other.close();
    db.close();
  });

  it('an empty store answers empty on every path', () => {
    const db = openIndexDb(path.join(tmp, 'empty.sqlite'));
    for (const level of LEVELS) {
      const q: MetadataQuery = { selections: [line()], level };
      expect(queryMetadataFor(db, q, 'xml').networks).toEqual([]);
      expect(queryMetadataFor(db, q, 'text').networks).toEqual([]);
      expect(queryMetadataReference(db, q).networks).toEqual([]);
    }
    db.close();
  });
});
