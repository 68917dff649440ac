/**
 * `geonode ingest` as an operator runs it: a seismic-only node needs no product directory, and
 * the summary's counts add up (paths that failed before becoming inputs count as failed inputs).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli';
import { encodeRecords } from '../../src/formats/mseed';
import { utcToNs } from '../../src/formats/time';
import { openIndexDb } from '../../src/index/db';
import { indexArchive } from '../../src/index/indexer';
import { makeIo } from '../helpers/cliIo';
import { describeShared, sharedPath } from '../helpers/sharedData';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-ingestcli-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('ingest without DIR: a usage error, unless --seismic (seismic tiles only)', async () => {
  const io = makeIo(dir);
  expect(await main(['ingest', '--tiles', path.join(dir, 't'), '--db', path.join(dir, 'db.sqlite')], io)).toBe(2);
  expect(io.err.text).toMatch(/"ingest" needs DIR\.\.\. \(or --seismic for seismic tiles only\)/);

  const arch = path.join(dir, 'archive');
  fs.mkdirSync(arch);
  const samples = Int32Array.from({ length: 1200 }, (_, i) => Math.round(500 * Math.sin(i / 3)));
  fs.writeFileSync(path.join(arch, 'a.mseed'), Buffer.concat(encodeRecords({ network: 'XS', station: 'ONLY', location: '', channel: 'BHZ', startNs: utcToNs(2020, 5, 1, 12), sampleRate: 20 }, samples, { formatVersion: 2, encoding: 'steim2', recordLength: 512 })));
  const db = openIndexDb(path.join(dir, 'db.sqlite'));
  await indexArchive(db, [arch], { workers: 0 });
  db.close();
  const io2 = makeIo(dir);
  expect(await main(['ingest', '--seismic', '--data-root', '/', '--tiles', path.join(dir, 't'), '--db', path.join(dir, 'db.sqlite')], io2)).toBe(0);
  expect(io2.out.text + io2.err.text).toMatch(/ingest: 0 input\(s\): 0 processed, 0 unchanged, 0 failed; .*seismic: 1 station-day\(s\) → 1 tile\(s\), 0 unchanged/);
  expect(fs.existsSync(path.join(dir, 't', 'layer=std', 'source=seismic', 'station=XS.ONLY'))).toBe(true);
});

describeShared('ingest summary counts (real files)', () => {
  test('a missing directory and a CDF that is not ISEE VLF are failed inputs: 3 = 1 processed + 2 failed', async () => {
    const io = makeIo(dir);
    const code = await main(
      ['ingest', sharedPath('iaga2002', 'BOU20200101vsec.sec'), path.join(dir, 'no-such-dir'), sharedPath('cdf', 'CDFpp__a_cdf.cdf'), '--tiles', path.join(dir, 't'), '--db', path.join(dir, 'db.sqlite')],
      io,
    );
    expect(code).toBe(1);
    expect(io.out.text + io.err.text).toMatch(/ingest: 3 input\(s\): 1 processed, 0 unchanged, 2 failed;/);
    expect(io.err.text).toMatch(/no-such-dir: .*ENOENT|no-such-dir: .*no such file/i);
    expect(io.err.text).toMatch(/CDFpp__a_cdf\.cdf: not an ISEE VLF CDF/);
  });

  test('a path given twice, or a file named and inside a directory named, is one input', async () => {
    const inDir = path.join(dir, 'in');
    fs.mkdirSync(inDir);
    const sec = path.join(inDir, 'BOU20200101vsec.sec');
    fs.copyFileSync(sharedPath('iaga2002', 'BOU20200101vsec.sec'), sec);
    const cdf = sharedPath('cdf', 'CDFpp__a_cdf.cdf');
    const io = makeIo(dir);
    await main(['ingest', sec, inDir, sec, cdf, cdf, path.join(dir, 'gone'), path.join(dir, 'gone'), '--tiles', path.join(dir, 't'), '--db', path.join(dir, 'db.sqlite')], io);
    expect(io.out.text + io.err.text).toMatch(/ingest: 3 input\(s\): 1 processed, 0 unchanged, 2 failed;/);
  });
});
