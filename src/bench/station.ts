/**
 * fdsnws-station benchmark rows: builds a generated inventory (default 100 networks × 10
 * stations × 6 channels = 6,000 channel epochs, each with the full <Response> of a real shared
 * StationXML channel as template) in a temporary SQLite file through the metadata store
 * (loadInventory, one source per network, as loaded files would be), then times station
 * queries over HTTP (the real app on 127.0.0.1, sequential, keep-alive):
 *   - level=channel format=text for one network and for network=* (target p50 ≤ 50 ms), the
 *     latter also uncached (store candidate cache missed on purpose);
 *   - level=station format=xml for network=* (also uncached);
 *   - level=response format=xml for one station.
 * For src/bench/run.ts (`stationBenchRows`); also runnable alone:
 *
 *   node dist/bench/station.js [--networks N] [--requests N]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../app';
import { defaultConfig } from '../config';
import { parseStationXml, type Channel, type Inventory, type Network, type Station } from '../formats/stationxml';
import { openIndexDb } from '../index/db';
import { loadInventory } from '../index/metadata';
import { latencySummary, numberArg, printRows, timeRequests, withBenchServer, type BenchRow } from './stats';

export type StationBenchRow = BenchRow;

export interface StationBenchOptions {
  /** Networks (default 100); each has `stations` stations of 6 channels. */
  networks?: number;
  /** Stations per network (default 10). */
  stations?: number;
  /** Timed requests per query kind (default 100, after 5 warm-up requests). */
  requests?: number;
  /** StationXML whose first channel (with its response) is the template; default the shared IRIS file. */
  templateFile?: string;
  /** Directory for the temporary database (default: os.tmpdir()); removed afterwards. */
  tmpDir?: string;
}

const CHANNELS = ['BHE', 'BHN', 'BHZ', 'HHE', 'HHN', 'HHZ'];
const T0 = 1_262_304_000_000_000_000n; // 2010-01-01

function defaultTemplate(): string {
  const shared = process.env.GEONODE_SHARED_DATA ?? path.resolve(__dirname, '..', '..', '..', 'shared', 'data');
  return path.join(shared, 'stationxml', 'IRIS_single_channel_with_response.xml');
}

/** First channel of the template file (a plain channel without response when the file is missing). */
function templateChannel(file: string): { channel: Channel; source: string } {
  if (fs.existsSync(file)) {
    const inv = parseStationXml(fs.readFileSync(file), path.basename(file));
    for (const n of inv.networks) for (const s of n.stations) for (const c of s.channels) return { channel: c, source: path.basename(file) };
  }
  const channel: Channel = {
    location: '00', code: 'BHZ', startNs: null, endNs: null, restrictedStatus: null, description: null, lat: 0, lon: 0, elevation: 0, depth: 0,
    azimuth: 0, dip: -90, types: ['CONTINUOUS'], sampleRate: 20, clockDrift: null, sensorDescription: 'synthetic', sensitivity: null, responseXml: null,
    responseStageCount: 0, dataAvailability: null, attributes: [], extras: [],
  }; // prettier-ignore
  return { channel, source: 'no template file found: channels without response' };
}

const netCode = (i: number) => String.fromCharCode(65 + Math.floor(i / 26) % 26) + String.fromCharCode(65 + (i % 26));

function buildNetwork(i: number, stations: number, tpl: Channel): Inventory {
  const code = netCode(i);
  const stas: Station[] = [];
  for (let j = 0; j < stations; j++) {
    // Spread over the globe deterministically.
    const lat = Math.round((((i * 37 + j * 11) % 170) - 85) * 1000) / 1000;
    const lon = Math.round((((i * 53 + j * 29) % 350) - 175) * 1000) / 1000;
    const channels: Channel[] = CHANNELS.map((cha) => ({
      ...tpl,
      location: '00',
      code: cha,
      startNs: T0,
      endNs: null,
      lat,
      lon,
      azimuth: cha.endsWith('E') ? 90 : 0,
      dip: cha.endsWith('Z') ? -90 : 0,
      sampleRate: cha.startsWith('H') ? 100 : 20,
      dataAvailability: null,
    }));
    stas.push({
      code: `S${String(j).padStart(3, '0')}`, startNs: T0, endNs: null, restrictedStatus: null, description: null, lat, lon, elevation: 100,
      siteName: `Bench site ${code}.${j}`, site: { name: `Bench site ${code}.${j}` }, creationDateNs: T0, terminationDateNs: null,
      totalNumberChannels: null, channels, attributes: [], extras: [],
    }); // prettier-ignore
  }
  const net: Network = { code, description: `Bench network ${code}`, startNs: T0, endNs: null, restrictedStatus: null, totalNumberStations: null, stations: stas, attributes: [], extras: [] };
  return { schemaVersion: '1.2', source: 'bench', sender: null, module: null, moduleUri: null, createdNs: null, networks: [net] };
}

