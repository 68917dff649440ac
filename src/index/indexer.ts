/**
 * The archive indexer (write side of the mseedindex-compatible `tsindex`).
 *
 *   walk roots -> skip unchanged files (size + mtime) -> scan changed/new files (worker threads:
 *   read + parse headers + MD5) -> main thread writes rows in batched short transactions ->
 *   prune rows of vanished files -> rebuild tsindex_summary.
 *
 * Row content follows mseedindex 3 (see sections.ts); differences by design are documented at
 * the fields concerned (hash on every row, v2 quality kept, strictly increasing timeindex).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { ensureSchema, rebuildSummary } from './schema';
import { releaseScanBuffers, scanFileSafe, type FileScan, type ScanOutcome, type ScanReply, type ScanRequest } from './scanWorker';
import { formatSecondsTime, formatSectionTime, type TimeStringStyle } from './tsindexText';
import type { IndexError, IndexOptions, IndexProgress, IndexSummary } from './types';
import { pathGone } from '../pathGone';

export interface IndexerOptions extends IndexOptions {
  /**
   * Scanning threads. 0 = scan in the calling thread. Default: one per CPU when running compiled
   * JS (dist/), 0 when running from .ts sources (jest), where a worker could not load the TS file.
   */
  workers?: number;
  /** Worker entry (compiled scanWorker.js); default: the one beside this module. */
  workerScript?: string;
  /** Section time strings: 'v3' (mseedindex 3, default) or 'micro' (mseedindex 2.x, always 6 digits). */
  timeStyle?: TimeStringStyle;
}

/** Commit a batch when it holds this many files or rows, or after this long (ms). */
const BATCH_FILES = 500;
const BATCH_ROWS = 20_000;
const BATCH_MS = 250;
const PROGRESS_MS = 100;

interface FoundFile {
  abs: string;
  stored: string; // value of tsindex.filename
  size: number;
  mtimeNs: bigint;
  /** `dev:ino` of the file (after following links): one file reached by two names is indexed once. */
  inode: string;
  /** The entry is a symbolic link. */
  isLink: boolean;
}

interface ScannedFile {
  file: FoundFile;
  scan: FileScan | null; // null = could not be read (error reported)
  scannedAt: string;
}

