/**
 * ISEE VLF loader. No real ISEE file is public (shared/data/PROVENANCE.md), so fixtures are
 * written by our CDF writer exactly to the documented layout (data-formats.md §3.2), plus the
 * closest real analogue (ELFIN elb_l2_epdef: TT2000 + time×channel REAL4, big-endian,
 * column-major) read through the generic reader and re-packed into the ISEE layout.
 */
import fs from 'node:fs';
import { CdfType, openCdf, toEpochMs, unixMsToTt2000, writeCdf } from '../../src/formats/cdf';
import { IseeVlfError, readIseeVlf } from '../../src/formats/iseeVlf';
import { describeShared, sharedPath } from '../helpers/sharedData';

const NF = 1024;
const FILL = -1e31;

/** An hour-file like isee_vlf_mos_2020070712_v01.cdf, shortened to nT frames. */
function makeIseeFile(nT: number, opts: { littleEndian?: boolean; gzip?: boolean; withStationAttr?: boolean } = {}) {
  const t0 = Date.UTC(2020, 6, 7, 12);
  // 0.4096 s frames with a few missing ones (§3.2: "median spacing ≈ 0.4096 s, with missing frames").
  const frames: number[] = [];
  for (let k = 0; frames.length < nT; k++) if (k % 37 !== 5) frames.push(t0 + k * 409.6);
  const freq = Float32Array.from({ length: NF }, (_, i) => 10 + (i * (19989 - 10)) / (NF - 1));
  const ch1 = new Float32Array(nT * NF);
  const ch2 = new Float32Array(nT * NF);
  for (let t = 0; t < nT; t++) {
    for (let f = 0; f < NF; f++) {
      ch1[t * NF + f] = 1e-6 * (1 + t) / (1 + f);
      ch2[t * NF + f] = 2e-6 * (1 + t) / (1 + f);
    }
  }
  ch1[3] = FILL; // fill
  ch1[4] = -5; // negative
  ch1[5] = 0; // zero power
  ch2[NF + 7] = NaN; // non-finite
  ch2[NF + 8] = Infinity;
  const global: Record<string, string | string[]> = {
    Station_name: 'Moshiri',
    Logical_file_id: 'isee_vlf_mos_2020070712_v01',
    PI_name: 'Y. Miyoshi',
    PI_affiliation: 'ISEE, Nagoya University',
    TEXT: ['Rules of the road: cite ISEE and the station PI.', 'Data are uncalibrated V^2/Hz.'],
    LINK_TEXT: 'ERG Science Center',
  };
  if (opts.withStationAttr !== false) global.Station_code = 'MOS';
  const buf = writeCdf({
    littleEndian: opts.littleEndian ?? true,
    globalAttributes: { ...global, Station_latitude: { type: CdfType.REAL8, value: [44.37] }, Station_longitude: { type: CdfType.REAL8, value: [142.27] } },
    variables: [
      { name: 'epoch_vlf', type: CdfType.TIME_TT2000, values: BigInt64Array.from(frames, unixMsToTt2000), attrs: { CATDESC: 'frame time', FILLVAL: -9223372036854775808n } },
      { name: 'freq_vlf', type: CdfType.REAL4, dims: [NF], recVary: false, values: freq, attrs: { UNITS: 'Hz' } },
      ...(['ch1', 'ch2'] as const).map((name) => ({
        name, type: CdfType.REAL4, dims: [NF], values: name === 'ch1' ? ch1 : ch2,
        compress: opts.gzip ? ('gzip' as const) : ('none' as const), blockRecords: 16,
        attrs: { UNITS: 'V^2/Hz', FILLVAL: FILL, VALIDMIN: 0, VALIDMAX: 1e10, CATDESC: `${name} PSD`, DEPEND_0: 'epoch_vlf', DEPEND_1: 'freq_vlf' },
      })),
      { name: 'amplitude_cal_vlf_ch1', type: CdfType.REAL4, dims: [2, 3], recVary: false, values: new Float32Array([100, 1000, 10000, 1, 2, 3]) },
    ],
  });
  return { buf, frames, freq, ch1, ch2 };
}

