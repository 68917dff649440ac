/**
 * Small DSP kit for the feature layer (products-methods §2 "PSD", "STA/LTA", "VLF/ELF spectral
 * features"). Everything works on plain typed arrays with NaN for gaps; no allocation in the
 * inner loops beyond what is returned. `Math` is aliased locally (it is slow under jest).
 */
import FFT from 'fft.js';

const { floor, log10, max, min, abs, cos, PI, round } = Math;

// ---------------------------------------------------------------------------------------------
// Statistics helpers (NaN-skipping)

/** Median of the finite values (NaN when none). Does not modify the input. */
export function median(a: ArrayLike<number>): number {
  const v: number[] = [];
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (x === x && x !== Infinity && x !== -Infinity) v.push(x);
  }
  const n = v.length;
  if (n === 0) return NaN;
  v.sort((x, y) => x - y);
  return n & 1 ? v[n >> 1] : 0.5 * (v[(n >> 1) - 1] + v[n >> 1]);
}

/** Max of the finite values (NaN when none). */
export function nanMax(a: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < a.length; i++) if (a[i] > m) m = a[i];
  return m === -Infinity ? NaN : m;
}

/** Min of the finite values (NaN when none). */
export function nanMin(a: ArrayLike<number>): number {
  let m = Infinity;
  for (let i = 0; i < a.length; i++) if (a[i] < m) m = a[i];
  return m === Infinity ? NaN : m;
}

/** Smallest power of two ≥ n. */
export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p <<= 1;
  return p;
}

/** Largest power of two ≤ n (0 for n < 1). */
export function prevPow2(n: number): number {
  if (n < 1) return 0;
  let p = 1;
  while (p * 2 <= n) p <<= 1;
  return p;
}

// ---------------------------------------------------------------------------------------------
// Welch PSD

const fftCache = new Map<number, FFT>();
function fftOf(n: number): FFT {
  let f = fftCache.get(n);
  if (!f) fftCache.set(n, (f = new FFT(n)));
  return f;
}

const winCache = new Map<number, { w: Float64Array; sumSq: number }>();
/**
 * Periodic Hann window (scipy.signal.get_window('hann', n), the window scipy.signal.welch uses):
 * w[k] = 0.5 − 0.5·cos(2πk/n).
 */
export function hann(n: number): { w: Float64Array; sumSq: number } {
  let c = winCache.get(n);
  if (!c) {
    const w = new Float64Array(n);
    let s = 0;
    for (let k = 0; k < n; k++) {
      w[k] = 0.5 - 0.5 * cos((2 * PI * k) / n);
      s += w[k] * w[k];
    }
    winCache.set(n, (c = { w, sumSq: s }));
  }
  return c;
}

export interface WelchOptions {
  /** Segment length (power of two, fft.js radix-4/2). */
  nfft: number;
  /** Overlap fraction (default 0.5, products-methods §2). */
  overlap?: number;
  /** Per-segment detrend: 'constant' (mean, scipy default) or 'linear' (least-squares line). */
  detrend?: 'constant' | 'linear' | 'none';
  /** Segments with a NaN are skipped (gap-aware Welch); default true. */
  skipNaN?: boolean;
}

export interface Psd {
  /** Bin frequencies k·fs/nfft, k = 0..nfft/2 (Hz). */
  freqs: Float64Array;
  /** One-sided PSD (units²/Hz). Empty values (NaN) when no segment was usable. */
  psd: Float64Array;
  /** Segments averaged. */
  segments: number;
  /** Bin width fs/nfft (Hz). */
  df: number;
}

/**
 * Welch's averaged periodogram (Welch 1967, IEEE Trans. Audio Electroacoust. 15:70), as
 * scipy.signal.welch with scaling='density': Hann window, 50 % overlap, per-segment detrend,
 * one-sided P(f) = 2·⟨|FFT(w·x_k)|²⟩ / (fs·Σw²), DC and Nyquist not doubled (products-methods
 * §2 "PSD"). Parseval: Σ P(f)·Δf equals the variance of a white input.
 * Segments holding a gap (NaN) are left out rather than filled, so gaps never inject power.
 */
