/**
 * Analysis benchmark (issue 5): full analysis of 30 days × 3 geomagnetic stations of 1-second
 * data. The input is the products demo's own geomag generator (src/demo/products/geomag.ts,
 * KAK/KNY/MMB with the default scenario's storm, anomaly, gaps and spikes) over 30 days, written
 * once into DIR and reused. Its 1 s files go through the real `ingest` (temporary tiles dir and
 * SQLite, with the demo catalogue stored for association), then `analyze` (features → scores →
 * association) runs on them. Wall seconds, CPU seconds and peak RSS (sampled every 20 ms) are
 * reported for ingest and for analyze separately.
 *
 *   node dist/bench/analysis.js [DIR]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_PRODUCTS_SCENARIO, GEOMAG_STATIONS } from '../demo/products/scenario';
import { writeGeomag } from '../demo/products/geomag';
import { DEMO_EVENTS } from '../demo/quakes';
import { createEvent } from '../formats/quakeml';
import { parseIsoToNs } from '../formats/time';
import { openIndexDb } from '../index/db';
import { storeEvents } from '../index/events';
import { analyze } from '../products/analyze';
import { ingest } from '../products/ingest';
import type { BenchRow } from './stats';

const DAYS = 30;
/** 30 days around the demo's storm (2020-09-13) and M6.2 (2020-09-12): three weeks of baseline before. */
const FIRST_DAY_MS = Date.UTC(2020, 7, 22);

interface Measured<T> {
  result: T;
  wallS: number;
  cpuS: number;
  peakMiB: number;
}

/** Wall and CPU seconds of `fn`, and the peak RSS sampled every 20 ms while it runs. */
async function measured<T>(fn: () => Promise<T>): Promise<Measured<T>> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  try {
    const result = await fn();
    const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
    const cu = process.cpuUsage(c0);
    return { result, wallS, cpuS: (cu.user + cu.system) / 1e6, peakMiB: Math.max(peak, process.memoryUsage.rss()) / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

/** The 1 s IAGA-2002 files of the 3 stations × 30 days, generated once into dir/geomag-30d. */
function ensureInputs(dir: string): string[] {
  const root = path.join(dir, `geomag-${DAYS}d`);
  const list = path.join(root, 'files.json');
  if (fs.existsSync(list)) {
    const files = (JSON.parse(fs.readFileSync(list, 'utf8')) as string[]).map((rel) => path.join(root, ...rel.split('/')));
    if (files.every((f) => fs.existsSync(f))) return files;
  }
  console.error(`generating ${DAYS} days × ${GEOMAG_STATIONS.length} stations of 1 s geomag data in ${root} …`);
  const tmp = `${root}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const r = writeGeomag(tmp, GEOMAG_STATIONS, DEFAULT_PRODUCTS_SCENARIO, FIRST_DAY_MS, DAYS);
  const secs = r.files.filter((f) => f.cadence === 'PT1S').map((f) => f.path);
  fs.writeFileSync(path.join(tmp, 'files.json'), JSON.stringify(secs));
  fs.rmSync(root, { recursive: true, force: true });
  fs.renameSync(tmp, root);
  return secs.map((rel) => path.join(root, ...rel.split('/')));
}

/** The demo catalogue into the event store, so the association stage has events to work on. */
function storeDemoEvents(dbFile: string): void {
  const db = openIndexDb(dbFile);
  try {
    const events = DEMO_EVENTS.map((e) => {
      const pid = `smi:local/geonode-demo/event/${e.id}`;
      const ev = createEvent({
        publicId: pid,
        eventId: e.id,
        origins: [{ publicId: `${pid}/origin`, timeNs: parseIsoToNs(e.time)!, lat: e.latitude, lon: e.longitude, depthKm: e.depthKm, author: 'DEMO', arrivals: [] }],
        magnitudes: [{ publicId: `${pid}/mag`, value: e.magnitude, type: e.magType, author: 'DEMO' }],
        descriptions: [{ text: e.region, type: 'region name' }],
      });
      ev.type = 'earthquake';
      return ev;
    });
    storeEvents(db, 'bench-demo-events', 'demo', '{}', events);
  } finally {
    db.close();
  }
}

export async function analysisBenchRows(dir: string): Promise<BenchRow[]> {
  fs.mkdirSync(dir, { recursive: true });
  const files = ensureInputs(dir);
  const inputBytes = files.reduce((s, f) => s + fs.statSync(f).size, 0);
  const work = fs.mkdtempSync(path.join(dir, 'analysis-'));
  try {
    const tilesDir = path.join(work, 'tiles');
    const db = path.join(work, 'index.sqlite');
    storeDemoEvents(db);
    const ing = await measured(() => ingest(files, { tilesDir, db, force: true }));
    if (ing.result.failed.length) throw new Error(`ingest failed: ${ing.result.failed.map((f) => `${path.basename(f.file)}: ${f.reason}`).join('; ')}`);
    const an = await measured(() => analyze({ tilesDir, db, force: true }));
    const a = an.result;
    if (!a.features.available) throw new Error(`analyze: ${a.features.note ?? 'features module not available'}`);
    if (a.features.failed) throw new Error(`analyze: ${a.features.failed} feature unit(s) failed`);
    const label = `${DAYS} days × ${GEOMAG_STATIONS.length} geomag stations, 1 s`;
    const fig = (m: Measured<unknown>): string => `${m.wallS.toFixed(1)} s wall, ${m.cpuS.toFixed(1)} CPU-s, peak RSS ${m.peakMiB.toFixed(0)} MiB`;
    return [
      {
        measure: `analysis input: ingest ${label} (${files.length} files, ${(ing.result.inputRows / 1e6).toFixed(2)} M rows, ${(inputBytes / 1e6).toFixed(0)} MB)`,
        value: `${fig(ing)}, ${ing.result.tilesWritten} tiles`,
        reference: '',
      },
      {
        measure: `full analysis (features → scores → association), ${label}`,
        value: `${fig(an)}; ${a.features.computed} feature units, ${a.scores.datasets} score datasets (${a.scores.daysScored} days, ${a.scores.flagged} flagged), ${a.association.events} events through association (${a.association.rows} association rows, ${a.association.withAnomalies} with anomalies)`,
        reference: '',
      },
    ];
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const dir = process.argv[2] ?? path.join(os.tmpdir(), 'geonode-bench-analysis');
  analysisBenchRows(dir)
    .then((rows) => {
      for (const r of rows) console.log(`${r.measure}: ${r.value}${r.reference ? `  [${r.reference}]` : ''}`);
    })
    .catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
}
