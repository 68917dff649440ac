/**
 * The CLI through its programmatic entry `main(argv, io)`: help, usage errors (exit 2),
 * generate → index → serve end to end, with a dataselect download compared to demoSamples().
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { main, usage } from '../../src/cli';
import { clearSignalCache } from '../../src/demo/signals';
import { demoSamples } from '../../src/demo/scenario';
import { decodeRecord, iterateRecords } from '../../src/formats/mseed';
import { formatBytes, formatDuration, ProgressLine } from '../../src/progress';
import { httpGet, makeIo, Sink, startListening } from '../helpers/cliIo';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-cli-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('help and usage errors', () => {
  test('--help lists the commands (exit 0); no arguments prints usage to stderr (exit 2)', async () => {
    const io = makeIo(tmp);
    expect(await main(['--help'], io)).toBe(0);
    for (const c of ['generate', 'index', 'serve', 'start']) expect(io.out.text).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    expect(io.out.text).toBe(usage());
    const io2 = makeIo(tmp);
    expect(await main([], io2)).toBe(2);
    expect(io2.err.text).toContain('usage: geonode <command>');
  });

  test.each(['generate', 'index', 'serve', 'start'])('%s --help (exit 0)', async (cmd) => {
    const io = makeIo(tmp);
    expect(await main([cmd, '--help'], io)).toBe(0);
    expect(io.out.text).toContain(`usage: geonode ${cmd}`);
    expect(io.out.text).toContain('--help');
    const io2 = makeIo(tmp);
    expect(await main(['help', cmd], io2)).toBe(0);
    expect(io2.out.text).toBe(io.out.text);
  });

  test.each([
    [['generate', '--bogus'], /unknown option --bogus/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['generate', '--days'], /needs a value/],
    [['generate', '--days', 'three'], /integer/],
    [['generate', '--size', 'huge'], /--size must be one of/],
    [['generate', 'extra'], /unexpected argument/],
    [['index', '--db', 'x.sqlite'], /needs ARCHIVE/],
    [['serve', '--port', '70000'], /0\.\.65535/],
    [['generate', '--window', '2020-09-12,nonsense'], /--window/],
    [['generate', '--products', '--no-products'], /--products and --no-products contradict each other/],
  ])('%j -> exit 2 with message and usage', async (argv, message) => {
    const io = makeIo(tmp);
    expect(await main(argv as string[], io)).toBe(2);
    expect(io.err.text).toMatch(message as RegExp);
    expect(io.err.text).toContain('usage: geonode');
    expect(io.out.text).toBe('');
  });

  test('serve without an index database: runtime failure, exit 1', async () => {
    const io = makeIo(tmp);
    expect(await main(['serve', '--db', path.join(tmp, 'missing.sqlite'), '--port', '0'], io)).toBe(1);
    expect(io.err.text).toContain('not found');
  });
});

describe('generate -> index -> serve', () => {
  const window = '2020-09-12T02:40:00,2020-09-12T02:50:00';
  let archive: string;
  let db: string;

  beforeAll(() => {
    archive = path.join(tmp, 'archive');
    db = path.join(tmp, 'var', 'index.sqlite');
  });

  test('generate writes the SDS tree, truth.json and events.txt; a second run needs --force (exit 1)', async () => {
    const io = makeIo(tmp);
    expect(await main(['generate', '--out', 'archive', '--days', '1', '--stations', 'JP.JMM', `--window=${window}`], io)).toBe(0);
    expect(io.out.text).toMatch(/^generated demo archive in .*archive: 3 files, \d+ records, .* 36000 samples, 3 channels, 1 day\(s\) in [\d.]+ s\n$/);
    expect(fs.existsSync(path.join(archive, '2020', 'JP', 'JMM', 'BHZ.D', 'JP.JMM..BHZ.D.2020.256'))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(archive, 'truth.json'), 'utf8')).streams).toHaveLength(3);
    expect(fs.readFileSync(path.join(archive, 'events.txt'), 'utf8')).toMatch(/^#EventID\|Time\|/);
    expect(io.err.text).toBe(''); // not a TTY: no progress output

    const again = makeIo(tmp);
    expect(await main(['generate', '--out', 'archive', '--days', '1', '--stations', 'JP.JMM', `--window=${window}`], again)).toBe(1);
    expect(again.err.text).toMatch(/--force/);
  });

  test('index prints a one-line summary; a re-run skips unchanged files', async () => {
    const io = makeIo(tmp);
    expect(await main(['index', 'archive', '--db', db], io)).toBe(0);
    const line = io.out.text.split('\n')[0];
    expect(line).toMatch(/^indexed \d+ files \(0 unchanged, 0 removed\), \d+ records, \d+ bytes \(.*\), \d+ sections in [\d.]+ s, \d+ errors(, \d+ non-miniSEED files skipped)?$/);
    expect(fs.existsSync(db)).toBe(true);
    const io2 = makeIo(tmp);
    expect(await main(['index', 'archive', '--db', db], io2)).toBe(0);
    expect(io2.out.text).toMatch(/\(\d+ unchanged, 0 removed\)/);
    expect(io2.out.text).not.toMatch(/\(0 unchanged/);
  });

  test('serve answers dataselect with exactly the generated samples, stops on abort', async () => {
    const io = makeIo(tmp);
    const { port, done, stop } = await startListening(['serve', '--db', db, '--port', '0', '--host', '127.0.0.1'], io);
    const base = `http://127.0.0.1:${port}`;
    expect(io.out.text).toMatch(/serving http:\/\/127\.0\.0\.1:\d+\/ \(fdsnws dataselect, station, event, availability/);
    try {
      const res = await httpGet(`${base}/fdsnws/dataselect/1/query?net=JP&sta=JMM&loc=--&cha=BHZ&start=2020-09-12T02:44:00&end=2020-09-12T02:46:00`);
      expect(res.status).toBe(200);
      clearSignalCache();
      let n = 0;
      for (const r of iterateRecords(res.body)) {
        if (!r.ok) throw r.error;
        const samples = decodeRecord(res.body, r.header) as Int32Array;
        expect(Array.from(samples)).toEqual(Array.from(demoSamples('JP', 'JMM', '', 'BHZ', r.header.startNs, r.header.sampleCount)));
        n += samples.length;
      }
      expect(n).toBeGreaterThanOrEqual(120 * 20);
    } finally {
      stop();
    }
    expect(await done).toBe(0);
    expect(io.out.text).toMatch(/shutting down/);
  });
});

describe('start', () => {
  test('skips generation when truth.json exists, indexes the SDS folders, serves; env GEONODE_* used, flags win', async () => {
    const archive = path.join(tmp, 'start-archive');
    const gen = makeIo(tmp);
    expect(await main(['generate', '--out', archive, '--days', '1', '--stations', 'JYT', '--window', '2020-09-12T02:50:00,2020-09-12T02:52:00'], gen)).toBe(0);
    fs.writeFileSync(path.join(archive, 'README.md'), 'sidecar, not data');
    const io = makeIo(tmp, { GEONODE_ARCHIVE: archive, GEONODE_DB: 'var/start.sqlite', GEONODE_PORT: '1', GEONODE_HOST: '127.0.0.1' });
    const { port, done, stop } = await startListening(['start', '--port', '0'], io);
    stop();
    expect(await done).toBe(0);
    expect(port).toBeGreaterThan(1);
    expect(io.out.text).toContain('already generated');
    expect(io.out.text).toMatch(/indexed 3 files .* 0 errors/);
    expect(io.err.text).toBe('');
    expect(fs.existsSync(path.join(tmp, 'var', 'start.sqlite'))).toBe(true);
  });
});

describe("start on an operator's archive", () => {
  test('an archive without truth.json that holds other files is served as it is, never overwritten by the demo', async () => {
    const archive = path.join(tmp, 'operator-archive');
    const day = path.join(archive, '2020', 'JP', 'JKA', 'BHZ.D', 'JP.JKA..BHZ.D.2020.256');
    fs.mkdirSync(path.dirname(day), { recursive: true });
    fs.writeFileSync(day, "USER'S REAL DAY FILE\n");
    fs.writeFileSync(path.join(archive, 'events.txt'), '#EventID|Time|Latitude|Longitude|Depth/km|Author|Catalog|Contributor|ContributorID|MagType|Magnitude|MagAuthor|EventLocationName\n');
    const io = makeIo(tmp, { GEONODE_ARCHIVE: archive, GEONODE_DB: 'var/operator.sqlite', GEONODE_HOST: '127.0.0.1' });
    const { done, stop } = await startListening(['start', '--port', '0'], io);
    stop();
    expect(await done).toBe(0);
    expect(io.out.text).toMatch(/holds data the demo generator did not write \(2020, events\.txt\): serving it as it is, no demo generated/);
    expect(io.out.text).not.toContain('generating the demo archive');
    expect(fs.readFileSync(day, 'utf8')).toBe("USER'S REAL DAY FILE\n");
    expect(fs.existsSync(path.join(archive, 'truth.json'))).toBe(false);
    expect(fs.existsSync(path.join(archive, 'stations.xml'))).toBe(false);
    // A busy port is refused before any preparation.
    const blocker = http.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    try {
      const busy = makeIo(tmp, { GEONODE_ARCHIVE: path.join(tmp, 'never-created'), GEONODE_HOST: '127.0.0.1' });
      expect(await main(['start', '--port', String((blocker.address() as AddressInfo).port)], busy)).toBe(1);
      expect(busy.err.text).toMatch(/cannot listen on 127\.0\.0\.1:\d+: listen EADDRINUSE/);
      expect(fs.existsSync(path.join(tmp, 'never-created'))).toBe(false);
    } finally {
      blocker.close();
    }
    // generate refuses the same directory instead of overwriting it.
    const gen = makeIo(tmp);
    expect(await main(['generate', '--out', archive, '--days', '1', '--stations', 'JYT'], gen)).toBe(1);
    expect(gen.err.text).toMatch(/holds files the generator did not write \(2020, events\.txt\)/);
    expect(fs.readFileSync(day, 'utf8')).toBe("USER'S REAL DAY FILE\n");
  });
});

describe('progress line', () => {
  test('renders files, MB, MB/s and ETA; silent when not a TTY', () => {
    let now = 0;
    const tty = { text: '', isTTY: true, columns: 120, write(s: string) { this.text += s; return true; } };
    const bar = new ProgressLine(tty, 'index', 'files', { now: () => now });
    now = 2000;
    bar.update({ done: 5, total: 10, bytes: 50e6, totalBytes: 100e6 });
    expect(tty.text).toContain('5/10 files');
    expect(tty.text).toContain('50.0 MB');
    expect(tty.text).toContain('25.0 MB/s');
    expect(tty.text).toContain('ETA 0:02');
    expect(tty.text).toContain(' 50%');
    bar.clear();
    expect(tty.text.endsWith('\r\x1b[2K')).toBe(true);
    const pipe = new Sink();
    new ProgressLine(pipe, 'index', 'files').update({ done: 1, total: 2 }, true);
    expect(pipe.text).toBe('');
    expect(formatBytes(1_600_000_000)).toBe('1.60 GB');
    expect(formatDuration(3725)).toBe('1:02:05');
  });
});

const distCli = path.join(__dirname, '..', '..', 'dist', 'cli.js');
(fs.existsSync(distCli) ? test : test.skip)('smoke: node dist/cli.js --help', () => {
  const r = spawnSync(process.execPath, [distCli, '--help'], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('generate');
});
