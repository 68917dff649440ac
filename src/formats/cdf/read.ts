/**
 * NASA CDF reader (pure: bytes in, plain objects out). Supports CDF 2.4–3.9 files: v2 32-bit
 * and v3 64-bit offsets, pre-2.5 VDR layout, every non-VAX encoding, row and column majority,
 * whole-file and per-variable GZIP/RLE, VXR chains and trees, sparse records, r/zVariables,
 * attributes and all data types (§4 of shared/docs/data-formats.md).
 *
 * openCdf() parses only the descriptors; readVariable() walks the variable's VXR tree and reads
 * (or inflates) only the blocks that overlap the requested records, so subsetting a large file
 * does not decode the rest. Only whole-file compression forces inflating everything up front.
 *
 * Output layout: values are always ROW-major ([record][d0][d1]..., last index fastest), also for
 * column-major files, which are transposed per record — so callers never care about majority.
 */
import crypto from 'node:crypto';
import { decompress } from './compression';
import {
  ADR, AEDR, Block, collectBlocks, Ctx, header, makeCtx, off64, readADR, readAEDR, readCDR, readCPR,
  readGDR, readVDR, VDR, walkChain,
} from './records';
import {
  CDF_TYPE_NAMES, CdfAttrEntry, CdfAttribute, CdfAttrValue, CdfError, CdfReadResult, CdfType, CdfValues,
  CdfVariableInfo, Compression, encodingIsLittleEndian, isStringType, RecordType, swapUnit, typeSize,
} from './types';

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const MAGIC_V3 = 0xcdf30001;
const MAGIC_V26 = 0xcdf26002;
const MAGIC_V25 = 0x0000ffff;
const MAGIC_UNCOMPRESSED = 0x0000ffff;
const MAGIC_COMPRESSED = 0xcccc0001;
/** One record larger than this is a corrupt VDR (dims or NumElems), not data. */
const MAX_RECORD_BYTES = 1 << 30;
/** Best possible ratio of DEFLATE (1032:1); CDF RLE (2 bytes → ≤ 256 zeros) stays below it. */
const MAX_INFLATE = 1032;
/** Pad bytes a read may invent for records stored in no block (sparse records, gaps). */
const PAD_ALLOWANCE = 64 << 20;

export interface ReadOptions {
  /** First record (0-based). Default 0. */
  recStart?: number;
  /** Number of records. Default: all from recStart. */
  recCount?: number;
}

/** An opened CDF. Cheap to create: variable data are decoded on demand. */
export class CdfFile {
  readonly version: [number, number, number];
  /** CDR encoding code and whether values are little-endian. */
  readonly encoding: number;
  readonly littleEndian: boolean;
  /** File majority as stored (values are returned row-major regardless). */
  readonly rowMajor: boolean;
  /** Whole-file compression cType (0 none, 1 RLE, 5 GZIP). */
  readonly fileCompression: number;
  readonly hasMd5: boolean;
  readonly copyright: string;
  readonly rDims: number[];
  readonly attributes: CdfAttribute[] = [];
  /** Global attributes: entries sorted by entry number (gEntries, plus rEntries of old files). */
  readonly globalAttributes: Record<string, CdfAttrEntry[]> = {};
  readonly variables: CdfVariableInfo[] = [];
  /** The (decompressed) image all internal offsets refer to. */
  readonly image: Uint8Array;

  private readonly ctx: Ctx;
  private readonly original: Uint8Array;
  private readonly vdrs = new Map<string, VDR>();
  private readonly byName = new Map<string, CdfVariableInfo>();
  private readonly blockCache = new Map<string, Block[]>();

