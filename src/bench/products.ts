/**
 * Products benchmark: IAGA-2002 1 s → Parquet tiles (raw + std) on the generated 30-day file of
 * bench/iaga.ts (2 592 000 rows, ~184 MB), through the real `ingest` path (read + sha256 + stream
 * parse in the main thread, standardization, Parquet encode with the project's own encoder
 * src/formats/parquet.ts and atomic write in the tile workers), with the default worker count and
 * in one thread (cold, then warm: the difference is JIT warm-up), plus tile write time per
 * station-day.
 * Reference: DuckDB read_csv → Parquet ~3.4 M rows/s, pandas read_csv ~1.0 M rows/s (parse only).
 *
 *   node dist/bench/products.js [DIR]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchIaga } from './iaga';
import { ingest } from '../products/ingest';

export interface BenchRow {
  measure: string;
  value: string;
  reference: string;
}

/** One forced ingest of the file into a fresh tile tree: summary, CPU seconds (all threads) and peak RSS. */
async function timedIngest(file: string, work: string, name: string, workers?: number) {
  let peak = process.memoryUsage.rss();
  const samples: [number, number][] = []; // [ms since start, RSS]: the peak of each half of the run
  const t0 = performance.now();
  const timer = setInterval(() => {
    const rss = process.memoryUsage.rss();
    peak = Math.max(peak, rss);
    samples.push([performance.now() - t0, rss]);
  }, 20);
  const c0 = process.cpuUsage();
  const s = await ingest([file], { tilesDir: path.join(work, name), db: path.join(work, `${name}.sqlite`), force: true, workers });
  const cu = process.cpuUsage(c0);
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage.rss());
  if (s.failed.length) throw new Error(`ingest failed: ${s.failed.map((f) => f.reason).join('; ')}`);
  const half = (performance.now() - t0) / 2;
  const halfPeak = (first: boolean) => samples.reduce((m, [t, r]) => (t < half === first ? Math.max(m, r) : m), 0) / 2 ** 20;
  return { s, cpu: (cu.user + cu.system) / 1e6, peakMiB: peak / 2 ** 20, firstHalfMiB: halfPeak(true), secondHalfMiB: halfPeak(false) };
}

