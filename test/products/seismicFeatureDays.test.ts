/**
 * Seismic features are computed for the station-days that have indexed data, not for every day
 * between a station's first and last sample (two short recordings eight years apart made ~2900
 * empty feature tiles).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeRecords } from '../../src/formats/mseed';
import { utcToNs } from '../../src/formats/time';
import { openIndexDb } from '../../src/index/db';
import { indexArchive } from '../../src/index/indexer';
import { computeFeatures } from '../../src/products/features';
import { listTiles, readTile } from '../../src/products/tiles';

test('features cover the days with data only, and a rerun drops the days an earlier version made', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-seisdays-'));
  try {
    const arch = path.join(dir, 'archive');
    fs.mkdirSync(arch);
    const write = (name: string, startNs: bigint, n: number) => {
      const samples = Int32Array.from({ length: n }, (_, i) => Math.round(800 * Math.sin(i / 5)) + ((i * 7919) % 13));
      const recs = encodeRecords({ network: 'XS', station: 'FAR', location: '', channel: 'BHZ', startNs, sampleRate: 20 }, samples, { formatVersion: 2, encoding: 'steim2', recordLength: 512 });
      fs.writeFileSync(path.join(arch, name), Buffer.concat(recs));
    };
    write('a.mseed', utcToNs(2010, 2, 27, 6, 30), 20 * 600); // 10 minutes on 2010-02-27
    write('b.mseed', utcToNs(2018, 1, 1, 23, 59), 20 * 120); // 2 minutes across midnight: 2018-01-01 and 2018-01-02
    write('c.mseed', utcToNs(2010, 3, 5, 1, 0), 20 * 60); // 1 minute on 2010-03-05
    const db = openIndexDb(path.join(dir, 'idx.sqlite'));
    try {
      await indexArchive(db, [arch], { workers: 0 });
      const tiles = path.join(dir, 'tiles');
      const first = await computeFeatures({ tilesDir: tiles, db, dataRoot: '/', sources: ['seismic'] });
      expect(first.failed).toEqual([]);
      expect(first.units).toBe(4);
      const days = (cadence: string) =>
        listTiles(tiles, { layer: 'feat', source: 'seismic', cadence })
          .map((t) => new Date(t.startMs).toISOString().slice(0, 10))
          .sort();
      expect(days('PT1M')).toEqual(['2010-02-27', '2010-03-05', '2018-01-01', '2018-01-02']);
      const runs = () => db.prepare("SELECT day FROM geonode_feature_runs WHERE source = 'seismic' ORDER BY day").pluck().all();
      expect(runs()).toEqual(['2010-02-27', '2010-03-05', '2018-01-01', '2018-01-02']);
      // A run row of an empty day (as the old day loop wrote them) is let go on the next run.
      db.prepare("INSERT INTO geonode_feature_runs (unit, source, station, day, fingerprint, params, status, outputs, updated) VALUES ('seismic:XS.FAR:2014-06-01', 'seismic', 'XS.FAR', '2014-06-01', 'x', 'x', 'ok', '[]', 'x')").run();
      const again = await computeFeatures({ tilesDir: tiles, db, dataRoot: '/', sources: ['seismic'] });
      expect([again.units, again.skipped, again.removed]).toEqual([4, 4, 1]);
      expect(runs()).toEqual(['2010-02-27', '2010-03-05', '2018-01-01', '2018-01-02']);
      // The 2018 and 2010-03-05 data leave the archive: their rows leave the yearly P1D tiles, and
      // the tile that keeps rows states the span of what is left (the catalogue's dates come from it).
      fs.rmSync(path.join(arch, 'b.mseed'));
      fs.rmSync(path.join(arch, 'c.mseed'));
      await indexArchive(db, [arch], { workers: 0, pruneMissing: true });
      const third = await computeFeatures({ tilesDir: tiles, db, dataRoot: '/', sources: ['seismic'] });
      expect([third.units, third.removed]).toEqual([1, 3]);
      expect(days('P1D')).toEqual(['2010-01-01']); // one yearly tile left
      const kept = listTiles(tiles, { layer: 'feat', source: 'seismic', cadence: 'P1D' })[0];
      const t = await readTile(kept.path);
      const day = Date.UTC(2010, 1, 27);
      expect(Array.from(t.ts)).toEqual([day]);
      expect(JSON.parse(t.kv['geonode.data_span'])).toEqual([day, day]);
    } finally {
      db.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
