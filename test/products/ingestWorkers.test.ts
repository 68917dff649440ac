/**
 * IAGA-2002 ingest through the tile worker pool (src/products/tilePool.ts) against the in-thread
 * path: the same tiles byte for byte, the same input rows, and the same behaviour on a bad file
 * (error naming the row, earlier periods kept with the file's sha256, no temporary files left).
 *
 * Workers load JS, so the worker runs use the compiled dist/products/tileWorker.js (CI runs
 * `npm run build` before `npm test`); without a build they are skipped with a message. The
 * in-thread runs here also cover hashing while parsing (no earlier row → no separate hash pass).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { formatIagaHeader, formatIagaRows, parseIagaHeader, SENTINEL_MISSING, SENTINEL_NOT_RECORDED } from '../../src/formats/iaga2002';
import { defaultProductsConfig } from '../../src/products/config';
import { ingest, type ProductInputRow } from '../../src/products/ingest';
import { writePeriod } from '../../src/products/periodTiles';
import { listTiles, readTileMetadata } from '../../src/products/tiles';
import { warmUpTileCode } from '../../src/products/tileWarmup';

const WORKER = path.resolve(__dirname, '..', '..', 'dist', 'products', 'tileWorker.js');
const hasWorker = fs.existsSync(WORKER);
const withWorkers = hasWorker ? test : test.skip;
if (!hasWorker) console.warn(`${WORKER} not built (npm run build): tile worker tests are skipped`);

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-ingest-workers-'));
const sha = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');

/** `days` days of 1-minute XYZF with fill values, a spike per day and a long gap; optionally a step back in time. */
function writeMinuteFile(file: string, days: number, backAt = -1): void {
  const n = days * 1440;
  const t0 = Date.UTC(2021, 2, 1);
  const times = Float64Array.from({ length: n }, (_, i) => t0 + i * 60_000);
  if (backAt >= 0) times[backAt] = times[backAt - 1];
  const cols = ['X', 'Y', 'Z', 'F'].map((element, c) => {
    const values = new Float64Array(n);
    const sentinel = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      values[i] = Math.round((30000 - c * 9000 + 15 * Math.sin(i / 200 + c) + ((i * 7919 + c) % 13) / 10) * 100) / 100;
      if (i % 1440 === 700) values[i] += 400; // spike
      if (i % 613 === 5) (values[i] = NaN), (sentinel[i] = SENTINEL_MISSING);
    }
    if (c === 3) for (let i = 2000; i < 2100 && i < n; i++) (values[i] = NaN), (sentinel[i] = SENTINEL_NOT_RECORDED);
    return { element, values, sentinel };
  });
  const head = formatIagaHeader({ iagaCode: 'TST', stationName: 'Test', latitude: 36.2, longitude: 140.2, elevation: 30, intervalType: '1-minute', dataType: 'variation' }, cols);
  fs.writeFileSync(file, Buffer.concat([Buffer.from(head, 'latin1'), formatIagaRows(times, cols)]));
}

/** Relative path → file bytes of every tile under a root. */
function tileBytes(root: string): Map<string, Buffer> {
  return new Map(listTiles(root).map((t) => [path.relative(root, t.path), fs.readFileSync(t.path)]));
}

function tmpFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else if (e.name.includes('.tmp-')) out.push(e.name);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

