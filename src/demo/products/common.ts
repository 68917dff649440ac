/** Shared pieces of the products demo writers: the per-file truth record, dates, file output. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ProductSource } from './scenario';

export const DAY_MS = 86_400_000;

/** One written file, as listed in products/truth.json. */
export interface ProductFileTruth {
  /** Relative to the archive root, POSIX separators (e.g. `products/geomag/KAK/kak20200911vsec.sec`). */
  path: string;
  source: ProductSource;
  station: string;
  /** ISO-8601 cadence: PT1S, PT1M, PT1H, or PT10S for the reduced VLF frames. */
  cadence: string;
  /** First and last stamp written (ISO UTC). */
  first: string;
  last: string;
  /** Data rows (IAGA) or frames (CDF). */
  rows: number;
  bytes: number;
  sha256: string;
  /** Geomag/AEF: column identities in file order. */
  elements?: string[];
  /** Fill values per element/channel (only the non-zero ones): 9-filled, 8-filled, FILLVAL frames. */
  sentinels?: Record<string, { missing?: number; notRecorded?: number; fillFrames?: number }>;
}

/** `YYYYMMDD` of a UTC epoch ms. */
export function ymd(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10).replace(/-/g, '');
}

/** `YYYY-MM-DD` of a UTC epoch ms. */
export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Write a file under root, return its truth record skeleton (path, bytes, sha256). */
export function writeProductFile(root: string, rel: string, data: Buffer | Uint8Array): { path: string; bytes: number; sha256: string } {
  const abs = path.join(root, ...rel.split('/'));
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, data);
  return { path: rel, bytes: data.length, sha256: crypto.createHash('sha256').update(data).digest('hex') };
}

/** Count 9-filled / 8-filled entries of a sentinel column (SENTINEL_MISSING = 1, NOT_RECORDED = 2). */
export function countSentinels(sent: Uint8Array, from: number, to: number): { missing?: number; notRecorded?: number } | null {
  let m = 0;
  let nr = 0;
  for (let i = from; i < to; i++) {
    if (sent[i] === 1) m++;
    else if (sent[i] === 2) nr++;
  }
  if (m === 0 && nr === 0) return null;
  return { ...(m ? { missing: m } : {}), ...(nr ? { notRecorded: nr } : {}) };
}