  constructor(buf: Uint8Array) {
    this.original = buf;
    if (buf.length < 8) throw new CdfError('BAD_MAGIC', `only ${buf.length} bytes: not a CDF`);
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const m1 = dv.getUint32(0, false);
    const m2 = dv.getUint32(4, false);
    if (m1 !== MAGIC_V3 && m1 !== MAGIC_V26 && m1 !== MAGIC_V25) {
      throw new CdfError('BAD_MAGIC', `magic 0x${m1.toString(16).padStart(8, '0')} is not a CDF signature`);
    }
    if (m2 !== MAGIC_UNCOMPRESSED && m2 !== MAGIC_COMPRESSED) {
      throw new CdfError('BAD_MAGIC', `second magic 0x${m2.toString(16).padStart(8, '0')} is neither 0000FFFF nor CCCC0001`);
    }
    const v3 = m1 === MAGIC_V3;
    let image = buf;
    this.fileCompression = Compression.NONE;
    if (m2 === MAGIC_COMPRESSED) {
      // Whole-file compression: a CCR at 8 holds the file from byte 8 on; rebuild the plain image.
      const cctx = makeCtx(buf, v3);
      const ccr = header(cctx, 8, RecordType.CCR);
      const o = v3 ? 8 : 4;
      const cprOffset = off64(cctx, ccr.body);
      const uSize = off64(cctx, ccr.body + o, 'CCR uSize');
      const dataStart = ccr.body + 2 * o + 4;
      const cpr = readCPR(cctx, cprOffset);
      if (uSize < 0) throw new CdfError('CORRUPT', `CCR uncompressed size ${uSize}`);
      const data = decompress(cpr.cType, buf.subarray(dataStart, 8 + ccr.size), uSize);
      // Allocated only once the data inflated to (at least) uSize bytes: a forged uSize fails above.
      if (data.length < uSize) throw new CdfError('CORRUPT', `CCR data inflate to ${data.length} bytes, uSize is ${uSize}`);
      image = new Uint8Array(8 + uSize);
      image.set(buf.subarray(0, 4), 0);
      image.set([0, 0, 0xff, 0xff], 4);
      image.set(data.subarray(0, uSize), 8);
      this.fileCompression = cpr.cType;
    }
    this.image = image;
    let ctx = makeCtx(image, v3);
    const cdr = readCDR(ctx, 8);
    if (cdr.version === 2 && cdr.release < 5) ctx = makeCtx(image, v3, true);
    this.ctx = ctx;
    this.version = [cdr.version, cdr.release, cdr.increment];
    this.encoding = cdr.encoding;
    this.littleEndian = encodingIsLittleEndian(cdr.encoding);
    this.rowMajor = cdr.rowMajor;
    this.hasMd5 = cdr.md5;
    this.copyright = cdr.copyright;
    const gdr = readGDR(ctx, cdr.gdrOffset);
    this.rDims = gdr.rDims;

    // Variables: rVariables first, then zVariables, in chain order.
    const vdrNext = (off: number): number => off64(ctx, off + (ctx.v3 ? 12 : 8));
    const rOffs = walkChain(ctx, gdr.rVDRhead, vdrNext, 'rVDR');
    const zOffs = walkChain(ctx, gdr.zVDRhead, vdrNext, 'zVDR');
    for (const off of [...rOffs, ...zOffs]) {
      const vdr = readVDR(ctx, off, gdr.rDims);
      if (this.vdrs.has(vdr.name)) throw new CdfError('CORRUPT', `duplicate variable name ${vdr.name}`);
      const info = this.describe(vdr);
      this.vdrs.set(vdr.name, vdr);
      this.byName.set(vdr.name, info);
      this.variables.push(info);
    }

    // Attributes: global entries to globalAttributes, variable entries to the matching variable.
    const byKindNum = new Map<string, CdfVariableInfo>();
    for (const v of this.variables) byKindNum.set(`${v.kind}${v.num}`, v);
    const adrNext = (off: number): number => off64(ctx, off + (ctx.v3 ? 12 : 8));
    const aedrNext = adrNext;
    for (const off of walkChain(ctx, gdr.ADRhead, adrNext, 'ADR')) {
      const adr: ADR = readADR(ctx, off);
      this.attributes.push({ name: adr.name, num: adr.num, scope: adr.scope });
      const global = adr.scope === 1 || adr.scope === 3;
      const gr = walkChain(ctx, adr.agrEDRhead, aedrNext, 'AgrEDR').map((o) => this.entry(readAEDR(ctx, o)));
      const z = walkChain(ctx, adr.azEDRhead, aedrNext, 'AzEDR').map((o) => this.entry(readAEDR(ctx, o)));
      if (global) {
        this.globalAttributes[adr.name] = [...gr, ...z].sort((a, b) => a.num - b.num);
      } else {
        for (const e of gr) {
          const v = byKindNum.get(`r${e.num}`);
          if (v) v.attrs[adr.name] = e;
        }
        for (const e of z) {
          const v = byKindNum.get(`z${e.num}`);
          if (v) v.attrs[adr.name] = e;
        }
      }
    }
  }

