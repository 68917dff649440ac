/**
 * Minimal NASA CDF v3 writer: zVariables only, row-major, little- (IBMPC) or big-endian
 * (NETWORK), uncompressed VVRs or per-variable GZIP CVVRs, optional splitting into several
 * blocks indexed by a chain of VXRs, global and variable attributes. Enough to produce
 * ISEE-VLF-like files (§3.2) and round-trip test data; layouts follow §4.4 (v3 columns).
 *
 * Layout written: magic, CDR (at 8), GDR, then per variable zVDR [+ CPR] + VXR chain + blocks,
 * then each ADR followed by its entries. Offsets are computed in a first pass, bytes in a second.
 */
import zlib from 'node:zlib';
import { defaultPad, encodeValues } from './read';
import { CdfError, CdfType, isStringType, RecordType, typeSize } from './types';

/** A typed attribute value, or a shorthand: string → CHAR, number(s) → see writeCdf, bigint → INT8/TT2000. */
export type CdfWriteAttr =
  | string
  | number
  | number[]
  | bigint
  | bigint[]
  | { type: number; value: string | number[] | bigint[] };

export interface CdfWriteVariable {
  name: string;
  type: number;
  /** Dimension sizes of one record (row-major). Default [] (scalar). */
  dims?: number[];
  /** Record varying (default true). NRV variables hold exactly one record. */
  recVary?: boolean;
  /** Values flattened row-major: numbers/bigints (EPOCH16: 2 per value) or strings for CHAR/UCHAR. */
  values: ArrayLike<number> | ArrayLike<bigint> | readonly string[];
  /** String length for CHAR/UCHAR (default: longest UTF-8 value, at least 1). */
  numElems?: number;
  compress?: 'none' | 'gzip';
  gzipLevel?: number;
  /** Records per VVR/CVVR block (default: all records in one block). */
  blockRecords?: number;
  padValue?: number | bigint;
  attrs?: Record<string, CdfWriteAttr>;
}

export interface CdfWriteOptions {
  /** Values byte order: true IBMPC (default), false NETWORK. */
  littleEndian?: boolean;
  /** Global attributes: one value per entry (an array of entries, or a single value). */
  globalAttributes?: Record<string, CdfWriteAttr | CdfWriteAttr[]>;
  variables: CdfWriteVariable[];
  /** Entries per VXR before chaining a new one (NASA's library uses 10). */
  maxVxrEntries?: number;
}

const NAME_LEN = 256;
const COPYRIGHT =
  '\nCommon Data Format (CDF)\nhttps://cdf.gsfc.nasa.gov\nSpace Physics Data Facility\nNASA/Goddard Space Flight Center\nGreenbelt, Maryland 20771 USA\n(User support: gsfc-cdf-support@lists.nasa.gov)\n';

interface Rec {
  type: number;
  size: number;
  offset: number;
  write: (dv: DataView, u8: Uint8Array, at: number) => void;
}

interface Entry {
  type: number;
  numElems: number;
  bytes: Uint8Array;
  num: number;
  isString: boolean;
}

const TIME_OR_NONNUMERIC = new Set<number>([CdfType.EPOCH, CdfType.EPOCH16, CdfType.TIME_TT2000, CdfType.CHAR, CdfType.UCHAR]);

function attrEntry(v: CdfWriteAttr, num: number, le: boolean, varType?: number): Entry {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    if (typeof v.value === 'string') return attrEntry(v.value, num, le);
    const bytes = encodeValues(v.value as ArrayLike<number | bigint>, v.type, le);
    return { type: v.type, numElems: v.type === CdfType.EPOCH16 ? v.value.length / 2 : v.value.length, bytes, num, isString: false };
  }
  if (typeof v === 'string') {
    const bytes = new Uint8Array(Buffer.from(v, 'utf8'));
    // Empty strings are stored as one space: NumElems must be ≥ 1.
    return { type: CdfType.CHAR, numElems: Math.max(1, bytes.length), bytes: bytes.length ? bytes : Uint8Array.of(0x20), num, isString: true };
  }
  const arr = (Array.isArray(v) ? v : [v]) as Array<number | bigint>;
  const isBig = typeof arr[0] === 'bigint';
  let type: number;
  if (isBig) type = varType === CdfType.TIME_TT2000 ? CdfType.TIME_TT2000 : CdfType.INT8;
  // ISTP wants FILLVAL/VALIDMIN... in the variable's own type; non-numeric vars get DOUBLE.
  else type = varType !== undefined && !TIME_OR_NONNUMERIC.has(varType) && varType !== CdfType.INT8 ? varType : varType === CdfType.EPOCH ? CdfType.EPOCH : CdfType.DOUBLE;
  return { type, numElems: arr.length, bytes: encodeValues(arr, type, le), num, isString: false };
}

