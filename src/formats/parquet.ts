/**
 * Fast Parquet encoder for FLAT schemas (pure format module: bytes in memory, no I/O).
 *
 * Covers what the product tiles need, written for speed (tight loops over typed arrays, no
 * per-value allocation, no BigInt per value):
 *
 * - physical types INT32, INT64 (optionally TIMESTAMP(MILLIS, isAdjustedToUTC=true) with converted
 *   type TIMESTAMP_MILLIS), FLOAT, DOUBLE; REQUIRED or OPTIONAL (a NaN in the input is a null for
 *   OPTIONAL columns; INT64/INT32 values come as JS numbers, which must be safe integers);
 * - encodings PLAIN, BYTE_STREAM_SPLIT (FLOAT/DOUBLE), DELTA_BINARY_PACKED (INT32/INT64; a page
 *   whose deltas do not fit falls back to PLAIN) and RLE_DICTIONARY (REQUIRED INT32 of few values
 *   in long runs, such as quality flags: a PLAIN dictionary page, then RLE runs of indices; a
 *   column chunk that does not suit it falls back to DELTA_BINARY_PACKED), data page v1,
 *   definition levels as RLE/bit-packed hybrid runs of bit width 1 (4-byte length prefix);
 * - codecs UNCOMPRESSED, SNAPPY (own compressor, the reference algorithm on 64 KiB fragments; byte
 *   streams of BYTE_STREAM_SPLIT pages are segments of their own) and GZIP (node:zlib);
 * - one or several row groups (by row count), pages of at most `pageRows` rows;
 * - column chunk statistics min_value/max_value (little-endian plain encoding) + null_count,
 *   following the spec's rules: NaN never in min/max (omitted when only NaN/null), a zero min is
 *   written as -0.0 and a zero max as +0.0; column_orders = TYPE_DEFINED_ORDER;
 * - key-value metadata, created_by; Thrift compact protocol footer written by hand.
 */
import zlib from 'node:zlib';

export type ParquetType = 'INT32' | 'INT64' | 'FLOAT' | 'DOUBLE';
export type ParquetEncoding = 'PLAIN' | 'BYTE_STREAM_SPLIT' | 'DELTA_BINARY_PACKED' | 'RLE_DICTIONARY';
export type ParquetCodec = 'UNCOMPRESSED' | 'SNAPPY' | 'GZIP';

export interface ParquetColumnSpec {
  name: string;
  type: ParquetType;
  /** Default REQUIRED. OPTIONAL: NaN values are written as nulls. */
  repetition?: 'REQUIRED' | 'OPTIONAL';
  /** INT64 only: TIMESTAMP(MILLIS, isAdjustedToUTC=true) + converted type TIMESTAMP_MILLIS. */
  logical?: 'TIMESTAMP_MILLIS';
  /**
   * Default: DELTA_BINARY_PACKED for INT32/INT64, PLAIN for FLOAT/DOUBLE. DELTA pages whose
   * values/deltas are out of range fall back to PLAIN.
   */
  encoding?: ParquetEncoding;
}

/** Values of one column: numbers (typed array or array; INT64 also as BigInt64Array). */
export type ParquetColumnValues = Float64Array | Float32Array | Int32Array | BigInt64Array | ArrayLike<number>;

export interface EncodeParquetOptions {
  codec?: ParquetCodec;
  /** Rows per row group (default: all rows in one row group). */
  rowGroupRows?: number;
  /** Rows per data page (default 131072). */
  pageRows?: number;
  /** Column chunk statistics (default true). */
  statistics?: boolean;
  kvMetadata?: { key: string; value: string }[];
  createdBy?: string;
}

const TYPE_ID: Record<ParquetType, number> = { INT32: 1, INT64: 2, FLOAT: 4, DOUBLE: 5 };
const ENC_ID: Record<ParquetEncoding | 'RLE', number> = { PLAIN: 0, RLE: 3, DELTA_BINARY_PACKED: 5, RLE_DICTIONARY: 8, BYTE_STREAM_SPLIT: 9 };
const CODEC_ID: Record<ParquetCodec, number> = { UNCOMPRESSED: 0, SNAPPY: 1, GZIP: 2 };
const WIDTH: Record<ParquetType, number> = { INT32: 4, INT64: 8, FLOAT: 4, DOUBLE: 8 };
const TWO32 = 4294967296;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** DELTA_BINARY_PACKED on INT64 only when |v| ≤ 2^52 (then every delta is exact in a double). */
const DELTA_LIMIT = 2 ** 52;

// ---------------------------------------------------------------------------------------------
// Growable byte buffer

