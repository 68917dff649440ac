import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { Channel, Inventory, StationLevel, channelKey, parseStationXml, writeStationXml } from '../../src/formats/stationxml';
import { parseIsoToNs } from '../../src/formats/time';
import { describeShared, sharedFiles, sharedPath } from '../helpers/sharedData';

const XSD = path.join(__dirname, '..', 'fixtures', 'fdsn-station-1.2.xsd');
const haveXmllint = spawnSync('xmllint', ['--version']).status === 0;
const canValidate = haveXmllint && fs.existsSync(XSD);
if (!canValidate) console.warn('xmllint or test/fixtures/fdsn-station-1.2.xsd missing: XSD validation tests are skipped');
const itXsd = canValidate ? it : it.skip;

/** Validate with libxml2 against the FDSN 1.2 XSD; returns xmllint's messages on failure. */
function xsdErrors(xml: string): string | null {
  const r = spawnSync('xmllint', ['--noout', '--schema', XSD, '-'], { input: xml, encoding: 'utf8' });
  return r.status === 0 ? null : r.stderr;
}

const created = parseIsoToNs('2024-01-02T03:04:05.5')!;
const write = (inv: Inventory, level: StationLevel, extra: Partial<Parameters<typeof writeStationXml>[1]> = {}) =>
  writeStationXml(inv, { level, source: 'GeoNode', sender: 'Test', module: 'geonode test', moduleUri: 'http://localhost/fdsnws/station/1/query?a=1&b=2', created, ...extra });

/** What must survive a write/parse cycle (raw XML text and source-only fields excluded). */
function summary(inv: Inventory) {
  return inv.networks.map((n) => ({
    code: n.code,
    description: n.description,
    startNs: n.startNs,
    endNs: n.endNs,
    restricted: n.restrictedStatus,
    total: n.totalNumberStations ?? n.stations.length,
    attributes: n.attributes,
    extras: n.extras.map((e) => e.name),
    stations: n.stations.map((s) => ({
      code: s.code,
      description: s.description,
      startNs: s.startNs,
      endNs: s.endNs,
      restricted: s.restrictedStatus,
      coords: [s.lat, s.lon, s.elevation],
      site: s.site,
      creation: s.creationDateNs,
      termination: s.terminationDateNs,
      total: s.totalNumberChannels ?? s.channels.length,
      attributes: s.attributes,
      valueAttributes: s.valueAttributes,
      extras: s.extras.map((e) => e.name),
      channels: s.channels.map((c) => ({
        id: `${c.location}.${c.code}`,
        startNs: c.startNs,
        endNs: c.endNs,
        restricted: c.restrictedStatus,
        description: c.description,
        coords: [c.lat, c.lon, c.elevation, c.depth, c.azimuth, c.dip],
        types: c.types,
        sampleRate: c.sampleRate,
        clockDrift: c.clockDrift,
        sensor: c.sensorDescription,
        sensitivity: c.sensitivity,
        stages: c.responseStageCount,
        hasResponse: c.responseXml !== null,
        attributes: c.attributes,
        valueAttributes: c.valueAttributes,
        extras: c.extras.map((e) => e.name),
      })),
    })),
  }));
}

// Independent canonical form (fast-xml-parser, prefixes dropped, whitespace trimmed) to compare
// a kept fragment with what the writer emitted.
const fxp = new XMLParser({ preserveOrder: true, ignoreAttributes: false, removeNSPrefix: true, trimValues: true, parseTagValue: false, parseAttributeValue: false, commentPropName: '#comment' });
function canonical(xml: string): unknown {
  // Namespace declarations are not content: the writer may place them differently.
  const strip = (nodes: unknown): unknown => {
    if (Array.isArray(nodes)) return nodes.map(strip);
    if (!nodes || typeof nodes !== 'object') return nodes;
    return Object.fromEntries(
      Object.entries(nodes as Record<string, unknown>).map(([k, v]) => [
        k,
        k === ':@' ? Object.fromEntries(Object.entries(v as Record<string, string>).filter(([a]) => !a.startsWith('@_xmlns'))) : strip(v),
      ]),
    );
  };
  return strip(fxp.parse(xml));
}

