/**
 * Deterministic synthetic seismograms (integer counts) for the demo and benchmark archives.
 *
 * Model, in ground velocity times the channel sensitivity:
 *  - secondary microseism: white noise through a resonant band-pass (~0.15-0.3 Hz), its level
 *    drifting slowly over days (weather);
 *  - broadband background: lightly low-passed white noise;
 *  - cultural noise: high-passed (>1 Hz) noise whose level follows local (JST) daytime and is
 *    lower at weekends;
 *  - earthquakes (quakes.ts): P and S wavetrains with exponential coda;
 *  - a constant digitizer offset.
 *
 * Random access: the white noise of sample i is a hash of (seed, i), and the filtered noise is
 * computed in fixed one-hour blocks, each started 60 s early (warm-up, >10 filter time constants)
 * from zero state. A sample therefore depends only on its block, never on how a caller windows
 * the series — which is what lets demoSamples() reproduce exactly what the generator wrote.
 */
import { gaussFromHash, hash3, hashString, mulberry32 } from './prng';
import { addEventSignal, type Component, type EventSignal } from './quakes';

export interface NoiseLevels {
  /** RMS ground velocity (m/s) of the secondary microseism, and its centre frequency (Hz). */
  microseism: number;
  microseismHz: number;
  /** RMS ground velocity (m/s) of the broadband background. */
  background: number;
  /** RMS ground velocity (m/s) of cultural noise at the daytime peak. */
  cultural: number;
  /** Local time offset for the diurnal cycle (hours east of UTC). */
  utcOffsetHours: number;
}

/** One synthetic channel: what the signal model needs, independent of codes and files. */
export interface SignalSource {
  /** Seed material (normally the stream id `NET.STA.LOC.CHA`). */
  key: string;
  /** Integer samples per second (so that hour blocks and sample periods are whole numbers). */
  sampleRate: number;
  /** counts per m/s. */
  sensitivity: number;
  component: Component;
  noise: NoiseLevels;
  events: readonly EventSignal[];
  /** Length of the independently computed blocks (default 3600 s; short for small benchmark files). */
  blockSeconds?: number;
}

export const BLOCK_SECONDS = 3600;
const WARMUP_SECONDS = 60;
const TWO32 = 4294967296;

/** Precomputed per-source constants (filter coefficients, scales, seeds). */
interface Prepared {
  fs: number;
  blockLen: number;
  warmup: number;
  seedMicro: number;
  seedBg: number;
  seedCult: number;
  // Band-pass biquad (RBJ, 0 dB peak), normalised so its output has unit RMS for unit white input.
  b0: number;
  b2: number;
  a1: number;
  a2: number;
  microScale: number;
  microPhase: number;
  microPeriodDays: number;
  // Background: one-pole low-pass.
  bgA: number;
  bgScale: number;
  // Cultural: one-pole high-pass.
  hpA: number;
  cultScale: number;
  offset: number;
  src: SignalSource;
}

const prepared = new WeakMap<SignalSource, Prepared>();

