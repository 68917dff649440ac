import fs from 'node:fs';
import path from 'node:path';
import { SAC_HEADER_BYTES, SacError, newSacHeader, readSac, sacIsIntegral, writeSac } from '../../src/formats/sac';
import { nsToIso, parseIsoToNs } from '../../src/formats/time';
import { describeShared, sharedFiles, sharedPath } from '../helpers/sharedData';

const read = (name: string) => readSac(fs.readFileSync(sharedPath('sac', name)));
const F32_EPS = 2 ** -23;

describeShared('readSac on every shared SAC file', () => {
  const files = sharedFiles('sac');

  it('finds the 8 shared files', () => {
    expect(files.map((f) => path.basename(f))).toEqual(
      expect.arrayContaining(['test.sac', 'test.sac.swap', 'seism.sac', 'null_terminated.sac', 'II.TLY.BHZ.SAC', 'CRLZ.HHZ.10.NZ.SAC', 'LMOW.BHE.SAC', 'dis.G.SCZ.__.BHE_short']),
    );
  });

  it.each(files.map((f) => [path.basename(f), f]))('%s: size, npts and the header statistics agree with the samples', (_name, file) => {
    const buf = fs.readFileSync(file);
    const s = readSac(buf);
    expect(s.nvhdr).toBe(6);
    expect(s.data.length).toBe(s.npts);
    expect(buf.length).toBe(SAC_HEADER_BYTES + 4 * s.npts);
    expect(s.trailingBytes).toBe(0);
    expect(s.startNs).not.toBeNull();
    // Independent check: the writer stored min/max/mean of the samples in depmin/depmax/depmen.
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    for (const v of s.data) {
      min = Math.min(min, v);
      max = Math.max(max, v);
      sum += v;
    }
    const { depmin, depmax, depmen } = s.header.floats;
    const amp = Math.max(Math.abs(min), Math.abs(max));
    expect(depmin).not.toBeNull();
    expect(depmax).not.toBeNull();
    expect(Math.abs(depmin! - min)).toBeLessThanOrEqual(amp * F32_EPS);
    expect(Math.abs(depmax! - max)).toBeLessThanOrEqual(amp * F32_EPS);
    // The mean was accumulated in float32 by SAC: allow float32 rounding growing with sqrt(n).
    if (depmen !== null) expect(Math.abs(depmen - sum / s.npts)).toBeLessThanOrEqual(4 * amp * F32_EPS * Math.sqrt(s.npts));
  });
});