  /** Variable metadata by name; throws CdfError('NOT_FOUND'). */
  variable(name: string): CdfVariableInfo {
    const v = this.byName.get(name);
    if (!v) throw new CdfError('NOT_FOUND', `no variable named ${JSON.stringify(name)}`);
    return v;
  }

  hasVariable(name: string): boolean {
    return this.byName.has(name);
  }

  /** Values of a global attribute (one per entry), or undefined. */
  globalAttr(name: string): CdfAttrValue[] | undefined {
    return this.globalAttributes[name]?.map((e) => e.value);
  }

  /** Data blocks (VVR/CVVR) of a variable, sorted by first record (clipped to maxRec). */
  blocks(name: string): Block[] {
    let b = this.blockCache.get(name);
    if (!b) {
      this.variable(name); // NOT_FOUND check
      const vdr = this.vdrs.get(name)!;
      b = collectBlocks(this.ctx, vdr.vxrHead);
      this.blockCache.set(name, b);
    }
    return b;
  }

  /**
   * Read records [recStart, recStart+recCount) of a variable. Records not stored in any block
   * (sparse or gaps) are filled like the NASA library: the previous stored record for
   * previous-sparse variables, else the VDR pad value, else FILLVAL, else the type's default pad.
   */
  readVariable(name: string, opts: ReadOptions = {}): CdfReadResult {
    const info = this.variable(name);
    const vdr = this.vdrs.get(name)!;
    const nrec = info.numRecords;
    const recStart = opts.recStart ?? 0;
    const recCount = opts.recCount ?? Math.max(0, nrec - recStart);
    if (!Number.isInteger(recStart) || !Number.isInteger(recCount) || recStart < 0 || recCount < 0 || recStart + recCount > nrec) {
      throw new CdfError('INVALID_ARGUMENT', `records ${recStart}+${recCount} outside 0..${nrec} of ${name}`);
    }
    const tsize = typeSize(info.type)!;
    const perRec = info.recordShape.reduce((a, b) => a * b, 1);
    const elemBytes = tsize * info.numElems;
    const recBytes = elemBytes * perRec;
    if (!Number.isSafeInteger(recBytes) || recBytes > MAX_RECORD_BYTES) {
      throw new CdfError('CORRUPT', `${name}: a record of ${info.recordShape.join('×') || 1} × ${elemBytes} bytes is impossible`);
    }
    if (recCount > 0 && recBytes > 0) this.checkReadSize(name, vdr, recStart, recCount, recBytes);
    const out = new Uint8Array(recCount * recBytes);
    const have = new Uint8Array(recCount);
    const end = recStart + recCount;
    if (recCount > 0 && recBytes > 0) {
      for (const blk of this.blocks(name)) {
        if (blk.last < recStart || blk.first >= end) continue;
        const payload = this.blockPayload(vdr, blk, recBytes);
        const from = Math.max(blk.first, recStart);
        const to = Math.min(blk.last, end - 1);
        out.set(payload.subarray((from - blk.first) * recBytes, (to - blk.first + 1) * recBytes), (from - recStart) * recBytes);
        have.fill(1, from - recStart, to - recStart + 1);
      }
      this.fillMissing(info, out, have, recStart, recBytes);
    }
    // Column-major files store each record Fortran-order: transpose to row-major.
    let bytes: Uint8Array = out;
    if (!this.rowMajor && info.recordShape.length > 1 && perRec > 1) bytes = transposeRecords(out, info.recordShape, elemBytes, recCount);
    return {
      values: decodeValues(bytes, info.type, info.numElems, this.littleEndian),
      shape: [recCount, ...info.recordShape],
      type: info.type,
      recStart,
    };
  }

  /** Verify the trailing MD5 (last 16 bytes of the stored file). null if the file has none. */
  verifyMd5(): boolean | null {
    if (!this.hasMd5) return null;
    const b = this.original;
    if (b.length < 16) return false;
    const h = crypto.createHash('md5').update(b.subarray(0, b.length - 16)).digest();
    return Buffer.compare(h, Buffer.from(b.buffer, b.byteOffset + b.length - 16, 16)) === 0;
  }

  // ---------------------------------------------------------------------------------------

