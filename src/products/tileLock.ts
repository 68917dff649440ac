/**
 * One writer per tile root. ingest and analyze read, merge and rewrite tiles that hold many
 * inputs (a VLF day of 24 hourly files, a year of daily features); two runs at once each
 * rewrite such a tile from their own rows, the last rename wins, and the other's rows are lost
 * while both record their inputs as done (later runs then say "unchanged" and never repair it).
 * So a run takes TILES/.geonode-writer.lock (created exclusively; it names the command and pid)
 * and a second run is refused with that name. A lock left by a killed run is taken over when
 * its process is gone (same host).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const TILE_LOCK_NAME = '.geonode-writer.lock';

export class TileRootBusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TileRootBusyError';
  }
}

interface Holder {
  pid: number;
  host: string;
  command: string;
  started: string;
}

function readHolder(file: string): Holder | null {
  try {
    const h = JSON.parse(fs.readFileSync(file, 'utf8')) as Holder;
    return typeof h.pid === 'number' ? h : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Lock files this process holds (a lock naming our pid that we do not hold is a dead run's: pid reuse, PID 1 in a restarted container). */
const held = new Set<string>();

/** Take the writer lock of `root` for `command`; returns its release. Throws TileRootBusyError. */
export function lockTileRoot(root: string, command: string): () => void {
  fs.mkdirSync(root, { recursive: true });
  const file = path.join(root, TILE_LOCK_NAME);
  const me: Holder = { pid: process.pid, host: os.hostname(), command, started: new Date().toISOString() };
  const busy = (h: Holder | null): TileRootBusyError =>
    new TileRootBusyError(
      h
        ? `${root} is being written by ${h.command} (pid ${h.pid} on ${h.host}, since ${h.started}); run again when it has finished` +
            (h.host !== me.host ? ` (if no such run is going on, e.g. a restarted container, remove ${file})` : '')
        : `${root} is locked by ${file} (being created by another run); run again in a moment`,
    );
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(me) + '\n', { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw e;
      const h = readHolder(file);
      if (!isStale(file, h, me)) throw busy(h);
      // Taking over a stale lock: read-judge-remove is not atomic, so two runs doing it at once
      // could each remove the other's fresh lock. One takeover at a time, under its own
      // exclusive file; inside, the lock is judged again.
      const takeover = `${file}.takeover`;
      try {
        fs.writeFileSync(takeover, String(process.pid), { flag: 'wx' });
      } catch (e2) {
        if ((e2 as NodeJS.ErrnoException).code !== 'EEXIST') throw e2;
        if (Date.now() - fs.statSync(takeover).mtimeMs > 60_000) fs.rmSync(takeover, { force: true }); // its taker died
        throw busy(h);
      }
      try {
        const again = readHolder(file);
        if (fs.existsSync(file) && !isStale(file, again, me)) throw busy(again);
        fs.rmSync(file, { force: true });
      } finally {
        fs.rmSync(takeover, { force: true });
      }
    }
  }
  held.add(file);
  return () => {
    held.delete(file);
    if (readHolder(file)?.pid === process.pid) fs.rmSync(file, { force: true });
  };
}

/**
 * A lock nobody holds any more: its run was killed before it could release (same host, process
 * gone, or our own pid without our holding it), or the file was never written out (a crash
 * between create and write) and is not fresh.
 */
function isStale(file: string, h: Holder | null, me: Holder): boolean {
  if (!h) {
    try {
      return Date.now() - fs.statSync(file).mtimeMs > 60_000;
    } catch {
      return true;
    }
  }
  if (h.host !== me.host) return false;
  if (h.pid === me.pid) return !held.has(file);
  return !alive(h.pid);
}

/**
 * Remove the temp files of tile writes under `root` (`….parquet.tmp-<pid>`): with the writer
 * lock held no other run is writing, so any left is from a run killed or stopped by a full disk
 * before its rename. Returns how many were removed.
 */
export function sweepTileTemps(root: string): number {
  let n = 0;
  const walk = (dir: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.parquet\.tmp-\d+$/.test(e.name)) {
        fs.rmSync(p, { force: true });
        n++;
      }
    }
  };
  walk(root);
  return n;
}
