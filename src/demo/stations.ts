/**
 * The demo network: the six real stations of the original project (the IRIS fdsnws-station
 * export `ExportBlock__stations_inventory_JP_II.xml`, query window 2020-09-08..2020-09-14),
 * copied here as constants so that `geonode generate` works on a fresh machine without
 * ../shared. test/demo/stations.test.ts checks these values against the StationXML file.
 *
 * The inventory only lists BHZ. The demo adds BHN and BHE (azimuth 0/90, dip 0) with the same
 * location code, sample rate, coordinates and sensitivity, because a three-component archive is
 * what a real node serves and what the products layer (S-wave on horizontals) expects.
 */

export interface DemoChannel {
  /** SEED location code, '' for blank. */
  location: string;
  channel: string;
  sampleRate: number;
  /** Channel-level coordinates (these can differ from the station's, see JKA). */
  latitude: number;
  longitude: number;
  elevation: number;
  depth: number;
  azimuth: number;
  dip: number;
  /** Overall sensitivity in counts per m/s (InstrumentSensitivity/Value). */
  sensitivity: number;
  sensitivityFrequency: number;
  sensor: string;
  /** Channel epoch start (ISO, as in the inventory); endDate null when open. */
  startDate: string;
  endDate: string | null;
  /** True for components added by the demo (not in the inventory). */
  synthetic: boolean;
}

export interface DemoStation {
  network: string;
  station: string;
  siteName: string;
  latitude: number;
  longitude: number;
  elevation: number;
  startDate: string;
  channels: DemoChannel[];
}

/** One BHZ as it appears in the inventory (the part the StationXML test compares). */
interface InventoryBhz {
  location: string;
  sampleRate: number;
  latitude: number;
  longitude: number;
  elevation: number;
  sensitivity: number;
  sensitivityFrequency: number;
  sensor: string;
  startDate: string;
  endDate: string | null;
}

/** Build BHZ (from the inventory) plus the synthetic BHN/BHE for one location code. */
function threeComponents(z: InventoryBhz): DemoChannel[] {
  const base = { ...z, depth: 0 };
  return [
    { ...base, channel: 'BHZ', azimuth: 0, dip: -90, synthetic: false },
    { ...base, channel: 'BHN', azimuth: 0, dip: 0, synthetic: true },
    { ...base, channel: 'BHE', azimuth: 90, dip: 0, synthetic: true },
  ];
}

export const DEMO_STATIONS: readonly DemoStation[] = [
  {
    network: 'II',
    station: 'ERM',
    siteName: 'Erimo, Hokkaido Island, Japan',
    latitude: 42.015,
    longitude: 143.1572,
    elevation: 40.0,
    startDate: '1990-05-21T00:00:00',
    channels: [
      ...threeComponents({
        location: '00',
        sampleRate: 20,
        latitude: 42.015,
        longitude: 143.1572,
        elevation: 40.0,
        sensitivity: 3990240000.0,
        sensitivityFrequency: 0.05,
        sensor: 'Metrozet M2166-VBV Seismometer',
        startDate: '2016-08-24T00:00:00',
        endDate: '2020-10-02T05:59:59',
      }),
      ...threeComponents({
        location: '10',
        sampleRate: 40,
        latitude: 42.015,
        longitude: 143.1572,
        elevation: 40.0,
        sensitivity: 2469520000.0,
        sensitivityFrequency: 0.05,
        sensor: 'Streckeisen STS-2.5 Seismometer',
        startDate: '2016-08-24T00:00:00',
        endDate: '2020-10-01T23:29:59',
      }),
    ],
  },
  {
    network: 'JP',
    station: 'JKA',
    siteName: 'Kamikawa Asahi',
    // The inventory really says 41.118801 for the station but 44.118801 for the channel
    // (Kamikawa, Hokkaido is near 44N). Both are kept verbatim; distances use the channel.
    latitude: 41.118801,
    longitude: 142.593002,
    elevation: 220.0,
    startDate: '1994-09-30T00:00:00',
    channels: threeComponents({
      location: '',
      sampleRate: 20,
      latitude: 44.118801,
      longitude: 142.593002,
      elevation: 220.0,
      sensitivity: 1000000000.0,
      sensitivityFrequency: 8.0,
      sensor: 'Streckeisen STS-2',
      startDate: '1996-09-24T00:00:00',
      endDate: null,
    }),
  },
  ...(
    [
      ['JMM', 'Miyagi Marumori', 37.868999, 140.789673, 100.0, '1996-09-24T00:00:00'],
      ['JSD', 'Sado', 38.040001, 138.257172, 146.0, '1996-09-29T00:00:00'],
      ['JTM', 'Aomori Tenma', 40.789501, 141.064667, 130.0, '1996-10-06T00:00:00'],
      ['JYT', 'Ibaraki Yasato', 36.230831, 140.190674, 31.0, '1996-09-05T00:00:00'],
    ] as const
  ).map(
    ([station, siteName, latitude, longitude, elevation, startDate]): DemoStation => ({
      network: 'JP',
      station,
      siteName,
      latitude,
      longitude,
      elevation,
      startDate,
      channels: threeComponents({
        location: '',
        sampleRate: 20,
        latitude,
        longitude,
        elevation,
        sensitivity: 1000000000.0,
        sensitivityFrequency: 8.0,
        sensor: 'Streckeisen STS-2',
        startDate,
        endDate: null,
      }),
    }),
  ),
];

/** A (station, channel) pair: one time series of the demo. */
export interface DemoStream {
  station: DemoStation;
  channel: DemoChannel;
}

/** `NET.STA.LOC.CHA` (blank location stays empty, as in SDS file names). */
export function streamId(network: string, station: string, location: string, channel: string): string {
  return `${network}.${station}.${location}.${channel}`;
}

export function demoStreams(stations: readonly DemoStation[] = DEMO_STATIONS): DemoStream[] {
  return stations.flatMap((station) => station.channels.map((channel) => ({ station, channel })));
}

/** Find one demo stream by codes; location '' or '--' for blank. */
export function findDemoStream(
  network: string,
  station: string,
  location: string,
  channel: string,
  stations: readonly DemoStation[] = DEMO_STATIONS,
): DemoStream | undefined {
  const loc = location === '--' ? '' : location;
  return demoStreams(stations).find(
    (s) => s.station.network === network && s.station.station === station && s.channel.location === loc && s.channel.channel === channel,
  );
}
