/**
 * miniSEED layer against the real public sample files in ../shared/data (see PROVENANCE.md):
 * values come from the libmseed reference series and the obspy encoding matrix, not from us.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeRecord, iterateFileRecords, iterateRecords, MseedError, parseRecordHeader, RecordHeader, Samples, sampleTimeNs } from '../../src/formats/mseed';
import { nsToIso } from '../../src/formats/time';
import { describeShared, sharedFiles, sharedPath } from '../helpers/sharedData';

interface DecodedRecord {
  header: RecordHeader;
  samples: Samples;
}

function readAll(file: string): DecodedRecord[] {
  const buf = fs.readFileSync(file);
  const out: DecodedRecord[] = [];
  for (const r of iterateRecords(buf, { file })) {
    if (!r.ok) throw r.error;
    out.push({ header: r.header, samples: decodeRecord(buf, r.header) });
  }
  return out;
}

/** All numeric samples of a file, concatenated in file order. */
function allSamples(file: string): number[] {
  const out: number[] = [];
  for (const r of readAll(file)) {
    if (typeof r.samples === 'string') throw new Error('text record');
    for (const v of r.samples) out.push(v);
  }
  return out;
}

function allText(file: string): string {
  return readAll(file)
    .map((r) => r.samples as string)
    .join('');
}

const ref = (name: string) => sharedPath('mseed', `libmseed__reference-testdata-${name}`);
const obspy = (name: string) => sharedPath('mseed', `obspy__${name}`);
const tsindexFiles = () =>
  [
    'CU/2018/001/CU.TGUH.00.BHZ.2018.001_first_minute.mseed',
    'IU/2018/001/IU.ANMO.10.BHZ.2018.001_first_minute.mseed',
    'IU/2018/001/IU.COLA.10.BHZ.2018.001_first_minute.mseed',
  ].map((p) => sharedPath('tsindex', 'tsindex_data', p));

describeShared('miniSEED: libmseed reference series', () => {
  const series = () => allSamples(ref('int32.mseed2'));

  test('INT32 v2 is the 500-sample reference series', () => {
    const s = series();
    expect(s).toHaveLength(500);
    expect(s.slice(0, 6)).toEqual([0, 6, 10, 10, 6, 0]);
    expect(s.slice(-3)).toEqual([-866584864, -556206270, 0]);
  });

  test.each(['int32.mseed3', 'steim1.mseed2', 'steim1.mseed3', 'steim1-LE.mseed2', 'nsec.mseed2', 'nsec.mseed3', 'oddrate.mseed3'])(
    '%s decodes to the full 500-sample series',
    (name) => {
      expect(allSamples(ref(name))).toEqual(series());
    },
  );

  test.each(['int16.mseed2', 'int16.mseed3'])('%s gives the first 220 samples', (name) => {
    expect(allSamples(ref(name))).toEqual(series().slice(0, 220));
  });

  test.each(['steim2.mseed2', 'steim2.mseed3', 'steim2-LE.mseed2'])('%s gives the first 499 samples', (name) => {
    expect(allSamples(ref(name))).toEqual(series().slice(0, 499));
  });

  test('FLOAT64 holds the unrounded series; FLOAT32 is it rounded to single precision', () => {
    for (const v of ['mseed2', 'mseed3']) {
      const f64 = allSamples(ref(`float64.${v}`));
      const f32 = allSamples(ref(`float32.${v}`));
      expect(f64).toHaveLength(500);
      expect(f64[0]).toBe(0);
      expect(f64[1]).toBeCloseTo(6.109208, 6);
      expect(f64[2]).toBeCloseTo(10.246826, 6);
      expect(f64[3]).toBeCloseTo(10.609957, 6);
      expect(f32).toEqual(f64.map((x) => Math.fround(x)));
    }
    expect(allSamples(ref('float64.mseed3'))).toEqual(allSamples(ref('float64.mseed2')));
  });

  test('text records decode to the same 235-character string in v2 and v3', () => {
    const t2 = allText(ref('text.mseed2'));
    const t3 = allText(ref('text.mseed3'));
    expect(t2).toHaveLength(235);
    expect(t3).toBe(t2);
    const h = parseRecordHeader(fs.readFileSync(ref('text.mseed2')), 0);
    expect(h.channel).toBe('LOG');
    expect(h.sampleRate).toBe(0);
    expect(h.endNs).toBe(h.startNs);
  });

  test('start times to the nanosecond', () => {
    const start = (name: string) => nsToIso(readAll(ref(name))[0].header.startNs, 9);
    for (const name of ['int32.mseed2', 'int32.mseed3', 'steim1.mseed2', 'steim2.mseed3', 'float64.mseed2', 'text.mseed3']) {
      expect(start(name)).toBe('2012-05-12T00:00:00.000000000');
    }
    // v2: header .1235 plus blockette 1001 microsecond offset -43 µs = .123457 (libmseed's reading;
    // PROVENANCE.md quotes the fixed-header field only).
    expect(start('nsec.mseed2')).toBe('2012-05-12T00:00:00.123457000');
    expect(start('nsec.mseed3')).toBe('2012-05-12T00:00:00.123456789');
    expect(start('oddrate.mseed3')).toBe('2025-05-12T21:11:24.987654321');
  });

  test('header fields of the reference records', () => {
    const recs = readAll(ref('steim1.mseed2'));
    expect(recs).toHaveLength(4);
    const h = recs[0].header;
    expect(h).toMatchObject({ formatVersion: 2, network: 'XX', station: 'TEST', location: '', channel: 'BHZ', sourceId: 'FDSN:XX_TEST__B_H_Z', sampleRate: 40, encoding: 10, recordLength: 512 });
    // Last sample of the series at 12.475 s (499 / 40 Hz).
    expect(nsToIso(recs[3].header.endNs, 9)).toBe('2012-05-12T00:00:12.475000000');
    // Records tile the series: each starts one sample period after the previous ends.
    for (let i = 1; i < recs.length; i++) expect(recs[i].header.startNs - recs[i - 1].header.endNs).toBe(25_000_000n);

    const le = readAll(ref('steim1-LE.mseed2'))[0].header;
    expect(le.littleEndian).toBe(true);
    expect(le.dataLittleEndian).toBe(true);

    const v3 = readAll(ref('steim2.mseed3'));
    expect(v3[0].header).toMatchObject({ formatVersion: 3, pubVersion: 1, quality: null, channel: 'BHZ', network: 'XX', station: 'TEST', location: '', dataLittleEndian: false });
    const odd = readAll(ref('oddrate.mseed3'));
    expect(odd[0].header.sampleRate).toBe(1080);
    // 500 samples at 1080 Hz: (n-1)/1080 s after the start, rounded to the ns as libmseed does.
    const total = odd.reduce((a, r) => a + r.header.sampleCount, 0);
    expect(total).toBe(500);
    const nsec3 = readAll(ref('nsec.mseed3'));
    expect(nsec3[0].header.extraHeaders).toBeDefined();
  });
});

