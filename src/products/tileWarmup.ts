/**
 * JIT warm-up of a tile worker (tileWorker.ts), run while the main thread is still parsing the
 * first station-period of a large file (ingest.ts asks for it). Each worker thread is a V8 isolate
 * of its own and compiles the standardize/encode code for itself: cold, a worker took ~190 ms for
 * its first 1 s station-day against ~45 ms warm, and in the 30-day bench the first tile landed
 * ~0.5 s into a ~1.5 s ingest while the workers had sat idle for the first ~0.2 s.
 *
 * Short synthetic periods at a 1-minute cadence run the same functions as 1 s data (a complete
 * grid, fill values, a not-recorded stretch, a spike, derived H/D, every Parquet column kind)
 * often enough for V8 to optimize them with full type feedback, and write nothing. Measured in one
 * thread: 10 periods take ~120 ms and bring the next 1 s station-day from ~190 to ~70 ms, for the
 * same CPU in all; the gain is that the workers do it while they would otherwise wait.
 */
import { SENTINEL_MISSING, SENTINEL_NOT_RECORDED, type IagaHeader } from '../formats/iaga2002';
import { defaultProductsConfig } from './config';
import { writePeriod, type SeriesContext, type SeriesColumn } from './periodTiles';

const PERIODS = 10;
const ROWS = 1440;
const STEP = 60_000;

const HEADER: IagaHeader = {
  format: 'IAGA-2002',
  source: null,
  stationName: 'warm-up',
  iagaCode: 'WRM',
  latitude: 0,
  longitude: 0,
  elevation: 0,
  reported: 'XYZF',
  reportedElements: ['X', 'Y', 'Z', 'F'],
  sensorOrientation: null,
  digitalSampling: null,
  intervalType: '1-minute',
  dataType: 'variation',
  publicationDate: null,
  comments: [],
  columnNames: [],
  elements: ['X', 'Y', 'Z', 'F'],
  records: [],
  warnings: [],
  hasDoy: true,
  dataOffset: 0,
};

/**
 * Fills one synthetic XYZF minute-day and returns the generator state. A leaf function on typed
 * arrays only: with this loop inside warmUpTileCode, V8 optimized warmUpTileCode on the stack
 * (OSR), writePeriod inlined, twice per worker (~0.1 s of compiler time each) for code that
 * runs once.
 */
function fillSynthetic(times: Float64Array, x: Float64Array, y: Float64Array, z: Float64Array, f: Float64Array, t0: number, seed: number): number {
  let s = seed;
  for (let i = 0; i < ROWS; i++) {
    times[i] = t0 + i * STEP;
    const base = 30000 + 20 * Math.sin(i / 100);
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    x[i] = Math.round((base + (s / 2 ** 32 - 0.5) * 2) * 100) / 100;
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    y[i] = Math.round((base + (s / 2 ** 32 - 0.5) * 2) * 100) / 100;
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    z[i] = Math.round((base + (s / 2 ** 32 - 0.5) * 2) * 100) / 100;
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    f[i] = Math.round((base + (s / 2 ** 32 - 0.5) * 2) * 100) / 100;
  }
  return s;
}

/** Standardize and encode PERIODS synthetic XYZF minute-days (nothing is written). */
export function warmUpTileCode(): void {
  const cfg = defaultProductsConfig();
  const ctx: SeriesContext = { source: 'geomag', station: 'WRM', cadenceMs: STEP, stampOffsetMs: 0, header: HEADER, file: { name: 'warm-up', sha256: '0'.repeat(64) } };
  let seed = 12345;
  for (let p = 0; p < PERIODS; p++) {
    const times = new Float64Array(ROWS);
    const columns: SeriesColumn[] = ['X', 'Y', 'Z', 'F'].map((name) => ({ name, units: 'nT', values: new Float64Array(ROWS), sentinel: new Uint8Array(ROWS) }));
    seed = fillSynthetic(times, columns[0].values, columns[1].values, columns[2].values, columns[3].values, Date.UTC(2000, 0, 1 + p), seed);
    // Every other period has fill values, a not-recorded stretch and a spike; the others are clean.
    if (p % 2 === 0) {
      columns[0].values[7] = NaN;
      columns[0].sentinel[7] = SENTINEL_MISSING;
      columns[3].values.fill(NaN, 100, 160);
      columns[3].sentinel.fill(SENTINEL_NOT_RECORDED, 100, 160);
      columns[1].values[300] += 500;
    }
    writePeriod('', ctx, { times, columns }, cfg, { encodeOnly: true });
  }
}
