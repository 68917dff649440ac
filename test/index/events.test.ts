/**
 * Event store: loading QuakeML and text files (skip unchanged, replace changed, report bad
 * files/lines), one row per event across files, and the SQL selection (filters, order, paging).
 * Expected values come from the source files / the generated list, not from the store.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { openIndexDb } from '../../src/index/db';
import { countEvents, listCatalogs, listContributors, listEventSources, loadEventFiles, queryEventDocuments, queryEvents } from '../../src/index/events';
import { parseIsoToNs } from '../../src/formats/time';
import { describeShared, sharedFiles, sharedPath } from '../helpers/sharedData';

const ns = (iso: string): bigint => {
  const v = parseIsoToNs(iso);
  if (v === null) throw new Error(iso);
  return v;
};

let dir: string;
let db: Database.Database;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-events-'));
  db = openIndexDb(path.join(dir, 'index.sqlite'));
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const LIST = [
  '# a catalogue list: date time lat lon depth mag magtype',
  '2020-09-12 02:44:11.0 38.75 142.26 35.0 6.2 Mj',
  '2020-09-12 03:12:58.2 38.71 142.35 32.0 4.6 Mj',
  '2020-09-13 10:00:00 -17.5 190.0 600.0 5.1 mb', // longitude 0..360 style
].join('\n');

describe('loadEventFiles on text lists', () => {
  test('loads, skips unchanged, replaces a changed file, reports bad lines with their line number', () => {
    const f = path.join(dir, 'list.txt');
    fs.writeFileSync(f, LIST + '\n2020-13-45 99:00:00 x y z\n');
    const s1 = loadEventFiles(db, [f], { catalog: 'DEMO', contributor: 'ME' });
    expect(s1).toMatchObject({ files: 1, loaded: 1, unchanged: 0, failed: 0, events: 3 });
    expect(s1.problems).toHaveLength(1);
    expect(s1.problems[0]).toMatchObject({ file: f, line: 5 });
    expect(queryEvents(db, {})).toHaveLength(3);
    // Longitude stored in [-180, 180].
    expect(queryEvents(db, { minMag: 5, maxMag: 5.5 })[0].lon).toBeCloseTo(-170, 9);

    const s2 = loadEventFiles(db, [f], { catalog: 'DEMO', contributor: 'ME' });
    expect(s2).toMatchObject({ loaded: 0, unchanged: 1, events: 0 });

    // Changed content: the old events of that file are gone, the new ones are there.
    fs.writeFileSync(f, '2021-01-01 00:00:00 10 20 5 3.3 ML\n');
    const s3 = loadEventFiles(db, [f], { catalog: 'DEMO', contributor: 'ME' });
    expect(s3).toMatchObject({ loaded: 1, events: 1 });
    const rows = queryEvents(db, {});
    expect(rows.map((r) => [r.timeNs, r.lat, r.lon, r.depthKm, r.mag, r.magType])).toEqual([[ns('2021-01-01T00:00:00'), 10, 20, 5, 3.3, 'ML']]);
    expect(listEventSources(db)).toHaveLength(1);

    // Same content, other catalog option: reloaded (the options are part of what was loaded).
    expect(loadEventFiles(db, [f], { catalog: 'OTHER' })).toMatchObject({ loaded: 1 });
    expect(listCatalogs(db)).toEqual(['OTHER']);
  });

  test('a malformed QuakeML file is reported with its line and skipped; missing files too', () => {
    const bad = path.join(dir, 'bad.xml');
    fs.writeFileSync(bad, '<?xml version="1.0"?>\n<q:quakeml xmlns:q="http://quakeml.org/xmlns/quakeml/1.2">\n<eventParameters>\n</q:quakeml>');
    const good = path.join(dir, 'good.txt');
    fs.writeFileSync(good, LIST);
    const s = loadEventFiles(db, [bad, path.join(dir, 'missing.xml'), good]);
    expect(s).toMatchObject({ files: 3, loaded: 1, failed: 2, events: 3 });
    expect(s.problems.find((p) => p.file === bad)?.line).toBeGreaterThan(0);
    expect(s.problems.some((p) => p.file.endsWith('missing.xml') && /cannot read/.test(p.reason))).toBe(true);
  });

  test('the same event in two files is stored once; the later load wins', () => {
    const a = path.join(dir, 'a.txt');
    const b = path.join(dir, 'b.txt');
    const header = '#EventID|Time|Latitude|Longitude|Depth/km|Author|Catalog|Contributor|ContributorID|MagType|Magnitude|MagAuthor|EventLocationName|EventType';
    fs.writeFileSync(a, `${header}\nev1|2020-01-01T00:00:00|1|2|3|A|CA|CA|ev1|ML|2.0|A|Somewhere|earthquake\n`);
    fs.writeFileSync(b, `${header}\nev1|2020-01-01T00:00:00|1|2|3|B|CB|CB|ev1|ML|2.5|B|Somewhere|earthquake\n`);
    loadEventFiles(db, [a]);
    const s = loadEventFiles(db, [b]);
    expect(s.replaced).toBe(1);
    const rows = queryEvents(db, {});
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ eventId: 'ev1', mag: 2.5, catalog: 'CB', author: 'B' });
  });

  test('a different event with an id already taken is kept as ID_2, its made-up publicID too', () => {
    // IRIS and ISC both number events; 3279407 is Tohoku 2011 in one and a 1965 event in the other.
    const iris = path.join(dir, 'iris.txt');
    const isc = path.join(dir, 'isc.txt');
    const header = '#EventID|Time|Latitude|Longitude|Depth/km|Author|Catalog|Contributor|ContributorID|MagType|Magnitude|MagAuthor|EventLocationName';
    fs.writeFileSync(iris, `${header}\n3279407|2011-03-11T05:46:24.12|38.297|142.373|29|NEIC|NEIC PDE|NEIC PDE-W||MW|9.1|GCMT|NEAR EAST COAST OF HONSHU, JAPAN\n`);
    fs.writeFileSync(isc, `${header}\n3279407|1965-02-04T05:01:21.8|51.2|178.5|20|ISC|ISC|ISC||MS|8.7|ISC|RAT ISLANDS\n`);
    loadEventFiles(db, [iris]);
    const s = loadEventFiles(db, [isc], { catalog: 'ISC' });
    expect(s.replaced).toBe(0);
    expect(s.renamed).toEqual([{ file: isc, from: '3279407', to: '3279407_2', publicId: 'smi:local/event/3279407_2', otherPublicId: 'smi:local/event/3279407' }]);
    const rows = queryEvents(db, { orderBy: 'time-asc' });
    expect(rows.map((r) => [r.eventId, r.publicId, r.mag, r.locationName])).toEqual([
      ['3279407_2', 'smi:local/event/3279407_2', 8.7, 'RAT ISLANDS'],
      ['3279407', 'smi:local/event/3279407', 9.1, 'NEAR EAST COAST OF HONSHU, JAPAN'],
    ]);
    // The renamed event's origin and magnitude ids follow its publicID.
    const [{ event }] = queryEventDocuments(db, { eventId: '3279407_2' });
    expect([event.origins[0].publicId, event.magnitudes[0].publicId, event.magnitudes[0].originId, event.preferredOriginId]).toEqual([
      'smi:local/event/3279407_2/origin',
      'smi:local/event/3279407_2/magnitude',
      'smi:local/event/3279407_2/origin',
      'smi:local/event/3279407_2/origin',
    ]);
    // Loading the ISC file again replaces its own event, and still leaves Tohoku alone.
    const again = loadEventFiles(db, [isc], { catalog: 'ISC', force: true });
    expect(again.renamed.map((r) => r.to)).toEqual(['3279407_2']);
    expect(queryEvents(db, {})).toHaveLength(2);
    // The same ISC event from another file (re-reviewed, 0.2 s later) meets its renamed copy:
    // it replaces it under the same id instead of becoming 3279407_3.
    const reviewed = path.join(dir, 'isc-reviewed.txt');
    fs.writeFileSync(reviewed, `${header}\n3279407|1965-02-04T05:01:22.0|51.21|178.5|20|ISC|ISC|ISC||MS|8.7|ISC|RAT ISLANDS\n`);
    const r3 = loadEventFiles(db, [reviewed], { catalog: 'ISC' });
    expect([r3.replaced, r3.renamed.map((r) => r.to)]).toEqual([1, ['3279407_2']]);
    expect(queryEvents(db, { orderBy: 'time-asc' }).map((r) => [r.eventId, r.lat])).toEqual([['3279407_2', 51.21], ['3279407', 38.297]]);
    fs.rmSync(reviewed);
    loadEventFiles(db, [isc], { catalog: 'ISC', force: true });
    // The same event in its text and QuakeML-like forms (id equal, times 1 s apart) is still one.
    fs.writeFileSync(isc, `${header}\n3279407|2011-03-11T05:46:25.0|38.3|142.4|30|ISC|ISC|ISC||MW|9.0|ISC|HONSHU\n`);
    const same = loadEventFiles(db, [isc]);
    expect(same).toMatchObject({ replaced: 1, renamed: [] });
    expect(queryEvents(db, {}).map((r) => [r.eventId, r.mag])).toEqual([['3279407', 9.0]]);
  });

  test('a directory loads its event files, sorted', () => {
    fs.mkdirSync(path.join(dir, 'cat'));
    fs.writeFileSync(path.join(dir, 'cat', 'one.txt'), LIST);
    fs.writeFileSync(path.join(dir, 'cat', 'README.md'), 'not events');
    expect(loadEventFiles(db, [path.join(dir, 'cat')])).toMatchObject({ files: 1, loaded: 1, events: 3 });
  });
});

describeShared('event store over shared/data/quakeml', () => {
  beforeEach(() => {
    const s = loadEventFiles(db, sharedFiles('quakeml'));
    expect(s.problems).toEqual([]);
    expect(s.failed).toBe(0);
  });

  test('9 events, values as the files state', () => {
    const rows = queryEvents(db, { orderBy: 'time-asc' });
    expect(rows.map((r) => r.eventId).sort()).toEqual(['1165', '2032247', '2032257', '2032696', '2318174', '3279407', 'C200604092050A', 'ci37285320', 'uw60916552'].sort());
    const tohoku = rows.find((r) => r.eventId === '3279407')!;
    expect(tohoku).toMatchObject({ timeNs: ns('2011-03-11T05:46:24.12'), lat: 38.297, lon: 142.373, mag: 9.1, magType: 'MW', magAuthor: 'GCMT', author: 'NEIC', catalog: 'NEIC PDE', contributor: 'NEIC PDE-W', eventType: 'earthquake' });
    const ci = rows.find((r) => r.eventId === 'ci37285320')!;
    expect(ci).toMatchObject({ timeNs: ns('2014-11-06T00:24:42.240'), lat: 35.0476667, lon: -117.6623333, mag: 1.54, magType: 'ml', eventType: 'quarry blast', catalog: 'ci' });
    // The unlocated IPE event is stored (it has a time) but has no coordinates.
    expect(rows.find((r) => r.eventId === '2032247')).toMatchObject({ lat: null, lon: null, mag: null });
    expect(queryEvents(db, { locatedOnly: true }).map((r) => r.eventId)).not.toContain('2032247');
    expect(listCatalogs(db)).toEqual(expect.arrayContaining(['NEIC PDE', 'ISC', 'ci', 'uw']));
    expect(listContributors(db).length).toBeGreaterThan(0);
  });

  test('an event of another catalogue whose publicID ends in a taken id does not push Tohoku out', () => {
    const other = path.join(dir, 'other.xml');
    const src = fs.readFileSync(sharedPath('quakeml', 'C200604092050A.xml'), 'utf8');
    fs.writeFileSync(other, src.replace('<event publicID="smi:local/ndk/C200604092050A/event">', '<event publicID="smi:org.example.other/event/3279407">'));
    const s = loadEventFiles(db, [other]);
    expect(s.renamed).toEqual([{ file: other, from: '3279407', to: '3279407_2', publicId: 'smi:org.example.other/event/3279407', otherPublicId: 'smi:www.iris.edu/ws/event/query?eventId=3279407' }]);
    expect(queryEvents(db, { eventId: 'smi:www.iris.edu/ws/event/query?eventId=3279407' }).map((r) => r.mag)).toEqual([9.1]);
    expect(queryEvents(db, { eventId: 'smi:org.example.other/event/3279407' }).map((r) => r.eventId)).toEqual(['3279407_2']);
  });

  test('magnitudetype tests every magnitude of that type (C200604092050A: Mwc 5.73 preferred, mb 5.5, MS 5.8)', () => {
    expect(queryEvents(db, { magType: 'mb', minMag: 5.4, maxMag: 5.6 }).map((r) => r.eventId)).toEqual(['C200604092050A']);
    expect(queryEvents(db, { magType: 'MB', minMag: 5.6 })).toHaveLength(0);
    expect(queryEvents(db, { minMag: 5.7, maxMag: 5.75 }).map((r) => r.eventId)).toEqual(['C200604092050A']);
  });

  test('stored QuakeML comes back with every origin, magnitude and arrival', () => {
    const [c] = queryEventDocuments(db, { eventId: 'C200604092050A' });
    expect(c.event.origins).toHaveLength(2);
    expect(c.event.magnitudes).toHaveLength(3);
    const [ipe] = queryEventDocuments(db, { eventId: 'smi:local/3118602f-2ced-4e95-ba1d-53964ecd9da2/event/2032257' });
    expect(ipe.event.preferredOrigin!.arrivals).toHaveLength(7);
    expect(ipe.row.eventId).toBe('2032257');
  });

  test('count with a cap, paging with 1-based offset', () => {
    expect(countEvents(db, {})).toBe(9);
    expect(countEvents(db, {}, 3)).toBe(4); // capped at cap + 1
    expect(countEvents(db, { offset: 8 })).toBe(2);
    const all = queryEvents(db, { orderBy: 'time' }).map((r) => r.eventId);
    const paged = [1, 4, 7].flatMap((offset) => queryEvents(db, { orderBy: 'time', limit: 3, offset }).map((r) => r.eventId));
    expect(paged).toEqual(all);
  });

  test('depths that look like kilometres read as metres get a note naming --depth-unit km (iris_events.xml: Tohoku at 29 m)', () => {
    // Every shared file was loaded by beforeEach; force a reload to see the notes.
    const s = loadEventFiles(db, sharedFiles('quakeml'), { force: true });
    expect(s.notes.map((n) => path.basename(n.file))).toEqual(['iris_events.xml']);
    expect(s.notes[0].reason).toMatch(/deepest 29 m\) though 2 event\(s\) have M ≥ 5: .*--depth-unit km/);
    const km = loadEventFiles(db, [sharedPath('quakeml', 'iris_events.xml')], { depthUnit: 'km' });
    expect(km.notes).toEqual([]);
    expect(queryEvents(db, { eventId: '3279407' })[0].depthKm).toBe(29);
  });

  test('the QuakeML source path is recorded per event', () => {
    expect(queryEvents(db, { eventId: '3279407' })[0].sourceFile).toBe(sharedPath('quakeml', 'iris_events.xml'));
  });
});