describeShared('miniSEED: obspy and libmseed test files', () => {
  test('test.mseed and the LE-header/BE-data file decode to the same 11947 samples', () => {
    const a = allSamples(obspy('test.mseed'));
    const b = allSamples(obspy('endiantest.le-header.be-data.mseed'));
    expect(a).toHaveLength(11947);
    expect(a.slice(0, 4)).toEqual([2787, 2776, 2774, 2780]);
    expect(b).toEqual(a);
    const hb = readAll(obspy('endiantest.le-header.be-data.mseed'))[0].header;
    expect(hb.littleEndian).toBe(true);
    expect(hb.dataLittleEndian).toBe(false);
    expect(hb.sampleRate).toBe(40); // blockette 100 read in header byte order
    expect(nsToIso(hb.startNs, 4)).toBe('2003-05-29T02:13:22.0434');
  });

  const matrix = sharedFiles('mseed').filter((f) => /obspy__(int16|int32|float32|float64)_\w+Endian\.mseed$/.test(f));
  test('encoding matrix has all its files', () => expect(matrix).toHaveLength(12));
  test.each(matrix.map((f) => [path.basename(f), f]))('%s holds 1..50', (_name, file) => {
    expect(allSamples(file)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });
  test.each(['fullASCII_bigEndian.mseed', 'fullASCII_littleEndian.mseed'])('%s holds printable ASCII 0x20..0x7E', (name) => {
    const expected = Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i)).join('');
    expect(allText(obspy(name))).toBe(expected);
  });

  test('mixed lengths / mixed order: 7 records of lengths 128..8192, v2 and v3 the same samples', () => {
    const v2 = readAll(sharedPath('mseed', 'libmseed__testdata-oneseries-mixedlengths-mixedorder.mseed2'));
    expect(v2).toHaveLength(7);
    const lengths = v2.map((r) => r.header.recordLength);
    expect(Math.min(...lengths)).toBe(128);
    expect(Math.max(...lengths)).toBe(8192);
    expect(new Set(lengths).size).toBeGreaterThan(3);
    const v3 = readAll(sharedPath('mseed', 'libmseed__testdata-oneseries-mixedlengths-mixedorder.mseed3'));
    expect(v3).toHaveLength(7);
    expect(v3.map((r) => r.header.startNs)).toEqual(v2.map((r) => r.header.startNs));
    expect(v3.map((r) => Array.from(r.samples as Int32Array))).toEqual(v2.map((r) => Array.from(r.samples as Int32Array)));
    expect(v2.reduce((a, r) => a + r.header.sampleCount, 0)).toBe(3952);
  });

  test('record without blockette 1000: 2×4096 records, Steim-1 assumed, 7312 samples @20 Hz', () => {
    const recs = readAll(sharedPath('mseed', 'libmseed__testdata-no-blockette1000-steim1.mseed2'));
    expect(recs).toHaveLength(2);
    expect(recs.map((r) => r.header.recordLength)).toEqual([4096, 4096]);
    expect(recs.map((r) => r.header.offset)).toEqual([0, 4096]);
    expect(recs[0].header.encoding).toBe(10);
    expect(recs[0].header.sampleRate).toBe(20);
    expect(recs.reduce((a, r) => a + (r.samples as Int32Array).length, 0)).toBe(7312);
    expect(nsToIso(recs[0].header.startNs, 4)).toBe('1995-09-22T00:00:18.2384');
    // The two records are contiguous (one 50 ms period apart, within the 0.1 ms header resolution).
    const step = Number(recs[1].header.startNs - recs[0].header.endNs);
    expect(Math.abs(step - 50_000_000)).toBeLessThanOrEqual(100_000);
  });

  test('detection record has no samples', () => {
    const recs = readAll(sharedPath('mseed', 'libmseed__testdata-detection.record.mseed2'));
    expect(recs).toHaveLength(1);
    expect(recs[0].header.sampleCount).toBe(0);
    expect(recs[0].header.endNs).toBe(recs[0].header.startNs);
    expect(recs[0].header.channel).toBe('BHZ');
    expect(recs[0].header.location).toBe('00');
  });

  test('3-channel file: 4200 samples per channel of IU.COLA.00.LH1/LH2/LHZ, v2 and v3 equal', () => {
    const group = (file: string) => {
      const m = new Map<string, { samples: number[]; starts: bigint[] }>();
      for (const r of readAll(file)) {
        const key = `${r.header.network}.${r.header.station}.${r.header.location}.${r.header.channel}`;
        if (!m.has(key)) m.set(key, { samples: [], starts: [] });
        const e = m.get(key)!;
        e.samples.push(...(r.samples as Int32Array));
        e.starts.push(r.header.startNs);
      }
      return m;
    };
    const v2 = group(sharedPath('mseed', 'libmseed__testdata-3channel-signal.mseed2'));
    const v3 = group(sharedPath('mseed', 'libmseed__testdata-3channel-signal.mseed3'));
    expect([...v2.keys()].sort()).toEqual(['IU.COLA.00.LH1', 'IU.COLA.00.LH2', 'IU.COLA.00.LHZ']);
    for (const [k, e] of v2) {
      expect(e.samples).toHaveLength(4200);
      expect(v3.get(k)!.samples).toEqual(e.samples);
      expect(v3.get(k)!.starts).toEqual(e.starts);
    }
    const h3 = readAll(sharedPath('mseed', 'libmseed__testdata-3channel-signal.mseed3'))[0].header;
    expect(h3.pubVersion).toBe(4);
    const h2 = readAll(sharedPath('mseed', 'libmseed__testdata-3channel-signal.mseed2'))[0].header;
    expect(h2.quality).toBe('M');
    expect(h2.timingQuality).not.toBeNull();
  });

  test('time correction is applied when the "applied" activity flag is not set (libmseed rule)', () => {
    // gaps.mseed: header 2008-001T00:00:00.0650, correction -1500 × 100 µs, flag not set.
    const h = readAll(obspy('gaps.mseed'))[0].header;
    expect(nsToIso(h.startNs, 4)).toBe('2007-12-31T23:59:59.9150');
  });

  test('blockette 100 actual sample rate', () => {
    const h = readAll(obspy('steim2.mseed'))[0].header;
    expect(h.sampleRate).toBe(40);
    expect(h.sampleCount).toBe(5980);
  });
});

