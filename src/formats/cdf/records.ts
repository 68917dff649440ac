/**
 * Internal-record parsing (§4.1–4.4). All record fields are big-endian whatever the data
 * encoding; offsets are int64 in v3 and int32 in v2. Every read is bounds-checked so a
 * truncated or corrupt file fails with CdfError('TRUNCATED'|'CORRUPT') instead of a
 * RangeError or a hang (chains are walked with a visited set).
 */
import { CdfError, RecordType } from './types';

export interface Ctx {
  buf: Uint8Array;
  dv: DataView;
  /** v3 layout (64-bit offsets, 256-char names). */
  v3: boolean;
  /** CDF ≤ 2.4: VDR has a 132-byte rfuF, shifting later fields by 128. */
  pre25: boolean;
}

export function makeCtx(buf: Uint8Array, v3: boolean, pre25 = false): Ctx {
  return { buf, dv: new DataView(buf.buffer, buf.byteOffset, buf.byteLength), v3, pre25 };
}

export function need(ctx: Ctx, off: number, len: number, what: string): void {
  if (!Number.isSafeInteger(off) || off < 0 || len < 0 || off + len > ctx.buf.length) {
    throw new CdfError('TRUNCATED', `${what} at offset ${off} (+${len} bytes) lies outside the ${ctx.buf.length}-byte file`);
  }
}

export function i32(ctx: Ctx, off: number, what = 'field'): number {
  need(ctx, off, 4, what);
  return ctx.dv.getInt32(off, false);
}

/** An offset/size field: int64 in v3, int32 in v2. */
export function off64(ctx: Ctx, off: number, what = 'offset'): number {
  if (!ctx.v3) return i32(ctx, off, what);
  need(ctx, off, 8, what);
  const v = ctx.dv.getBigInt64(off, false);
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -1n) throw new CdfError('CORRUPT', `${what} ${v} is out of range`);
  return Number(v);
}

/** Bytes taken by an offset field. */
export function offLen(ctx: Ctx): number {
  return ctx.v3 ? 8 : 4;
}

export function text(ctx: Ctx, off: number, len: number, what = 'name'): string {
  need(ctx, off, len, what);
  let end = off;
  while (end < off + len && ctx.buf[end] !== 0) end++;
  return Buffer.from(ctx.buf.buffer, ctx.buf.byteOffset + off, end - off).toString('utf8');
}

export interface RecHeader {
  size: number;
  type: number;
  /** Offset of the first payload field (+12 v3, +8 v2). */
  body: number;
}

/** Read a record header at `off`, checking the record fits and (optionally) its type. */
export function header(ctx: Ctx, off: number, expect?: number | number[]): RecHeader {
  const hl = ctx.v3 ? 12 : 8;
  need(ctx, off, hl, 'record header');
  const size = off64(ctx, off, 'record size');
  const type = i32(ctx, off + (ctx.v3 ? 8 : 4), 'record type');
  if (size < hl) throw new CdfError('CORRUPT', `record at ${off} has impossible size ${size}`);
  need(ctx, off, size, `record of type ${type}`);
  if (expect !== undefined) {
    const ok = Array.isArray(expect) ? expect.includes(type) : type === expect;
    if (!ok) throw new CdfError('CORRUPT', `expected record type ${expect} at offset ${off}, found ${type}`);
  }
  return { size, type, body: off + hl };
}

/** Walk a "next" chain from head, guarding against loops. */
export function walkChain(ctx: Ctx, head: number, nextField: (off: number) => number, what: string): number[] {
  const out: number[] = [];
  const seen = new Set<number>();
  let off = head;
  while (off > 0) {
    if (seen.has(off)) throw new CdfError('CORRUPT', `loop in the ${what} chain at offset ${off}`);
    seen.add(off);
    out.push(off);
    off = nextField(off);
  }
  return out;
}

export interface CDR {
  gdrOffset: number;
  version: number;
  release: number;
  increment: number;
  encoding: number;
  flags: number;
  rowMajor: boolean;
  md5: boolean;
  copyright: string;
}

