/**
 * Steim-1 and Steim-2 compression (SEED manual appendix B).
 *
 * A frame is 16 32-bit words: word 0 holds 2-bit "nibbles" describing words 1..15. In the first
 * frame, words 1 and 2 are the forward (X0 = first sample) and reverse (Xn = last sample)
 * integration constants. The first difference of a record refers to the previous record and is
 * not used for decoding (X0 is absolute).
 *
 * Byte order follows libmseed: with little-endian word order, 32-bit words (and Steim-1 16-bit
 * differences) are swapped, but 8-bit differences are stored in sample order in both cases.
 */

export class SteimError extends Error {}

/**
 * Decode `sampleCount` samples from `frameBytes` bytes of Steim frames at byteOffset of `view`.
 * Throws SteimError if the data run out or the last sample differs from the reverse constant.
 */
export function decodeSteim1(view: DataView, byteOffset: number, frameBytes: number, sampleCount: number, le: boolean): Int32Array {
  const out = new Int32Array(sampleCount);
  if (sampleCount === 0) return out;
  const frames = frameBytes >>> 6;
  let n = 0; // samples written
  let last = 0;
  let x0 = 0;
  let xn = 0;
  for (let f = 0; f < frames && n < sampleCount; f++) {
    const fo = byteOffset + (f << 6);
    const nibbles = view.getUint32(fo, le);
    let w = 1;
    if (f === 0) {
      x0 = view.getInt32(fo + 4, le);
      xn = view.getInt32(fo + 8, le);
      w = 3;
    }
    for (; w < 16 && n < sampleCount; w++) {
      const code = (nibbles >>> (30 - 2 * w)) & 3;
      const wo = fo + (w << 2);
      switch (code) {
        case 0:
          break;
        case 1: // four 8-bit differences
          for (let k = 0; k < 4 && n < sampleCount; k++) {
            last = n === 0 ? x0 : (last + view.getInt8(wo + k)) | 0;
            out[n++] = last;
          }
          break;
        case 2: // two 16-bit differences
          for (let k = 0; k < 2 && n < sampleCount; k++) {
            last = n === 0 ? x0 : (last + view.getInt16(wo + 2 * k, le)) | 0;
            out[n++] = last;
          }
          break;
        default: // one 32-bit difference
          last = n === 0 ? x0 : (last + view.getInt32(wo, le)) | 0;
          out[n++] = last;
      }
    }
  }
  if (n < sampleCount) throw new SteimError(`Steim-1 data hold ${n} samples, header says ${sampleCount}`);
  if (last !== xn) throw new SteimError(`Steim-1 last sample ${last} differs from reverse integration constant ${xn}`);
  return out;
}

const wordBE = (b: Uint8Array, p: number): number => (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
const wordLE = (b: Uint8Array, p: number): number => b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);