describeShared('SAC header values', () => {
  it('test.sac matches the values ObsPy asserts (obspy/io/sac/tests/test_core.py)', () => {
    const s = read('test.sac');
    expect(s.byteOrder).toBe('LE');
    expect(s.station).toBe('STA');
    expect(s.channel).toBe('Q');
    expect(s.network).toBe('');
    expect(s.location).toBe('');
    expect(s.npts).toBe(100);
    expect(s.delta).toBe(1);
    expect(s.sampleRate).toBe(1);
    expect(s.b).toBe(10);
    expect(s.startNs).toBe(269596810n * 1_000_000_000n);
    expect(s.referenceNs).toBe(269596800n * 1_000_000_000n);
    expect(s.header.strings.kevnm).toBe('FUNCGEN: SINE');
    expect(s.header.strings.knetwk).toBeNull();
    expect(s.stla).toBeNull();
    const obspy = [-8.74227766e-8, -3.09016973e-1, -5.87785363e-1, -8.09017122e-1, -9.510566e-1, -1.0, -9.51056302e-1, -8.09016585e-1, -5.87784529e-1, -3.09016049e-1];
    obspy.forEach((v, i) => expect(s.data[i]).toBeCloseTo(v, 6));
  });

  it('test.sac.swap is the big-endian twin of test.sac (same header except depmen, same samples)', () => {
    const le = read('test.sac');
    const be = read('test.sac.swap');
    expect(be.byteOrder).toBe('BE');
    expect(Array.from(be.data)).toEqual(Array.from(le.data));
    expect(be.header.ints).toEqual(le.header.ints);
    expect(be.header.strings).toEqual(le.header.strings);
    const { depmen: d1, ...f1 } = le.header.floats;
    const { depmen: d2, ...f2 } = be.header.floats;
    expect(f2).toEqual(f1);
    expect(d2).not.toBe(d1);
    expect(d2!).toBeCloseTo(d1!, 7);
    expect(be.startNs).toBe(le.startNs);
  });

  it('seism.sac: start = reference + b (ObsPy issue #107 value), CDV Q', () => {
    const s = read('seism.sac');
    expect(s.station).toBe('CDV');
    expect(s.channel).toBe('Q');
    expect(s.header.ints.iztype).toBe(9);
    expect(s.b!).toBeCloseTo(9.4599991, 6);
    expect(nsToIso(s.startNs!, 6)).toBe('1981-03-29T10:38:23.459999');
    expect(s.header.strings.kevnm).toBe('K8108838');
    expect(s.npts).toBe(1000);
    expect(s.delta).toBeCloseTo(0.01, 8);
  });

  it('null_terminated.sac: strings end at the NUL (garbage after it ignored)', () => {
    const s = read('null_terminated.sac');
    expect([s.network, s.station, s.location, s.channel]).toEqual(['GD', 'PIN1', '', 'LYE']);
    expect(s.stla!).toBeCloseTo(33.6122, 4);
    expect(s.stlo!).toBeCloseTo(-116.4582, 4);
    expect(nsToIso(s.referenceNs!, 0)).toBe('2012-05-01T12:00:00'); // 2012 day 122
  });

  it('II.TLY.BHZ.SAC: big-endian, codes, coordinates, event, first-sample time', () => {
    const s = read('II.TLY.BHZ.SAC');
    expect(s.byteOrder).toBe('BE');
    expect([s.network, s.station, s.location, s.channel]).toEqual(['II', 'TLY', '00', 'BHZ']);
    expect(s.npts).toBe(12684);
    expect(s.delta).toBeCloseTo(0.05, 6);
    expect(s.stla!).toBeCloseTo(51.6807, 4);
    expect(s.stlo!).toBeCloseTo(103.6438, 4);
    expect(s.stel).toBe(579);
    expect(s.evla!).toBeCloseTo(38.3215, 4);
    expect(s.evlo!).toBeCloseTo(142.3693, 4);
    expect(s.evdp).toBe(24400);
    expect(s.evdpKm).toBeCloseTo(24.4, 6);
    expect(s.cmpaz).toBe(0);
    expect(s.cmpinc).toBe(0);
    expect(s.dip).toBe(-90);
    // reference 2011-070 05:47:30.033 + b 0.0004 s
    expect(s.referenceNs).toBe(parseIsoToNs('2011-03-11T05:47:30.033'));
    expect(s.startNs).toBe(parseIsoToNs('2011-03-11T05:47:30.0334'));
    expect(s.mag!).toBeCloseTo(8.9, 5);
    expect(s.originNs).not.toBeNull();
  });

  it('CRLZ.HHZ.10.NZ.SAC: codes, coordinates, b = 54400 s', () => {
    const s = read('CRLZ.HHZ.10.NZ.SAC');
    expect(s.byteOrder).toBe('LE');
    expect([s.network, s.station, s.location, s.channel]).toEqual(['NZ', 'CRLZ', '10', 'HHZ']);
    expect(s.npts).toBe(32768);
    expect(s.sampleRate).toBeCloseTo(100, 4);
    expect(s.stla!).toBeCloseTo(-43.5764, 4);
    expect(s.stlo!).toBeCloseTo(172.6231, 4);
    expect(s.stel).toBe(55);
    expect(s.startNs).toBe(parseIsoToNs('2009-09-04T00:00:00.007')! + 54400n * 1_000_000_000n);
    expect(sacIsIntegral(s.data)).toBe(true); // counts stored as floats
  });

  it('dis.G.SCZ.__.BHE_short: horizontal east component → dip 0, evdp in metres', () => {
    const s = read('dis.G.SCZ.__.BHE_short');
    expect([s.network, s.station, s.location, s.channel]).toEqual(['G', 'SCZ', '', 'BHE']);
    expect(s.cmpaz).toBe(90);
    expect(s.cmpinc).toBe(90);
    expect(s.dip).toBe(0);
    expect(s.evdp).toBe(10000);
    expect(s.evdpKm).toBe(10);
    expect(s.originNs).toBe(s.referenceNs! + 0n);
    expect(nsToIso(s.referenceNs!, 1)).toBe('2004-01-03T08:09:02.4');
    expect(sacIsIntegral(s.data)).toBe(false);
  });

  it('LMOW.BHE.SAC: no network set', () => {
    const s = read('LMOW.BHE.SAC');
    expect([s.network, s.station, s.channel]).toEqual(['', 'LMOW', 'BHE']);
    expect(s.stla!).toBeCloseTo(-39.41, 4);
    expect(s.stlo!).toBeCloseTo(175.75, 4);
  });
});