export function readCDR(ctx: Ctx, off: number): CDR {
  const h = header(ctx, off, RecordType.CDR);
  const b = h.body;
  const o = offLen(ctx);
  const gdrOffset = off64(ctx, b, 'GDR offset');
  const version = i32(ctx, b + o);
  const release = i32(ctx, b + o + 4);
  const encoding = i32(ctx, b + o + 8);
  const flags = i32(ctx, b + o + 12);
  const increment = i32(ctx, b + o + 24);
  const cpLen = Math.min(h.size - (b + o + 36 - off), 1945);
  const copyright = cpLen > 0 ? text(ctx, b + o + 36, cpLen, 'copyright') : '';
  if ((flags & 2) === 0) throw new CdfError('UNSUPPORTED', 'multi-file CDFs are not supported');
  return {
    gdrOffset, version, release, increment, encoding, flags,
    rowMajor: (flags & 1) === 1,
    md5: (flags & 4) !== 0, // bit2 checksum present; MD5 is the only method defined
    copyright,
  };
}

export interface GDR {
  rVDRhead: number;
  zVDRhead: number;
  ADRhead: number;
  eof: number;
  nrVars: number;
  numAttr: number;
  rMaxRec: number;
  rDims: number[];
  nzVars: number;
  leapSecondLastUpdated?: number;
}

export function readGDR(ctx: Ctx, off: number): GDR {
  const { body: b } = header(ctx, off, RecordType.GDR);
  const o = offLen(ctx);
  const rVDRhead = off64(ctx, b);
  const zVDRhead = off64(ctx, b + o);
  const ADRhead = off64(ctx, b + 2 * o);
  const eof = off64(ctx, b + 3 * o);
  let p = b + 4 * o;
  const nrVars = i32(ctx, p);
  const numAttr = i32(ctx, p + 4);
  const rMaxRec = i32(ctx, p + 8);
  const rNumDims = i32(ctx, p + 12);
  const nzVars = i32(ctx, p + 16);
  p += 20 + o; // UIRhead
  const rfuC = p;
  const leap = ctx.v3 ? i32(ctx, rfuC + 4) : undefined;
  p = rfuC + 12; // rfuC, LeapSecondLastUpdated/rfuD, rfuE
  if (rNumDims < 0 || rNumDims > 64) throw new CdfError('CORRUPT', `GDR rNumDims ${rNumDims}`);
  const rDims: number[] = [];
  for (let i = 0; i < rNumDims; i++) rDims.push(i32(ctx, p + 4 * i, 'rDimSizes'));
  return { rVDRhead, zVDRhead, ADRhead, eof, nrVars, numAttr, rMaxRec, rDims, nzVars, leapSecondLastUpdated: leap };
}

export interface ADR {
  offset: number;
  next: number;
  agrEDRhead: number;
  scope: number;
  num: number;
  nGrEntries: number;
  azEDRhead: number;
  nZEntries: number;
  name: string;
}

export function readADR(ctx: Ctx, off: number): ADR {
  const { body: b } = header(ctx, off, RecordType.ADR);
  const o = offLen(ctx);
  const next = off64(ctx, b);
  const agrEDRhead = off64(ctx, b + o);
  let p = b + 2 * o;
  const scope = i32(ctx, p);
  const num = i32(ctx, p + 4);
  const nGrEntries = i32(ctx, p + 8);
  p += 16; // MAXgrEntry, then rfuA
  p += 4;
  const azEDRhead = off64(ctx, p);
  p += o;
  const nZEntries = i32(ctx, p);
  p += 12; // NzEntries, MAXzEntry, rfuE
  const name = text(ctx, p, ctx.v3 ? 256 : 64);
  return { offset: off, next, agrEDRhead, scope, num, nGrEntries, azEDRhead, nZEntries, name };
}

export interface AEDR {
  next: number;
  attrNum: number;
  dataType: number;
  num: number;
  numElems: number;
  numStrings: number;
  valueOffset: number;
  /** Bytes available for the value (to the end of the record). */
  valueRoom: number;
}