function encodeStrings(values: readonly string[], numElems: number): Uint8Array {
  const out = new Uint8Array(values.length * numElems);
  values.forEach((s, i) => {
    const b = Buffer.from(s, 'utf8');
    if (b.length > numElems) throw new CdfError('INVALID_ARGUMENT', `string ${JSON.stringify(s)} longer than NumElems ${numElems}`);
    out.set(b, i * numElems);
  });
  return out;
}

/** Encode variable values to file-order bytes, with fast paths for matching typed arrays. */
function encodeData(v: CdfWriteVariable, numElems: number, le: boolean): Uint8Array {
  if (isStringType(v.type)) return encodeStrings(v.values as readonly string[], numElems);
  const hostLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  const vals = v.values as ArrayLike<number | bigint>;
  const fast =
    le === hostLE &&
    ((vals instanceof Float32Array && (v.type === CdfType.REAL4 || v.type === CdfType.FLOAT)) ||
      (vals instanceof Float64Array && [CdfType.REAL8, CdfType.DOUBLE, CdfType.EPOCH, CdfType.EPOCH16].includes(v.type as 22)) ||
      (vals instanceof Int32Array && v.type === CdfType.INT4) ||
      (vals instanceof BigInt64Array && (v.type === CdfType.TIME_TT2000 || v.type === CdfType.INT8)));
  if (fast) {
    const ta = vals as Float32Array;
    return new Uint8Array(ta.buffer.slice(ta.byteOffset, ta.byteOffset + ta.byteLength));
  }
  return encodeValues(vals, v.type, le);
}

