/**
 * Samples of one channel-day, read from the byte ranges the waveform index (tsindex) points at
 * and placed on the day's sample grid: slot k holds the sample at day + (k + phase) / rate, where
 * `phase` (a fraction of a period) is that of the channel's first record of the day, so a
 * channel sampling at .0195 s or .6 s past the second keeps its own sample times. The grid is
 * what makes every sample count once: duplicated or overlapping records fall on the same slots,
 * and the record of the higher publication version wins (miniSEED 3 pubVersion; a miniSEED 2
 * quality code counts as R = 1, D = 2, Q = 3, M = 4, the mapping the miniSEED 3 specification
 * gives for converted data; equal versions: the later record).
 *
 * Two passes: `planChannelDay` reads the sections and their record headers once and picks the
 * grid (the rate holding most of the day's samples; records at another rate are skipped and
 * reported); `fillSlots` decodes the records overlapping a slot range, so a caller can walk a
 * 500 Hz day an hour at a time instead of holding ~390 MB of grid.
 *
 * Nothing here throws on bad data: a corrupt record or an undecodable one is skipped and listed
 * in `problems` (the rest of its file is still read), a file that cannot be opened or read is
 * listed in `unreadable` (an environmental failure: the caller retries it on its next run).
 */
import fs from 'node:fs';
import path from 'node:path';
import { decodeRecord, iterateRecords } from '../formats/mseed';
import type { RecordHeader } from '../formats/mseed/types';
import type { Section } from '../index/types';

const DAY_S = 86_400;
const DAY_NS = 86_400_000_000_000n;

export interface SampleProblem {
  file: string;
  /** Byte offset in the file of the record concerned, when one is. */
  offset: number | null;
  reason: string;
}

interface PlannedRecord {
  buf: Buffer;
  file: string;
  /** Offset of `buf` in the file (for reports). */
  base: number;
  header: RecordHeader;
  /** Slot of the record's first sample (may be negative: the record began the day before). */
  first: number;
  rank: number;
}

export interface ChannelPlan {
  /** Sample rate of the grid (Hz): the rate holding most of the day's samples. */
  rate: number;
  /** Slot times are day + (k + phase) / rate; 0 ≤ phase < 1. */
  phase: number;
  /** Slots in the day: the k with (k + phase) / rate < 86 400 s. */
  slots: number;
  records: PlannedRecord[];
  /** Corrupt or undecodable records, records at another rate, non-finite samples: skipped, listed. */
  problems: SampleProblem[];
  /** Files that could not be opened or read (environmental: retried on the next run). */
  unreadable: SampleProblem[];
  /** Non-finite samples met by the fills so far (each slot is filled once), and where. */
  nonFinite: number;
  nonFiniteFile: string;
}

export interface SlotFill {
  /** Slots [from, to) of the plan; NaN where no sample exists. */
  x: Float64Array;
  /** Samples placed (a slot written twice counts once). */
  samples: number;
  /** True when every record decoded to integers (counts); float records carry physical or unknown units. */
  integers: boolean;
}

export interface ChannelDay extends ChannelPlan, SlotFill {}

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

/** First slot whose time is at or after `s` seconds into the day. */
export function slotAt(plan: { rate: number; phase: number }, s: number): number {
  return Math.max(0, Math.ceil(s * plan.rate - plan.phase - 1e-6));
}

/**
 * Read the sections of one channel (all share network, station, location and channel) that
 * touch the UTC day starting at `day` (epoch ms) and plan its grid. Null when no record with
 * samples falls in the day.
 */