describe('readIseeVlf on writer-made ISEE files', () => {
  test.each([
    [true, false],
    [false, true],
  ])('layout, times, fill handling (littleEndian=%s gzip=%s)', (le, gzip) => {
    const { buf, frames, freq, ch1, ch2 } = makeIseeFile(50, { littleEndian: le, gzip });
    const d = readIseeVlf(buf, 'isee_vlf_mos_2020070712_v01.cdf');
    expect(d.station).toBe('mos');
    expect(d.stationName).toBe('Moshiri');
    expect(d.nTime).toBe(50);
    expect(d.nFreq).toBe(NF);
    d.times.forEach((t, i) => expect(t).toBeCloseTo(frames[i], 6));
    expect(d.freqHz).toEqual(freq);
    expect(d.ch1.length).toBe(50 * NF);
    expect(Number.isNaN(d.ch1[3]) && Number.isNaN(d.ch1[4]) && Number.isNaN(d.ch1[5])).toBe(true);
    expect(Number.isNaN(d.ch2[NF + 7]) && Number.isNaN(d.ch2[NF + 8])).toBe(true);
    expect(d.ch1[6]).toBe(ch1[6]);
    expect(d.ch1[49 * NF + 1023]).toBe(ch1[49 * NF + 1023]);
    expect(d.ch2[2 * NF + 10]).toBe(ch2[2 * NF + 10]);
    expect(d.units).toEqual({ ch1: 'V^2/Hz', ch2: 'V^2/Hz', freq: 'Hz' });
    expect(d.attrs.pi).toBe('Y. Miyoshi');
    expect(d.attrs.text).toBe('Rules of the road: cite ISEE and the station PI.\nData are uncalibrated V^2/Hz.');
    expect(d.attrs.linkText).toBe('ERG Science Center');
    expect(d.attrs.latitude).toBeCloseTo(44.37);
    expect(d.attrs.longitude).toBeCloseTo(142.27);
    expect(d.cal.ch1).toEqual({ freqHz: new Float64Array([100, 1000, 10000]), gainVPerT: new Float64Array([1, 2, 3]) });
    expect(d.cal.ch2).toBeNull();
  });

  test('station from the file name when the attribute is missing; time subset', () => {
    const { buf, frames } = makeIseeFile(40, { withStationAttr: false, gzip: true });
    expect(readIseeVlf(buf, '/x/isee_vlf_ath_2020090923_v01.cdf').station).toBe('ath');
    const full = readIseeVlf(buf);
    expect(full.station).toBeNull();
    const sub = readIseeVlf(buf, undefined, { startMs: frames[10], endMs: frames[20] });
    expect(sub.nTime).toBe(10);
    expect(sub.times[0]).toBeCloseTo(frames[10], 6);
    expect(Array.from(sub.ch1)).toEqual(Array.from(full.ch1.subarray(10 * NF, 20 * NF)));
  });

  test('a CDF without the ISEE variables is rejected', () => {
    const buf = writeCdf({ variables: [{ name: 'x', type: CdfType.REAL4, values: [1] }] });
    expect(() => readIseeVlf(buf)).toThrow(IseeVlfError);
  });
});

describeShared('ISEE VLF analogue: ELFIN elb_l2_epdef (TT2000 + time×channel REAL4, BE, column-major)', () => {
  test('generic reader gives row-major [time][channel]; repacked into the ISEE layout it reads back identically', () => {
    const elb = openCdf(fs.readFileSync(sharedPath('cdf', 'CommonDataFormat.jl__elb_l2_epdef_20210914_v01.cdf')));
    expect(elb.littleEndian).toBe(false);
    expect(elb.rowMajor).toBe(false);
    const time = elb.readVariable('elb_pef_hs_time');
    const spec = elb.readVariable('elb_pef_hs_epa_spec'); // REAL4 [44][10]
    const eflux = elb.readVariable('elb_pef_hs_Epat_eflux'); // REAL4 [44][10][16], column-major on disk
    expect(spec.shape).toEqual([44, 10]);
    expect(eflux.shape).toEqual([44, 10, 16]);
    // Row-major check against the on-disk Fortran order: element [t][i][j] of record t sits at
    // i + 10·j in the stored record.
    const raw = elb.image;
    const blk = elb.blocks('elb_pef_hs_Epat_eflux')[0];
    const dv = new DataView(raw.buffer, raw.byteOffset + blk.offset + 12);
    const ev = eflux.values as Float32Array;
    for (const [t, i, j] of [[0, 0, 0], [3, 2, 7], [43, 9, 15], [20, 5, 1]]) {
      const stored = dv.getFloat32((t * 160 + i + 10 * j) * 4, false);
      expect(Object.is(ev[t * 160 + i * 16 + j], stored)).toBe(true);
    }
    // Re-pack as an ISEE-style file: epoch_vlf ← hs_time, freq_vlf ← epa_spec axis, ch1/ch2 ← spec.
    const nT = 44;
    const nF = 10;
    const buf = writeCdf({
      globalAttributes: { Station_code: 'elb' },
      variables: [
        { name: 'epoch_vlf', type: CdfType.TIME_TT2000, values: time.values as BigInt64Array },
        { name: 'freq_vlf', type: CdfType.REAL4, dims: [nF], recVary: false, values: Float32Array.from({ length: nF }, (_, i) => i + 1) },
        { name: 'ch1', type: CdfType.REAL4, dims: [nF], values: spec.values as Float32Array, compress: 'gzip', attrs: { FILLVAL: FILL } },
        { name: 'ch2', type: CdfType.REAL4, dims: [nF], values: spec.values as Float32Array, attrs: { FILLVAL: FILL } },
      ],
    });
    const d = readIseeVlf(buf);
    expect(d.nTime).toBe(nT);
    expect(Array.from(d.times)).toEqual(Array.from(toEpochMs(time.values as BigInt64Array, CdfType.TIME_TT2000)));
    const sv = spec.values as Float32Array;
    for (let k = 0; k < sv.length; k++) {
      const want = sv[k] > 0 && Number.isFinite(sv[k]) && Math.abs(sv[k]) < 1e30 ? sv[k] : NaN;
      expect(Object.is(d.ch1[k], want) || (Number.isNaN(d.ch1[k]) && Number.isNaN(want))).toBe(true);
    }
    expect(Array.from(d.ch2, (x) => (Number.isNaN(x) ? null : x))).toEqual(Array.from(d.ch1, (x) => (Number.isNaN(x) ? null : x)));
  });
});
