/**
 * Seismic products from the waveform index: per-minute statistics per channel, decoded from the
 * indexed miniSEED records, written as std tiles `source=seismic/station=NET.STA/cadence=PT1M`
 * (one per station-day). Per channel `<LOC_>CHA`: `_rms` = √(mean x²) of the counts (MUSTANG
 * sample_rms definition, mean included), `_mean_abs`, `_mean`, `_n` (samples) and `_q`
 * (MISSING where the minute has no samples). ts = minute start; window [ts, ts + 60 s).
 *
 * Incremental: a station is redone only when its tsindex rows (filename, offset, hash, updated)
 * changed since the last run (fingerprint kept in geonode_product_inputs as `seismic:NET.STA`).
 */
import crypto from 'node:crypto';
import path from 'node:path';
import type Database from 'better-sqlite3';
import fs from 'node:fs';
import { decodeRecord, iterateRecords } from '../formats/mseed';
import { defaultProductsConfig, paramsHash, type ProductsConfig } from './config';
import { ensureProductSchema } from './ingest';
import { Q_MISSING } from './quality';
import { tilePeriod, writeTile, type TileColumn, type WrittenTile } from './tiles';

export interface SeismicOptions {
  tilesDir: string;
  /** Directory that relative tsindex filenames are resolved against. */
  dataRoot?: string;
  config?: ProductsConfig;
  force?: boolean;
}

export interface SeismicSummary {
  stations: number;
  skipped: number;
  tiles: WrittenTile[];
  samples: number;
  failed: { file: string; reason: string }[];
}

interface Acc {
  n: Float64Array;
  sum: Float64Array;
  sumSq: Float64Array;
  sumAbs: Float64Array;
}

/** Per-minute statistics of every channel in the index. */
export function seismicProducts(db: Database.Database, opts: SeismicOptions): SeismicSummary {
  const cfg = opts.config ?? defaultProductsConfig();
  const win = cfg.seismicWindowMs;
  ensureProductSchema(db);
  const out: SeismicSummary = { stations: 0, skipped: 0, tiles: [], samples: 0, failed: [] };
  const hasIndex = db.prepare("SELECT name FROM sqlite_master WHERE type='table' AND name='tsindex'").get();
  if (!hasIndex) return out;
  const stations = db.prepare('SELECT DISTINCT network, station FROM tsindex ORDER BY 1, 2').all() as { network: string; station: string }[];
  const rowsOf = db.prepare('SELECT filename, byteoffset, hash, updated FROM tsindex WHERE network = ? AND station = ? ORDER BY filename, byteoffset');
  const getRow = db.prepare('SELECT sha256, params, status FROM geonode_product_inputs WHERE path = ?');
  const putRow = db.prepare(
    "INSERT OR REPLACE INTO geonode_product_inputs (path, source, sha256, bytes, params, status, reason, tiles, ingested) VALUES (?, 'seismic', ?, 0, ?, ?, ?, ?, ?)",
  );
  const ph = paramsHash(cfg, 'seismic');
  for (const { network, station } of stations) {
    out.stations++;
    const id = `${network}.${station}`;
    const rows = rowsOf.all(network, station) as { filename: string; byteoffset: number; hash: string | null; updated: string | null }[];
    const fp = crypto.createHash('sha256').update(JSON.stringify(rows)).digest('hex');
    const prev = getRow.get(`seismic:${id}`) as { sha256: string; params: string; status: string } | undefined;
    if (!opts.force && prev && prev.sha256 === fp && prev.params === ph && prev.status === 'ok') {
      out.skipped++;
      continue;
    }
    // day start → channel → accumulators per window
    const days = new Map<number, Map<string, Acc>>();
    const perDay = Math.round(86_400_000 / win);
    const files = [...new Set(rows.map((r) => r.filename))];
    for (const f of files) {
      const abs = path.isAbsolute(f) ? f : path.join(opts.dataRoot ?? '/', f);
      try {
        // One file in memory at a time (archive files are day/channel sized).
        const buf = fs.readFileSync(abs);
        for (const r of iterateRecords(buf, { file: abs })) {
          if (!r.ok) continue;
          const h = r.header;
          if (h.network !== network || h.station !== station || !(h.sampleRate > 0) || h.sampleCount === 0) continue;
          const samples = decodeRecord(buf, h, abs);
          if (typeof samples === 'string') continue;
          const chan = h.location ? `${h.location}_${h.channel}` : h.channel;
          const t0 = Number(h.startNs) / 1e6;
          const dt = 1000 / h.sampleRate;
          for (let i = 0; i < samples.length; i++) {
            const t = t0 + i * dt;
            const day = Math.floor(t / 86_400_000) * 86_400_000;
            let dm = days.get(day);
            if (!dm) days.set(day, (dm = new Map()));
            let a = dm.get(chan);
            if (!a) dm.set(chan, (a = { n: new Float64Array(perDay), sum: new Float64Array(perDay), sumSq: new Float64Array(perDay), sumAbs: new Float64Array(perDay) }));
            const k = Math.floor((t - day) / win);
            const x = samples[i];
            a.n[k]++;
            a.sum[k] += x;
            a.sumSq[k] += x * x;
            a.sumAbs[k] += Math.abs(x);
          }
          out.samples += samples.length;
        }
      } catch (e) {
        out.failed.push({ file: abs, reason: e instanceof Error ? e.message : String(e) });
      }
    }
    const written: WrittenTile[] = [];
    for (const [day, chans] of [...days].sort((a, b) => a[0] - b[0])) {
      const ts = new Float64Array(perDay);
      for (let k = 0; k < perDay; k++) ts[k] = day + k * win;
      const cols: TileColumn[] = [];
      const units: Record<string, string> = {};
      for (const [chan, a] of [...chans].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
        const rms = new Float64Array(perDay);
        const mabs = new Float64Array(perDay);
        const mean = new Float64Array(perDay);
        const n = new Int32Array(perDay);
        const q = new Int32Array(perDay);
        for (let k = 0; k < perDay; k++) {
          const c = a.n[k];
          n[k] = c;
          if (c === 0) {
            rms[k] = mabs[k] = mean[k] = NaN;
            q[k] = Q_MISSING;
          } else {
            rms[k] = Math.sqrt(a.sumSq[k] / c);
            mabs[k] = a.sumAbs[k] / c;
            mean[k] = a.sum[k] / c;
          }
        }
        cols.push({ name: `${chan}_rms`, type: 'DOUBLE', values: rms }, { name: `${chan}_mean_abs`, type: 'DOUBLE', values: mabs }, { name: `${chan}_mean`, type: 'DOUBLE', values: mean });
        cols.push({ name: `${chan}_n`, type: 'INT32', values: n }, { name: `${chan}_q`, type: 'INT32', values: q });
        units[`${chan}_rms`] = units[`${chan}_mean_abs`] = units[`${chan}_mean`] = 'counts';
      }
      written.push(
        writeTile(
          opts.tilesDir,
          {
            key: { layer: 'std', source: 'seismic', station: id, cadence: 'PT1M', period: tilePeriod(win, day).period },
            ts,
            columns: cols,
            meta: { units, sources: [{ name: `tsindex:${id}`, sha256: fp }], params: { windowMs: win, stats: ['rms', 'mean_abs', 'mean', 'n'] } },
          },
          { codec: cfg.codec },
        ),
      );
    }
    out.tiles.push(...written);
    putRow.run(`seismic:${id}`, fp, ph, 'ok', null, JSON.stringify(written.map((t) => path.relative(opts.tilesDir, t.path))), new Date().toISOString());
  }
  return out;
}

