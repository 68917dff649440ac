/**
 * Re-indexing while the server is serving: the operator's everyday case (data keep arriving,
 * `geonode index` runs from cron while `geonode serve` answers requests).
 *
 * A real HTTP server (the app on an ephemeral port, read-only DB connection as `serve` opens it)
 * answers a steady stream of dataselect requests while the indexer, on its own read-write
 * connection, picks up appended records, new day files and a removed file several times.
 * Every request must succeed (200, or 204 only before its data exists), every response must be
 * whole records of the requested channel, and after the last run the server must see exactly
 * what was written.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../../src/app';
import { defaultConfig } from '../../src/config';
import { encodeRecords, iterateRecords } from '../../src/formats/mseed';
import { nsToIso, utcToNs } from '../../src/formats/time';
import { openIndexDb } from '../../src/index/db';
import { indexArchive } from '../../src/index/indexer';

const RATE = 20;
const DAY0 = utcToNs(2021, 3, 1);
const SEC = 1_000_000_000n;

function dayFile(root: string, sta: string, day: number): string {
  return path.join(root, '2021', 'XX', sta, 'HHZ.D', `XX.${sta}..HHZ.D.2021.${String(60 + day).padStart(3, '0')}`);
}

/** Records for `seconds` of a ramp starting at `startNs` (values encode the time: checkable). */
function records(sta: string, startNs: bigint, seconds: number): Buffer {
  const n = seconds * RATE;
  const first = Number((startNs - DAY0) / (SEC / BigInt(RATE)));
  const samples = Int32Array.from({ length: n }, (_, i) => (first + i) % 100000);
  return Buffer.concat(
    encodeRecords({ network: 'XX', station: sta, location: '', channel: 'HHZ', startNs, sampleRate: RATE }, samples, {
      formatVersion: 2,
      encoding: 'steim2',
      recordLength: 512,
    }),
  );
}

/** Append atomically enough for a reader: whole records in one write. */
function appendRecords(file: string, buf: Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, buf);
}

function get(port: number, p: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

test('dataselect keeps answering correctly while the archive is re-indexed', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-live-'));
  const dbPath = path.join(root, 'index.sqlite');
  const writer = openIndexDb(dbPath);
  // Day 0 of station A exists before the server starts.
  appendRecords(dayFile(root, 'A', 0), records('A', DAY0, 600));
  await indexArchive(writer, [path.join(root, '2021')], { workers: 0 });

  const reader = openIndexDb(dbPath, { readonly: true });
  const config = { ...defaultConfig({}), dataRoot: '/' };
  const server = http.createServer(createApp({ db: reader, config }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;

  const failures: string[] = [];
  let requests = 0;
  let stop = false;
  const q = (sta: string, s: bigint, e: bigint) =>
    `/fdsnws/dataselect/1/query?net=XX&sta=${sta}&loc=--&cha=HHZ&start=${nsToIso(s)}&end=${nsToIso(e)}`;
  const client = (async () => {
    while (!stop) {
      for (const [sta, s, e] of [
        ['A', DAY0 + 10n * SEC, DAY0 + 70n * SEC],
        ['A', DAY0, DAY0 + 86_400n * SEC],
        ['B', DAY0, DAY0 + 86_400n * SEC],
      ] as const) {
        requests++;
        const r = await get(port, q(sta, s, e));
        if (r.status === 204 && sta === 'B') continue; // B's data may not be indexed yet
        if (r.status !== 200) {
          failures.push(`${sta}: HTTP ${r.status} ${r.body.toString().slice(0, 80)}`);
          continue;
        }
        let n = 0;
        for (const rec of iterateRecords(r.body)) {
          if (!rec.ok) failures.push(`${sta}: bad record in response: ${rec.error.reason}`);
          else if (rec.header.station !== sta) failures.push(`${sta}: got ${rec.header.station}`);
          n++;
        }
        if (n === 0) failures.push(`${sta}: 200 without records`);
      }
    }
  })();

  // Operator activity: append to A, add B's day 0 and A's day 1, remove A's day 1 again.
  for (let round = 1; round <= 6; round++) {
    appendRecords(dayFile(root, 'A', 0), records('A', DAY0 + BigInt(600 * round) * SEC, 600));
    if (round === 2) appendRecords(dayFile(root, 'B', 0), records('B', DAY0, 1200));
    if (round === 3) appendRecords(dayFile(root, 'A', 1), records('A', DAY0 + 86_400n * SEC, 300));
    if (round === 5) fs.rmSync(dayFile(root, 'A', 1));
    const s = await indexArchive(writer, [path.join(root, '2021')], { workers: 0 });
    expect(s.errors).toEqual([]);
    await new Promise((r) => setTimeout(r, 30));
  }
  stop = true;
  await client;

  expect(failures).toEqual([]);
  expect(requests).toBeGreaterThan(20);

  // After the last run the server sees everything written to A's day 0, and nothing of day 1.
  const all = await get(port, q('A', DAY0, DAY0 + 2n * 86_400n * SEC));
  expect(all.status).toBe(200);
  expect(all.body.equals(fs.readFileSync(dayFile(root, 'A', 0)))).toBe(true);

  await new Promise<void>((r) => server.close(() => r()));
  reader.close();
  writer.close();
  fs.rmSync(root, { recursive: true, force: true });
});
