/**
 * Inputs that share a tile (tileMerge.ts): nothing an earlier input put in a tile may vanish when
 * a later one writes the same station-period. Built from the REAL shared IAGA-2002 files
 * (split, re-dated or re-typed copies); truth is the source text (parsed here) and a single-file
 * ingest of the unsplit original, read back with parquet-wasm (parquetIndependent.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ingest } from '../../src/products/ingest';
import { listTiles } from '../../src/products/tiles';
import { describeShared, sharedPath } from '../helpers/sharedData';
import { parseIaga } from '../helpers/iagaText';
import { readIndependent } from './parquetIndependent';

describeShared('ingest: inputs sharing a tile are merged, not overwritten', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-merge-'));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  let n = 0;
  const run = async (files: Record<string, string>[], opts: { workers?: number } = {}) => {
    const dir = path.join(root, `case${n++}`);
    const tiles = path.join(dir, 'tiles');
    const db = path.join(dir, 'inputs.sqlite');
    // one ingest call per group: later groups meet the tiles of earlier ones
    for (const group of files) {
      const inDir = path.join(dir, `in${files.indexOf(group)}`);
      fs.mkdirSync(inDir, { recursive: true });
      for (const [name, text] of Object.entries(group)) fs.writeFileSync(path.join(inDir, name), text);
      const s = await ingest([inDir], { tilesDir: tiles, db, workers: opts.workers ?? 0 });
      expect(s.failed).toEqual([]);
    }
    return tiles;
  };
  const tileOf = (tiles: string, layer: 'raw' | 'std', cadence: string, station = 'BOU') => {
    const t = listTiles(tiles, { layer, source: 'geomag', station, cadence });
    expect(t).toHaveLength(1);
    return readIndependent(t[0].path);
  };
  const text = (f: string) => fs.readFileSync(sharedPath('iaga2002', f), 'latin1');
  const lines = (s: string) => s.split('\n');
  const isData = (l: string) => /^\d{4}-\d{2}-\d{2} /.test(l);
  /** Header lines + the data lines kept by `keep` (by data index). */
  const subset = (s: string, keep: (i: number) => boolean) => {
    let i = 0;
    return lines(s).filter((l) => !isData(l) || keep(i++)).join('\n');
  };

  test('a day split at noon into two files gives the same raw and std tiles as the whole file', async () => {
    const whole = text('bou20141101vmin.min');
    const f = parseIaga(sharedPath('iaga2002', 'bou20141101vmin.min'));
    expect(f.times).toHaveLength(1440);
    const one = await run([{ 'bou20141101vmin.min': whole }]);
    // either order, in one run or in two
    for (const groups of <Record<string, string>[][]>[
      [{ 'a.min': subset(whole, (i) => i < 720), 'b.min': subset(whole, (i) => i >= 720) }],
      [{ 'b.min': subset(whole, (i) => i >= 720) }, { 'a.min': subset(whole, (i) => i < 720) }],
    ]) {
      const split = await run(groups);
      const raw = tileOf(split, 'raw', 'PT1M');
      expect(raw.col('ts')).toEqual(f.times);
      for (const el of ['H', 'D', 'Z', 'F']) expect(raw.col(el)).toEqual(f.values[f.elements.indexOf(el)]);
      const std = tileOf(split, 'std', 'PT1M');
      const ref = tileOf(one, 'std', 'PT1M');
      for (const c of ['ts', 'H', 'H_q', 'D', 'Z', 'Z_q', 'F']) expect(std.col(c)).toEqual(ref.col(c));
      expect(JSON.parse(raw.kv.get('geonode.source_files')!).map((s: { name: string }) => s.name).sort()).toEqual(['a.min', 'b.min']);
    }
  });

  test('daily files of hourly values share the month tile: both days stay', async () => {
    const d31 = text('BOU20200831vhor.hor');
    const d30 = d31.replace(/^2020-08-31 (\S+) 244/gm, '2020-08-30 $1 243');
    expect(d30).not.toBe(d31);
    const a = parseIaga(sharedPath('iaga2002', 'BOU20200831vhor.hor'));
    const tiles = await run([{ 'BOU20200831vhor.hor': d31 }, { 'BOU20200830vhor.hor': d30 }]);
    const raw = tileOf(tiles, 'raw', 'PT1H');
    const H = 3_600_000 * 24;
    expect(raw.col('ts')).toEqual([...a.times.map((t) => t - H), ...a.times]);
    const k = a.elements.indexOf(a.elements.find((e) => e !== 'NUL')!);
    expect(raw.col(a.elements[k])).toEqual([...a.values[k], ...a.values[k]]);
  });

  test('definitive and variation files of the same day: the definitive values win, in either order', async () => {
    const v = text('bou20141101vmin.min');
    // a "definitive" edition: other header, every H value 0.5 nT higher
    const d = lines(v)
      .map((l) => (l.startsWith(' Data Type') ? l.replace('variation ', 'definitive') : isData(l) ? l.slice(0, 31) + (Number(l.slice(31, 41)) + 0.5).toFixed(2).padStart(10) + l.slice(41) : l))
      .join('\n');
    const f = parseIaga(sharedPath('iaga2002', 'bou20141101vmin.min'));
    const hDef = f.values[f.elements.indexOf('H')].map((x) => (x === null ? null : Math.round((x + 0.5) * 100) / 100));
    for (const order of <Record<string, string>[][]>[
      [{ 'bou20141101vmin.min': v }, { 'bou20141101dmin.min': d }],
      [{ 'bou20141101dmin.min': d }, { 'bou20141101vmin.min': v }],
    ]) {
      const raw = tileOf(await run(order), 'raw', 'PT1M');
      expect(raw.col('ts')).toEqual(f.times);
      expect(raw.col('H')).toEqual(hDef);
      expect(raw.kv.get('geonode.data_type')!.split(',').sort()).toEqual(['definitive', 'variation']);
    }
  });

  test('a definitive edition with fewer elements (H, D; Z and F as NUL placeholders): Z and F stay from the variation file', async () => {
    const v = text('bou20141101vmin.min');
    // Definitive H and D only, for 00:00–00:59; the rest of the day exists only in the variation file.
    const d = subset(
      lines(v)
        .map((l) => (l.startsWith(' Data Type') ? l.replace('variation ', 'definitive') : l.startsWith(' Reported') ? l.replace('HDZF', 'HDNULNUL') : l.startsWith('DATE') ? l.replace('BOUZ      BOUF  ', 'BOUNUL    BOUNUL') : isData(l) ? l.slice(0, 31) + (Number(l.slice(31, 41)) + 0.5).toFixed(2).padStart(10) + l.slice(41, 51) + '  88888.00  88888.00' : l))
        .join('\n'),
      (i) => i < 60,
    );
    const f = parseIaga(sharedPath('iaga2002', 'bou20141101vmin.min'));
    for (const order of <Record<string, string>[][]>[
      [{ 'bou20141101vmin.min': v }, { 'bou20141101dmin.min': d }],
      [{ 'bou20141101dmin.min': d }, { 'bou20141101vmin.min': v }],
    ]) {
      const raw = tileOf(await run(order), 'raw', 'PT1M');
      expect(raw.col('ts')).toEqual(f.times);
      const H = raw.col('H');
      expect(H.slice(0, 60)).toEqual(f.values[f.elements.indexOf('H')].slice(0, 60).map((x) => (x === null ? null : Math.round((x + 0.5) * 100) / 100)));
      expect(H.slice(60)).toEqual(f.values[f.elements.indexOf('H')].slice(60));
      for (const el of ['Z', 'F']) {
        expect(raw.col(el)).toEqual(f.values[f.elements.indexOf(el)]); // all 1440, the first hour included
        expect(raw.col(`${el}_q`).slice(0, 60).every((q) => q === 0)).toBe(true);
      }
    }
  });

  test('re-ingesting the same input replaces its tile (no merge with its own old rows)', async () => {
    const whole = text('bou20141101vmin.min');
    const dir = path.join(root, 'same');
    const inDir = path.join(dir, 'in');
    fs.mkdirSync(inDir, { recursive: true });
    const file = path.join(inDir, 'bou20141101vmin.min');
    fs.writeFileSync(file, whole);
    const o = { tilesDir: path.join(dir, 'tiles'), db: path.join(dir, 'db.sqlite'), workers: 0 };
    await ingest([inDir], o);
    fs.writeFileSync(file, subset(whole, (i) => i < 600)); // the file shrank
    const s = await ingest([inDir], o);
    expect(s.failed).toEqual([]);
    expect(tileOf(o.tilesDir, 'raw', 'PT1M').rows).toBe(600);
  });
});