  private describe(vdr: VDR): CdfVariableInfo {
    const tsize = typeSize(vdr.dataType);
    if (tsize === undefined) throw new CdfError('CORRUPT', `variable ${vdr.name}: unknown data type ${vdr.dataType}`);
    const recVary = (vdr.flags & 1) !== 0;
    const recordShape = vdr.dims.map((d, i) => (vdr.dimVarys[i] ? d : 1));
    let padValue: Uint8Array | undefined;
    if (vdr.padOffset !== undefined) {
      const n = tsize * vdr.numElems;
      if (vdr.padOffset + n <= this.ctx.buf.length) padValue = new Uint8Array(this.ctx.buf.subarray(vdr.padOffset, vdr.padOffset + n));
    }
    let compression = 0;
    let compressionLevel: number | undefined;
    if (vdr.flags & 4 && vdr.cprOrSprOffset > 0) {
      const cpr = readCPR(this.ctx, vdr.cprOrSprOffset);
      compression = cpr.cType;
      compressionLevel = cpr.parms[0];
    }
    const maxRec = vdr.maxRec;
    const numRecords = maxRec < 0 ? 0 : recVary ? maxRec + 1 : 1;
    return {
      name: vdr.name, kind: vdr.kind, num: vdr.num, type: vdr.dataType,
      typeName: CDF_TYPE_NAMES[vdr.dataType] ?? `type${vdr.dataType}`,
      numElems: vdr.numElems, dims: vdr.dims, dimVarys: vdr.dimVarys, recordShape, recVary,
      numRecords, maxRec, sparseRecords: vdr.sRecords, compression, compressionLevel,
      blockingFactor: vdr.blockingFactor, padValue, attrs: {},
    };
  }

  private entry(a: AEDR): CdfAttrEntry {
    const tsize = typeSize(a.dataType);
    if (tsize === undefined) throw new CdfError('CORRUPT', `attribute entry with unknown data type ${a.dataType}`);
    if (a.numElems < 0) throw new CdfError('CORRUPT', `attribute entry NumElems ${a.numElems}`);
    const n = a.numElems * tsize;
    if (n > a.valueRoom) throw new CdfError('TRUNCATED', `attribute value of ${n} bytes in a ${a.valueRoom}-byte slot`);
    const raw = this.ctx.buf.subarray(a.valueOffset, a.valueOffset + n);
    if (isStringType(a.dataType)) {
      const s = decodeText(raw);
      const e: CdfAttrEntry = { num: a.num, type: a.dataType, value: s };
      if (a.numStrings > 1) e.strings = s.split('\\N ');
      return e;
    }
    const vals = decodeValues(raw, a.dataType, 1, this.littleEndian) as Exclude<CdfValues, string[]>;
    const value = vals instanceof BigInt64Array ? Array.from(vals) : Array.from(vals as ArrayLike<number>);
    return { num: a.num, type: a.dataType, value };
  }

  /**
   * MaxRec, the VXR ranges and the CVVR sizes all come from the file, so a corrupt one could ask
   * for gigabytes (a 125 kB file with MaxRec 3e8 did). Before anything is allocated: every block
   * that overlaps the request must be able to hold the records it claims (a VVR its own bytes, a
   * CVVR at most MAX_INFLATE × its compressed size), records that no block holds (sparse records,
   * gaps; the reader invents pad values for them) may take at most PAD_ALLOWANCE bytes, and the
   * whole read at most what the file could inflate to plus that allowance.
   */
  private checkReadSize(name: string, vdr: VDR, recStart: number, recCount: number, recBytes: number): void {
    const ctx = this.ctx;
    const end = recStart + recCount;
    let covered = 0;
    let coveredTo = recStart; // records [recStart, coveredTo) are counted
    let lastStored = -1;
    for (const blk of this.blocks(name)) {
      lastStored = Math.max(lastStored, blk.last);
      if (blk.last < recStart || blk.first >= end) continue;
      const h = header(ctx, blk.offset, [RecordType.VVR, RecordType.CVVR]);
      let room: number;
      if (h.type === RecordType.VVR) room = blk.offset + h.size - h.body;
      else {
        const cSize = off64(ctx, h.body + 4, 'CVVR cSize');
        room = Math.max(0, cSize) * MAX_INFLATE + 1024;
      }
      const claim = (blk.last - blk.first + 1) * recBytes;
      if (claim > room) {
        throw new CdfError('CORRUPT', `${vdr.name}: block at ${blk.offset} claims records ${blk.first}..${blk.last} (${claim} bytes) but can hold at most ${room}`);
      }
      const from = Math.max(blk.first, coveredTo);
      const to = Math.min(blk.last + 1, end);
      if (to > from) {
        covered += to - from;
        coveredTo = to;
      }
    }
    const invented = (recCount - covered) * recBytes;
    if (invented > PAD_ALLOWANCE) {
      throw new CdfError(
        'CORRUPT',
        `${vdr.name}: ${recCount - covered} of records ${recStart}..${end - 1} are in no data block (${invented} bytes of pad values); ` +
          `MaxRec ${vdr.maxRec} does not match the data, whose blocks end at record ${lastStored}`,
      );
    }
    const total = recCount * recBytes;
    if (total > PAD_ALLOWANCE + MAX_INFLATE * this.image.length + 1024) {
      throw new CdfError('CORRUPT', `${vdr.name}: records ${recStart}..${end - 1} would take ${total} bytes, more than a ${this.image.length}-byte file can hold`);
    }
  }

