import fs from 'node:fs';
import path from 'node:path';
import { Inventory, StationXmlError, parseStationXml, parseXmlDateTime } from '../../src/formats/stationxml';
import { parseIsoToNs } from '../../src/formats/time';
import { describeShared, sharedFiles, sharedPath } from '../helpers/sharedData';

const load = (name: string): Inventory => parseStationXml(fs.readFileSync(sharedPath('stationxml', name)), name);
const t = (s: string): bigint => {
  const v = parseIsoToNs(s);
  if (v === null) throw new Error(s);
  return v;
};

describeShared('parseStationXml on every shared StationXML file', () => {
  const files = sharedFiles('stationxml');
  it('finds the 8 shared files', () => expect(files.length).toBe(8));

  it.each(files.map((f) => [path.basename(f), f]))('%s loads, with as many channels/stages as the text has elements', (name, file) => {
    const text = fs.readFileSync(file, 'latin1');
    const inv = parseStationXml(fs.readFileSync(file), name);
    const count = (re: RegExp) => (text.match(re) ?? []).length;
    const stations = inv.networks.flatMap((n) => n.stations);
    const channels = stations.flatMap((s) => s.channels);
    expect(inv.networks.length).toBe(count(/<Network[\s>]/g));
    expect(stations.length).toBe(count(/<Station[\s>]/g));
    expect(channels.length).toBe(count(/<Channel[\s>]/g));
    expect(channels.reduce((a, c) => a + c.responseStageCount, 0)).toBe(count(/<Stage[\s>]/g));
    expect(channels.filter((c) => c.sensitivity).length).toBe(count(/<InstrumentSensitivity[\s>]/g));
    for (const c of channels) if (c.responseXml) expect(c.responseXml.startsWith('<Response')).toBe(true);
  });
});

