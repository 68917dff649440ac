// @ts-check
/**
 * A small miniSEED 2 reader for the browser: fixed header, blockettes 1000/1001, and the data
 * encodings fdsnws-dataselect returns — int16 (1), int32 (3), float32 (4), float64 (5),
 * Steim-1 (10), Steim-2 (11). Records are returned in the order given; `toSegments` joins
 * contiguous records, starts a new segment at every gap so charts can show gaps, and shows the
 * samples of overlapping (re-sent) records once.
 */

/**
 * @typedef {{ network: string, station: string, location: string, channel: string,
 *   startMs: number, sampleRate: number, samples: Float64Array | Int32Array | Float32Array,
 *   encoding: number, recordLength: number }} MseedRecord
 */

/** @param {DataView} v @param {number} off @param {number} n */
function ascii(v, off, n) {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(v.getUint8(off + i));
  return s.trim();
}

/** SEED sample rate from factor and multiplier. @param {number} f @param {number} m */
export function sampleRateOf(f, m) {
  if (f === 0 || m === 0) return 0;
  const a = f > 0 ? f : -1 / f;
  const b = m > 0 ? m : -1 / m;
  return a * b;
}

/**
 * Decode every record of a dataselect response.
 * @param {ArrayBuffer} buf
 * @returns {MseedRecord[]}
 */
export function parseMiniseed(buf) {
  const out = [];
  let off = 0;
  while (off + 48 <= buf.byteLength) {
    const rec = parseRecord(buf, off);
    out.push(rec);
    off += rec.recordLength;
  }
  return out;
}

/** @param {ArrayBuffer} buf @param {number} off @returns {MseedRecord} */
export function parseRecord(buf, off) {
  const v = new DataView(buf, off);
  // Header byte order: the year must be plausible.
  const yBE = v.getUint16(20, false);
  const le = !(yBE >= 1900 && yBE <= 2100);
  const year = v.getUint16(20, le);
  if (year < 1900 || year > 2100) throw new Error(`not a miniSEED record at byte ${off}`);
  const doy = v.getUint16(22, le);
  const hour = v.getUint8(24);
  const minute = v.getUint8(25);
  const second = v.getUint8(26);
  const fract = v.getUint16(28, le); // 0.0001 s
  const nsamp = v.getUint16(30, le);
  const rate = sampleRateOf(v.getInt16(32, le), v.getInt16(34, le));
  const activity = v.getUint8(36);
  const nBlockettes = v.getUint8(39);
  const timeCorr = v.getInt32(40, le);
  const dataOffset = v.getUint16(44, le);
  let bOff = v.getUint16(46, le);
  let encoding = -1;
  let wordOrderBE = true;
  let recordLength = 0;
  let microsec = 0;
  for (let i = 0; i < nBlockettes && bOff > 0 && bOff + 4 <= v.byteLength; i++) {
    const type = v.getUint16(bOff, le);
    const next = v.getUint16(bOff + 2, le);
    if (type === 1000) {
      encoding = v.getUint8(bOff + 4);
      wordOrderBE = v.getUint8(bOff + 5) === 1;
      recordLength = 2 ** v.getUint8(bOff + 6);
    } else if (type === 1001) {
      microsec = v.getInt8(bOff + 5);
    }
    bOff = next;
  }
  if (encoding < 0 || recordLength === 0) throw new Error(`record at byte ${off} has no blockette 1000`);
  let startMs = Date.UTC(year, 0, 1, hour, minute, second) + (doy - 1) * 86_400_000 + fract / 10 + microsec / 1000;
  if ((activity & 0x02) === 0 && timeCorr !== 0) startMs += timeCorr / 10;
  const data = new DataView(buf, off + dataOffset, recordLength - dataOffset);
  const samples = decodeData(data, encoding, nsamp, !wordOrderBE);
  return {
    network: ascii(v, 18, 2),
    station: ascii(v, 8, 5),
    location: ascii(v, 13, 2),
    channel: ascii(v, 15, 3),
    startMs,
    sampleRate: rate,
    samples,
    encoding,
    recordLength,
  };
}

/**
 * @param {DataView} d data section @param {number} encoding @param {number} n samples
 * @param {boolean} le little-endian data (B1000 word order 0)
 */
export function decodeData(d, encoding, n, le) {
  switch (encoding) {
    case 1: {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = d.getInt16(2 * i, le);
      return out;
    }
    case 3: {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = d.getInt32(4 * i, le);
      return out;
    }
    case 4: {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = d.getFloat32(4 * i, le);
      return out;
    }
    case 5: {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = d.getFloat64(8 * i, le);
      return out;
    }
    case 10:
    case 11:
      return decodeSteim(d, n, encoding === 10 ? 1 : 2, le);
    default:
      throw new Error(`unsupported miniSEED encoding ${encoding}`);
  }
}

/** Sign-extend the low `bits` bits of `x`. @param {number} x @param {number} bits */
function signed(x, bits) {
  const shift = 32 - bits;
  return (x << shift) >> shift;
}