/** Write a CDF v3 file. Throws CdfError('INVALID_ARGUMENT') on inconsistent input. */
export function writeCdf(opts: CdfWriteOptions): Buffer {
  const le = opts.littleEndian ?? true;
  const maxVxr = Math.max(1, opts.maxVxrEntries ?? 10);
  const recs: Rec[] = [];
  const add = (type: number, size: number, write: Rec['write']): Rec => {
    const r: Rec = { type, size, offset: 0, write };
    recs.push(r);
    return r;
  };
  const names = new Set<string>();

  // --- CDR, GDR -------------------------------------------------------------------------
  add(RecordType.CDR, 312, (dv, u8, at) => {
    dv.setBigInt64(at + 12, BigInt(gdr.offset));
    dv.setInt32(at + 20, 3); // Version
    dv.setInt32(at + 24, 9); // Release
    dv.setInt32(at + 28, le ? 6 : 1); // Encoding IBMPC / NETWORK
    dv.setInt32(at + 32, 0b11); // row-major + single-file
    dv.setInt32(at + 44, 0); // Increment
    dv.setInt32(at + 48, 2); // Identifier
    dv.setInt32(at + 52, -1);
    u8.set(Buffer.from(COPYRIGHT, 'latin1'), at + 56);
  });
  const vdrRecs: Rec[] = [];
  const adrRecs: Rec[] = [];
  let eof = 0;
  const gdr = add(RecordType.GDR, 84, (dv, _u8, at) => {
    dv.setBigInt64(at + 12, 0n); // rVDRhead
    dv.setBigInt64(at + 20, BigInt(vdrRecs[0]?.offset ?? 0));
    dv.setBigInt64(at + 28, BigInt(adrRecs[0]?.offset ?? 0));
    dv.setBigInt64(at + 36, BigInt(eof));
    dv.setInt32(at + 44, 0); // NrVars
    dv.setInt32(at + 48, adrRecs.length);
    dv.setInt32(at + 52, -1); // rMaxRec
    dv.setInt32(at + 56, 0); // rNumDims
    dv.setInt32(at + 60, vdrRecs.length);
    dv.setBigInt64(at + 64, 0n); // UIRhead
    dv.setInt32(at + 72, 0);
    dv.setInt32(at + 76, 20170101); // LeapSecondLastUpdated: last leap second known
    dv.setInt32(at + 80, -1);
  });

  // --- variables -------------------------------------------------------------------------
  const varTypes = new Map<string, { num: number; type: number }>();
  opts.variables.forEach((v, num) => {
    if (!v.name || Buffer.byteLength(v.name) > NAME_LEN) throw new CdfError('INVALID_ARGUMENT', `bad variable name ${JSON.stringify(v.name)}`);
    if (names.has(v.name)) throw new CdfError('INVALID_ARGUMENT', `duplicate variable ${v.name}`);
    names.add(v.name);
    const tsize = typeSize(v.type);
    if (tsize === undefined) throw new CdfError('INVALID_ARGUMENT', `${v.name}: unknown type ${v.type}`);
    const dims = v.dims ?? [];
    if (dims.some((d) => !Number.isInteger(d) || d < 1)) throw new CdfError('INVALID_ARGUMENT', `${v.name}: bad dims ${dims}`);
    const recVary = v.recVary ?? true;
    const isStr = isStringType(v.type);
    const numElems = isStr
      ? (v.numElems ?? Math.max(1, ...(v.values as readonly string[]).map((s) => Buffer.byteLength(s, 'utf8'))))
      : 1;
    const perRec = dims.reduce((a, b) => a * b, 1) * (v.type === CdfType.EPOCH16 ? 2 : 1);
    const count = v.values.length;
    if (count % perRec !== 0) throw new CdfError('INVALID_ARGUMENT', `${v.name}: ${count} values is not a multiple of ${perRec} per record`);
    const nrec = count / perRec;
    if (!recVary && nrec > 1) throw new CdfError('INVALID_ARGUMENT', `${v.name}: NRV variable with ${nrec} records`);
    const data = encodeData(v, numElems, le);
    const recBytes = perRec * (v.type === CdfType.EPOCH16 ? 8 : tsize) * numElems;
    const gzip = v.compress === 'gzip';
    const per = Math.max(1, v.blockRecords ?? Math.max(1, nrec));
    const blocks: Array<{ first: number; last: number; rec: Rec }> = [];
    const pad =
      v.padValue !== undefined && !isStr
        ? encodeValues([v.padValue as number], v.type, le)
        : defaultPad(v.type, numElems, le);

    const vdr = add(RecordType.zVDR, 340 + 4 + 8 * dims.length + pad.length, (dv, u8, at) => {
      const next = vdrRecs[num + 1];
      dv.setBigInt64(at + 12, BigInt(next?.offset ?? 0));
      dv.setInt32(at + 20, v.type);
      dv.setInt32(at + 24, nrec - 1); // MaxRec
      dv.setBigInt64(at + 28, BigInt(vxrs[0]?.offset ?? 0));
      dv.setBigInt64(at + 36, BigInt(vxrs[vxrs.length - 1]?.offset ?? 0));
      dv.setInt32(at + 44, (recVary ? 1 : 0) | 2 | (gzip ? 4 : 0)); // bit1: pad value present
      dv.setInt32(at + 48, 0); // SRecords
      dv.setInt32(at + 52, 0);
      dv.setInt32(at + 56, -1);
      dv.setInt32(at + 60, -1);
      dv.setInt32(at + 64, numElems);
      dv.setInt32(at + 68, num);
      dv.setBigInt64(at + 72, gzip ? BigInt(cpr!.offset) : -1n);
      dv.setInt32(at + 80, gzip ? per : 0); // BlockingFactor
      u8.set(Buffer.from(v.name, 'utf8'), at + 84);
      let p = at + 340;
      dv.setInt32(p, dims.length);
      p += 4;
      for (const d of dims) (dv.setInt32(p, d), (p += 4));
      for (let i = 0; i < dims.length; i++) (dv.setInt32(p, -1), (p += 4)); // all VARY
      u8.set(pad, p);
    });
    vdrRecs.push(vdr);
    const level = Math.min(9, Math.max(1, v.gzipLevel ?? 6));
    const cpr = gzip
      ? add(RecordType.CPR, 28, (dv, _u8, at) => {
          dv.setInt32(at + 12, 5); // GZIP
          dv.setInt32(at + 16, 0);
          dv.setInt32(at + 20, 1);
          dv.setInt32(at + 24, level);
        })
      : undefined;

    // VXRs first (their size only depends on the block count), then the blocks.
    const nBlocks = nrec === 0 ? 0 : Math.ceil(nrec / per);
    const vxrs: Rec[] = [];
    for (let i = 0; i < nBlocks; i += maxVxr) {
      const idx = vxrs.length;
      const n = Math.min(maxVxr, nBlocks - i);
      const firstBlock = i;
      vxrs.push(
        add(RecordType.VXR, 28 + 16 * n, (dv, _u8, at) => {
          dv.setBigInt64(at + 12, BigInt(vxrs[idx + 1]?.offset ?? 0));
          dv.setInt32(at + 20, n);
          dv.setInt32(at + 24, n);
          for (let k = 0; k < n; k++) {
            const b = blocks[firstBlock + k];
            dv.setInt32(at + 28 + 4 * k, b.first);
            dv.setInt32(at + 28 + 4 * n + 4 * k, b.last);
            dv.setBigInt64(at + 28 + 8 * n + 8 * k, BigInt(b.rec.offset));
          }
        }),
      );
    }
    for (let b = 0; b < nBlocks; b++) {
      const first = b * per;
      const last = Math.min(nrec, first + per) - 1;
      const payload = data.subarray(first * recBytes, (last + 1) * recBytes);
      let rec: Rec;
      if (gzip) {
        const c = zlib.gzipSync(payload, { level });
        rec = add(RecordType.CVVR, 24 + c.length, (dv, u8, at) => {
          dv.setInt32(at + 12, 0);
          dv.setBigInt64(at + 16, BigInt(c.length));
          u8.set(c, at + 24);
        });
      } else {
        rec = add(RecordType.VVR, 12 + payload.length, (_dv, u8, at) => u8.set(payload, at + 12));
      }
      blocks.push({ first, last, rec });
    }
    varTypes.set(v.name, { num, type: v.type });
  });

  // --- attributes ------------------------------------------------------------------------
  interface AttrDef { name: string; scope: 1 | 2; entries: Entry[] }
  const attrs: AttrDef[] = [];
  for (const [name, val] of Object.entries(opts.globalAttributes ?? {})) {
    const list = Array.isArray(val) && (val.length === 0 || typeof val[0] === 'string' || typeof val[0] === 'object') ? (val as CdfWriteAttr[]) : [val as CdfWriteAttr];
    attrs.push({ name, scope: 1, entries: list.map((e, i) => attrEntry(e, i, le)) });
  }
  const varAttr = new Map<string, AttrDef>();
  for (const v of opts.variables) {
    const vt = varTypes.get(v.name)!;
    for (const [name, val] of Object.entries(v.attrs ?? {})) {
      let a = varAttr.get(name);
      if (!a) {
        if (attrs.some((g) => g.name === name)) throw new CdfError('INVALID_ARGUMENT', `attribute ${name} is both global and variable`);
        a = { name, scope: 2, entries: [] };
        varAttr.set(name, a);
        attrs.push(a);
      }
      a.entries.push(attrEntry(val, vt.num, le, vt.type));
    }
  }
  attrs.forEach((a, anum) => {
    if (Buffer.byteLength(a.name) > NAME_LEN) throw new CdfError('INVALID_ARGUMENT', `attribute name too long: ${a.name}`);
    const entryRecs: Rec[] = [];
    const adr = add(RecordType.ADR, 68 + NAME_LEN, (dv, u8, at) => {
      const global = a.scope === 1;
      const maxNum = a.entries.reduce((m, e) => Math.max(m, e.num), -1);
      dv.setBigInt64(at + 12, BigInt(adrRecs[anum + 1]?.offset ?? 0));
      dv.setBigInt64(at + 20, BigInt(global ? (entryRecs[0]?.offset ?? 0) : 0));
      dv.setInt32(at + 28, a.scope);
      dv.setInt32(at + 32, anum);
      dv.setInt32(at + 36, global ? a.entries.length : 0);
      dv.setInt32(at + 40, global ? maxNum : -1);
      dv.setInt32(at + 44, 0);
      dv.setBigInt64(at + 48, BigInt(global ? 0 : (entryRecs[0]?.offset ?? 0)));
      dv.setInt32(at + 56, global ? 0 : a.entries.length);
      dv.setInt32(at + 60, global ? -1 : maxNum);
      dv.setInt32(at + 64, -1);
      u8.set(Buffer.from(a.name, 'utf8'), at + 68);
    });
    adrRecs.push(adr);
    a.entries.forEach((e, k) => {
      entryRecs.push(
        add(a.scope === 1 ? RecordType.AgrEDR : RecordType.AzEDR, 56 + e.bytes.length, (dv, u8, at) => {
          dv.setBigInt64(at + 12, BigInt(entryRecs[k + 1]?.offset ?? 0));
          dv.setInt32(at + 20, anum);
          dv.setInt32(at + 24, e.type);
          dv.setInt32(at + 28, e.num);
          dv.setInt32(at + 32, e.numElems);
          dv.setInt32(at + 36, e.isString ? 1 : 0); // NumStrings
          dv.setInt32(at + 40, 0);
          dv.setInt32(at + 44, 0);
          dv.setInt32(at + 48, -1);
          dv.setInt32(at + 52, -1);
          u8.set(e.bytes, at + 56);
        }),
      );
    });
  });

  // --- layout + serialisation --------------------------------------------------------------
  let off = 8;
  for (const r of recs) {
    r.offset = off;
    off += r.size;
  }
  eof = off;
  const out = Buffer.alloc(off);
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  dv.setUint32(0, 0xcdf30001);
  dv.setUint32(4, 0x0000ffff);
  for (const r of recs) {
    dv.setBigInt64(r.offset, BigInt(r.size)); // RecordSize
    dv.setInt32(r.offset + 8, r.type); // RecordType
    r.write(dv, out, r.offset);
  }
  return out;
}
