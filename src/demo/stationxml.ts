/**
 * The demo inventory as FDSN StationXML 1.2 (`ARCHIVE/stations.xml`), written by the generator
 * beside the miniSEED so that `geonode start` can load it into the metadata store and serve
 * fdsnws-station for exactly the six stations (and three components) the archive holds.
 *
 * Built from the constants in ./stations.ts through the shared writer, so the document is the
 * same StationXML the service emits. Network epochs and descriptions are those of the IRIS
 * export the constants come from (ExportBlock__stations_inventory_JP_II.xml).
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeStationXml, type Channel, type Inventory, type Network, type Station } from '../formats/stationxml';
import { parseIsoToNs } from '../formats/time';
import { DEMO_STATIONS, type DemoChannel, type DemoStation } from './stations';

export const DEMO_STATIONXML_NAME = 'stations.xml';

const NETWORKS: Record<string, { description: string; start: string }> = {
  II: { description: 'Global Seismograph Network - II (GSN/II)', start: '1986-01-01T00:00:00' },
  JP: { description: 'Japan Meteorological Agency Seismic Network ()', start: '1994-01-01T00:00:00' },
};

const ns = (iso: string): bigint => {
  const v = parseIsoToNs(iso);
  if (v === null) throw new Error(`demo inventory: bad time ${iso}`);
  return v;
};

function channel(c: DemoChannel): Channel {
  return {
    location: c.location,
    code: c.channel,
    startNs: ns(c.startDate),
    endNs: c.endDate === null ? null : ns(c.endDate),
    restrictedStatus: 'open',
    // Say which components are synthetic: a user comparing with IRIS would otherwise wonder.
    description: c.synthetic ? 'Synthetic component added by the GeoNode demo (not in the source inventory)' : null,
    lat: c.latitude,
    lon: c.longitude,
    elevation: c.elevation,
    depth: c.depth,
    azimuth: c.azimuth,
    dip: c.dip,
    types: ['CONTINUOUS', 'GEOPHYSICAL'],
    sampleRate: c.sampleRate,
    clockDrift: null,
    sensorDescription: c.sensor,
    sensitivity: { value: c.sensitivity, frequency: c.sensitivityFrequency, inputUnits: 'm/s', outputUnits: 'counts' },
    responseXml: null,
    responseStageCount: 0,
    dataAvailability: null,
    attributes: [],
    extras: [],
  };
}

function station(s: DemoStation): Station {
  return {
    code: s.station,
    startNs: ns(s.startDate),
    endNs: null,
    restrictedStatus: 'open',
    description: null,
    lat: s.latitude,
    lon: s.longitude,
    elevation: s.elevation,
    siteName: s.siteName,
    site: { name: s.siteName },
    creationDateNs: null,
    terminationDateNs: null,
    totalNumberChannels: s.channels.length,
    channels: s.channels.map(channel),
    attributes: [],
    extras: [],
  };
}

/** The demo inventory model (networks in code order, stations in the order of stations.ts). */
export function demoInventory(stations: readonly DemoStation[] = DEMO_STATIONS): Inventory {
  const nets = new Map<string, Network>();
  for (const s of stations) {
    let n = nets.get(s.network);
    if (!n) {
      const meta = NETWORKS[s.network];
      n = {
        code: s.network,
        description: meta?.description ?? null,
        startNs: meta ? ns(meta.start) : null,
        endNs: null,
        restrictedStatus: 'open',
        totalNumberStations: null,
        stations: [],
        attributes: [],
        extras: [],
      };
      nets.set(s.network, n);
    }
    n.stations.push(station(s));
  }
  return {
    schemaVersion: '1.2',
    source: 'GeoNode demo',
    sender: 'GeoNode',
    module: 'geonode generate',
    moduleUri: null,
    createdNs: null,
    networks: [...nets.values()].sort((a, b) => (a.code < b.code ? -1 : 1)),
  };
}

export interface StreamCodes {
  network: string;
  station: string;
  location: string;
  channel: string;
}

/** The demo stations reduced to the given streams (generate --stations writes a subset: list only what it wrote). */
function onlyStreams(streams: Iterable<StreamCodes>): DemoStation[] {
  const keep = new Set<string>();
  for (const s of streams) keep.add(`${s.network}.${s.station}.${s.location}.${s.channel}`);
  return DEMO_STATIONS.map((s) => ({ ...s, channels: s.channels.filter((c) => keep.has(`${s.network}.${s.station}.${c.location}.${c.channel}`)) })).filter((s) => s.channels.length > 0);
}

/**
 * Write `DIR/stations.xml` (level=response: the InstrumentSensitivity is the response).
 * `streams` (default: all) limits it to what the archive holds. `created` is fixed so regenerating an unchanged demo gives identical bytes (and the store
 * skips it by sha256).
 */
export function writeDemoStationXml(dir: string, streams?: Iterable<StreamCodes>): string {
  const file = path.join(dir, DEMO_STATIONXML_NAME);
  const xml = writeStationXml(demoInventory(streams ? onlyStreams(streams) : DEMO_STATIONS), { level: 'response', created: ns('2020-09-08T00:00:00') });
  fs.writeFileSync(file, xml.endsWith('\n') ? xml : xml + '\n');
  return file;
}
