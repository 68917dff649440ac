/** Generic parameter parsing (params.ts) and the FDSN error body (errors.ts), without HTTP. */
import { expandSelections, MAX_SELECTION_COMBINATIONS, parseCodeList, parsePostBody, parseQueryString } from '../../src/fdsnws/params';
import { FdsnError, formatFdsnErrorBody } from '../../src/fdsnws/errors';
import { DATASELECT_PARAMS } from '../../src/fdsnws/dataselect';
import { parseIsoToNs } from '../../src/formats/time';

const T = (s: string) => parseIsoToNs(s)!;

function err400(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FdsnError);
    expect((e as FdsnError).status).toBe(400);
    return (e as FdsnError).message;
  }
  throw new Error('expected a 400');
}

describe('parseCodeList', () => {
  test('lists, wildcards and blank location forms', () => {
    expect(parseCodeList('BHZ,LH*,B?E', 'channel')).toEqual(['BHZ', 'LH*', 'B?E']);
    expect(parseCodeList('--,00', 'location')).toEqual(['', '00']);
    expect(parseCodeList('  ', 'location')).toEqual(['']);
    expect(parseCodeList('', 'location')).toEqual(['']);
    expect(parseCodeList('00,,10', 'location')).toEqual(['00', '', '10']);
    expect(parseCodeList('IU,IU', 'network')).toEqual(['IU']);
  });
  test.each([
    ['network', 'I@'],
    ['network', ''],
    ['station', 'AN MO'],
    ['station', 'A,'],
    ['location', '-'],
    ['channel', 'BH[ZN]'],
  ] as const)('%s %j → 400', (kind, v) => {
    err400(() => parseCodeList(v, kind));
  });
});

describe('parseQueryString (dataselect table)', () => {
  test('defaults, aliases, case-insensitive names and values', () => {
    const p = parseQueryString(DATASELECT_PARAMS, 'NET=IU&sta=ANMO&loc=--&cha=BH%3F&start=2010-02-27T06%3A30%3A00.000000&end=2010-02-27T06:31:00Z&longestonly=True&quality=m');
    expect(p.bool('longestonly')).toBe(true);
    expect(p.string('quality')).toBe('M');
    expect(p.number('minimumlength')).toBe(0);
    expect(p.number('nodata')).toBe(204);
    expect(p.string('format')).toBe('miniseed');
    expect(p.has('format')).toBe(false);
    expect(p.selections).toEqual([
      { network: ['IU'], station: ['ANMO'], location: [''], channel: ['BH?'], startNs: T('2010-02-27T06:30:00'), endNs: T('2010-02-27T06:31:00') },
    ]);
  });
  test('absent codes mean any', () => {
    const p = parseQueryString(DATASELECT_PARAMS, 'start=2020-01-01&end=2020-01-02');
    expect(p.selections[0]).toMatchObject({ network: ['*'], station: ['*'], location: ['*'], channel: ['*'] });
  });
  test('start = end is allowed, end < start is not', () => {
    expect(parseQueryString(DATASELECT_PARAMS, 'start=2020-01-01&end=2020-01-01').selections).toHaveLength(1);
    expect(err400(() => parseQueryString(DATASELECT_PARAMS, 'start=2020-01-01T00:00:00.000001&end=2020-01-01'))).toMatch(/before/);
  });
  test.each([
    ['minimumlength=1.5', 1.5],
    ['minimumlength=.5', 0.5],
    ['minimumlength=2', 2],
    ['minimumlength=0.0', 0],
  ])('float %s', (qs, v) => {
    expect(parseQueryString(DATASELECT_PARAMS, `${qs}&start=2020-01-01&end=2020-01-02`).number('minimumlength')).toBe(v);
  });
  test.each(['minimumlength=1e1', 'minimumlength=abc', 'minimumlength=-0.1', 'minimumlength=', 'nodata=204.0', 'nodata=200', 'longestonly=1', 'format=mseed3', 'quality=', 'starttime=2020-02-30&end=2020-03-01', 'start=2020-01-01&starttime=2020-01-01', 'bogus=1'])(
    '%s → 400',
    (qs) => {
      const full = qs.includes('start') ? qs : `${qs}&start=2020-01-01&end=2020-01-02`;
      err400(() => parseQueryString(DATASELECT_PARAMS, full.includes('end=') ? full : `${full}&end=2020-03-02`));
    },
  );
});