describe('IAGA-2002 ingest: tile workers = in-thread', () => {
  const root = tmp();
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  const input = path.join(root, 'in');
  fs.mkdirSync(input);
  const good = path.join(input, 'tst20210301vmin.min');
  writeMinuteFile(good, 40);

  const run = (name: string, workers: number, force = true) =>
    ingest([input], { tilesDir: path.join(root, name, 'tiles'), db: path.join(root, `${name}.sqlite`), force, workers, workerScript: workers > 0 ? WORKER : undefined });

  test('in-thread: hashed while parsed, one raw and one std tile per day, rows accounted', async () => {
    const s = await run('thread', 0);
    expect(s.failed).toEqual([]);
    expect(s.rawTiles).toBe(40);
    expect(s.stdTiles).toBe(40);
    expect(s.inputRows).toBe(40 * 1440);
    const db = new Database(path.join(root, 'thread.sqlite'), { readonly: true });
    const row = db.prepare('SELECT * FROM geonode_product_inputs WHERE path = ?').get(good) as ProductInputRow;
    db.close();
    expect(row.sha256).toBe(sha(good));
    for (const t of listTiles(path.join(root, 'thread', 'tiles')).slice(0, 3)) expect((await readTileMetadata(t.path)).kv['geonode.source_sha256']).toBe(sha(good));
    expect(tmpFiles(path.join(root, 'thread'))).toEqual([]);
  });

  withWorkers('workers (dist build): the same tiles byte for byte, summary and input row', async () => {
    const s = await run('workers', 2);
    const t = await run('thread2', 0);
    expect(s.failed).toEqual([]);
    expect([s.workers, t.workers]).toEqual([2, 0]);
    const strip = (x: typeof s) => ({ ...x, seconds: 0, tileWriteMs: 0, workers: 0 });
    expect(strip(s)).toEqual(strip(t));
    const a = tileBytes(path.join(root, 'workers', 'tiles'));
    const b = tileBytes(path.join(root, 'thread2', 'tiles'));
    expect([...a.keys()]).toEqual([...b.keys()]);
    // (a mismatch here after editing src/: rebuild dist with `npm run build`)
    const differ = [...a].filter(([k, v]) => !v.equals(b.get(k)!)).map(([k]) => k);
    expect(differ).toEqual([]);
    expect(tmpFiles(path.join(root, 'workers'))).toEqual([]);
    // Workers that warmed up first (tileWarmup.ts; by default only for large files): the same tiles.
    await ingest([input], { tilesDir: path.join(root, 'warm', 'tiles'), db: path.join(root, 'warm.sqlite'), workers: 2, workerScript: WORKER, tileWarmUp: true });
    const w = tileBytes(path.join(root, 'warm', 'tiles'));
    expect([...w.keys()]).toEqual([...b.keys()]);
    expect([...w].filter(([k, v]) => !v.equals(b.get(k)!)).map(([k]) => k)).toEqual([]);
    // Unchanged input, not forced: hashed first and skipped, no pool needed.
    const again = await run('workers', 2, false);
    expect(again.skipped).toBe(1);
    expect(again.processed).toBe(0);
  });

  for (const workers of [0, 2]) {
    (workers > 0 ? withWorkers : test)(`bad file (${workers ? 'workers' : 'in-thread'}): error names the row; earlier days kept with the file's hash; no temporary files`, async () => {
      const dir = path.join(root, `bad${workers}`);
      fs.mkdirSync(path.join(dir, 'in'), { recursive: true });
      const bad = path.join(dir, 'in', 'bad20210301vmin.min');
      // 60 days = 2 parse batches of ≤ 65 536 rows; row 72 101 (day 51) repeats the stamp before it.
      writeMinuteFile(bad, 60, 50 * 1440 + 100);
      const s = await ingest([path.join(dir, 'in')], { tilesDir: path.join(dir, 'tiles'), db: path.join(dir, 'db.sqlite'), workers, workerScript: workers > 0 ? WORKER : undefined });
      expect(s.failed).toEqual([{ file: bad, reason: 'time stamps not increasing at data row 72101' }]);
      // As before the pool: the days finished within the first batch (45) were written.
      const tiles = listTiles(path.join(dir, 'tiles'));
      expect(tiles.filter((t) => t.key.layer === 'raw').map((t) => t.key.period)).toEqual(Array.from({ length: 45 }, (_, d) => new Date(Date.UTC(2021, 2, 1 + d)).toISOString().slice(0, 10)));
      expect(tiles.filter((t) => t.key.layer === 'std')).toHaveLength(45);
      for (const t of tiles) expect((await readTileMetadata(t.path)).kv['geonode.source_sha256']).toBe(sha(bad));
      expect(tmpFiles(dir)).toEqual([]);
      const db = new Database(path.join(dir, 'db.sqlite'), { readonly: true });
      const row = db.prepare('SELECT * FROM geonode_product_inputs WHERE path = ?').get(bad) as ProductInputRow;
      db.close();
      expect(row.status).toBe('error');
      expect(row.sha256).toBe(sha(bad));
    });
  }
});

describe('tile worker warm-up (tileWarmup.ts): encodes, writes nothing', () => {
  test('writePeriod with encodeOnly returns no tile and leaves the root empty; the warm-up writes no file', () => {
    const root = tmp();
    try {
      const n = 1440;
      const times = Float64Array.from({ length: n }, (_, i) => Date.UTC(2021, 2, 1) + i * 60_000);
      const columns = ['X', 'Y'].map((name) => ({ name, units: 'nT', values: Float64Array.from({ length: n }, (_, i) => 30000 + Math.sin(i / 50)), sentinel: new Uint8Array(n) }));
      const header = parseIagaHeader(formatIagaHeader({ iagaCode: 'TST', stationName: 'Test', latitude: 36.2, longitude: 140.2, elevation: 30, intervalType: '1-minute' }, columns.map((c) => ({ element: c.name }))));
      const ctx = { source: 'geomag' as const, station: 'TST', cadenceMs: 60_000, stampOffsetMs: 0, header, file: { name: 'x', sha256: '0'.repeat(64) } };
      expect(writePeriod(root, ctx, { times, columns }, defaultProductsConfig(), { encodeOnly: true })).toEqual([]);
      expect(fs.readdirSync(root)).toEqual([]);
      // The same period written for real: the raw and std tiles (so encodeOnly did skip real work).
      expect(writePeriod(root, ctx, { times, columns }, defaultProductsConfig()).map((t) => t.key.layer)).toEqual(['raw', 'std']);
      const writes = [jest.spyOn(fs, 'writeFileSync'), jest.spyOn(fs, 'mkdirSync'), jest.spyOn(fs, 'renameSync'), jest.spyOn(fs, 'openSync')];
      try {
        warmUpTileCode();
        for (const w of writes) expect(w).not.toHaveBeenCalled();
      } finally {
        for (const w of writes) w.mockRestore();
      }
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
