/**
 * worker_threads entry of the ingest tile pool (tilePool.ts): one station-period per message,
 * answered with its written tiles or the error text. Loads only what writePeriod needs. With
 * `warmUp` in its workerData it first warms up its JIT (tileWarmup.ts); jobs sent meanwhile wait
 * in the port's queue.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { writePeriod } from './periodTiles';
import type { PeriodReply, PeriodRequest } from './tilePool';
import { warmUpTileCode } from './tileWarmup';

const data = workerData as { geonodeTileWorker?: boolean; warmUp?: boolean } | null;
if (!isMainThread && parentPort && data?.geonodeTileWorker) {
  const port = parentPort;
  port.on('message', (m: PeriodRequest) => {
    let reply: PeriodReply;
    try {
      reply = { id: m.id, tiles: writePeriod(m.root, m.ctx, m.series, m.cfg, { hashPlaceholder: m.hashPlaceholder }) };
    } catch (e) {
      reply = { id: m.id, error: e instanceof Error ? e.message : String(e) };
    }
    port.postMessage(reply);
  });
  if (data.warmUp) {
    try {
      warmUpTileCode();
    } catch {
      // Only a speed-up: a failure here leaves the worker cold, not broken.
    }
  }
}