describeShared('miniSEED: every shared file decodes', () => {
  const files = [...sharedFiles('mseed'), ...tsindexFiles()];
  test('file list is complete', () => {
    expect(sharedFiles('mseed').length).toBe(52);
    for (const f of tsindexFiles()) expect(fs.existsSync(f)).toBe(true);
  });

  test.each(files.map((f) => [path.basename(f), f]))('%s: all records valid and sample counts match', (_name, file) => {
    const recs = readAll(file);
    expect(recs.length).toBeGreaterThan(0);
    let covered = 0;
    for (const r of recs) {
      expect(r.samples.length).toBe(r.header.sampleCount);
      expect(r.header.endNs >= r.header.startNs).toBe(true);
      expect(r.header.sourceId.startsWith('FDSN:')).toBe(true);
      covered += r.header.recordLength;
    }
    // Records tile the file exactly.
    expect(covered).toBe(fs.statSync(file).size);
  });

  test.each(files.map((f) => [path.basename(f), f]))('%s: chunked file reader matches the in-memory reader', (_name, file) => {
    const buf = fs.readFileSync(file);
    const mem = [...iterateRecords(buf, { file })];
    for (const chunkBytes of [1024, 4099]) {
      const fromFile = [...iterateFileRecords(file, { chunkBytes })];
      expect(fromFile).toEqual(mem);
    }
  });

  test('chunked reader over one concatenated file of mixed v2/v3 records of every length', () => {
    const tmp = path.join(os.tmpdir(), `mseed-concat-${process.pid}.mseed`);
    const parts = files.map((f) => fs.readFileSync(f));
    fs.writeFileSync(tmp, Buffer.concat(parts));
    try {
      const expected: Array<{ offset: number; sourceId: string; n: number }> = [];
      let base = 0;
      for (const p of parts) {
        for (const r of iterateRecords(p, { baseOffset: base })) {
          if (!r.ok) throw r.error;
          expected.push({ offset: r.header.offset, sourceId: r.header.sourceId, n: r.header.sampleCount });
        }
        base += p.length;
      }
      for (const chunkBytes of [1024, 5000, 1 << 20]) {
        const got = [...iterateFileRecords(tmp, { chunkBytes })].map((r) => {
          if (!r.ok) throw r.error;
          return { offset: r.header.offset, sourceId: r.header.sourceId, n: r.header.sampleCount };
        });
        expect(got).toEqual(expected);
      }
    } finally {
      fs.unlinkSync(tmp);
    }
  });
});

