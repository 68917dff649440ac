/**
 * Runs station-period jobs (periodTiles.ts writePeriod: standardize, encode and write the raw and
 * std tiles) for ingest.ts, either in the calling thread or on a pool of worker threads
 * (tileWorker.ts). Station-periods are independent (no state crosses a period), so a file's
 * periods go to the workers while the main thread reads, hashes and parses the next ones.
 *
 * Job arrays are not copied: arrays on a SharedArrayBuffer are shared (ingest.ts allocates each
 * period that way), others are transferred, so the caller must hand over arrays that own their
 * buffers and not touch them afterwards. Shared is the fast way: the first transfer detaches an
 * ArrayBuffer, and V8 then throws away every optimized function of the sending thread that reads
 * typed arrays (the IAGA-2002 parser among them) and compiles them again with detach checks.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ProductsConfig } from './config';
import { writePeriod, type PeriodSeries, type SeriesContext } from './periodTiles';
import type { WrittenTile } from './tiles';

export interface PeriodJob {
  root: string;
  ctx: SeriesContext;
  series: PeriodSeries;
  cfg: ProductsConfig;
  hashPlaceholder?: string;
}

export interface PeriodRequest extends PeriodJob {
  id: number;
}

export type PeriodReply = { id: number; tiles: WrittenTile[] } | { id: number; error: string };

export interface PeriodRunner {
  /** Worker threads (0: jobs run in the calling thread, inside run()). */
  readonly workers: number;
  run(job: PeriodJob): Promise<WrittenTile[]>;
  close(): Promise<void>;
}

/** The compiled worker entry beside this module. */
export function defaultTileWorkerScript(): string {
  return path.join(__dirname, 'tileWorker.js');
}

/** One worker per CPU; 0 from .ts sources (ts-jest), where a worker cannot load the TS entry. */
export function defaultTileWorkers(script?: string): number {
  if (script === undefined && (!__filename.endsWith('.js') || !fs.existsSync(defaultTileWorkerScript()))) return 0;
  return Math.max(1, Math.min(os.availableParallelism(), 8));
}

/** Jobs run synchronously inside run() (same order and errors as a direct call). */
export function inProcessRunner(): PeriodRunner {
  return {
    workers: 0,
    run: async (j) => writePeriod(j.root, j.ctx, j.series, j.cfg, { hashPlaceholder: j.hashPlaceholder }),
    close: async () => {},
  };
}

interface Slot {
  worker: Worker;
  inflight: Map<number, { resolve: (t: WrittenTile[]) => void; reject: (e: Error) => void }>;
}

/**
 * A pool of `count` tile workers. Each job goes to the worker with the fewest jobs in flight; a
 * worker that dies fails its jobs (the file they belong to is reported) and is replaced.
 * `warmUp`: each worker warms up its JIT as it starts (tileWarmup.ts; for large inputs, where the
 * first period takes a while to parse).
 */
export function startTilePool(count: number, script: string = defaultTileWorkerScript(), opts: { warmUp?: boolean } = {}): PeriodRunner {
  const slots: Slot[] = [];
  let nextId = 0;
  let closing = false;
  let respawns = 0;

  const spawn = (): Slot => {
    const slot: Slot = { worker: new Worker(script, { workerData: { geonodeTileWorker: true, warmUp: opts.warmUp === true } }), inflight: new Map() };
    const die = (why: string) => {
      const i = slots.indexOf(slot);
      if (i < 0) return;
      slots.splice(i, 1);
      for (const p of slot.inflight.values()) p.reject(new Error(`tile worker failed: ${why}`));
      slot.inflight.clear();
      if (!closing && respawns++ < 2 * count + 4) slots.push(spawn());
    };
    slot.worker.on('message', (m: PeriodReply) => {
      const p = slot.inflight.get(m.id);
      if (!p) return;
      slot.inflight.delete(m.id);
      if ('error' in m) p.reject(new Error(m.error));
      else p.resolve(m.tiles);
    });
    slot.worker.on('error', (e) => die(e.message));
    slot.worker.on('exit', (code) => die(`exited with code ${code}`));
    return slot;
  };
  for (let i = 0; i < count; i++) slots.push(spawn());

  return {
    workers: count,
    run(job: PeriodJob): Promise<WrittenTile[]> {
      if (slots.length === 0) return Promise.reject(new Error('tile workers keep failing'));
      let slot = slots[0];
      for (const s of slots) if (s.inflight.size < slot.inflight.size) slot = s;
      const id = nextId++;
      const req: PeriodRequest = { id, ...job };
      const transfer = new Set<ArrayBuffer>();
      for (const a of [job.series.times, ...job.series.columns.flatMap((c) => [c.values, c.sentinel])]) if (a.buffer instanceof ArrayBuffer) transfer.add(a.buffer);
      return new Promise<WrittenTile[]>((resolve, reject) => {
        slot.inflight.set(id, { resolve, reject });
        slot.worker.postMessage(req, [...transfer]);
      });
    },
    async close(): Promise<void> {
      closing = true;
      const all = slots.splice(0);
      await Promise.all(all.map((s) => s.worker.terminate()));
    },
  };
}
