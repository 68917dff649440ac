/**
 * `analyze`: features → scores → event association, incremental by day.
 *
 *  1. features: src/products/features (computeFeatures) when that module is present; it is
 *     loaded at run time so this file compiles and runs (scores + association only) without it.
 *     It keeps its own per-(source, station, day) fingerprints.
 *  2. scores: computeScores with a SQLite-backed fingerprint store (`geonode_score_runs`): a
 *     dataset whose input tiles and storm flags are unchanged is skipped; a changed one is
 *     rewritten from its first changed tile period on.
 *  3. association: every located event of the catalogue (fdsnws-event store) whose windows
 *     meet the scored time span → `geonode_associations` (rows replaced per event).
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { hasEventStore, queryEvents } from '../index/events';
import { associateEvent, defaultWindows, eventSummary, pruneAssociations, stationLocations, storeAssociation, type AssociationWindows } from './association';
import { computeScores, type ComputeScoresSummary, type ScoreParams, type ScoreState } from './scores';
import { listTiles, type Layer } from './tiles';

export interface AnalyzeProgress {
  stage: 'features' | 'scores' | 'association';
  done: number;
  total: number;
  item: string;
}

export interface AnalyzeOptions {
  tilesDir: string;
  /** SQLite file or handle (tsindex, events, metadata; the run tables are created in it). */
  db: string | Database.Database;
  dataRoot?: string;
  /** Only days intersecting [startMs, endMs) for features (scores need the past and use all). */
  days?: [number, number];
  force?: boolean;
  /** Skip the feature stage (tiles already computed elsewhere). */
  skipFeatures?: boolean;
  scoreParams?: Partial<ScoreParams>;
  windows?: Partial<AssociationWindows>;
  /** Fixed association radius (km) instead of Dobrovolsky. */
  radiusKm?: number;
  /** Dst / Kp files for the storm flag (else the coherent dB/dt stand-in decides alone). */
  indices?: { dst?: string[]; kp?: string[] };
  onProgress?: (p: AnalyzeProgress) => void;
}

export interface AnalyzeSummary {
  /** removed: units whose inputs are gone (their feature rows taken out). */
  /** failures: the units that failed and why (also in geonode_feature_runs.reason). */
  features: { available: boolean; computed: number; skipped: number; failed: number; failures: { unit: string; reason: string }[]; removed: number; note?: string };
  scores: ComputeScoresSummary;
  /** removedRows: rows of events not associated this run (gone from the catalogue or the scored span). */
  association: { events: number; rows: number; withAnomalies: number; removedRows: number };
  seconds: number;
}

interface FeaturesModule {
  computeFeatures(opts: {
    tilesDir: string;
    db: string | Database.Database;
    dataRoot?: string;
    days?: [number, number];
    force?: boolean;
    indices?: { dst?: string[]; kp?: string[] };
    onProgress?: (p: { done: number; total: number; source: string; station: string; day: string }) => void;
  }): Promise<{ computed: number; skipped: number; failed: { unit: string; reason: string }[]; removed: number }>;
}

/** The features module when it exists (runtime require: this file must build without it). */
function loadFeatures(): FeaturesModule | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const m = require('./features') as Partial<FeaturesModule>;
    return typeof m.computeFeatures === 'function' ? (m as FeaturesModule) : null;
  } catch {
    return null;
  }
}

const SCORE_RUNS_DDL = 'CREATE TABLE IF NOT EXISTS geonode_score_runs (dataset TEXT PRIMARY KEY, params TEXT NOT NULL, tiles TEXT NOT NULL, updated TEXT NOT NULL)';