export function welch(x: ArrayLike<number>, fs: number, opts: WelchOptions): Psd {
  const nfft = opts.nfft;
  if (nfft < 4 || (nfft & (nfft - 1)) !== 0) throw new Error(`welch: nfft must be a power of two ≥ 4, got ${nfft}`);
  const step = max(1, round(nfft * (1 - (opts.overlap ?? 0.5))));
  const detrend = opts.detrend ?? 'constant';
  const skipNaN = opts.skipNaN ?? true;
  const nb = nfft / 2 + 1;
  const freqs = new Float64Array(nb);
  const df = fs / nfft;
  for (let k = 0; k < nb; k++) freqs[k] = k * df;
  const psd = new Float64Array(nb);
  const f = fftOf(nfft);
  const { w, sumSq } = hann(nfft);
  const seg = new Float64Array(nfft);
  const out = f.createComplexArray() as number[];
  let count = 0;
  // Linear detrend: centred abscissa u = k − (n−1)/2 so slope = Σu·x / Σu².
  const uc = (nfft - 1) / 2;
  const su2 = (nfft * (nfft * nfft - 1)) / 12;
  for (let s = 0; s + nfft <= x.length; s += step) {
    let ok = true;
    let mean = 0;
    let sux = 0;
    for (let k = 0; k < nfft; k++) {
      const v = x[s + k];
      if (v !== v) {
        ok = false;
        break;
      }
      mean += v;
      sux += (k - uc) * v;
    }
    if (!ok) {
      if (skipNaN) continue;
      throw new Error('welch: NaN in input');
    }
    mean /= nfft;
    const slope = detrend === 'linear' ? sux / su2 : 0;
    const m0 = detrend === 'none' ? 0 : mean;
    for (let k = 0; k < nfft; k++) seg[k] = (x[s + k] - m0 - slope * (k - uc)) * w[k];
    f.realTransform(out, seg);
    for (let k = 0; k < nb; k++) {
      const re = out[2 * k];
      const im = out[2 * k + 1];
      psd[k] += re * re + im * im;
    }
    count++;
  }
  if (count === 0) {
    psd.fill(NaN);
    return { freqs, psd, segments: 0, df };
  }
  const scale = 1 / (fs * sumSq * count);
  for (let k = 0; k < nb; k++) psd[k] *= k === 0 || k === nb - 1 ? scale : 2 * scale;
  return { freqs, psd, segments: count, df };
}

// ---------------------------------------------------------------------------------------------
// Band power, mains mask, spectral peak

/**
 * Width of each bin (Hz): the distance between the midpoints to its neighbours. Exactly fs/nfft
 * on a Welch grid; also right for the slightly uneven ISEE VLF bin list.
 */
export function binWidths(freqs: ArrayLike<number>): Float64Array {
  const n = freqs.length;
  const w = new Float64Array(n);
  if (n === 1) {
    w[0] = 1;
    return w;
  }
  for (let i = 0; i < n; i++) {
    const lo = i === 0 ? freqs[0] - (freqs[1] - freqs[0]) / 2 : (freqs[i - 1] + freqs[i]) / 2;
    const hi = i === n - 1 ? freqs[n - 1] + (freqs[n - 1] - freqs[n - 2]) / 2 : (freqs[i] + freqs[i + 1]) / 2;
    w[i] = hi - lo;
  }
  return w;
}

/**
 * Band power BP = Σ_{f1 ≤ f < f2} S(f)·Δf (products-methods §2 "VLF/ELF spectral features").
 * NaN bins count as missing: NaN when more than half of the band's bins are missing, otherwise
 * the sum over the valid bins scaled by (all bins / valid bins).
 */
export function bandPower(freqs: ArrayLike<number>, psd: ArrayLike<number>, f1: number, f2: number, widths?: ArrayLike<number>): number {
  const w = widths ?? binWidths(freqs);
  let sum = 0;
  let n = 0;
  let valid = 0;
  for (let i = 0; i < freqs.length; i++) {
    const f = freqs[i];
    if (f < f1 || f >= f2) continue;
    n++;
    const p = psd[i];
    if (p === p) {
      sum += p * w[i];
      valid++;
    }
  }
  if (n === 0 || valid * 2 < n) return NaN;
  return (sum * n) / valid;
}

/**
 * Bins holding a mains harmonic k·base (k ≥ 1) up to maxHz: a bin is masked when a harmonic
 * lies within halfWidthHz of its centre or inside the bin itself. Moshiri and Kakioka are on the
 * 50 Hz grid of eastern/northern Japan (products-methods §2), Kanoya would be 60 Hz.
 */
export function mainsMask(freqs: ArrayLike<number>, base = 50, maxHz = 2000, halfWidthHz = 2): Uint8Array {
  const m = new Uint8Array(freqs.length);
  const w = binWidths(freqs);
  for (let i = 0; i < freqs.length; i++) {
    const f = freqs[i];
    if (f > maxHz + w[i]) continue;
    const k = round(f / base);
    if (k < 1 || k * base > maxHz) continue;
    if (abs(f - k * base) <= max(halfWidthHz, w[i] / 2)) m[i] = 1;
  }
  return m;
}