class Bytes {
  buf: Uint8Array;
  pos = 0;
  constructor(cap: number) {
    this.buf = new Uint8Array(Math.max(64, cap));
  }
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.pos));
    this.buf = b;
  }
  byte(x: number): void {
    this.ensure(1);
    this.buf[this.pos++] = x;
  }
  /** Unsigned varint of a non-negative integer (≤ 2^53). */
  varint(x: number): void {
    this.ensure(10);
    const b = this.buf;
    while (x >= 128) {
      b[this.pos++] = (x % 128) | 128;
      x = Math.floor(x / 128);
    }
    b[this.pos++] = x;
  }
  /** Zig-zag varint of a safe integer (exact for any |x| ≤ 2^53, via BigInt off the fast path). */
  zigzag(x: number): void {
    if (x >= -0x40000000 && x < 0x40000000) {
      this.varint(x >= 0 ? x * 2 : -x * 2 - 1);
      return;
    }
    let z = BigInt(x);
    z = z >= 0n ? z << 1n : (-z << 1n) - 1n;
    this.ensure(10);
    while (z >= 128n) {
      this.buf[this.pos++] = Number(z & 127n) | 128;
      z >>= 7n;
    }
    this.buf[this.pos++] = Number(z);
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

// ---------------------------------------------------------------------------------------------
// Thrift compact protocol (write side)

const T_TRUE = 1;
const T_FALSE = 2;
const T_I16 = 4;
const T_I32 = 5;
const T_I64 = 6;
const T_BINARY = 8;
const T_LIST = 9;
const T_STRUCT = 12;

const utf8 = new TextEncoder();

class Thrift {
  private stack: number[] = [];
  private last = 0;
  constructor(readonly out: Bytes) {}
  private field(id: number, type: number): void {
    const d = id - this.last;
    if (d > 0 && d <= 15) this.out.byte((d << 4) | type);
    else {
      this.out.byte(type);
      this.out.zigzag(id);
    }
    this.last = id;
  }
  i32(id: number, v: number): this {
    this.field(id, T_I32);
    this.out.zigzag(v);
    return this;
  }
  i16(id: number, v: number): this {
    this.field(id, T_I16);
    this.out.zigzag(v);
    return this;
  }
  i64(id: number, v: number): this {
    this.field(id, T_I64);
    this.out.zigzag(v);
    return this;
  }
  bool(id: number, v: boolean): this {
    this.field(id, v ? T_TRUE : T_FALSE);
    return this;
  }
  binary(id: number, v: Uint8Array | string): this {
    const b = typeof v === 'string' ? utf8.encode(v) : v;
    this.field(id, T_BINARY);
    this.out.varint(b.length);
    this.out.bytes(b);
    return this;
  }
  /** Open a struct field (close with end()). */
  struct(id: number): this {
    this.field(id, T_STRUCT);
    this.stack.push(this.last);
    this.last = 0;
    return this;
  }
  /** Start a list field of `n` elements of element type `et`. */
  list(id: number, et: number, n: number): this {
    this.field(id, T_LIST);
    this.listHeader(et, n);
    return this;
  }
  private listHeader(et: number, n: number): void {
    if (n < 15) this.out.byte((n << 4) | et);
    else {
      this.out.byte(0xf0 | et);
      this.out.varint(n);
    }
  }
  /** Element of a struct list: open (close with end()). */
  elem(): this {
    this.stack.push(this.last);
    this.last = 0;
    return this;
  }
  /** Elements of an i32 list. */
  i32Elem(v: number): this {
    this.out.zigzag(v);
    return this;
  }
  stringElem(v: string): this {
    const b = utf8.encode(v);
    this.out.varint(b.length);
    this.out.bytes(b);
    return this;
  }
  /** Close a struct (writes the stop byte). */
  end(): this {
    this.out.byte(0);
    this.last = this.stack.pop() ?? 0;
    return this;
  }
}

// ---------------------------------------------------------------------------------------------
// Snappy (raw block format) compressor

const SNAPPY_FRAGMENT = 1 << 16;
const SNAPPY_HASH_BITS = 14;
const snappyTable = new Uint16Array(1 << SNAPPY_HASH_BITS);

/** Worst-case Snappy output size for n input bytes. */
export function snappyMaxLength(n: number): number {
  return 32 + n + Math.floor(n / 6);
}

/*
 * emitLiteral and emitCopy keep their rare tag forms (literals over 60 bytes, copies of 65–67
 * bytes) on the code path of the common ones: V8 optimizes these functions early, and a branch it
 * has not seen run yet has no type feedback, so its first use threw the optimized compressor away
 * (2–3 extra compilations per worker thread).
 */
function emitLiteral(src: Uint8Array, from: number, to: number, dst: Uint8Array, op: number): number {
  const len = to - from;
  const n = len - 1;
  if (n < 60) {
    dst[op] = n << 2;
    op += 1;
  } else {
    // Tag 60/61/62 + n in 1–3 little-endian bytes; the unused bytes written here are
    // overwritten by the literal itself (len > 60 ≥ 3).
    const k = n < 256 ? 1 : n < 65536 ? 2 : 3;
    dst[op] = (59 + k) << 2;
    dst[op + 1] = n & 255;
    dst[op + 2] = (n >>> 8) & 255;
    dst[op + 3] = n >>> 16;
    op += 1 + k;
  }
  if (len < 32) for (let i = 0; i < len; i++) dst[op + i] = src[from + i];
  else dst.set(src.subarray(from, to), op);
  return op + len;
}

function emitCopy(offset: number, len: number, dst: Uint8Array, op: number): number {
  // Copies of 64 bytes, or one of 60 when 65–67 bytes are left (every piece stays ≥ 4 bytes).
  while (len > 64) {
    const piece = len >= 68 ? 64 : 60;
    dst[op] = ((piece - 1) << 2) | 2;
    dst[op + 1] = offset & 255;
    dst[op + 2] = offset >>> 8;
    op += 3;
    len -= piece;
  }
  if (len < 12 && offset < 2048) {
    dst[op] = 1 | ((len - 4) << 2) | ((offset >>> 8) << 5);
    dst[op + 1] = offset & 255;
    return op + 2;
  }
  dst[op] = 2 | ((len - 1) << 2);
  dst[op + 1] = offset & 255;
  dst[op + 2] = offset >>> 8;
  return op + 3;
}

/**
 * Snappy's matcher over one fragment. Every 4-byte load (hash input, candidate check, match
 * extension) is a DataView read, which V8 compiles to one unaligned load: assembling the word from
 * four byte reads cost ~10 % of the compressor. Every load starts at or before ipLimit = end − 15
 * (candidates are earlier positions), so none reaches past src.
 */
function compressFragment(src: Uint8Array, dv: DataView, start: number, end: number, dst: Uint8Array, op: number, fast = false): number {
  const len = end - start;
  if (len < 16) return len > 0 ? emitLiteral(src, start, end, dst, op) : op;
  const table = snappyTable;
  table.fill(0);
  const shift = 32 - SNAPPY_HASH_BITS;
  const ipLimit = end - 15;
  let nextEmit = start;
  let ip = start + 1;
  // Skip growth without a branch on `fast` in the loop (see emitLiteral): +1 per miss, or +skip/32.
  const geometric = fast ? -1 : 0;
  const linear = fast ? 0 : 1;
  let nextHash = Math.imul(dv.getInt32(ip, true), 0x1e35a7bd) >>> shift;
  for (;;) {
    let skip = 32;
    let nextIp = ip;
    let candidate = 0;
    for (;;) {
      ip = nextIp;
      const h = nextHash;
      // Linear skipping (snappy ≤ 1.1.7) has the better ratio on BSS streams; `fast` uses the
      // geometric skipping of snappy ≥ 1.1.8, for segments that are mostly noise.
      nextIp = ip + (skip >> 5);
      skip += ((skip >> 5) & geometric) + linear;
      if (nextIp > ipLimit) {
        if (nextEmit < end) op = emitLiteral(src, nextEmit, end, dst, op);
        return op;
      }
      nextHash = Math.imul(dv.getInt32(nextIp, true), 0x1e35a7bd) >>> shift;
      candidate = start + table[h];
      table[h] = ip - start;
      if (dv.getInt32(ip, true) === dv.getInt32(candidate, true)) break;
    }
    op = emitLiteral(src, nextEmit, ip, dst, op);
    for (;;) {
      const base = ip;
      let a = candidate + 4;
      let b = ip + 4;
      while (b + 4 <= end && dv.getInt32(a, true) === dv.getInt32(b, true)) {
        a += 4;
        b += 4;
      }
      while (b < end && src[a] === src[b]) {
        a++;
        b++;
      }
      op = emitCopy(base - candidate, b - base, dst, op);
      ip = b;
      nextEmit = ip;
      if (ip >= ipLimit) {
        if (nextEmit < end) op = emitLiteral(src, nextEmit, end, dst, op);
        return op;
      }
      table[Math.imul(dv.getInt32(ip - 1, true), 0x1e35a7bd) >>> shift] = ip - 1 - start;
      const h = Math.imul(dv.getInt32(ip, true), 0x1e35a7bd) >>> shift;
      candidate = start + table[h];
      table[h] = ip - start;
      if (dv.getInt32(ip, true) !== dv.getInt32(candidate, true)) break;
    }
    ip++;
    nextHash = Math.imul(dv.getInt32(ip, true), 0x1e35a7bd) >>> shift;
  }
}

/**
 * Segments (see snappyCompressInto) start with a SNAPPY_PROBE-byte fragment matched with linear
 * skipping; when it shrinks by less than 1/8 the rest of the segment is matched with geometric
 * skipping. The low-order byte streams of BYTE_STREAM_SPLIT measurement values are noise, where
 * linear skipping keeps restarting on chance 4-byte matches (≈20× the time for a ~1 % gain).
 */
const SNAPPY_PROBE = 16384;

function compressSegment(src: Uint8Array, dv: DataView, s: number, e: number, dst: Uint8Array, op: number): number {
  let a = s;
  let noisy = false;
  if (e - s >= 2 * SNAPPY_PROBE) {
    const o = compressFragment(src, dv, s, s + SNAPPY_PROBE, dst, op);
    noisy = o - op > SNAPPY_PROBE - (SNAPPY_PROBE >> 3);
    op = o;
    a = s + SNAPPY_PROBE;
  }
  for (; a < e; a += SNAPPY_FRAGMENT) op = compressFragment(src, dv, a, Math.min(e, a + SNAPPY_FRAGMENT), dst, op, noisy);
  return op;
}

/**
 * Snappy-compress src into dst at op (dst needs snappyMaxLength(src.length) bytes from op);
 * returns the end offset. `cuts` (ascending offsets inside src) split it into segments that are
 * compressed independently (64 KiB fragments each, skipping chosen per segment); without cuts the
 * whole input is matched in 64 KiB fragments with linear skipping.
 */
export function snappyCompressInto(src: Uint8Array, dst: Uint8Array, op: number, cuts?: ArrayLike<number>): number {
  let n = src.length;
  while (n >= 128) {
    dst[op++] = (n & 127) | 128;
    n = Math.floor(n / 128);
  }
  dst[op++] = n;
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  if (!cuts) {
    for (let s = 0; s < src.length; s += SNAPPY_FRAGMENT) op = compressFragment(src, dv, s, Math.min(src.length, s + SNAPPY_FRAGMENT), dst, op);
    return op;
  }
  let s = 0;
  for (let k = 0; k <= cuts.length; k++) {
    const e = k < cuts.length ? Math.min(src.length, Math.max(s, cuts[k])) : src.length;
    op = compressSegment(src, dv, s, e, dst, op);
    s = e;
  }
  return op;
}

/** Snappy-compress a buffer (raw block format). */
export function snappyCompress(src: Uint8Array): Uint8Array {
  const dst = new Uint8Array(snappyMaxLength(src.length));
  return dst.slice(0, snappyCompressInto(src, dst, 0));
}

// ---------------------------------------------------------------------------------------------
// Column preparation and statistics

interface PreparedColumn {
  spec: ParquetColumnSpec;
  optional: boolean;
  /** Values as a typed array of the physical width (INT64: Float64Array of integral numbers). */
  f64?: Float64Array;
  f32?: Float32Array;
  i32?: Int32Array;
  i64?: BigInt64Array;
}

function prepare(spec: ParquetColumnSpec, v: ParquetColumnValues, n: number): PreparedColumn {
  if (v.length !== n) throw new Error(`parquet column ${spec.name}: ${v.length} values for ${n} rows`);
  const optional = spec.repetition === 'OPTIONAL';
  const p: PreparedColumn = { spec, optional };
  switch (spec.type) {
    case 'DOUBLE':
      p.f64 = v instanceof Float64Array ? v : Float64Array.from(v as ArrayLike<number>);
      break;
    case 'FLOAT':
      p.f32 = v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
      break;
    case 'INT32': {
      if (v instanceof Int32Array && !optional) p.i32 = v;
      else {
        // Validated copy: OPTIONAL INT32 may carry NaN for null in a number array.
        const f = v instanceof Float64Array ? v : Float64Array.from(v as ArrayLike<number>);
        const i = firstBad(f, n, optional, true);
        if (i >= 0) {
          if (f[i] !== f[i]) throw new Error(`parquet column ${spec.name}: NaN in a REQUIRED INT32 column (row ${i})`);
          throw new Error(`parquet column ${spec.name}: ${f[i]} is not an int32 (row ${i})`);
        }
        if (optional) p.f64 = f;
        else p.i32 = Int32Array.from(f);
      }
      break;
    }
    case 'INT64': {
      if (typeof BigInt64Array !== 'undefined' && v instanceof BigInt64Array) {
        if (optional) throw new Error(`parquet column ${spec.name}: OPTIONAL INT64 needs numbers (NaN = null), not a BigInt64Array`);
        p.i64 = v;
        break;
      }
      const f = v instanceof Float64Array ? v : Float64Array.from(v as ArrayLike<number>);
      const i = firstBad(f, n, optional, false);
      if (i >= 0) {
        if (f[i] !== f[i]) throw new Error(`parquet column ${spec.name}: NaN in a REQUIRED INT64 column (row ${i})`);
        throw new Error(`parquet column ${spec.name}: ${f[i]} is not a safe integer (row ${i})`);
      }
      p.f64 = f;
      break;
    }
    default:
      throw new Error(`parquet column ${(spec as ParquetColumnSpec).name}: unsupported type ${(spec as ParquetColumnSpec).type}`);
  }
  return p;
}

/**
 * First row of f[0, n) that an INT32 (int32) or INT64 (safe integer) column cannot hold, NaN
 * counting only when the column is REQUIRED; −1 when all fit. The scan is a leaf loop: V8
 * optimizes a hot loop on the stack of the function it is in, and code after it that had not run
 * yet (prepare's stores, here) then lacked type feedback and sent the whole function back to the
 * interpreter on each call.
 */
function firstBad(f: Float64Array, n: number, optional: boolean, int32: boolean): number {
  for (let i = 0; i < n; i++) {
    const x = f[i];
    if (x !== x) {
      if (!optional) return i;
    } else if (int32 ? (x | 0) !== x : !(x === Math.floor(x) && x <= MAX_SAFE && x >= -MAX_SAFE)) return i;
  }
  return -1;
}

interface ChunkStats {
  nulls: number;
  /** min/max hold at least one value (false when only nulls/NaN were seen). */
  has: boolean;
  min: number;
  max: number;
  minBig?: bigint;
  maxBig?: bigint;
}

/** Statistics of rows [a, b) by a separate pass (pages whose encoder does not compute them). */
function chunkStats(p: PreparedColumn, a: number, b: number): ChunkStats {
  let nulls = 0;
  let mn = Infinity;
  let mx = -Infinity;
  if (p.i64) {
    let lo = p.i64[a];
    let hi = p.i64[a];
    for (let i = a; i < b; i++) {
      const x = p.i64[i];
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    return { nulls: 0, has: b > a, min: 0, max: 0, minBig: lo, maxBig: hi };
  }
  if (p.i32) {
    // Monomorphic loop for Int32Array columns; no nulls possible.
    const v = p.i32;
    let lo = 2147483647;
    let hi = -2147483648;
    for (let i = a; i < b; i++) {
      const x = v[i];
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    return { nulls: 0, has: b > a, min: lo, max: hi };
  }
  const v = (p.f64 ?? p.f32)!;
  for (let i = a; i < b; i++) {
    const x = v[i];
    if (x !== x) {
      nulls++;
      continue;
    }
    if (x < mn) mn = x;
    if (x > mx) mx = x;
  }
  const has = b - a - nulls > 0;
  // REQUIRED floating columns keep NaN as a value (not a null, not in min/max).
  const floating = p.spec.type === 'DOUBLE' || p.spec.type === 'FLOAT';
  if (floating && !p.optional) nulls = 0;
  return { nulls, has, min: mn, max: mx };
}

/** Column chunk statistics from its pages' (same comparisons, in row order). */
function mergeStats(into: ChunkStats | null, s: ChunkStats): ChunkStats {
  if (!into) return s;
  into.nulls += s.nulls;
  if (!s.has) return into;
  if (!into.has) {
    into.has = true;
    into.min = s.min;
    into.max = s.max;
    into.minBig = s.minBig;
    into.maxBig = s.maxBig;
    return into;
  }
  if (s.min < into.min) into.min = s.min;
  if (s.max > into.max) into.max = s.max;
  if (s.minBig !== undefined && into.minBig !== undefined && s.minBig < into.minBig) into.minBig = s.minBig;
  if (s.maxBig !== undefined && into.maxBig !== undefined && s.maxBig > into.maxBig) into.maxBig = s.maxBig;
  return into;
}

// Results of the fused page encoders (writeDefLevels, writeByteStreamSplit, writeDelta): null
// count, and min/max of the non-null, non-NaN values (lo > hi when there was none).
let gNulls = 0;
let gLo = 0;
let gHi = 0;

function statBytes(type: ParquetType, x: number, big?: bigint): Uint8Array {
  const b = new Uint8Array(WIDTH[type]);
  const dv = new DataView(b.buffer);
  if (type === 'DOUBLE') dv.setFloat64(0, x, true);
  else if (type === 'FLOAT') dv.setFloat32(0, x, true);
  else if (type === 'INT32') dv.setInt32(0, x, true);
  else dv.setBigInt64(0, big ?? BigInt(x), true);
  return b;
}

// ---------------------------------------------------------------------------------------------
// Page encoding into a reusable scratch buffer

// Three module-level scratch buffers (encodeParquet is synchronous, so they are never shared):
// raw page, compacted non-null values, compressed page.
let pageScratch = new Uint8Array(1 << 16);
let valueScratch = new Uint8Array(1 << 16);
let compScratch = new Uint8Array(1 << 16);

function ensurePage(n: number): Uint8Array {
  if (pageScratch.length < n) pageScratch = new Uint8Array(Math.max(n, pageScratch.length * 2));
  return pageScratch;
}
function ensureScratch2(n: number): Uint8Array {
  if (valueScratch.length < n) valueScratch = new Uint8Array(Math.max(n, valueScratch.length * 2));
  return valueScratch;
}
function ensureComp(n: number): Uint8Array {
  if (compScratch.length < n) compScratch = new Uint8Array(Math.max(n, compScratch.length * 2));
  return compScratch;
}

/**
 * Definition levels (bit width 1) as RLE runs, with the v1 4-byte length prefix. Returns end;
 * gNulls = nulls. `compact` (DOUBLE BYTE_STREAM_SPLIT): with nulls, the non-null values of the
 * page also go to bssCompact in the same pass.
 */
function writeDefLevels(v: Float64Array | Float32Array, a: number, b: number, dst: Uint8Array, op: number, compact: boolean): number {
  const lenAt = op;
  if (noNaN(v, a, b)) {
    // No null (the common case): one run of b − a ones, without looking at the values one by one.
    op = varintInto(dst, op + 4, (b - a) * 2);
    dst[op++] = 1;
    gNulls = 0;
  } else if (compact && v instanceof Float64Array) {
    if (bssCompact.length < b - a) bssCompact = new Float64Array(Math.max(b - a, bssCompact.length * 2));
    op = defLevelRuns(v, a, b, dst, op + 4, bssCompact);
  } else op = defLevelRuns(v, a, b, dst, op + 4, null);
  const len = op - lenAt - 4;
  dst[lenAt] = len & 255;
  dst[lenAt + 1] = (len >>> 8) & 255;
  dst[lenAt + 2] = (len >>> 16) & 255;
  dst[lenAt + 3] = len >>> 24;
  return op;
}

/**
 * True when v[a, b) has no NaN for sure: eight values at a time, whose sum is NaN when one of them
 * is (∞ − ∞ too, which only sends the caller to its exact path).
 */
function noNaN(v: Float64Array | Float32Array, a: number, b: number): boolean {
  let i = a;
  for (; i + 8 <= b; i += 8) {
    const s = v[i] + v[i + 1] + (v[i + 2] + v[i + 3]) + (v[i + 4] + v[i + 5] + (v[i + 6] + v[i + 7]));
    if (s !== s) return false;
  }
  let s = 0;
  for (; i < b; i++) s += v[i];
  return s === s;
}

/**
 * The RLE runs of writeDefLevels; gNulls = nulls. With `compact`, the non-null values also go
 * there from index 0, a run at a time (writeByteStreamSplit encodes them from there: no second
 * pass). A leaf loop (see firstBad); run lengths fit 31 bits (pages hold < 2^30 rows).
 */
function defLevelRuns(v: Float64Array | Float32Array, a: number, b: number, dst: Uint8Array, op: number, compact: Float64Array | null): number {
  let i = a;
  let nulls = 0;
  let k = 0;
  while (i < b) {
    const isNull = v[i] !== v[i];
    let j = i + 1;
    while (j < b && (v[j] !== v[j]) === isNull) j++;
    const def = +!isNull;
    nulls += (j - i) * (1 - def);
    if (compact !== null && def === 1) {
      if (j - i > 16) compact.set(v.subarray(i, j), k);
      else for (let t = i; t < j; t++) compact[k + t - i] = v[t];
      k += j - i;
    }
    let h = (j - i) * 2;
    while (h >= 128) {
      dst[op++] = (h & 127) | 128;
      h >>>= 7;
    }
    dst[op++] = h;
    dst[op++] = def;
    i = j;
  }
  gNulls = nulls;
  return op;
}

/** Non-null values of rows [a, b) (or all of them) as a view of `w`-byte elements. */
function valueBytes(p: PreparedColumn, a: number, b: number, nonNull: number): Uint8Array {
  const t = p.spec.type;
  if (t === 'DOUBLE' || (t === 'INT64' && p.i64)) {
    const v = (p.i64 ?? p.f64)!;
    if (nonNull === b - a) return new Uint8Array(v.buffer, v.byteOffset + a * 8, (b - a) * 8);
    const f = p.f64!;
    const s = ensureScratch2(nonNull * 8);
    const out = new Float64Array(s.buffer, 0, nonNull);
    let k = 0;
    for (let i = a; i < b; i++) {
      const x = f[i];
      if (x === x) out[k++] = x;
    }
    return s.subarray(0, nonNull * 8);
  }
  if (t === 'FLOAT' || (t === 'INT32' && p.i32)) {
    const v = (p.f32 ?? p.i32)!;
    if (nonNull === b - a) return new Uint8Array(v.buffer, v.byteOffset + a * 4, (b - a) * 4);
    const s = ensureScratch2(nonNull * 4);
    const out = new Float32Array(s.buffer, 0, nonNull);
    const f = p.f32!;
    let k = 0;
    for (let i = a; i < b; i++) {
      const x = f[i];
      if (x === x) out[k++] = x;
    }
    return s.subarray(0, nonNull * 4);
  }
  const f = p.f64!;
  if (t === 'INT32') {
    const s = ensureScratch2(nonNull * 4);
    const out = new Int32Array(s.buffer, 0, nonNull);
    let k = 0;
    for (let i = a; i < b; i++) {
      const x = f[i];
      if (x === x) out[k++] = x;
    }
    return s.subarray(0, nonNull * 4);
  }
  // INT64 from numbers: two int32 halves (little-endian).
  const s = ensureScratch2(nonNull * 8);
  const out = new Int32Array(s.buffer, 0, nonNull * 2);
  let k = 0;
  for (let i = a; i < b; i++) {
    const x = f[i];
    if (x !== x) continue;
    const hi = Math.floor(x / TWO32);
    out[k++] = x - hi * TWO32;
    out[k++] = hi;
  }
  return s.subarray(0, nonNull * 8);
}

function writePlain(src: Uint8Array, dst: Uint8Array, op: number): number {
  dst.set(src, op);
  return op + src.length;
}

/**
 * BYTE_STREAM_SPLIT of the non-null values of rows [a, b) of a FLOAT/DOUBLE column; gLo/gHi =
 * min/max of the non-NaN values (the statistics need no second read of the column). DOUBLE goes
 * word-wise (bssDenseF64), after compacting out the nulls if there are any: two cheap passes beat
 * one byte-wise pass. FLOAT skips nulls in its byte-wise pass.
 */
function writeByteStreamSplit(p: PreparedColumn, a: number, b: number, nonNull: number, dst: Uint8Array, op: number): number {
  const n = nonNull;
  if (p.f64) {
    // With nulls, writeDefLevels has just put the non-null values of this page in bssCompact.
    return n === b - a ? bssDenseF64(p.f64, a, b, dst, op) : bssDenseF64(bssCompact, 0, n, dst, op);
  }
  let lo = Infinity;
  let hi = -Infinity;
  const f = p.f32!;
  const u = new Uint32Array(f.buffer, f.byteOffset, f.length);
  const skipNaN = n !== b - a;
  let o = op;
  for (let i = a; i < b; i++) {
    const y = f[i];
    if (y !== y) {
      if (skipNaN) continue;
    } else {
      if (y < lo) lo = y;
      if (y > hi) hi = y;
    }
    const x = u[i];
    dst[o] = x;
    dst[o + n] = x >>> 8;
    dst[o + 2 * n] = x >>> 16;
    dst[o + 3 * n] = x >>> 24;
    o++;
  }
  gLo = lo;
  gHi = hi;
  return op + 4 * n;
}

let bssScratch = new Uint32Array(1 << 14);
let bssCompact = new Float64Array(1 << 10);

/**
 * BYTE_STREAM_SPLIT of dense doubles: four values at a time become one 32-bit word per byte
 * stream, in an aligned scratch (streams padded to whole words) copied into the page stream by
 * stream. Byte-wise stores to eight distant places per value were the encoder's largest cost.
 */
function bssDenseF64(f: Float64Array, a: number, b: number, dst: Uint8Array, op: number): number {
  const n = b - a;
  const m = n >>> 2;
  const w = (n + 3) >>> 2; // words per stream
  if (bssScratch.length < 8 * w) bssScratch = new Uint32Array(Math.max(8 * w, bssScratch.length * 2));
  const s = bssScratch;
  bssWords(new Uint32Array(f.buffer, f.byteOffset + a * 8, 2 * n), f, a, s, m, w);
  const sb = new Uint8Array(s.buffer, 0, 32 * w);
  const src = new Uint8Array(f.buffer, f.byteOffset + a * 8, 8 * n);
  let lo = gLo;
  let hi = gHi;
  for (let i = 4 * m; i < n; i++) {
    for (let k = 0; k < 8; k++) sb[4 * w * k + i] = src[8 * i + k];
    const x = f[a + i];
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  gLo = lo;
  gHi = hi;
  if (n === 4 * w) dst.set(sb.subarray(0, 8 * n), op);
  else for (let k = 0; k < 8; k++) dst.set(sb.subarray(4 * w * k, 4 * w * k + n), op + k * n);
  return op + 8 * n;
}

/**
 * The 4-value groups of bssDenseF64: u holds the doubles f[a, …) as (low, high) 32-bit halves, s
 * gets stream k at word k·w; gLo/gHi = min/max of those values (in order, NaN never wins: as a
 * separate pass would, without a second read). Hot loops live in leaves like this one (firstBad).
 */
function bssWords(u: Uint32Array, f: Float64Array, a: number, s: Uint32Array, m: number, w: number): void {
  let lo = Infinity;
  let hi = -Infinity;
  for (let g = 0, i = 0, j = a; g < m; g++, i += 8, j += 4) {
    const x0 = f[j];
    const x1 = f[j + 1];
    const x2 = f[j + 2];
    const x3 = f[j + 3];
    if (x0 < lo) lo = x0;
    if (x0 > hi) hi = x0;
    if (x1 < lo) lo = x1;
    if (x1 > hi) hi = x1;
    if (x2 < lo) lo = x2;
    if (x2 > hi) hi = x2;
    if (x3 < lo) lo = x3;
    if (x3 > hi) hi = x3;
    const l0 = u[i];
    const h0 = u[i + 1];
    const l1 = u[i + 2];
    const h1 = u[i + 3];
    const l2 = u[i + 4];
    const h2 = u[i + 5];
    const l3 = u[i + 6];
    const h3 = u[i + 7];
    s[g] = (l0 & 0xff) | ((l1 & 0xff) << 8) | ((l2 & 0xff) << 16) | (l3 << 24);
    s[g + w] = ((l0 >>> 8) & 0xff) | (l1 & 0xff00) | ((l2 & 0xff00) << 8) | ((l3 >>> 8) << 24);
    s[g + 2 * w] = ((l0 >>> 16) & 0xff) | ((l1 >>> 8) & 0xff00) | (l2 & 0xff0000) | ((l3 >>> 16) << 24);
    s[g + 3 * w] = (l0 >>> 24) | ((l1 >>> 16) & 0xff00) | ((l2 >>> 8) & 0xff0000) | (l3 & 0xff000000);
    s[g + 4 * w] = (h0 & 0xff) | ((h1 & 0xff) << 8) | ((h2 & 0xff) << 16) | (h3 << 24);
    s[g + 5 * w] = ((h0 >>> 8) & 0xff) | (h1 & 0xff00) | ((h2 & 0xff00) << 8) | ((h3 >>> 8) << 24);
    s[g + 6 * w] = ((h0 >>> 16) & 0xff) | ((h1 >>> 8) & 0xff00) | (h2 & 0xff0000) | ((h3 >>> 16) << 24);
    s[g + 7 * w] = (h0 >>> 24) | ((h1 >>> 16) & 0xff00) | ((h2 >>> 8) & 0xff0000) | (h3 & 0xff000000);
  }
  gLo = lo;
  gHi = hi;
}

const DELTA_BLOCK = 128;
const DELTA_MINIBLOCKS = 4;
const DELTA_MINI = 32;
const deltaBuf = new Float64Array(DELTA_BLOCK);

function varintInto(dst: Uint8Array, op: number, x: number): number {
  while (x >= 128) {
    dst[op++] = (x % 128) | 128;
    x = Math.floor(x / 128);
  }
  dst[op++] = x;
  return op;
}

function zigzagInto(dst: Uint8Array, op: number, x: number): number {
  if (x >= -0x40000000 && x < 0x40000000) return varintInto(dst, op, x >= 0 ? x * 2 : -x * 2 - 1);
  let z = BigInt(x);
  z = z >= 0n ? z << 1n : (-z << 1n) - 1n;
  while (z >= 128n) {
    dst[op++] = Number(z & 127n) | 128;
    z >>= 7n;
  }
  dst[op++] = Number(z);
  return op;
}

let gMin = 0;
let gMax = 0;

/** Deltas of the next m non-null values from index i (after `prev`) into deltaBuf; new i or -1. */
function gatherF64(v: Float64Array, i: number, m: number, prev: number, dmin: number, dmax: number): number {
  const d = deltaBuf;
  let minD = Infinity;
  let maxD = -Infinity;
  let lo = gLo;
  let hi = gHi;
  for (let k = 0; k < m; ) {
    const x = v[i++];
    if (x !== x) continue;
    if (x > DELTA_LIMIT || x < -DELTA_LIMIT) return -1;
    const dx = x - prev;
    if (dx < dmin || dx > dmax) return -1;
    d[k++] = dx;
    if (dx < minD) minD = dx;
    if (dx > maxD) maxD = dx;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
    prev = x;
  }
  gMin = minD;
  gMax = maxD;
  gLo = lo;
  gHi = hi;
  return i;
}

function gatherI32(v: Int32Array, i: number, m: number, prev: number): number {
  const d = deltaBuf;
  let minD = Infinity;
  let maxD = -Infinity;
  let lo = gLo;
  let hi = gHi;
  for (let k = 0; k < m; k++) {
    const x = v[i++];
    const dx = x - prev;
    d[k] = dx;
    if (dx < minD) minD = dx;
    if (dx > maxD) maxD = dx;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
    prev = x;
  }
  // Deltas must stay within int32 for INT32 readers.
  if (minD < -2147483648 || maxD > 2147483647) return -1;
  gMin = minD;
  gMax = maxD;
  gLo = lo;
  gHi = hi;
  return i;
}

/**
 * Whether the m values from index i (after `prev`) all step by the same delta, in range (regular
 * time stamps, constant flags: most blocks). Then gMin = gMax = that delta and gLo/gHi take the
 * block's ends (a constant step is monotonic), with no per-value work beyond one compare.
 */
function constStepI32(v: Int32Array, i: number, m: number, prev: number): boolean {
  const d = v[i] - prev;
  const e = i + m;
  let p = v[i];
  for (let k = i + 1; k < e; k++) {
    const x = v[k];
    if (x - p !== d) return false;
    p = x;
  }
  if (d < -2147483648 || d > 2147483647) return false;
  gMin = gMax = d;
  const x0 = v[i];
  if (x0 < gLo) gLo = x0;
  if (x0 > gHi) gHi = x0;
  if (p < gLo) gLo = p;
  if (p > gHi) gHi = p;
  return true;
}

/** constStepI32 for numbers: NaN (null) or out-of-range values leave it to gatherF64. */
function constStepF64(v: Float64Array, i: number, m: number, prev: number, dmin: number, dmax: number): boolean {
  const d = v[i] - prev;
  if (!(d >= dmin && d <= dmax)) return false;
  const e = i + m;
  let p = v[i];
  for (let k = i + 1; k < e; k++) {
    const x = v[k];
    if (x - p !== d) return false;
    p = x;
  }
  const x0 = v[i];
  if (!(x0 <= DELTA_LIMIT && x0 >= -DELTA_LIMIT && p <= DELTA_LIMIT && p >= -DELTA_LIMIT)) return false;
  gMin = gMax = d;
  if (x0 < gLo) gLo = x0;
  if (x0 > gHi) gHi = x0;
  if (p < gLo) gLo = p;
  if (p > gHi) gHi = p;
  return true;
}

/**
 * DELTA_BINARY_PACKED of integral numbers v[a..b) skipping NaN (nulls). Returns the end offset,
 * or -1 when a value or delta is out of the supported range (|v| ≤ 2^52, INT32 deltas within
 * int32, delta − min delta < 2^32): the caller then writes PLAIN. gLo/gHi = min/max of the values.
 */
function writeDelta(v: Float64Array | Int32Array, a: number, b: number, nonNull: number, int32: boolean, dst: Uint8Array, op: number): number {
  gLo = Infinity;
  gHi = -Infinity;
  op = varintInto(dst, op, DELTA_BLOCK);
  op = varintInto(dst, op, DELTA_MINIBLOCKS);
  op = varintInto(dst, op, nonNull);
  if (nonNull === 0) return zigzagInto(dst, op, 0);
  let i = a;
  while (v[i] !== v[i]) i++;
  let prev = v[i++];
  if (prev > DELTA_LIMIT || prev < -DELTA_LIMIT) return -1;
  gLo = gHi = prev;
  op = zigzagInto(dst, op, prev);
  let left = nonNull - 1;
  const d = deltaBuf;
  const dmin = int32 ? -2147483648 : -DELTA_LIMIT * 2;
  const dmax = int32 ? 2147483647 : DELTA_LIMIT * 2;
  while (left > 0) {
    const m = left < DELTA_BLOCK ? left : DELTA_BLOCK;
    // Monomorphic loops (Float64Array time stamps vs Int32Array flags).
    if (v instanceof Int32Array ? constStepI32(v, i, m, prev) : i + m <= b && constStepF64(v, i, m, prev, dmin, dmax)) {
      i += m;
      prev = v[i - 1];
      op = zigzagInto(dst, op, gMin);
      for (let mb = 0; mb < DELTA_MINIBLOCKS; mb++) dst[op++] = 0;
      left -= m;
      continue;
    }
    i = v instanceof Int32Array ? gatherI32(v, i, m, prev) : gatherF64(v, i, m, prev, dmin, dmax);
    if (i < 0) return -1;
    prev = v[i - 1];
    const minD = gMin;
    const maxD = gMax;
    op = zigzagInto(dst, op, minD);
    if (maxD === minD) {
      // Constant delta (regular time stamps, constant flags): every miniblock has bit width 0.
      for (let mb = 0; mb < DELTA_MINIBLOCKS; mb++) dst[op++] = 0;
      left -= m;
      continue;
    }
    const widthsAt = op;
    op += DELTA_MINIBLOCKS;
    const used = Math.ceil(m / DELTA_MINI);
    for (let mb = 0; mb < DELTA_MINIBLOCKS; mb++) {
      if (mb >= used) {
        dst[widthsAt + mb] = 0;
        continue;
      }
      const k0 = mb * DELTA_MINI;
      const k1 = Math.min(m, k0 + DELTA_MINI);
      let mx = 0;
      for (let k = k0; k < k1; k++) {
        const u = d[k] - minD;
        if (u > mx) mx = u;
      }
      if (mx >= TWO32) return -1;
      const w = mx === 0 ? 0 : 32 - Math.clz32(mx);
      dst[widthsAt + mb] = w;
      if (w === 0) continue;
      const bytes = w * 4; // 32 values × w bits
      dst.fill(0, op, op + bytes);
      let bp = op * 8;
      for (let k = k0; k < k1; k++) {
        const u = d[k] - minD;
        const p = bp >>> 3;
        const s = bp & 7;
        dst[p] |= (u << s) & 255;
        for (let t = 8 - s, q = p + 1; t < w; t += 8, q++) dst[q] = u >>> t;
        bp += w;
      }
      op += bytes;
    }
    left -= m;
  }
  return op;
}

// ---------------------------------------------------------------------------------------------
// Encoder

interface ChunkMeta {
  spec: ParquetColumnSpec;
  encodings: Set<number>;
  codec: number;
  numValues: number;
  uncompressed: number;
  compressed: number;
  dataPageOffset: number;
  dictionaryPageOffset?: number;
  stats: ChunkStats | null;
}

/** Most distinct values (indices fit one byte) and fewest rows per run, on average, for RLE_DICTIONARY. */
const DICT_MAX = 256;
const DICT_MIN_RUN = 8;

/** Runs of the last dictionaryOf: run k ends (exclusive) at dictRunEnd[k], holding value dictRunIdx[k]. */
let dictRunEnd = new Int32Array(1024);
let dictRunIdx = new Uint8Array(1024);

interface Dictionary {
  /** Distinct values in order of first appearance (the dictionary page). */
  values: number[];
  /** Runs found (in dictRunEnd/dictRunIdx, valid until the next dictionaryOf). */
  runs: number;
  /** First run not yet fully written by writeDictIndices (pages go in order). */
  cursor: number;
}

/**
 * Dictionary (values in order of first appearance) of v[a, b) when it suits RLE_DICTIONARY, else
 * null; stops scanning as soon as it does not. Runs are found by comparing neighbours, so the
 * lookup happens once per run, and are kept for writeDictIndices (one read of the column).
 */
function dictionaryOf(v: Int32Array, a: number, b: number): Dictionary | null {
  const values: number[] = [];
  const index = new Map<number, number>();
  const maxRuns = Math.floor((b - a) / DICT_MIN_RUN) + 1;
  if (dictRunEnd.length < maxRuns) {
    dictRunEnd = new Int32Array(maxRuns);
    dictRunIdx = new Uint8Array(maxRuns);
  }
  let runs = 0;
  for (let i = a; i < b; ) {
    const x = v[i];
    const j = runEnd(v, i + 1, b, x);
    if (runs === maxRuns) return null;
    let k = index.get(x);
    if (k === undefined) {
      if (values.length === DICT_MAX) return null;
      k = values.length;
      index.set(x, k);
      values.push(x);
    }
    dictRunEnd[runs] = j;
    dictRunIdx[runs] = k;
    runs++;
    i = j;
  }
  return { values, runs, cursor: 0 };
}

/** The end of the run of x that goes on at v[j] (at most b). A leaf loop: see firstBad. */
function runEnd(v: Int32Array, j: number, b: number, x: number): number {
  while (j < b && v[j] === x) j++;
  return j;
}

/**
 * RLE_DICTIONARY data page values of rows [a, b) from the runs of dictionaryOf (pages in order):
 * the bit width (1 byte), then one RLE run per run of equal values, cut at the page ends (varint
 * run length << 1, the index in one byte: bit width ≤ 8).
 */
function writeDictIndices(d: Dictionary, a: number, b: number, bitWidth: number, dst: Uint8Array, op: number): number {
  dst[op++] = bitWidth;
  let k = d.cursor;
  let i = a;
  while (i < b) {
    const e = dictRunEnd[k] < b ? dictRunEnd[k] : b;
    op = varintInto(dst, op, (e - i) * 2);
    dst[op++] = dictRunIdx[k];
    if (e === dictRunEnd[k]) k++;
    i = e;
  }
  d.cursor = k;
  return op;
}

function compressPage(codec: ParquetCodec, page: Uint8Array, cuts?: number[]): Uint8Array {
  if (codec === 'UNCOMPRESSED') return page;
  if (codec === 'GZIP') return zlib.gzipSync(page, { level: 1 });
  const dst = ensureComp(snappyMaxLength(page.length));
  return dst.subarray(0, snappyCompressInto(page, dst, 0, cuts));
}

/**
 * Encode a flat table into Parquet file bytes.
 *
 * @param schema leaf columns in order
 * @param columns values per column (same order as schema), all of the same length
 */
export function encodeParquet(schema: ParquetColumnSpec[], columns: ParquetColumnValues[], opts: EncodeParquetOptions = {}): Uint8Array {
  if (columns.length !== schema.length) throw new Error(`parquet: ${columns.length} columns for a schema of ${schema.length}`);
  const names = new Set<string>();
  for (const s of schema) {
    if (!s.name || names.has(s.name)) throw new Error(`parquet: empty or duplicate column name ${JSON.stringify(s.name)}`);
    names.add(s.name);
    if (s.logical && s.type !== 'INT64') throw new Error(`parquet column ${s.name}: ${s.logical} needs INT64`);
    if (s.encoding === 'BYTE_STREAM_SPLIT' && s.type !== 'DOUBLE' && s.type !== 'FLOAT') throw new Error(`parquet column ${s.name}: BYTE_STREAM_SPLIT only for FLOAT/DOUBLE here`);
    if (s.encoding === 'DELTA_BINARY_PACKED' && s.type !== 'INT32' && s.type !== 'INT64') throw new Error(`parquet column ${s.name}: DELTA_BINARY_PACKED needs INT32/INT64`);
    if (s.encoding === 'RLE_DICTIONARY' && (s.type !== 'INT32' || s.repetition === 'OPTIONAL')) throw new Error(`parquet column ${s.name}: RLE_DICTIONARY only for REQUIRED INT32 here`);
  }
  const n = columns.length ? columns[0].length : 0;
  const prepared = schema.map((s, c) => prepare(s, columns[c], n));
  const codec = opts.codec ?? 'SNAPPY';
  for (const [k, v] of [['rowGroupRows', opts.rowGroupRows], ['pageRows', opts.pageRows]] as const) {
    if (v !== undefined && !(v >= 1)) throw new Error(`parquet: ${k} must be ≥ 1, got ${v}`);
  }
  const rgRows = Math.max(1, Math.floor(opts.rowGroupRows ?? Math.max(1, n)));
  // Row-group ordinals are i16: readers (arrow-rs) refuse a file with more row groups.
  if (Math.ceil(n / rgRows) > 0x7fff) throw new Error(`parquet: ${Math.ceil(n / rgRows)} row groups exceed the format's 32767; raise rowGroupRows`);
  const pageRows = Math.max(1, Math.floor(opts.pageRows ?? 131072));
  const withStats = opts.statistics !== false;

  let rawBytes = 0;
  for (const s of schema) rawBytes += WIDTH[s.type] * n;
  const out = new Bytes((codec === 'UNCOMPRESSED' ? rawBytes : rawBytes / 2) + 4096 + 64 * schema.length);
  out.bytes(utf8.encode('PAR1'));
  const header = new Bytes(256);
  const rowGroups: { chunks: ChunkMeta[]; rows: number; offset: number }[] = [];

  // 0 rows: no row group at all (what arrow-rs writes for an empty table).
  for (let r0 = 0; r0 < n; r0 += rgRows) {
    const r1 = Math.min(n, r0 + rgRows);
    const chunks: ChunkMeta[] = [];
    const rgOffset = out.pos;
    for (const p of prepared) {
      const w = WIDTH[p.spec.type];
      let enc: ParquetEncoding = p.spec.encoding ?? (p.spec.type === 'INT32' || p.spec.type === 'INT64' ? 'DELTA_BINARY_PACKED' : 'PLAIN');
      const meta: ChunkMeta = { spec: p.spec, encodings: new Set(), codec: CODEC_ID[codec], numValues: r1 - r0, uncompressed: 0, compressed: 0, dataPageOffset: out.pos, stats: null };
      if (p.optional) meta.encodings.add(ENC_ID.RLE);
      let st: ChunkStats | null = null;
      let dict: ReturnType<typeof dictionaryOf> = null;
      let dictWidth = 0;
      if (enc === 'RLE_DICTIONARY') {
        dict = p.i32 ? dictionaryOf(p.i32, r0, r1) : null;
        if (!dict) enc = 'DELTA_BINARY_PACKED';
        else {
          // Dictionary page (PLAIN values), ahead of the data pages of the chunk.
          const nd = dict.values.length;
          dictWidth = Math.max(1, 32 - Math.clz32(nd - 1));
          const raw = ensurePage(4 * nd).subarray(0, 4 * nd);
          const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
          let lo = dict.values[0];
          let hi = lo;
          dict.values.forEach((x, k) => {
            dv.setInt32(4 * k, x, true);
            if (x < lo) lo = x;
            if (x > hi) hi = x;
          });
          if (withStats) st = { nulls: 0, has: true, min: lo, max: hi };
          const body = compressPage(codec, raw);
          header.pos = 0;
          const t = new Thrift(header);
          t.i32(1, 2).i32(2, raw.length).i32(3, body.length); // DICTIONARY_PAGE
          t.struct(7).i32(1, nd).i32(2, ENC_ID.PLAIN).end();
          header.byte(0);
          meta.dictionaryPageOffset = out.pos;
          out.bytes(header.buf.subarray(0, header.pos));
          out.bytes(body);
          meta.uncompressed += header.pos + raw.length;
          meta.compressed += header.pos + body.length;
          meta.dataPageOffset = out.pos;
          meta.encodings.add(ENC_ID.PLAIN);
          meta.encodings.add(ENC_ID.RLE);
        }
      }
      for (let a = r0; a < r1; a += pageRows) {
        const b = Math.min(r1, a + pageRows);
        const rows = b - a;
        // Raw page: [def levels] values.
        const page = ensurePage(64 + 3 * rows + (w + 1) * rows);
        let op = 0;
        let nonNull = rows;
        if (p.optional) {
          // DOUBLE BYTE_STREAM_SPLIT takes its non-null values compacted by this pass.
          op = writeDefLevels((p.f64 ?? p.f32)!, a, b, page, op, enc === 'BYTE_STREAM_SPLIT');
          nonNull = rows - gNulls;
        }
        // Statistics come from the value encoder's own pass where it has one (pst), else from chunkStats.
        let pst: ChunkStats | null = null;
        let cuts: number[] | undefined;
        let used: ParquetEncoding = enc;
        if (dict) op = writeDictIndices(dict, a, b, dictWidth, page, op);
        else if (enc === 'DELTA_BINARY_PACKED' && !p.i64) {
          const e = writeDelta((p.i32 ?? p.f64)!, a, b, nonNull, p.spec.type === 'INT32', page, op);
          if (e < 0) used = 'PLAIN';
          else {
            op = e;
            pst = { nulls: rows - nonNull, has: nonNull > 0, min: gLo, max: gHi };
          }
        } else if (enc === 'DELTA_BINARY_PACKED') used = 'PLAIN';
        if (used === 'PLAIN') op = writePlain(valueBytes(p, a, b, nonNull), page, op);
        else if (used === 'BYTE_STREAM_SPLIT') {
          const at = op;
          op = writeByteStreamSplit(p, a, b, nonNull, page, op);
          pst = { nulls: p.optional ? rows - nonNull : 0, has: gLo <= gHi, min: gLo, max: gHi };
          // One Snappy segment per byte stream: the noisy low-order streams are stored, not matched.
          cuts = [];
          for (let k = 0; k < w; k++) cuts.push(at + k * nonNull);
        }
        if (withStats && !dict) st = mergeStats(st, pst ?? chunkStats(p, a, b));
        meta.encodings.add(ENC_ID[used]);
        const raw = page.subarray(0, op);
        const body = compressPage(codec, raw, cuts);
        header.pos = 0;
        const t = new Thrift(header);
        t.i32(1, 0).i32(2, raw.length).i32(3, body.length);
        t.struct(5).i32(1, b - a).i32(2, ENC_ID[used]).i32(3, ENC_ID.RLE).i32(4, ENC_ID.RLE).end();
        header.byte(0);
        out.bytes(header.buf.subarray(0, header.pos));
        out.bytes(body);
        meta.uncompressed += header.pos + raw.length;
        meta.compressed += header.pos + body.length;
      }
      meta.stats = st;
      chunks.push(meta);
    }
    rowGroups.push({ chunks, rows: r1 - r0, offset: rgOffset });
  }

  // Footer
  const footAt = out.pos;
  const t = new Thrift(out);
  t.i32(1, 1);
  t.list(2, T_STRUCT, schema.length + 1);
  t.elem().binary(4, 'schema').i32(5, schema.length).end();
  for (const s of schema) {
    t.elem().i32(1, TYPE_ID[s.type]).i32(3, s.repetition === 'OPTIONAL' ? 1 : 0).binary(4, s.name);
    if (s.logical === 'TIMESTAMP_MILLIS') {
      t.i32(6, 9); // ConvertedType TIMESTAMP_MILLIS
      t.struct(10).struct(8).bool(1, true).struct(2).struct(1).end().end().end().end(); // LogicalType.TIMESTAMP{UTC, MILLIS}
    }
    t.end();
  }
  t.i64(3, n);
  t.list(4, T_STRUCT, rowGroups.length);
  rowGroups.forEach((rg, ordinal) => {
    t.elem();
    t.list(1, T_STRUCT, rg.chunks.length);
    let total = 0;
    let totalCompressed = 0;
    for (const c of rg.chunks) {
      total += c.uncompressed;
      totalCompressed += c.compressed;
      t.elem().i64(2, c.dictionaryPageOffset ?? c.dataPageOffset).struct(3);
      t.i32(1, TYPE_ID[c.spec.type]);
      t.list(2, T_I32, c.encodings.size);
      for (const e of [...c.encodings].sort((x, y) => x - y)) t.i32Elem(e);
      t.list(3, T_BINARY, 1).stringElem(c.spec.name);
      t.i32(4, c.codec).i64(5, c.numValues).i64(6, c.uncompressed).i64(7, c.compressed).i64(9, c.dataPageOffset);
      if (c.dictionaryPageOffset !== undefined) t.i64(11, c.dictionaryPageOffset);
      if (c.stats) {
        const st = c.stats;
        t.struct(12);
        t.i64(3, st.nulls);
        if (st.has) {
          let mx = st.max;
          let mn = st.min;
          if (c.spec.type === 'DOUBLE' || c.spec.type === 'FLOAT') {
            if (mx === 0) mx = 0; // +0.0
            if (mn === 0) mn = -0; // -0.0
          }
          t.binary(5, statBytes(c.spec.type, mx, st.maxBig)).binary(6, statBytes(c.spec.type, mn, st.minBig));
        }
        t.end();
      }
      t.end(); // ColumnMetaData
      t.end(); // ColumnChunk
    }
    t.i64(2, total).i64(3, rg.rows).i64(5, rg.offset).i64(6, totalCompressed).i16(7, ordinal);
    t.end();
  });
  const kv = opts.kvMetadata ?? [];
  if (kv.length) {
    t.list(5, T_STRUCT, kv.length);
    for (const e of kv) t.elem().binary(1, e.key).binary(2, e.value).end();
  }
  t.binary(6, opts.createdBy ?? 'geonode parquet encoder');
  t.list(7, T_STRUCT, schema.length);
  for (let i = 0; i < schema.length; i++) t.elem().struct(1).end().end(); // TYPE_ORDER
  out.byte(0);
  const len = out.pos - footAt;
  out.ensure(8);
  out.buf[out.pos++] = len & 255;
  out.buf[out.pos++] = (len >>> 8) & 255;
  out.buf[out.pos++] = (len >>> 16) & 255;
  out.buf[out.pos++] = len >>> 24;
  out.bytes(utf8.encode('PAR1'));
  return out.buf.subarray(0, out.pos);
}