export async function indexArchive(db: Database.Database, roots: string[], opts: IndexerOptions = {}): Promise<IndexSummary> {
  const t0 = process.hrtime.bigint();
  const errors: IndexError[] = [];
  const summary: IndexSummary = {
    filesScanned: 0,
    filesSkipped: 0,
    filesRemoved: 0,
    records: 0,
    bytes: 0,
    sections: 0,
    seconds: 0,
    errors,
    notMiniseed: [],
    notMiniseedKnown: 0,
    aliases: [],
  };
  const subIndexSeconds = opts.subIndexSeconds ?? 3600;
  const timeStyle = opts.timeStyle ?? 'v3';
  const relativeTo = opts.relativeTo !== undefined ? path.resolve(opts.relativeTo) : undefined;
  const absRoots = roots.map((r) => path.resolve(r));
  const storedName = (abs: string) => (relativeTo !== undefined ? path.relative(relativeTo, abs) : abs);

  ensureSchema(db); // idempotent; the db may not come from openIndexDb

  // 1. Walk. The index's own files are not data even when they live inside the archive.
  let found: FoundFile[] = [];
  const unreadableDirs: string[] = [];
  for (const root of absRoots) await walk(root, found, errors, storedName, unreadableDirs);
  const dbFiles = new Set(db.memory ? [] : ['', '-wal', '-shm', '-journal'].map((sfx) => path.resolve(db.name) + sfx));
  if (dbFiles.size > 0) {
    for (let i = found.length - 1; i >= 0; i--) if (dbFiles.has(found[i].abs)) found.splice(i, 1);
  }

  // One file reached by two names (a symlink to a file of the tree, a hard link): indexed once, as
  // mseedindex stores resolved paths, or dataselect would send its records twice. The name that
  // is not a symlink is kept; the other's rows (from an earlier run) are deleted.
  const byInode = new Map<string, FoundFile>();
  const aliases: FoundFile[] = [];
  for (const f of found) {
    const first = byInode.get(f.inode);
    if (!first) byInode.set(f.inode, f);
    else if (first.stored !== f.stored) {
      if (first.isLink && !f.isLink) {
        aliases.push(first);
        byInode.set(f.inode, f);
      } else aliases.push(f);
    }
  }
  const aliasNames = new Set(aliases.map((a) => a.stored));
  found = found.filter((f) => !aliasNames.has(f.stored) || byInode.get(f.inode)!.stored === f.stored);
  for (const a of aliases) summary.aliases.push({ file: a.abs, offset: null, reason: `the same file as ${byInode.get(a.inode)!.abs}: indexed once, under that name` });

  // 2. Unchanged files are skipped (size + mtime as recorded by our last scan of them).
  const known = new Map<string, { size: bigint; mtimeNs: bigint; notMseed: boolean }>();
  if (found.length <= 256) {
    // A few files (load-sac indexes each SAC file's days as it goes): looked up by name, not by
    // reading the bookkeeping of the whole archive each time.
    const one = db.prepare('SELECT size, mtime_ns, status FROM geonode_files WHERE filename = ?').safeIntegers(true);
    for (const f of found) {
      const row = one.get(f.stored) as { size: bigint; mtime_ns: bigint; status: string | null } | undefined;
      if (row) known.set(f.stored, { size: row.size, mtimeNs: row.mtime_ns, notMseed: row.status === 'not-mseed' });
    }
  } else {
    const knownStmt = db.prepare('SELECT filename, size, mtime_ns, status FROM geonode_files').safeIntegers(true);
    for (const row of knownStmt.iterate() as Iterable<{ filename: string; size: bigint; mtime_ns: bigint; status: string | null }>) {
      known.set(row.filename, { size: row.size, mtimeNs: row.mtime_ns, notMseed: row.status === 'not-mseed' });
    }
  }
  const toScan: FoundFile[] = [];
  const seen = new Set<string>();
  for (const f of found) {
    if (seen.has(f.stored)) continue; // same file reached twice (overlapping roots)
    seen.add(f.stored);
    const k = known.get(f.stored);
    if (k && k.size === BigInt(f.size) && k.mtimeNs === f.mtimeNs) {
      if (k.notMseed) summary.notMiniseedKnown++;
      else summary.filesSkipped++;
    } else toScan.push(f);
  }

  // 3. Rows of files that vanished from under the roots.
  if (opts.pruneMissing ?? true) {
    summary.filesRemoved = pruneMissing(db, absRoots, seen, relativeTo, unreadableDirs);
  }
  deleteFiles(db, [...aliasNames]);

  // 4. Scan + write.
  const writer = new BatchWriter(db, timeStyle, summary, (opts.replaces ?? []).map((r) => storedName(path.resolve(r))));
  const progress: IndexProgress = {
    filesDone: 0,
    filesTotal: toScan.length,
    bytesDone: 0,
    bytesTotal: toScan.reduce((a, f) => a + f.size, 0),
  };
  let lastProgress = 0;
  const report = (current: string | undefined, force = false) => {
    if (!opts.onProgress) return;
    const now = Date.now();
    if (!force && now - lastProgress < PROGRESS_MS) return;
    lastProgress = now;
    opts.onProgress({ ...progress, currentFile: current });
  };
  report(undefined, true);

  const onScanned = (s: ScannedFile) => {
    progress.filesDone++;
    progress.bytesDone += s.file.size;
    if (s.scan) {
      // A file that is not miniSEED is reported apart, not counted as indexed.
      if (!s.scan.notMseed) {
        summary.filesScanned++;
        summary.bytes += s.scan.bytes;
      }
      summary.records += s.scan.records;
      // A file with no miniSEED record at all is not a damaged archive file: list it apart.
      const into = s.scan.notMseed ? summary.notMiniseed : errors;
      for (const e of s.scan.errors) into.push({ file: s.file.abs, offset: e.offset, reason: e.reason });
    }
    writer.add(s);
    report(s.file.abs);
  };

  const workerCount = opts.workers ?? defaultWorkerCount(opts.workerScript);
  try {
    if (workerCount > 0 && toScan.length > 1) {
      await scanWithWorkers(toScan, workerCount, opts.workerScript ?? defaultWorkerScript(), subIndexSeconds, errors, onScanned, () =>
        writer.flushIfDue(),
      );
    } else {
      let lastYield = Date.now();
      for (const f of toScan) {
        onScanned(scanInThread(f, subIndexSeconds, errors));
        writer.flushIfDue();
        // Let timers/progress consumers run during a long in-thread scan.
        if (Date.now() - lastYield > 50) {
          await new Promise<void>((r) => setImmediate(r));
          lastYield = Date.now();
        }
      }
    }
  } finally {
    releaseScanBuffers();
    // Whatever happened, keep what was scanned (each batch is its own transaction).
    writer.flush();
  }

  if (opts.rebuildSummary ?? true) rebuildSummary(db);
  report(undefined, true);
  summary.seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return summary;
}