describeShared('header rules the reference files do not exercise', () => {
  const mseed = (name: string) => Buffer.from(fs.readFileSync(sharedPath('mseed', name)));

  // SEED 2.4 manual, fixed header field 12 (activity flags) bit 1 = "time correction applied";
  // field 16 is added to the start time only when that bit is 0 (libmseed, ObsPy
  // FIXED_HEADER_ACTIVITY_FLAGS). BW.BGLD records carry time correction −1500 (−0.15 s), flags 0.
  test('time correction is not applied again when activity bit 1 says it was', () => {
    const buf = mseed('obspy__BW.BGLD.__.EHE.D.2008.001.first_10_records');
    const notApplied = parseRecordHeader(buf, 0).startNs;
    buf[36] |= 0x02;
    expect(parseRecordHeader(buf, 0).startNs - notApplied).toBe(150_000_000n); // BTIME as stored
    buf[36] = (buf[36] & ~0x02) | 0x04; // bit 2 (begin of event) has nothing to do with it
    expect(parseRecordHeader(buf, 0).startNs).toBe(notApplied);
  });

  // SEED manual appendix B: Xn (reverse integration constant) = last sample; a damaged Steim-2
  // difference word makes the integrated series end elsewhere.
  test('a damaged Steim-2 difference word is reported, not decoded into wrong samples', () => {
    const buf = mseed('libmseed__reference-testdata-steim2.mseed2');
    const h = parseRecordHeader(buf, 0);
    expect(() => decodeRecord(buf, h)).not.toThrow();
    buf[h.dataOffset + 64 + 5 * 4 + 3] ^= 0x01; // low bit of word 5 of frame 1 (a difference word)
    expect(() => decodeRecord(buf, h)).toThrow(MseedError);
    expect(() => decodeRecord(buf, h)).toThrow(/reverse integration constant/);
  });
});

// libmseed ms_sampletime: (nstime_t)(offset / samprate * NSTMODULUS + 0.5): rounded, not truncated.
test('sample times are rounded to the nearest ns like libmseed', () => {
  expect(sampleTimeNs(0n, 3, 2)).toBe(666_666_667n);
  expect(sampleTimeNs(0n, 3, 1)).toBe(333_333_333n);
});
