/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by miniSEED 3.
 * Slicing-by-8: every v3 record is checked during indexing, so this sits on the hot path.
 */

const POLY = 0x82f63b78;

/** 8 tables of 256 entries: TABLES[k*256 + b] is the CRC of byte b followed by k zero bytes. */
const TABLES = (() => {
  const t = new Int32Array(8 * 256);
  for (let b = 0; b < 256; b++) {
    let c = b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[b] = c;
  }
  for (let b = 0; b < 256; b++) {
    let c = t[b];
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff] ^ (c >>> 8);
      t[k * 256 + b] = c;
    }
  }
  return t;
})();

/** Continue a CRC-32C (pre-inverted state) over buf[start, end). */
function update(state: number, buf: Uint8Array, start: number, end: number): number {
  const t = TABLES;
  let c = state;
  let i = start;
  // Slicing-by-8 over the bulk, byte-wise for the tail.
  const end8 = end - ((end - start) & 7);
  while (i < end8) {
    const lo = c ^ (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24));
    c =
      t[1792 + (lo & 0xff)] ^
      t[1536 + ((lo >>> 8) & 0xff)] ^
      t[1280 + ((lo >>> 16) & 0xff)] ^
      t[1024 + (lo >>> 24)] ^
      t[768 + buf[i + 4]] ^
      t[512 + buf[i + 5]] ^
      t[256 + buf[i + 6]] ^
      t[buf[i + 7]];
    i += 8;
  }
  while (i < end) c = t[(c ^ buf[i++]) & 0xff] ^ (c >>> 8);
  return c;
}

/** CRC-32C of buf[start, end). */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  return (~update(~0, buf, start, end)) >>> 0;
}

/**
 * CRC-32C of buf[start, end) as if the 4 bytes at `zeroAt` were zero — the miniSEED 3 rule
 * (CRC computed with its own field zeroed) without copying the record.
 */
export function crc32cWithZeroedField(buf: Uint8Array, start: number, end: number, zeroAt: number): number {
  let c = update(~0, buf, start, zeroAt);
  for (let k = 0; k < 4; k++) c = TABLES[c & 0xff] ^ (c >>> 8);
  c = update(c, buf, zeroAt + 4, end);
  return (~c) >>> 0;
}