  /** Uncompressed bytes of one block (at least (last-first+1) records). */
  private blockPayload(vdr: VDR, blk: Block, recBytes: number): Uint8Array {
    const ctx = this.ctx;
    const h = header(ctx, blk.offset, [RecordType.VVR, RecordType.CVVR]);
    const want = (blk.last - blk.first + 1) * recBytes;
    if (h.type === RecordType.VVR) {
      const avail = blk.offset + h.size - h.body;
      if (avail < want) throw new CdfError('CORRUPT', `${vdr.name}: VVR at ${blk.offset} holds ${avail} bytes, records ${blk.first}..${blk.last} need ${want}`);
      return ctx.buf.subarray(h.body, h.body + want);
    }
    // A variable flagged compressed may still store some blocks as plain VVRs (handled above).
    if (!(vdr.flags & 4) || vdr.cprOrSprOffset <= 0) throw new CdfError('CORRUPT', `${vdr.name}: CVVR block but the variable has no CPR`);
    const cpr = readCPR(ctx, vdr.cprOrSprOffset);
    const o = ctx.v3 ? 8 : 4;
    const cSize = off64(ctx, h.body + 4, 'CVVR cSize');
    const start = h.body + 4 + o;
    if (start + cSize > blk.offset + h.size) throw new CdfError('CORRUPT', `${vdr.name}: CVVR cSize ${cSize} exceeds its record`);
    // Chunked readers (the VLF loader reads 1024 records at a time) come back to the same block:
    // the last inflated block of each variable is kept, so a block is inflated once, not once
    // per chunk (an hour in one GZIP block was inflated 9 times per channel).
    const hit = this.inflated.get(vdr.name);
    if (hit && hit.offset === blk.offset) return hit.data;
    const data = decompress(cpr.cType, ctx.buf.subarray(start, start + cSize), cpr.cType === Compression.RLE ? undefined : want);
    if (data.length < want) throw new CdfError('CORRUPT', `${vdr.name}: CVVR inflates to ${data.length} bytes, need ${want}`);
    this.inflated.set(vdr.name, { offset: blk.offset, data });
    return data;
  }

  /** Last inflated CVVR block per variable (see blockPayload). */
  private readonly inflated = new Map<string, { offset: number; data: Uint8Array }>();

  private fillMissing(info: CdfVariableInfo, out: Uint8Array, have: Uint8Array, recStart: number, recBytes: number): void {
    if (have.every((x) => x === 1)) return;
    const elemBytes = recBytes / Math.max(1, info.recordShape.reduce((a, b) => a * b, 1));
    const padRecord = new Uint8Array(recBytes);
    const pad = this.padFor(info, elemBytes);
    for (let i = 0; i < recBytes; i += elemBytes) padRecord.set(pad, i);
    let prev: Uint8Array | null = null;
    for (let r = 0; r < have.length; r++) {
      if (have[r]) {
        if (info.sparseRecords === 2) prev = out.subarray(r * recBytes, (r + 1) * recBytes);
        continue;
      }
      if (info.sparseRecords === 2) {
        if (!prev && r === 0) prev = this.previousStored(info, recStart);
        out.set(prev ?? padRecord, r * recBytes);
      } else out.set(padRecord, r * recBytes);
    }
  }

