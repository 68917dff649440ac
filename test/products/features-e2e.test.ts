/**
 * Feature layer end to end: std tiles written with writeTile (+ a small miniSEED index) →
 * computeFeatures → contract tiles readable by readTile; incremental re-runs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { main } from '../../src/cli';
import { encodeRecords } from '../../src/formats/mseed';
import { openIndexDb } from '../../src/index/db';
import { indexArchive } from '../../src/index/indexer';
import { computeFeatures } from '../../src/products/features';
import { listTiles, readTile, tilePath, writeTile, type TileColumn } from '../../src/products/tiles';
import { makeIo } from '../helpers/cliIo';

const { sin, PI, sqrt } = Math;
const DAY1 = Date.UTC(2020, 8, 11);
const DAY2 = DAY1 + 86_400_000;
const ARC = PI / 10800;

function geomagDay(root: string, sta: string, day: number, opts: { nightZ?: number; burstAt?: number }) {
  const n = 86400;
  const ts = new Float64Array(n);
  const H = new Float64Array(n);
  const D = new Float64Array(n);
  const Z = new Float64Array(n);
  const F = new Float64Array(n).fill(46000);
  const H0 = 30000;
  for (let i = 0; i < n; i++) {
    ts[i] = day + i * 1000;
    const hour = Math.floor(i / 3600);
    const az = opts.nightZ && hour >= 11 && hour < 19 ? opts.nightZ : 0.2;
    let h = H0 + 0.6 * sin(2 * PI * 0.03 * i + 0.3);
    if (opts.burstAt !== undefined && i >= opts.burstAt && i < opts.burstAt + 600) h += 20 * sin(2 * PI * 0.05 * (i - opts.burstAt));
    H[i] = h;
    D[i] = -456 + (0.4 / (H0 * ARC)) * sin(2 * PI * 0.04 * i);
    Z[i] = 35000 + az * sin(2 * PI * 0.02 * i);
  }
  const cols: TileColumn[] = ['H', 'D', 'Z', 'F'].map((name) => ({ name, type: 'DOUBLE' as const, values: { H, D, Z, F }[name]! }));
  writeTile(root, { key: { layer: 'std', source: 'geomag', station: sta, cadence: 'PT1S', period: new Date(day).toISOString().slice(0, 10) }, ts, columns: cols, meta: { units: { H: 'nT', D: 'arcmin', Z: 'nT', F: 'nT' }, sources: [{ name: `${sta}.sec`, sha256: 'x' }] } });
}

function aefDay(root: string, day: number, bay?: [number, number]) {
  const ts = Float64Array.from({ length: 1440 }, (_, i) => day + i * 60_000);
  const pg = Float64Array.from({ length: 1440 }, (_, i) => 140 + 30 * sin((2 * PI * i) / 1440));
  if (bay) for (let i = bay[0]; i < bay[0] + bay[1]; i++) pg[i] = -120;
  writeTile(root, { key: { layer: 'std', source: 'aef', station: 'KAK', cadence: 'PT1M', period: new Date(day).toISOString().slice(0, 10) }, ts, columns: [{ name: 'pg', type: 'DOUBLE', values: pg }, { name: 'pg_q', type: 'INT32', values: new Int32Array(1440) }], meta: { units: { pg: 'V/m' }, sources: [{ name: 'kak.min', sha256: 'y' }] } });
}

function vlfDay(root: string, day: number) {
  const nb = 32;
  const freqs = Array.from({ length: nb }, (_, k) => 10 + k * 625);
  const n = 1440 * nb;
  const ts = new Float64Array(n);
  const bin = new Int32Array(n);
  const fz = new Float64Array(n);
  const c1 = new Float64Array(n);
  const c2 = new Float64Array(n);
  for (let m = 0; m < 1440; m++)
    for (let b = 0; b < nb; b++) {
      const r = m * nb + b;
      ts[r] = day + m * 60_000;
      bin[r] = b;
      fz[r] = freqs[b];
      c1[r] = b === 4 ? 1e-10 : 1e-13; // 2510 Hz
      c2[r] = b === 10 ? 1e-10 : 1e-13; // 6260 Hz
    }
  writeTile(root, {
    key: { layer: 'std', source: 'vlf', station: 'MOS', cadence: 'PT1M', period: new Date(day).toISOString().slice(0, 10) },
    ts,
    columns: [
      { name: 'bin', type: 'INT32', values: bin },
      { name: 'freq_hz', type: 'DOUBLE', values: fz },
      { name: 'ch1', type: 'DOUBLE', values: c1 },
      { name: 'ch2', type: 'DOUBLE', values: c2 },
    ],
    meta: { units: { ch1: 'V^2/Hz', ch2: 'V^2/Hz' }, sources: [{ name: 'mos.cdf', sha256: 'z' }] },
  });
}

describe('computeFeatures end to end', () => {
  test('std tiles + index → contract tiles; incremental re-run', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-feat-'));
    try {
      const tiles = path.join(root, 'tiles');
      // geomag: KAK night Z/G rise on day 2; coherent burst at 05:00 on day 2 at all three;
      // a local burst at KNY only on day 1.
      geomagDay(tiles, 'KAK', DAY1, {});
      geomagDay(tiles, 'KNY', DAY1, { burstAt: 5 * 3600 });
      geomagDay(tiles, 'MMB', DAY1, {});
      for (const s of ['KAK', 'KNY', 'MMB']) geomagDay(tiles, s, DAY2, { nightZ: s === 'KAK' ? 0.9 : undefined, burstAt: 5 * 3600 });
      aefDay(tiles, DAY1);
      aefDay(tiles, DAY2, [600, 150]);
      vlfDay(tiles, DAY1);
      // seismic: 3 channels at 5 Hz for day 1, E/N/Z amplitudes 3/4/2
      const data = path.join(root, 'sds');
      fs.mkdirSync(data);
      const rate = 5;
      const amps: Record<string, number> = { BHZ: 2, BHN: 4, BHE: 3 };
      for (const ch of Object.keys(amps)) {
        const n = 86400 * rate;
        const x = Float64Array.from({ length: n }, (_, i) => 100 + amps[ch] * sin(2 * PI * 1.5 * (i / rate) + ch.charCodeAt(2)));
        const recs = encodeRecords({ network: 'XX', station: 'TST', location: '', channel: ch, quality: 'D', startNs: BigInt(DAY1) * 1_000_000n, sampleRate: rate }, x, { formatVersion: 2, encoding: 'float64', recordLength: 4096 });
        fs.writeFileSync(path.join(data, `XX.TST..${ch}.mseed`), Buffer.concat(recs));
      }
      const dbFile = path.join(root, 'idx.sqlite');
      const idb = openIndexDb(dbFile);
      await indexArchive(idb, [data], { workers: 0 });
      idb.close();
      // A node with only miniSEED: analyze starts from an empty tile root (seismic features come from the index).
      const seisOnly = path.join(root, 'seismic-only.sqlite');
      fs.copyFileSync(dbFile, seisOnly);
      const seisIo = makeIo(root);
      expect(await main(['analyze', '--tiles', path.join(root, 'seismic-tiles'), '--db', seisOnly], seisIo)).toBe(0);
      expect(seisIo.out.text).toMatch(/analyze: features 1 computed/);
      expect(listTiles(path.join(root, 'seismic-tiles'), { layer: 'feat' }).map((t) => `${t.key.source}/${t.key.station}/${t.key.cadence}`).sort()).toEqual(['seismic/XX.TST/P1D', 'seismic/XX.TST/PT1M']);

      const db = new Database(dbFile);
      const progress: string[] = [];
      const s = await computeFeatures({ tilesDir: tiles, db, onProgress: (p) => progress.push(`${p.source}:${p.station}:${p.day}:${p.status}`) });
      expect(s.failed).toEqual([]);
      // 6 geomag + 2 aef + 1 vlf + 1 seismic + 2 indices
      expect(s.units).toBe(12);
      expect(s.computed).toBe(12);
      expect(progress).toHaveLength(12);

      const feat = listTiles(tiles, { layer: 'feat' });
      const ids = new Set(feat.map((t) => `${t.key.source}/${t.key.station}/${t.key.cadence}`));
      for (const id of ['geomag/KAK/PT1M', 'geomag/KAK/PT1H', 'geomag/KAK/P1D', 'aef/KAK/PT1M', 'aef/KAK/P1D', 'vlf/MOS/PT1M', 'vlf/MOS/P1D', 'seismic/XX.TST/PT1M', 'seismic/XX.TST/P1D', 'indices/GLOBAL/PT1H', 'indices/GLOBAL/P1D'])
        expect(ids.has(id)).toBe(true);

      const p1d = (src: string, sta: string) => readTile(tilePath(tiles, { layer: 'feat', source: src, station: sta, cadence: 'P1D', period: '2020' }));
      // geomag daily: contract columns; both days merged into the year tile
      const g = await p1d('geomag', 'KAK');
      expect(g.key?.layer).toBe('feat');
      expect(Array.from(g.ts)).toEqual([DAY1, DAY2]);
      for (const c of ['dbdt_max', 'dbdt_rms', 'ulf_z', 'ulf_g', 'zg_ratio', 'zg_night_median']) expect(g.columns[c]).toBeDefined();
      expect(Object.keys(g.columns).some((c) => c.endsWith('_q'))).toBe(false);
      const gExp = (az: number) => az / sqrt(0.6 * 0.6 + 0.4 * 0.4);
      expect(g.columns.zg_night_median[0] / gExp(0.2)).toBeCloseTo(1, 1);
      expect(g.columns.zg_night_median[1] / gExp(0.9)).toBeCloseTo(1, 1);
      expect(JSON.parse(g.kv['geonode.units']).dbdt_max).toBe('nT/s');
      const gh = await readTile(tilePath(tiles, { layer: 'feat', source: 'geomag', station: 'KAK', cadence: 'PT1H', period: '2020-09' }));
      expect(gh.rows).toBe(48);
      for (const c of ['ulf_z', 'ulf_h', 'ulf_d', 'ulf_g', 'zg_ratio']) expect(gh.columns[c]).toBeDefined();
      const gm = await readTile(tilePath(tiles, { layer: 'feat', source: 'geomag', station: 'KNY', cadence: 'PT1M', period: '2020-09-11' }));
      expect(gm.rows).toBe(1440);
      expect(gm.columns.dbdt_max[300]).toBeGreaterThan(5); // 20 nT at 0.05 Hz → 6.3 nT/s
      expect(gm.columns.H_mean[10]).toBeCloseTo(30000, 0);

      // storm: day 2 coherent (flagged), day 1 local at KNY only (not flagged)
      const st = await p1d('indices', 'GLOBAL');
      expect(Array.from(st.columns.disturbed)).toEqual([0, 1]);
      expect(st.columns.dbdt_coherent_max[1]).toBeGreaterThan(5);
      expect(st.columns.dbdt_coherent_max[0]).toBeLessThan(0.2);
      expect(st.columns.kp_max[0]).toBeNaN();
      expect(st.columns.dst_min[0]).toBeNaN();
      const sth = await readTile(tilePath(tiles, { layer: 'feat', source: 'indices', station: 'GLOBAL', cadence: 'PT1H', period: '2020-09' }));
      expect(sth.columns.disturbed[24 + 5]).toBe(1);
      expect(sth.columns.disturbed[24 + 7]).toBe(0);

      // aef
      const a = await p1d('aef', 'KAK');
      expect(Array.from(a.columns.neg_bay_max_minutes)).toEqual([0, 150]);
      expect(Array.from(a.columns.fair_weather)).toEqual([1, 0]);
      expect(a.columns.pg_min[1]).toBe(-120);
      expect(a.columns.pg_neg_minutes[1]).toBe(150);
      expect(a.columns.pg_median[0]).toBeCloseTo(140, 0);

      // vlf
      const v = await p1d('vlf', 'MOS');
      for (const b of ['10_300', '300_3000', '3000_10000', '10000_20000']) for (const ch of ['ns', 'ew']) expect(v.columns[`bp_${b}_${ch}`]).toBeDefined();
      expect(v.columns.peak_freq_ns[0]).toBe(2510);
      expect(v.columns.peak_freq_ew[0]).toBe(6260);

      // seismic
      const q = await p1d('seismic', 'XX.TST');
      expect(q.columns.ratio_EZ[0] / (3 / 2) ** 2).toBeCloseTo(1, 2);
      expect(q.columns.ratio_NZ[0] / (4 / 2) ** 2).toBeCloseTo(1, 2);
      expect(q.columns.ratio_EN[0] / (3 / 4) ** 2).toBeCloseTo(1, 2);
      expect(q.columns.availability_pct_BHZ[0]).toBeCloseTo(100, 3);
      expect(q.columns.gaps_BHZ[0]).toBe(0);
      expect(q.columns.rms_median_BHN[0] / (4 / sqrt(2))).toBeCloseTo(1, 2);
      expect(q.columns.stalta_max_BHZ[0]).toBeLessThan(2);

      // incremental: nothing changed → all skipped; one input rewritten → that unit only
      const s2 = await computeFeatures({ tilesDir: tiles, db });
      expect(s2.computed).toBe(0);
      expect(s2.skipped).toBe(12);
      await new Promise((r) => setTimeout(r, 20));
      aefDay(tiles, DAY1, [100, 30]);
      const s3 = await computeFeatures({ tilesDir: tiles, db });
      expect(s3.computed).toBe(1);
      expect(s3.bySource.aef.computed).toBe(1);
      const a3 = await p1d('aef', 'KAK');
      expect(Array.from(a3.columns.neg_bay_max_minutes)).toEqual([30, 150]);
      const runs = db.prepare('SELECT count(*) AS n FROM geonode_feature_runs WHERE status = ?').get('ok') as { n: number };
      expect(runs.n).toBe(12);
      db.close();

      // analyze --dst: the index decides where it covers a day (Dst -80 nT on day 1, quiet by
      // dB/dt), the dB/dt stand-in elsewhere (day 2); files it cannot use are usage errors.
      const dst = path.join(root, 'dst.txt');
      fs.writeFileSync(dst, ['2020-09-11T00:00:00Z -12', '2020-09-11T07:00:00Z -80', '2020-09-11T08:00:00Z -61'].join('\n') + '\n');
      const io = makeIo(root);
      expect(await main(['analyze', '--tiles', tiles, '--db', dbFile, '--dst', dst], io)).toBe(0);
      const idx = await p1d('indices', 'GLOBAL');
      expect(Array.from(idx.columns.disturbed)).toEqual([1, 1]);
      expect(Array.from(idx.columns.from_indices)).toEqual([1, 0]);
      expect(idx.columns.dst_min[0]).toBe(-80);
      const idxH = await readTile(tilePath(tiles, { layer: 'feat', source: 'indices', station: 'GLOBAL', cadence: 'PT1H', period: '2020-09' }));
      expect([0, 7, 8, 9].map((h) => idxH.columns.disturbed[h])).toEqual([0, 1, 1, 0]);
      const notDst = path.join(root, 'kp-not-dst.txt');
      fs.writeFileSync(notDst, '2020 09 11  0.0  1.50 29104 29104.0625 2.333  9 1\n');
      const bad = makeIo(root);
      expect(await main(['analyze', '--tiles', tiles, '--db', dbFile, '--dst', notDst], bad)).toBe(2);
      expect(bad.err.text).toContain(`--dst ${notDst}: no Dst values found`);
      expect(await main(['analyze', '--tiles', tiles, '--db', dbFile, '--kp', path.join(root, 'missing.txt')], bad)).toBe(2);
      expect(bad.err.text).toMatch(/--kp \S+missing\.txt: ENOENT/);
      // A mistyped --tiles after earlier runs: refused before anything is written (the run state
      // and association rows of the database would otherwise be rewritten from nothing).
      const typo = path.join(root, 'tiels');
      const t = makeIo(root);
      expect(await main(['analyze', '--tiles', typo, '--db', dbFile], t)).toBe(1);
      expect(t.err.text).toMatch(new RegExp(`${typo.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} holds no product tiles \\(no layer=std or layer=feat\\), but \\S+ records \\d+ feature run\\(s\\) of an earlier analyze`));
      expect(fs.existsSync(typo)).toBe(false);
      // A unit that fails is named with its reason (not only counted).
      fs.writeFileSync(tilePath(tiles, { layer: 'std', source: 'aef', station: 'KAK', cadence: 'PT1M', period: '2020-09-11' }), 'damaged');
      const dmg = makeIo(root);
      expect(await main(['analyze', '--tiles', tiles, '--db', dbFile], dmg)).toBe(1);
      expect(dmg.err.text).toMatch(/^geonode: analyze: aef:KAK:2020-09-11: .+/m);
      expect(dmg.out.text).toMatch(/1 failed/);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
