import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { writeAef } from '../../src/formats/aef';
import { CdfType, unixMsToTt2000, writeCdf } from '../../src/formats/cdf';
import { encodeRecords } from '../../src/formats/mseed';
import { openIndexDb } from '../../src/index/db';
import { indexArchive } from '../../src/index/indexer';
import { defaultProductsConfig } from '../../src/products/config';
import { ingest, type ProductInputRow } from '../../src/products/ingest';
import { Q_INTERPOLATED, Q_MISSING, Q_NO_SAMPLE, Q_NOT_RECORDED, Q_OUTLIER, Q_SENTINEL } from '../../src/products/quality';
import { seismicProducts } from '../../src/products/seismic';
import { fillGaps, hampel, standardizeSeries, toGrid } from '../../src/products/standardize';
import { listTiles, readTile, tileCatalog, tilePath } from '../../src/products/tiles';
import { describeShared, sharedPath } from '../helpers/sharedData';
import { readIndependent } from './parquetIndependent';
import { parseIaga } from '../helpers/iagaText';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-products-'));
const sha = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const i64 = (b: Buffer | undefined) => (b ? Number(b.readBigInt64LE(0)) : NaN);


describe('standardization on signals with known answers', () => {
  const p = defaultProductsConfig().sources.geomag;
  test('spike flagged outlier and replaced; short gap interpolated; long gap stays null', () => {
    const n = 200;
    const times = Array.from({ length: n }, (_, i) => i * 1000);
    const v = Float64Array.from({ length: n }, (_, i) => 100 + 0.1 * i);
    const sent = new Uint8Array(n);
    v[50] = 5000; // spike
    for (const i of [80, 81, 82]) (v[i] = NaN), (sent[i] = 1); // short gap (99999)
    for (let i = 120; i < 140; i++) (v[i] = NaN), (sent[i] = 2); // long gap (88888)
    const r = standardizeSeries(times, v, sent, { start: 0, step: 1000, count: n }, p);
    expect(r.flags[50] & Q_OUTLIER).toBeTruthy();
    expect(r.values[50]).toBeCloseTo(105.1, 9); // median of 104.7..105.3 without the spike
    expect(r.outliers).toBe(1);
    for (const i of [80, 81, 82]) {
      expect(r.values[i]).toBeCloseTo(100 + 0.1 * i, 9);
      expect(r.flags[i]).toBe(Q_SENTINEL | Q_INTERPOLATED);
    }
    for (let i = 120; i < 140; i++) {
      expect(Number.isNaN(r.values[i])).toBe(true);
      expect(r.flags[i]).toBe(Q_MISSING | Q_NOT_RECORDED);
    }
    expect(r.flags[10]).toBe(0);
    expect(r.values[10]).toBe(101);
  });
  test('resampling onto the grid: missing rows become NO_SAMPLE, off-grid stamps snap', () => {
    const r = toGrid([0, 1000, 3000, 4100], [1, 2, 4, 5], null, { start: 0, step: 1000, count: 6 });
    expect(Array.from(r.values.subarray(0, 5)).map((x) => (Number.isNaN(x) ? null : x))).toEqual([1, 2, null, 4, 5]);
    expect(r.flags[2]).toBe(Q_NO_SAMPLE | Q_MISSING);
    expect(r.flags[4]).toBeGreaterThan(0); // RESAMPLED
    expect(r.flags[5]).toBe(Q_NO_SAMPLE | Q_MISSING);
    expect(fillGaps(r.values, r.flags, 5)).toBe(1); // the trailing gap has no right neighbour
    expect(r.values[2]).toBe(3);
  });
  test('Hampel leaves smooth signals and MAD-0 quantisation alone', () => {
    const v = Float64Array.from({ length: 1000 }, (_, i) => Math.round(100 * Math.sin(i / 50)) / 100);
    const f = new Int32Array(1000);
    expect(hampel(v, f, p.hampel!)).toBe(0);
  });
});

