/**
 * No real Kakioka AEF file is public (PROVENANCE.md), so fixtures are generated exactly to the
 * documented layout (docs/data-formats.md §2.3 recipe) and checked byte by byte.
 */
import { parseAefFileName, readAef, writeAef } from '../../src/formats/aef';
import { readIaga2002, SENTINEL_MISSING, SENTINEL_NONE, SENTINEL_NOT_RECORDED } from '../../src/formats/iaga2002';

const DAY = Date.UTC(2020, 0, 1);

/** Recipe: Z = 120 + 40·sin(2π(t−6 h)/24 h) V/m, a negative excursion, a few gaps. */
function dailyPg(): { times: Float64Array; pg: Float64Array } {
  const times = Float64Array.from({ length: 1440 }, (_, i) => DAY + i * 60_000);
  const pg = Float64Array.from({ length: 1440 }, (_, i) => {
    if (i >= 600 && i < 630) return -350 + i / 10; // thunder cloud: strongly negative, real data
    if (i === 100 || i === 101 || i === 1439) return NaN;
    return Math.round((120 + 40 * Math.sin((2 * Math.PI * (i / 60 - 6)) / 24)) * 100) / 100;
  });
  return { times, pg };
}

describe('parseAefFileName', () => {
  it('daily minute, monthly hourly and range names', () => {
    expect(parseAefFileName('kak20200101daef.min')).toEqual({ station: 'KAK', start: DAY, end: DAY + 86_400_000, cadence: 'PT1M', dataType: 'd' });
    expect(parseAefFileName('/data/aef/kak202002daef.hor')).toEqual({ station: 'KAK', start: Date.UTC(2020, 1, 1), end: Date.UTC(2020, 2, 1), cadence: 'PT1H', dataType: 'd' });
    expect(parseAefFileName('kak202001-202010daef.hor')).toEqual({ station: 'KAK', start: DAY, end: Date.UTC(2020, 10, 1), cadence: 'PT1H', dataType: 'd' });
    expect(parseAefFileName('KAK20201231DAEF.MIN')?.end).toBe(Date.UTC(2021, 0, 1));
  });

  it('rejects other names and impossible dates', () => {
    for (const n of ['kak20200101dmin.min', 'kak20200230daef.min', 'kak202013daef.hor', 'kak202010-202001daef.hor', 'kak20200101daef.sec', 'kak20200101-202002daef.min']) {
      expect(parseAefFileName(n)).toBeNull();
    }
  });
});

