/**
 * stationText (FDSN text at network/station/channel level) read back with ObsPy's STATIONTXT
 * rules (test/helpers/obspyStationText.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Inventory, STATION_TEXT_HEADERS, parseStationXml, stationText } from '../../src/formats/stationxml';
import { obspyReadStationText } from '../helpers/obspyStationText';
import { describeShared, sharedFiles, sharedPath } from '../helpers/sharedData';

const load = (name: string): Inventory => parseStationXml(fs.readFileSync(sharedPath('stationxml', name)), name);

describeShared('stationText is read back by the ObsPy STATIONTXT rules', () => {
  const files = sharedFiles('stationxml').map((f) => [path.basename(f)]);

  it.each(files)('%s at network, station and channel level', (name) => {
    const inv = load(name);
    for (const level of ['network', 'station', 'channel'] as const) {
      const text = stationText(inv, level);
      expect(text.split('\n')[0]).toBe(STATION_TEXT_HEADERS[level]);
      expect(text.endsWith('\n')).toBe(true);
      expect(text.slice(0, -1).split('\n').every((l) => l.trim() !== '')).toBe(true);
      const parsed = obspyReadStationText(text);
      expect(parsed.level).toBe(level);
      const expected =
        level === 'network'
          ? inv.networks.length
          : level === 'station'
            ? inv.networks.reduce((a, n) => a + n.stations.length, 0)
            : inv.networks.reduce((a, n) => a + n.stations.reduce((b, s) => b + s.channels.length, 0), 0);
      expect(parsed.rows.length).toBe(expected);
    }
  });

  it('channel rows carry the StationXML values (IU_ANMO_BH.xml)', () => {
    const { rows } = obspyReadStationText(stationText(load('IU_ANMO_BH.xml'), 'channel'));
    expect(rows[0]).toEqual(['IU', 'ANMO', '00', 'BH1', 34.945981, -106.457133, 1671, 145, 328, 0, 'Geotech KS-54000 Borehole Seismometer', 3456610000, 0.02, 'M/S', 20, '2012-03-12T20:28:00', '2599-12-31T23:59:59']);
    expect(rows.length).toBe(9);
  });

  it('open epochs have an empty EndTime, empty location stays empty (ExportBlock)', () => {
    const text = stationText(load('ExportBlock__stations_inventory_JP_II.xml'), 'channel');
    const lines = text.trim().split('\n');
    expect(lines[1]).toBe('II|ERM|00|BHZ|42.015|143.1572|40|0|0|-90|Metrozet M2166-VBV Seismometer|3990240000|0.05|m/s|20|2016-08-24T00:00:00|2020-10-02T05:59:59');
    expect(lines[3]).toBe('JP|JKA||BHZ|44.118801|142.593002|220|0|0|-90|Streckeisen STS-2|1000000000|8|M/S|20|1996-09-24T00:00:00|');
    const net = stationText(load('ExportBlock__stations_inventory_JP_II.xml'), 'network').trim().split('\n');
    expect(net[1]).toBe('II|Global Seismograph Network - II (GSN/II)|1986-01-01T00:00:00||59');
    const sta = stationText(load('ExportBlock__stations_inventory_JP_II.xml'), 'station').trim().split('\n');
    expect(sta[1]).toBe('II|ERM|42.015|143.1572|40|Erimo, Hokkaido Island, Japan|1990-05-21T00:00:00|');
  });

  it('missing network start falls back to the earliest station start (ObsPy needs a StartTime)', () => {
    const lines = stationText(load('full_station_field_station.xml'), 'network').trim().split('\n');
    expect(lines[1]).toBe('PY||2011-01-01T00:00:00||1');
  });

  it('never puts "|", quotes or line breaks inside fields', () => {
    const inv = load('ExportBlock__stations_inventory_JP_II.xml');
    inv.networks[0].description = '"Quoted" | piped\nmulti-line';
    inv.networks[0].stations[0].siteName = 'A|B';
    inv.networks[0].stations[0].channels[0].sensorDescription = '"STS-2" | gen 3';
    const n = obspyReadStationText(stationText(inv, 'network'));
    expect(n.rows[0][1]).toBe("'Quoted' / piped multi-line");
    const s = obspyReadStationText(stationText(inv, 'station'));
    expect(s.rows[0][5]).toBe('A/B');
    const c = obspyReadStationText(stationText(inv, 'channel'));
    expect(c.rows[0][10]).toBe("'STS-2' / gen 3");
    expect(c.rows[0].length).toBe(17);
  });

  it('has no text form at response level', () => {
    expect(() => stationText(load('IU_ANMO_BH.xml'), 'response' as 'channel')).toThrow(/level response/);
  });
});

describe('the ObsPy-rules reader itself', () => {
  it('rejects unknown headers and blank lines like ObsPy', () => {
    expect(() => obspyReadStationText('#Network|Station|Lat\n')).toThrow(/Unknown type of header/);
    expect(() => obspyReadStationText(`${STATION_TEXT_HEADERS.network}\n\nXX|d|2020-01-01||1\n`)).toThrow(/blank line/);
    expect(obspyReadStationText('# Network | Description | StartTime | EndTime | TotalStations\nXX|d|2020-01-01||1\n').rows).toEqual([['XX', 'd', '2020-01-01', null, 1]]);
  });
});
