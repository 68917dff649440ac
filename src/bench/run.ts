/**
 * `npm run bench`: speed and memory figures for the foundation, printed as a table.
 * Never part of `npm test` (targets live here, not in timed tests).
 *
 * It drives the real CLI in child processes (generate, index, serve) so the figures are those a
 * data centre would see, and uses wrk (Debian package) for HTTP load: autocannon cannot generate
 * enough load on a 2-core machine.
 *
 *   node dist/bench/run.js [--size small|large|both] [--out DIR] [--skip-load] [--seconds N]
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import Database from 'better-sqlite3';
import { decodeRecord, iterateRecords } from '../formats/mseed';
import { nsToIso, parseIsoToNs } from '../formats/time';
import { analysisBenchRows } from './analysis';
import { eventBenchRows } from './events';
import { benchIaga } from './iaga';
import { productsBenchRows, productsLargeBenchRows } from './products';
import { stationBenchRows } from './station';

interface Row {
  measure: string;
  value: string;
  reference: string;
}

const CLI = path.join(__dirname, '..', 'cli.js');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

function duBytes(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && !e.name.endsWith('.json') && !e.name.endsWith('.txt')) {
        bytes += fs.statSync(p).size;
        files += 1;
      }
    }
  };
  walk(dir);
  return { bytes, files };
}

/** Run a CLI command under /usr/bin/time: wall seconds and peak RSS (MiB) of the child. */
function timed(args: string[]): { seconds: number; rssMiB: number; stdout: string } {
  const fmtFile = path.join(os.tmpdir(), `geonode-bench-time-${process.pid}.txt`);
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', '-o', fmtFile, process.execPath, CLI, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`geonode ${args.join(' ')} failed: ${r.stderr}`);
  const [secs, kb] = fs.readFileSync(fmtFile, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
  fs.rmSync(fmtFile, { force: true });
  return { seconds: secs, rssMiB: kb / 1024, stdout: r.stdout };
}

function ensureArchive(dir: string, genArgs: string[]): void {
  if (fs.existsSync(path.join(dir, 'truth.json'))) return;
  console.error(`generating ${dir} …`);
  execFileSync(process.execPath, [CLI, 'generate', '--out', dir, ...genArgs], { stdio: ['ignore', 'inherit', 'inherit'] });
}

function indexRows(label: string, dir: string, rows: Row[], reference: { mbps: string; rps: string }): string {
  const db = path.join(dir, '..', `${path.basename(dir)}.sqlite`);
  for (const f of [db, `${db}-wal`, `${db}-shm`]) fs.rmSync(f, { force: true });
  const { bytes, files } = duBytes(dir);
  const t = timed(['index', dir, '--db', db]);
  const records = Math.round(bytes / 512);
  rows.push({ measure: `index ${label}: ${files} files, ${(bytes / 1e6).toFixed(0)} MB, wall`, value: `${t.seconds.toFixed(2)} s`, reference: '' });
  rows.push({ measure: `index ${label}: throughput`, value: `${(bytes / 1e6 / t.seconds).toFixed(0)} MB/s, ${(records / t.seconds / 1000).toFixed(0)} k records/s`, reference: `${reference.mbps}; ${reference.rps}` });
  rows.push({ measure: `index ${label}: peak RSS`, value: `${t.rssMiB.toFixed(0)} MiB`, reference: '' });
  // Re-running over an unchanged archive must only stat files.
  const again = timed(['index', dir, '--db', db]);
  rows.push({ measure: `re-index ${label}, nothing changed`, value: `${again.seconds.toFixed(2)} s`, reference: '' });
  return db;
}

function decodeRow(dir: string, rows: Row[]): void {
  // Decode a bounded amount (≈ 200 MB at most) of the archive from memory so disk speed is not measured.
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.\d{3}$/.test(e.name)) files.push(p);
    }
  };
  walk(dir);
  let budget = 200e6;
  const bufs: Buffer[] = [];
  for (const f of files) {
    if (budget <= 0) break;
    const b = fs.readFileSync(f);
    bufs.push(b);
    budget -= b.length;
  }
  let samples = 0;
  const t0 = process.hrtime.bigint();
  for (const b of bufs) {
    for (const r of iterateRecords(b)) {
      if (r.ok) samples += (decodeRecord(b, r.header) as Int32Array).length;
    }
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  rows.push({ measure: 'decode Steim-2 (iterate + decode, in memory)', value: `${(samples / secs / 1e6).toFixed(0)} M samples/s`, reference: 'libmseed ~140 M samples/s; target ≥ 70' });
}

