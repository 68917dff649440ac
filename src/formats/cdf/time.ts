/**
 * CDF time types → Unix time (§4.8 of shared/docs/data-formats.md).
 *  - EPOCH: float64 ms since 0000-01-01 (no leap seconds).
 *  - EPOCH16: float64 s since 0000-01-01 + float64 picoseconds.
 *  - TT2000: int64 ns since J2000 (2000-01-01T12:00:00 TT), counting leap seconds.
 * TT2000 conversion follows the NASA library: integer leap seconds since 1972 and, before that,
 * the 1961-1972 USNO drift formulas evaluated at the day's Julian noon (MJD + 0.5). The noon
 * convention was confirmed against CDFpp's a_cdf.cdf attribute `tt2000[0]`
 * = -946727959814622001 for 1970-01-01 (tests/python_loading/test.py).
 */
import { CdfType } from './types';

/** ms between 0000-01-01 and 1970-01-01 (proleptic Gregorian). */
export const EPOCH_UNIX_OFFSET_MS = 62_167_219_200_000;
const EPOCH16_UNIX_OFFSET_S = 62_167_219_200;
/** Unix ns of J2000 minus the 32 s TAI−UTC in force then: 2000-01-01T11:58:55.816 UTC. */
const TT2000_BASE_NS = 946_727_935_816_000_000n;
export const TT2000_FILL = -9_223_372_036_854_775_808n;
/** Default pad of TT2000 (0000-01-01T00:00:00.000000000 in the NASA library). */
export const TT2000_PAD = -9_223_372_036_854_775_807n;

/** Integer TAI−UTC steps: [unix day of the step, seconds]. */
const LEAPS: Array<[number, number]> = [
  ['1972-01-01', 10], ['1972-07-01', 11], ['1973-01-01', 12], ['1974-01-01', 13], ['1975-01-01', 14],
  ['1976-01-01', 15], ['1977-01-01', 16], ['1978-01-01', 17], ['1979-01-01', 18], ['1980-01-01', 19],
  ['1981-07-01', 20], ['1982-07-01', 21], ['1983-07-01', 22], ['1985-07-01', 23], ['1988-01-01', 24],
  ['1990-01-01', 25], ['1991-01-01', 26], ['1992-07-01', 27], ['1993-07-01', 28], ['1994-07-01', 29],
  ['1996-01-01', 30], ['1997-07-01', 31], ['1999-01-01', 32], ['2006-01-01', 33], ['2009-01-01', 34],
  ['2012-07-01', 35], ['2015-07-01', 36], ['2017-01-01', 37],
].map(([d, s]) => [Date.parse(`${d}T00:00:00Z`) / 86_400_000, s as number]);

/** 1961-1972 drift: [unix day from, base s, MJD ref, s/day] (USNO tai-utc.dat). */
const DRIFTS: Array<[number, number, number, number]> = [
  ['1961-01-01', 1.422818, 37300, 0.001296], ['1961-08-01', 1.372818, 37300, 0.001296],
  ['1962-01-01', 1.845858, 37665, 0.0011232], ['1963-11-01', 1.945858, 37665, 0.0011232],
  ['1964-01-01', 3.24013, 38761, 0.001296], ['1964-04-01', 3.34013, 38761, 0.001296],
  ['1964-09-01', 3.44013, 38761, 0.001296], ['1965-01-01', 3.54013, 38761, 0.001296],
  ['1965-03-01', 3.64013, 38761, 0.001296], ['1965-07-01', 3.74013, 38761, 0.001296],
  ['1965-09-01', 3.84013, 38761, 0.001296], ['1966-01-01', 4.31317, 39126, 0.002592],
  ['1968-02-01', 4.21317, 39126, 0.002592],
].map(([d, a, m, r]) => [Date.parse(`${d}T00:00:00Z`) / 86_400_000, a as number, m as number, r as number]);

const MJD_UNIX_DAY0 = 40587;

/** TAI−UTC (seconds) in force on a UTC day (unix day number, floored). */
export function taiMinusUtc(unixDay: number): number {
  const day = Math.floor(unixDay);
  if (day >= LEAPS[0][0]) {
    let s = 10;
    for (const [d, v] of LEAPS) {
      if (day >= d) s = v;
      else break;
    }
    return s;
  }
  let drift: [number, number, number, number] | undefined;
  for (const row of DRIFTS) if (day >= row[0]) drift = row;
  if (!drift) return 0; // before 1961: no UTC definition, the NASA library also uses 0
  return drift[1] + (day + MJD_UNIX_DAY0 + 0.5 - drift[2]) * drift[3];
}