function prepare(src: SignalSource): Prepared {
  const cached = prepared.get(src);
  if (cached) return cached;
  const fs = src.sampleRate;
  if (!Number.isInteger(fs) || fs < 1 || 1e9 % fs !== 0) throw new Error(`demo sample rate must be an integer dividing 1e9, got ${fs}`);
  const seed = hashString(src.key);
  const rnd = mulberry32(seed);
  const horizontal = src.component !== 'Z';
  const n = src.noise;

  // Microseism band-pass: bandwidth ~40% of the centre frequency.
  const f0 = n.microseismHz;
  const w0 = (2 * Math.PI * f0) / fs;
  const q = 2.5;
  const alpha = Math.sin(w0) / (2 * q);
  const a0 = 1 + alpha;
  const b0 = alpha / a0;
  const b2 = -alpha / a0;
  const a1 = (-2 * Math.cos(w0)) / a0;
  const a2 = (1 - alpha) / a0;
  // Unit-RMS normalisation from the impulse response energy (exact enough over 200 s).
  let y1 = 0;
  let y2 = 0;
  let energy = 0;
  for (let i = 0, len = 200 * fs; i < len; i++) {
    const x = i === 0 ? 1 : 0;
    const x2 = i === 2 ? 1 : 0;
    const y = b0 * x + b2 * x2 - a1 * y1 - a2 * y2;
    energy += y * y;
    y2 = y1;
    y1 = y;
  }
  const hFactor = horizontal ? 1.25 : 1;
  const microScale = (n.microseism * src.sensitivity * hFactor) / Math.sqrt(energy);

  // Background: low-pass at fs/4 (unit-RMS scale for a one-pole: sqrt((1+a)/(1-a))).
  const bgA = Math.exp((-2 * Math.PI * (fs / 4)) / fs);
  const bgScale = n.background * src.sensitivity * (horizontal ? 1.4 : 1) * Math.sqrt((1 + bgA) / (1 - bgA));
  // Cultural: high-pass at 1 Hz; y = a(y + x - x_prev) on unit white noise has RMS sqrt(2a^2/(1+a)).
  const hpA = Math.exp((-2 * Math.PI * 1) / fs);
  const cultScale = (n.cultural * src.sensitivity) / Math.sqrt((2 * hpA * hpA) / (1 + hpA));

  const p: Prepared = {
    fs,
    blockLen: (src.blockSeconds ?? BLOCK_SECONDS) * fs,
    warmup: WARMUP_SECONDS * fs,
    seedMicro: hashString(src.key + '|micro'),
    seedBg: hashString(src.key + '|bg'),
    seedCult: hashString(src.key + '|cult'),
    b0,
    b2,
    a1,
    a2,
    microScale,
    microPhase: rnd() * 2 * Math.PI,
    microPeriodDays: 3 + rnd() * 3,
    bgA,
    bgScale,
    hpA,
    cultScale,
    // Digitizer DC offset: a few hundred counts, fixed per channel.
    offset: Math.round((rnd() - 0.5) * 600),
    src,
  };
  prepared.set(src, p);
  return p;
}

/** Slow (weather) modulation of the microseism level at epoch second `sec`. */
function microLevel(p: Prepared, sec: number): number {
  return 1 + 0.35 * Math.sin((2 * Math.PI * sec) / (p.microPeriodDays * 86400) + p.microPhase);
}

/** Cultural noise level (0..1) at epoch second `sec`: local daytime bell, quieter weekends and nights. */
function culturalLevel(p: Prepared, sec: number): number {
  const local = sec + p.src.noise.utcOffsetHours * 3600;
  const hour = (((local % 86400) + 86400) % 86400) / 3600;
  const day = hour >= 6 && hour < 21 ? Math.sin((Math.PI * (hour - 6)) / 15) : 0;
  // 1970-01-01 was a Thursday: weekday 0 = Thursday, Saturday = 2, Sunday = 3.
  const weekday = Math.floor(local / 86400) % 7;
  const weekend = weekday === 2 || weekday === 3 ? 0.6 : 1;
  return 0.15 + 0.85 * day * weekend;
}

/**
 * Noise of one block (absolute sample indices block*blockLen ..+blockLen) into out (float counts,
 * no events, no offset). Filters start from zero state `warmup` samples before the block.
 */
function renderNoiseBlock(p: Prepared, block: number, out: Float64Array): void {
  const { fs, blockLen, warmup, seedMicro, seedBg, seedCult, b0, b2, a1, a2, bgA, hpA } = p;
  const first = block * blockLen - warmup;
  const total = warmup + blockLen;
  let x1 = 0;
  let x2 = 0;
  let y1 = 0;
  let y2 = 0;
  let bg = 0;
  let hpPrevIn = 0;
  let hpOut = 0;
  let microGain = 0;
  let cultGain = 0;
  const bgB = 1 - bgA;
  const bgScale = p.bgScale;
  // 64-bit sample counter as two words, advanced incrementally (no float division per sample).
  let hi = Math.floor(first / TWO32);
  // As int32: hash3 only uses its low 32 bits, and small integers keep the loop on fast paths.
  let lo = (first - hi * TWO32) | 0;
  // Samples left until the next whole second, when the slow levels are re-evaluated.
  let untilNextSecond = 0;
  let sec = Math.floor(first / fs);
  for (let k = 0; k < total; k++) {
    if (untilNextSecond === 0) {
      // The slow levels change once per second (cheap, and still exact for any window).
      microGain = p.microScale * microLevel(p, sec);
      cultGain = p.cultScale * culturalLevel(p, sec);
      sec++;
      untilNextSecond = fs;
    }
    untilNextSecond--;
    const wm = gaussFromHash(hash3(seedMicro, lo, hi));
    const wb = gaussFromHash(hash3(seedBg, lo, hi));
    const wc = gaussFromHash(hash3(seedCult, lo, hi));
    lo = (lo + 1) | 0;
    if (lo === 0) hi++;
    const ym = b0 * wm + b2 * x2 - a1 * y1 - a2 * y2;
    x2 = x1;
    x1 = wm;
    y2 = y1;
    y1 = ym;
    bg = bgA * bg + bgB * wb;
    hpOut = hpA * (hpOut + wc - hpPrevIn);
    hpPrevIn = wc;
    if (k >= warmup) out[k - warmup] = ym * microGain + bg * bgScale + hpOut * cultGain;
  }
}

