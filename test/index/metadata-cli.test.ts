/**
 * `geonode load-metadata` and the demo inventory (archive/stations.xml): the document is valid
 * StationXML 1.2 listing exactly the demo constants, loads through the CLI, and is served by
 * fdsnws-station. Expected values come from src/demo/stations.ts (themselves checked against
 * the IRIS export by test/demo/stations.test.ts).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createApp } from '../../src/app';
import { main, usage } from '../../src/cli';
import { defaultConfig } from '../../src/config';
import { writeDemoStationXml } from '../../src/demo/stationxml';
import { DEMO_STATIONS } from '../../src/demo/stations';
import { parseStationXml } from '../../src/formats/stationxml';
import { openIndexDb } from '../../src/index/db';
import { RestrictionPolicy } from '../../src/index/restrictions';
import { makeIo } from '../helpers/cliIo';
import { describeShared, sharedPath } from '../helpers/sharedData';

const XSD = path.join(__dirname, '..', 'fixtures', 'fdsn-station-1.2.xsd');
const canValidate = spawnSync('xmllint', ['--version']).status === 0 && fs.existsSync(XSD);

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-meta-cli-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('demo stations.xml', () => {
  it('is StationXML 1.2 with the six demo stations and all their components', () => {
    const file = writeDemoStationXml(tmp);
    expect(path.basename(file)).toBe('stations.xml');
    const xml = fs.readFileSync(file, 'utf8');
    if (canValidate) expect(spawnSync('xmllint', ['--noout', '--schema', XSD, file], { encoding: 'utf8' }).stderr).toMatch(/validates/);
    const inv = parseStationXml(xml);
    expect(inv.schemaVersion).toBe('1.2');
    const got = inv.networks.flatMap((n) => n.stations.flatMap((s) => s.channels.map((c) => `${n.code}.${s.code}.${c.location}.${c.code} ${c.sampleRate} ${c.sensitivity?.value} ${c.lat}`)));
    const want = DEMO_STATIONS.flatMap((s) => s.channels.map((c) => `${s.network}.${s.station}.${c.location}.${c.channel} ${c.sampleRate} ${c.sensitivity} ${c.latitude}`));
    expect(got.sort()).toEqual(want.sort());
    expect(got).toHaveLength(21);
    // Identical bytes on a second write (the store then skips it by sha256).
    expect(fs.readFileSync(writeDemoStationXml(tmp), 'utf8')).toBe(xml);
  });

  it('lists only the written streams for a subset', () => {
    const dir = path.join(tmp, 'subset');
    fs.mkdirSync(dir);
    const inv = parseStationXml(fs.readFileSync(writeDemoStationXml(dir, [{ network: 'JP', station: 'JYT', location: '', channel: 'BHZ' }])));
    expect(inv.networks.map((n) => n.code)).toEqual(['JP']);
    expect(inv.networks[0].stations.map((s) => `${s.code}:${s.channels.map((c) => c.code).join(',')}`)).toEqual(['JYT:BHZ']);
  });
});

describe('geonode load-metadata', () => {
  it('is listed in the usage and has --help', async () => {
    expect(usage()).toMatch(/^ {2}load-metadata\b/m);
    const io = makeIo(tmp);
    expect(await main(['load-metadata', '--help'], io)).toBe(0);
    expect(io.out.text).toContain('usage: geonode load-metadata FILE|DIR... [options]');
    expect(io.out.text).toContain('--db FILE');
    const bad = makeIo(tmp);
    expect(await main(['load-metadata'], bad)).toBe(2);
  });

  it('loads the demo inventory; fdsnws-station then serves the six stations; reload is skipped', async () => {
    const file = writeDemoStationXml(path.join(tmp));
    const io = makeIo(tmp);
    expect(await main(['load-metadata', file, '--db', 'var/demo.sqlite'], io)).toBe(0);
    expect(io.out.text).toContain(`loaded: ${file} (2 networks, 6 stations, 21 channel epochs)`);
    const again = makeIo(tmp);
    expect(await main(['load-metadata', file, '--db', 'var/demo.sqlite'], again)).toBe(0);
    expect(again.out.text).toContain(`unchanged: ${file}`);

    const db = openIndexDb(path.join(tmp, 'var', 'demo.sqlite'), { readonly: true });
    try {
      const app = createApp({ db, config: { ...defaultConfig({}), restrictedFile: '' }, restrictions: new RestrictionPolicy() } as Parameters<typeof createApp>[0]);
      const res = await request(app).get('/fdsnws/station/1/query?format=text').expect(200);
      expect(res.text.trim().split('\n').slice(1).map((l) => l.split('|').slice(0, 2).join('.'))).toEqual(['II.ERM', 'JP.JKA', 'JP.JMM', 'JP.JSD', 'JP.JTM', 'JP.JYT']);
      const ch = await request(app).get('/fdsnws/station/1/query?level=channel&format=text&sta=ERM&loc=10').expect(200);
      expect(ch.text.trim().split('\n')).toHaveLength(4);
    } finally {
      db.close();
    }
  });

  describeShared('with the shared files', () => {
    it('a directory loads every file; a broken file gives exit 1 and the others still load', async () => {
      const io = makeIo(tmp);
      expect(await main(['load-metadata', sharedPath('stationxml'), '--db', 'var/shared.sqlite'], io)).toBe(0);
      expect(io.out.text).toMatch(/metadata: 8 file\(s\) loaded, 0 unchanged, 0 failed/);
      const broken = path.join(tmp, 'broken.xml');
      fs.writeFileSync(broken, '<FDSNStationXML xmlns="http://www.fdsn.org/xml/station/1"><Network code="X">');
      const io2 = makeIo(tmp);
      expect(await main(['load-metadata', broken, sharedPath('stationxml', 'ffbx.stationxml'), '--db', 'var/shared.sqlite'], io2)).toBe(1);
      expect(io2.err.text).toContain(`error: ${broken}`);
      expect(io2.out.text).toContain('unchanged: ');
    });
  });
});
