import { buildSections, qualityToPubVersion, SpanList, type SectionRecord } from '../../src/index/sections';
import {
  encodeTimeIndex,
  formatFixed6,
  formatG6,
  formatSecondsTime,
  formatSectionTime,
  parseTimeIndex,
  parseTimeRates,
  parseTimeSpans,
  parseTsTime,
  roundRate6,
} from '../../src/index/tsindexText';

const S = 1_000_000_000n;
const T0 = 1514764800n * S; // 2018-01-01T00:00:00

/** A synthetic record header: `n` samples at `rate` Hz starting `startSec` after T0. */
function rec(
  offset: number,
  startSec: number,
  n: number,
  rate = 1,
  extra: Partial<SectionRecord> = {},
): SectionRecord {
  const startNs = T0 + BigInt(Math.round(startSec * 1e9));
  const endNs = rate > 0 && n > 1 ? startNs + BigInt(Math.round(((n - 1) / rate) * 1e9)) : startNs;
  return {
    formatVersion: 3,
    network: 'XX',
    station: 'STA',
    location: '',
    channel: 'BHZ',
    quality: null,
    pubVersion: 1,
    startNs,
    endNs,
    sampleRate: rate,
    sampleCount: n,
    recordLength: 512,
    offset,
    ...extra,
  };
}

describe('tsindex text encodings', () => {
  test('%.6f like C, including exact half-microsecond ties (round half to even)', () => {
    expect(formatFixed6(1514764800.0195)).toBe('1514764800.019500');
    expect(formatFixed6(1514764859.994536)).toBe('1514764859.994536');
    expect(formatFixed6(0)).toBe('0.000000');
    // 1514764800 + 1/128: exact tie at the 7th decimal (…0078125): glibc gives …007812.
    expect(formatFixed6(1514764800 + 1 / 128)).toBe('1514764800.007812');
    expect(formatFixed6(1514764800 + 3 / 128)).toBe('1514764800.023438'); // …0234375 -> even 8
    expect(formatFixed6(-1.5)).toBe('-1.500000');
  });

  test('%.6g like C', () => {
    expect(formatG6(40)).toBe('40');
    expect(formatG6(0.1)).toBe('0.1');
    expect(formatG6(1e-5)).toBe('1e-05');
    expect(formatG6(0.0001)).toBe('0.0001');
    expect(formatG6(123456.7)).toBe('123457');
    expect(formatG6(1234567)).toBe('1.23457e+06');
    expect(formatG6(20.000001)).toBe('20');
    expect(formatG6(0)).toBe('0');
    expect(roundRate6(1 / 3)).toBe(0.333333);
  });

  test('time strings: v3 precision rules, v2-era micro style, seconds-only', () => {
    expect(formatSectionTime(T0)).toBe('2018-01-01T00:00:00');
    expect(formatSectionTime(T0 + 19_500_000n)).toBe('2018-01-01T00:00:00.019500');
    expect(formatSectionTime(T0 + 19_500_001n)).toBe('2018-01-01T00:00:00.019500001');
    expect(formatSectionTime(T0, 'micro')).toBe('2018-01-01T00:00:00.000000');
    expect(formatSecondsTime(1535133099.9)).toBe('2018-08-24T17:51:39');
    expect(parseTsTime('2018-01-01T00:00:00')).toBe(T0);
    expect(parseTsTime('2018-01-01T00:00:00.019500001')).toBe(T0 + 19_500_001n);
  });

  test('parsers invert the encoders', () => {
    const ti = encodeTimeIndex(
      [
        { ns: T0, offset: 0 },
        { ns: T0 + 3600n * S, offset: 4096 },
      ],
      true,
    );
    expect(ti).toBe('1514764800.000000=>0,1514768400.000000=>4096,latest=>1');
    expect(parseTimeIndex(ti)).toEqual({
      entries: [
        { epoch: 1514764800, offset: 0 },
        { epoch: 1514768400, offset: 4096 },
      ],
      latest: true,
    });
    expect(parseTimeIndex(null)).toBeNull();
    expect(parseTimeSpans('[1.5:2.5],[3.000000:4.000000]')).toEqual([
      [1.5, 2.5],
      [3, 4],
    ]);
    expect(parseTimeRates('40,20')).toEqual([40, 20]);
  });
});

