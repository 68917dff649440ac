/**
 * `serve --workers N` (node:cluster) through the built CLI, as a user runs it: every server
 * process gets the resolved configuration (--tiles among it), and a port already in use ends the
 * command with exit 1 instead of leaving it hanging. Cluster workers run dist/cli.js, so these
 * tests need `npm run build` (CI builds first); without it they are skipped with a message.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { openIndexDb } from '../../src/index/db';
import { writeTile } from '../../src/products/tiles';

const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');
const built = fs.existsSync(CLI);
if (!built) console.warn(`${CLI} not built (npm run build): serve --workers tests are skipped`);
const maybe = built ? describe : describe.skip;

/** Run the CLI in `cwd`; resolves with exit code and output once it exits (or kills it on `until`). */
function runCli(args: string[], cwd: string, until?: (out: string) => Promise<void> | void): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GEONODE_')));
    const p = spawn(process.execPath, [CLI, ...args], { cwd, env });
    let out = '';
    let err = '';
    let fired = false;
    const timer = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (until && !fired && /serving http:\/\/[^:]+:\d+\//.test(out)) {
        fired = true;
        Promise.resolve(until(out)).then(
          () => p.kill('SIGTERM'),
          (e) => {
            p.kill('SIGTERM');
            reject(e);
          },
        );
      }
    });
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

const getJson = (url: string) =>
  new Promise<unknown>((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });

maybe('serve --workers 2', () => {
  let tmp: string;
  let db: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-cluster-'));
    db = path.join(tmp, 'index.sqlite');
    openIndexDb(db).close();
    writeTile(path.join(tmp, 'elsewhere', 'tiles'), {
      key: { layer: 'std', source: 'geomag', station: 'ABC', cadence: 'PT1M', period: '2020-01-01' },
      ts: [Date.UTC(2020, 0, 1), Date.UTC(2020, 0, 1, 0, 1)],
      columns: [{ name: 'X', type: 'DOUBLE', values: Float64Array.of(1, 2) }],
      meta: { units: { X: 'nT' }, sources: [] },
    });
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('every server process serves the --tiles given (not the default var/tiles)', async () => {
    const ids: string[][] = [];
    const r = await runCli(['serve', '--workers', '2', '--port', '0', '--host', '127.0.0.1', '--db', db, '--tiles', path.join(tmp, 'elsewhere', 'tiles')], tmp, async (out) => {
      const port = /serving http:\/\/[^:]+:(\d+)\//.exec(out)![1];
      // Several requests: with round-robin scheduling both processes answer some of them.
      for (let i = 0; i < 6; i++) {
        const c = (await getJson(`http://127.0.0.1:${port}/products/catalog`)) as { catalog: { id: string }[] };
        ids.push(c.catalog.map((d) => d.id));
      }
    });
    expect(r.code).toBe(0);
    expect(ids).toHaveLength(6);
    for (const l of ids) expect(l).toEqual(['std/geomag/ABC/PT1M']);
  });

  test('a port already in use: exit 1 with the reason, no hang', async () => {
    const holder = http.createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (holder.address() as AddressInfo).port;
      const r = await runCli(['serve', '--workers', '2', '--port', String(port), '--host', '127.0.0.1', '--db', db], tmp);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/EADDRINUSE/);
    } finally {
      holder.close();
    }
  });
});