export function readAEDR(ctx: Ctx, off: number): AEDR {
  const h = header(ctx, off, [RecordType.AgrEDR, RecordType.AzEDR]);
  const b = h.body;
  const o = offLen(ctx);
  const next = off64(ctx, b);
  const p = b + o;
  // v3: fields AttrNum..NumStrings at 20..39, reserved 40..55, value at 56 (= b + o + 36).
  // v2: AttrNum..NumStrings at 12..31, reserved 32..47, value at 48 (= b + o + 36).
  const vo = p + 36;
  return {
    next,
    attrNum: i32(ctx, p),
    dataType: i32(ctx, p + 4),
    num: i32(ctx, p + 8),
    numElems: i32(ctx, p + 12),
    numStrings: i32(ctx, p + 16),
    valueOffset: vo,
    valueRoom: off + h.size - vo,
  };
}

export interface VDR {
  offset: number;
  kind: 'r' | 'z';
  next: number;
  dataType: number;
  maxRec: number;
  vxrHead: number;
  vxrTail: number;
  flags: number;
  sRecords: number;
  numElems: number;
  num: number;
  cprOrSprOffset: number;
  blockingFactor: number;
  name: string;
  dims: number[];
  dimVarys: boolean[];
  padOffset?: number;
}

export function readVDR(ctx: Ctx, off: number, rDims: number[]): VDR {
  const h = header(ctx, off, [RecordType.rVDR, RecordType.zVDR]);
  const kind = h.type === RecordType.zVDR ? 'z' : 'r';
  const b = h.body;
  const o = offLen(ctx);
  const next = off64(ctx, b);
  let p = b + o;
  const dataType = i32(ctx, p);
  const maxRec = i32(ctx, p + 4);
  p += 8;
  const vxrHead = off64(ctx, p);
  const vxrTail = off64(ctx, p + o);
  p += 2 * o;
  const flags = i32(ctx, p);
  const sRecords = i32(ctx, p + 4);
  p += 8 + 8; // rfuB, rfuC
  p += ctx.pre25 ? 132 : 4; // rfuF
  const numElems = i32(ctx, p);
  const num = i32(ctx, p + 4);
  p += 8;
  const cprOrSprOffset = off64(ctx, p);
  p += o;
  const blockingFactor = i32(ctx, p);
  p += 4;
  const nameLen = ctx.v3 ? 256 : 64;
  const name = text(ctx, p, nameLen);
  p += nameLen;
  let dims: number[];
  if (kind === 'z') {
    const n = i32(ctx, p, 'zNumDims');
    if (n < 0 || n > 64) throw new CdfError('CORRUPT', `variable ${name}: zNumDims ${n}`);
    p += 4;
    dims = [];
    for (let i = 0; i < n; i++) dims.push(i32(ctx, p + 4 * i, 'zDimSizes'));
    p += 4 * n;
  } else dims = rDims.slice();
  const dimVarys: boolean[] = [];
  for (let i = 0; i < dims.length; i++) dimVarys.push(i32(ctx, p + 4 * i, 'DimVarys') !== 0);
  p += 4 * dims.length;
  const padOffset = flags & 2 ? p : undefined;
  if (dims.some((d) => d < 0)) throw new CdfError('CORRUPT', `variable ${name}: negative dimension`);
  if (numElems < 1) throw new CdfError('CORRUPT', `variable ${name}: NumElems ${numElems}`);
  return {
    offset: off, kind, next, dataType, maxRec, vxrHead, vxrTail, flags, sRecords, numElems, num,
    cprOrSprOffset, blockingFactor, name, dims, dimVarys, padOffset,
  };
}

export interface CPR {
  cType: number;
  parms: number[];
}

export function readCPR(ctx: Ctx, off: number): CPR {
  const { body: b } = header(ctx, off, RecordType.CPR);
  const cType = i32(ctx, b);
  const pCount = i32(ctx, b + 8);
  if (pCount < 0 || pCount > 16) throw new CdfError('CORRUPT', `CPR pCount ${pCount}`);
  const parms: number[] = [];
  for (let i = 0; i < pCount; i++) parms.push(i32(ctx, b + 12 + 4 * i));
  return { cType, parms };
}

/** One data block of a variable: records first..last stored at `offset` (a VVR or CVVR). */
export interface Block {
  first: number;
  last: number;
  offset: number;
}

