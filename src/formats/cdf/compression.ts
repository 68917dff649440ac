/**
 * CDF decompression (§4.5): RLE (zero runs only) and GZIP (a full gzip member). Huffman and
 * ZSTD are reported as UNSUPPORTED rather than guessed at.
 */
import zlib from 'node:zlib';
import { CdfError, Compression } from './types';

/** CDF RLE: byte 00 followed by n means n+1 zero bytes; every other byte is a literal. */
export function rleDecode(src: Uint8Array, expectedSize?: number): Uint8Array {
  // First pass sizes the output so a hostile run count cannot make us grow without bound.
  let size = 0;
  for (let i = 0; i < src.length; i++) {
    if (src[i] === 0) {
      if (i + 1 >= src.length) throw new CdfError('TRUNCATED', 'RLE stream ends inside a zero run');
      size += src[++i] + 1;
    } else size++;
  }
  if (expectedSize !== undefined && size !== expectedSize) {
    throw new CdfError('CORRUPT', `RLE data inflates to ${size} bytes, expected ${expectedSize}`);
  }
  const out = new Uint8Array(size); // zero-filled: runs need no writes
  let o = 0;
  for (let i = 0; i < src.length; i++) {
    if (src[i] === 0) o += src[++i] + 1;
    else out[o++] = src[i];
  }
  return out;
}

/** CDF RLE encoder (used by tests and available to the writer). */
export function rleEncode(src: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < src.length; ) {
    if (src[i] !== 0) {
      out.push(src[i++]);
      continue;
    }
    let n = 0;
    while (i + n < src.length && src[i + n] === 0 && n < 256) n++;
    out.push(0, n - 1);
    i += n;
  }
  return Uint8Array.from(out);
}

export function gunzip(src: Uint8Array, expectedSize?: number): Uint8Array {
  let out: Buffer;
  try {
    // maxOutputLength bounds memory on corrupt headers; a CDF block is never near 2 GiB.
    out = zlib.gunzipSync(src, expectedSize ? { maxOutputLength: Math.max(expectedSize, 1) * 2 + 1024 } : {});
  } catch (e) {
    throw new CdfError('CORRUPT', `GZIP block does not inflate: ${(e as Error).message}`);
  }
  if (expectedSize !== undefined && out.length < expectedSize) {
    throw new CdfError('CORRUPT', `GZIP block inflates to ${out.length} bytes, expected ${expectedSize}`);
  }
  return out;
}

/** Decompress with a CPR cType. expectedSize, when known, is checked (at least that many bytes). */
export function decompress(cType: number, src: Uint8Array, expectedSize?: number): Uint8Array {
  switch (cType) {
    case Compression.NONE:
      return src;
    case Compression.RLE:
      return rleDecode(src, expectedSize);
    case Compression.GZIP:
      return gunzip(src, expectedSize);
    case Compression.HUFF:
    case Compression.AHUFF:
      throw new CdfError('UNSUPPORTED', `Huffman compression (cType ${cType}) is not supported`);
    case Compression.ZSTD:
      throw new CdfError('UNSUPPORTED', 'ZSTD compression (cType 16, CDFpp extension) is not supported');
    default:
      throw new CdfError('CORRUPT', `unknown compression type ${cType}`);
  }
}
