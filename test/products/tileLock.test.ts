/**
 * One writer per tile root: a second ingest/analyze on the same tiles is refused with the name
 * of the running one (two at once lost one run's rows from shared tiles, both exiting 0); a
 * lock left by a killed run is taken over.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli';
import { lockTileRoot, TILE_LOCK_NAME, TileRootBusyError } from '../../src/products/tileLock';
import { tilePath, writeTile, type TileKey } from '../../src/products/tiles';
import { makeIo } from '../helpers/cliIo';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tile-lock-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('a second writer is refused with the first one named; released, the root can be taken again', () => {
  const tiles = path.join(dir, 'tiles');
  const release = lockTileRoot(tiles, 'ingest');
  expect(() => lockTileRoot(tiles, 'analyze')).toThrow(TileRootBusyError);
  expect(() => lockTileRoot(tiles, 'analyze')).toThrow(new RegExp(`is being written by ingest \\(pid ${process.pid} on `));
  release();
  expect(fs.existsSync(path.join(tiles, TILE_LOCK_NAME))).toBe(false);
  lockTileRoot(tiles, 'analyze')();
});

test('the lock of a run that was killed (its process gone) is taken over', () => {
  const tiles = path.join(dir, 'tiles');
  fs.mkdirSync(tiles);
  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const pid = Number(gone.stdout);
  fs.writeFileSync(path.join(tiles, TILE_LOCK_NAME), JSON.stringify({ pid, host: os.hostname(), command: 'ingest', started: '2026-01-01T00:00:00Z' }));
  const release = lockTileRoot(tiles, 'analyze');
  expect(JSON.parse(fs.readFileSync(path.join(tiles, TILE_LOCK_NAME), 'utf8'))).toMatchObject({ pid: process.pid, command: 'analyze' });
  release();
});

test('a lock naming our own pid that we do not hold (pid reuse, PID 1 in a restarted container) is stale; that of another host is not', () => {
  const tiles = path.join(dir, 'tiles');
  fs.mkdirSync(tiles);
  const lock = path.join(tiles, TILE_LOCK_NAME);
  fs.writeFileSync(lock, JSON.stringify({ pid: process.pid, host: os.hostname(), command: 'ingest', started: '2026-01-01T00:00:00Z' }));
  lockTileRoot(tiles, 'analyze')();
  fs.writeFileSync(lock, JSON.stringify({ pid: 1, host: 'another-host', command: 'ingest', started: '2026-01-01T00:00:00Z' }));
  expect(() => lockTileRoot(tiles, 'analyze')).toThrow(`is being written by ingest (pid 1 on another-host, since 2026-01-01T00:00:00Z); run again when it has finished (if no such run is going on, e.g. a restarted container, remove ${lock})`);
  // A takeover in progress elsewhere: this run does not take the lock too.
  fs.writeFileSync(lock, JSON.stringify({ pid: 999999999, host: os.hostname(), command: 'ingest', started: '2026-01-01T00:00:00Z' }));
  fs.writeFileSync(`${lock}.takeover`, '1');
  expect(() => lockTileRoot(tiles, 'analyze')).toThrow(TileRootBusyError);
  fs.rmSync(`${lock}.takeover`);
  lockTileRoot(tiles, 'analyze')();
});

test('CLI: ingest and analyze on a tile root another run is writing exit 1 and say which run', async () => {
  const tiles = path.join(dir, 'tiles');
  const inputs = path.join(dir, 'in');
  fs.mkdirSync(inputs);
  const release = lockTileRoot(tiles, 'analyze');
  try {
    const io = makeIo(dir);
    expect(await main(['ingest', inputs, '--tiles', tiles, '--db', path.join(dir, 'db.sqlite')], io)).toBe(1);
    expect(io.err.text).toMatch(/geonode ingest: \S+ is being written by analyze \(pid \d+ on .*\); run again when it has finished/);
    const io2 = makeIo(dir);
    expect(await main(['analyze', '--tiles', tiles, '--db', path.join(dir, 'db.sqlite')], io2)).toBe(1);
    expect(io2.err.text).toMatch(/geonode analyze: \S+ is being written by analyze/);
  } finally {
    release();
  }
  // Free again: the same ingest runs (and leaves no lock behind).
  const io3 = makeIo(dir);
  expect(await main(['ingest', inputs, '--tiles', tiles, '--db', path.join(dir, 'db.sqlite')], io3)).toBe(0);
  expect(fs.existsSync(path.join(tiles, TILE_LOCK_NAME))).toBe(false);
});

test('temp files: a failed tile write leaves none; those of a killed run are swept by the next ingest', async () => {
  const tiles = path.join(dir, 'tiles');
  const key: TileKey = { layer: 'std', source: 'geomag', station: 'KAK', cadence: 'PT1M', period: '2020-09-12' };
  // The rename fails (a directory where the tile goes): the temp file is removed with the error.
  fs.mkdirSync(tilePath(tiles, key), { recursive: true });
  expect(() => writeTile(tiles, { key, ts: [0], columns: [{ name: 'X', type: 'DOUBLE', values: Float64Array.of(1) }], meta: { units: {}, sources: [] } })).toThrow();
  expect(fs.readdirSync(path.dirname(tilePath(tiles, key)))).toEqual(['part-0.parquet']);
  // A temp file of a run killed before its rename: the next writer removes it.
  const stray = path.join(tiles, 'layer=raw', 'source=geomag', 'station=KAK', 'cadence=PT1S', 'date=2020-09-12', 'part-0.parquet.tmp-12345');
  fs.mkdirSync(path.dirname(stray), { recursive: true });
  fs.writeFileSync(stray, 'half a tile');
  const inputs = path.join(dir, 'in');
  fs.mkdirSync(inputs);
  const io = makeIo(dir);
  expect(await main(['ingest', inputs, '--tiles', tiles, '--db', path.join(dir, 'db.sqlite')], io)).toBe(0);
  expect(io.out.text).toContain('ingest: removed 1 temp file(s) left by an interrupted run');
  expect(fs.existsSync(stray)).toBe(false);
});