describeShared('SAC errors and round trips', () => {
  const buf = () => Buffer.from(fs.readFileSync(sharedPath('sac', 'test.sac')));

  it('refuses truncated buffers with a clear message', () => {
    expect(() => readSac(buf().subarray(0, 100))).toThrow(/truncated SAC file: 100 bytes/);
    expect(() => readSac(buf().subarray(0, SAC_HEADER_BYTES + 40))).toThrow(/truncated SAC file: 672 bytes, need 1032/);
    expect(() => readSac(buf().subarray(0, 100))).toThrow(SacError);
  });

  it('refuses non-SAC data', () => {
    expect(() => readSac(Buffer.alloc(2000, 0x41))).toThrow(/not a SAC file/);
  });

  it('refuses uneven and spectral files', () => {
    const uneven = buf();
    uneven.writeInt32LE(0, 280 + 35 * 4); // leven = false
    expect(() => readSac(uneven)).toThrow(/unevenly sampled/);
    const spectral = buf();
    spectral.writeInt32LE(3, 280 + 15 * 4); // iftype = IAMPH
    expect(() => readSac(spectral)).toThrow(/iftype 3 \(spectral\)/);
  });

  // Offsets from the SAC header definition: ints start at word 70 (byte 280) with nzyear, nzjday,
  // nzhour, nzmin, nzsec, nzmsec; floats b and o are words 5 and 7.
  it.each([
    ['nzjday', 1, 400, /nzjday is 400, outside 1–366/],
    ['nzjday', 1, 0, /nzjday is 0, outside 1–366/],
    ['nzhour', 2, 99, /nzhour is 99, outside 0–23/],
    ['nzmsec', 5, -5000, /nzmsec is -5000, outside 0–999/],
    ['nzyear', 0, 2147483647, /nzyear is 2147483647, outside 0–9999/],
  ])('refuses reference-time field %s out of range instead of rolling the date over', (_name, word, value, msg) => {
    const b = buf();
    b.writeInt32LE(value as number, 280 + (word as number) * 4);
    expect(() => readSac(b)).toThrow(SacError);
    expect(() => readSac(b)).toThrow(msg as RegExp);
  });

  it('refuses day 366 of a common year; accepts it in a leap year', () => {
    const b = buf();
    b.writeInt32LE(1978, 280);
    b.writeInt32LE(366, 284);
    expect(() => readSac(b)).toThrow(/nzjday is 366 in 1978, not a leap year/);
    b.writeInt32LE(1980, 280);
    expect(nsToIso(readSac(b).referenceNs as bigint, 0)).toMatch(/^1980-12-31T/);
  });

  it('a non-finite b is a SacError; a non-finite optional o only means no origin time', () => {
    for (const v of [NaN, Infinity]) {
      const b = buf();
      b.writeFloatLE(v, 5 * 4);
      expect(() => readSac(b)).toThrow(new SacError(`invalid SAC header: b is ${v}`));
    }
    const o = buf();
    o.writeFloatLE(NaN, 7 * 4);
    const s = readSac(o);
    expect(s.originNs).toBeNull();
    expect(s.startNs).toBe(read('test.sac').startNs);
  });

  it.each(['test.sac.swap', 'II.TLY.BHZ.SAC', 'null_terminated.sac', 'seism.sac'])('%s → writeSac (LE) → readSac is identical', (name) => {
    const a = read(name);
    const out = writeSac(a);
    const b = readSac(out);
    expect(b.byteOrder).toBe('LE');
    expect(b.header).toEqual(a.header);
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    expect(b.startNs).toBe(a.startNs);
    expect([b.network, b.station, b.location, b.channel]).toEqual([a.network, a.station, a.location, a.channel]);
  });

  it('header v7: the float64 footer supersedes the float32 header fields', () => {
    const h = newSacHeader();
    Object.assign(h.ints, { nzyear: 2020, nzjday: 1, nzhour: 0, nzmin: 0, nzsec: 0, nzmsec: 0 });
    h.floats.delta = 0.01;
    h.floats.b = 86399.123456; // not representable in float32 at this magnitude
    h.floats.stla = 35.123456789;
    h.strings.knetwk = 'XX';
    const out = writeSac({ header: h, data: new Float32Array([1, 2, 3]) }, { nvhdr: 7 });
    expect(out.length).toBe(SAC_HEADER_BYTES + 12 + 22 * 8);
    const s = readSac(out);
    expect(s.nvhdr).toBe(7);
    expect(s.b).toBe(86399.123456);
    expect(s.stla).toBe(35.123456789);
    expect(s.delta).toBe(0.01);
    expect(s.startNs).toBe(parseIsoToNs('2020-01-01T23:59:59.123456'));
    expect(s.network).toBe('XX');
    expect(Array.from(s.data)).toEqual([1, 2, 3]);
    // A v7 file without its footer is truncated.
    expect(() => readSac(out.subarray(0, SAC_HEADER_BYTES + 12))).toThrow(/v7 footer/);
  });
});

