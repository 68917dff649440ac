/**
 * The worker_threads path. Workers must load JS, so this test transpiles the modules the worker
 * needs (src/index, src/formats) into a temp dir (transpile only: fast, no type check) and points
 * indexArchive at that scanWorker.js. The dist/ build uses the same file beside indexer.js.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { encodeRecords } from '../../src/formats/mseed';
import { openIndexDb } from '../../src/index/db';
import { indexArchive } from '../../src/index/indexer';

const SRC = path.resolve(__dirname, '..', '..', 'src');
let out: string;

function transpileTree(dir: string, dest: string): void {
  for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, ent.name);
    if (ent.isDirectory()) transpileTree(p, path.join(dest, ent.name));
    else if (ent.name.endsWith('.ts') && !ent.name.endsWith('.d.ts')) {
      const js = ts.transpileModule(fs.readFileSync(p, 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
        fileName: p,
      }).outputText;
      fs.mkdirSync(dest, { recursive: true });
      fs.writeFileSync(path.join(dest, ent.name.replace(/\.ts$/, '.js')), js);
    }
  }
}

beforeAll(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-worker-js-'));
  transpileTree(path.join(SRC, 'index'), path.join(out, 'index'));
  transpileTree(path.join(SRC, 'formats'), path.join(out, 'formats'));
});
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

test('workers produce the same rows as in-thread scanning, and report bad files', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-worker-data-'));
  try {
    const t0 = 1577836800n * 1_000_000_000n;
    for (let i = 0; i < 12; i++) {
      const samples = Int32Array.from({ length: 3000 + i * 100 }, (_, k) => (k * 7) % 1000);
      const recs = encodeRecords(
        { network: 'XX', station: `S${i}`, location: '', channel: 'HHZ', startNs: t0 + BigInt(i) * 1_000_000n, sampleRate: 100 },
        samples,
        { formatVersion: i % 2 === 0 ? 2 : 3, encoding: 'steim2', recordLength: 512 },
      );
      fs.writeFileSync(path.join(root, `f${i}`), Buffer.concat(recs));
    }
    fs.writeFileSync(path.join(root, 'notes.txt'), 'hello\n'.repeat(200));

    const dbDir = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-worker-db-'));
    const dbW = openIndexDb(path.join(dbDir, 'w.sqlite'));
    const dbT = openIndexDb(path.join(dbDir, 't.sqlite'));
    const sw = await indexArchive(dbW, [root], { workers: 2, workerScript: path.join(out, 'index', 'scanWorker.js') });
    const st = await indexArchive(dbT, [root], { workers: 0 });
    const strip = (s: typeof sw) => ({
      ...s,
      seconds: 0,
      errors: s.errors.map((e) => e.file).sort(),
      notMiniseed: s.notMiniseed.map((e) => e.file).sort(),
    });
    expect(strip(sw)).toEqual(strip(st));
    expect(sw.errors).toHaveLength(0);
    expect(sw.notMiniseed.map((e) => path.basename(e.file))).toEqual(['notes.txt']);
    const q = 'SELECT network,station,location,channel,quality,version,starttime,endtime,samplerate,filename,byteoffset,bytes,hash,timeindex,timespans,timerates,format,filemodtime,updated FROM tsindex ORDER BY filename, byteoffset';
    const rowsW = dbW.prepare(q).all();
    expect(rowsW.length).toBeGreaterThanOrEqual(12);
    expect(rowsW).toEqual(dbT.prepare(q).all());
    dbW.close();
    dbT.close();
    fs.rmSync(dbDir, { recursive: true, force: true });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