/** Recursive walk: regular files (and symlinks to them), hidden entries skipped, no dir loops. */
async function walk(root: string, out: FoundFile[], errors: IndexError[], storedName: (abs: string) => string, unreadableDirs: string[]): Promise<void> {
  const visitedDirs = new Set<string>();
  const addFile = (abs: string, st: fs.BigIntStats, isLink: boolean) => {
    out.push({ abs, stored: storedName(abs), size: Number(st.size), mtimeNs: st.mtimeNs, inode: `${st.dev}:${st.ino}`, isLink });
  };
  let rootStat: fs.BigIntStats;
  try {
    rootStat = await fs.promises.stat(root, { bigint: true });
  } catch (e) {
    errors.push({ file: root, offset: null, reason: `cannot read root: ${(e as Error).message}` });
    return;
  }
  if (rootStat.isFile()) {
    addFile(root, rootStat, fs.lstatSync(root).isSymbolicLink());
    return;
  }
  const stack: string[] = [root];
  visitedDirs.add(`${rootStat.dev}:${rootStat.ino}`);
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(dir, { withFileTypes: true });
    } catch (e) {
      errors.push({ file: dir, offset: null, reason: `cannot read directory: ${(e as Error).message}` });
      unreadableDirs.push(dir); // its files' rows are kept (prune does not look below it)
      continue;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const subdirs: string[] = [];
    const stats = await Promise.all(
      entries.map(async (ent) => {
        if (ent.name.startsWith('.')) return null;
        const abs = path.join(dir, ent.name);
        if (!ent.isFile() && !ent.isDirectory() && !ent.isSymbolicLink()) return null; // fifo, socket, device
        if (ent.name.includes('\uFFFD')) {
          // readdir decodes names as UTF-8: a Latin-1 name comes back altered and cannot be opened.
          errors.push({ file: abs, offset: null, reason: 'file name is not valid UTF-8: it cannot be opened by this name; rename it' });
          return null;
        }
        try {
          // stat follows symlinks; loops are caught by the dev:ino set below.
          return { abs, st: await fs.promises.stat(abs, { bigint: true }), isLink: ent.isSymbolicLink() };
        } catch (e) {
          let target = '';
          if (ent.isSymbolicLink()) target = await fs.promises.readlink(abs).then((t) => ` → ${t}`, () => '');
          // A broken link (target moved, volume unmounted) is reported; its rows are kept.
          errors.push({ file: abs, offset: null, reason: ent.isSymbolicLink() ? `broken symbolic link${target}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` : `cannot stat: ${(e as Error).message}` });
          return null;
        }
      }),
    );
    for (const s of stats) {
      if (!s) continue;
      if (s.st.isFile()) addFile(s.abs, s.st, s.isLink);
      else if (s.st.isDirectory()) {
        const key = `${s.st.dev}:${s.st.ino}`;
        if (visitedDirs.has(key)) continue;
        visitedDirs.add(key);
        subdirs.push(s.abs);
      }
    }
    // Depth-first in name order (reverse push onto the stack).
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]);
  }
}

