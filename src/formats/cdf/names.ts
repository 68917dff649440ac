/**
 * Variable names of a CDF file read with a few positioned reads (magic, CDR, GDR, the VDR chains:
 * a few hundred bytes per variable), without loading the file. Used to tell what a `.cdf` holds
 * (ingest's input detection) when the file may be tens of megabytes. A whole-file compressed CDF
 * has to be inflated to find its descriptors, so it is read and opened completely (bounded by
 * `maxWholeFileBytes`). Field offsets: shared/docs/data-formats.md §4.4.
 */
import fs from 'node:fs';
import { openCdf } from './read';
import { CdfError, RecordType } from './types';

const MAGIC_V3 = 0xcdf30001;
const MAGIC_V26 = 0xcdf26002;
const MAGIC_V25 = 0x0000ffff;
const MAGIC_UNCOMPRESSED = 0x0000ffff;
const MAGIC_COMPRESSED = 0xcccc0001;
/** More variables than this in one chain is a corrupt chain, not a file. */
const MAX_VARIABLES = 100_000;

/** True when the first 8 bytes are a CDF signature (v2.5-, v2.6/2.7 or v3; plain or compressed). */
export function isCdfMagic(head: Uint8Array): boolean {
  if (head.length < 8) return false;
  const dv = new DataView(head.buffer, head.byteOffset, 8);
  const m1 = dv.getUint32(0, false);
  const m2 = dv.getUint32(4, false);
  return (m1 === MAGIC_V3 || m1 === MAGIC_V26 || m1 === MAGIC_V25) && (m2 === MAGIC_UNCOMPRESSED || m2 === MAGIC_COMPRESSED);
}

/**
 * Names of the r- and zVariables of a CDF file (rVariables first, in chain order). Throws
 * CdfError: BAD_MAGIC when the file is not a CDF, TRUNCATED/CORRUPT when its descriptors are
 * broken.
 */
export function cdfVariableNames(file: string, opts: { maxWholeFileBytes?: number } = {}): string[] {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const read = (off: number, len: number, what: string): DataView => {
      if (!Number.isSafeInteger(off) || off < 0 || len < 0 || off + len > size) {
        throw new CdfError('TRUNCATED', `${what} at offset ${off} (+${len} bytes) lies outside the ${size}-byte file`);
      }
      const b = Buffer.alloc(len);
      const n = fs.readSync(fd, b, 0, len, off);
      if (n < len) throw new CdfError('TRUNCATED', `${what}: short read at ${off}`);
      return new DataView(b.buffer, b.byteOffset, len);
    };
    if (size < 8) throw new CdfError('BAD_MAGIC', `only ${size} bytes: not a CDF`);
    const magic = read(0, 8, 'magic');
    const m1 = magic.getUint32(0, false);
    const m2 = magic.getUint32(4, false);
    if (!isCdfMagic(new Uint8Array(magic.buffer, magic.byteOffset, 8))) {
      throw new CdfError('BAD_MAGIC', `magic 0x${m1.toString(16).padStart(8, '0')}${m2.toString(16).padStart(8, '0')} is not a CDF signature`);
    }
    if (m2 === MAGIC_COMPRESSED) {
      const limit = opts.maxWholeFileBytes ?? 256 << 20;
      if (size > limit) throw new CdfError('UNSUPPORTED', `whole-file compressed CDF of ${size} bytes: larger than ${limit} bytes to inflate for its variable names`);
      return openCdf(fs.readFileSync(file)).variables.map((v) => v.name);
    }
    const v3 = m1 === MAGIC_V3;
    const o = v3 ? 8 : 4;
    const hl = v3 ? 12 : 8;
    const offAt = (dv: DataView, at: number, what: string): number => {
      if (!v3) return dv.getInt32(at, false);
      const v = dv.getBigInt64(at, false);
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -1n) throw new CdfError('CORRUPT', `${what} ${v} is out of range`);
      return Number(v);
    };
    /** Header of the record at `off` plus its first `len` bytes (checked against the record size). */
    const record = (off: number, len: number, types: number[], what: string): DataView => {
      const h = read(off, hl, `${what} header`);
      const rsize = offAt(h, 0, `${what} size`);
      const type = h.getInt32(v3 ? 8 : 4, false);
      if (!types.includes(type)) throw new CdfError('CORRUPT', `expected ${what} at offset ${off}, found record type ${type}`);
      if (rsize < len) throw new CdfError('CORRUPT', `${what} at ${off} has size ${rsize}, needs at least ${len}`);
      return read(off, len, what);
    };
    const cdr = record(8, hl + o + 8, [RecordType.CDR], 'CDR');
    const gdrOffset = offAt(cdr, hl, 'GDR offset');
    const version = cdr.getInt32(hl + o, false);
    const release = cdr.getInt32(hl + o + 4, false);
    const pre25 = !v3 && version === 2 && release < 5;
    const gdr = record(gdrOffset, hl + 2 * o, [RecordType.GDR], 'GDR');
    const heads = [offAt(gdr, hl, 'rVDR head'), offAt(gdr, hl + o, 'zVDR head')];
    // VDR: next at the body start; Name at 84 (v3, 256 chars) / 64 (v2, 64 chars; +128 before 2.5).
    const nameAt = v3 ? 84 : pre25 ? 192 : 64;
    const nameLen = v3 ? 256 : 64;
    const names: string[] = [];
    const seen = new Set<number>();
    for (const head of heads) {
      for (let off = head; off > 0; ) {
        if (seen.has(off)) throw new CdfError('CORRUPT', `loop in the VDR chain at offset ${off}`);
        if (seen.size >= MAX_VARIABLES) throw new CdfError('CORRUPT', `more than ${MAX_VARIABLES} variables`);
        seen.add(off);
        const vdr = record(off, nameAt + nameLen, [RecordType.rVDR, RecordType.zVDR], 'VDR');
        const raw = new Uint8Array(vdr.buffer, vdr.byteOffset + nameAt, nameLen);
        const end = raw.indexOf(0);
        names.push(Buffer.from(raw.subarray(0, end < 0 ? nameLen : end)).toString('utf8'));
        off = offAt(vdr, hl, 'VDR next');
      }
    }
    return names;
  } finally {
    fs.closeSync(fd);
  }
}