export function decodeSteim2(view: DataView, byteOffset: number, frameBytes: number, sampleCount: number, le: boolean): Int32Array {
  const out = new Int32Array(sampleCount);
  if (sampleCount === 0) return out;
  // Hot loop: words are assembled from bytes (cheaper than DataView calls with a variable byte order).
  const b = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  const word = le ? wordLE : wordBE;
  const frames = frameBytes >>> 6;
  const x0 = word(b, byteOffset + 4);
  const xn = word(b, byteOffset + 8);
  // The record's first difference refers to the previous record: sample 0 is X0 instead.
  // Seeding the accumulator with X0 - d0 lets every difference be added the same way.
  let n = -1;
  let last = (x0 - firstSteim2Diff(b, word, byteOffset, frames)) | 0;
  const limit = sampleCount - 1; // last index to write
  for (let f = 0; f < frames && n < limit; f++) {
    const fo = byteOffset + (f << 6);
    const nibbles = word(b, fo);
    for (let w = f === 0 ? 3 : 1; w < 16 && n < limit; w++) {
      const code = (nibbles >>> (30 - 2 * w)) & 3;
      if (code === 0) continue;
      const wo = fo + (w << 2);
      if (code === 1) {
        // four 8-bit differences, in byte order whatever the word order
        for (let k = 0; k < 4 && n < limit; k++) {
          last = (last + ((b[wo + k] << 24) >> 24)) | 0;
          out[++n] = last;
        }
        continue;
      }
      const v = word(b, wo);
      const dnib = v >>> 30;
      let count: number;
      let bits: number;
      if (code === 2) {
        if (dnib === 1) (count = 1), (bits = 30);
        else if (dnib === 2) (count = 2), (bits = 15);
        else if (dnib === 3) (count = 3), (bits = 10);
        else throw new SteimError(`Steim-2 invalid dnib 0 for nibble 10 (frame ${f}, word ${w})`);
      } else {
        if (dnib === 0) (count = 5), (bits = 6);
        else if (dnib === 1) (count = 6), (bits = 5);
        else if (dnib === 2) (count = 7), (bits = 4);
        else throw new SteimError(`Steim-2 invalid dnib 3 for nibble 11 (frame ${f}, word ${w})`);
      }
      // Difference k occupies bits [(count-1-k)*bits, +bits) of the low 30 bits; sign-extend by shifts.
      const shiftDown = 32 - bits;
      for (let k = 0; k < count && n < limit; k++) {
        last = (last + ((v << (32 - bits * (count - k))) >> shiftDown)) | 0;
        out[++n] = last;
      }
    }
  }
  if (n < limit) throw new SteimError(`Steim-2 data hold ${n + 1} samples, header says ${sampleCount}`);
  if (out[sampleCount - 1] !== xn) throw new SteimError(`Steim-2 last sample ${out[sampleCount - 1]} differs from reverse integration constant ${xn}`);
  return out;
}

