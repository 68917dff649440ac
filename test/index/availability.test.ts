/**
 * index/availability.ts: span computation from tsindex rows (no HTTP). Rows are written
 * directly into a temp index created by openIndexDb (the mseedindex DDL), so every case —
 * NULL quality, timerates, overlaps, sections without timespans, v3 time strings — is explicit.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { nsToIso, parseIsoToNs } from '../../src/formats/time';
import { computeAvailability, orderExtentRows, orderSpanLines, TooManySpansError, type AvailabilityOptions } from '../../src/index/availability';
import { qualityLabel } from '../../src/index/quality';
import { openIndexDb } from '../../src/index/db';
import { joinSpans } from '../../src/index/select';
import type { Selection, TsIndexRow } from '../../src/index/types';
import { describeShared, sharedPath } from '../helpers/sharedData';

const SEC = 1_000_000_000n;
const T0 = 1577836800n * SEC; // 2020-01-01
const at = (s: number) => T0 + BigInt(Math.round(s * 1e9));
const epoch = (s: number) => (1577836800 + s).toFixed(6);
const str = (s: number) => nsToIso(at(s), 'auto'); // mseedindex 3 style: no fraction when zero
const OPEN_START = -(2n ** 62n);
const OPEN_END = 2n ** 62n;

function row(over: Partial<TsIndexRow> & { spans?: Array<[number, number]>; startSec?: number; endSec?: number }): TsIndexRow {
  const { spans, startSec, endSec, ...rest } = over;
  const s = startSec ?? spans?.[0][0] ?? 0;
  const e = endSec ?? spans?.[spans.length - 1][1] ?? 100;
  return {
    network: 'XX',
    station: 'STA',
    location: '',
    channel: 'LHZ',
    quality: null,
    version: 1,
    starttime: str(s),
    endtime: str(e),
    samplerate: 1,
    filename: 'f.mseed',
    byteoffset: 0,
    bytes: 512,
    hash: null,
    timeindex: null,
    timespans: spans ? spans.map(([a, b]) => `[${epoch(a)}:${epoch(b)}]`).join(',') : null,
    timerates: null,
    format: null,
    filemodtime: '2021-01-01T00:00:00',
    updated: '2021-01-01T00:00:00',
    scanned: '2021-01-02T00:00:00',
    ...rest,
  };
}

const tmp: string[] = [];
afterAll(() => tmp.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function index(rows: TsIndexRow[]): Database.Database {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'avail-idx-'));
  tmp.push(dir);
  const db = openIndexDb(path.join(dir, 'ts.sqlite'));
  const cols = Object.keys(rows[0]);
  const ins = db.prepare(`INSERT INTO tsindex (${cols.join(',')}) VALUES (${cols.map((c) => '@' + c).join(',')})`);
  for (const r of rows) ins.run(r);
  return db;
}

const all = (start = OPEN_START, end = OPEN_END): Selection[] => [{ network: '*', station: '*', location: '*', channel: '*', startNs: start, endNs: end }];
const spansSec = (spans: Array<{ startNs: bigint; endNs: bigint }>) => spans.map((s) => [Number(s.startNs - T0) / 1e9, Number(s.endNs - T0) / 1e9]);
const Q: AvailabilityOptions = { mode: 'query' };

describe('qualityLabel', () => {
  test.each([
    [{ quality: 'M', version: null }, 'M'],
    [{ quality: 'Q', version: 2 }, 'Q'], // the row's own quality wins
    [{ quality: null, version: 1 }, 'R'],
    [{ quality: null, version: 2 }, 'D'],
    [{ quality: null, version: 3 }, 'Q'],
    [{ quality: null, version: 4 }, 'M'],
    [{ quality: null, version: 0 }, 'D'],
    [{ quality: null, version: 7 }, 'D'],
    [{ quality: null, version: null }, 'D'],
    [{ quality: '', version: 4 }, 'M'],
  ])('%j → %s', (r, want) => expect(qualityLabel(r.quality, r.version)).toBe(want));
});

describe('joinSpans (select.ts) contiguity rule', () => {
  const P = SEC; // 1 Hz
  const sp = (a: bigint, b: bigint) => ({ startNs: a, endNs: b, rate: 1 });
  test('next start within 1 period + ½ period of the last sample joins; 1 ns later does not', () => {
    expect(joinSpans([sp(0n, 10n * P), sp(11n * P + P / 2n, 20n * P)])).toHaveLength(1);
    expect(joinSpans([sp(0n, 10n * P), sp(11n * P + P / 2n + 1n, 20n * P)])).toHaveLength(2);
  });
  test('maxGapNs widens the rule: gap ≤ max(gap, period) + ½ period', () => {
    expect(joinSpans([sp(0n, 10n * P), sp(15n * P, 20n * P)], { maxGapNs: 5n * P })).toHaveLength(1);
    expect(joinSpans([sp(0n, 10n * P), sp(16n * P, 20n * P)], { maxGapNs: 5n * P })).toHaveLength(2);
    // A gap smaller than one period never weakens the one-period rule.
    expect(joinSpans([sp(0n, 10n * P), sp(11n * P, 20n * P)], { maxGapNs: 1n })).toHaveLength(1);
  });
  test('keepOverlaps: an overlapping piece stays separate, and the data after it still continues the long span', () => {
    const out = joinSpans([sp(0n, 100n * P), sp(50n * P, 60n * P), sp(101n * P, 200n * P)], { keepOverlaps: true });
    expect(out.map((s) => [s.startNs / P, s.endNs / P])).toEqual([
      [0n, 200n],
      [50n, 60n],
    ]);
    expect(joinSpans([sp(0n, 100n * P), sp(50n * P, 60n * P), sp(101n * P, 200n * P)]).map((s) => [s.startNs / P, s.endNs / P])).toEqual([[0n, 200n]]);
  });
  test('input order does not matter', () => {
    expect(joinSpans([sp(11n * P, 20n * P), sp(0n, 10n * P)])).toEqual([sp(0n, 20n * P)]);
  });
});

describe('computeAvailability', () => {
  test('spans of adjacent sections (two files) join; gaps inside timespans stay', () => {
    const db = index([
      row({ filename: 'a', spans: [[0, 99], [200, 299]] }),
      row({ filename: 'b', spans: [[300, 399]] }), // starts one period after 299
      row({ filename: 'c', spans: [[401, 499]] }), // 2 s after 399 → gap
    ]);
    const rows = computeAvailability(db, all(), Q);
    expect(rows).toHaveLength(1);
    expect(rows[0].quality).toBe('R');
    expect(rows[0].sampleRate).toBe(1);
    expect(spansSec(rows[0].spans)).toEqual([[0, 99], [200, 399], [401, 499]]);
    expect(spansSec(computeAvailability(db, all(), { mode: 'query', mergeGapsSec: 2 }).at(0)!.spans)).toEqual([[0, 99], [200, 499]]);
    // extent: earliest/latest/count
    const e = computeAvailability(db, all(), { mode: 'extent' })[0];
    expect([e.earliestNs, e.latestNs, e.spans.length]).toEqual([at(0), at(499), 3]);
  });

  test('a section without timespans counts as one span from starttime to endtime', () => {
    const db = index([row({ startSec: 10, endSec: 20 })]);
    expect(spansSec(computeAvailability(db, all(), Q)[0].spans)).toEqual([[10, 20]]);
  });

  test('timerates split a section into rows by rate; merge=samplerate joins them', () => {
    const db = index([row({ samplerate: 1, spans: [[0, 99], [100, 199.5]], timerates: '1,2' })]);
    const rows = computeAvailability(db, all(), Q);
    expect(rows.map((r) => [r.sampleRate, spansSec(r.spans)])).toEqual([
      [1, [[0, 99]]],
      [2, [[100, 199.5]]],
    ]);
    const merged = computeAvailability(db, all(), { mode: 'query', mergeSampleRate: true });
    expect(merged.map((r) => [r.sampleRate, spansSec(r.spans)])).toEqual([[null, [[0, 199.5]]]]);
  });

  test('rows by quality label; merge=quality; overlap kept apart unless merge=overlap', () => {
    const db = index([
      row({ filename: 'r', version: 1, spans: [[0, 100]] }),
      row({ filename: 'm', version: 4, spans: [[50, 150]] }),
    ]);
    expect(computeAvailability(db, all(), Q).map((r) => [r.quality, spansSec(r.spans)])).toEqual([
      ['R', [[0, 100]]],
      ['M', [[50, 150]]],
    ]);
    expect(computeAvailability(db, all(), { mode: 'query', mergeQuality: true }).map((r) => [r.quality, spansSec(r.spans)])).toEqual([
      [null, [[0, 100], [50, 150]]],
    ]);
    expect(computeAvailability(db, all(), { mode: 'query', mergeQuality: true, mergeOverlap: true }).map((r) => spansSec(r.spans))).toEqual([[[0, 150]]]);
    // extent always joins overlaps
    expect(computeAvailability(db, all(), { mode: 'extent', mergeQuality: true })[0].spans).toHaveLength(1);
    // quality filter on the label
    expect(computeAvailability(db, all(), { mode: 'query', qualities: ['M'] }).map((r) => r.quality)).toEqual(['M']);
    expect(computeAvailability(db, all(), { mode: 'query', qualities: ['D'] })).toEqual([]);
    expect(computeAvailability(db, all(), { mode: 'query', qualities: ['*'] })).toHaveLength(2);
  });

  test('truncation to the windows; overlapping and touching windows of one channel do not cut spans', () => {
    const db = index([row({ spans: [[0, 1000]] })]);
    const sel = (a: bigint, b: bigint): Selection => ({ network: 'XX', station: 'STA', location: '', channel: 'LHZ', startNs: a, endNs: b });
    expect(spansSec(computeAvailability(db, [sel(at(100), at(200)), sel(at(500), at(600))], Q)[0].spans)).toEqual([[100, 200], [500, 600]]);
    expect(spansSec(computeAvailability(db, [sel(at(100), at(200)), sel(at(150), at(300))], Q)[0].spans)).toEqual([[100, 300]]);
    expect(spansSec(computeAvailability(db, [sel(at(100), at(200)), sel(at(200) + 1n, at(300))], Q)[0].spans)).toEqual([[100, 300]]);
    // A window inside a gap of the section's timespans → no row at all.
    const gap = index([row({ spans: [[0, 10], [100, 110]] })]);
    expect(computeAvailability(gap, [sel(at(20), at(90))], Q)).toEqual([]);
  });

  test('updated = latest of the contributing sections; unparseable updated falls back to scanned', () => {
    const db = index([
      row({ filename: 'a', spans: [[0, 99]], updated: '2021-05-01T00:00:00' }),
      row({ filename: 'b', spans: [[100, 199]], updated: '2021-03-01T00:00:00' }),
      row({ filename: 'c', spans: [[500, 599]], updated: 'garbage', scanned: '2021-02-02T00:00:00' }),
    ]);
    const r = computeAvailability(db, all(), Q)[0];
    expect(r.spans.map((s) => nsToIso(s.updatedNs, 0))).toEqual(['2021-05-01T00:00:00', '2021-02-02T00:00:00']);
    expect(nsToIso(r.updatedNs, 0)).toBe('2021-05-01T00:00:00');
  });

  test('variable-precision time strings (mseedindex 3) and blank/odd codes are handled', () => {
    const db = index([row({ starttime: '2020-01-01T00:00:00', endtime: '2020-01-01T00:01:39.000000000', spans: [[0, 99]] })]);
    const r = computeAvailability(db, all(at(99), at(99)), Q);
    expect(spansSec(r[0].spans)).toEqual([[99, 99]]);
  });

  test('maxSpans → TooManySpansError', () => {
    const db = index([row({ spans: [[0, 1], [10, 11], [20, 21]] })]);
    expect(() => computeAvailability(db, all(), { mode: 'query', maxSpans: 2 })).toThrow(TooManySpansError);
    expect(computeAvailability(db, all(), { mode: 'query', maxSpans: 3 })[0].spans).toHaveLength(3);
  });

  test('ordering: lines by nslc/time/quality/rate; latestupdate; extent by timespancount', () => {
    const db = index([
      row({ station: 'B', filename: 'b', spans: [[0, 10]], updated: '2021-01-03T00:00:00' }),
      row({ station: 'A', filename: 'a1', version: 4, spans: [[5, 10]], updated: '2021-01-01T00:00:00' }),
      row({ station: 'A', filename: 'a2', version: 2, spans: [[0, 3], [20, 30]], updated: '2021-01-02T00:00:00' }),
    ]);
    const rows = computeAvailability(db, all(), Q);
    const lines = (o?: Parameters<typeof orderSpanLines>[1]) => orderSpanLines(rows, o).map((l) => `${l.row.station}${l.row.quality}${Number(l.span.startNs - T0) / 1e9}`);
    expect(lines()).toEqual(['AD0', 'AM5', 'AD20', 'BR0']);
    expect(lines('latestupdate')).toEqual(['AM5', 'AD0', 'AD20', 'BR0']);
    expect(lines('latestupdate_desc')).toEqual(['BR0', 'AD0', 'AD20', 'AM5']);
    const ext = computeAvailability(db, all(), { mode: 'extent' });
    expect(orderExtentRows(ext, 'timespancount_desc').map((r) => r.station + r.quality)).toEqual(['AD', 'AM', 'BR']);
    expect(orderExtentRows(ext, 'timespancount').map((r) => r.station + r.quality)).toEqual(['AM', 'BR', 'AD']);
  });
});

describeShared('computeAvailability on the EarthScope mseedindex sample', () => {
  test('one span per row equal to the row times; windows truncate', () => {
    const db = new Database(sharedPath('tsindex', 'tsindex_data', 'timeseries.sqlite'), { readonly: true, fileMustExist: true });
    try {
      const truth = db.prepare('SELECT network, station, location, channel, quality, samplerate, starttime, endtime FROM tsindex ORDER BY network, station').all() as TsIndexRow[];
      const rows = computeAvailability(db, all(), Q);
      expect(rows.map((r) => [r.network, r.station, r.location, r.channel, r.quality, r.sampleRate, r.spans.length, r.earliestNs, r.latestNs])).toEqual(
        truth.map((t) => [t.network, t.station, t.location, t.channel, t.quality, t.samplerate, 1, parseIsoToNs(t.starttime), parseIsoToNs(t.endtime)]),
      );
      const w = computeAvailability(db, all(parseIsoToNs('2018-01-01T00:00:30')!, parseIsoToNs('2018-01-02')!), { mode: 'extent' });
      expect(w.map((r) => nsToIso(r.earliestNs, 6))).toEqual(['2018-01-01T00:00:30.000000', '2018-01-01T00:00:30.000000', '2018-01-01T00:00:30.000000']);
    } finally {
      db.close();
    }
  });
});
