/**
 * NASA CDF constants, public types and the typed error of the CDF reader/writer.
 * Layouts and codes: shared/docs/data-formats.md §4 ("CDF Internal Format Description", v3.x).
 */

/** Why a CDF could not be read. Callers switch on `code`, never on the message text. */
export type CdfErrorCode =
  | 'BAD_MAGIC' // not a CDF (first 8 bytes)
  | 'TRUNCATED' // a record or value runs past the end of the buffer
  | 'CORRUPT' // impossible field value (bad record type, loop in a chain, size mismatch)
  | 'UNSUPPORTED' // valid CDF feature we do not implement (Huffman, VAX floats, multi-file)
  | 'NOT_FOUND' // unknown variable name
  | 'INVALID_ARGUMENT'; // bad record range / writer input

export class CdfError extends Error {
  constructor(
    readonly code: CdfErrorCode,
    message: string,
  ) {
    super(`CDF ${code.toLowerCase()}: ${message}`);
    this.name = 'CdfError';
  }
}

/** DataType codes (§4.7). */
export const CdfType = {
  INT1: 1,
  INT2: 2,
  INT4: 4,
  INT8: 8,
  UINT1: 11,
  UINT2: 12,
  UINT4: 14,
  REAL4: 21,
  REAL8: 22,
  EPOCH: 31,
  EPOCH16: 32,
  TIME_TT2000: 33,
  BYTE: 41,
  FLOAT: 44,
  DOUBLE: 45,
  CHAR: 51,
  UCHAR: 52,
} as const;
export type CdfTypeCode = (typeof CdfType)[keyof typeof CdfType];

export const CDF_TYPE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(CdfType).map(([k, v]) => [v, k === 'TIME_TT2000' ? 'CDF_TIME_TT2000' : `CDF_${k}`]),
);

/** Size in bytes of one element of a data type; undefined for unknown codes. */
export function typeSize(type: number): number | undefined {
  switch (type) {
    case 1: case 11: case 41: case 51: case 52:
      return 1;
    case 2: case 12:
      return 2;
    case 4: case 14: case 21: case 44:
      return 4;
    case 8: case 22: case 45: case 31: case 33:
      return 8;
    case 32:
      return 16;
    default:
      return undefined;
  }
}

export function isStringType(type: number): boolean {
  return type === CdfType.CHAR || type === CdfType.UCHAR;
}

/** Size of the unit that must be byte-swapped (EPOCH16 = two float64 halves). */
export function swapUnit(type: number): number {
  return type === CdfType.EPOCH16 ? 8 : (typeSize(type) ?? 1);
}

/** Record type codes (§4.3). */
export const RecordType = {
  CDR: 1, GDR: 2, rVDR: 3, ADR: 4, AgrEDR: 5, VXR: 6, VVR: 7, zVDR: 8, AzEDR: 9,
  CCR: 10, CPR: 11, SPR: 12, CVVR: 13, UIR: -1,
} as const;

/** Compression cType (§4.5). */
export const Compression = { NONE: 0, RLE: 1, HUFF: 2, AHUFF: 3, GZIP: 5, ZSTD: 16 } as const;

/** CDR.Encoding → little-endian? (§4.6). Throws for VAX/unknown encodings. */
export function encodingIsLittleEndian(encoding: number): boolean {
  if ([1, 2, 5, 7, 9, 11, 12, 18].includes(encoding)) return false;
  if ([4, 6, 13, 16, 17, 19].includes(encoding)) return true;
  if ([3, 14, 15, 20, 21].includes(encoding)) {
    throw new CdfError('UNSUPPORTED', `VAX floating-point encoding ${encoding} is not supported`);
  }
  throw new CdfError('CORRUPT', `unknown data encoding ${encoding}`);
}

/** Decoded values of one variable read. Numbers are in host order; see read.ts for layout. */
export type CdfValues =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | string[];

/** One attribute entry value: text for CHAR/UCHAR, else the decoded numbers. */
export type CdfAttrValue = string | number[] | bigint[];

export interface CdfAttrEntry {
  /** Entry number: for global attributes the gEntry/rEntry index; for variable ones the variable number. */
  num: number;
  type: number;
  value: CdfAttrValue;
  /** CHAR entries written with NumStrings > 1 (`\N ` separated in the file), else undefined. */
  strings?: string[];
}

export interface CdfAttribute {
  name: string;
  num: number;
  /** 1 global, 2 variable, 3 global-assumed, 4 variable-assumed. */
  scope: number;
}

export interface CdfVariableInfo {
  name: string;
  /** 'z' zVariable (own dims) or 'r' rVariable (dims from the GDR). */
  kind: 'r' | 'z';
  num: number;
  type: number;
  typeName: string;
  /** Elements per value: string length for CHAR/UCHAR, else 1. */
  numElems: number;
  /** Declared dimension sizes (without the record dimension). */
  dims: number[];
  /** true = VARY, false = NOVARY (stored with extent 1; see `shape`). */
  dimVarys: boolean[];
  /** Stored extents per dim (1 for NOVARY dims): the shape of one record as returned. */
  recordShape: number[];
  recVary: boolean;
  /** maxRec + 1 (0 when maxRec = -1). For NRV variables 1 if a value is stored. */
  numRecords: number;
  maxRec: number;
  /** 0 none, 1 pad-sparse, 2 previous-sparse. */
  sparseRecords: number;
  /** Per-variable compression cType (0 none, 1 RLE, 5 GZIP). */
  compression: number;
  compressionLevel?: number;
  blockingFactor: number;
  /** Raw pad value bytes in file encoding, if the VDR carries one. */
  padValue?: Uint8Array;
  /** Variable attributes by name (ISTP: FILLVAL, UNITS, DEPEND_0 ...). */
  attrs: Record<string, CdfAttrEntry>;
}

export interface CdfReadResult {
  /**
   * Values flattened in ROW-major order (last index fastest) whatever the file majority:
   * [record][d0][d1]... . EPOCH16 gives 2 float64 per value (seconds, picoseconds); CHAR/UCHAR
   * one string per value (trailing NULs removed, spaces kept).
   */
  values: CdfValues;
  /** [recordsRead, ...recordShape]. */
  shape: number[];
  type: number;
  /** First record number read. */
  recStart: number;
}