/**
 * Delete rows (and bookkeeping) of files under the roots that no longer exist: only what lstat
 * cannot find (ENOENT/ENOTDIR). A file below a directory this run could not read, a broken
 * symlink or a file lstat is denied stays indexed (reported by the walk; retried next run).
 */
function pruneMissing(db: Database.Database, absRoots: string[], seen: Set<string>, relativeTo: string | undefined, unreadableDirs: string[]): number {
  const candidates = new Set<string>();
  for (const r of db.prepare('SELECT filename FROM geonode_files').pluck().iterate() as Iterable<string>) candidates.add(r);
  for (const r of db.prepare('SELECT DISTINCT filename FROM tsindex').pluck().iterate() as Iterable<string>) candidates.add(r);
  const within = (abs: string, dirs: string[]) => dirs.some((root) => abs === root || abs.startsWith(root.endsWith(path.sep) ? root : root + path.sep));
  const gone: string[] = [];
  for (const f of candidates) {
    if (f === null || seen.has(f)) continue;
    const abs = relativeTo !== undefined ? path.resolve(relativeTo, f) : path.resolve(f);
    if (within(abs, absRoots) && !within(abs, unreadableDirs) && pathGone(abs)) gone.push(f);
  }
  deleteFiles(db, gone);
  return gone.length;
}

/**
 * Take files out of the index before they are deleted (load-sac's days a SAC file no longer
 * covers): rows first, then the file, so dataselect never plans a read of a file that is gone.
 */
export function forgetIndexedFiles(db: Database.Database, absPaths: readonly string[], relativeTo?: string): void {
  const rel = relativeTo !== undefined ? path.resolve(relativeTo) : undefined;
  deleteFiles(db, absPaths.map((abs) => (rel !== undefined ? path.relative(rel, abs) : abs)));
}

/** Delete the tsindex rows and bookkeeping of these stored file names, in batches. */
function deleteFiles(db: Database.Database, gone: string[]): void {
  if (gone.length === 0) return;
  const delRows = db.prepare('DELETE FROM tsindex WHERE filename = ?');
  const delFile = db.prepare('DELETE FROM geonode_files WHERE filename = ?');
  for (let i = 0; i < gone.length; i += BATCH_FILES) {
    const chunk = gone.slice(i, i + BATCH_FILES);
    db.transaction(() => {
      for (const f of chunk) {
        delRows.run(f);
        delFile.run(f);
      }
    }).immediate();
  }
}

function scanInThread(f: FoundFile, subIndexSeconds: number, errors: IndexError[]): ScannedFile {
  return toScanned(f, scanFileSafe(f.abs, subIndexSeconds), errors);
}

function toScanned(f: FoundFile, outcome: ScanOutcome, errors: IndexError[]): ScannedFile {
  if ('result' in outcome) return { file: f, scan: outcome.result, scannedAt: nowSeconds() };
  errors.push({ file: f.abs, offset: null, reason: `cannot read: ${outcome.failure}` });
  return { file: f, scan: null, scannedAt: nowSeconds() };
}

function nowSeconds(): string {
  return formatSecondsTime(Date.now() / 1000);
}

function defaultWorkerScript(): string {
  return path.join(__dirname, 'scanWorker.js');
}

function defaultWorkerCount(workerScript: string | undefined): number {
  // From .ts sources (ts-jest) there is no loadable worker unless one is given explicitly.
  if (workerScript === undefined && (!__filename.endsWith('.js') || !fs.existsSync(defaultWorkerScript()))) return 0;
  return Math.max(1, Math.min(os.cpus().length, 8));
}

/** A worker job holds files until this many bytes or files (big files go alone). */
const JOB_BYTES = 4 * 1024 * 1024;
const JOB_FILES = 64;