describe('parsePostBody', () => {
  test('ObsPy bulk body', () => {
    const p = parsePostBody(
      DATASELECT_PARAMS,
      'quality=B\nminimumlength=0.0\nlongestonly=false\nIU ANMO -- BHZ 2010-02-27T06:30:00.000000 2010-02-27T06:30:01.000000\nIU ANMO 00,10 BH? 2010-02-27T06:30:00 2010-02-27T06:31:00\n',
    );
    expect(p.method).toBe('POST');
    expect(p.string('quality')).toBe('B');
    expect(p.bool('longestonly')).toBe(false);
    expect(p.selections).toHaveLength(2);
    expect(p.selections[0].location).toEqual(['']);
    expect(expandSelections(p.selections).map((s) => `${s.location}.${s.channel}`)).toEqual(['.BHZ', '00.BH?', '10.BH?']);
  });
  test('nodata in the body', () => {
    expect(parsePostBody(DATASELECT_PARAMS, 'nodata=404\nIU ANMO -- BHZ 2010-02-27 2010-02-28').number('nodata')).toBe(404);
  });
  test.each([
    ['', /no selection lines/],
    ['IU ANMO -- BHZ 2010-02-27', /6/],
    ['IU ANMO -- BHZ * *', /starttime/],
    ['starttime=2010-01-01\nIU ANMO -- BHZ 2010-02-27 2010-02-28', /selection lines/],
    ['IU ANMO -- BHZ 2010-02-27 2010-02-28\nquality=B', /before the selection lines/],
    ['quality=B\nquality=D\nIU ANMO -- BHZ 2010-02-27 2010-02-28', /Multiple/],
    ['IU ANMO -- BHZ 2010-02-28 2010-02-27', /line 1/],
  ])('%j → 400', (body, msg) => {
    expect(err400(() => parsePostBody(DATASELECT_PARAMS, body))).toMatch(msg);
  });
  test('tables with optional times accept 4 fields and *', () => {
    const table = { ...DATASELECT_PARAMS, postTimesRequired: false };
    const p = parsePostBody(table, 'IU ANMO * BHZ\nIU COLA * BHZ * 2020-01-01');
    expect(p.selections.map((s) => [s.startNs, s.endNs])).toEqual([
      [null, null],
      [null, T('2020-01-01')],
    ]);
  });
});

describe('selection size', () => {
  // FDSN web services 1.x, Table 1: 413 when "the request itself is too large".
  const codes = (n: number) => Array.from({ length: n }, (_, i) => `A${String.fromCharCode(65 + (i % 26))}${Math.floor(i / 26)}`).join(',');
  const status = (f: () => unknown) => {
    try {
      f();
      return 200;
    } catch (e) {
      return e instanceof FdsnError ? e.status : 500;
    }
  };
  test('code lists multiplying out to more than MAX_SELECTION_COMBINATIONS are refused with 413 before any work', () => {
    const k = codes(80); // 80^4 = 40 960 000 combinations from a 1 KB URI
    expect(status(() => parseQueryString(DATASELECT_PARAMS, `net=${k}&sta=${k}&loc=${k}&cha=${k}&start=2020-01-01&end=2020-01-02`))).toBe(413);
    expect(status(() => parsePostBody(DATASELECT_PARAMS, `${k} ${k} ${k} ${k} 2020-01-01 2020-01-02`))).toBe(413);
    // At the limit: 100 000 = 10 × 10 × 10 × 100 is accepted; many lines add up.
    expect(MAX_SELECTION_COMBINATIONS).toBe(100_000);
    expect(status(() => parseQueryString(DATASELECT_PARAMS, `net=${codes(10)}&sta=${codes(10)}&loc=${codes(10)}&cha=${codes(100)}&start=2020-01-01&end=2020-01-02`))).toBe(200);
    // Lines of one code per field are not counted (a mass downloader's POST, or availability's
    // format=request answer posted back); lines with lists add up.
    const line = 'IU ANMO 00 BHZ 2020-01-01 2020-01-02\n';
    expect(status(() => parsePostBody(DATASELECT_PARAMS, line.repeat(120_000)))).toBe(200);
    const listed = 'IU ANMO 00 BHZ,BHN 2020-01-01 2020-01-02\n';
    expect(status(() => parsePostBody(DATASELECT_PARAMS, listed.repeat(50_000)))).toBe(200);
    expect(status(() => parsePostBody(DATASELECT_PARAMS, line.repeat(10) + listed.repeat(50_001)))).toBe(413);
  });
});

describe('formatFdsnErrorBody', () => {
  test('exact layout of the spec', () => {
    const body = formatFdsnErrorBody({
      status: 400,
      detail: "Unrecognized query parameter: 'foo'.",
      docsUrl: 'http://h/fdsnws/dataselect/1/application.wadl',
      requestUrl: 'http://h/fdsnws/dataselect/1/query?foo=1',
      submitted: new Date('2024-08-29T08:40:05.123Z'),
      version: '1.1.0',
    });
    expect(body).toBe(
      "Error 400: Bad Request\n\nUnrecognized query parameter: 'foo'.\n\nUsage details are available from http://h/fdsnws/dataselect/1/application.wadl\n\nRequest:\nhttp://h/fdsnws/dataselect/1/query?foo=1\n\nRequest Submitted:\n2024-08-29T08:40:05.123Z\n\nService version:\n1.1.0\n",
    );
  });
});