function startServer(db: string, port: number, workers: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', '--db', db, '--port', String(port), '--host', '127.0.0.1', '--workers', String(workers)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 20000;
    const poll = (): void => {
      http
        .get(`http://127.0.0.1:${port}/fdsnws/dataselect/1/version`, { agent: false }, (res) => {
          res.resume();
          resolve(child);
        })
        .on('error', () => (Date.now() > deadline ? reject(new Error('server did not start')) : setTimeout(poll, 200)));
    };
    poll();
  });
}

function vmHwmMiB(pid: number): number {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmHWM:\s+(\d+) kB/.exec(s);
  return m ? Number(m[1]) / 1024 : NaN;
}

function wrk(args: string[]): string {
  return execFileSync('wrk', args, { encoding: 'utf8' });
}

/** wrk prints e.g. "Transfer/sec:      1.23GB" and latency percentiles with --latency. */
function parseWrk(out: string): { rps: number; transfer: string; p50: string; p99: string } {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const transfer = /Transfer\/sec:\s+(\S+)/.exec(out)?.[1] ?? '?';
  const p50 = /\s50%\s+(\S+)/.exec(out)?.[1] ?? '?';
  const p99 = /\s99%\s+(\S+)/.exec(out)?.[1] ?? '?';
  return { rps, transfer, p50, p99 };
}

/** Peak RSS of a process and its children (cluster workers): the largest of them. */
function peakRssMiB(pid: number): number {
  let best = vmHwmMiB(pid);
  try {
    for (const c of fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) best = Math.max(best, vmHwmMiB(Number(c)));
  } catch {
    // no children file: single process
  }
  return best;
}

async function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  server.kill('SIGTERM');
  await exited;
}

