/**
 * Reading a tile that ingest or analyze replaces (write temp + rename) while the read runs: the
 * read sees exactly one version. The replacement is made between two byte-range reads of one
 * readTile, where a reader reopening the path would take the old footer's offsets to the new
 * file (one version's times with the other's values and provenance, no error).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readTile, readTileMetadata, tilePath, writeTile, type TileKey } from '../../src/products/tiles';

const key: TileKey = { layer: 'std', source: 'geomag', station: 'KAK', cadence: 'PT1S', period: '2020-09-12' };
const version = (root: string, name: string, firstS: number, x0: number) =>
  writeTile(root, {
    key,
    ts: Float64Array.from({ length: 82800 }, (_, i) => Date.UTC(2020, 8, 12) + (i + firstS) * 1000),
    columns: [{ name: 'X', type: 'DOUBLE', values: Float64Array.from({ length: 82800 }, (_, i) => x0 + i / 1000) }],
    meta: { units: { X: 'nT' }, sources: [{ name, sha256: '0'.repeat(64) }] },
  });

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tile-read-'));
});
afterEach(() => {
  jest.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

test.each([1, 2])('a tile renamed over after byte-range read %i of 3 (footer, ts, X): the reader sees one version only', async (after) => {
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  version(a, 'A', 0, 30000);
  version(b, 'B', 3600, 50000); // the day re-processed: starts an hour later, other values
  const file = tilePath(a, key);
  const real = fs.readSync;
  let reads = 0;
  jest.spyOn(fs, 'readSync').mockImplementation(((...args: Parameters<typeof fs.readSync>) => {
    if (++reads === after) fs.renameSync(tilePath(b, key), file); // as a concurrent ingest would
    return (real as (...x: Parameters<typeof fs.readSync>) => number)(...args);
  }) as typeof fs.readSync);
  const d = await readTile(file);
  expect(reads).toBeGreaterThan(after); // the rename happened during the read
  const first = [new Date(d.ts[0]).toISOString(), d.columns.X[0], JSON.parse(d.kv['geonode.source_files'])[0].name];
  // Version A throughout (the descriptor opened first), never a mix.
  expect(first).toEqual(['2020-09-12T00:00:00.000Z', 30000, 'A']);
  expect(d.rows).toBe(82800);
  // The next read sees version B whole.
  jest.restoreAllMocks();
  const next = await readTile(file);
  expect([new Date(next.ts[0]).toISOString(), next.columns.X[0], JSON.parse(next.kv['geonode.source_files'])[0].name]).toEqual(['2020-09-12T01:00:00.000Z', 50000, 'B']);
  expect((await readTileMetadata(file)).kv['geonode.source_files']).toContain('"B"');
});
