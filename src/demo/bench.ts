/**
 * Benchmark archives: many channel-days of 100 Hz noise (no events, no gaps) under the
 * temporary-network code XX, so they can never be mistaken for the demo's real stations.
 *
 *   bench-small  2 stations x 3 channels x 1 day   (6 channel-days,   ~53 MB)
 *   bench-large 14 stations x 3 channels x 4 days  (168 channel-days, ~1.6 GB)
 *   files N      N small files (120 s of data each) for the per-file indexing cost
 *
 * With these noise levels a 100 Hz channel-day is ~9 MB (~1.1 byte/sample in Steim-2).
 */
import type { SignalSource, NoiseLevels } from './signals';
import { componentOf } from './scenario';

export const BENCH_NETWORK = 'XX';
export const BENCH_RATE = 100;
export const BENCH_LOCATION = '00';
export const BENCH_CHANNELS = ['HHZ', 'HHN', 'HHE'] as const;
export const BENCH_SENSITIVITY = 1e9;
/** First day of benchmark archives (2021-01-01, away from the demo's days). */
export const BENCH_START_ISO = '2021-01-01';

export interface BenchLayout {
  stations: number;
  days: number;
  /** Seconds of data per file from 00:00 (86400 = whole days). */
  secondsPerFile: number;
  /** Stop after this many files (files mode), else all stations x channels x days. */
  maxFiles?: number;
}

export const BENCH_LAYOUTS = {
  'bench-small': { stations: 2, days: 1, secondsPerFile: 86400 },
  'bench-large': { stations: 14, days: 4, secondsPerFile: 86400 },
} as const satisfies Record<string, BenchLayout>;

/** Files mode: ~N files spread over stations x 3 channels x 10 days, 120 s of data each. */
export function filesLayout(files: number): BenchLayout {
  const days = Math.min(10, Math.max(1, Math.ceil(files / 3)));
  return { stations: Math.max(1, Math.ceil(files / (3 * days))), days, secondsPerFile: 120, maxFiles: files };
}

export function benchStationCode(i: number): string {
  return `B${String(i + 1).padStart(3, '0')}`;
}

/** Noise levels vary per station so the archive is not one file repeated. */
function benchNoise(stationIndex: number): NoiseLevels {
  const f = 1 + 0.15 * ((stationIndex * 7) % 5);
  return { microseism: 2e-7 * f, microseismHz: 0.16 + 0.02 * (stationIndex % 6), background: 1.5e-9 * f, cultural: 3e-9 * f, utcOffsetHours: 0 };
}

const cache = new Map<string, SignalSource>();

/** blockSeconds: files mode writes 120 s per file, so it uses short signal blocks (less wasted synthesis). */
export function benchSource(station: string, channel: string, blockSeconds = 3600): SignalSource {
  const key = `${BENCH_NETWORK}.${station}.${BENCH_LOCATION}.${channel}`;
  let src = cache.get(`${key}|${blockSeconds}`);
  if (!src) {
    const index = Number(station.slice(1)) - 1;
    src = { key, sampleRate: BENCH_RATE, sensitivity: BENCH_SENSITIVITY, component: componentOf(channel), noise: benchNoise(index), events: [], blockSeconds };
    cache.set(`${key}|${blockSeconds}`, src);
  }
  return src;
}