async function loadRows(db: string, rows: Row[], seconds: number): Promise<void> {
  const conn = new Database(db, { readonly: true });
  const sections = conn
    .prepare('SELECT network, station, location, channel, min(starttime) AS s, max(endtime) AS e FROM tsindex GROUP BY 1,2,3,4')
    .all() as { network: string; station: string; location: string; channel: string; s: string; e: string }[];
  conn.close();
  const port = 18000 + Math.floor(Math.random() * 1000);
  // Default: one worker per CPU (as `geonode serve`); the 1-worker figures follow below.
  const workers = os.availableParallelism();
  let server = await startServer(db, port, workers);
  try {
    const base = `http://127.0.0.1:${port}/fdsnws/dataselect/1/query`;
    const q = (c: (typeof sections)[0], s: bigint, e: bigint): string =>
      `/fdsnws/dataselect/1/query?net=${c.network}&sta=${c.station}&loc=${c.location || '--'}&cha=${c.channel}&start=${nsToIso(s)}&end=${nsToIso(e)}`;

    // Whole-day requests over one keep-alive connection (nginx serves whole files at ~2.6 GB/s here).
    const first = sections[0];
    const dayStart = parseIsoToNs(first.s.slice(0, 10))!;
    const dayPath = q(first, dayStart, dayStart + 86_399_990_000_000n);
    const whole = parseWrk(wrk(['-t1', '-c1', `-d${seconds}s`, `http://127.0.0.1:${port}${dayPath}`]));
    rows.push({ measure: `dataselect whole channel-day, 1 connection (${workers} workers)`, value: `${whole.transfer}/s (${whole.rps.toFixed(0)} req/s)`, reference: 'nginx static ~2.6 GB/s; target ≥ 80 %' });

    // Small (1-minute) requests at random places, 32 connections.
    const lines: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const c = sections[i % sections.length];
      const s0 = parseIsoToNs(c.s)!;
      const e0 = parseIsoToNs(c.e)!;
      const span = Number((e0 - s0) / 1_000_000_000n) - 120;
      const off = BigInt(Math.floor(Math.random() * Math.max(span, 1))) * 1_000_000_000n;
      lines.push(`"${q(c, s0 + off, s0 + off + 60_000_000_000n)}"`);
    }
    const lua = path.join(os.tmpdir(), `geonode-bench-${process.pid}.lua`);
    fs.writeFileSync(
      lua,
      `local paths = {${lines.join(',')}}\nlocal n = 0\nrequest = function()\n  n = n + 1\n  return wrk.format("GET", paths[(n % #paths) + 1])\nend\n`,
    );
    const small = parseWrk(wrk(['-t2', '-c32', `-d${seconds}s`, '--latency', '-s', lua, base]));
    rows.push({ measure: `dataselect 1-minute requests, 32 connections (${workers} workers)`, value: `${small.rps.toFixed(0)} req/s, p50 ${small.p50}, p99 ${small.p99}`, reference: 'nginx 8 KB ranges ~60 k req/s p99 4.4 ms; target ≥ 15 k req/s, p99 ≤ 10 ms' });
    // A 1-minute request right at an hour boundary (a timeindex entry: nothing to search).
    const hourStart = dayStart + 5n * 3_600_000_000_000n;
    const hour = parseWrk(wrk(['-t2', '-c32', `-d${seconds}s`, '--latency', `http://127.0.0.1:${port}${q(first, hourStart, hourStart + 60_000_000_000n)}`]));
    rows.push({ measure: `dataselect 1-minute request at an hour boundary, 32 conn. (${workers} workers)`, value: `${hour.rps.toFixed(0)} req/s, p50 ${hour.p50}, p99 ${hour.p99}`, reference: '' });
    const version = parseWrk(wrk(['-t2', '-c32', `-d${seconds}s`, '--latency', `http://127.0.0.1:${port}/fdsnws/dataselect/1/version`]));
    rows.push({ measure: `dataselect /version (express), 32 connections (${workers} workers)`, value: `${version.rps.toFixed(0)} req/s, p99 ${version.p99}`, reference: 'framework ceiling' });

    // The same small requests against a single process (--workers 1).
    await stopServer(server);
    server = await startServer(db, port, 1);
    const one = parseWrk(wrk(['-t2', '-c32', `-d${seconds}s`, '--latency', '-s', lua, base]));
    fs.rmSync(lua, { force: true });
    rows.push({ measure: 'dataselect 1-minute requests, 32 connections (1 worker)', value: `${one.rps.toFixed(0)} req/s, p50 ${one.p50}, p99 ${one.p99}`, reference: '' });

    // RSS stays flat whatever the response size: ask for everything once, compare peak RSS.
    const before = peakRssMiB(server.pid!);
    const all = `http://127.0.0.1:${port}/fdsnws/dataselect/1/query?net=*&sta=*&loc=*&cha=*&start=1970-01-01&end=2100-01-01`;
    const got = await new Promise<number>((resolve, reject) => {
      // agent: false — a keep-alive socket left from startServer's poll may be closed by the
      // server's keep-alive timeout just as it is reused ("socket hang up").
      http
        .get(all, { agent: false }, (res) => {
          let n = 0;
          res.on('data', (d: Buffer) => (n += d.length));
          res.on('end', () => resolve(n));
        })
        .on('error', reject);
    });
    const after = peakRssMiB(server.pid!);
    rows.push({ measure: `server peak RSS before / after a ${(got / 1e6).toFixed(0)} MB response`, value: `${before.toFixed(0)} / ${after.toFixed(0)} MiB`, reference: 'flat' });
  } finally {
    await stopServer(server);
  }
}

