/**
 * Opening the index database. Writers (the indexer) and readers (the server) may use the same
 * file at once: WAL lets readers proceed during a write, and the busy timeout (10 s, as
 * mseedindex -sqlitebusyto) absorbs the short write transactions of the other side.
 */
import Database from 'better-sqlite3';
import { ensureSchema } from './schema';

export interface OpenIndexDbOptions {
  readonly?: boolean;
  /** Milliseconds to wait for a lock (default 10000). */
  busyTimeoutMs?: number;
}

export function openIndexDb(path: string, opts: OpenIndexDbOptions = {}): Database.Database {
  const readonly = opts.readonly ?? false;
  const db = new Database(path, { readonly, fileMustExist: readonly, timeout: opts.busyTimeoutMs ?? 10_000 });
  db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 10_000}`);
  // As mseedindex: filenames are case sensitive, and it lets `filename LIKE 'x%'` use the index.
  db.pragma('case_sensitive_like = ON');
  if (!readonly) {
    db.pragma('journal_mode = WAL');
    // Durable at checkpoints; a crash can lose only the last commits, never corrupt (WAL).
    db.pragma('synchronous = NORMAL');
    ensureSchema(db);
  }
  return db;
}
