/**
 * `geonode load-events` and the events step of `geonode start`, through main(argv, io).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli';
import { openIndexDb } from '../../src/index/db';
import { listCatalogs, queryEvents } from '../../src/index/events';
import { httpGetText, makeIo, startListening } from '../helpers/cliIo';

const FDSN_TEXT =
  '#EventID|Time|Latitude|Longitude|Depth/km|Author|Catalog|Contributor|ContributorID|MagType|Magnitude|MagAuthor|EventLocationName\n' +
  'demo1|2020-09-12T02:44:11.000|38.75|142.26|35.0|DEMO|DEMO|DEMO|demo1|Mj|6.2|DEMO|OFF EAST COAST OF HONSHU, JAPAN\n' +
  'demo2|2020-09-12T03:12:58.200|38.71|142.35|32.0|DEMO|DEMO|DEMO|demo2|Mj|4.6|DEMO|OFF EAST COAST OF HONSHU, JAPAN\n';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-events-cli-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('geonode load-events', () => {
  test('loads files with --catalog/--contributor, skips unchanged, reports bad lines and files', async () => {
    const list = path.join(tmp, 'list.txt');
    fs.writeFileSync(list, '2021-01-01 00:00:00 10 20 5 3.3 ML\nnot a line\n');
    const bad = path.join(tmp, 'bad.xml');
    fs.writeFileSync(bad, '<quakeml>\n<broken');
    const io = makeIo(tmp);
    expect(await main(['load-events', 'list.txt', '--db', 'ev.sqlite', '--catalog', 'MINE', '--contributor', 'ME'], io)).toBe(0);
    expect(io.out.text).toMatch(/events: 1 file\(s\) loaded, 0 unchanged, 0 failed; 1 events stored/);
    expect(io.err.text).toContain(`error: ${list}:2: `);

    const again = makeIo(tmp);
    expect(await main(['load-events', 'list.txt', 'bad.xml', '--db', 'ev.sqlite', '--catalog', 'MINE', '--contributor', 'ME'], again)).toBe(1);
    expect(again.out.text).toMatch(/0 file\(s\) loaded, 1 unchanged, 1 failed; 0 events stored in [\d.]+ s; the catalogue holds 1 events/);
    expect(again.err.text).toContain(`error: ${bad}`);

    const db = openIndexDb(path.join(tmp, 'ev.sqlite'), { readonly: true });
    try {
      expect(listCatalogs(db)).toEqual(['MINE']);
      expect(queryEvents(db, {})[0]).toMatchObject({ contributor: 'ME', mag: 3.3, magType: 'ML' });
    } finally {
      db.close();
    }
  });

  test('--help documents it; a bad --depth-unit is a usage error', async () => {
    const h = makeIo(tmp);
    expect(await main(['load-events', '--help'], h)).toBe(0);
    expect(h.out.text).toContain('usage: geonode load-events FILE|DIR... [options]');
    expect(h.out.text).toContain('--catalog NAME');
    const u = makeIo(tmp);
    expect(await main(['help'], u)).toBe(0);
    expect(u.out.text).toMatch(/^ {2}load-events\b/m);
    const e = makeIo(tmp);
    expect(await main(['load-events', 'x.txt', '--depth-unit', 'ft'], e)).toBe(2);
  });
});

describe('geonode start loads ARCHIVE/events.txt', () => {
  test('the demo catalogue is served by fdsnws-event', async () => {
    const archive = path.join(tmp, 'archive');
    fs.mkdirSync(path.join(archive, '2020'), { recursive: true });
    fs.writeFileSync(path.join(archive, 'truth.json'), '{}'); // "already generated"
    fs.writeFileSync(path.join(archive, 'events.txt'), FDSN_TEXT);
    const io = makeIo(tmp, { GEONODE_ARCHIVE: archive, GEONODE_DB: 'var/start.sqlite', GEONODE_HOST: '127.0.0.1' });
    const { port, done, stop } = await startListening(['start', '--port', '0'], io);
    try {
      const r = await httpGetText(`http://127.0.0.1:${port}/fdsnws/event/1/query?format=text&orderby=time-asc`);
      expect(r.status).toBe(200);
      expect(r.body.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split('|')[0])).toEqual(['demo1', 'demo2']);
    } finally {
      stop();
    }
    expect(await done).toBe(0);
    expect(io.out.text).toMatch(/events: 1 file\(s\) loaded, 0 unchanged, 0 failed; 2 events stored/);
  });
});