function printTable(rows: Row[]): void {
  const w = [0, 0, 0];
  const cells = rows.map((r) => [r.measure, r.value, r.reference]);
  for (const c of [['measure', 'value', 'reference / target'], ...cells]) c.forEach((v, i) => (w[i] = Math.max(w[i], v.length)));
  const line = (c: string[]): string => `| ${c.map((v, i) => v.padEnd(w[i])).join(' | ')} |`;
  console.log(line(['measure', 'value', 'reference / target']));
  console.log(`|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`);
  for (const c of cells) console.log(line(c));
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    console.log(
      'usage: npm run bench -- [--size small|large|both] [--out DIR] [--skip-load] [--seconds N]\n' +
        '                        [--only seismic,station,event,products,analysis]  (default: all groups)',
    );
    return;
  }
  const groups = new Set(arg('only', 'seismic,station,event,products,analysis').split(','));
  const size = arg('size', 'small');
  const out = path.resolve(arg('out', path.join('bench', 'out')));
  const seconds = Number(arg('seconds', '10'));
  fs.mkdirSync(out, { recursive: true });
  const rows: Row[] = [];
  rows.push({ measure: 'machine', value: `${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`, reference: '' });

  if (groups.has('seismic')) await seismicRows(out, size, seconds, rows);
  // Each group reports its own failure as a row: one broken group must not hide the others.
  const group = async (name: string, run: () => Promise<Row[]>): Promise<void> => {
    if (!groups.has(name)) return;
    try {
      rows.push(...(await run()));
    } catch (e) {
      rows.push({ measure: `${name} group`, value: `FAILED: ${(e as Error).message}`, reference: '' });
    }
  };
  await group('station', () => stationBenchRows({ tmpDir: out }));
  await group('event', () => eventBenchRows({ tmpDir: out }));
  await group('products', async () => {
    const r = await benchIaga(path.join(out, 'iaga'));
    return [
      {
        measure: `IAGA-2002 1 s stream parse, 30 days (${(r.rows / 1e6).toFixed(2)} M rows, ${(r.bytes / 1e6).toFixed(0)} MB)`,
        value: `${(r.rowsPerSec / 1e6).toFixed(2)} M rows/s, ${r.mbPerSec.toFixed(0)} MB/s, peak RSS ${r.peakRssMiB.toFixed(0)} MiB`,
        reference: 'DuckDB read_csv ~3.4 M rows/s; pandas ~1.0 M rows/s',
      },
      // The same file through the real ingest path (standardize + Parquet tiles).
      ...(await productsBenchRows(path.join(out, 'iaga'))),
      // The 10-month file (~1.84 GB, generated once) only with --size large|both.
      ...(size === 'large' || size === 'both' ? await productsLargeBenchRows(path.join(out, 'iaga')) : []),
    ];
  });
  // Issue 5: full analysis of 30 days × 3 geomag stations (input generated once under out/analysis).
  await group('analysis', () => analysisBenchRows(path.join(out, 'analysis')));
  printTable(rows);
}

/** Issue 2's figures: index, decode, dataselect under load. */
async function seismicRows(out: string, size: string, seconds: number, rows: Row[]): Promise<void> {
  const ref = { mbps: 'mseedindex ~190 MB/s; target ≥ 380', rps: '375 k records/s' };
  const small = path.join(out, 'small');
  ensureArchive(small, ['--size', 'bench-small']);
  const smallDb = indexRows('~50 MB', small, rows, ref);

  if (size === 'large' || size === 'both') {
    const large = path.join(out, 'large');
    ensureArchive(large, ['--size', 'bench-large']);
    indexRows('~1.6 GB', large, rows, ref);
  }

  const many = path.join(out, 'many');
  ensureArchive(many, ['--files', '2000']);
  const m = duBytes(many);
  const db = path.join(out, 'many.sqlite');
  for (const f of [db, `${db}-wal`, `${db}-shm`]) fs.rmSync(f, { force: true });
  const t = timed(['index', many, '--db', db]);
  rows.push({ measure: `index ${m.files} small files: per-file cost`, value: `${((t.seconds * 1000) / m.files).toFixed(2)} ms/file`, reference: 'mseedindex ~1 ms/file' });

  decodeRow(small, rows);
  if (!process.argv.includes('--skip-load')) {
    // A failing load phase must not hide the figures already measured.
    try {
      await loadRows(smallDb, rows, seconds);
    } catch (e) {
      rows.push({ measure: 'dataselect load phase', value: `FAILED: ${(e as Error).message}`, reference: '' });
    }
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
