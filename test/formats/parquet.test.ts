/**
 * src/formats/parquet.ts: files read back with parquet-wasm (arrow-rs) + apache-arrow and with
 * hyparquet; values bit-exact, nulls, logical types, statistics (footer decoded independently),
 * key-value metadata, edge cases, Snappy against hyparquet's decompressor.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parquetMetadata, parquetReadObjects, snappyUncompress } from 'hyparquet';
import { encodeParquet, snappyCompress, snappyCompressInto, snappyMaxLength, type EncodeParquetOptions, type ParquetColumnSpec, type ParquetColumnValues } from '../../src/formats/parquet';
import { footer, readIndependent } from '../products/parquetIndependent';

type TV = unknown;
type Rec = Record<number, TV>;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-parquet-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;

function write(bytes: Uint8Array): string {
  const f = path.join(dir, `t${fileNo++}.parquet`);
  fs.writeFileSync(f, bytes);
  return f;
}

/** hyparquet: rows → column arrays (timestamps as epoch-ms numbers, other INT64 as bigint). */
async function readHy(bytes: Uint8Array): Promise<{ cols: Record<string, unknown[]>; rows: number; meta: ReturnType<typeof parquetMetadata> }> {
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const meta = parquetMetadata(ab);
  const rows = (await parquetReadObjects({ file: ab, parsers: { timestampFromMilliseconds: (ms: bigint) => Number(ms) } })) as Record<string, unknown>[];
  const cols: Record<string, unknown[]> = {};
  for (const el of meta.schema.slice(1)) cols[el.name] = rows.map((r) => r[el.name]);
  return { cols, rows: Number(meta.num_rows), meta };
}

/** Expected value of a row as read back: null for NaN in OPTIONAL columns. */
function expected(spec: ParquetColumnSpec, v: ParquetColumnValues, i: number): number | null {
  const x = Number((v as ArrayLike<number>)[i]);
  if (spec.repetition === 'OPTIONAL' && x !== x) return null;
  return spec.type === 'FLOAT' ? Math.fround(x) : x;
}

/** Bit-exact equality (distinguishes -0 and +0; NaN equals NaN). */
function same(a: unknown, b: number | null): boolean {
  if (b === null) return a === null || a === undefined;
  const x = typeof a === 'bigint' ? Number(a) : (a as number);
  return Object.is(x, b);
}

function checkValues(name: string, got: unknown[], spec: ParquetColumnSpec, v: ParquetColumnValues, n: number): void {
  expect(got.length).toBe(n);
  const bad: string[] = [];
  for (let i = 0; i < n && bad.length < 5; i++) if (!same(got[i], expected(spec, v, i))) bad.push(`${name}[${i}]: got ${String(got[i])}, want ${String(expected(spec, v, i))}`);
  expect(bad).toEqual([]);
}

function le(type: string, x: number): Buffer {
  const b = Buffer.alloc(type === 'INT32' || type === 'FLOAT' ? 4 : 8);
  if (type === 'DOUBLE') b.writeDoubleLE(x);
  else if (type === 'FLOAT') b.writeFloatLE(x);
  else if (type === 'INT32') b.writeInt32LE(x);
  else b.writeBigInt64LE(BigInt(x));
  return b;
}

/** Expected statistics of rows [a, b) of a column. */
function expectedStats(spec: ParquetColumnSpec, v: ParquetColumnValues, a: number, b: number): { nulls: number; min?: Buffer; max?: Buffer } {
  let nulls = 0;
  let mn = Infinity;
  let mx = -Infinity;
  let any = false;
  for (let i = a; i < b; i++) {
    const x = expected(spec, v, i);
    if (x === null) {
      nulls++;
      continue;
    }
    if (x !== x) continue;
    any = true;
    if (x < mn || (x === 0 && mn === 0 && Object.is(x, -0))) mn = x;
    if (x > mx || (x === 0 && mx === 0 && Object.is(x, 0))) mx = x;
  }
  if (!any) return { nulls };
  if (mn === 0) mn = -0;
  if (mx === 0) mx = 0;
  return { nulls, min: le(spec.type, mn), max: le(spec.type, mx) };
}