describe('sacIsIntegral', () => {
  it('is true only for integers within int32', () => {
    expect(sacIsIntegral(new Float32Array([0, -1, 5, 1e6]))).toBe(true);
    expect(sacIsIntegral([])).toBe(true);
    expect(sacIsIntegral([2147483647, -2147483648])).toBe(true);
    expect(sacIsIntegral([2147483648])).toBe(false);
    expect(sacIsIntegral([-2147483649])).toBe(false);
    expect(sacIsIntegral(new Float32Array([1, 2.5]))).toBe(false);
    expect(sacIsIntegral([NaN])).toBe(false);
    expect(sacIsIntegral([Infinity])).toBe(false);
  });
});

// SAC manual, "SAC Data File Format" (header version 7): after the data, 22 float64 in the order
// DELTA B E O A T0..T9 F EVLO EVLA STLO STLA SB SDELTA. Built byte by byte here, not with the
// module's own field list (the write/read round trip shares that list).
test('SAC v7: evla/evlo/stla/stlo are read from their documented footer slots', () => {
  const h = newSacHeader();
  Object.assign(h.ints, { nzyear: 2020, nzjday: 1, nzhour: 0, nzmin: 0, nzsec: 0, nzmsec: 0 });
  const v6 = writeSac({ header: h, data: [1, 2, 3] });
  const buf = Buffer.alloc(v6.length + 22 * 8);
  v6.copy(buf);
  buf.writeInt32LE(7, 280 + 6 * 4); // nvhdr
  const footer: Record<string, number> = { delta: 0.01, b: 0, evlo: 142.5, evla: 38.25, stlo: -106.5, stla: 34.75 };
  const order = ['delta', 'b', 'e', 'o', 'a', 't0', 't1', 't2', 't3', 't4', 't5', 't6', 't7', 't8', 't9', 'f', 'evlo', 'evla', 'stlo', 'stla', 'sb', 'sdelta'];
  order.forEach((n, i) => buf.writeDoubleLE(footer[n] ?? -12345, v6.length + i * 8));
  const f = readSac(buf);
  expect([f.evla, f.evlo, f.stla, f.stlo]).toEqual([38.25, 142.5, 34.75, -106.5]);
});