function makeJobs(files: FoundFile[]): FoundFile[][] {
  const jobs: FoundFile[][] = [];
  let cur: FoundFile[] = [];
  let bytes = 0;
  for (const f of files) {
    if (cur.length > 0 && (bytes + f.size > JOB_BYTES || cur.length >= JOB_FILES)) {
      jobs.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(f);
    bytes += f.size;
  }
  if (cur.length > 0) jobs.push(cur);
  return jobs;
}

/**
 * Fan files out to worker threads in jobs (many small files per message), two jobs in flight per
 * worker so none idles while the main thread writes. A worker that dies fails its in-flight
 * files (reported) and is replaced.
 */
async function scanWithWorkers(
  files: FoundFile[],
  count: number,
  script: string,
  subIndexSeconds: number,
  errors: IndexError[],
  onScanned: (s: ScannedFile) => void,
  afterResult: () => void,
): Promise<void> {
  const jobs = makeJobs(files);
  const n = Math.min(count, jobs.length);
  let next = 0;
  let outstanding = 0;
  let respawns = 0;
  const workers = new Set<Worker>();
  let finish!: () => void;
  let fail!: (e: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    finish = res;
    fail = rej;
  });

  const start = () => {
    const w = new Worker(script, { workerData: { geonodeScanWorker: true } });
    const inflight = new Map<number, FoundFile[]>();
    workers.add(w);
    const feed = () => {
      while (inflight.size < 2 && next < jobs.length) {
        const id = next++;
        inflight.set(id, jobs[id]);
        outstanding++;
        const req: ScanRequest = { id, paths: jobs[id].map((f) => f.abs), subIndexSeconds };
        w.postMessage(req);
      }
    };
    w.on('message', (msg: ScanReply) => {
      const job = inflight.get(msg.id);
      if (!job) return;
      inflight.delete(msg.id);
      outstanding--;
      try {
        job.forEach((f, i) => onScanned(toScanned(f, msg.outcomes[i] ?? { failure: 'no result from worker' }, errors)));
        afterResult();
      } catch (e) {
        fail(e); // database trouble: stop the run (committed batches are kept)
        return;
      }
      feed();
      if (outstanding === 0 && next >= jobs.length) finish();
    });
    const onDeath = (why: string) => {
      if (!workers.delete(w)) return;
      for (const [, job] of inflight) {
        outstanding--;
        for (const f of job) {
          try {
            onScanned(toScanned(f, { failure: `scan worker failed: ${why}` }, errors));
          } catch (e) {
            fail(e);
            return;
          }
        }
      }
      inflight.clear();
      if (next < jobs.length) {
        if (++respawns > 2 * n + 4) {
          fail(new Error(`scan workers keep failing (${why})`));
          return;
        }
        start();
      } else if (outstanding === 0) finish();
    };
    w.on('error', (e) => onDeath(e.message));
    w.on('exit', (code) => onDeath(`exited with code ${code}`));
    feed();
  };

  for (let i = 0; i < n; i++) start();
  try {
    await done;
  } finally {
    const all = [...workers];
    workers.clear(); // so exit events of terminated workers are ignored
    await Promise.all(all.map((w) => w.terminate()));
  }
}

/**
 * Accumulates scanned files and writes them in short IMMEDIATE transactions (many files each):
 * per file, old rows are replaced by the new ones, keeping a row's `updated` when a row with the
 * same NSLC + version + hash existed (mseedindex: "updated only changes when the data change").
 * Unlike mseedindex (which deletes only rows overlapping the file's extent ±1 day) all rows of the
 * filename go: the whole file was just rescanned, so any other row of it would be stale.
 */
class BatchWriter {
  private pending: ScannedFile[] = [];
  private pendingRows = 0;
  private lastFlush = Date.now();
  private readonly selOld: Database.Statement;
  private readonly delRows: Database.Statement;
  private readonly insRow: Database.Statement;
  private readonly upsertFile: Database.Statement;
  private readonly writeBatch: (batch: ScannedFile[]) => void;