export async function productsBenchRows(dir: string): Promise<BenchRow[]> {
  fs.mkdirSync(dir, { recursive: true });
  // Generates the 30-day file once (and measures the bare parse, reported by bench/run's IAGA row).
  const parse = await benchIaga(dir);
  const work = fs.mkdtempSync(path.join(dir, 'products-'));
  try {
    // Default: main thread (read, sha256, parse) + one tile worker per CPU (standardize, encode, write).
    const pool = await timedIngest(parse.file, work, 'tiles');
    const one = await timedIngest(parse.file, work, 'tiles-1', 0);
    // The same again in this thread, now that every hot function is compiled: what the first two
    // runs spend on JIT warm-up (each tile worker warms up on its own) shows as the difference.
    const warm = await timedIngest(parse.file, work, 'tiles-2', 0);
    const s = pool.s;
    const days = s.rawTiles;
    const again = await ingest([parse.file], { tilesDir: path.join(work, 'tiles'), db: path.join(work, 'tiles.sqlite') });
    const size = `${(s.inputRows / 1e6).toFixed(2)} M rows, ${(s.inputBytes / 1e6).toFixed(0)} MB`;
    const rate = (x: typeof s) => `${(x.inputRows / x.seconds / 1e6).toFixed(2)} M rows/s, ${(x.inputBytes / 1e6 / x.seconds).toFixed(0)} MB/s`;
    return [
      {
        measure: `IAGA-2002 1 s ingest → Parquet raw+std, 30 days (${size}), main thread + ${s.workers} tile workers`,
        value: `${rate(s)} (${s.seconds.toFixed(2)} s, ${pool.cpu.toFixed(1)} CPU-s), peak RSS ${pool.peakMiB.toFixed(0)} MiB, ${(s.tileBytes / 1e6).toFixed(0)} MB of tiles`,
        reference: 'DuckDB read_csv → Parquet ~3.4 M rows/s; pandas read_csv ~1.0 M rows/s',
      },
      {
        measure: `IAGA-2002 1 s ingest → Parquet raw+std, 30 days, one thread (workers: 0)`,
        value: `${rate(one.s)} (${one.s.seconds.toFixed(2)} s, ${one.cpu.toFixed(1)} CPU-s), peak RSS ${one.peakMiB.toFixed(0)} MiB`,
        reference: '',
      },
      {
        measure: `IAGA-2002 1 s ingest → Parquet raw+std, 30 days, one thread, warm (run again in the same process)`,
        value: `${rate(warm.s)} (${warm.s.seconds.toFixed(2)} s, ${warm.cpu.toFixed(1)} CPU-s)`,
        reference: 'no JIT warm-up left: the steady-state cost of the pipeline',
      },
      {
        measure: 'tile write per station-day, 1 s, 4 components (raw + std, encode + write)',
        value: `${(one.s.tileWriteMs / days).toFixed(0)} ms in one thread, ${(s.tileWriteMs / days).toFixed(0)} ms with ${s.workers} workers at once (${days} days, ${(s.tileBytes / s.tilesWritten / 1e6).toFixed(2)} MB per tile)`,
        reference: 'encoder src/formats/parquet.ts, SNAPPY; hyparquet-writer before it took ~256 ms per station-day (products-methods §4)',
      },
      { measure: 're-ingest, input unchanged (sha256 + skip)', value: `${again.seconds.toFixed(2)} s`, reference: '' },
    ];
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Issue 4's 10-month case (`--size large`): a 300-day 1 s file (25.92 M rows, ~1.84 GB) parsed
 * and ingested with the default worker pool. The point is memory: peak RSS must stay that of the
 * 30-day file (the file is streamed and each day's tiles leave as soon as they are written).
 */
export async function productsLargeBenchRows(dir: string): Promise<BenchRow[]> {
  const parse = await benchIaga(dir, 300);
  const size = `${(parse.rows / 1e6).toFixed(2)} M rows, ${(parse.bytes / 1e9).toFixed(2)} GB`;
  const work = fs.mkdtempSync(path.join(dir, 'products-'));
  try {
    const pool = await timedIngest(parse.file, work, 'tiles');
    const s = pool.s;
    return [
      {
        measure: `IAGA-2002 1 s stream parse, 300 days (${size})`,
        value: `${(parse.rowsPerSec / 1e6).toFixed(2)} M rows/s, ${parse.mbPerSec.toFixed(0)} MB/s, peak RSS ${parse.peakRssMiB.toFixed(0)} MiB`,
        reference: 'issue 4: a 10-month 1 s file must parse in bounded memory',
      },
      {
        measure: `IAGA-2002 1 s ingest → Parquet raw+std, 300 days (${size}), main thread + ${s.workers} tile workers`,
        value:
          `${(s.inputRows / s.seconds / 1e6).toFixed(2)} M rows/s (${s.seconds.toFixed(1)} s, ${pool.cpu.toFixed(1)} CPU-s), ` +
          `peak RSS ${pool.firstHalfMiB.toFixed(0)} MiB in the first half of the run, ${pool.secondHalfMiB.toFixed(0)} MiB in the second, ${(s.tileBytes / 1e9).toFixed(2)} GB of tiles`,
        reference: 'bounded memory: the second half of the run peaks about as high as the first (a leak would grow over the 300 days)',
      },
    ];
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const dir = process.argv[2] ?? path.join(os.tmpdir(), 'geonode-bench-iaga');
  productsBenchRows(dir)
    .then((rows) => {
      for (const r of rows) console.log(`${r.measure}: ${r.value}${r.reference ? `  [${r.reference}]` : ''}`);
    })
    .catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
}