/** The final integer samples of one block (noise + events + offset). */
function renderBlock(p: Prepared, b: number, scratch: Float64Array): Int32Array {
  renderNoiseBlock(p, b, scratch);
  const blockStart = b * p.blockLen;
  for (const ev of p.src.events) addEventSignal(scratch, blockStart, p.fs, ev);
  const out = new Int32Array(p.blockLen);
  for (let i = 0; i < p.blockLen; i++) {
    const v = Math.round(scratch[i] + p.offset);
    out[i] = v > 2147483647 ? 2147483647 : v < -2147483648 ? -2147483648 : v;
  }
  return out;
}

/** Recently rendered blocks: tests and dataselect comparisons ask for short windows repeatedly. */
const BLOCK_CACHE_SIZE = 6;
const blockCache = new Map<string, Int32Array>();

function cachedBlock(p: Prepared, b: number, scratch: () => Float64Array): Int32Array {
  const key = `${p.src.key}|${p.fs}|${p.blockLen}|${b}`;
  let block = blockCache.get(key);
  if (block) {
    blockCache.delete(key); // re-insert as most recent
  } else {
    block = renderBlock(p, b, scratch());
    if (blockCache.size >= BLOCK_CACHE_SIZE) blockCache.delete(blockCache.keys().next().value!);
  }
  blockCache.set(key, block);
  return block;
}

/**
 * Samples (counts) of `src` for absolute sample indices idx0 .. idx0+n-1 (index = epoch-ns /
 * sample period). The exact values the demo generator writes.
 */
export function synthesize(src: SignalSource, idx0: number, n: number): Int32Array {
  const p = prepare(src);
  const out = new Int32Array(n);
  if (n === 0) return out;
  let scratchBuf: Float64Array | undefined;
  const scratch = () => (scratchBuf ??= new Float64Array(p.blockLen));
  const firstBlock = Math.floor(idx0 / p.blockLen);
  const lastBlock = Math.floor((idx0 + n - 1) / p.blockLen);
  for (let b = firstBlock; b <= lastBlock; b++) {
    const blockStart = b * p.blockLen;
    const block = cachedBlock(p, b, scratch);
    const from = Math.max(idx0, blockStart);
    const to = Math.min(idx0 + n, blockStart + p.blockLen);
    out.set(block.subarray(from - blockStart, to - blockStart), from - idx0);
  }
  return out;
}

/** Samples per independently computed block of a source (chunk size for streaming writers). */
export function blockLength(src: SignalSource): number {
  return prepare(src).blockLen;
}

/** Forget cached blocks (tests use it to make a recomputation independent of the generator). */
export function clearSignalCache(): void {
  blockCache.clear();
}

/** Sample period in ns for an integer rate. */
export function samplePeriodNs(sampleRate: number): bigint {
  return BigInt(Math.round(1e9 / sampleRate));
}

/** Absolute sample index of a time on the sample grid (throws when off-grid). */
export function sampleIndexAt(startNs: bigint, sampleRate: number): number {
  const period = samplePeriodNs(sampleRate);
  if (startNs % period !== 0n) throw new Error(`start time ${startNs} ns is not on the ${sampleRate} Hz sample grid`);
  return Number(startNs / period);
}
