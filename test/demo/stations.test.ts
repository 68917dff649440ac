/**
 * The demo's station constants must match the real IRIS inventory they were copied from.
 * A small regex walk over the StationXML (no XML dependency): Network > Station > Channel.
 */
import fs from 'node:fs';
import { describeShared, sharedPath } from '../helpers/sharedData';
import { DEMO_STATIONS, demoStreams, findDemoStream } from '../../src/demo/stations';

interface XmlChannel {
  code: string;
  location: string;
  startDate: string;
  endDate: string | null;
  latitude: number;
  longitude: number;
  elevation: number;
  depth: number;
  azimuth: number;
  dip: number;
  sampleRate: number;
  sensitivity: number;
  sensitivityFrequency: number;
  sensor: string;
}

interface XmlStation {
  network: string;
  code: string;
  startDate: string;
  latitude: number;
  longitude: number;
  elevation: number;
  siteName: string;
  channels: XmlChannel[];
}

const attr = (tag: string, name: string): string | null => new RegExp(`\\b${name}="([^"]*)"`).exec(tag)?.[1] ?? null;
/** Text of the first <name>…</name> in `xml` that is not inside a nested element listed in `skip`. */
const text = (xml: string, name: string): string => {
  const m = new RegExp(`<${name}\\b[^>]*>([^<]*)</${name}>`).exec(xml);
  if (!m) throw new Error(`no <${name}>`);
  return m[1].trim();
};
/** StationXML dates carry a Z and fractional seconds; the constants store `YYYY-MM-DDTHH:MM:SS`. */
const day = (d: string | null): string | null => (d === null ? null : d.replace(/\.\d+Z?$|Z$/, ''));

function parseInventory(xml: string): XmlStation[] {
  const out: XmlStation[] = [];
  for (const net of xml.matchAll(/<Network\b([^>]*)>([\s\S]*?)<\/Network>/g)) {
    const network = attr(net[1], 'code')!;
    for (const sta of net[2].matchAll(/<Station\b([^>]*)>([\s\S]*?)<\/Station>/g)) {
      const body = sta[2];
      const stationPart = body.slice(0, body.indexOf('<Channel'));
      const channels: XmlChannel[] = [];
      for (const ch of body.matchAll(/<Channel\b([^>]*)>([\s\S]*?)<\/Channel>/g)) {
        const c = ch[2];
        const sens = /<InstrumentSensitivity>([\s\S]*?)<\/InstrumentSensitivity>/.exec(c)![1];
        channels.push({
          code: attr(ch[1], 'code')!,
          location: attr(ch[1], 'locationCode')!,
          startDate: day(attr(ch[1], 'startDate'))!,
          endDate: day(attr(ch[1], 'endDate')),
          latitude: Number(text(c, 'Latitude')),
          longitude: Number(text(c, 'Longitude')),
          elevation: Number(text(c, 'Elevation')),
          depth: Number(text(c, 'Depth')),
          azimuth: Number(text(c, 'Azimuth')),
          dip: Number(text(c, 'Dip')),
          sampleRate: Number(text(c, 'SampleRate')),
          sensitivity: Number(text(sens, 'Value')),
          sensitivityFrequency: Number(text(sens, 'Frequency')),
          sensor: text(/<Sensor>([\s\S]*?)<\/Sensor>/.exec(c)![1], 'Description'),
        });
      }
      out.push({
        network,
        code: attr(sta[1], 'code')!,
        startDate: day(attr(sta[1], 'startDate'))!,
        latitude: Number(text(stationPart, 'Latitude')),
        longitude: Number(text(stationPart, 'Longitude')),
        elevation: Number(text(stationPart, 'Elevation')),
        siteName: text(/<Site>([\s\S]*?)<\/Site>/.exec(stationPart)![1], 'Name'),
        channels,
      });
    }
  }
  return out;
}