  /** Bytes of the last stored record before `rec` (for previous-sparse reads starting mid-gap). */
  private previousStored(info: CdfVariableInfo, rec: number): Uint8Array | null {
    let p = -1;
    for (const b of this.blocks(info.name)) if (b.first < rec) p = Math.max(p, Math.min(b.last, rec - 1));
    if (p < 0) return null;
    const vdr = this.vdrs.get(info.name)!;
    const recBytes = typeSize(info.type)! * info.numElems * info.recordShape.reduce((a, b) => a * b, 1);
    for (const b of this.blocks(info.name)) {
      if (b.first <= p && p <= b.last) {
        const payload = this.blockPayload(vdr, b, recBytes);
        return new Uint8Array(payload.subarray((p - b.first) * recBytes, (p - b.first + 1) * recBytes));
      }
    }
    return null;
  }

  /** Pad bytes (file encoding) for one value: VDR PadValue, else FILLVAL, else default pad. */
  private padFor(info: CdfVariableInfo, elemBytes: number): Uint8Array {
    if (info.padValue && info.padValue.length === elemBytes) return info.padValue;
    const fill = info.attrs.FILLVAL;
    if (fill && fill.type === info.type && !isStringType(info.type)) {
      const enc = encodeValues(fill.value as number[] | bigint[], info.type, this.littleEndian);
      if (enc.length === elemBytes) return enc;
    }
    return defaultPad(info.type, info.numElems, this.littleEndian);
  }
}

export function openCdf(buf: Uint8Array): CdfFile {
  return new CdfFile(buf);
}

// -----------------------------------------------------------------------------------------
// Value helpers (shared with the writer)

/** Decode text: UTF-8 with trailing NULs removed; Latin-1 if the bytes are not valid UTF-8. */
export function decodeText(raw: Uint8Array): string {
  let end = raw.length;
  while (end > 0 && raw[end - 1] === 0) end--;
  const b = Buffer.from(raw.buffer, raw.byteOffset, end);
  const s = b.toString('utf8');
  if (s.includes('\ufffd') && !b.includes(Buffer.from('\ufffd', 'utf8'))) return b.toString('latin1');
  return s;
}

/** Decode raw bytes (file encoding) into a host-order typed array / strings. Consumes `raw`. */
export function decodeValues(raw: Uint8Array, type: number, numElems: number, littleEndian: boolean): CdfValues {
  if (isStringType(type)) {
    const n = numElems > 0 ? Math.floor(raw.length / numElems) : 0;
    const out: string[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = decodeText(raw.subarray(i * numElems, (i + 1) * numElems));
    return out;
  }
  // Work on a fresh, aligned buffer we own (swapping in place must never touch the file image,
  // and Node Buffers may be views into a shared pool). Reuse `raw` only when it is exactly a
  // whole plain ArrayBuffer (the output buffers readVariable allocates itself).
  const owned = !Buffer.isBuffer(raw) && raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength;
  const bytes = owned ? raw : new Uint8Array(raw);
  const unit = swapUnit(type);
  if (unit > 1 && littleEndian !== HOST_LE) swapInPlace(bytes, unit);
  const buf = bytes.buffer as ArrayBuffer;
  const len = bytes.byteLength;
  switch (type) {
    case CdfType.INT1:
    case CdfType.BYTE:
      return new Int8Array(buf, 0, len);
    case CdfType.UINT1:
      return new Uint8Array(buf, 0, len);
    case CdfType.INT2:
      return new Int16Array(buf, 0, len / 2);
    case CdfType.UINT2:
      return new Uint16Array(buf, 0, len / 2);
    case CdfType.INT4:
      return new Int32Array(buf, 0, len / 4);
    case CdfType.UINT4:
      return new Uint32Array(buf, 0, len / 4);
    case CdfType.REAL4:
    case CdfType.FLOAT:
      return new Float32Array(buf, 0, len / 4);
    case CdfType.REAL8:
    case CdfType.DOUBLE:
    case CdfType.EPOCH:
    case CdfType.EPOCH16:
      return new Float64Array(buf, 0, len / 8);
    case CdfType.INT8:
    case CdfType.TIME_TT2000:
      return new BigInt64Array(buf, 0, len / 8);
    default:
      throw new CdfError('CORRUPT', `unknown data type ${type}`);
  }
}

/** Encode numbers into file-encoding bytes (one element per number; EPOCH16 takes pairs). */
export function encodeValues(values: ArrayLike<number | bigint>, type: number, littleEndian: boolean): Uint8Array {
  const unit = swapUnit(type);
  const out = new Uint8Array(values.length * unit);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const o = i * unit;
    switch (type) {
      case CdfType.INT1: case CdfType.BYTE: dv.setInt8(o, Number(v)); break;
      case CdfType.UINT1: case CdfType.CHAR: case CdfType.UCHAR: dv.setUint8(o, Number(v)); break;
      case CdfType.INT2: dv.setInt16(o, Number(v), littleEndian); break;
      case CdfType.UINT2: dv.setUint16(o, Number(v), littleEndian); break;
      case CdfType.INT4: dv.setInt32(o, Number(v), littleEndian); break;
      case CdfType.UINT4: dv.setUint32(o, Number(v), littleEndian); break;
      case CdfType.REAL4: case CdfType.FLOAT: dv.setFloat32(o, Number(v), littleEndian); break;
      case CdfType.REAL8: case CdfType.DOUBLE: case CdfType.EPOCH: case CdfType.EPOCH16:
        dv.setFloat64(o, Number(v), littleEndian); break;
      case CdfType.INT8: case CdfType.TIME_TT2000: dv.setBigInt64(o, BigInt(v), littleEndian); break;
      default: throw new CdfError('INVALID_ARGUMENT', `cannot encode data type ${type}`);
    }
  }
  return out;
}

