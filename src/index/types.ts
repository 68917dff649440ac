/**
 * Contract of the archive index (mseedindex 3 model). The write side lives in indexer.ts /
 * schema.ts, the read side used by dataselect (and later availability, station matchtimeseries)
 * in select.ts and extract.ts.
 */

/** One row of the mseedindex `tsindex` table, as stored (time columns are mseedindex strings). */
export interface TsIndexRow {
  network: string;
  station: string;
  location: string;
  channel: string;
  quality: string | null;
  version: number | null;
  starttime: string;
  endtime: string;
  samplerate: number;
  filename: string;
  byteoffset: number;
  bytes: number;
  hash: string | null;
  timeindex: string | null;
  timespans: string | null;
  timerates: string | null;
  format: string | null;
  filemodtime: string;
  updated: string;
  scanned: string;
}

/** A row with its times parsed (epoch ns) — never compare the variable-precision strings. */
export interface Section extends TsIndexRow {
  startNs: bigint;
  endNs: bigint;
}

/** One request line: codes may hold `*` `?` wildcards; location '' means blank (`--`). */
export interface Selection {
  network: string;
  station: string;
  location: string;
  channel: string;
  startNs: bigint;
  endNs: bigint;
}

export interface IndexError {
  file: string;
  offset: number | null;
  reason: string;
}

export interface IndexSummary {
  /** miniSEED files read (files without any miniSEED record are in notMiniseed instead). */
  filesScanned: number;
  filesSkipped: number; // unchanged (size + mtime)
  filesRemoved: number;
  records: number;
  bytes: number;
  sections: number;
  seconds: number;
  errors: IndexError[];
  /** Files in which no miniSEED record was found at all (README, JSON, …): skipped, listed, not errors. */
  notMiniseed: IndexError[];
  /** Unchanged files an earlier run found not to be miniSEED: skipped again (not in filesSkipped). */
  notMiniseedKnown: number;
  /** Files reached again by another name (a symlink or hard link to an indexed file): indexed once. */
  aliases: IndexError[];
}

export interface IndexProgress {
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  currentFile?: string;
}

export interface IndexOptions {
  /** Store paths as given relative to this directory (like mseedindex -kp with relative input); default absolute. */
  relativeTo?: string;
  /** timeindex granularity in seconds (mseedindex -si, default 3600). */
  subIndexSeconds?: number;
  onProgress?: (p: IndexProgress) => void;
  /** Remove rows of files under the given roots that no longer exist (default true). */
  pruneMissing?: boolean;
  /**
   * Rebuild tsindex_summary at the end (default true). A caller indexing a few files at a time
   * (load-sac, per SAC file) skips it and rebuilds once with its last pass: the rebuild reads
   * every row.
   */
  rebuildSummary?: boolean;
  /**
   * Files whose rows are deleted in the same transaction that writes this run's first rows:
   * load-sac writes a day's new version under a new name and swaps it for the old one in the
   * index in one step, so a reader plans either the old file or the new one, never offsets of
   * one against the bytes of the other. The caller deletes the old files afterwards.
   */
  replaces?: readonly string[];
}