  constructor(
    db: Database.Database,
    private readonly timeStyle: TimeStringStyle,
    private readonly summary: IndexSummary,
    private readonly replaceStored: string[] = [],
  ) {
    this.selOld = db.prepare('SELECT network,station,location,channel,version,hash,updated FROM tsindex WHERE filename = ?');
    this.delRows = db.prepare('DELETE FROM tsindex WHERE filename = ?');
    this.insRow = db.prepare(
      'INSERT INTO tsindex (network,station,location,channel,quality,version,starttime,endtime,samplerate,' +
        'filename,byteoffset,bytes,hash,timeindex,timespans,timerates,format,filemodtime,updated,scanned) ' +
        'VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,NULL,?,?,?)',
    );
    this.upsertFile = db.prepare(
      'INSERT INTO geonode_files (filename,size,mtime_ns,scanned,status) VALUES (?,?,?,?,?) ' +
        'ON CONFLICT(filename) DO UPDATE SET size=excluded.size, mtime_ns=excluded.mtime_ns, scanned=excluded.scanned, status=excluded.status',
    );
    const delFile = db.prepare('DELETE FROM geonode_files WHERE filename = ?');
    const tx = db.transaction((batch: ScannedFile[]) => {
      // The files this run's rows replace leave in the same transaction (IndexOptions.replaces).
      for (const f of this.replaceStored.splice(0)) {
        this.delRows.run(f);
        delFile.run(f);
      }
      for (const s of batch) this.writeFile(s);
    });
    this.writeBatch = (batch) => tx.immediate(batch);
  }

  add(s: ScannedFile): void {
    this.pending.push(s);
    this.pendingRows += s.scan ? s.scan.sections.length : 0;
  }

  flushIfDue(): void {
    if (this.pending.length >= BATCH_FILES || this.pendingRows >= BATCH_ROWS || Date.now() - this.lastFlush >= BATCH_MS) this.flush();
  }

  flush(): void {
    this.lastFlush = Date.now();
    if (this.pending.length === 0 && this.replaceStored.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.pendingRows = 0;
    this.writeBatch(batch);
  }

  private writeFile(s: ScannedFile): void {
    const { file, scan } = s;
    if (scan === null) return; // unreadable now: keep old rows, retry next run (no bookkeeping)
    const filemodtime = formatSecondsTime(Number(file.mtimeNs / 1_000_000_000n));
    const keepUpdated = new Map<string, string>();
    for (const o of this.selOld.iterate(file.stored) as Iterable<OldRow>) {
      keepUpdated.set(rowKey(o.network, o.station, o.location, o.channel, o.version, o.hash), o.updated);
    }
    this.delRows.run(file.stored);
    for (const sec of scan.sections) {
      const updated = keepUpdated.get(rowKey(sec.network, sec.station, sec.location, sec.channel, sec.version, sec.hash)) ?? filemodtime;
      this.insRow.run(
        sec.network,
        sec.station,
        sec.location,
        sec.channel,
        sec.quality,
        sec.version,
        formatSectionTime(sec.startNs, this.timeStyle),
        formatSectionTime(sec.endNs, this.timeStyle),
        sec.samplerate,
        file.stored,
        sec.byteoffset,
        sec.bytes,
        sec.hash,
        sec.timeindex,
        sec.timespans,
        sec.timerates,
        filemodtime,
        updated,
        s.scannedAt,
      );
    }
    this.summary.sections += scan.sections.length;
    const status = scan.notMseed ? 'not-mseed' : scan.errors.length > 0 ? 'errors' : 'ok';
    this.upsertFile.run(file.stored, file.size, file.mtimeNs, s.scannedAt, status);
  }
}

interface OldRow {
  network: string;
  station: string;
  location: string;
  channel: string;
  version: number | null;
  hash: string | null;
  updated: string;
}

function rowKey(n: string, s: string, l: string, c: string, v: number | null, h: string | null): string {
  return `${n}\u0000${s}\u0000${l}\u0000${c}\u0000${v ?? 0}\u0000${h ?? ''}`;
}
