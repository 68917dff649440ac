/**
 * FDSN event text (fdsnws-event format=text) and simple catalogue lists.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  EVENT_TEXT_HEADER,
  EVENT_TEXT_HEADER_13,
  EventTextError,
  parseEventText,
  writeEventText,
} from '../../src/formats/eventText';
import { parseQuakeML, writeQuakeML, createEvent } from '../../src/formats/quakeml';
import { parseIsoToNs } from '../../src/formats/time';
import { pyCsv } from '../helpers/obspyStationText';
import { describeShared, sharedFiles, sharedPath } from '../helpers/sharedData';

const ns = (iso: string): bigint => parseIsoToNs(iso)!;
const us = (v: bigint | undefined): bigint | undefined => (v === undefined ? undefined : v / 1000n);

describe('writeEventText', () => {
  test('header is the 13 FDSN columns plus EventType (SeisComP 1.2 style)', () => {
    expect(EVENT_TEXT_HEADER).toBe(
      '#EventID|Time|Latitude|Longitude|Depth/km|Author|Catalog|Contributor|ContributorID|MagType|Magnitude|MagAuthor|EventLocationName|EventType',
    );
    expect(writeEventText([])).toBe(EVENT_TEXT_HEADER + '\n');
    expect(writeEventText([], { eventType: false })).toBe(EVENT_TEXT_HEADER_13 + '\n');
  });

  test('one line per event, `|` and line breaks never inside a field', () => {
    const ev = createEvent({
      publicId: 'smi:local/event/x1',
      eventId: 'x|1',
      descriptions: [{ text: 'A | B\nC', type: 'region name' }],
      origins: [{ publicId: 'smi:o', timeNs: ns('2020-09-12T02:44:11.5'), lat: 38.75, lon: 142.26, depthKm: 35, author: 'JMA', arrivals: [] }],
      magnitudes: [{ publicId: 'smi:m', value: 6.2, type: 'Mj', author: 'JMA' }],
      catalog: 'JMA',
      contributor: 'JMA',
      type: 'earthquake',
    });
    const lines = writeEventText([ev]).trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('x/1|2020-09-12T02:44:11.500000|38.75|142.26|35|JMA|JMA|JMA||Mj|6.2|JMA|A / B C|earthquake');
    expect(lines[1].split('|')).toHaveLength(14);
  });
});

describe('writeEventText for ObsPy', () => {
  test('a " in a location name cannot open a csv quoted field that swallows the next events', () => {
    // ObsPy's EVENTTXT reader is csv.DictReader(delimiter='|') with the default quotechar '"'.
    const names = ['"North Island (felt widely)', '"Dragon\'s Tail" islands', 'Plain'];
    const evs = names.map((name, i) =>
      createEvent({
        publicId: `smi:local/event/q${i}`,
        descriptions: [{ text: name, type: 'region name' }],
        origins: [{ publicId: `smi:o${i}`, timeNs: ns(`2020-01-0${i + 1}T00:00:00`), lat: 1, lon: 2, arrivals: [] }],
        magnitudes: [],
      }),
    );
    const rows = pyCsv(writeEventText(evs)).filter((r) => r.length > 0);
    expect(rows).toHaveLength(4);
    expect(rows.slice(1).map((r) => [r[0], r[12]])).toEqual([
      ['q0', "'North Island (felt widely)"],
      ['q1', "'Dragon's Tail' islands"],
      ['q2', 'Plain'],
    ]);
  });
});

describeShared('event text from the shared QuakeML files', () => {
  test('usgs_event.xml → text', () => {
    const text = writeEventText(parseQuakeML(fs.readFileSync(sharedPath('quakeml', 'usgs_event.xml'), 'utf8')));
    expect(text.split('\n')[1]).toBe('ci37285320|2014-11-06T00:24:42.240000|35.0476667|-117.6623333|0.01|CI|ci|ci|ci37285320|ml|1.54|CI||quarry blast');
  });

  test.each(sharedFiles('quakeml').map((f) => [path.basename(f), f]))(
    '%s: QuakeML → text → parse keeps times (µs), coordinates, depths, magnitudes, ids',
    (_n, f) => {
      const a = parseQuakeML(fs.readFileSync(f, 'utf8'));
      const text = writeEventText(a);
      expect(text.split('\n').filter((l) => l !== '')).toHaveLength(a.length + 1);
      for (const l of text.trimEnd().split('\n')) expect(l.split('|')).toHaveLength(14);
      const b = parseEventText(text);
      expect(b).toHaveLength(a.length);
      a.forEach((x, i) => {
        const y = b[i];
        const xo = x.preferredOrigin;
        const yo = y.preferredOrigin;
        expect(y.eventId).toBe(x.eventId);
        expect(us(yo?.timeNs)).toBe(us(xo?.timeNs));
        expect(yo?.lat).toBe(xo?.lat);
        expect(yo?.lon).toBe(xo?.lon);
        if (xo?.depthKm === undefined) expect(yo?.depthKm).toBeUndefined();
        else expect(yo!.depthKm).toBeCloseTo(xo.depthKm, 9);
        expect(y.preferredMagnitude?.value).toBe(x.preferredMagnitude?.value);
        expect(y.preferredMagnitude?.type).toBe(x.preferredMagnitude?.type);
        expect(y.preferredMagnitude?.author).toBe(x.preferredMagnitude?.author);
        expect(yo?.author).toBe(xo?.author);
        expect([y.catalog, y.contributor, y.contributorId]).toEqual([x.catalog, x.contributor, x.contributorId]);
        expect(y.locationName).toBe(x.locationName);
        expect(y.type).toBe(x.type);
      });
      // And the text-born events write valid QuakeML that reads back the same.
      const c = parseQuakeML(writeQuakeML(b));
      expect(c.map((e) => [e.eventId, e.preferredOrigin?.timeNs, e.preferredOrigin?.lat, e.preferredMagnitude?.value])).toEqual(
        // Text-born events get publicID smi:local/event/<EventID>; reading it back derives the same id.
        b.map((e) => [e.eventId, e.preferredOrigin?.timeNs, e.preferredOrigin?.lat, e.preferredMagnitude?.value]),
      );
    },
  );
});

describe('parseEventText: FDSN text', () => {
  const SC = [
    '#EventID|Time|Latitude|Longitude|Depth/km|Author|Catalog|Contributor|ContributorID|MagType|Magnitude|MagAuthor|EventLocationName|EventType',
    'gfz2020rwfq|2020-09-12T02:44:11.123456|38.75|142.26|35.0|GFZ|GEOFON|GFZ|gfz2020rwfq|Mw|6.2|GFZ|Near East Coast of Honshu, Japan|earthquake',
  ].join('\n');

  test('14 columns with header (SeisComP)', () => {
    const [ev] = parseEventText(SC);
    expect(ev.eventId).toBe('gfz2020rwfq');
    expect(ev.publicId).toBe('smi:local/event/gfz2020rwfq');
    expect(ev.preferredOrigin).toMatchObject({ timeNs: ns('2020-09-12T02:44:11.123456'), lat: 38.75, lon: 142.26, depthKm: 35, author: 'GFZ' });
    expect(ev.preferredMagnitude).toMatchObject({ value: 6.2, type: 'Mw', author: 'GFZ' });
    expect([ev.catalog, ev.contributor, ev.contributorId, ev.locationName, ev.type]).toEqual([
      'GEOFON', 'GFZ', 'gfz2020rwfq', 'Near East Coast of Honshu, Japan', 'earthquake',
    ]);
  });

  test("13 columns without header; ObsPy's spaced header; comments and blank lines", () => {
    const obspy = [
      '#EventID | Time | Latitude | Longitude | Depth/km | Author | Catalog | Contributor | ContributorID | MagType | Magnitude | MagAuthor | EventLocationName',
      '3337497|2012-04-11T08:38:37.00000|2.237600|93.014400|26.300|ISC||ISC||MW|8.60|GCMT|SUMATRA',
      '',
      '# a comment',
      '2413|1960-05-22T19:11:14.00000|-38.170000|-72.570000|0.000||||||8.50||',
    ].join('\r\n');
    const evs = parseEventText(obspy);
    expect(evs.map((e) => e.eventId)).toEqual(['3337497', '2413']);
    expect(evs[0].preferredOrigin).toMatchObject({ lat: 2.2376, lon: 93.0144, depthKm: 26.3, author: 'ISC' });
    expect(evs[1].preferredMagnitude).toMatchObject({ value: 8.5 });
    expect(evs[1].preferredMagnitude!.type).toBeUndefined();
    const headerless = parseEventText(obspy.split('\r\n').slice(1).join('\n'));
    expect(headerless.map((e) => e.preferredOrigin!.timeNs)).toEqual(evs.map((e) => e.preferredOrigin!.timeNs));
  });

  test('EventID given as a publicID; options override catalog/contributor', () => {
    const t = 'smi:www.iris.edu/ws/event/query?eventId=3279407|2011-03-11T05:46:24.12|38.297|142.373|29|NEIC|NEIC PDE|NEIC PDE-W||MW|9.1|GCMT|NEAR EAST COAST OF HONSHU, JAPAN';
    const [ev] = parseEventText(t, { catalog: 'C', contributor: 'K' });
    expect(ev.publicId).toBe('smi:www.iris.edu/ws/event/query?eventId=3279407');
    expect(ev.eventId).toBe('3279407');
    expect([ev.catalog, ev.contributor]).toEqual(['C', 'K']);
  });

  test('malformed lines: error with line number, or skipped through onError', () => {
    const t = [SC, 'bad|line', 'x|not-a-time|1|2|3|||||||||', 'y|2020-01-01T00:00:00|north|2|3|||||||||', 'z|2020-01-01T00:00:00|95|2|3|||||||||'].join('\n');
    expect(() => parseEventText(t)).toThrow(EventTextError);
    expect(() => parseEventText(t)).toThrow(/^line 3: expected 14 columns/);
    const errors: EventTextError[] = [];
    const evs = parseEventText(t, { onError: (e) => errors.push(e) });
    expect(evs).toHaveLength(1);
    expect(errors.map((e) => e.line)).toEqual([3, 4, 5, 6]);
    expect(errors[1].message).toMatch(/time "not-a-time"/);
    expect(errors[2].message).toMatch(/latitude "north" is not a number/);
    expect(errors[3].message).toMatch(/latitude 95 out of range/);
    // 1e400 reads as a number but is Infinity: neither writer could put it back out.
    for (const [col, what] of [[4, 'depth'], [10, 'magnitude']] as const) {
      const f = SC.split('\n')[1].split('|');
      f[col] = '1e400';
      expect(() => parseEventText(SC.split('\n')[0] + '\n' + f.join('|'))).toThrow(`line 2: ${what} "1e400" is beyond the range of a double`);
    }
    expect(errors[0].lineText).toBe('bad|line');
    // 13-column rows under a 14-column header (and the reverse) are fine.
    const mixed = parseEventText(SC.split('\n')[0] + '\n3337497|2012-04-11T08:38:37|2.2376|93.0144|26.3|ISC||ISC||MW|8.6|GCMT|SUMATRA\n');
    expect(mixed[0].locationName).toBe('SUMATRA');
    const rev = parseEventText(EVENT_TEXT_HEADER_13 + '\n' + SC.split('\n')[1]);
    expect(rev[0].type).toBe('earthquake');
  });
});

describe('parseEventText: catalogue lists', () => {
  test('whitespace list `date time lat lon depth mag [magtype] [name]`', () => {
    const t = [
      '# my list',
      '2020-09-12 02:44:11.0 38.75 142.26 35 6.2',
      '2020/09/12 2:44:11.0 38.75 142.26 35 6.2 Mj Off Miyagi Pref',
      '2021-02-13T14:07:50.9Z  37.73  141.70  55  7.3  Mw',
    ].join('\n');
    const evs = parseEventText(t, { magType: 'M' });
    expect(evs).toHaveLength(3);
    expect(evs[0].preferredOrigin).toMatchObject({ timeNs: ns('2020-09-12T02:44:11'), lat: 38.75, lon: 142.26, depthKm: 35 });
    expect(evs[0].preferredMagnitude).toMatchObject({ value: 6.2, type: 'M' });
    expect(evs[1].preferredMagnitude!.type).toBe('Mj');
    expect(evs[1].locationName).toBe('Off Miyagi Pref');
    expect(evs[2].preferredOrigin!.timeNs).toBe(ns('2021-02-13T14:07:50.9'));
    // Ids from the time, unique within the input.
    expect(evs.map((e) => e.eventId)).toEqual(['20200912024411000', '20200912024411000_2', '20210213140750900']);
    expect(evs[0].publicId).toBe('smi:local/event/20200912024411000');
  });

  test('comma-separated list without header, and with a `date,time,lat,…` header', () => {
    const a = parseEventText('2020-09-12,02:44:11.0,38.75,142.26,35,6.2,Mw\n');
    expect(a[0].preferredOrigin).toMatchObject({ lat: 38.75, depthKm: 35 });
    expect(a[0].preferredMagnitude!.type).toBe('Mw');
    const b = parseEventText('date,time,lat,lon,depth,mag\n2020-09-12,02:44:11.0,38.75,142.26,35,6.2\n');
    expect(b[0].preferredOrigin!.timeNs).toBe(ns('2020-09-12T02:44:11'));
    const c = parseEventText('year mon day hour minu sec lat lon dep mag\n2023 5 6 19 55 1.3 10.194 124.830 10 0.2\n');
    expect(c[0].preferredOrigin).toMatchObject({ timeNs: ns('2023-05-06T19:55:01.3'), lat: 10.194, lon: 124.83 });
  });

  test('USGS ComCat CSV (quoted place with commas)', () => {
    const csv = [
      'time,latitude,longitude,depth,mag,magType,nst,gap,dmin,rms,net,id,updated,place,type,horizontalError,depthError,magError,magNst,status,locationSource,magSource',
      '2014-11-06T00:24:42.240Z,35.0476667,-117.6623333,0.01,1.54,ml,25,54,0.1164,0.14,ci,ci37285320,2014-11-06T22:02:47.340Z,"10km SW of Boron, CA",quarry blast,0.5,31.61,0.1,21,reviewed,ci,ci',
    ].join('\n');
    const [ev] = parseEventText(csv);
    expect(ev.eventId).toBe('ci37285320');
    expect(ev.preferredOrigin).toMatchObject({ timeNs: ns('2014-11-06T00:24:42.24'), lat: 35.0476667, lon: -117.6623333, depthKm: 0.01, author: 'ci' });
    expect(ev.preferredMagnitude).toMatchObject({ value: 1.54, type: 'ml', author: 'ci' });
    expect([ev.locationName, ev.type, ev.contributor]).toEqual(['10km SW of Boron, CA', 'quarry blast', 'ci']);
    expect(ev.updatedNs).toBe(ns('2014-11-06T22:02:47.34'));
  });

  test('malformed list lines carry their line number', () => {
    const t = '2020-09-12 02:44:11.0 38.75 142.26 35 6.2\nhello world\n2020-09-12 02:44:11.0 38.75 142.26\n';
    const errors: EventTextError[] = [];
    expect(parseEventText(t, { onError: (e) => errors.push(e) })).toHaveLength(1);
    expect(errors.map((e) => [e.line, e.message])).toEqual([
      [2, 'line 2: cannot read a date/time from "hello world"'],
      [3, 'line 3: expected latitude, longitude, depth and magnitude after the time, found 2 value(s)'],
    ]);
    expect(() => parseEventText(t)).toThrow(/^line 2:/);
  });
});

// A catalogue CSV whose depth column is in metres (depthm) is converted to km.
test('a CSV depth-in-metres column is converted to km', () => {
  const evs = parseEventText('time,latitude,longitude,depthm,mag\n2020-01-01T00:00:00Z,10,20,15000,5.0\n');
  expect(evs[0].preferredOrigin?.depthKm).toBe(15);
});
