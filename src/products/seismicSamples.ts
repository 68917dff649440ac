/**
 * Samples of one channel-day, read from the byte ranges the waveform index (tsindex) points at
 * and placed on the day's sample grid: slot k holds the sample at day + k / rate. The grid is
 * what makes every sample count once: duplicated or overlapping records fall on the same slots,
 * and the record of the higher publication version wins (miniSEED 3 pubVersion; a miniSEED 2
 * quality code counts as R = 1, D = 2, Q = 3, M = 4, the mapping the miniSEED 3 specification
 * gives for converted data; equal versions: the later record).
 *
 * Nothing here throws on bad data: a corrupt record or an undecodable one is skipped and listed
 * in `problems` (the rest of its file is still read), a file that cannot be opened or read is
 * listed in `unreadable` (an environmental failure: the caller retries it on its next run).
 * Slot times are computed from the record start in integer nanoseconds relative to the day, so
 * a sample exactly on a window boundary lands in the window it starts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { decodeRecord, iterateRecords } from '../formats/mseed';
import type { RecordHeader } from '../formats/mseed/types';
import type { Section } from '../index/types';

const DAY_MS = 86_400_000;
const DAY_NS = 86_400_000_000_000n;

export interface SampleProblem {
  file: string;
  /** Byte offset in the file of the record concerned, when one is. */
  offset: number | null;
  reason: string;
}

export interface ChannelDay {
  /** Sample rate of the grid (Hz): the rate of the channel's first indexed section of the day. */
  rate: number;
  /** One slot per sample period of the day; NaN where no sample exists. */
  x: Float64Array;
  /** Samples placed on the grid (a slot written twice counts once). */
  samples: number;
  /** True when every record decoded to integers (counts); float records carry physical or unknown units. */
  integers: boolean;
  /** Corrupt or undecodable records, records at another rate, non-finite samples: skipped, listed. */
  problems: SampleProblem[];
  /** Files that could not be opened or read (environmental: retried on the next run). */
  unreadable: SampleProblem[];
}

/** libmseed's rate tolerance (MS_ISRATETOLERABLE): relative difference below 1e-4. */
const sameRate = (a: number, b: number) => Math.abs(1 - a / b) < 1e-4;

/** Precedence of a record on the grid (higher wins). */
function versionRank(h: RecordHeader): number {
  if (h.pubVersion !== null && h.pubVersion > 0) return Math.min(h.pubVersion, 255);
  switch (h.quality) {
    case 'R':
      return 1;
    case 'Q':
      return 3;
    case 'M':
      return 4;
    default:
      return 2; // D, or anything else a reader let through
  }
}

/** Number of grid slots in a UTC day at `rate` Hz. */
export function slotsPerDay(rate: number): number {
  return Math.ceil((DAY_MS / 1000) * rate - 1e-6);
}

/**
 * Read the samples of one channel (all `sections` share network, station, location and channel)
 * that fall inside the UTC day starting at `day` (epoch ms). Null when no section has a rate.
 */
export function readChannelDay(sections: readonly Section[], day: number, dataRoot: string): ChannelDay | null {
  const ordered = sections.filter((s) => s.samplerate > 0).sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0));
  if (ordered.length === 0) return null;
  const rate = ordered[0].samplerate;
  const n = slotsPerDay(rate);
  const x = new Float64Array(n).fill(NaN);
  const rank = new Uint8Array(n);
  const dayNs = BigInt(day) * 1_000_000n;
  const out: ChannelDay = { rate, x, samples: 0, integers: true, problems: [], unreadable: [] };
  let otherRate = 0;
  let otherRateExample: SampleProblem | null = null;
  let nonFinite = 0;
  let nonFiniteFile = '';
  for (const s of ordered) {
    const file = path.isAbsolute(s.filename) ? s.filename : path.join(dataRoot, s.filename);
    let buf: Buffer;
    try {
      buf = readRange(file, s.byteoffset, s.bytes);
    } catch (e) {
      out.unreadable.push({ file, offset: s.byteoffset, reason: e instanceof Error ? e.message : String(e) });
      continue;
    }
    for (const r of iterateRecords(buf, { file })) {
      if (!r.ok) {
        out.problems.push({ file, offset: s.byteoffset + r.error.offset, reason: r.error.reason || r.error.message });
        continue;
      }
      const h = r.header;
      if (h.network !== s.network || h.station !== s.station || h.location !== s.location || h.channel !== s.channel) continue;
      if (!(h.sampleRate > 0) || h.sampleCount === 0) continue;
      const offNs = h.startNs - dayNs;
      if (offNs >= DAY_NS) continue;
      if (!sameRate(h.sampleRate, rate)) {
        otherRate++;
        otherRateExample ??= { file, offset: s.byteoffset + h.offset, reason: `sample rate ${h.sampleRate} Hz differs from the day's ${rate} Hz` };
        continue;
      }
      // First slot of the record: offset in samples from the day start (exact integer ns first).
      const base = (Number(offNs) * rate) / 1e9;
      if (base + h.sampleCount <= -0.5) continue;
      let samples;
      try {
        samples = decodeRecord(buf, h, file);
      } catch (e) {
        out.problems.push({ file, offset: s.byteoffset + h.offset, reason: e instanceof Error ? e.message : String(e) });
        continue;
      }
      if (typeof samples === 'string') continue; // a text (log) record
      if (!(samples instanceof Int32Array)) out.integers = false;
      placeRecord(out, rank, samples, base, versionRank(h));
      const bad = countNonFinite(samples);
      if (bad > 0) {
        nonFinite += bad;
        nonFiniteFile ||= file;
      }
    }
  }
  if (otherRate > 0 && otherRateExample) out.problems.push({ ...otherRateExample, reason: `${otherRateExample.reason}: ${otherRate} record(s) skipped` });
  if (nonFinite > 0) out.problems.push({ file: nonFiniteFile, offset: null, reason: `${nonFinite} non-finite (NaN/Infinity) sample(s) treated as missing` });
  return out;
}

/** Put a record's samples on the grid (a leaf loop: V8 optimizes it on its own). */
function placeRecord(out: ChannelDay, rank: Uint8Array, samples: ArrayLike<number>, base: number, r: number): void {
  const x = out.x;
  const n = x.length;
  let placed = 0;
  for (let i = 0; i < samples.length; i++) {
    const k = Math.round(base + i);
    if (k < 0 || k >= n || r < rank[k]) continue;
    const v = samples[i];
    if (v - v !== 0) continue; // NaN or ±Infinity: stays missing
    if (rank[k] === 0) placed++;
    x[k] = v;
    rank[k] = r;
  }
  out.samples += placed;
}

function countNonFinite(samples: ArrayLike<number>): number {
  let c = 0;
  for (let i = 0; i < samples.length; i++) if (samples[i] - samples[i] !== 0) c++;
  return c;
}

/** Read [offset, offset + length) of a file; a short read is an error (the file changed). */
function readRange(file: string, offset: number, length: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const k = fs.readSync(fd, buf, got, length - got, offset + got);
      if (k === 0) throw new Error(`EIO: ${file} is shorter than the index says (${offset + got} of ${offset + length} bytes): re-index it`);
      got += k;
    }
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}