/** NASA default pad values (CDF User's Guide; matched by CDFpp's NASA_RECORDS oracle). */
export function defaultPad(type: number, numElems: number, littleEndian: boolean): Uint8Array {
  switch (type) {
    case CdfType.CHAR: case CdfType.UCHAR: {
      const b = new Uint8Array(numElems);
      b[0] = 0x20; // one space, then NULs (CDFpp NASA_RECORDS "default_char": 200000)
      return b;
    }
    case CdfType.INT1: case CdfType.BYTE: return encodeValues([-127], type, littleEndian);
    case CdfType.UINT1: return encodeValues([254], type, littleEndian);
    case CdfType.INT2: return encodeValues([-32767], type, littleEndian);
    case CdfType.UINT2: return encodeValues([65534], type, littleEndian);
    case CdfType.INT4: return encodeValues([-2147483647], type, littleEndian);
    case CdfType.UINT4: return encodeValues([4294967294], type, littleEndian);
    case CdfType.INT8: case CdfType.TIME_TT2000: return encodeValues([-9223372036854775807n], type, littleEndian);
    case CdfType.REAL4: case CdfType.FLOAT: case CdfType.REAL8: case CdfType.DOUBLE:
      return encodeValues([-1e30], type, littleEndian);
    case CdfType.EPOCH: return encodeValues([0], type, littleEndian);
    case CdfType.EPOCH16: return encodeValues([0, 0], type, littleEndian);
    default: throw new CdfError('CORRUPT', `unknown data type ${type}`);
  }
}

function swapInPlace(b: Uint8Array, unit: number): void {
  for (let i = 0; i + unit <= b.length; i += unit) {
    for (let j = 0, k = unit - 1; j < k; j++, k--) {
      const t = b[i + j];
      b[i + j] = b[i + k];
      b[i + k] = t;
    }
  }
}

/** Column-major (first index fastest) records → row-major (last index fastest). */
export function transposeRecords(src: Uint8Array, shape: number[], elemBytes: number, nrec: number): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  // map[rowIndex] = colIndex
  const map = new Int32Array(n);
  const colStride: number[] = [];
  let s = 1;
  for (let k = 0; k < shape.length; k++) {
    colStride.push(s);
    s *= shape[k];
  }
  const idx = new Array(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let c = 0;
    for (let k = 0; k < shape.length; k++) c += idx[k] * colStride[k];
    map[i] = c;
    for (let k = shape.length - 1; k >= 0; k--) {
      if (++idx[k] < shape[k]) break;
      idx[k] = 0;
    }
  }
  const out = new Uint8Array(src.length);
  const recBytes = n * elemBytes;
  for (let r = 0; r < nrec; r++) {
    const base = r * recBytes;
    for (let i = 0; i < n; i++) out.set(src.subarray(base + map[i] * elemBytes, base + (map[i] + 1) * elemBytes), base + i * elemBytes);
  }
  return out;
}