/** Child element local names of every <tag> element, in document order. */
function childOrders(xml: string, tag: string): string[][] {
  const out: string[][] = [];
  const walk = (nodes: Array<Record<string, unknown>>) => {
    for (const n of nodes) {
      const name = Object.keys(n).find((k) => k !== ':@');
      if (!name || name === '#text' || name === '#comment') continue;
      const kids = n[name] as Array<Record<string, unknown>>;
      if (name === tag) out.push(kids.map((k) => Object.keys(k).find((x) => x !== ':@')!).filter((x) => x !== '#text' && x !== '#comment'));
      walk(kids);
    }
  };
  walk(fxp.parse(xml) as Array<Record<string, unknown>>);
  return out;
}

// Element order of the 1.2 XSD sequences (BaseNodeType first), used as an XSD-independent check.
const BASE = ['Description', 'Identifier', 'Comment', 'DataAvailability'];
const ORDER: Record<string, string[]> = {
  Network: [...BASE, 'Operator', 'TotalNumberStations', 'SelectedNumberStations', 'Station'],
  Station: [...BASE, 'Latitude', 'Longitude', 'Elevation', 'Site', 'WaterLevel', 'Vault', 'Geology', 'Equipment', 'Operator', 'CreationDate', 'TerminationDate', 'TotalNumberChannels', 'SelectedNumberChannels', 'ExternalReference', 'Channel'],
  Channel: [...BASE, 'ExternalReference', 'Latitude', 'Longitude', 'Elevation', 'Depth', 'Azimuth', 'Dip', 'WaterLevel', 'Type', 'SampleRate', 'SampleRateRatio', 'ClockDrift', 'CalibrationUnits', 'Sensor', 'PreAmplifier', 'DataLogger', 'Equipment', 'Response'],
};
function expectXsdOrder(xml: string): void {
  for (const [tag, order] of Object.entries(ORDER)) {
    for (const kids of childOrders(xml, tag)) {
      const idx = kids.map((k) => order.indexOf(k));
      expect(idx.every((i) => i >= 0)).toBe(true);
      expect(idx).toEqual([...idx].sort((a, b) => a - b));
    }
  }
}

describeShared('writeStationXml on every shared file', () => {
  const files = sharedFiles('stationxml').map((f) => [path.basename(f), f]);

  it.each(files)('%s: parse → write 1.2 (response) → parse gives the same model', (name, file) => {
    const inv = parseStationXml(fs.readFileSync(file), name);
    const xml = write(inv, 'response');
    expect(xml).toContain('schemaVersion="1.2"');
    expect(xml).toContain('xmlns="http://www.fdsn.org/xml/station/1"');
    const again = parseStationXml(xml, 'written');
    expect(again.schemaVersion).toBe('1.2');
    expect(again.createdNs).toBe(created);
    expect(summary(again)).toEqual(summary(inv));
    // Responses are re-emitted faithfully (same elements, attributes and values).
    const ch1 = inv.networks.flatMap((n) => n.stations.flatMap((s) => s.channels));
    const ch2 = again.networks.flatMap((n) => n.stations.flatMap((s) => s.channels));
    ch1.forEach((c, i) => {
      if (c.responseXml) expect(canonical(ch2[i].responseXml!)).toEqual(canonical(c.responseXml));
    });
    // Kept fragments too (comments, equipment, operators, identifiers, sensors ...).
    const extras = (i: Inventory) => i.networks.flatMap((n) => [...n.extras, ...n.stations.flatMap((s) => [...s.extras, ...s.channels.flatMap((c) => c.extras)])]);
    expect(extras(again).map((e) => canonical(e.xml))).toEqual(extras(inv).map((e) => canonical(e.xml)));
    // Writing the re-parsed model again is stable.
    expect(write(again, 'response')).toBe(xml);
    expectXsdOrder(xml);
  });

  itXsd.each(files)('%s: output validates against the FDSN StationXML 1.2 XSD at every level', (name, file) => {
    const inv = parseStationXml(fs.readFileSync(file), name);
    for (const level of ['network', 'station', 'channel', 'response'] as const) {
      expect({ level, errors: xsdErrors(write(inv, level)) }).toEqual({ level, errors: null });
    }
  });
});