export function planChannelDay(sections: readonly Section[], day: number, dataRoot: string): ChannelPlan | null {
  const dayNs = BigInt(day) * 1_000_000n;
  const problems: SampleProblem[] = [];
  const unreadable: SampleProblem[] = [];
  const found: { buf: Buffer; file: string; base: number; header: RecordHeader; offNs: bigint }[] = [];
  const samplesByRate = new Map<number, number>();
  const ordered = [...sections].sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0));
  for (const s of ordered) {
    const file = path.isAbsolute(s.filename) ? s.filename : path.join(dataRoot, s.filename);
    let buf: Buffer;
    try {
      buf = readRange(file, s.byteoffset, s.bytes);
    } catch (e) {
      unreadable.push({ file, offset: s.byteoffset, reason: e instanceof Error ? e.message : String(e) });
      continue;
    }
    for (const r of iterateRecords(buf, { file })) {
      if (!r.ok) {
        problems.push({ file, offset: s.byteoffset + r.error.offset, reason: r.error.reason || r.error.message });
        continue;
      }
      const h = r.header;
      if (h.network !== s.network || h.station !== s.station || h.location !== s.location || h.channel !== s.channel) continue;
      if (!(h.sampleRate > 0) || h.sampleCount === 0) continue; // detection/log records carry no samples
      const offNs = h.startNs - dayNs;
      if (offNs >= DAY_NS || Number(offNs) / 1e9 + h.sampleCount / h.sampleRate <= 0) continue;
      found.push({ buf, file, base: s.byteoffset, header: h, offNs });
      let key = h.sampleRate;
      for (const k of samplesByRate.keys()) if (sameRate(k, h.sampleRate)) key = k;
      samplesByRate.set(key, (samplesByRate.get(key) ?? 0) + h.sampleCount);
    }
  }
  if (found.length === 0) return unreadable.length || problems.length ? { rate: 0, phase: 0, slots: 0, records: [], problems, unreadable, nonFinite: 0, nonFiniteFile: '' } : null;
  let rate = 0;
  let most = -1;
  for (const [k, n] of samplesByRate) if (n > most) [rate, most] = [k, n];
  // Phase of the earliest record at the grid rate (records are in time order per section).
  found.sort((a, b) => (a.offNs < b.offNs ? -1 : a.offNs > b.offNs ? 1 : 0));
  const firstAt = found.find((f) => sameRate(f.header.sampleRate, rate))!;
  const b0 = (Number(firstAt.offNs) * rate) / 1e9;
  const phase = b0 - Math.floor(b0);
  const plan: ChannelPlan = { rate, phase, slots: slotAt({ rate, phase }, DAY_S), records: [], problems, unreadable, nonFinite: 0, nonFiniteFile: '' };
  let otherRate = 0;
  let example: SampleProblem | null = null;
  for (const f of found) {
    if (!sameRate(f.header.sampleRate, rate)) {
      otherRate++;
      example ??= { file: f.file, offset: f.base + f.header.offset, reason: `sample rate ${f.header.sampleRate} Hz differs from the day's ${rate} Hz (the rate of most of its samples)` };
      continue;
    }
    // Offset in samples from slot 0, exact integer ns first; rounding snaps sub-sample jitter.
    const first = Math.round((Number(f.offNs) * rate) / 1e9 - phase);
    plan.records.push({ buf: f.buf, file: f.file, base: f.base, header: f.header, first, rank: versionRank(f.header) });
  }
  if (otherRate > 0 && example) problems.push({ ...example, reason: `${example.reason}: ${otherRate} record(s) skipped` });
  return plan;
}

/** Whether any planned record has samples in slots [from, to). */
export function hasRecordsIn(plan: ChannelPlan, from: number, to: number): boolean {
  return plan.records.some((r) => r.first < to && r.first + r.header.sampleCount > from);
}

/** Decode the plan's records overlapping slots [from, to) onto a fresh array of those slots. */
export function fillSlots(plan: ChannelPlan, from: number, to: number): SlotFill {
  const x = new Float64Array(Math.max(0, to - from)).fill(NaN);
  const rank = new Uint8Array(x.length);
  const out: SlotFill = { x, samples: 0, integers: true };
  for (const r of plan.records) {
    if (r.first >= to || r.first + r.header.sampleCount <= from) continue;
    let samples;
    try {
      samples = decodeRecord(r.buf, r.header, r.file);
    } catch (e) {
      // Reported once, by the fill that covers the record's first slot (or the first fill).
      if (r.first >= from || from === 0) plan.problems.push({ file: r.file, offset: r.base + r.header.offset, reason: e instanceof Error ? e.message : String(e) });
      continue;
    }
    if (typeof samples === 'string') continue; // a text (log) record
    if (!(samples instanceof Int32Array)) out.integers = false;
    const bad = placeRecord(out, rank, samples, r.first - from, r.rank);
    if (bad > 0) {
      plan.nonFinite += bad;
      plan.nonFiniteFile ||= r.file;
    }
  }
  return out;
}

/** Everything skipped or unreadable, once the fills are done. */
export function planProblems(plan: ChannelPlan): { problems: SampleProblem[]; unreadable: SampleProblem[] } {
  const problems = [...plan.problems];
  if (plan.nonFinite > 0) problems.push({ file: plan.nonFiniteFile, offset: null, reason: `${plan.nonFinite} non-finite (NaN/Infinity) sample(s) treated as missing` });
  return { problems, unreadable: plan.unreadable };
}

/** The whole day in one array (the features need every channel's day at once). */
export function readChannelDay(sections: readonly Section[], day: number, dataRoot: string): ChannelDay | null {
  const plan = planChannelDay(sections, day, dataRoot);
  if (!plan) return null;
  const fill = fillSlots(plan, 0, plan.slots);
  return { ...plan, ...fill, ...planProblems(plan) };
}

/** Put a record's samples on the slots (a leaf loop: V8 optimizes it on its own); returns the non-finite ones. */
function placeRecord(out: SlotFill, rank: Uint8Array, samples: ArrayLike<number>, first: number, r: number): number {
  const x = out.x;
  const n = x.length;
  let placed = 0;
  let bad = 0;
  const a = first < 0 ? -first : 0;
  const b = Math.min(samples.length, n - first);
  for (let i = a; i < b; i++) {
    const k = first + i;
    const v = samples[i];
    if (v - v !== 0) {
      bad++; // NaN or ±Infinity: stays missing
      continue;
    }
    if (r < rank[k]) continue;
    if (rank[k] === 0) placed++;
    x[k] = v;
    rank[k] = r;
  }
  out.samples += placed;
  return bad;
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