describeShared('StationXML values', () => {
  it('ExportBlock (1.2, IRIS level=channel): II.ERM.00/10.BHZ and JP.*..BHZ', () => {
    const inv = load('ExportBlock__stations_inventory_JP_II.xml');
    expect(inv.schemaVersion).toBe('1.2');
    expect(inv.source).toBe('IRIS-DMC');
    expect(inv.createdNs).toBe(t('2025-12-14T15:07:28.4195'));
    expect(inv.networks.map((n) => n.code)).toEqual(['II', 'JP']);
    const ii = inv.networks[0];
    expect(ii.description).toBe('Global Seismograph Network - II (GSN/II)');
    expect(ii.startNs).toBe(t('1986-01-01'));
    expect(ii.endNs).toBeNull();
    expect(ii.totalNumberStations).toBe(59);
    expect(ii.extras.map((e) => e.name)).toEqual(['Identifier']);
    const erm = ii.stations[0];
    expect([erm.code, erm.lat, erm.lon, erm.elevation, erm.siteName]).toEqual(['ERM', 42.015, 143.1572, 40, 'Erimo, Hokkaido Island, Japan']);
    expect(erm.totalNumberChannels).toBe(211);
    expect(erm.creationDateNs).toBe(t('1990-05-21'));
    const [e00, e10] = erm.channels;
    expect([e00.location, e00.code, e00.sampleRate, e00.dip, e00.azimuth, e00.depth]).toEqual(['00', 'BHZ', 20, -90, 0, 0]);
    expect(e00.startNs).toBe(t('2016-08-24'));
    expect(e00.endNs).toBe(t('2020-10-02T05:59:59'));
    expect(e00.sensorDescription).toBe('Metrozet M2166-VBV Seismometer');
    expect(e00.sensitivity).toEqual({ value: 3990240000, frequency: 0.05, inputUnits: 'm/s', outputUnits: 'counts' });
    expect(e00.responseStageCount).toBe(0);
    expect([e10.location, e10.code, e10.sampleRate]).toEqual(['10', 'BHZ', 40]);
    expect(e10.sensitivity?.value).toBe(2469520000);
    const jp = inv.networks[1];
    expect(jp.stations.map((s) => s.code)).toEqual(['JKA', 'JMM', 'JSD', 'JTM', 'JYT']);
    const coords = Object.fromEntries(jp.stations.map((s) => [s.code, [s.lat, s.lon, s.elevation, s.channels[0].location, s.channels[0].code, s.channels[0].sampleRate]]));
    expect(coords).toEqual({
      JKA: [41.118801, 142.593002, 220, '', 'BHZ', 20],
      JMM: [37.868999, 140.789673, 100, '', 'BHZ', 20],
      JSD: [38.040001, 138.257172, 146, '', 'BHZ', 20],
      JTM: [40.789501, 141.064667, 130, '', 'BHZ', 20],
      JYT: [36.230831, 140.190674, 31, '', 'BHZ', 20],
    });
    // The file's own JKA channel latitude differs from the station's (44.118801 as published).
    expect(jp.stations[0].channels[0].lat).toBe(44.118801);
    for (const s of jp.stations) {
      expect(s.channels[0].endNs).toBeNull();
      expect(s.channels[0].sensitivity).toEqual({ value: 1e9, frequency: 8, inputUnits: 'M/S', outputUnits: 'COUNTS' });
    }
  });

  it('IU_ANMO_BH.xml (1.0, ISO-8859-1): 9 channel epochs with 3-stage responses', () => {
    const inv = load('IU_ANMO_BH.xml');
    expect(inv.schemaVersion).toBe('1.0');
    const sta = inv.networks[0].stations[0];
    expect([sta.code, sta.lat, sta.lon, sta.elevation]).toEqual(['ANMO', 34.94591, -106.4572, 1820]);
    expect(sta.attributes).toEqual([
      expect.objectContaining({ name: 'alternateNetworkCodes', prefix: 'iris', ns: 'http://www.fdsn.org/xml/station/1/iris' }),
    ]);
    expect(sta.channels.map((c) => `${c.location}.${c.code}`)).toEqual(['00.BH1', '00.BH2', '00.BHZ', '10.BH1', '10.BH1', '10.BH2', '10.BH2', '10.BHZ', '10.BHZ']);
    expect(sta.channels.every((c) => c.responseStageCount === 3)).toBe(true);
    const split = sta.channels.filter((c) => c.location === '10' && c.code === 'BHZ');
    expect(split.map((c) => [c.startNs, c.endNs])).toEqual([
      [t('2012-03-13T08:10:00'), t('2014-08-12')],
      [t('2014-08-12'), t('2599-12-31T23:59:59')],
    ]);
    const bh1 = sta.channels[0];
    expect(bh1.sensitivity).toEqual({ value: 3.45661e9, frequency: 0.02, inputUnits: 'M/S', outputUnits: 'COUNTS' });
    expect(bh1.sensorDescription).toBe('Geotech KS-54000 Borehole Seismometer');
    // The response is standalone XML: its namespace declared on the kept element itself.
    expect(bh1.responseXml!.startsWith('<Response xmlns="http://www.fdsn.org/xml/station/1">')).toBe(true);
  });

  it('hydrophone_response_PA.xml: 8-stage response, Pa input', () => {
    const inv = load('hydrophone_response_PA.xml');
    const net = inv.networks[0];
    expect(net.code).toBe('3F');
    expect(net.extras.map((e) => e.name)).toEqual(['Comment']);
    const sta = net.stations[0];
    expect(sta.code).toBe('MRO01');
    expect(sta.site).toEqual({ name: 'Macquarie Ridge (OBS), Southern Ocean', region: 'Macquarie Island, Southern Ocean', country: 'Australia' });
    expect(sta.terminationDateNs).toBe(t('2020-10-28T14:00:00'));
    const ch = sta.channels[0];
    expect([ch.location, ch.code, ch.elevation]).toEqual(['', 'HDH', -4996]);
    expect(ch.responseStageCount).toBe(8);
    expect(ch.sensitivity).toEqual({ value: 2558.930620303791, frequency: 100, inputUnits: 'PA', outputUnits: 'COUNTS' });
    expect(ch.sensorDescription).toBe('BB');
    expect(ch.extras.map((e) => e.name)).toEqual(['Sensor', 'DataLogger']);
  });

  it('stationxml_with_availability.xml: DataAvailability extent', () => {
    const ch = load('stationxml_with_availability.xml').networks[0].stations[0].channels[0];
    expect([ch.location, ch.code, ch.sampleRate]).toEqual(['00', 'BH1', 20]);
    expect(ch.dataAvailability).toEqual({ startNs: t('1998-10-26T20:35:58'), endNs: t('2014-07-21T12:00:00') });
    expect(ch.responseStageCount).toBe(0);
    expect(ch.sensitivity).not.toBeNull();
  });

  it('full_station_field_station.xml: every station-level field kept, no channels', () => {
    const inv = load('full_station_field_station.xml');
    const net = inv.networks[0];
    expect(net.code).toBe('PY');
    expect(net.startNs).toBeNull();
    const sta = net.stations[0];
    expect(sta.channels).toEqual([]);
    expect(sta.description).toBe('Some Description...');
    expect(sta.startNs).toBe(t('2011-01-01'));
    expect(sta.endNs).toBe(t('2012-01-01'));
    expect(sta.attributes.map((a) => `${a.name}=${a.value}`)).toEqual(['alternateCode=PYY', 'historicalCode=YYP']);
    expect(sta.extras.map((e) => e.name)).toEqual(['Comment', 'Comment', 'Vault', 'Geology', 'Equipment', 'Equipment', 'Operator', 'Operator', 'ExternalReference', 'ExternalReference']);
    expect(sta.creationDateNs).toBe(t('1990-05-05'));
    expect(sta.totalNumberChannels).not.toBeNull();
  });

  it('ffbx.stationxml (1.0, +00:00 offsets): 18 channels, non-ZNE azimuths', () => {
    const inv = load('ffbx.stationxml');
    const stas = inv.networks[0].stations;
    expect(stas.map((s) => s.code)).toEqual(['FFB1', 'FFB2', 'FFB3']);
    const bh1 = stas[0].channels[0];
    expect([bh1.code, bh1.location, bh1.azimuth, bh1.dip, bh1.depth, bh1.sampleRate, bh1.types]).toEqual(['BH1', '', 4, 0, 89, 40, ['CONTINUOUS', 'GEOPHYSICAL']]);
    expect(bh1.startNs).toBe(t('2015-07-31'));
    expect(bh1.sensorDescription).toBe('Trillium 120 Posthole, generation 3, 120 s, 1202 V');
    expect(bh1.valueAttributes?.Latitude?.map((a) => a.name)).toEqual(['minusError', 'plusError', 'unit']);
  });

  it('IRIS_single_channel_with_response.xml (1.1) and IU_ULN_00_LH1.xml (1.0)', () => {
    const a = load('IRIS_single_channel_with_response.xml');
    const ca = a.networks[0].stations[0].channels[0];
    expect([a.schemaVersion, ca.location, ca.code, ca.sampleRate, ca.responseStageCount]).toEqual(['1.1', '10', 'BHZ', 40, 3]);
    const b = load('IU_ULN_00_LH1.xml');
    const cb = b.networks[0].stations[0].channels[0];
    expect([b.networks[0].stations[0].code, cb.location, cb.code, cb.sampleRate, cb.responseStageCount]).toEqual(['ULN', '00', 'LH1', 1, 3]);
  });
});

