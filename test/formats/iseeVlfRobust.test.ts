/**
 * ISEE VLF loader with fill/invalid frame times: frames whose epoch_vlf is the CDF fill (TT2000
 * −2^63, EPOCH −1e31) or pad value (TT2000 −2^63+1, EPOCH 0) are dropped and counted; the other
 * frames keep their own spectra. Files are written by our CDF writer to the documented layout
 * (data-formats.md §3.2); the truth is the generator below, by frame index.
 */
import { CdfType, TT2000_FILL, TT2000_PAD, unixMsToEpoch, unixMsToTt2000, writeCdf } from '../../src/formats/cdf';
import { readIseeVlf, scanIseeVlf } from '../../src/formats/iseeVlf';

const NF = 8;
const T0 = Date.UTC(2020, 8, 9, 23);
const STEP = 409.6;
const value = (i: number, b: number, ch: number) => 1e-6 * (1 + i) * (1 + b) * (ch + 1);

/** nT frames; the frames in `bad` get the given raw epoch instead of their time. */
function file(nT: number, bad: Map<number, bigint | number>, type: number = CdfType.TIME_TT2000) {
  const times = Array.from({ length: nT }, (_, i) => T0 + i * STEP);
  const ch = (c: number) => Float32Array.from({ length: nT * NF }, (_, k) => value(Math.floor(k / NF), k % NF, c));
  const epochs =
    type === CdfType.TIME_TT2000
      ? BigInt64Array.from(times, (t, i) => (bad.has(i) ? (bad.get(i) as bigint) : unixMsToTt2000(t)))
      : Float64Array.from(times, (t, i) => (bad.has(i) ? (bad.get(i) as number) : unixMsToEpoch(t)));
  const buf = writeCdf({
    globalAttributes: { Station_code: 'MOS' },
    variables: [
      { name: 'epoch_vlf', type, values: epochs, attrs: { FILLVAL: type === CdfType.TIME_TT2000 ? TT2000_FILL : { type: CdfType.EPOCH, value: [-1e31] } } },
      { name: 'freq_vlf', type: CdfType.REAL4, dims: [NF], recVary: false, values: Float32Array.from({ length: NF }, (_, b) => 10 + 100 * b) },
      { name: 'ch1', type: CdfType.REAL4, dims: [NF], values: ch(0), compress: 'gzip', blockRecords: 7, attrs: { FILLVAL: -1e31 } },
      { name: 'ch2', type: CdfType.REAL4, dims: [NF], values: ch(1), attrs: { FILLVAL: -1e31 } },
    ],
  });
  return { buf, times };
}

function expectFrames(d: ReturnType<typeof readIseeVlf>, times: number[], kept: number[]) {
  expect(d.nTime).toBe(kept.length);
  expect(d.times.length).toBe(kept.length);
  kept.forEach((i, k) => {
    expect(Math.abs(d.times[k] - times[i])).toBeLessThan(0.01); // EPOCH (float64 ms since year 0) keeps ~8 µs
    for (let b = 0; b < NF; b++) {
      expect(d.ch1[k * NF + b]).toBe(Math.fround(value(i, b, 0)));
      expect(d.ch2[k * NF + b]).toBe(Math.fround(value(i, b, 1)));
    }
  });
  expect(d.ch1.length).toBe(kept.length * NF);
  expect(d.ch2.length).toBe(kept.length * NF);
}

describe('epoch_vlf fill values', () => {
  const nT = 40;
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);

  test('TT2000 fill (−2^63) and pad (−2^63+1) frames are dropped and counted; the rest keep their spectra', () => {
    const bad = new Map<number, bigint>([[0, TT2000_FILL], [7, TT2000_FILL], [8, TT2000_PAD], [25, TT2000_FILL], [nT - 1, TT2000_FILL]]);
    const { buf, times } = file(nT, bad);
    const d = readIseeVlf(buf, 'isee_vlf_mos_2020090923_v01.cdf');
    const kept = range(nT).filter((i) => !bad.has(i));
    expectFrames(d, times, kept);
    expect(d.droppedFrames).toBe(bad.size);
    for (const t of d.times) expect(Number.isFinite(t)).toBe(true);

    // A time subset skips the fill frames inside its record span too.
    const sub = readIseeVlf(buf, undefined, { startMs: times[5], endMs: times[30] });
    expectFrames(sub, times, range(nT).filter((i) => i >= 5 && i < 30 && !bad.has(i)));

    const s = scanIseeVlf(buf, 'isee_vlf_mos_2020090923_v01.cdf');
    expect(s.droppedFrames).toBe(bad.size);
    expect(Array.from(s.times)).toEqual(Array.from(d.times));
  });

  test('CDF_EPOCH fill (−1e31) and pad (0) frames are dropped and counted', () => {
    const bad = new Map<number, number>([[3, -1e31], [4, -1e31], [20, 0]]);
    const { buf, times } = file(nT, bad, CdfType.EPOCH);
    const d = readIseeVlf(buf);
    expectFrames(d, times, range(nT).filter((i) => !bad.has(i)));
    expect(d.droppedFrames).toBe(3);
  });

  test('every epoch a fill value: no frames, all counted', () => {
    const bad = new Map<number, bigint>(range(10).map((i) => [i, TT2000_FILL]));
    const { buf } = file(10, bad);
    const d = readIseeVlf(buf);
    expect(d.nTime).toBe(0);
    expect(d.ch1.length).toBe(0);
    expect(d.droppedFrames).toBe(10);
  });
});