/** Encode, then check everything with both readers. */
async function roundTrip(schema: ParquetColumnSpec[], cols: ParquetColumnValues[], opts: EncodeParquetOptions = {}): Promise<{ bytes: Uint8Array; fm: Rec }> {
  const n = cols.length ? cols[0].length : 0;
  const bytes = encodeParquet(schema, cols, opts);
  const file = write(bytes);
  // parquet-wasm + apache-arrow
  const ind = readIndependent(file);
  expect(ind.rows).toBe(n);
  schema.forEach((s, c) => checkValues(`wasm ${s.name}`, n ? ind.col(s.name) : [], s, cols[c], n));
  for (const e of opts.kvMetadata ?? []) expect(ind.kv.get(e.key)).toBe(e.value);
  // footer: schema, logical types, statistics per row group
  const fm = footer(Buffer.from(bytes));
  expect(Number(fm[3])).toBe(n);
  const els = (fm[2] as Rec[]).slice(1);
  schema.forEach((s, c) => {
    const el = els[c];
    expect((el[4] as Buffer).toString()).toBe(s.name);
    expect(el[1]).toBe({ INT32: 1, INT64: 2, FLOAT: 4, DOUBLE: 5 }[s.type]);
    expect(el[3]).toBe(s.repetition === 'OPTIONAL' ? 1 : 0);
    if (s.logical === 'TIMESTAMP_MILLIS') {
      expect(el[6]).toBe(9);
      const ts = (el[10] as Rec)[8] as Rec;
      expect(ts[1]).toBe(true);
      expect(Object.keys((ts[2] as Rec)[1] as Rec)).toEqual([]); // MILLIS
    } else {
      expect(el[6]).toBeUndefined();
      expect(el[10]).toBeUndefined();
    }
  });
  const rgs = (fm[4] as Rec[]) ?? [];
  const rgRows = opts.rowGroupRows ?? Math.max(1, n);
  expect(rgs.length).toBe(n === 0 ? 0 : Math.ceil(n / rgRows));
  let r0 = 0;
  for (const rg of rgs) {
    const rows = Number(rg[3]);
    expect(rows).toBe(Math.min(rgRows, n - r0));
    const ccs = rg[1] as Rec[];
    schema.forEach((s, c) => {
      const md = ccs[c][3] as Rec;
      expect(Number(md[5])).toBe(rows);
      const st = md[12] as Rec;
      const want = expectedStats(s, cols[c], r0, r0 + rows);
      expect(Number(st[3])).toBe(want.nulls);
      expect(st[6]).toEqual(want.min);
      expect(st[5]).toEqual(want.max);
    });
    r0 += rows;
  }
  // hyparquet
  if (opts.codec !== 'GZIP') {
    const hy = await readHy(bytes);
    expect(hy.rows).toBe(n);
    schema.forEach((s, c) => checkValues(`hyparquet ${s.name}`, hy.cols[s.name], s, cols[c], n));
    const kv = Object.fromEntries((hy.meta.key_value_metadata ?? []).map((e) => [e.key, e.value]));
    for (const e of opts.kvMetadata ?? []) expect(kv[e.key]).toBe(e.value);
    if (n) {
      const ts = hy.meta.schema.find((e) => e.name === schema[0].name)!;
      if (schema[0].logical) expect(ts.logical_type).toEqual({ type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' });
    }
  }
  return { bytes, fm };
}

const TS: ParquetColumnSpec = { name: 'ts', type: 'INT64', logical: 'TIMESTAMP_MILLIS', encoding: 'DELTA_BINARY_PACKED' };
const T0 = Date.UTC(2020, 0, 1);

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
}

function tileLike(n: number, seed = 1): { schema: ParquetColumnSpec[]; cols: ParquetColumnValues[] } {
  const r = rng(seed);
  const ts = Float64Array.from({ length: n }, (_, i) => T0 + i * 1000 + (i > n / 2 ? 7 : 0));
  const x = Float64Array.from({ length: n }, (_, i) => 29800 + 20 * Math.sin(i / 1000) + r() - 0.5);
  const y = Float64Array.from({ length: n }, () => (r() - 0.5) * 1e-300);
  const f = Float32Array.from({ length: n }, () => r() * 100 - 50);
  const q = Int32Array.from({ length: n }, (_, i) => (i % 97 === 0 ? 17 : 0));
  const big = Int32Array.from({ length: n }, () => Math.floor(r() * 2 ** 32) - 2 ** 31);
  const plain = Int32Array.from({ length: n }, (_, i) => i * 3 - 7);
  // Short runs between nulls in the first half, then long ones (both ways of compacting values).
  for (let i = 0; i < n / 2; i += 13) x[i] = NaN;
  for (let i = Math.floor(n / 2) + 100; i < n; i += 1000) x[i] = NaN;
  for (let i = 5; i < Math.min(n, 400); i++) y[i] = NaN;
  for (let i = 0; i < n; i += 29) f[i] = NaN;
  if (n > 10) {
    x[3] = -0;
    x[4] = Infinity;
    x[6] = -Infinity;
    y[1] = 0;
    y[2] = -0;
  }
  return {
    schema: [
      TS,
      { name: 'X', type: 'DOUBLE', repetition: 'OPTIONAL', encoding: 'BYTE_STREAM_SPLIT' },
      { name: 'Y', type: 'DOUBLE', repetition: 'OPTIONAL', encoding: 'PLAIN' },
      { name: 'F', type: 'FLOAT', repetition: 'OPTIONAL', encoding: 'BYTE_STREAM_SPLIT' },
      { name: 'X_q', type: 'INT32' },
      { name: 'big', type: 'INT32', encoding: 'DELTA_BINARY_PACKED' },
      { name: 'plain', type: 'INT32', encoding: 'PLAIN' },
    ],
    cols: [ts, x, y, f, q, big, plain],
  };
}

const KV = [
  { key: 'geonode.layer', value: 'raw' },
  { key: 'geonode.units', value: JSON.stringify({ X: 'nT', Ä: 'µT' }) },
  { key: 'empty', value: '' },
];

describe('encodeParquet read back by parquet-wasm and hyparquet', () => {
  for (const codec of ['SNAPPY', 'UNCOMPRESSED', 'GZIP'] as const) {
    test(`tile-like table, ${codec}`, async () => {
      const { schema, cols } = tileLike(5000);
      await roundTrip(schema, cols, { codec, kvMetadata: KV, createdBy: 'test' });
    });
  }

  test('a station-day (86 400 rows) in one row group and one page; nulls exactly where NaN was', async () => {
    const { schema, cols } = tileLike(86400, 7);
    const { fm } = await roundTrip(schema, cols, { kvMetadata: KV });
    expect((fm[6] as Buffer).toString()).toBe('geonode parquet encoder');
  });

  test('several row groups and several pages per column chunk', async () => {
    const { schema, cols } = tileLike(2500, 3);
    await roundTrip(schema, cols, { rowGroupRows: 1000, pageRows: 300 });
    await roundTrip(schema, cols, { rowGroupRows: 999, pageRows: 1 << 20, codec: 'UNCOMPRESSED' });
  });

  test('0 rows', async () => {
    const { schema } = tileLike(0);
    const cols = schema.map((s) => (s.type === 'INT32' ? new Int32Array(0) : s.type === 'FLOAT' ? new Float32Array(0) : new Float64Array(0)));
    const { fm } = await roundTrip(schema, cols, { kvMetadata: KV });
    expect(fm[4]).toEqual([]);
  });

  test('more than 32 767 row groups (ordinals are i16; arrow-rs refuses such files) or a bad row count: clear errors', () => {
    const ts = Float64Array.from({ length: 32_768 }, (_, i) => i * 1000);
    const schema: ParquetColumnSpec[] = [{ name: 'ts', type: 'INT64', logical: 'TIMESTAMP_MILLIS' }];
    expect(() => encodeParquet(schema, [ts], { rowGroupRows: 1 })).toThrow('parquet: 32768 row groups exceed the format\'s 32767; raise rowGroupRows');
    expect(readIndependent(write(encodeParquet(schema, [ts.subarray(1)], { rowGroupRows: 1 }))).numRowGroups).toBe(32_767);
    expect(() => encodeParquet(schema, [ts], { pageRows: NaN })).toThrow('parquet: pageRows must be ≥ 1, got NaN');
    expect(() => encodeParquet(schema, [ts], { rowGroupRows: 0 })).toThrow('parquet: rowGroupRows must be ≥ 1, got 0');
  });

  test('1 row', async () => {
    const { schema, cols } = tileLike(1);
    await roundTrip(schema, cols, { kvMetadata: KV });
    await roundTrip(schema, [new Float64Array([T0]), new Float64Array([NaN]), new Float64Array([-0]), new Float32Array([1.5]), new Int32Array([-5]), new Int32Array([2 ** 31 - 1]), new Int32Array([-(2 ** 31)])]);
  });

  test('dense DOUBLE BYTE_STREAM_SPLIT (the word-wise path): every bit of every value, pages of 4k and 4k+1..3 rows', async () => {
    const r = rng(21);
    const n = 86400;
    const a = Float64Array.from({ length: n }, (_, i) => Math.round((29000 + 40 * Math.sin(i / 5000) + (r() - 0.5) * 3) * 100) / 100);
    // Sign, exponent and mantissa bytes all vary: negatives, -0, infinities, subnormals, huge.
    const specials = [-0, Infinity, -Infinity, 5e-324, -2.2250738585072014e-308, 1.7976931348623157e308, -123456.789, 2 ** 53 + 2];
    specials.forEach((v, k) => (a[100 + 97 * k] = v));
    const schema: ParquetColumnSpec[] = [TS, { name: 'a', type: 'DOUBLE', repetition: 'OPTIONAL', encoding: 'BYTE_STREAM_SPLIT' }];
    const ts = Float64Array.from({ length: n }, (_, i) => T0 + i * 1000);
    await roundTrip(schema, [ts, a]);
    await roundTrip(schema, [ts, a], { pageRows: 4001, rowGroupRows: 30003, codec: 'UNCOMPRESSED' });
    await roundTrip(schema, [ts.subarray(0, 4003), a.subarray(0, 4003)]);
  });

  test('all nulls: null_count = rows, no min/max', async () => {
    const n = 1000;
    const schema: ParquetColumnSpec[] = [TS, { name: 'a', type: 'DOUBLE', repetition: 'OPTIONAL', encoding: 'BYTE_STREAM_SPLIT' }, { name: 'b', type: 'FLOAT', repetition: 'OPTIONAL' }];
    const cols = [Float64Array.from({ length: n }, (_, i) => T0 + i), new Float64Array(n).fill(NaN), new Float32Array(n).fill(NaN)];
    const { fm } = await roundTrip(schema, cols);
    const st = ((((fm[4] as Rec[])[0][1] as Rec[])[1][3] as Rec)[12] as Rec);
    expect(Number(st[3])).toBe(n);
    expect(st[5]).toBeUndefined();
    expect(st[6]).toBeUndefined();
  });

  test('timestamps beyond 2^31 ms, negative, irregular, and near 2^53 (PLAIN fallback)', async () => {
    const r = rng(9);
    const specs: [string, Float64Array][] = [
      ['regular > 2^32', Float64Array.from({ length: 3000 }, (_, i) => 2 ** 40 + i * 1000)],
      ['pre-1970', Float64Array.from({ length: 3000 }, (_, i) => -1e12 + i * 1000)],
      ['irregular, wide deltas', (() => {
        const a = new Float64Array(3000);
        let t = T0;
        for (let i = 0; i < a.length; i++) a[i] = t += Math.floor(r() * 2 ** (1 + (i % 32)));
        return a;
      })()],
      ['delta range ≥ 2^32 (PLAIN)', Float64Array.from({ length: 300 }, (_, i) => (i % 2) * 2 ** 33 + i)],
      ['constant delta 2^33', Float64Array.from({ length: 300 }, (_, i) => i * 2 ** 33)],
      ['beyond 2^52 (PLAIN)', Float64Array.from({ length: 300 }, (_, i) => Number.MAX_SAFE_INTEGER - 1000 + i)],
      ['not sorted, wide (PLAIN)', Float64Array.from({ length: 3000 }, () => Math.floor((r() - 0.5) * 2 ** 45))],
    ];
    for (const [name, ts] of specs) {
      const { fm } = await roundTrip([TS, { name: 'v', type: 'DOUBLE' }], [ts, Float64Array.from(ts, (t) => t / 3)], { pageRows: 1000 });
      // ColumnMetaData.encodings of ts: DELTA_BINARY_PACKED (5), or PLAIN (0) when out of range.
      const enc = ((((fm[4] as Rec[])[0][1] as Rec[])[0][3] as Rec)[2] as number[]);
      expect(enc).toEqual(name.includes('PLAIN') ? [0] : [5]);
    }
    // Plain INT64 (no logical type) comes back from hyparquet as bigint; compared as numbers.
    const raw = Float64Array.from({ length: 500 }, (_, i) => (i - 250) * 2 ** 41 + i);
    await roundTrip([{ name: 'n', type: 'INT64' }, { name: 'o', type: 'INT64', repetition: 'OPTIONAL', encoding: 'PLAIN' }], [raw, Float64Array.from(raw, (x, i) => (i % 3 ? x : NaN))]);
  });

  test('statistics follow the spec for -0/+0 and NaN; ±Infinity are values', async () => {
    const schema: ParquetColumnSpec[] = [{ name: 'a', type: 'DOUBLE' }, { name: 'b', type: 'DOUBLE', repetition: 'OPTIONAL' }, { name: 'c', type: 'FLOAT' }, { name: 'd', type: 'DOUBLE' }];
    const cols = [new Float64Array([0, 1, 2]), new Float64Array([-1, NaN, -0]), new Float32Array([NaN, Infinity, -Infinity]), new Float64Array([NaN, NaN, NaN])];
    const { fm } = await roundTrip(schema, cols);
    const st = (c: number) => (((fm[4] as Rec[])[0][1] as Rec[])[c][3] as Rec)[12] as Rec;
    expect(Object.is((st(0)[6] as Buffer).readDoubleLE(0), -0)).toBe(true); // min 0 → -0.0
    expect(Object.is((st(1)[5] as Buffer).readDoubleLE(0), 0)).toBe(true); // max -0 → +0.0
    expect(Number(st(1)[3])).toBe(1);
    expect((st(2)[6] as Buffer).readFloatLE(0)).toBe(-Infinity);
    expect((st(2)[5] as Buffer).readFloatLE(0)).toBe(Infinity);
    expect(Number(st(2)[3])).toBe(0); // REQUIRED: NaN is a value, not a null
    expect(st(3)[5]).toBeUndefined(); // only NaN: no min/max
  });

  test('OPTIONAL INT32 from numbers (NaN = null); validation errors', async () => {
    const v = [1, NaN, -3, 2 ** 31 - 1, NaN, -(2 ** 31)];
    await roundTrip([{ name: 'i', type: 'INT32', repetition: 'OPTIONAL' }], [v]);
    expect(() => encodeParquet([{ name: 'i', type: 'INT32' }], [[1.5]])).toThrow(/int32/);
    expect(() => encodeParquet([{ name: 't', type: 'INT64' }], [[NaN]])).toThrow(/NaN/);
    expect(() => encodeParquet([{ name: 't', type: 'INT64' }], [[2 ** 60]])).toThrow(/safe integer/);
    expect(() => encodeParquet([{ name: 't', type: 'INT64' }, { name: 'u', type: 'INT32' }], [[1], [1, 2]])).toThrow(/values for/);
    expect(() => encodeParquet([{ name: 'x', type: 'INT32', logical: 'TIMESTAMP_MILLIS' }], [[1]])).toThrow(/INT64/);
  });

  test('RLE_DICTIONARY: flag-like, constant and wide INT32 columns; several pages and row groups; fallback to DELTA', async () => {
    const n = 3000;
    const r = rng(5);
    const flags = Int32Array.from({ length: n }, (_, i) => (i % 211 < 3 ? 1 << (i % 5) : i > 2500 ? -7 : 0));
    const zeros = new Int32Array(n);
    const wide = Int32Array.from({ length: n }, (_, i) => (i % 300 < 150 ? 2 ** 31 - 1 : -(2 ** 31)));
    const noisy = Int32Array.from({ length: n }, () => Math.floor(r() * 1000)); // too many distinct values and runs
    const many = Int32Array.from({ length: n }, (_, i) => Math.floor(i / 10)); // 300 distinct values in long runs
    const D: ParquetColumnSpec['encoding'] = 'RLE_DICTIONARY';
    const schema: ParquetColumnSpec[] = [TS, ...['flags', 'zeros', 'wide', 'noisy', 'many'].map((name) => ({ name, type: 'INT32' as const, encoding: D }))];
    const cols = [Float64Array.from({ length: n }, (_, i) => T0 + i * 1000), flags, zeros, wide, noisy, many];
    for (const opts of [{}, { pageRows: 700 }, { rowGroupRows: 1100, pageRows: 400, codec: 'UNCOMPRESSED' as const }, { codec: 'GZIP' as const }]) {
      const { fm } = await roundTrip(schema, cols, opts);
      for (const rg of fm[4] as Rec[]) {
        const cm = (c: number) => (rg[1] as Rec[])[c][3] as Rec;
        for (const c of [1, 2, 3]) {
          expect(cm(c)[2]).toEqual([0, 3, 8]); // PLAIN (dictionary page), RLE, RLE_DICTIONARY
          expect(Number(cm(c)[11])).toBeLessThan(Number(cm(c)[9])); // dictionary page before the data pages
        }
        // noisy: too many runs; many: > 256 values, unless a row group of 1100 rows holds only 110
        for (const c of 'rowGroupRows' in opts ? [4] : [4, 5]) {
          expect(cm(c)[2]).toEqual([5]);
          expect(cm(c)[11]).toBeUndefined();
        }
      }
    }
    expect(() => encodeParquet([{ name: 'd', type: 'DOUBLE', encoding: D }], [[1]])).toThrow(/RLE_DICTIONARY/);
  });

  test('BigInt64Array input for INT64', async () => {
    const v = BigInt64Array.from([5n, -(2n ** 62n), 2n ** 62n, 0n]);
    const bytes = encodeParquet([{ name: 'b', type: 'INT64' }], [v]);
    const hy = await readHy(bytes);
    expect(hy.cols.b).toEqual([5n, -(2n ** 62n), 2n ** 62n, 0n]);
    const st = ((((footer(Buffer.from(bytes))[4] as Rec[])[0][1] as Rec[])[0][3] as Rec)[12] as Rec);
    expect((st[6] as Buffer).readBigInt64LE(0)).toBe(-(2n ** 62n));
    expect((st[5] as Buffer).readBigInt64LE(0)).toBe(2n ** 62n);
  });
});

describe('snappyCompressInto with segments (byte streams of BYTE_STREAM_SPLIT pages)', () => {
  test('noisy and compressible segments, tiny and empty ones: round trip; the compressible ones shrink', () => {
    const r = rng(3);
    const n = 100_000;
    const src = new Uint8Array(5 * n + 10);
    for (let i = 0; i < n; i++) {
      src[i] = Math.floor(r() * 256); // noise
      src[n + i] = (i >> 12) & 255; // slowly varying
      src[2 * n + i] = r() < 0.9 ? 0 : Math.floor(r() * 256); // mostly zero
      src[3 * n + i] = Math.floor(r() * 256);
      src[4 * n + i] = [1, 2, 3, 4, 5, 6, 7][i % 7]; // periodic
    }
    for (const cuts of [[n, 2 * n, 3 * n, 4 * n], [n, n, 2 * n + 5, 5 * n + 10], [0], []]) {
      const dst = new Uint8Array(snappyMaxLength(src.length));
      const len = snappyCompressInto(src, dst, 0, cuts);
      const out = new Uint8Array(src.length);
      snappyUncompress(dst.subarray(0, len), out);
      expect(Buffer.from(out).equals(Buffer.from(src))).toBe(true);
      expect(len).toBeLessThan(2 * n + n / 2 + 1000); // the noise stays ~1:1, the rest compresses
    }
  });
});

describe('snappyCompress tag forms (format_description.txt: literal lengths 1–60 in the tag, 61–256 in 1 byte, 257–65536 in 2; copies split at 64 bytes)', () => {
  test('a literal of each boundary length, alone: exact bytes', () => {
    const r = rng(9);
    for (const len of [16, 60, 61, 62, 255, 256, 257, 300, 65535, 65536]) {
      // Distinct 4-byte words (a counter) so that nothing matches: one literal of `len` bytes.
      const src = Uint8Array.from({ length: len }, (_, i) => (i & 3) === 0 ? Math.floor(r() * 256) : (i >> 2) >> (8 * ((i & 3) - 1)));
      const c = snappyCompress(src);
      const n = len - 1;
      const tag = n < 60 ? [n << 2] : n < 256 ? [60 << 2, n] : [61 << 2, n & 255, n >> 8];
      const varint = len < 128 ? 1 : len < 16384 ? 2 : 3;
      expect(Array.from(c.subarray(varint, varint + tag.length))).toEqual(tag);
      expect(Buffer.from(c.subarray(varint + tag.length)).equals(Buffer.from(src))).toBe(true);
    }
  });
  test('copies of every length 4–140 round-trip', () => {
    const r = rng(10);
    for (let k = 4; k <= 140; k++) {
      const head = Uint8Array.from({ length: 40 }, () => Math.floor(r() * 256));
      // head, then its first k bytes again, then fresh noise: one copy of k bytes (k ≥ 4).
      const src = new Uint8Array(40 + k + 40);
      src.set(head);
      src.set(head.subarray(0, Math.min(k, 40)), 40);
      for (let i = 40; i < k; i++) src[40 + i] = src[i]; // longer than head: an overlapping run
      for (let i = 40 + k; i < src.length; i++) src[i] = Math.floor(r() * 256);
      const c = snappyCompress(src);
      const out = new Uint8Array(src.length);
      snappyUncompress(c, out);
      expect(Buffer.from(out).equals(Buffer.from(src))).toBe(true);
    }
  });
});

describe('snappyCompress', () => {
  const r = rng(42);
  const cases: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['1 byte', new Uint8Array([7])],
    ['15 bytes', Uint8Array.from({ length: 15 }, (_, i) => i)],
    ['zeros 300 k', new Uint8Array(300_000)],
    ['random 200 k', Uint8Array.from({ length: 200_000 }, () => Math.floor(r() * 256))],
    ['text-like', new TextEncoder().encode('2020-01-01 00:00:00.000 001     29800.12  -3600.55  35000.01  46200.00\n'.repeat(5000))],
    ['mixed', Uint8Array.from({ length: 150_000 }, (_, i) => (i % 1000 < 500 ? i & 7 : Math.floor(r() * 256)))],
  ];
  for (const [name, src] of cases) {
    test(name, () => {
      const c = snappyCompress(src);
      const out = new Uint8Array(src.length);
      snappyUncompress(c, out);
      expect(Buffer.from(out).equals(Buffer.from(src))).toBe(true);
      if (name.startsWith('zeros') || name === 'text-like') expect(c.length).toBeLessThan(src.length / 10);
    });
  }
});