describeShared('writeStationXml levels and options', () => {
  const anmo = () => parseStationXml(fs.readFileSync(sharedPath('stationxml', 'IU_ANMO_BH.xml')), 'IU_ANMO_BH.xml');

  it('network level: networks with station counts only', () => {
    const xml = write(anmo(), 'network');
    expect(xml).not.toContain('<Station');
    expect(xml).toContain('<TotalNumberStations>262</TotalNumberStations>');
    expect(xml).toContain('<SelectedNumberStations>1</SelectedNumberStations>');
    expect(xml).toMatch(/<Network code="IU" startDate="1988-01-01T00:00:00Z" endDate="2500-12-12T23:59:59Z" restrictedStatus="open">/);
    expect(xml).toContain('<Created>2024-01-02T03:04:05.500000Z</Created>');
    expect(xml).toContain('<ModuleURI>http://localhost/fdsnws/station/1/query?a=1&amp;b=2</ModuleURI>');
  });

  it('station level: stations with channel counts, no channels', () => {
    const xml = write(anmo(), 'station');
    expect(xml).not.toContain('<Channel');
    expect(xml).toContain('<TotalNumberChannels>');
    expect(xml).toContain('<SelectedNumberChannels>9</SelectedNumberChannels>');
    // The IRIS extension attribute keeps its namespace.
    expect(xml).toMatch(/xmlns:iris="http:\/\/www\.fdsn\.org\/xml\/station\/1\/iris"[^>]* iris:alternateNetworkCodes=/);
  });

  it('channel level: the response is reduced to InstrumentSensitivity', () => {
    const xml = write(anmo(), 'channel');
    expect((xml.match(/<Channel /g) ?? []).length).toBe(9);
    expect((xml.match(/<InstrumentSensitivity>/g) ?? []).length).toBe(9);
    expect(xml).not.toContain('<Stage');
    const back = parseStationXml(xml);
    expect(back.networks[0].stations[0].channels[0].sensitivity).toEqual({ value: 3.45661e9, frequency: 0.02, inputUnits: 'M/S', outputUnits: 'COUNTS' });
  });

  it('response level: all stages', () => {
    const xml = write(anmo(), 'response');
    expect((xml.match(/<Stage /g) ?? []).length).toBe(27);
  });

  it('adds DataAvailability extents, clipped to the channel epoch', () => {
    const inv = anmo();
    const t = (s: string) => parseIsoToNs(s)!;
    const availability = new Map([
      [channelKey('IU', 'ANMO', '00', 'BHZ'), { startNs: t('2013-01-01'), endNs: t('2013-02-01T12:00:00.25') }],
      // 10.BHZ has two epochs split at 2014-08-12: each gets its own part.
      [channelKey('IU', 'ANMO', '10', 'BHZ'), { startNs: t('2014-01-01'), endNs: t('2015-01-01') }],
    ]);
    const xml = write(inv, 'channel', { availability });
    expect(xml).toContain('<Extent start="2013-01-01T00:00:00Z" end="2013-02-01T12:00:00.250000Z"/>');
    const chans = parseStationXml(xml).networks[0].stations[0].channels;
    const av = (loc: string, cha: string) => chans.filter((c) => c.location === loc && c.code === cha).map((c) => c.dataAvailability);
    expect(av('00', 'BHZ')).toEqual([{ startNs: t('2013-01-01'), endNs: t('2013-02-01T12:00:00.25') }]);
    expect(av('10', 'BHZ')).toEqual([
      { startNs: t('2014-01-01'), endNs: t('2014-08-12') },
      { startNs: t('2014-08-12'), endNs: t('2015-01-01') },
    ]);
    expect(av('00', 'BH1')).toEqual([null]);
    if (canValidate) expect(xsdErrors(xml)).toBeNull();
  });
});