/** TT2000 (ns) → Unix ns, or null for the fill/pad values. Inside a leap second it repeats 23:59:59. */
export function tt2000ToUnixNs(tt: bigint): bigint | null {
  if (tt === TT2000_FILL || tt === TT2000_PAD) return null;
  // Fixed-point iteration: the offset depends on the UTC day, which depends on the offset.
  const at = (unix: bigint): bigint => tt + TT2000_BASE_NS - BigInt(Math.round((taiMinusUtc(unixDay(unix)) - 32) * 1e9));
  let unix = at(tt + TT2000_BASE_NS);
  for (let i = 0; i < 4; i++) {
    const next = at(unix);
    if (next === unix) return unix;
    // Inside an inserted leap second the iteration flips between 23:59:59.x and 00:00:00.x
    // of the next day; take the earlier so 23:59:60.x reads as a repeated 23:59:59.x.
    if (at(next) === unix) return next < unix ? next : unix;
    unix = next;
  }
  return unix;
}

function unixDay(unixNs: bigint): number {
  const d = unixNs / 86_400_000_000_000n;
  return Number(unixNs < 0n && unixNs % 86_400_000_000_000n !== 0n ? d - 1n : d);
}

/** Unix ns → TT2000 ns (inverse of tt2000ToUnixNs; used by the writer). */
export function unixNsToTt2000(unixNs: bigint): bigint {
  const off = taiMinusUtc(unixDay(unixNs)) - 32;
  return unixNs - TT2000_BASE_NS + BigInt(Math.round(off * 1e9));
}

export function tt2000ToUnixMs(tt: bigint): number {
  const ns = tt2000ToUnixNs(tt);
  return ns === null ? NaN : Number(ns) / 1e6;
}

export function unixMsToTt2000(ms: number): bigint {
  return unixNsToTt2000(BigInt(Math.round(ms * 1000)) * 1000n);
}

/** EPOCH (ms since year 0) → Unix ms; fill (−1e31) and pad (0) → NaN. */
export function epochToUnixMs(epoch: number): number {
  if (!Number.isFinite(epoch) || epoch <= -1e30 || epoch === 0) return NaN;
  return epoch - EPOCH_UNIX_OFFSET_MS;
}

export function unixMsToEpoch(ms: number): number {
  return ms + EPOCH_UNIX_OFFSET_MS;
}

/** EPOCH16 (s, ps) → Unix ms (float; sub-µs detail is lost — use epoch16ToUnixNs for it). */
export function epoch16ToUnixMs(sec: number, ps: number): number {
  if (sec <= -1e30 || (sec === 0 && ps === 0)) return NaN;
  return (sec - EPOCH16_UNIX_OFFSET_S) * 1000 + ps / 1e9;
}

export function epoch16ToUnixNs(sec: number, ps: number): bigint | null {
  if (sec <= -1e30 || (sec === 0 && ps === 0)) return null;
  return BigInt(Math.round(sec - EPOCH16_UNIX_OFFSET_S)) * 1_000_000_000n + BigInt(Math.round(ps / 1000));
}

/**
 * Convert the values of a time variable (as returned by readVariable) to Unix ms (float64).
 * Fill/pad times become NaN. EPOCH16 input has 2 numbers per value.
 */
export function toEpochMs(values: ArrayLike<number | bigint>, type: number): Float64Array {
  if (type === CdfType.TIME_TT2000) {
    const v = values as ArrayLike<bigint>;
    const out = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = tt2000ToUnixMs(v[i]);
    return out;
  }
  if (type === CdfType.EPOCH) {
    const v = values as ArrayLike<number>;
    const out = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = epochToUnixMs(v[i]);
    return out;
  }
  if (type === CdfType.EPOCH16) {
    const v = values as ArrayLike<number>;
    const out = new Float64Array(v.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = epoch16ToUnixMs(v[2 * i], v[2 * i + 1]);
    return out;
  }
  throw new RangeError(`toEpochMs: data type ${type} is not a CDF time type`);
}

/** Same as toEpochMs but exact Unix nanoseconds (null for fill/pad). */
export function toEpochNs(values: ArrayLike<number | bigint>, type: number): Array<bigint | null> {
  if (type === CdfType.TIME_TT2000) return Array.from(values as ArrayLike<bigint>, tt2000ToUnixNs);
  if (type === CdfType.EPOCH) {
    return Array.from(values as ArrayLike<number>, (e) => {
      const ms = epochToUnixMs(e);
      return Number.isNaN(ms) ? null : BigInt(Math.round(ms * 1000)) * 1000n;
    });
  }
  if (type === CdfType.EPOCH16) {
    const v = values as ArrayLike<number>;
    const out: Array<bigint | null> = [];
    for (let i = 0; i + 1 < v.length; i += 2) out.push(epoch16ToUnixNs(v[i], v[i + 1]));
    return out;
  }
  throw new RangeError(`toEpochNs: data type ${type} is not a CDF time type`);
}