/** Build the store, time the queries, return table rows (and remove the temporary files). */
export async function stationBenchRows(opts: StationBenchOptions = {}): Promise<StationBenchRow[]> {
  const nNet = opts.networks ?? 100;
  const nSta = opts.stations ?? 10;
  const requests = opts.requests ?? 100;
  const { channel: tpl, source: tplSource } = templateChannel(opts.templateFile ?? defaultTemplate());
  const total = nNet * nSta * CHANNELS.length;
  const dir = fs.mkdtempSync(path.join(opts.tmpDir ?? os.tmpdir(), 'geonode-station-bench-'));
  const db = openIndexDb(path.join(dir, 'station.sqlite'));
  const rows: StationBenchRow[] = [];
  try {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < nNet; i++) loadInventory(db, buildNetwork(i, nSta, tpl), `bench:network-${i}`);
    const loadS = Number(process.hrtime.bigint() - t0) / 1e9;
    rows.push({
      measure: `station store: load ${total} channel epochs (${nNet} networks × ${nSta} stations × ${CHANNELS.length})`,
      value: `${loadS.toFixed(1)} s (${Math.round(total / loadS)} channels/s)`,
      reference: `responses from ${tplSource}`,
    });

    const app = createApp({ db, config: { ...defaultConfig({}), publicBaseUrl: '' } });
    let k = 0;
    const oneNet = () => netCode(k++ % nNet);
    // `*`, `**`, … select the same (everything) but are different requests to the store's
    // candidate cache (8 entries): cycling through 10 of them measures the uncached path.
    let w = 0;
    const coldAll = () => '*'.repeat(1 + (w++ % 10));
    const kinds: Array<{ measure: string; url: () => string; reference: string }> = [
      { measure: 'fdsnws-station level=channel format=text, one network', url: () => `/fdsnws/station/1/query?network=${oneNet()}&level=channel&format=text`, reference: `${nSta * CHANNELS.length} channels per answer` },
      { measure: 'fdsnws-station level=channel format=text, network=*', url: () => '/fdsnws/station/1/query?network=*&level=channel&format=text', reference: `target p50 ≤ 50 ms; ${total} channels per answer; repeated request (candidate cache warm)` },
      { measure: 'fdsnws-station level=channel format=text, network=* uncached', url: () => `/fdsnws/station/1/query?network=${coldAll()}&level=channel&format=text`, reference: `${total} channels per answer; candidate cache missed every time` },
      { measure: 'fdsnws-station level=station format=xml, network=*', url: () => '/fdsnws/station/1/query?network=*&level=station&format=xml', reference: `${nNet * nSta} stations per answer; repeated request (candidate cache warm)` },
      { measure: 'fdsnws-station level=station format=xml, network=* uncached', url: () => `/fdsnws/station/1/query?network=${coldAll()}&level=station&format=xml`, reference: `${nNet * nSta} stations per answer; candidate cache missed every time` },
      { measure: 'fdsnws-station level=response format=xml, one station', url: () => `/fdsnws/station/1/query?network=${oneNet()}&station=S000&level=response&format=xml`, reference: `${CHANNELS.length} channels with responses per answer` },
    ]; // prettier-ignore
    await withBenchServer(app, async (server) => {
      for (const kind of kinds) {
        const t = await timeRequests(server, kind.url, { warmup: 5, requests, label: 'station bench' });
        rows.push({
          measure: `${kind.measure} (${total} channels in store)`,
          value: latencySummary(t),
          reference: `${kind.reference}; ${requests} sequential requests`,
        });
      }
    });
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (require.main === module) {
  printRows(stationBenchRows({ networks: numberArg('networks'), stations: numberArg('stations'), requests: numberArg('requests') }));
}