describeShared('ingest of the shared IAGA-2002 files, read back independently', () => {
  const dir = sharedPath('iaga2002');
  const root = tmp();
  const dbFile = path.join(root, 'inputs.sqlite');
  let summary: Awaited<ReturnType<typeof ingest>>;
  beforeAll(async () => {
    summary = await ingest([dir], { tilesDir: path.join(root, 'tiles'), db: dbFile });
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  test('every file processed', () => {
    expect(summary.failed).toEqual([]);
    expect(summary.processed).toBe(fs.readdirSync(dir).length);
  });

  test.each(fs.readdirSync(dir).sort())('%s: raw tiles = file rows/values/nulls; metadata; statistics', (name) => {
    const file = path.join(dir, name);
    const db = new Database(dbFile, { readonly: true });
    const row = db.prepare('SELECT * FROM geonode_product_inputs WHERE path = ?').get(file) as ProductInputRow;
    db.close();
    expect(row.status).toBe('ok');
    expect(row.sha256).toBe(sha(file));
    const tiles = (JSON.parse(row.tiles) as string[]).map((t) => path.join(root, 'tiles', t));
    const raws = tiles.filter((t) => t.includes('layer=raw'));
    const truth = parseIaga(file);
    let o = 0;
    for (const t of raws) {
      const r = readIndependent(t);
      expect(r.numRowGroups).toBe(1);
      expect(r.kv.get('geonode.source_sha256')).toBe(sha(file));
      expect(JSON.parse(r.kv.get('geonode.source_files')!)[0].name).toBe(name);
      expect(r.kv.get('geonode.pipeline_version')).toBeTruthy();
      // ts: INT64 TIMESTAMP(MILLIS, UTC)
      expect(r.schema.get('ts')!.type).toBe(2);
      expect(r.schema.get('ts')!.logical?.[8]).toBeTruthy();
      const ts = r.col('ts') as number[];
      expect(ts).toEqual(truth.times.slice(o, o + r.rows));
      expect(i64(r.stats.get('ts')!.min)).toBe(ts[0]);
      expect(i64(r.stats.get('ts')!.max)).toBe(ts[ts.length - 1]);
      truth.elements.forEach((el, k) => {
        if (el === 'NUL') return;
        const want = truth.values[k].slice(o, o + r.rows);
        const got = r.col(el);
        // bulk comparisons (per-element expect() is slow on 86 400-row files)
        const bad = want.filter((w, i) => (w === null ? got[i] !== null : got[i] === null || Math.abs(got[i]! - w) > 1e-6)).length;
        expect(got.length).toBe(want.length);
        expect(bad).toBe(0);
        expect(Number(r.stats.get(el)!.nullCount)).toBe(want.filter((x) => x === null).length);
        const q = r.col(`${el}_q`);
        expect(want.filter((w, i) => ((q[i]! & Q_MISSING) !== 0) !== (w === null)).length).toBe(0);
      });
      o += r.rows;
    }
    expect(o).toBe(truth.times.length);
    // std tiles: regular grid, nulls only where MISSING, never NaN
    for (const t of tiles.filter((x) => x.includes('layer=std'))) {
      const r = readIndependent(t);
      const ts = r.col('ts') as number[];
      expect(ts.filter((x, i) => i > 0 && x - ts[i - 1] !== ts[1] - ts[0]).length).toBe(0);
      for (const f of r.table.schema.fields) {
        if (f.name === 'ts' || f.name.endsWith('_q')) continue;
        const v = r.col(f.name);
        const q = r.col(`${f.name}_q`);
        expect(v.filter((x, i) => Number.isNaN(x as number) || (x === null) !== ((q[i]! & Q_MISSING) !== 0)).length).toBe(0);
      }
    }
  });

  test('XYZ file gets derived H and D in std; hyparquet reader agrees; catalog lists datasets', async () => {
    const tiles = listTiles(path.join(root, 'tiles'), { layer: 'std', source: 'geomag', station: 'BOU', cadence: 'PT1M' });
    const day = tiles.find((t) => t.key.period === '2018-10-24')!;
    const t = await readTile(day.path);
    expect(Object.keys(t.columns)).toEqual(expect.arrayContaining(['X', 'Y', 'Z', 'F', 'H', 'D', 'H_q']));
    for (let i = 0; i < t.rows; i++) {
      if (Number.isNaN(t.columns.X[i]) || Number.isNaN(t.columns.Y[i])) continue;
      expect(t.columns.H[i]).toBeCloseTo(Math.hypot(t.columns.X[i], t.columns.Y[i]), 9);
    }
    const win = await readTile(day.path, { columns: ['X'], startMs: Date.UTC(2018, 9, 24, 1), endMs: Date.UTC(2018, 9, 24, 2) });
    expect(win.rows).toBe(60);
    expect(win.ts[0]).toBe(Date.UTC(2018, 9, 24, 1));
    expect(JSON.parse(t.kv['geonode.units']).D).toBe('arcmin');
    const cat = await tileCatalog(path.join(root, 'tiles'));
    const ds = cat.find((d) => d.id === 'std/geomag/BOU/PT1M')!;
    expect(ds.tiles).toBeGreaterThanOrEqual(3); // 2014-11-01, 2018-10-24, 2020-05-xx
    expect(ds.parameters.map((p) => p.name)).toEqual(['H', 'E']); // newest tile: BOU202005adj.min, HENULNUL (NUL dropped)
    expect(cat.some((d) => d.id === 'raw/geomag/ESK/PT1H' && d.tiles === 12)).toBe(true);
  });

  test('second run skips unchanged inputs', async () => {
    const again = await ingest([dir], { tilesDir: path.join(root, 'tiles'), db: dbFile });
    expect(again.skipped).toBe(summary.processed);
    expect(again.processed).toBe(0);
    expect(again.tilesWritten).toBe(0);
  });
});

describe('AEF and VLF generated inputs, bad file, incremental', () => {
  const root = tmp();
  const inDir = path.join(root, 'in');
  const tiles = path.join(root, 'tiles');
  const dbFile = path.join(root, 'db.sqlite');
  fs.mkdirSync(inDir);
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  const t0 = Date.UTC(2020, 0, 1);
  const n = 1440;
  const times = Array.from({ length: n }, (_, i) => t0 + i * 60_000);
  const pg = Float64Array.from(times, (_, i) => 120 + 40 * Math.sin((2 * Math.PI * (i - 360)) / 1440));
  const sent = new Uint8Array(n);
  pg[100] = 900; // spike
  for (const i of [200, 201]) (pg[i] = NaN), (sent[i] = 1);
  for (let i = 600; i < 620; i++) (pg[i] = NaN), (sent[i] = 1);
  fs.writeFileSync(path.join(inDir, 'kak20200101daef.min'), writeAef(times, pg, sent));
  // VLF: two hour files of the same day, 3 frames per minute for 2 minutes each
  const NF = 8;
  const freq = Float32Array.from({ length: NF }, (_, i) => 100 + i * 100);
  const vlf = (hour: number, scale: number) => {
    const fr = [0, 20_000, 40_000, 60_000, 80_000, 100_000].map((d) => Date.UTC(2020, 8, 9, hour) + d);
    const ch1 = new Float32Array(fr.length * NF);
    const ch2 = new Float32Array(fr.length * NF);
    for (let t = 0; t < fr.length; t++)
      for (let f = 0; f < NF; f++) {
        ch1[t * NF + f] = scale * (t + 1) * (f + 1);
        ch2[t * NF + f] = f === 3 ? -1e31 : 2 * scale;
      }
    return writeCdf({
      globalAttributes: { Station_code: 'MOS' },
      variables: [
        { name: 'epoch_vlf', type: CdfType.TIME_TT2000, values: BigInt64Array.from(fr, unixMsToTt2000) },
        { name: 'freq_vlf', type: CdfType.REAL4, dims: [NF], recVary: false, values: freq },
        { name: 'ch1', type: CdfType.REAL4, dims: [NF], values: ch1, attrs: { FILLVAL: -1e31 } },
        { name: 'ch2', type: CdfType.REAL4, dims: [NF], values: ch2, attrs: { FILLVAL: -1e31 } },
      ],
    });
  };
  fs.writeFileSync(path.join(inDir, 'isee_vlf_mos_2020090910_v01.cdf'), vlf(10, 1));
  fs.writeFileSync(path.join(inDir, 'isee_vlf_mos_2020090911_v01.cdf'), vlf(11, 10));
  fs.writeFileSync(path.join(inDir, 'bad20200101vmin.min'), ' Format                 IAGA-2002   |\nDATE TIME DOY BADX BADY BADZ BADF |\n2020-01-01 garbage\n');

  let s1: Awaited<ReturnType<typeof ingest>>;
  beforeAll(async () => {
    s1 = await ingest([inDir], { tilesDir: tiles, db: dbFile });
  });

  test('bad file reported and skipped, the others processed', () => {
    expect(s1.failed).toHaveLength(1);
    expect(s1.failed[0].file).toMatch(/bad20200101vmin\.min$/);
    expect(s1.failed[0].reason).toBeTruthy();
    expect(s1.processed).toBe(3);
  });

  test('AEF: raw pg as written, std spike/short gap/long gap', () => {
    const raw = readIndependent(tilePath(tiles, { layer: 'raw', source: 'aef', station: 'KAK', cadence: 'PT1M', period: '2020-01-01' }));
    expect(raw.rows).toBe(n);
    expect(raw.col('ts')).toEqual(times);
    expect(raw.col('pg')[100]).toBe(900);
    expect(raw.col('pg')[200]).toBeNull();
    expect(raw.kv.get('geonode.source_sha256')).toBe(sha(path.join(inDir, 'kak20200101daef.min')));
    expect(JSON.parse(raw.kv.get('geonode.units')!)).toEqual({ pg: 'V/m' });
    const std = readIndependent(tilePath(tiles, { layer: 'std', source: 'aef', station: 'KAK', cadence: 'PT1M', period: '2020-01-01' }));
    const v = std.col('pg');
    const q = std.col('pg_q');
    expect(q[100]! & Q_OUTLIER).toBeTruthy();
    expect(Math.abs(v[100]! - pg[99])).toBeLessThan(1);
    expect(q[200]).toBe(Q_SENTINEL | Q_INTERPOLATED);
    const rv = raw.col('pg'); // as written (2 decimals)
    expect(v[200]!).toBeCloseTo(rv[199]! + (rv[202]! - rv[199]!) / 3, 9);
    expect(v[610]).toBeNull();
    expect(q[610]).toBe(Q_SENTINEL | Q_MISSING);
  });

  test('VLF: long-format per-minute median spectra, fill → null, bins metadata', () => {
    const t = readIndependent(tilePath(tiles, { layer: 'std', source: 'vlf', station: 'MOS', cadence: 'PT1M', period: '2020-09-09' }));
    expect(t.rows).toBe(4 * NF); // 2 minutes per file × 2 files
    const ts = t.col('ts');
    const bin = t.col('bin');
    const ch1 = t.col('ch1');
    const ch2 = t.col('ch2');
    expect(ts[0]).toBe(Date.UTC(2020, 8, 9, 10));
    expect(bin.slice(0, NF)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // minute 10:00 holds frames t=0,1,2 → median (t+1)=2 → ch1 = 2·(f+1)
    for (let f = 0; f < NF; f++) expect(ch1[f]).toBeCloseTo(2 * (f + 1), 5);
    // minute 10:01 holds frames t=3,4,5 → median 5
    expect(ch1[NF + 2]).toBeCloseTo(5 * 3, 5);
    // hour 11 file (scale 10)
    expect(ts[2 * NF]).toBe(Date.UTC(2020, 8, 9, 11));
    expect(ch1[2 * NF]).toBeCloseTo(20, 4);
    expect(ch2[3]).toBeNull();
    expect(t.col('ch2_q')[3]).toBe(Q_MISSING | Q_SENTINEL);
    const bins = JSON.parse(t.kv.get('geonode.bins')!);
    expect(bins.centers).toEqual(Array.from(freq));
    expect(t.kv.get('geonode.source_sha256')!.split(',')).toHaveLength(2);
  });

  test('incremental: unchanged skipped, changed file reprocessed (whole VLF day)', async () => {
    const s2 = await ingest([inDir], { tilesDir: tiles, db: dbFile });
    expect(s2.skipped).toBe(3);
    expect(s2.processed).toBe(0);
    expect(s2.failed).toHaveLength(1); // still reported
    fs.writeFileSync(path.join(inDir, 'isee_vlf_mos_2020090911_v01.cdf'), vlf(11, 100));
    const s3 = await ingest([inDir], { tilesDir: tiles, db: dbFile });
    expect(s3.processed).toBe(2);
    expect(s3.skipped).toBe(1);
    const t = readIndependent(tilePath(tiles, { layer: 'std', source: 'vlf', station: 'MOS', cadence: 'PT1M', period: '2020-09-09' }));
    expect(t.col('ch1')[2 * NF]).toBeCloseTo(200, 3);
    expect(t.col('ch1')[0]).toBeCloseTo(2, 5);
  });
});

describe('seismic per-minute RMS from the waveform index', () => {
  const DAY = Date.UTC(2020, 0, 1);
  const ns = (ms: number) => BigInt(ms) * 1_000_000n;
  /** An archive dir + index; `files` written (name → records) before indexing. */
  async function archive(root: string, files: Record<string, Buffer>) {
    const data = path.join(root, 'data');
    fs.mkdirSync(data, { recursive: true });
    for (const [name, b] of Object.entries(files)) fs.writeFileSync(path.join(data, name), b);
    const db = openIndexDb(path.join(root, 'idx.sqlite'));
    await indexArchive(db, [data], { workers: 0 });
    return { db, data, tiles: path.join(root, 'tiles') };
  }
  const sine = (n: number, rate: number, A: number, dc = 0) => Float64Array.from({ length: n }, (_, i) => dc + A * Math.sin((2 * Math.PI * i) / rate + 0.3));
  const spec = (station: string, startMs: number, rate: number, extra: Record<string, unknown> = {}) => ({ network: 'XX', station, location: '', channel: 'HHZ', quality: 'D', startNs: ns(startMs), sampleRate: rate, ...extra });

  test('RMS and mean-abs about the minute mean (a DC offset changes only _mean), rows trimmed to the data, flags per value', async () => {
    const root = tmp();
    try {
      const rate = 20;
      const A = 1000;
      const x = sine(rate * 300, rate, A, 5000); // 5 minutes, 1 Hz sine on a 5000-count offset
      const { db, tiles } = await archive(root, { 'XX.SIN..HHZ.mseed': Buffer.concat(encodeRecords(spec('SIN', DAY, rate), x, { formatVersion: 2, encoding: 'float64', recordLength: 4096 })) });
      const s = seismicProducts(db, { tilesDir: tiles });
      expect(s.failed).toEqual([]);
      expect(s.tiles).toHaveLength(1);
      const t = readIndependent(s.tiles[0].path);
      expect(t.rows).toBe(5);
      expect(t.col('ts')[0]).toBe(DAY);
      for (let m = 0; m < 5; m++) {
        const seg = x.subarray(m * rate * 60, (m + 1) * rate * 60);
        const mean = seg.reduce((a, v) => a + v, 0) / seg.length;
        expect(t.col('HHZ_mean')[m]!).toBeCloseTo(mean, 6);
        expect(mean).toBeCloseTo(5000, 6);
        expect(t.col('HHZ_rms')[m]!).toBeCloseTo(A / Math.SQRT2, 6);
        expect(t.col('HHZ_mean_abs')[m]!).toBeCloseTo(seg.reduce((a, v) => a + Math.abs(v - mean), 0) / seg.length, 6);
        expect(t.col('HHZ_n')[m]).toBe(rate * 60);
        for (const q of ['HHZ_rms_q', 'HHZ_mean_abs_q', 'HHZ_mean_q']) expect(t.col(q)[m]).toBe(0);
      }
      expect(JSON.parse(t.kv.get('geonode.units')!)).toEqual({ HHZ_n: 'count' }); // float64 records: no unit claimed
      expect(seismicProducts(db, { tilesDir: tiles }).skipped).toBe(1);
      db.close();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('duplicates and overlaps count once; a higher publication version wins its samples; one corrupt record loses only itself', async () => {
    const root = tmp();
    try {
      const rate = 20;
      const n = rate * 600; // 10 minutes
      const ints = Int32Array.from(sine(n, rate, 1000), Math.round);
      const v2 = Buffer.concat(encodeRecords(spec('DUP', DAY, rate), ints, { formatVersion: 2, encoding: 'steim2', recordLength: 512 }));
      // Minutes 2..3 again as publication version 3 with doubled values (miniSEED 3): above D (= 2).
      const part = Int32Array.from(ints.subarray(2 * 1200, 4 * 1200), (v) => 2 * v);
      const v3 = Buffer.concat(encodeRecords(spec('DUP', DAY + 120_000, rate, { pubVersion: 3 }), part, { formatVersion: 3, encoding: 'steim2', recordLength: 4096 }));
      // A copy of the v2 file whose 4th record has a wrong reverse-integration constant (Xn).
      const bad = Buffer.from(v2);
      bad.writeInt32BE(bad.readInt32BE(3 * 512 + 72) + 1, 3 * 512 + 72);
      const { db, tiles } = await archive(root, { 'a.mseed': v2, 'b-copy.mseed': Buffer.from(v2), 'c-v3.mseed': v3, 'd-bad.mseed': bad });
      const s = seismicProducts(db, { tilesDir: tiles });
      expect(s.failed).toHaveLength(1);
      expect(s.failed[0].file).toMatch(/d-bad\.mseed$/);
      expect(s.failed[0].reason).toMatch(/^offset 1536: /);
      const t = readIndependent(s.tiles[0].path);
      expect(t.rows).toBe(10);
      expect(JSON.parse(t.kv.get('geonode.units')!)).toMatchObject({ HHZ_rms: 'counts', HHZ_mean_abs: 'counts', HHZ_mean: 'counts' }); // Steim-2
      const rmsOf = (a: ArrayLike<number>) => {
        const m = Array.from(a).reduce((p, v) => p + v, 0) / a.length;
        return Math.sqrt(Array.from(a).reduce((p, v) => p + (v - m) ** 2, 0) / a.length);
      };
      for (let m = 0; m < 10; m++) {
        expect(t.col('HHZ_n')[m]).toBe(1200);
        const seg = m === 2 || m === 3 ? part.subarray((m - 2) * 1200, (m - 1) * 1200) : ints.subarray(m * 1200, (m + 1) * 1200);
        expect(t.col('HHZ_rms')[m]!).toBeCloseTo(rmsOf(seg), 9);
      }
      db.close();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('window boundaries in integer time: a sample exactly on the minute starts that minute (records off the minute, 20–100 Hz)', async () => {
    const root = tmp();
    try {
      const files: Record<string, Buffer> = {};
      // [station, rate, ms before midnight the record starts, samples before 23:58]: 23:57:51.370 at 100 Hz is the audit's case.
      const cases: [string, number, number, number][] = [['R100', 100, 128_630, 863], ['R40', 40, 128_625, 345], ['R20', 20, 128_650, 173]];
      for (const [sta, rate, before] of cases) {
        const n = Math.round((rate * before) / 1000) + 60 * rate; // to 00:00:00 plus one minute of the next day
        files[`${sta}.mseed`] = Buffer.concat(encodeRecords(spec(sta, DAY + 86_400_000 - before, rate), Int32Array.from({ length: n }, (_, i) => (i * 7919) % 2000), { formatVersion: 2, encoding: 'steim2', recordLength: 512 }));
      }
      const { db, tiles } = await archive(root, files);
      const s = seismicProducts(db, { tilesDir: tiles });
      expect(s.failed).toEqual([]);
      for (const [sta, rate, , first] of cases) {
        const day1 = readIndependent(s.tiles.find((t) => t.key.station === `XX.${sta}` && t.key.period === '2020-01-01')!.path);
        expect(day1.col('ts')).toEqual([DAY + 86_400_000 - 180_000, DAY + 86_400_000 - 120_000, DAY + 86_400_000 - 60_000]);
        expect(day1.col('HHZ_n')).toEqual([first, rate * 60, rate * 60]);
        expect(day1.col('HHZ_rms_q')).toEqual([Q_MISSING | Q_NO_SAMPLE, 0, 0]); // ~14 % of 23:57: below the 50 % coverage
        expect(day1.col('HHZ_rms')[0]).toBeNull();
        const day2 = readIndependent(s.tiles.find((t) => t.key.station === `XX.${sta}` && t.key.period === '2020-01-02')!.path);
        expect(day2.col('HHZ_n')).toEqual([rate * 60]);
      }
      db.close();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test("the channel's own sample phase (1 Hz at .6 s, day files): every sample counted, minutes full; a rate-0 first record; the day's main rate wins; no tsindex table deletes nothing", async () => {
    const root = tmp();
    try {
      const ints = (n: number) => Int32Array.from({ length: n }, (_, i) => (i * 37) % 101);
      // Two day files of 1 Hz samples at hh:mm:ss.6 (the 23:59:59.6 sample is still in its day).
      const d1 = Buffer.concat(encodeRecords(spec('PHA', DAY + 600, 1), ints(86_400), { formatVersion: 2, encoding: 'steim2', recordLength: 512 }));
      const d2 = Buffer.concat(encodeRecords(spec('PHA', DAY + 86_400_000 + 600, 1), ints(86_400), { formatVersion: 2, encoding: 'steim2', recordLength: 512 }));
      // A detection-like record (rate 0) first, then 10 minutes at 20 Hz.
      const r0 = Buffer.concat([...encodeRecords(spec('ZER', DAY, 0), Int32Array.of(0), { formatVersion: 2, encoding: 'int32', recordLength: 512 }), ...encodeRecords(spec('ZER', DAY, 20), ints(12_000), { formatVersion: 2, encoding: 'steim2', recordLength: 512 })]);
      // 10 minutes at 20 Hz, then an hour at 100 Hz: the 100 Hz grid, the 20 Hz records reported.
      const r20 = encodeRecords(spec('RCH', DAY, 20), ints(12_000), { formatVersion: 2, encoding: 'steim2', recordLength: 512 });
      const rc = Buffer.concat([...r20, ...encodeRecords(spec('RCH', DAY + 600_000, 100), ints(360_000), { formatVersion: 2, encoding: 'steim2', recordLength: 4096 })]);
      const { db, tiles } = await archive(root, { 'pha1.mseed': d1, 'pha2.mseed': d2, 'zer.mseed': r0, 'rch.mseed': rc });
      const s = seismicProducts(db, { tilesDir: tiles });
      const tile = (sta: string, period = '2020-01-01') => readIndependent(s.tiles.find((t) => t.key.station === `XX.${sta}` && t.key.period === period)!.path);
      for (const period of ['2020-01-01', '2020-01-02']) {
        const t = tile('PHA', period);
        expect(t.rows).toBe(1440);
        expect(new Set(t.col('HHZ_n'))).toEqual(new Set([60]));
        expect(new Set(t.col('HHZ_rms_q'))).toEqual(new Set([0]));
      }
      expect(tile('ZER').col('HHZ_n')).toEqual(Array(10).fill(1200));
      const rch = tile('RCH');
      expect(rch.col('ts')[0]).toBe(DAY + 600_000);
      expect(new Set(rch.col('HHZ_n'))).toEqual(new Set([6000]));
      expect(s.failed.filter((f) => /rch\.mseed$/.test(f.file)).map((f) => f.reason)).toEqual([`offset 0: sample rate 20 Hz differs from the day's 100 Hz (the rate of most of its samples): ${r20.length} record(s) skipped`]);
      // An index database without the tsindex table: nothing done, nothing removed.
      const bare = new Database(path.join(root, 'bare.sqlite'));
      const before = listTiles(tiles).length;
      const s2 = seismicProducts(bare, { tilesDir: tiles });
      expect([s2.days, s2.removed, listTiles(tiles).length]).toEqual([0, 0, before]);
      bare.close();
      db.close();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('incremental per station-day: deleted tiles come back, an unreadable file is retried, days and stations gone from the index lose their tiles', async () => {
    const root = tmp();
    try {
      const rate = 1;
      const rec = (sta: string, dayMs: number, secs: number) => Buffer.concat(encodeRecords(spec(sta, dayMs, rate), Int32Array.from({ length: secs }, (_, i) => i % 50), { formatVersion: 2, encoding: 'steim2', recordLength: 512 }));
      const D2 = DAY + 86_400_000;
      const { db, data, tiles } = await archive(root, { 'keep1.mseed': rec('KEEP', DAY, 600), 'keep2.mseed': rec('KEEP', D2, 600), 'gone.mseed': rec('GONE', DAY, 600) });
      const s1 = seismicProducts(db, { tilesDir: tiles });
      expect(s1.days).toBe(3);
      expect(s1.tiles).toHaveLength(3);
      const keep2 = s1.tiles.find((t) => t.key.station === 'XX.KEEP' && t.key.period === '2020-01-02')!.path;
      fs.rmSync(keep2);
      const s2 = seismicProducts(db, { tilesDir: tiles });
      expect([s2.skipped, s2.tiles.length]).toEqual([2, 1]);
      expect(fs.existsSync(keep2)).toBe(true);
      // Unreadable at product time: the day is recorded as failed and done again on the next run.
      const moved = path.join(root, 'keep1.bak');
      fs.renameSync(path.join(data, 'keep1.mseed'), moved);
      fs.rmSync(s1.tiles.find((t) => t.key.period === '2020-01-01' && t.key.station === 'XX.KEEP')!.path);
      const s3 = seismicProducts(db, { tilesDir: tiles });
      expect(s3.failed.map((f) => path.basename(f.file))).toEqual(['keep1.mseed']);
      fs.renameSync(moved, path.join(data, 'keep1.mseed'));
      const s4 = seismicProducts(db, { tilesDir: tiles });
      expect(s4.failed).toEqual([]);
      expect(s4.tiles.map((t) => `${t.key.station}/${t.key.period}`)).toEqual(['XX.KEEP/2020-01-01']);
      expect(readIndependent(s4.tiles[0].path).col('HHZ_n')[0]).toBe(60);
      // Withdraw day 2 of KEEP and all of GONE, re-index: their tiles go.
      fs.rmSync(path.join(data, 'keep2.mseed'));
      fs.rmSync(path.join(data, 'gone.mseed'));
      await indexArchive(db, [data], { workers: 0 });
      const s5 = seismicProducts(db, { tilesDir: tiles });
      expect([s5.days, s5.skipped, s5.removed]).toEqual([1, 1, 2]);
      expect(listTiles(tiles).filter((t) => t.key.source === 'seismic').map((t) => `${t.key.station}/${t.key.period}`)).toEqual(['XX.KEEP/2020-01-01']);
      db.close();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