describe('section building (mseedindex 3 rules)', () => {
  test('adjacent same-NSLC records form one section; row fields', () => {
    const hashes: [number, number][] = [];
    const secs = buildSections([rec(0, 0, 100), rec(512, 100, 100), rec(1024, 200, 50)], {
      hashRange: (a, b) => {
        hashes.push([a, b]);
        return 'h';
      },
    });
    expect(secs).toHaveLength(1);
    const s = secs[0];
    expect(s.byteoffset).toBe(0);
    expect(s.bytes).toBe(1536);
    expect(s.startNs).toBe(T0);
    expect(s.endNs).toBe(T0 + 249n * S); // last sample, not end of last period
    expect(s.samplerate).toBe(1);
    expect(s.version).toBe(1);
    expect(s.quality).toBeNull();
    expect(s.timeindex).toBe('1514764800.000000=>0,latest=>1');
    expect(s.timespans).toBe('[1514764800.000000:1514765049.000000]');
    expect(s.timerates).toBeNull();
    expect(s.records).toBe(3);
    expect(s.samples).toBe(250);
    expect(hashes).toEqual([[0, 1536]]);
  });

  test('a gap in the file, another channel, or another version starts a new section', () => {
    const secs = buildSections([
      rec(0, 0, 100),
      rec(1024, 100, 100), // not adjacent (512..1024 missing)
      rec(1536, 200, 100, 1, { channel: 'BHN' }),
      rec(2048, 200, 100, 1, { channel: 'BHZ' }), // interleaving: new section again
      rec(2560, 300, 100, 1, { pubVersion: 2 }),
    ]);
    expect(secs.map((s) => [s.channel, s.byteoffset, s.bytes, s.version])).toEqual([
      ['BHZ', 0, 512, 1],
      ['BHZ', 1024, 512, 1],
      ['BHN', 1536, 512, 1],
      ['BHZ', 2048, 512, 1],
      ['BHZ', 2560, 512, 2],
    ]);
  });

  test('v2: quality kept, version mapped as libmseed 3 (R1 D2 Q3 M4), quality change splits', () => {
    const v2 = (o: number, t: number, q: string) => rec(o, t, 100, 1, { formatVersion: 2, quality: q, pubVersion: null });
    const secs = buildSections([v2(0, 0, 'D'), v2(512, 100, 'D'), v2(1024, 200, 'M')]);
    expect(secs.map((s) => [s.quality, s.version, s.records])).toEqual([
      ['D', 2, 2],
      ['M', 4, 1],
    ]);
    expect(['R', 'D', 'Q', 'M', 'X'].map((q) => qualityToPubVersion(q))).toEqual([1, 2, 3, 4, 0]);
  });

  test('timeindex: an entry each time a record crosses the next sub-index boundary', () => {
    // 600-s records: boundaries every 1000 s from the first record's start.
    const recs = Array.from({ length: 6 }, (_, i) => rec(i * 512, i * 600, 600));
    const [s] = buildSections(recs, { subIndexSeconds: 1000 });
    // rec0 ends 599 -> next=1000; rec1 [600,1199] crosses -> entry, next=2000; rec2 [1200,1799] no;
    // rec3 [1800,2399] crosses -> entry, next=3000; rec4 [2400,2999] no (end not > 3000); rec5 crosses.
    expect(s.timeindex).toBe(
      '1514764800.000000=>0,1514765400.000000=>512,1514766600.000000=>1536,1514767800.000000=>2560,latest=>1',
    );
  });

  test('out-of-order records: latest=>0; NULL when the earliest data is not first', () => {
    const inOrderFirst = buildSections([rec(0, 0, 100), rec(512, 500, 100), rec(1024, 200, 100)])[0];
    expect(inOrderFirst.timeindex).toBe('1514764800.000000=>0,latest=>0');
    const earliestLater = buildSections([rec(0, 500, 100), rec(512, 0, 100)])[0];
    expect(earliestLater.timeindex).toBeNull();
    expect(earliestLater.startNs).toBe(T0);
    expect(earliestLater.endNs).toBe(T0 + 599n * S);
    expect(earliestLater.timespans).toBe('[1514764800.000000:1514764899.000000],[1514765300.000000:1514765399.000000]');
  });

  test('timespans: gaps beyond half a sample split spans; tolerance within', () => {
    const secs = buildSections([
      rec(0, 0, 10, 10), // 0 .. 0.9
      rec(512, 1.04, 10, 10), // 0.04 s late: within 0.05 tolerance
      rec(1024, 2.5, 10, 10), // gap
    ]);
    expect(secs[0].timespans).toBe('[1514764800.000000:1514764801.940000],[1514764802.500000:1514764803.400000]');
  });

  test('rate change inside a section: one row, timerates per span', () => {
    const secs = buildSections([rec(0, 0, 100, 1), rec(512, 100, 100, 1), rec(1024, 200, 100, 2)]);
    expect(secs).toHaveLength(1);
    expect(secs[0].samplerate).toBe(1);
    expect(secs[0].timespans).toBe('[1514764800.000000:1514764999.000000],[1514765000.000000:1514765049.500000]');
    expect(secs[0].timerates).toBe('1,2');
  });

  test('zero-rate records are not spans', () => {
    const secs = buildSections([rec(0, 0, 0, 0), rec(512, 10, 0, 0)]);
    expect(secs).toHaveLength(1);
    expect(secs[0].timespans).toBeNull();
    expect(secs[0].timerates).toBeNull();
  });

  test('span list heals a gap filled later and keeps time order', () => {
    const l = new SpanList();
    const at = (sec: number) => T0 + BigInt(sec) * S;
    l.add(at(0), at(9), 1);
    l.add(at(20), at(29), 1);
    l.add(at(40), at(49), 1);
    l.add(at(10), at(19), 1); // joins first and second
    expect(l.spans().map((s) => [Number((s.startNs - T0) / S), Number((s.endNs - T0) / S)])).toEqual([
      [0, 29],
      [40, 49],
    ]);
    l.add(at(60), at(69), 1);
    l.add(at(35), at(36), 1); // new segment in the middle
    expect(l.spans().map((s) => Number((s.startNs - T0) / S))).toEqual([0, 35, 40, 60]);
  });
});