describe('parseStationXml errors and edge cases', () => {
  const minimal = (body: string, root = 'FDSNStationXML') =>
    `<?xml version="1.0"?><${root} xmlns="http://www.fdsn.org/xml/station/1" schemaVersion="1.2"><Source>x</Source><Created>2020-01-01T00:00:00Z</Created>${body}</${root}>`;

  it('rejects malformed XML with a position', () => {
    expect(() => parseStationXml('<FDSNStationXML><Network></FDSNStationXML>', 'bad.xml')).toThrow(StationXmlError);
    expect(() => parseStationXml('<FDSNStationXML><Network></FDSNStationXML>', 'bad.xml')).toThrow(/bad\.xml: malformed XML: .*line 1/);
    expect(() => parseStationXml('not xml at all')).toThrow(/malformed XML/);
    expect(() => parseStationXml('')).toThrow(StationXmlError);
  });

  it('a character reference must name an XML character (XML 1.0 §4.1 WFC Legal Character)', () => {
    for (const ref of ['&#x110000;', '&#99999999999;', '&#0;', '&#xD800;']) {
      const doc = minimal('').replace('<Source>x</Source>', `<Source>a${ref}</Source>`);
      expect(() => parseStationXml(doc, 'f.xml')).toThrow(StationXmlError);
      expect(() => parseStationXml(doc, 'f.xml')).toThrow(`bad character reference ${ref} at line 1`);
    }
    const ok = minimal('').replace('<Source>x</Source>', '<Source>&#233;&#9;&#x1F600;</Source>');
    expect(parseStationXml(ok).source).toBe('é\t\u{1F600}');
  });

  it('rejects a foreign root or namespace', () => {
    expect(() => parseStationXml('<q:quakeml xmlns:q="http://quakeml.org/xmlns/quakeml/1.2"/>')).toThrow(/not FDSN StationXML: root element is <q:quakeml>/);
    expect(() => parseStationXml('<FDSNStationXML schemaVersion="1.2"/>')).toThrow(/not FDSN StationXML/);
  });

  it('rejects bad values with their location', () => {
    const doc = minimal('<Network code="XX"><Station code="S1"><Latitude>north</Latitude><Longitude>1</Longitude><Elevation>1</Elevation><Site><Name>n</Name></Site></Station></Network>');
    expect(() => parseStationXml(doc, 'f.xml')).toThrow(/f\.xml: XX\.S1: <Latitude> is not a number: "north"/);
    const doc2 = minimal('<Network code="XX" startDate="yesterday"/>');
    expect(() => parseStationXml(doc2)).toThrow(/startDate is not a date-time/);
  });

  it('handles prefixed namespaces, entities and CDATA', () => {
    const doc =
      '<s:FDSNStationXML xmlns:s="http://www.fdsn.org/xml/station/1" schemaVersion="1.1"><s:Source>A &amp; B</s:Source><s:Created>2020-01-01T00:00:00</s:Created>' +
      '<s:Network code="XX"><s:Description><![CDATA[a <b> & c]]></s:Description><s:Comment><s:Value>&#x41;&lt;</s:Value></s:Comment></s:Network></s:FDSNStationXML>';
    const inv = parseStationXml(doc);
    expect(inv.source).toBe('A & B');
    expect(inv.networks[0].description).toBe('a <b> & c');
    expect(inv.networks[0].extras[0].xml).toBe('<s:Comment xmlns:s="http://www.fdsn.org/xml/station/1"><s:Value>&#x41;&lt;</s:Value></s:Comment>');
  });

  it('parses xs:dateTime forms', () => {
    expect(parseXmlDateTime('2016-03-11T12:34:43+00:00')).toBe(t('2016-03-11T12:34:43'));
    expect(parseXmlDateTime('2016-03-11T12:34:43+09:00')).toBe(t('2016-03-11T03:34:43'));
    expect(parseXmlDateTime('2016-03-11T12:34:43-0130')).toBe(t('2016-03-11T14:04:43'));
    expect(parseXmlDateTime('2013-04-16T06:15:28')).toBe(t('2013-04-16T06:15:28'));
    expect(parseXmlDateTime('2014-07-22T09:51:56.1234567891Z')).toBe(t('2014-07-22T09:51:56.123456789'));
    expect(parseXmlDateTime('2014-07-22')).toBe(t('2014-07-22'));
    expect(parseXmlDateTime('22.07.2014')).toBeNull();
  });
});