describeShared('demo stations vs ExportBlock__stations_inventory_JP_II.xml', () => {
  const inventory = parseInventory(fs.readFileSync(sharedPath('stationxml', 'ExportBlock__stations_inventory_JP_II.xml'), 'utf8'));

  test('the same six stations', () => {
    const key = (n: string, s: string) => `${n}.${s}`;
    expect(inventory.map((s) => key(s.network, s.code)).sort()).toEqual(DEMO_STATIONS.map((s) => key(s.network, s.station)).sort());
    expect(inventory).toHaveLength(6);
  });

  test.each(DEMO_STATIONS.map((s) => [`${s.network}.${s.station}`, s] as const))('%s: station fields', (_id, st) => {
    const x = inventory.find((s) => s.network === st.network && s.code === st.station)!;
    expect({ lat: st.latitude, lon: st.longitude, elev: st.elevation, site: st.siteName, start: st.startDate }).toEqual({
      lat: x.latitude,
      lon: x.longitude,
      elev: x.elevation,
      site: x.siteName,
      start: x.startDate,
    });
  });

  test('every inventory channel is a demo channel with identical metadata', () => {
    const all = inventory.flatMap((s) => s.channels.map((c) => ({ s, c })));
    expect(all).toHaveLength(7); // ERM 00 + 10, five JP stations
    for (const { s, c } of all) {
      const d = findDemoStream(s.network, s.code, c.location, c.code);
      expect(d).toBeDefined();
      const ch = d!.channel;
      expect({
        sampleRate: ch.sampleRate,
        latitude: ch.latitude,
        longitude: ch.longitude,
        elevation: ch.elevation,
        depth: ch.depth,
        azimuth: ch.azimuth,
        dip: ch.dip,
        sensitivity: ch.sensitivity,
        sensitivityFrequency: ch.sensitivityFrequency,
        sensor: ch.sensor,
        startDate: ch.startDate,
        endDate: ch.endDate,
        synthetic: ch.synthetic,
      }).toEqual({
        sampleRate: c.sampleRate,
        latitude: c.latitude,
        longitude: c.longitude,
        elevation: c.elevation,
        depth: c.depth,
        azimuth: c.azimuth,
        dip: c.dip,
        sensitivity: c.sensitivity,
        sensitivityFrequency: c.sensitivityFrequency,
        sensor: c.sensor,
        startDate: c.startDate,
        endDate: c.endDate,
        synthetic: false,
      });
    }
  });

  test('the inventory quirk at JKA is kept: station 41.1188N, channel 44.1188N', () => {
    const jka = inventory.find((s) => s.code === 'JKA')!;
    expect(jka.latitude).toBe(41.118801);
    expect(jka.channels[0].latitude).toBe(44.118801);
  });
});

describe('demo stations (no shared data needed)', () => {
  test('three components per station/location; N/E copy the BHZ of the inventory', () => {
    const streams = demoStreams();
    expect(streams).toHaveLength(21);
    for (const st of DEMO_STATIONS) {
      for (const loc of new Set(st.channels.map((c) => c.location))) {
        const chans = st.channels.filter((c) => c.location === loc);
        expect(chans.map((c) => c.channel)).toEqual(['BHZ', 'BHN', 'BHE']);
        const [z, n, e] = chans;
        for (const h of [n, e]) {
          expect(h.synthetic).toBe(true);
          expect(h.dip).toBe(0);
          expect([h.sampleRate, h.latitude, h.longitude, h.sensitivity]).toEqual([z.sampleRate, z.latitude, z.longitude, z.sensitivity]);
        }
        expect([n.azimuth, e.azimuth, z.dip]).toEqual([0, 90, -90]);
      }
    }
  });

  test('findDemoStream accepts -- for the blank location', () => {
    expect(findDemoStream('JP', 'JMM', '--', 'BHZ')?.channel.sampleRate).toBe(20);
    expect(findDemoStream('II', 'ERM', '10', 'BHE')?.channel.sampleRate).toBe(40);
    expect(findDemoStream('II', 'ERM', '', 'BHZ')).toBeUndefined();
  });
});
