/**
 * CDF writer: round trips through our reader, structural invariants (the same record walk the
 * reader tests apply to the real sample files), and real file → re-write → same values.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { checkStructure, CdfType, openCdf, toEpochMs, unixMsToTt2000, writeCdf } from '../../src/formats/cdf';
import { describeShared, sharedPath } from '../helpers/sharedData';

describe('CDF writer', () => {
  const times = Array.from({ length: 25 }, (_, i) => Date.UTC(2020, 6, 7, 12) + i * 409.6);
  const spec = (littleEndian: boolean, compress: 'none' | 'gzip') =>
    writeCdf({
      littleEndian,
      maxVxrEntries: 2,
      globalAttributes: { Project: 'test', TEXT: ['line one', 'line two'], Numbers: [1.5, 2.5] },
      variables: [
        { name: 'epoch', type: CdfType.TIME_TT2000, values: BigInt64Array.from(times, unixMsToTt2000), blockRecords: 7, attrs: { FILLVAL: -9223372036854775808n, CATDESC: 'time' } },
        { name: 'freq', type: CdfType.REAL4, dims: [4], recVary: false, values: new Float32Array([10, 20, 30, 40]), attrs: { UNITS: 'Hz' } },
        {
          name: 'spec', type: CdfType.REAL4, dims: [4], values: Float32Array.from({ length: 100 }, (_, i) => i / 4), compress, blockRecords: 6,
          attrs: { FILLVAL: -1e31, UNITS: 'V^2/Hz', DEPEND_0: 'epoch', DEPEND_1: 'freq' },
        },
        { name: 'count', type: CdfType.INT4, dims: [2, 3], values: Int32Array.from({ length: 150 }, (_, i) => i - 7) },
        { name: 'd', type: CdfType.REAL8, values: [Math.PI, -1, 1e300] },
        { name: 'label', type: CdfType.CHAR, dims: [3], recVary: false, values: ['B_R', 'B_T', 'Bé'] },
        { name: 'empty', type: CdfType.REAL8, dims: [2], values: [] },
      ],
    });

  test.each([
    [true, 'none'],
    [false, 'none'],
    [true, 'gzip'],
    [false, 'gzip'],
  ] as const)('round trip littleEndian=%s compress=%s', (le, compress) => {
    const buf = spec(le, compress);
    expect(checkStructure(buf).map((r) => r.type).slice(0, 2)).toEqual([1, 2]);
    const cdf = openCdf(buf);
    expect(cdf.version).toEqual([3, 9, 0]);
    expect(cdf.littleEndian).toBe(le);
    expect(cdf.rowMajor).toBe(true);
    const t = toEpochMs(cdf.readVariable('epoch').values as BigInt64Array, CdfType.TIME_TT2000);
    t.forEach((x, i) => expect(x).toBeCloseTo(times[i], 6));
    expect(cdf.blocks('epoch')).toHaveLength(4); // 25 records / 7 per block, VXRs of 2 entries chained
    expect(cdf.variable('freq').recVary).toBe(false);
    expect(Array.from(cdf.readVariable('freq').values as Float32Array)).toEqual([10, 20, 30, 40]);
    const s = cdf.readVariable('spec');
    expect(s.shape).toEqual([25, 4]);
    expect(Array.from(s.values as Float32Array)).toEqual(Array.from({ length: 100 }, (_, i) => i / 4));
    expect(cdf.variable('spec').compression).toBe(compress === 'gzip' ? 5 : 0);
    const c = cdf.readVariable('count', { recStart: 10, recCount: 5 });
    expect(c.shape).toEqual([5, 2, 3]);
    expect(Array.from(c.values as Int32Array)).toEqual(Array.from({ length: 30 }, (_, i) => 60 + i - 7));
    expect(Array.from(cdf.readVariable('d').values as Float64Array)).toEqual([Math.PI, -1, 1e300]);
    expect(cdf.readVariable('label').values).toEqual(['B_R', 'B_T', 'Bé']);
    expect(cdf.variable('empty').numRecords).toBe(0);
    expect(cdf.globalAttr('TEXT')).toEqual(['line one', 'line two']);
    expect(cdf.globalAttr('Numbers')).toEqual([[1.5, 2.5]]);
    const a = cdf.variable('spec').attrs;
    expect(a.FILLVAL.type).toBe(CdfType.REAL4);
    expect(a.FILLVAL.value).toEqual([Math.fround(-1e31)]);
    expect(a.UNITS.value).toBe('V^2/Hz');
    expect(a.DEPEND_1.value).toBe('freq');
    expect(cdf.variable('epoch').attrs.FILLVAL).toEqual({ num: 0, type: CdfType.TIME_TT2000, value: [-9223372036854775808n] });
  });

  test('rejects inconsistent input with INVALID_ARGUMENT', () => {
    expect(() => writeCdf({ variables: [{ name: 'x', type: CdfType.REAL4, dims: [3], values: [1, 2] }] })).toThrow(/invalid_argument/);
    expect(() => writeCdf({ variables: [{ name: 'x', type: CdfType.REAL4, recVary: false, values: [1, 2] }] })).toThrow(/invalid_argument/);
    expect(() => writeCdf({ variables: [{ name: 'x', type: CdfType.INT4, values: [1] }, { name: 'x', type: CdfType.INT4, values: [1] }] })).toThrow(/duplicate/);
  });
});

describeShared('CDF writer: real files re-written give the same values', () => {
  test.each(['CDFpp__a_cdf.cdf', 'CommonDataFormat.jl__elb_l2_epdef_20210914_v01.cdf', 'cdflib__psp_fld_l2_mag_rtn_1min_20200104_v02.cdf'])('%s', (name) => {
    const src = openCdf(fs.readFileSync(sharedPath('cdf', name)));
    const writable = new Set<number>([CdfType.TIME_TT2000, CdfType.REAL4, CdfType.REAL8, CdfType.DOUBLE, CdfType.FLOAT, CdfType.INT4, CdfType.CHAR, CdfType.INT1, CdfType.BYTE, CdfType.UINT4, CdfType.EPOCH]);
    const vars = src.variables.filter((v) => writable.has(v.type) && v.dimVarys.every(Boolean));
    for (const le of [true, false]) {
      const out = writeCdf({
        littleEndian: le,
        variables: vars.map((v) => ({
          name: v.name, type: v.type, dims: v.dims, recVary: v.recVary, numElems: v.numElems,
          values: src.readVariable(v.name).values as Float32Array, compress: v.compression ? 'gzip' : 'none', blockRecords: 50,
          attrs: Object.fromEntries(Object.entries(v.attrs).map(([k, e]) => [k, typeof e.value === 'string' ? e.value : { type: e.type, value: e.value }])),
        })),
        globalAttributes: Object.fromEntries(Object.entries(src.globalAttributes).map(([k, es]) => [k, es.map((e) => (typeof e.value === 'string' ? e.value : { type: e.type, value: e.value }))])),
      });
      checkStructure(out);
      const back = openCdf(out);
      for (const v of vars) {
        const a = src.readVariable(v.name);
        const b = back.readVariable(v.name);
        expect(b.shape).toEqual(a.shape);
        expect(Array.from(b.values as ArrayLike<unknown>)).toEqual(Array.from(a.values as ArrayLike<unknown>));
        expect(Object.keys(back.variable(v.name).attrs).sort()).toEqual(Object.keys(v.attrs).sort());
      }
      for (const [k, es] of Object.entries(src.globalAttributes)) {
        expect(back.globalAttr(k)).toEqual(es.map((e) => e.value));
      }
    }
  });
});

describe('CDF reader: a compressed block read in chunks is inflated once', () => {
  test('1000 records in one GZIP block, read 100 at a time: same values as one read, one inflate', () => {
    const n = 1000;
    const nb = 16;
    const values = Float32Array.from({ length: n * nb }, (_, i) => Math.fround(1e-3 * ((i * 7919) % 1013)));
    const buf = writeCdf({ variables: [{ name: 'v', type: CdfType.REAL4, dims: [nb], values, compress: 'gzip' }] });
    const spy = jest.spyOn(zlib, 'gunzipSync');
    try {
      const cdf = openCdf(buf);
      expect(cdf.blocks('v')).toHaveLength(1);
      const got = new Float32Array(n * nb);
      for (let r = 0; r < n; r += 100) got.set(cdf.readVariable('v', { recStart: r, recCount: 100 }).values as Float32Array, r * nb);
      expect(got).toEqual(values);
      expect(spy).toHaveBeenCalledTimes(1); // was once per chunk (10)
    } finally {
      spy.mockRestore();
    }
  });
});
