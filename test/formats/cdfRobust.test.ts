/**
 * CDF reader on malformed input: counts taken from the file (MaxRec, VXR ranges, dimension sizes,
 * compressed sizes) are checked against what the file can hold before anything is allocated, and
 * every malformed input fails with a CdfError. Inputs are the real sample CDFs of shared/data/cdf,
 * forged at documented field offsets (data-formats.md §4.4) or mutated by a seeded fuzzer.
 * Also: the cheap variable-name reader used by ingest's input detection, against the full reader.
 */
import fs from 'node:fs';
import { CdfError, CdfType, cdfVariableNames, isCdfMagic, openCdf, unixMsToTt2000, writeCdf } from '../../src/formats/cdf';
import { readIseeVlf } from '../../src/formats/iseeVlf';
import { describeShared, sharedFiles, sharedPath } from '../helpers/sharedData';
import { mulberry32 } from '../../src/demo/prng'; // seeded, so a failing case can be replayed

/** Offset of the v3 VDR of a variable: its 256-byte Name field sits at +84 (§4.4). */
function v3VdrOffset(buf: Uint8Array, name: string): number {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const at = b.indexOf(Buffer.concat([Buffer.from(name, 'latin1'), Buffer.from([0])]));
  expect(at).toBeGreaterThan(84);
  const vdr = at - 84;
  expect(b.readInt32BE(vdr + 8)).toBe(8); // RecordType zVDR
  return vdr;
}

/** Same buffer with the (v3) MaxRec of a variable set to `maxRec` (VDR + 24, int32 BE). */
function forgeMaxRec(buf: Uint8Array, name: string, maxRec: number): Buffer {
  const b = Buffer.from(buf);
  b.writeInt32BE(maxRec, v3VdrOffset(b, name) + 24);
  return b;
}

const rssMb = () => process.memoryUsage().rss / 2 ** 20;

describeShared('forged record counts fail with a CdfError before allocating what they claim', () => {
  test('contiguous.cdf: MaxRec 3e8 on its 10-record INT4 variable', () => {
    const orig = fs.readFileSync(sharedPath('cdf', 'CDFpp__contiguous.cdf'));
    // Truth from PROVENANCE.md: one INT4 zVariable, 10 records in a single VVR.
    expect(openCdf(orig).variable('whole_zvar').numRecords).toBe(10);
    const bad = forgeMaxRec(orig, 'whole_zvar', 300_000_000);
    const cdf = openCdf(bad); // descriptors only: fine
    expect(cdf.variable('whole_zvar').numRecords).toBe(300_000_001);
    const rss0 = rssMb();
    let err: unknown;
    try {
      cdf.readVariable('whole_zvar');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CdfError);
    expect((err as CdfError).code).toBe('CORRUPT');
    expect((err as Error).message).toMatch(/MaxRec 300000000 does not match the data/);
    expect(rssMb() - rss0).toBeLessThan(200); // 3e8 × 4 bytes would be 1.2 GB
    // The records that are stored can still be read.
    expect(Array.from(cdf.readVariable('whole_zvar', { recStart: 0, recCount: 10 }).values as Int32Array)).toEqual(
      Array.from(openCdf(orig).readVariable('whole_zvar').values as Int32Array),
    );
  });

  test('an ISEE VLF-like file whose epoch_vlf MaxRec says 3e8 (125 kB file) is a CdfError, not a 4.7 GB allocation', () => {
    const nT = 500;
    const NF = 16;
    const t0 = Date.UTC(2020, 8, 9, 23);
    const buf = writeCdf({
      globalAttributes: { Station_code: 'MOS' },
      variables: [
        { name: 'epoch_vlf', type: CdfType.TIME_TT2000, values: BigInt64Array.from({ length: nT }, (_, i) => unixMsToTt2000(t0 + i * 409.6)) },
        { name: 'freq_vlf', type: CdfType.REAL4, dims: [NF], recVary: false, values: Float32Array.from({ length: NF }, (_, i) => 10 + 100 * i) },
        { name: 'ch1', type: CdfType.REAL4, dims: [NF], values: new Float32Array(nT * NF).fill(1e-6), compress: 'gzip', blockRecords: 90 },
        { name: 'ch2', type: CdfType.REAL4, dims: [NF], values: new Float32Array(nT * NF).fill(2e-6), compress: 'gzip', blockRecords: 90 },
      ],
    });
    expect(readIseeVlf(buf).nTime).toBe(nT);
    const bad = forgeMaxRec(buf, 'epoch_vlf', 300_000_000);
    const rss0 = rssMb();
    expect(() => readIseeVlf(bad)).toThrow(CdfError);
    expect(rssMb() - rss0).toBeLessThan(200);
  });
});


