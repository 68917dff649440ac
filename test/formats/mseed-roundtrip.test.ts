/**
 * encodeRecords → iterateRecords/decodeRecord round trips, checked a second time by seisplotjs.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeRecord, EncodeOptions, encodeRecords, iterateRecords, RecordHeader, recordEndNs, SeriesSpec } from '../../src/formats/mseed';
import { nsToIso, utcToNs } from '../../src/formats/time';
import { mulberry32 as prng } from '../../src/demo/prng';

/** Random walk with mostly small steps, some medium and occasional large jumps, crossing zero. */
function randomWalk(n: number, seed: number, maxJump = 2 ** 20): Int32Array {
  const rnd = prng(seed);
  const out = new Int32Array(n);
  let v = -1000;
  for (let i = 0; i < n; i++) {
    const r = rnd();
    const step = r < 0.7 ? (rnd() - 0.5) * 30 : r < 0.95 ? (rnd() - 0.5) * 4000 : (rnd() - 0.5) * 2 * maxJump;
    v = Math.max(-2147483648, Math.min(2147483647, Math.round(v + step)));
    out[i] = v;
  }
  return out;
}

interface Decoded {
  headers: RecordHeader[];
  samples: number[];
}

function decodeAll(records: Buffer[]): Decoded {
  const buf = Buffer.concat(records);
  const headers: RecordHeader[] = [];
  const samples: number[] = [];
  for (const r of iterateRecords(buf)) {
    if (!r.ok) throw r.error;
    headers.push(r.header);
    const s = decodeRecord(buf, r.header);
    if (typeof s === 'string') throw new Error('unexpected text');
    for (const v of s) samples.push(v);
  }
  return { headers, samples };
}

const spec: SeriesSpec = {
  network: 'XX',
  station: 'RTRIP',
  location: '00',
  channel: 'HHZ',
  startNs: utcToNs(2024, 2, 29, 23, 59, 58, 123_456_000),
  sampleRate: 100,
};

const encodings: EncodeOptions['encoding'][] = ['steim1', 'steim2', 'int32', 'float32', 'float64'];
const cases: Array<[2 | 3, EncodeOptions['encoding'], number]> = [];
for (const v of [2, 3] as const) for (const e of encodings) for (const len of [256, 512, 4096]) cases.push([v, e, len]);

/** Expected start of the record beginning at sample `index` (v2 keeps whole microseconds). */
function expectedStart(s: SeriesSpec, index: number, version: 2 | 3): bigint {
  const t = recordEndNs(s.startNs, s.sampleRate, index + 1);
  return version === 3 ? t : t - (((t % 1000n) + 1000n) % 1000n);
}