/**
 * Replace masked (and NaN) bins by linear interpolation in log power between the nearest valid
 * neighbours, so a band sum over a masked comb keeps the background level instead of the mains
 * lines or a hole. Returns a copy.
 */
export function fillMasked(psd: ArrayLike<number>, mask: Uint8Array): Float64Array {
  const n = psd.length;
  const out = Float64Array.from(psd);
  const good = (i: number) => !mask[i] && out[i] === out[i] && out[i] > 0;
  let i = 0;
  while (i < n) {
    if (!mask[i]) {
      i++;
      continue;
    }
    let j = i;
    while (j < n && mask[j]) j++;
    const l = i - 1;
    const r = j;
    const lv = l >= 0 && good(l) ? log10(out[l]) : NaN;
    const rv = r < n && good(r) ? log10(out[r]) : NaN;
    for (let k = i; k < j; k++) {
      if (lv === lv && rv === rv) out[k] = 10 ** (lv + ((rv - lv) * (k - l)) / (r - l));
      else if (lv === lv) out[k] = 10 ** lv;
      else if (rv === rv) out[k] = 10 ** rv;
      else out[k] = NaN;
    }
    i = j;
  }
  return out;
}

export interface SpectralPeak {
  /** Frequency of the highest local maximum (Hz); NaN when none. */
  freq: number;
  /** PSD at the peak. */
  power: number;
  /** Topographic prominence of the peak in dB (scipy.signal.peak_prominences on 10·log10 S). */
  prominenceDb: number;
}

/**
 * Spectral peak with prominence: the highest local maximum of S(f) in [fmin, fmax] outside the
 * mask, and its prominence as defined by scipy.signal.peak_prominences (the peak height above the
 * higher of the two lowest points between the peak and the next higher sample, or the range end,
 * on each side), evaluated on 10·log10 S so that it reads in dB over spectra spanning decades.
 * Masked and NaN bins are skipped (neither peaks nor bases).
 */
export function spectralPeak(freqs: ArrayLike<number>, psd: ArrayLike<number>, opts: { fmin?: number; fmax?: number; mask?: Uint8Array } = {}): SpectralPeak {
  const fmin = opts.fmin ?? -Infinity;
  const fmax = opts.fmax ?? Infinity;
  const idx: number[] = [];
  const db: number[] = [];
  for (let i = 0; i < freqs.length; i++) {
    if (freqs[i] < fmin || freqs[i] > fmax || (opts.mask && opts.mask[i])) continue;
    const p = psd[i];
    if (!(p > 0)) continue;
    idx.push(i);
    db.push(10 * log10(p));
  }
  const n = db.length;
  const none: SpectralPeak = { freq: NaN, power: NaN, prominenceDb: NaN };
  if (n < 3) return none;
  let best = -1;
  for (let k = 1; k < n - 1; k++) {
    if (db[k] > db[k - 1] && db[k] >= db[k + 1] && (best < 0 || db[k] > db[best])) best = k;
  }
  if (best < 0) return none;
  const h = db[best];
  let lmin = h;
  for (let k = best - 1; k >= 0 && db[k] <= h; k--) if (db[k] < lmin) lmin = db[k];
  let rmin = h;
  for (let k = best + 1; k < n && db[k] <= h; k++) if (db[k] < rmin) rmin = db[k];
  return { freq: freqs[idx[best]], power: psd[idx[best]], prominenceDb: h - max(lmin, rmin) };
}

// ---------------------------------------------------------------------------------------------
// STA/LTA and filters

/**
 * Classic STA/LTA (Allen 1978; ObsPy obspy.signal.trigger.classic_sta_lta, IRISSeismic STALTA
 * defaults 3 s / 30 s, MUSTANG max_stalta): ratio of the trailing means of x² over nsta and
 * nlta samples, both windows ending at sample i. As ObsPy, the first nlta − 1 samples are 0
 * (the LTA is not yet full). NaN input breaks the series: it restarts after the gap.
 */