/** ScoreState kept in SQLite so separate `analyze` runs are incremental. */
export function sqliteScoreState(db: Database.Database): ScoreState {
  db.exec(SCORE_RUNS_DDL);
  const get = db.prepare('SELECT params, tiles FROM geonode_score_runs WHERE dataset = ?');
  const put = db.prepare('INSERT OR REPLACE INTO geonode_score_runs (dataset, params, tiles, updated) VALUES (?, ?, ?, ?)');
  return {
    get(dataset) {
      const r = get.get(dataset) as { params: string; tiles: string } | undefined;
      return r ? { params: r.params, tiles: JSON.parse(r.tiles) as Record<string, string> } : undefined;
    },
    set(dataset, v) {
      put.run(dataset, v.params, JSON.stringify(v.tiles), new Date().toISOString());
    },
  };
}

export async function analyze(opts: AnalyzeOptions): Promise<AnalyzeSummary> {
  const t0 = process.hrtime.bigint();
  const own = typeof opts.db === 'string';
  const db = typeof opts.db === 'string' ? new Database(path.resolve(opts.db)) : opts.db;
  try {
    // 1. features
    const features: AnalyzeSummary['features'] = { available: false, computed: 0, skipped: 0, failed: 0, failures: [], removed: 0 };
    if (!opts.skipFeatures) {
      const mod = loadFeatures();
      if (!mod) features.note = 'features module not available: scoring existing feature tiles only';
      else {
        features.available = true;
        const r = await mod.computeFeatures({
          tilesDir: opts.tilesDir,
          db,
          dataRoot: opts.dataRoot,
          days: opts.days,
          force: opts.force,
          indices: opts.indices,
          onProgress: (p) => opts.onProgress?.({ stage: 'features', done: p.done, total: p.total, item: `${p.source}/${p.station} ${p.day}` }),
        });
        features.computed = r.computed;
        features.skipped = r.skipped;
        features.failed = r.failed.length;
        features.failures = r.failed;
        features.removed = r.removed;
      }
    } else features.note = 'skipped (--skip-features)';

    // 2. scores
    const scores = await computeScores({
      tilesDir: opts.tilesDir,
      params: opts.scoreParams,
      force: opts.force,
      state: sqliteScoreState(db),
      onProgress: (p) => opts.onProgress?.({ stage: 'scores', done: p.done, total: p.total, item: p.dataset }),
    });

    // 3. association: events whose windows meet the span of the score tiles.
    const association = { events: 0, rows: 0, withAnomalies: 0, removedRows: 0 };
    const associated = new Set<string>();
    const scoreTiles = listTiles(opts.tilesDir, { layer: 'score' as Layer });
    if (hasEventStore(db) && scoreTiles.length > 0) {
      const w = { ...defaultWindows(), ...(opts.windows ?? {}) };
      const spanStart = scoreTiles.reduce((a, t) => Math.min(a, t.startMs), Infinity); // no spread: 130k+ tiles
      const spanEnd = scoreTiles.reduce((a, t) => Math.max(a, t.endMs), -Infinity);
      const evs = queryEvents(db, { startNs: BigInt(spanStart - w.afterMs) * 1_000_000n, endNs: BigInt(spanEnd + Math.max(w.beforeDailyMs, w.beforeSubDailyMs)) * 1_000_000n, locatedOnly: true, orderBy: 'time-asc' });
      const locations = await stationLocations(opts.tilesDir, db);
      let done = 0;
      for (const row of evs) {
        opts.onProgress?.({ stage: 'association', done: done++, total: evs.length, item: row.eventId });
        const ev = eventSummary(row);
        if (!ev || (ev.magnitude === null && opts.radiusKm === undefined)) continue;
        const a = await associateEvent(ev, { tilesDir: opts.tilesDir, db, windows: w, radiusKm: opts.radiusKm, locations });
        association.events++;
        association.rows += storeAssociation(db, a);
        associated.add(ev.id);
        if (a.stations.some((s) => s.flaggedCount > 0)) association.withAnomalies++;
      }
      opts.onProgress?.({ stage: 'association', done, total: evs.length, item: '' });
    }
    association.removedRows = pruneAssociations(db, associated);
    return { features, scores, association, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
  } finally {
    if (own) db.close();
  }
}