describeShared('seeded fuzzing of the real sample CDFs: only CdfError or success, bounded memory', () => {
  const files = sharedFiles('cdf').filter((f) => !f.includes('not_a_cdf'));
  const PER_FILE = 150;
  const EXTREMES = [0x7fffffff, -1, -2, 0x10000000, 0x40000000, 65535];

  test.each(files.map((f) => [f.split('/').pop()!, f]))('%s', (_name, file) => {
    const orig = fs.readFileSync(file);
    const rnd = mulberry32(0x5eed ^ orig.length);
    const int = (n: number) => Math.floor(rnd() * n);
    const unexpected: string[] = [];
    const rss0 = rssMb();
    let maxRss = 0;
    for (let k = 0; k < PER_FILE; k++) {
      let b: Buffer = Buffer.from(orig);
      let what: string;
      switch (k % 4) {
        case 0: {
          const n = int(b.length);
          b = b.subarray(0, n);
          what = `truncated to ${n}`;
          break;
        }
        case 1: {
          const at: number[] = [];
          for (let j = 0; j < 4; j++) {
            const o = 8 + int(b.length - 8);
            b[o] = int(256);
            at.push(o);
          }
          what = `random bytes at ${at.join(',')}`;
          break;
        }
        case 2: {
          // Descriptors (CDR, GDR, VDRs, VXRs) are at the start of most files.
          const o = 8 + int(Math.min(b.length, 8192) - 8);
          b[o] = int(256);
          what = `random byte at ${o}`;
          break;
        }
        default: {
          const o = 8 + 4 * int((Math.min(b.length, 8192) - 12) / 4);
          const v = EXTREMES[int(EXTREMES.length)];
          b.writeInt32BE(v, o);
          what = `int32 ${v} at ${o}`;
        }
      }
      try {
        const cdf = openCdf(b);
        for (const v of cdf.variables) cdf.readVariable(v.name);
        for (const a of Object.keys(cdf.globalAttributes)) cdf.globalAttr(a);
      } catch (e) {
        if (!(e instanceof CdfError)) unexpected.push(`${what}: ${(e as Error).name}: ${(e as Error).message}`);
      }
      maxRss = Math.max(maxRss, rssMb() - rss0);
    }
    expect(unexpected).toEqual([]);
    expect(maxRss).toBeLessThan(1024);
  });
});

describeShared('cdfVariableNames: positioned reads give the full reader\'s names', () => {
  test.each(sharedFiles('cdf').map((f) => [f.split('/').pop()!, f]))('%s', (_name, file) => {
    const buf = fs.readFileSync(file);
    let full: string[] | Error;
    try {
      full = openCdf(buf).variables.map((v) => v.name);
    } catch (e) {
      full = e as Error;
    }
    if (full instanceof Error) {
      expect(full).toBeInstanceOf(CdfError);
      expect(isCdfMagic(buf)).toBe(false);
      expect(() => cdfVariableNames(file)).toThrow(CdfError);
    } else {
      expect(isCdfMagic(buf)).toBe(true);
      expect(cdfVariableNames(file)).toEqual(full);
    }
  });

  test('names documented in PROVENANCE.md; v2 magics (0xCDF26002, 0x0000FFFF) are CDFs', () => {
    expect(cdfVariableNames(sharedPath('cdf', 'magpy__example2.cdf'))).toEqual(['Epoch', 'f']);
    expect(cdfVariableNames(sharedPath('cdf', 'CDFpp__contiguous.cdf'))).toEqual(['whole_zvar']);
    expect(cdfVariableNames(sharedPath('cdf', 'CDFpp__rvariable.cdf'))).toEqual(['legacy_rvar']);
    for (const [f, magic] of [['cdflib__de2_ion2s_rpa_19830213_v01.cdf', 0xcdf26002], ['CDFpp__ac_h2_sis_20101105_v06.cdf', 0x0000ffff]] as const) {
      const head = fs.readFileSync(sharedPath('cdf', f)).subarray(0, 8);
      expect(head.readUInt32BE(0)).toBe(magic);
      expect(isCdfMagic(head)).toBe(true);
      expect(cdfVariableNames(sharedPath('cdf', f))).toContain('Epoch');
    }
    expect(isCdfMagic(fs.readFileSync(sharedPath('cdf', 'CDFpp__not_a_cdf.cdf')))).toBe(false);
  });
});