export function classicStaLta(x: ArrayLike<number>, nsta: number, nlta: number): Float64Array {
  const n = x.length;
  const out = new Float64Array(n);
  let start = 0;
  while (start < n) {
    while (start < n && x[start] !== x[start]) start++;
    let end = start;
    while (end < n && x[end] === x[end]) end++;
    // cumulative sum of x² over [start, end)
    const len = end - start;
    if (len >= nlta) {
      const cs = new Float64Array(len + 1);
      for (let k = 0; k < len; k++) {
        const v = x[start + k];
        cs[k + 1] = cs[k] + v * v;
      }
      for (let k = nlta - 1; k < len; k++) {
        const sta = (cs[k + 1] - cs[k + 1 - nsta]) / nsta;
        const lta = (cs[k + 1] - cs[k + 1 - nlta]) / nlta;
        out[start + k] = lta > 0 ? sta / lta : 0;
      }
    }
    start = end;
  }
  return out;
}

/** Biquad coefficients (RBJ Audio-EQ-Cookbook; Q = 1/√2 gives a 2nd-order Butterworth section). */
export interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

export function butterBiquad(kind: 'lowpass' | 'highpass', fc: number, fs: number, q = Math.SQRT1_2): Biquad {
  const w0 = (2 * PI * fc) / fs;
  const c = cos(w0);
  const alpha = Math.sin(w0) / (2 * q);
  const a0 = 1 + alpha;
  if (kind === 'lowpass') {
    const b = (1 - c) / 2;
    return { b0: b / a0, b1: (2 * b) / a0, b2: b / a0, a1: (-2 * c) / a0, a2: (1 - alpha) / a0 };
  }
  const b = (1 + c) / 2;
  return { b0: b / a0, b1: (-2 * b) / a0, b2: b / a0, a1: (-2 * c) / a0, a2: (1 - alpha) / a0 };
}

/** Qs of the two second-order sections of a 4th-order Butterworth. */
const BUTTER4_Q = [1 / (2 * cos(PI / 8)), 1 / (2 * cos((3 * PI) / 8))];

/**
 * Causal band-pass by cascaded Butterworth biquads (2 sections each side = 4th order, the
 * irisws/ObsPy default order) over each NaN-free run separately; the run mean is removed first
 * (demean, as MUSTANG/ObsPy preprocessing). Sections are skipped when their corner is ≤ 0 or at
 * or above Nyquist. NaN stays NaN.
 */
export function bandpassRuns(x: ArrayLike<number>, fs: number, fLow: number, fHigh: number): Float64Array {
  const n = x.length;
  const y = new Float64Array(n);
  const secs: Biquad[] = [];
  // A 4th-order Butterworth is two biquads with the pole-pair Qs 1/(2 cos(π/8)) and
  // 1/(2 cos(3π/8)); two sections of Q = 1/√2 would be a Linkwitz–Riley (−6 dB at the corner).
  if (fLow > 0 && fLow < fs / 2) secs.push(butterBiquad('highpass', fLow, fs, BUTTER4_Q[0]), butterBiquad('highpass', fLow, fs, BUTTER4_Q[1]));
  if (fHigh > 0 && fHigh < fs / 2 * 0.98) secs.push(butterBiquad('lowpass', fHigh, fs, BUTTER4_Q[0]), butterBiquad('lowpass', fHigh, fs, BUTTER4_Q[1]));
  let s = 0;
  while (s < n) {
    if (x[s] !== x[s]) {
      y[s] = NaN;
      s++;
      continue;
    }
    let e = s;
    let mean = 0;
    while (e < n && x[e] === x[e]) mean += x[e++];
    mean /= e - s;
    for (let k = s; k < e; k++) y[k] = x[k] - mean;
    for (const q of secs) {
      let x1 = 0;
      let x2 = 0;
      let y1 = 0;
      let y2 = 0;
      const { b0, b1, b2, a1, a2 } = q;
      for (let k = s; k < e; k++) {
        const xi = y[k];
        const yi = b0 * xi + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
        x2 = x1;
        x1 = xi;
        y2 = y1;
        y1 = yi;
        y[k] = yi;
      }
    }
    s = e;
  }
  return y;
}

/** Longest run of consecutive true values. */
export function longestRun(flags: ArrayLike<boolean | number>): number {
  let best = 0;
  let cur = 0;
  for (let i = 0; i < flags.length; i++) {
    if (flags[i]) {
      cur++;
      if (cur > best) best = cur;
    } else cur = 0;
  }
  return best;
}

/** Nfft for a record of n samples: the largest power of two giving ≥ minSegments 50 %-overlap segments, clamped to [lo, hi]. */
export function chooseNfft(n: number, minSegments: number, lo = 16, hi = 1 << 16): number {
  // K segments with 50 % overlap need (K + 1)·nfft/2 samples.
  const p = prevPow2(floor((2 * n) / (minSegments + 1)));
  return min(hi, max(lo, p));
}

