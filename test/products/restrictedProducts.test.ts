/**
 * Products derived from restricted waveforms (seismic per-minute tiles, their features) are
 * withheld by /products, which has no authentication, as anonymous dataselect withholds the data.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createApp } from '../../src/app';
import { defaultConfig } from '../../src/config';
import { encodeRecords } from '../../src/formats/mseed';
import { utcToNs } from '../../src/formats/time';
import { openIndexDb } from '../../src/index/db';
import { indexArchive } from '../../src/index/indexer';
import { computeFeatures } from '../../src/products/features';
import { seismicProducts } from '../../src/products/seismic';
import { listTiles } from '../../src/products/tiles';

describe('seismic products of a restricted station', () => {
  let dir: string;
  let db: ReturnType<typeof openIndexDb>;
  let app: ReturnType<typeof createApp>;
  let tiles: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-resprod-'));
    const arch = path.join(dir, 'archive');
    fs.mkdirSync(arch);
    const samples = Int32Array.from({ length: 20 * 600 }, (_, i) => Math.round(700 * Math.sin(i / 4)) + ((i * 31) % 11));
    for (const sta of ['OPEN', 'SECR']) {
      fs.writeFileSync(path.join(arch, `${sta}.mseed`), Buffer.concat(encodeRecords({ network: 'XS', station: sta, location: '', channel: 'BHZ', startNs: utcToNs(2020, 5, 1, 10), sampleRate: 20 }, samples, { formatVersion: 2, encoding: 'steim2', recordLength: 512 })));
    }
    db = openIndexDb(path.join(dir, 'db.sqlite'));
    await indexArchive(db, [arch], { workers: 0 });
    tiles = path.join(dir, 'tiles');
    seismicProducts(db, { tilesDir: tiles, dataRoot: '/' });
    await computeFeatures({ tilesDir: tiles, db, dataRoot: '/', sources: ['seismic'] });
    fs.writeFileSync(path.join(dir, 'restricted.txt'), 'XS.SECR\n');
    app = createApp({ db, config: { ...defaultConfig({}), dataRoot: '/', tilesDir: tiles, restrictedFile: path.join(dir, 'restricted.txt') } });
  });
  afterAll(() => {
    db?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('sanity: both stations have seismic tiles, and dataselect withholds SECR', async () => {
    expect(new Set(listTiles(tiles, { layer: 'std', source: 'seismic' }).map((t) => t.key.station))).toEqual(new Set(['XS.OPEN', 'XS.SECR']));
    expect((await request(app).get('/fdsnws/dataselect/1/query?net=XS&sta=SECR&start=2020-05-01T10:00:00&end=2020-05-01T10:10:00')).status).toBe(204);
  });

  test('catalog, info, timeseries and raw tiles: SECR does not exist for /products', async () => {
    const ids = ((await request(app).get('/products/catalog').expect(200)).body.catalog as Array<{ id: string }>).map((d) => d.id);
    expect(ids).toContain('std/seismic/XS.OPEN/PT1M');
    expect(ids.filter((i) => i.includes('XS.SECR'))).toEqual([]);
    expect((await request(app).get('/products/info?dataset=std/seismic/XS.SECR/PT1M')).status).toBe(404);
    expect((await request(app).get('/products/timeseries?dataset=std/seismic/XS.SECR/PT1M&start=2020-05-01&stop=2020-05-02')).status).toBe(404);
    expect((await request(app).get('/products/timeseries?dataset=std/seismic/XS.OPEN/PT1M&start=2020-05-01&stop=2020-05-02')).status).toBe(200);
    const rel = (sta: string) => path.relative(tiles, listTiles(tiles, { layer: 'std', source: 'seismic', station: sta })[0].path).split(path.sep).join('/');
    expect((await request(app).get(`/products/tiles/${rel('XS.SECR')}`)).status).toBe(404);
    expect((await request(app).get(`/products/tiles/${rel('XS.OPEN')}`)).status).toBe(200);
  });

  test('stations: SECR is listed (its metadata is public) without datasets or scores', async () => {
    const g = (await request(app).get('/products/stations').expect(200)).body;
    const byId = new Map((g.features as Array<{ id: string; properties: { datasets: string[]; score: number | null } }>).map((f) => [f.id, f.properties]));
    expect(byId.get('seismic:XS.OPEN')!.datasets.length).toBeGreaterThan(0);
    expect(byId.get('seismic:XS.SECR')).toBeUndefined(); // no metadata loaded: known only from its tiles, which are withheld
  });

  test('features and heatmap leave SECR out', async () => {
    const f = (await request(app).get('/products/features?source=seismic&start=2020-05-01&stop=2020-05-02').expect(200)).body;
    expect(new Set((f.datasets as Array<{ station: string }>).map((d) => d.station))).toEqual(new Set(['XS.OPEN']));
    const feature = Object.keys((f.datasets as Array<{ values: Record<string, unknown> }>)[0].values)[0];
    const h = (await request(app).get(`/products/heatmap?layer=feat&source=seismic&feature=${feature}&start=2020-05-01&stop=2020-05-02`).expect(200)).body;
    expect(h.rows.map((r: { station: string }) => r.station)).toEqual(['XS.OPEN']);
  });
});
