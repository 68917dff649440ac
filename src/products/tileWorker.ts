/**
 * worker_threads entry of the ingest tile pool (tilePool.ts): one station-period per message,
 * answered with its written tiles or the error text. Loads only what writePeriod needs.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { writePeriod } from './periodTiles';
import type { PeriodReply, PeriodRequest } from './tilePool';

if (!isMainThread && parentPort && (workerData as { geonodeTileWorker?: boolean } | null)?.geonodeTileWorker) {
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
}
