/**
 * The generator writes an SDS tree of 512-byte Steim-2 records whose samples, read back with the
 * miniSEED reader, equal an independent recomputation (demoSamples), with the listed gap and
 * overlap, plus truth.json and events.txt.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeRecord, iterateFileRecords, type RecordHeader } from '../../src/formats/mseed';
import { nsToIso, parseIsoToNs } from '../../src/formats/time';
import { BENCH_LAYOUTS, filesLayout } from '../../src/demo/bench';
import { eventsText, GenerateError, generateDemoArchive, sdsRelativePath, type GenerateProgress } from '../../src/demo/generate';
import { DEMO_EVENTS } from '../../src/demo/quakes';
import { demoSamples } from '../../src/demo/scenario';
import { clearSignalCache } from '../../src/demo/signals';

const t = (iso: string): bigint => parseIsoToNs(iso)!;

interface ReadRecord {
  header: RecordHeader;
  samples: Int32Array;
}

function readFile(file: string): ReadRecord[] {
  const buf = fs.readFileSync(file);
  const out: ReadRecord[] = [];
  for (const r of iterateFileRecords(file)) {
    if (!r.ok) throw r.error;
    out.push({ header: r.header, samples: decodeRecord(buf, r.header) as Int32Array });
  }
  return out;
}

describe('generateDemoArchive (event-day window, two stations)', () => {
  let dir: string;
  const progress: GenerateProgress[] = [];
  const WINDOW = { startNs: t('2020-09-12T02:40:00'), endNs: t('2020-09-12T03:00:00') };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-gen-'));
    const summary = await generateDemoArchive(dir, { days: 1, stations: ['JP.JMM', 'JYT'], window: WINDOW, onProgress: (p) => progress.push(p) });
    expect(summary).toMatchObject({ files: 6, channels: 6, days: 1, size: 'demo' });
    expect(summary.bytes).toBe(summary.records * 512);
    // 6 channels x 20 min x 20 Hz, minus the 3-minute gap, plus the 90 s overlap.
    expect(summary.samples).toBe(6 * 1200 * 20 - 180 * 20 + 90 * 20);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('SDS layout: YEAR/NET/STA/CHA.D/NET.STA.LOC.CHA.D.YEAR.DOY (2020-09-12 = day 256)', () => {
    expect(sdsRelativePath('JP', 'JMM', '', 'BHZ', t('2020-09-12'))).toBe(path.join('2020', 'JP', 'JMM', 'BHZ.D', 'JP.JMM..BHZ.D.2020.256'));
    expect(sdsRelativePath('II', 'ERM', '10', 'BHE', t('2020-12-31'))).toBe(path.join('2020', 'II', 'ERM', 'BHE.D', 'II.ERM.10.BHE.D.2020.366'));
    for (const sta of ['JMM', 'JYT']) {
      for (const cha of ['BHZ', 'BHN', 'BHE']) {
        expect(fs.existsSync(path.join(dir, '2020', 'JP', sta, `${cha}.D`, `JP.${sta}..${cha}.D.2020.256`))).toBe(true);
      }
    }
    expect(fs.readdirSync(path.join(dir, '2020', 'JP')).sort()).toEqual(['JMM', 'JYT']);
  });

  test('every record is 512-byte Steim-2 v2.4 and its samples equal demoSamples()', () => {
    clearSignalCache(); // recompute from the model, not from blocks the generator rendered
    for (const sta of ['JMM', 'JYT']) {
      for (const cha of ['BHZ', 'BHN', 'BHE']) {
        const file = path.join(dir, '2020', 'JP', sta, `${cha}.D`, `JP.${sta}..${cha}.D.2020.256`);
        const recs = readFile(file);
        expect(recs.length).toBeGreaterThan(10);
        for (const { header: h, samples } of recs) {
          expect([h.formatVersion, h.recordLength, h.encoding, h.network, h.station, h.location, h.channel, h.sampleRate, h.quality]).toEqual([2, 512, 11, 'JP', sta, '', cha, 20, 'D']);
          expect(samples.length).toBe(h.sampleCount);
          expect(Array.from(samples)).toEqual(Array.from(demoSamples('JP', sta, '', cha, h.startNs, h.sampleCount)));
        }
      }
    }
  });

  test('the JMM BHN gap 02:55:00-02:58:00 is missing, the rest of the window is complete', () => {
    const recs = readFile(path.join(dir, '2020', 'JP', 'JMM', 'BHN.D', 'JP.JMM..BHN.D.2020.256'));
    const period = 50_000_000n;
    const times = new Set<bigint>();
    for (const r of recs) for (let i = 0; i < r.header.sampleCount; i++) times.add(r.header.startNs + BigInt(i) * period);
    expect(times.size).toBe((1200 - 180) * 20);
    expect(times.has(t('2020-09-12T02:54:59.95'))).toBe(true);
    expect(times.has(t('2020-09-12T02:55:00'))).toBe(false);
    expect(times.has(t('2020-09-12T02:57:59.95'))).toBe(false);
    expect(times.has(t('2020-09-12T02:58:00'))).toBe(true);
    expect(recs[0].header.startNs).toBe(WINDOW.startNs);
  });

  test('the JYT BHZ overlap: 90 s of records re-sent at the end of the same file, same samples', () => {
    const recs = readFile(path.join(dir, '2020', 'JP', 'JYT', 'BHZ.D', 'JP.JYT..BHZ.D.2020.256'));
    const total = recs.reduce((n, r) => n + r.header.sampleCount, 0);
    expect(total).toBe(1200 * 20 + 90 * 20);
    // Primary series first (time-ordered), then the re-sent run starting at 02:50:00.35.
    const back = recs.findIndex((r, i) => i > 0 && r.header.startNs < recs[i - 1].header.startNs);
    expect(back).toBeGreaterThan(0);
    expect(recs[back].header.startNs).toBe(t('2020-09-12T02:50:00.35'));
    expect(recs.slice(back).reduce((n, r) => n + r.header.sampleCount, 0)).toBe(1800);
  });

  test('truth.json lists stations, streams, the gap, the overlap, events and arrivals', () => {
    const truth = JSON.parse(fs.readFileSync(path.join(dir, 'truth.json'), 'utf8'));
    expect(truth.stations.map((s: { station: string }) => s.station)).toEqual(['JMM', 'JYT']);
    expect(truth.streams).toHaveLength(6);
    expect(truth.gaps).toEqual([
      expect.objectContaining({ network: 'JP', station: 'JMM', location: '', channel: 'BHN', start: '2020-09-12T02:55:00Z', end: '2020-09-12T02:58:00Z', missingSamples: 3600 }),
    ]);
    expect(truth.overlap).toMatchObject({ station: 'JYT', channel: 'BHZ', start: '2020-09-12T02:50:00.350000Z', end: '2020-09-12T02:51:30.350000Z', samples: 1800 });
    expect(truth.events).toHaveLength(DEMO_EVENTS.length);
    expect(truth.events.find((e: { real: boolean }) => e.real)).toMatchObject({ time: '2020-09-12T02:44:11.000Z', latitude: 38.75, longitude: 142.26, depthKm: 35, magnitude: 6.2 });
    expect(truth.arrivals).toHaveLength(2 * DEMO_EVENTS.length);
    for (const a of truth.arrivals) expect(parseIsoToNs(a.S)! > parseIsoToNs(a.P)!).toBe(true);
    expect(truth.summary.files).toBe(6);
  });

  test('events.txt is FDSN event text with the catalogue', () => {
    const lines = fs.readFileSync(path.join(dir, 'events.txt'), 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('#EventID|Time|Latitude|Longitude|Depth/km|Author|Catalog|Contributor|ContributorID|MagType|Magnitude|MagAuthor|EventLocationName');
    expect(lines).toHaveLength(1 + DEMO_EVENTS.length);
    for (const l of lines.slice(1)) expect(l.split('|')).toHaveLength(13);
    expect(lines.find((l) => l.includes('2020-09-12T02:44:11'))!.split('|').slice(1, 5)).toEqual(['2020-09-12T02:44:11.000', '38.7500', '142.2600', '35.0']);
    expect(eventsText([])).toBe(lines[0] + '\n');
  });

  test('progress reports reach all files and samples', () => {
    const last = progress[progress.length - 1];
    expect(last.filesDone).toBe(6);
    expect(last.samplesDone).toBe(last.samplesTotal);
  });

  test('an existing archive is refused without force, replaced with force', async () => {
    await expect(generateDemoArchive(dir, { days: 1, stations: ['JMM'], window: WINDOW })).rejects.toThrow(GenerateError);
    const keep = path.join(dir, 'README.md');
    fs.writeFileSync(keep, 'not ours');
    const s = await generateDemoArchive(dir, { days: 1, stations: ['JP.JMM.--'], window: { startNs: WINDOW.startNs, endNs: WINDOW.startNs + 60_000_000_000n }, force: true });
    expect(s.files).toBe(3);
    expect(fs.existsSync(path.join(dir, '2020', 'JP', 'JYT'))).toBe(false); // files of the previous run removed
    expect(fs.existsSync(keep)).toBe(true);
    const truth = JSON.parse(fs.readFileSync(path.join(dir, 'truth.json'), 'utf8'));
    expect(truth.gaps).toEqual([]);
    expect(truth.overlap).toBeNull();
    expect(nsToIso(t(truth.streams[0].lastSample), 'auto')).toBe('2020-09-12T02:40:59.950000');
  });
});

describe('the generator writes only into an empty directory or its own', () => {
  test("another's files are refused; a run interrupted before truth.json may be repeated", async () => {
    const WINDOW = { startNs: t('2020-09-12T02:40:00'), endNs: t('2020-09-12T03:00:00') };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-foreign-'));
    try {
      fs.writeFileSync(path.join(dir, 'stations.xml'), '<FDSNStationXML>mine</FDSNStationXML>');
      fs.writeFileSync(path.join(dir, '.hidden'), '');
      await expect(generateDemoArchive(dir, { days: 1, stations: ['JMM'], window: WINDOW })).rejects.toThrow(/holds files the generator did not write \(stations\.xml\)/);
      await expect(generateDemoArchive(dir, { days: 1, stations: ['JMM'], window: WINDOW, force: true })).rejects.toThrow(GenerateError);
      expect(fs.readFileSync(path.join(dir, 'stations.xml'), 'utf8')).toBe('<FDSNStationXML>mine</FDSNStationXML>');
      // The marker a run leaves until truth.json is written makes the directory its own.
      fs.rmSync(path.join(dir, 'stations.xml'));
      fs.mkdirSync(path.join(dir, '2020'));
      fs.writeFileSync(path.join(dir, '.geonode-generating'), '');
      const s = await generateDemoArchive(dir, { days: 1, stations: ['JP.JMM.--'], window: { startNs: WINDOW.startNs, endNs: WINDOW.startNs + 60_000_000_000n } });
      expect(s.files).toBe(3);
      expect(fs.existsSync(path.join(dir, 'truth.json'))).toBe(true);
      expect(fs.existsSync(path.join(dir, '.geonode-generating'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('benchmark layouts', () => {
  test('sizes and files mode', () => {
    expect(BENCH_LAYOUTS['bench-small']).toEqual({ stations: 2, days: 1, secondsPerFile: 86400 });
    expect(BENCH_LAYOUTS['bench-large'].stations * 3 * BENCH_LAYOUTS['bench-large'].days).toBe(168);
    const l = filesLayout(2000);
    expect(l.stations * 3 * l.days).toBeGreaterThanOrEqual(2000);
    expect(l.maxFiles).toBe(2000);
  });

  test('files mode writes N small 100 Hz files of network XX', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-files-'));
    try {
      const s = await generateDemoArchive(dir, { files: 4 });
      expect(s).toMatchObject({ files: 4, size: 'files', samples: 4 * 120 * 100 });
      const truth = JSON.parse(fs.readFileSync(path.join(dir, 'truth.json'), 'utf8'));
      const rel: string = truth.streams[0].files[0];
      expect(rel).toBe(path.join('2021', 'XX', 'B001', 'HHZ.D', 'XX.B001.00.HHZ.D.2021.001'));
      const recs = readFile(path.join(dir, rel));
      expect(recs[0].header).toMatchObject({ network: 'XX', sampleRate: 100, encoding: 11, recordLength: 512 });
      expect(recs.reduce((n, r) => n + r.header.sampleCount, 0)).toBe(12000);
      expect(fs.existsSync(path.join(dir, 'events.txt'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