/** The first difference stored in Steim-2 frames (0 if none). */
function firstSteim2Diff(b: Uint8Array, word: (b: Uint8Array, p: number) => number, byteOffset: number, frames: number): number {
  for (let f = 0; f < frames; f++) {
    const fo = byteOffset + (f << 6);
    const nibbles = word(b, fo);
    for (let w = f === 0 ? 3 : 1; w < 16; w++) {
      const code = (nibbles >>> (30 - 2 * w)) & 3;
      const wo = fo + (w << 2);
      if (code === 0) continue;
      if (code === 1) return (b[wo] << 24) >> 24;
      const v = word(b, wo);
      const dnib = v >>> 30;
      const bits = code === 2 ? [0, 30, 15, 10][dnib] : [6, 5, 4, 0][dnib];
      const count = code === 2 ? [0, 1, 2, 3][dnib] : [5, 6, 7, 0][dnib];
      return bits === 0 ? 0 : (v << (32 - bits * count)) >> (32 - bits);
    }
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** Steim-2 packing schemes: [differences per word, bits each, nibble, dnib]. Most samples first. */
const STEIM2_SCHEMES: ReadonlyArray<readonly [number, number, number, number]> = [
  [7, 4, 3, 2],
  [6, 5, 3, 1],
  [5, 6, 3, 0],
  [4, 8, 1, -1],
  [3, 10, 2, 3],
  [2, 15, 2, 2],
  [1, 30, 2, 1],
];

function fits(d: number, bits: number): boolean {
  const lim = 2 ** (bits - 1);
  return d >= -lim && d < lim;
}

export interface SteimPackResult {
  /** Samples consumed from `start`. */
  count: number;
  /** Frames actually used (each 64 bytes). */
  framesUsed: number;
}

/**
 * Pack samples[start..] into at most `maxFrames` Steim frames written to `out` (big- or
 * little-endian words at outOffset). `prev` is the sample preceding `start` (null if none), used
 * for the first difference. Packing stops early (so the caller starts a new record) when a
 * difference does not fit the scheme (> 32 bits for Steim-1, > 30 bits for Steim-2): the next
 * record restarts with an absolute X0, so such jumps are still encoded exactly.
 */
export function packSteim(
  version: 1 | 2,
  samples: ArrayLike<number>,
  start: number,
  prev: number | null,
  out: Buffer,
  outOffset: number,
  maxFrames: number,
  le: boolean,
  endIndex: number = samples.length,
): SteimPackResult {
  // endIndex caps the samples of one record (v2 sample count is a 16-bit field).
  const total = Math.min(endIndex, samples.length);
  const maxDiffBits = version === 1 ? 32 : 30;
  const diffAt = (i: number): number => {
    // Difference of sample i from its predecessor; the record's first uses `prev` (0 if none / too big).
    if (i === start) {
      if (prev === null) return 0;
      const d = samples[i] - prev;
      return fits(d, maxDiffBits) ? d : 0;
    }
    return samples[i] - samples[i - 1];
  };
  const w32 = (pos: number, v: number) => (le ? out.writeInt32LE(v | 0, pos) : out.writeInt32BE(v | 0, pos));
  const w16 = (pos: number, v: number) => (le ? out.writeInt16LE(v, pos) : out.writeInt16BE(v, pos));

  let i = start; // next sample to pack
  let frames = 0;
  let stop = false;
  for (let f = 0; f < maxFrames && i < total && !stop; f++) {
    const fo = outOffset + f * 64;
    out.fill(0, fo, fo + 64);
    let nibbles = 0;
    let w = 1;
    if (f === 0) {
      w32(fo + 4, samples[start]);
      w = 3;
    }
    frames++;
    for (; w < 16 && i < total; w++) {
      const wo = fo + w * 4;
      const remaining = total - i;
      if (version === 1) {
        const d0 = diffAt(i);
        if (!fits(d0, 32)) {
          stop = true;
          break;
        }
        if (remaining >= 4 && fits(d0, 8) && fits(diffAt(i + 1), 8) && fits(diffAt(i + 2), 8) && fits(diffAt(i + 3), 8)) {
          for (let k = 0; k < 4; k++) out.writeInt8(diffAt(i + k), wo + k);
          nibbles |= 1 << (30 - 2 * w);
          i += 4;
        } else if (remaining >= 2 && fits(d0, 16) && fits(diffAt(i + 1), 16)) {
          w16(wo, d0);
          w16(wo + 2, diffAt(i + 1));
          nibbles |= 2 << (30 - 2 * w);
          i += 2;
        } else {
          w32(wo, d0);
          nibbles |= 3 << (30 - 2 * w);
          i += 1;
        }
        continue;
      }
      // Steim-2: take the scheme carrying the most differences that all fit.
      let chosen = -1;
      for (let s = 0; s < STEIM2_SCHEMES.length; s++) {
        const [count, bits] = STEIM2_SCHEMES[s];
        if (count > remaining) continue;
        let ok = true;
        for (let k = 0; k < count; k++) {
          if (!fits(diffAt(i + k), bits)) {
            ok = false;
            break;
          }
        }
        if (ok) {
          chosen = s;
          break;
        }
      }
      if (chosen < 0) {
        // Difference needs more than 30 bits: end this record; the next one starts at sample i.
        stop = true;
        break;
      }
      const [count, bits, nib, dnib] = STEIM2_SCHEMES[chosen];
      if (nib === 1) {
        for (let k = 0; k < 4; k++) out.writeInt8(diffAt(i + k), wo + k);
      } else {
        let word = dnib << 30;
        const mask = bits === 30 ? 0x3fffffff : (1 << bits) - 1;
        for (let k = 0; k < count; k++) word |= (diffAt(i + k) & mask) << ((count - 1 - k) * bits);
        w32(wo, word);
      }
      nibbles |= nib << (30 - 2 * w);
      i += count;
    }
    w32(fo, nibbles);
    if (stop && w === 1 && f > 0) {
      // Nothing landed in this frame: drop it.
      frames--;
      out.fill(0, fo, fo + 64);
    }
  }
  const count = i - start;
  if (count > 0) w32(outOffset + 8, samples[i - 1]);
  return { count, framesUsed: frames };
}
