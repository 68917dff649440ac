/**
 * fdsnws-event benchmark rows: builds a store of synthetic events (default 100,000) in a
 * temporary SQLite file and times typical queries over HTTP (the real app on 127.0.0.1):
 * time window (~30 days of a 5-year catalogue) + latitude/longitude box + minmagnitude,
 * limit=100, orderby=time, in format=text and format=xml. Reports load throughput and
 * p50/p99 latency per format. For src/bench/run.ts (`eventBenchRows`); also runnable alone:
 *
 *   node dist/bench/events.js [--events N] [--requests N]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../app';
import { defaultConfig } from '../config';
import { mulberry32 } from '../demo/prng';
import { createEvent, type CatalogEvent } from '../formats/quakeml';
import { nsToIso } from '../formats/time';
import { openIndexDb } from '../index/db';
import { storeEvents } from '../index/events';
import { latencySummary, numberArg, printRows, timeRequests, withBenchServer, type BenchRow } from './stats';

export type EventBenchRow = BenchRow;

export interface EventBenchOptions {
  /** Synthetic events in the store (default 100000). */
  events?: number;
  /** Timed requests per format (default 200, after 20 warm-up requests). */
  requests?: number;
  /** Directory for the temporary database (default: os.tmpdir()); removed afterwards. */
  tmpDir?: string;
}

const T0 = 1_577_836_800_000_000_000n; // 2020-01-01
const SPAN_S = 5 * 365 * 86400;

function syntheticEvent(i: number, rnd: () => number): CatalogEvent {
  const pid = `smi:local/bench/event/${i}`;
  const timeNs = T0 + BigInt(Math.floor(rnd() * SPAN_S * 1000)) * 1_000_000n;
  // Gutenberg-Richter-like magnitudes: many small, few large.
  const mag = Math.round((1 + -Math.log10(1 - rnd() * 0.9999) * 1.2) * 10) / 10;
  const origin = { publicId: `${pid}/origin`, timeNs, lat: rnd() * 180 - 90, lon: rnd() * 360 - 180, depthKm: rnd() * 200, author: 'BENCH', arrivals: [] };
  const ev = createEvent({
    publicId: pid,
    eventId: `bench${i}`,
    origins: [origin],
    magnitudes: [
      { publicId: `${pid}/mag/1`, value: mag, type: 'ML', author: 'BENCH' },
      { publicId: `${pid}/mag/2`, value: mag + 0.1, type: 'mb', author: 'BENCH' },
    ],
    descriptions: [{ text: `Synthetic region ${i % 50}`, type: 'region name' }],
  });
  ev.type = 'earthquake';
  ev.catalog = 'BENCH';
  ev.contributor = 'BENCH';
  return ev;
}

/** Build the store, time the queries, return table rows (and remove the temporary files). */
export async function eventBenchRows(opts: EventBenchOptions = {}): Promise<EventBenchRow[]> {
  const n = opts.events ?? 100_000;
  const requests = opts.requests ?? 200;
  const dir = fs.mkdtempSync(path.join(opts.tmpDir ?? os.tmpdir(), 'geonode-event-bench-'));
  const db = openIndexDb(path.join(dir, 'events.sqlite'));
  const rows: EventBenchRow[] = [];
  try {
    const rnd = mulberry32(42); // deterministic: every run queries the same catalogue
    const t0 = process.hrtime.bigint();
    // Stored in sources of 10,000 events: one transaction each, as a loaded file would be.
    for (let s = 0; s * 10_000 < n; s++) {
      const batch: CatalogEvent[] = [];
      for (let i = s * 10_000; i < Math.min(n, (s + 1) * 10_000); i++) batch.push(syntheticEvent(i, rnd));
      storeEvents(db, `bench-source-${s}`, String(s), '{}', batch);
    }
    const loadS = Number(process.hrtime.bigint() - t0) / 1e9;
    rows.push({ measure: `event store: load ${n} synthetic events`, value: `${loadS.toFixed(1)} s (${Math.round(n / loadS)} events/s)`, reference: 'QuakeML per event + scalar columns' });

    const app = createApp({ db, config: { ...defaultConfig({}), publicBaseUrl: '' } });
    await withBenchServer(app, async (server) => {
      const qrnd = mulberry32(7);
      const query = (format: string): string => {
        const start = T0 + BigInt(Math.floor(qrnd() * (SPAN_S - 30 * 86400))) * 1_000_000_000n;
        const end = start + 30n * 86400n * 1_000_000_000n;
        const lat = Math.floor(qrnd() * 120) - 90; // box of 60° × 120° inside ±90
        const lon = Math.floor(qrnd() * 240) - 180;
        return (
          `/fdsnws/event/1/query?starttime=${nsToIso(start, 0)}&endtime=${nsToIso(end, 0)}` +
          `&minlatitude=${lat}&maxlatitude=${lat + 60}&minlongitude=${lon}&maxlongitude=${lon + 120}&minmagnitude=1.5&limit=100&format=${format}`
        );
      };
      for (const format of ['text', 'xml']) {
        const t = await timeRequests(server, () => query(format), { warmup: 20, requests, label: 'event bench', ok: (status) => status === 200 || status === 204 });
        rows.push({
          measure: `fdsnws-event query ${format} (30 d window + box + minmag, limit 100, ${n} events)`,
          value: latencySummary(t),
          reference: `${requests} sequential requests`,
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
  printRows(eventBenchRows({ events: numberArg('events'), requests: numberArg('requests') }));
}