describe('Kakioka AEF files written to the documented layout', () => {
  const { times, pg } = dailyPg();
  const file = writeAef(times, pg);
  const text = file.toString('latin1');

  it('every record is 70 characters; X/Y/F are 88888.00, gaps 99999.00, Z is PG', () => {
    const lines = text.split('\n');
    expect(lines.pop()).toBe('');
    for (const l of lines) expect(l).toHaveLength(70);
    expect(lines).toContain(' IAGA CODE              KAK                                          |');
    expect(lines).toContain(' Geodetic Latitude      36.232                                       |');
    expect(lines).toContain(' Reported               XYZF                                         |');
    expect(lines.some((l) => /^ #.*X, Y and F are dummies/.test(l))).toBe(true);
    const d = lines.findIndex((l) => l.startsWith('DATE'));
    expect(lines[d]).toBe('DATE       TIME         DOY     KAKX      KAKY      KAKZ      KAKF   |');
    expect(lines.length - d - 1).toBe(1440);
    expect(lines[d + 1]).toBe(`2020-01-01 00:00:00.000 001     88888.00  88888.00  ${pg[0].toFixed(2).padStart(8)}  88888.00`);
    expect(lines[d + 102]).toBe('2020-01-01 01:41:00.000 001     88888.00  88888.00  99999.00  88888.00');
    expect(lines[d + 601]).toBe('2020-01-01 10:00:00.000 001     88888.00  88888.00   -290.00  88888.00');
  });

  it('readAef keeps Z as PG (negatives included), gaps as NaN + missing flag', () => {
    const a = readAef(file, 'kak20200101daef.min');
    expect(a.station).toBe('KAK');
    expect(a.cadence).toEqual({ iso: 'PT1M', ms: 60_000, source: 'timestamps', stampOffsetMs: 0 });
    expect(a.fileName?.cadence).toBe('PT1M');
    expect(a.dummiesAreFill).toBe(true);
    expect(a.warnings).toEqual([]);
    expect(Array.from(a.times)).toEqual(Array.from(times));
    expect(Array.from(a.pg)).toEqual(Array.from(pg));
    expect(a.pg[600]).toBe(-290);
    expect(Math.min(...Array.from(a.pg).filter((v) => !Number.isNaN(v)))).toBeLessThan(0);
    expect([a.sentinel[100], a.sentinel[101], a.sentinel[1439], a.sentinel[0]]).toEqual([SENTINEL_MISSING, SENTINEL_MISSING, SENTINEL_MISSING, SENTINEL_NONE]);
    expect(a.header.latitude).toBe(36.232);
    expect(a.header.longitude).toBe(140.186);
    expect(a.header.elevation).toBe(36);
    // The generic reader sees the dummies as "not recorded".
    const g = readIaga2002(file);
    expect(g.columns[0].sentinel.every((s) => s === SENTINEL_NOT_RECORDED)).toBe(true);
  });

  it('99999.90 gaps (predecessor fixture form) and the predecessor sample row are read', () => {
    const lines = text.split('\n');
    const d = lines.findIndex((l) => l.startsWith('DATE'));
    // Row 1 as 99999.90 (still 70 characters) and row 2 as the predecessor's hand-written row.
    lines[d + 2] = lines[d + 2].slice(0, 50) + '  99999.90' + lines[d + 2].slice(60);
    lines[d + 3] = '2020-01-01 00:02:00.000 001     88888.00  88888.00  62.70     88888.00';
    const a = readAef(Buffer.from(lines.join('\r\n'), 'latin1'), 'kak20200101daef.min');
    expect(a.pg[1]).toBeNaN();
    expect(a.sentinel[1]).toBe(SENTINEL_MISSING);
    expect(a.pg[2]).toBe(62.7);
    expect(a.pg[3]).toBe(pg[3]);
  });

  it('monthly hourly file (24 × 31 rows) stamped at hh:30, named kak202001daef.hor', () => {
    const n = 24 * 31;
    const ht = Float64Array.from({ length: n }, (_, i) => DAY + i * 3_600_000 + 1_800_000);
    const hp = Float64Array.from({ length: n }, (_, i) => Math.round((150 + 30 * Math.cos(i / 4)) * 10) / 10);
    const buf = writeAef(ht, hp);
    const a = readAef(buf, 'kak202001daef.hor');
    expect(a.times.length).toBe(n);
    expect(a.cadence).toEqual({ iso: 'PT1H', ms: 3_600_000, source: 'timestamps', stampOffsetMs: 1_800_000 });
    expect(Array.from(a.pg)).toEqual(Array.from(hp));
    expect(a.header.intervalType).toBe('1-hour');
    expect(a.times[n - 1]).toBeLessThan(a.fileName!.end);
    expect(a.warnings).toEqual([]);
  });

  it('warns (does not fail) on a cadence/name mismatch, real X values or a foreign name; needs a Z column', () => {
    const a = readAef(file, 'kak202001daef.hor');
    expect(a.warnings.join('\n')).toMatch(/time steps say PT1M, file name says PT1H/);
    expect(readAef(file, 'whatever.txt').warnings.join('\n')).toMatch(/not an AEF name/);
    const geomag = text.replace('001     88888.00', '001     30000.00'); // first data row's X
    expect(readAef(geomag).dummiesAreFill).toBe(false);
    const noZ = text.replace('KAKZ', 'KAKW').replace(' Reported               XYZF', ' Reported               XYWF');
    expect(() => readAef(noZ)).toThrow(/no Z column/);
  });
});
