/**
 * AEF detection by content (data-formats §2.3: "X, Y and F entirely 88888") and the reader's
 * warnings reaching the ingest summary and the inputs table.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { writeAef } from '../../src/formats/aef';
import { SENTINEL_MISSING, SENTINEL_NOT_RECORDED, writeIaga2002 } from '../../src/formats/iaga2002';
import { detectInput, ingest, type ProductInputRow } from '../../src/products/ingest';
import { listTiles } from '../../src/products/tiles';
import { readIndependent } from './parquetIndependent';

const t0 = Date.UTC(2020, 0, 2);
const n = 1440;
const times = Array.from({ length: n }, (_, i) => t0 + i * 60_000);
const pg = Float64Array.from(times, (_, i) => 120 + 40 * Math.sin((2 * Math.PI * (i - 360)) / 1440) - (i > 700 && i < 730 ? 300 : 0));
const noComments = { header: { comments: [], iagaCode: 'KAK' } };

/** An XYZF minute file: X/Y/F from `xyf(i)` (NaN + sentinel where it returns a sentinel code). */
function xyzf(xyf: (i: number) => number | 'nr' | 'miss', z: ArrayLike<number>): Buffer {
  const cols = ['X', 'Y', 'F'].map((element, k) => {
    const values = new Float64Array(n);
    const sentinel = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const v = xyf(i);
      if (v === 'nr') (values[i] = NaN), (sentinel[i] = SENTINEL_NOT_RECORDED);
      else if (v === 'miss') (values[i] = NaN), (sentinel[i] = SENTINEL_MISSING);
      else values[i] = v + k * 1000;
    }
    return { element, values, sentinel };
  });
  return writeIaga2002({
    header: { iagaCode: 'KAK', stationName: 'Kakioka', latitude: 36.232, longitude: 140.186, elevation: 36, intervalType: '1-minute', dataType: 'Definitive', comments: [] },
    times,
    columns: [cols[0], cols[1], { element: 'Z', values: Float64Array.from(z), sentinel: new Uint8Array(n) }, cols[2]],
  });
}

describe('AEF by content: X/Y/F entirely 88888, whatever the name and comments', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-aefdetect-'));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  const put = (name: string, buf: Buffer) => {
    const f = path.join(root, name);
    fs.writeFileSync(f, buf);
    return f;
  };
  const head = (f: string) => fs.readFileSync(f).subarray(0, 4096);

  test('detection: all-88888 dummies → aef; 8-filled only at the start, or 9-filled → geomag', () => {
    const aef = put('kak20200102dmin.min', writeAef(times, pg, undefined, noComments));
    expect(fs.readFileSync(aef, 'latin1')).not.toMatch(/atmospheric|potential/i);
    expect(detectInput(aef, head(aef))).toBe('aef');
    // the head (first ~50 rows) is 8-filled, the rest of the day holds field values
    const late = put('kak20200102vmin.min', xyzf((i) => (i < 200 ? 'nr' : 30000 + i * 0.01), Float64Array.from(pg, (v) => 35000 + v)));
    expect(detectInput(late, head(late))).toBe('geomag');
    // horizontal components missing (99999), Z valid: a magnetometer with gaps
    const nines = put('kak20200103vmin.min', xyzf(() => 'miss', Float64Array.from(pg, (v) => 35000 + v)));
    expect(detectInput(nines, head(nines))).toBe('geomag');
  });

  test('ingest: the all-88888 file becomes a pg tile; the other keeps X/Y/Z/F', async () => {
    const dir = path.join(root, 'in');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'kak20200102dmin.min'), writeAef(times, pg, undefined, noComments));
    fs.writeFileSync(path.join(dir, 'kak20200102vmin.min'), xyzf((i) => (i < 200 ? 'nr' : 30000 + i * 0.01), Float64Array.from(pg, (v) => 35000 + v)));
    const tiles = path.join(root, 'tiles');
    const s = await ingest([dir], { tilesDir: tiles, db: path.join(root, 'db.sqlite'), workers: 0 });
    expect(s.failed).toEqual([]);
    expect(s.processed).toBe(2);
    const aef = listTiles(tiles).find((t) => t.key.layer === 'raw' && t.key.source === 'aef');
    expect(aef?.key.station).toBe('KAK');
    const raw = readIndependent(aef!.path);
    expect(raw.rows).toBe(n);
    expect(raw.col('pg')[710]).toBeCloseTo(Number(pg[710].toFixed(2)), 9); // negative PG kept
    expect(pg[710]).toBeLessThan(0);
    expect([...raw.schema.keys()]).not.toContain('X');
    const geo = listTiles(tiles).find((t) => t.key.layer === 'raw' && t.key.source === 'geomag');
    const g = readIndependent(geo!.path);
    expect([...g.schema.keys()]).toEqual(expect.arrayContaining(['X', 'Y', 'Z', 'F']));
    expect(g.col('X')[300]).toBeCloseTo(30003, 6);
  });

  test('an AEF-named file whose X/Y/F hold values keeps PG and says so: summary and inputs table', async () => {
    const dir = path.join(root, 'in2');
    fs.mkdirSync(dir);
    const f = path.join(dir, 'kak20200104daef.min');
    fs.writeFileSync(f, xyzf((i) => 30000 + i * 0.01, pg));
    const db = path.join(root, 'db2.sqlite');
    const s = await ingest([dir], { tilesDir: path.join(root, 'tiles2'), db, workers: 0 });
    expect(s.failed).toEqual([]);
    expect(s.warnings).toEqual([{ file: f, reason: expect.stringMatching(/X\/Y\/F columns hold values/) }]);
    const row = new Database(db, { readonly: true }).prepare('SELECT * FROM geonode_product_inputs WHERE path = ?').get(f) as ProductInputRow;
    expect(row.status).toBe('ok');
    expect(row.source).toBe('aef');
    expect(row.reason).toMatch(/^warnings: .*X\/Y\/F columns hold values/);
  });
});