describe('miniSEED encode → decode round trips', () => {
  test.each(cases)('v%d %s, record length %d', (version, encoding, recordLength) => {
    const ints = randomWalk(3000, version * 100 + recordLength + encoding.length);
    const input = encoding.startsWith('float') ? Float64Array.from(ints, (v, i) => v + (i % 7) / 8 - 0.3) : ints;
    const records = encodeRecords(spec, input, { formatVersion: version, encoding, recordLength });
    expect(records.length).toBeGreaterThan(1);
    for (const r of records) expect(r.length).toBeLessThanOrEqual(recordLength);
    if (version === 2) for (const r of records) expect(r.length).toBe(recordLength);

    const { headers, samples } = decodeAll(records);
    const expected = encoding === 'float32' ? Array.from(input, (x) => Math.fround(x)) : Array.from(input);
    expect(samples).toEqual(expected);

    let index = 0;
    headers.forEach((h, i) => {
      expect(h.formatVersion).toBe(version);
      expect(h.sourceId).toBe('FDSN:XX_RTRIP_00_H_H_Z');
      expect([h.network, h.station, h.location, h.channel]).toEqual(['XX', 'RTRIP', '00', 'HHZ']);
      expect(h.sampleRate).toBe(100);
      expect(nsToIso(h.startNs, 9)).toBe(nsToIso(expectedStart(spec, index, version), 9));
      if (version === 2) {
        expect(records[i].toString('latin1', 0, 6)).toBe(String(i + 1).padStart(6, '0'));
        expect(h.quality).toBe('D');
      } else {
        expect(h.pubVersion).toBe(1);
      }
      index += h.sampleCount;
    });
    expect(index).toBe(input.length);
  });

  test('v3 keeps nanosecond start times and odd rates; v2 little-endian with sequence numbers', () => {
    const s3: SeriesSpec = { ...spec, startNs: utcToNs(2025, 5, 12, 21, 11, 24, 987_654_321), sampleRate: 1080, pubVersion: 7 };
    const data = randomWalk(5000, 7);
    const { headers, samples } = decodeAll(encodeRecords(s3, data, { formatVersion: 3, encoding: 'steim2', recordLength: 1024 }));
    expect(samples).toEqual(Array.from(data));
    expect(nsToIso(headers[0].startNs, 9)).toBe('2025-05-12T21:11:24.987654321');
    expect(headers[0].pubVersion).toBe(7);
    let index = 0;
    for (const h of headers) {
      expect(h.startNs).toBe(recordEndNs(s3.startNs, 1080, index + 1));
      index += h.sampleCount;
    }

    const recs = encodeRecords({ ...spec, quality: 'Q' }, data, { formatVersion: 2, encoding: 'steim1', littleEndian: true, startSequence: 999998 });
    const d2 = decodeAll(recs);
    expect(d2.samples).toEqual(Array.from(data));
    expect(d2.headers[0].littleEndian).toBe(true);
    expect(d2.headers[0].dataLittleEndian).toBe(true);
    expect(d2.headers[0].quality).toBe('Q');
    expect(recs.slice(0, 3).map((r) => r.toString('latin1', 0, 6))).toEqual(['999998', '999999', '000001']);
  });

  test('sub-Hz and fractional rates survive (factor/multiplier or blockette 100)', () => {
    for (const rate of [0.1, 1 / 60, 2.5, 1080, 31.25, Math.PI]) {
      const data = randomWalk(400, 3);
      for (const version of [2, 3] as const) {
        const { headers, samples } = decodeAll(encodeRecords({ ...spec, sampleRate: rate }, data, { formatVersion: version, encoding: 'steim2', recordLength: 512 }));
        expect(samples).toEqual(Array.from(data));
        // v2 blockette 100 holds a float32.
        if (version === 2 && rate === Math.PI) expect(headers[0].sampleRate).toBe(Math.fround(rate));
        else expect(headers[0].sampleRate).toBeCloseTo(rate, 12);
      }
    }
  });

  test('Steim: differences beyond 30 bits (Steim-2) / 32 bits (Steim-1) split records and still round-trip', () => {
    // Full int32 range jumps: every difference is far beyond 30 bits.
    const extremes = Int32Array.from({ length: 200 }, (_, i) => (i % 2 ? 2147483647 - (i % 5) : -2147483648 + (i % 5)));
    const mixed = Int32Array.from(randomWalk(2000, 11, 2 ** 31));
    for (const data of [extremes, mixed]) {
      for (const encoding of ['steim1', 'steim2'] as const) {
        for (const version of [2, 3] as const) {
          const records = encodeRecords(spec, data, { formatVersion: version, encoding, recordLength: 512 });
          const { samples, headers } = decodeAll(records);
          expect(samples).toEqual(Array.from(data));
          expect(headers.reduce((a, h) => a + h.sampleCount, 0)).toBe(data.length);
        }
      }
    }
    // Steim-2 needs a new record at each > 30-bit jump: one per sample for the extremes series.
    expect(encodeRecords(spec, extremes, { formatVersion: 3, encoding: 'steim2', recordLength: 512 }).length).toBe(200);
    // Steim-1 fits 32-bit differences, except those overflowing int32 (all of these do).
    expect(encodeRecords(spec, Int32Array.from([0, 2 ** 30, -(2 ** 30), 5]), { formatVersion: 2, encoding: 'steim1' }).length).toBe(1);
  });

  test('Steim-2 packs small differences densely (7 × 4-bit per word)', () => {
    const data = Int32Array.from({ length: 10_000 }, (_, i) => (i % 8) - 4);
    const recs = encodeRecords(spec, data, { formatVersion: 2, encoding: 'steim2', recordLength: 512 });
    const { headers } = decodeAll(recs);
    // 7 frames × 15 words − 2 constants = 103 words; 7 samples per word.
    expect(headers[0].sampleCount).toBeGreaterThanOrEqual(700);
  });

  test('invalid input is rejected clearly', () => {
    expect(() => encodeRecords(spec, Float64Array.from([1.5]), { formatVersion: 2, encoding: 'steim2' })).toThrow(/not a 32-bit integer/);
    expect(() => encodeRecords(spec, Int32Array.from([1]), { formatVersion: 2, encoding: 'int32', recordLength: 1000 })).toThrow(/power of two/);
    expect(() => encodeRecords({ ...spec, station: 'TOOLONG' }, Int32Array.from([1]), { formatVersion: 2, encoding: 'int32' })).toThrow(/longer than 5/);
    expect(encodeRecords(spec, new Int32Array(0), { formatVersion: 3, encoding: 'steim2' })).toEqual([]);
  });

  test('seisplotjs decodes our records identically', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mseed-rt-'));
    try {
      const configs: Array<{ file: string; records: Buffer[]; input: number[] }> = [];
      for (const version of [2, 3] as const) {
        for (const encoding of encodings) {
          for (const littleEndian of version === 2 ? [false, true] : [false]) {
            const ints = randomWalk(2500, 5 + encoding.length);
            const input = encoding.startsWith('float') ? Float64Array.from(ints, (v) => v / 4) : ints;
            const records = encodeRecords(spec, input, { formatVersion: version, encoding, recordLength: 512, littleEndian });
            const file = path.join(dir, `v${version}-${encoding}-${littleEndian ? 'le' : 'be'}.mseed`);
            fs.writeFileSync(file, Buffer.concat(records));
            configs.push({ file, records, input: encoding === 'float32' ? Array.from(input, (x) => Math.fround(x)) : Array.from(input) });
          }
        }
      }
      const helper = path.join(__dirname, '..', 'helpers', 'seisplotjs-decode.mjs');
      const sp = JSON.parse(execFileSync(process.execPath, [helper, ...configs.map((c) => c.file)], { encoding: 'utf8', maxBuffer: 1 << 28 })) as Array<{
        ok: boolean;
        error?: string;
        records: Array<{ sampleCount: number; samples?: number[]; startIso: string; codes: string; sampleRate: number; crcOk?: boolean; decodeError?: string }>;
      }>;
      configs.forEach((c, k) => {
        const r = sp[k];
        expect([c.file, r.ok, r.error]).toEqual([c.file, true, undefined]);
        const ours = decodeAll(c.records);
        expect(r.records).toHaveLength(ours.headers.length);
        const spSamples: number[] = [];
        r.records.forEach((rec, i) => {
          expect([c.file, i, rec.decodeError]).toEqual([c.file, i, undefined]);
          expect(rec.sampleCount).toBe(ours.headers[i].sampleCount);
          expect(rec.sampleRate).toBe(100);
          if (rec.crcOk !== undefined) expect(rec.crcOk).toBe(true);
          spSamples.push(...rec.samples!);
          // seisplotjs v2 times are ms precision; v3 has full nanoseconds.
          const ourIso = nsToIso(ours.headers[i].startNs, c.file.includes('/v3-') ? 9 : 3, true);
          expect(rec.startIso).toBe(ourIso);
        });
        expect(spSamples).toEqual(c.input);
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
