/**
 * Deterministic randomness for the demo. Everything is seeded from stream codes so that the
 * generator and tests (demoSamples) recompute bit-identical values for any time window.
 */

/** FNV-1a 32-bit hash of a string: turns stream ids / event ids into seeds. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Counter-based hash of (seed, 64-bit counter as lo/hi words): random access to a white-noise
 * sequence, which is what lets any window be recomputed without replaying from the start.
 */
export function hash3(seed: number, lo: number, hi: number): number {
  let h = Math.imul(lo ^ seed, 0x9e3779b1) ^ Math.imul(hi + 0x7f4a7c15 + seed, 0x85ebca77);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  h = Math.imul(h, 0x297a2d39);
  h ^= h >>> 15;
  return h >>> 0;
}

/** Standard deviation of the sum of four independent uniform bytes (Irwin-Hall, n=4). */
const IH4_STD = Math.sqrt((4 * (256 * 256 - 1)) / 12);

/** Near-Gaussian value (mean 0, std 1) from one 32-bit hash: sum of its four bytes. */
export function gaussFromHash(h: number): number {
  return ((h & 255) + ((h >>> 8) & 255) + ((h >>> 16) & 255) + (h >>> 24) - 510) / IH4_STD;
}

/** mulberry32: small sequential PRNG for per-event parameters (phases, frequencies). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