describe('writeStationXml from a built model', () => {
  const ch = (over: Partial<Channel> = {}): Channel => ({
    location: '',
    code: 'LFZ',
    startNs: parseIsoToNs('2020-01-01')!,
    endNs: null,
    restrictedStatus: 'open',
    description: null,
    lat: 36.2,
    lon: 140.1,
    elevation: 30,
    depth: 0,
    azimuth: 0,
    dip: -90,
    types: [],
    sampleRate: 1,
    clockDrift: null,
    sensorDescription: 'Fluxgate "X" | <model> & co',
    sensitivity: { value: 1e-7, frequency: 0, inputUnits: 'nT', outputUnits: 'count' },
    responseXml: null,
    responseStageCount: 0,
    dataAvailability: null,
    attributes: [],
    extras: [],
    ...over,
  });
  const inv: Inventory = {
    schemaVersion: null,
    source: null,
    sender: null,
    module: null,
    moduleUri: null,
    createdNs: null,
    networks: [
      {
        code: 'JG',
        description: 'Geomag & <AEF> "network"',
        startNs: parseIsoToNs('2000-01-01')!,
        endNs: null,
        restrictedStatus: 'open',
        totalNumberStations: null,
        attributes: [],
        extras: [],
        stations: [
          {
            code: 'KAK',
            startNs: parseIsoToNs('2000-01-01')!,
            endNs: null,
            restrictedStatus: 'open',
            description: null,
            lat: 36.232,
            lon: 140.186,
            elevation: 36,
            siteName: 'Kakioka\u0001 & Ibaraki',
            site: { name: 'Kakioka\u0001 & Ibaraki' },
            creationDateNs: null,
            terminationDateNs: null,
            totalNumberChannels: null,
            attributes: [],
            extras: [],
            channels: [ch(), ch({ code: 'LFX', azimuth: null, dip: null, sampleRate: null, sensitivity: null, sensorDescription: null })],
          },
        ],
      },
    ],
  };

  it('escapes text and attributes, drops XML-illegal characters, validates, and parses back', () => {
    const xml = writeStationXml(inv, { level: 'response', source: 'S & S', created: new Date('2024-05-06T07:08:09Z') });
    expect(xml).toContain('<Description>Geomag &amp; &lt;AEF&gt; "network"</Description>');
    expect(xml).toContain('<Created>2024-05-06T07:08:09Z</Created>');
    expect(xml).toContain('<Source>S &amp; S</Source>');
    expect(xml).not.toContain('\u0001');
    if (canValidate) expect(xsdErrors(xml)).toBeNull();
    const back = parseStationXml(xml);
    expect(back.networks[0].description).toBe('Geomag & <AEF> "network"');
    expect(back.networks[0].stations[0].siteName).toBe('Kakioka & Ibaraki');
    const [c1, c2] = back.networks[0].stations[0].channels;
    expect(c1.sensorDescription).toBe('Fluxgate "X" | <model> & co');
    expect(c1.sensitivity).toEqual({ value: 1e-7, frequency: 0, inputUnits: 'nT', outputUnits: 'count' });
    expect([c2.azimuth, c2.dip, c2.sampleRate, c2.sensitivity, c2.responseXml]).toEqual([null, null, null, null, null]);
    expectXsdOrder(xml);
  });

  it('rejects an unknown level', () => {
    expect(() => writeStationXml(inv, { level: 'everything' as StationLevel })).toThrow(/unknown level/);
  });

  it('an extension element with mixed content is kept exactly (##other, lax), through repeated round trips', () => {
    const content = 'calibrated by <ext:who>J. Doe</ext:who> on site: H<ext:sub>2</ext:sub>O &amp; CO<ext:sub>2</ext:sub>';
    let xml = `<?xml version="1.0" encoding="UTF-8"?>
<FDSNStationXML xmlns="http://www.fdsn.org/xml/station/1" xmlns:ext="http://example.org/ext" schemaVersion="1.2">
 <Source>T</Source><Created>2020-01-01T00:00:00Z</Created>
 <Network code="ZE" startDate="2000-01-01T00:00:00Z"><ext:note lang="en">${content}</ext:note><ext:plain><ext:a>1</ext:a></ext:plain></Network>
</FDSNStationXML>`;
    for (let round = 0; round < 3; round++) {
      xml = writeStationXml(parseStationXml(xml), { level: 'network' });
      expect(/<ext:note[^>]*>([\s\S]*?)<\/ext:note>/.exec(xml)![1]).toBe(content);
    }
    // A mixed-content element in no namespace stays in no namespace.
    const noNs = writeStationXml(
      parseStationXml(xml.replace('<ext:plain', '<note xmlns="">a <b>bold</b> word</note><ext:plain')),
      { level: 'network' },
    );
    expect(noNs).toContain('<note xmlns="">a <b>bold</b> word</note>');
    const back = parseStationXml(noNs);
    expect(back.networks[0].extras.some((x) => x.ns === '' && x.name === 'note')).toBe(true);
    // Element-only extension content is still pretty-printed; the document parses and validates.
    expect(xml).toMatch(/<ext:plain[^>]*>\n\s+<ext:a>1<\/ext:a>\n\s+<\/ext:plain>/);
    expect(parseStationXml(xml).networks[0].code).toBe('ZE');
  });
});