/**
 * Steim-1/2: 64-byte frames of 16 words; word 0 holds 2-bit codes for the 16 words; frame 0
 * words 1 and 2 are the forward (X0) and reverse (Xn) integration constants.
 * @param {DataView} d @param {number} n @param {1|2} level @param {boolean} le
 */
export function decodeSteim(d, n, level, le) {
  const out = new Int32Array(n);
  if (n === 0) return out;
  const diffs = [];
  const frames = Math.floor(d.byteLength / 64);
  let x0 = 0;
  let xn = 0;
  for (let f = 0; f < frames && diffs.length < n; f++) {
    const base = f * 64;
    const nibbles = d.getUint32(base, le);
    for (let w = 1; w < 16; w++) {
      const code = (nibbles >>> (30 - 2 * w)) & 3;
      const word = d.getUint32(base + 4 * w, le) | 0;
      if (f === 0 && w === 1) { x0 = word; continue; }
      if (f === 0 && w === 2) { xn = word; continue; }
      if (code === 0) continue;
      if (code === 1) {
        for (let k = 0; k < 4; k++) diffs.push(signed(word >>> (24 - 8 * k), 8));
      } else if (level === 1) {
        if (code === 2) { diffs.push(signed(word >>> 16, 16), signed(word, 16)); }
        else diffs.push(word);
      } else {
        const dnib = (word >>> 30) & 3;
        if (code === 2) {
          if (dnib === 1) diffs.push(signed(word, 30));
          else if (dnib === 2) { diffs.push(signed(word >>> 15, 15), signed(word, 15)); }
          else if (dnib === 3) { for (let k = 0; k < 3; k++) diffs.push(signed(word >>> (20 - 10 * k), 10)); }
          else throw new Error('bad Steim-2 dnib 0 for code 2');
        } else {
          if (dnib === 0) { for (let k = 0; k < 5; k++) diffs.push(signed(word >>> (24 - 6 * k), 6)); }
          else if (dnib === 1) { for (let k = 0; k < 6; k++) diffs.push(signed(word >>> (25 - 5 * k), 5)); }
          else if (dnib === 2) { for (let k = 0; k < 7; k++) diffs.push(signed(word >>> (24 - 4 * k), 4)); }
          else throw new Error('bad Steim-2 dnib 3 for code 3');
        }
      }
    }
  }
  if (diffs.length < n) throw new Error(`Steim-${level}: ${diffs.length} differences for ${n} samples`);
  out[0] = x0;
  for (let i = 1; i < n; i++) out[i] = (out[i - 1] + diffs[i]) | 0;
  if (out[n - 1] !== xn) throw new Error(`Steim-${level}: last sample ${out[n - 1]} != reverse constant ${xn}`);
  return out;
}

/**
 * Join records of one channel into contiguous segments; a gap of more than half a sample
 * starts a new one. Records are sorted by start time first. Samples a record repeats of a
 * segment already built (re-sent records: an overlap) are shown once, the first copy kept, as
 * ObsPy's Stream.merge does with identical overlaps; `overlapSamples` counts them. The time axis
 * of the segments therefore only moves forward.
 * @param {MseedRecord[]} records
 * @returns {{ segments: { startMs: number, sampleRate: number, samples: number[] }[], overlapSamples: number }}
 */
export function toSegments(records) {
  const sorted = [...records].filter((r) => r.samples.length > 0 && r.sampleRate > 0).sort((a, b) => a.startMs - b.startMs);
  /** @type {{ startMs: number, sampleRate: number, samples: number[] }[]} */
  const segs = [];
  let overlapSamples = 0;
  for (const r of sorted) {
    const last = segs[segs.length - 1];
    const periodMs = 1000 / r.sampleRate;
    if (last) {
      const endMs = last.startMs + (last.samples.length - 0.5) * (1000 / last.sampleRate); // half a sample past the last one
      if (r.startMs < endMs) {
        // Overlap: skip the samples at or before the segment's last one; the rest continue it
        // when the rate is the same, else start after it.
        const skip = Math.min(r.samples.length, Math.ceil((endMs - r.startMs) / periodMs));
        overlapSamples += skip;
        if (skip === r.samples.length) continue;
        const rest = { startMs: r.startMs + skip * periodMs, samples: Array.from(r.samples.subarray(skip)) };
        if (last.sampleRate === r.sampleRate && Math.abs(rest.startMs - (endMs + periodMs / 2)) <= periodMs / 2) for (const v of rest.samples) last.samples.push(v);
        else segs.push({ startMs: rest.startMs, sampleRate: r.sampleRate, samples: rest.samples });
        continue;
      }
      if (last.sampleRate === r.sampleRate && Math.abs(r.startMs - (endMs + periodMs / 2)) <= periodMs / 2) {
        for (const v of r.samples) last.samples.push(v);
        continue;
      }
    }
    segs.push({ startMs: r.startMs, sampleRate: r.sampleRate, samples: Array.from(r.samples) });
  }
  return { segments: segs, overlapSamples };
}