/** Walk a VXR tree (chains + nested VXRs) into data blocks sorted by first record. */
export function collectBlocks(ctx: Ctx, head: number): Block[] {
  const blocks: Block[] = [];
  const seen = new Set<number>();
  const visit = (start: number, depth: number): void => {
    if (depth > 32) throw new CdfError('CORRUPT', 'VXR tree deeper than 32 levels');
    let off = start;
    while (off > 0) {
      if (seen.has(off)) throw new CdfError('CORRUPT', `loop in the VXR chain at offset ${off}`);
      seen.add(off);
      const { body: b } = header(ctx, off, RecordType.VXR);
      const o = offLen(ctx);
      const next = off64(ctx, b);
      const nEntries = i32(ctx, b + o);
      const nUsed = i32(ctx, b + o + 4);
      if (nEntries < 0 || nUsed < 0 || nUsed > nEntries) throw new CdfError('CORRUPT', `VXR at ${off}: ${nUsed}/${nEntries} entries`);
      const firsts = b + o + 8;
      const lasts = firsts + 4 * nEntries;
      const offs = lasts + 4 * nEntries;
      need(ctx, offs, o * nEntries, 'VXR offsets');
      for (let i = 0; i < nUsed; i++) {
        const first = i32(ctx, firsts + 4 * i);
        const last = i32(ctx, lasts + 4 * i);
        const target = off64(ctx, offs + o * i);
        if (first < 0 || last < first) throw new CdfError('CORRUPT', `VXR entry ${first}..${last}`);
        const t = header(ctx, target, [RecordType.VVR, RecordType.CVVR, RecordType.VXR]);
        if (t.type === RecordType.VXR) visit(target, depth + 1);
        else blocks.push({ first, last, offset: target });
      }
      off = next;
    }
  };
  if (head > 0) visit(head, 0);
  blocks.sort((a, b) => a.first - b.first);
  return blocks;
}

/**
 * Structural check of an uncompressed image (CdfFile.image): the magic is a CDF one, records
 * tile the file from offset 8 up to GDR.eof (each with a known type and a sane size), and the
 * CDR/GDR are where they must be. Returns the record types in file order. Used by tests to hold
 * our writer's output to the same invariants as the real sample files.
 */
export function checkStructure(image: Uint8Array): Array<{ offset: number; type: number; size: number }> {
  if (image.length < 8) throw new CdfError('BAD_MAGIC', 'shorter than the magic number');
  const dv0 = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const m1 = dv0.getUint32(0, false);
  if (![0xcdf30001, 0xcdf26002, 0x0000ffff].includes(m1) || dv0.getUint32(4, false) !== 0x0000ffff) {
    throw new CdfError('BAD_MAGIC', 'not an uncompressed CDF image');
  }
  const ctx = makeCtx(image, m1 === 0xcdf30001);
  const cdr = readCDR(ctx, 8);
  const gdr = readGDR(ctx, cdr.gdrOffset);
  if (gdr.eof > image.length) throw new CdfError('TRUNCATED', `GDR.eof ${gdr.eof} beyond ${image.length} bytes`);
  const known = new Set<number>(Object.values(RecordType));
  const out: Array<{ offset: number; type: number; size: number }> = [];
  let off = 8;
  while (off < gdr.eof) {
    const h = header(ctx, off);
    if (!known.has(h.type)) throw new CdfError('CORRUPT', `unknown record type ${h.type} at ${off}`);
    out.push({ offset: off, type: h.type, size: h.size });
    off += h.size;
  }
  if (off !== gdr.eof) throw new CdfError('CORRUPT', `records end at ${off}, GDR.eof is ${gdr.eof}`);
  if (out[0]?.type !== RecordType.CDR || !out.some((r) => r.offset === cdr.gdrOffset && r.type === RecordType.GDR)) {
    throw new CdfError('CORRUPT', 'CDR/GDR not at their recorded offsets');
  }
  // Every chain head/next must land on a record start.
  const starts = new Set(out.map((r) => r.offset));
  for (const head of [gdr.rVDRhead, gdr.zVDRhead, gdr.ADRhead]) {
    if (head > 0 && !starts.has(head)) throw new CdfError('CORRUPT', `chain head ${head} is not a record start`);
  }
  return out;
}
