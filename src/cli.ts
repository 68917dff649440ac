#!/usr/bin/env node
/**
 * `geonode <command> [options]` — generate, index, load-metadata, load-events, load-sac, ingest, analyze, serve, start.
 *
 * Settings: flags override environment variables (GEONODE_*), which override defaults
 * (src/config.ts). Exit codes: 0 ok, 1 runtime failure, 2 usage error.
 *
 * Tests call `main(argv, io)` directly (no child process); `io` carries the streams, env, cwd
 * and, for `serve`/`start`, an AbortSignal to stop the server and a callback with its address.
 */
import fs from 'node:fs';
import path from 'node:path';
import cluster from 'node:cluster';
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { defaultConfig, type NodeConfig } from './config';
import { ARCHIVE_SIZES, foreignArchiveEntries, GenerateError, generateDemoArchive, type ArchiveSize, type GenerateOptions, type GenerateSummary } from './demo/generate';
import { demoStreams } from './demo/stations';
import { parseIsoToNs } from './formats/time';
import type { IndexSummary } from './index/types';
import { formatBytes, ProgressLine, type ProgressStream } from './progress';

export interface CliIo {
  stdout: ProgressStream;
  stderr: ProgressStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** serve/start: aborting stops the server (tests); SIGINT/SIGTERM do the same in real runs. */
  signal?: AbortSignal;
  /** serve/start: called once the server listens (tests use port 0 and read the port here). */
  onListening?: (url: string, port: number) => void;
  /** Install SIGINT/SIGTERM handlers (default true only for the real process). */
  handleSignals?: boolean;
  /** serve/start: worker processes when --workers is not given (real process: CPU count; tests: 1 = in-process). */
  defaultWorkers?: number;
}

/** Wrong command line: message + usage on stderr, exit 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

type FlagType = 'string' | 'int' | 'boolean';

interface FlagSpec {
  type: FlagType;
  value?: string;
  help: string;
}

interface CommandSpec {
  name: string;
  args: string;
  summary: string;
  flags: Record<string, FlagSpec>;
  /** Allowed number of positional arguments. */
  minPositionals: number;
  maxPositionals: number;
  details?: string;
  run(parsed: Parsed, io: CliIo): Promise<number>;
}

interface Parsed {
  flags: Record<string, string | number | boolean | undefined>;
  positionals: string[];
}

const HELP_FLAG: FlagSpec = { type: 'boolean', help: 'show this help' };

function parseArgs(argv: string[], spec: CommandSpec): Parsed & { help: boolean } {
  const flags: Parsed['flags'] = {};
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a === '-h' || a === '--help') {
      help = true;
      continue;
    }
    if (!a.startsWith('-') || a === '-') {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.startsWith('--') ? a.slice(2, eq >= 0 ? eq : undefined) : '';
    const f = spec.flags[name];
    if (!f) throw new UsageError(`unknown option ${eq >= 0 ? a.slice(0, eq) : a} for "${spec.name}"`, spec.name);
    if (f.type === 'boolean') {
      if (eq >= 0) throw new UsageError(`option --${name} takes no value`, spec.name);
      flags[name] = true;
      continue;
    }
    let value: string;
    if (eq >= 0) value = a.slice(eq + 1);
    else {
      if (i + 1 >= argv.length) throw new UsageError(`option --${name} needs a value (${f.value ?? 'VALUE'})`, spec.name);
      value = argv[++i];
    }
    if (f.type === 'int') {
      if (!/^\d+$/.test(value)) throw new UsageError(`option --${name} needs a non-negative integer, got "${value}"`, spec.name);
      flags[name] = Number(value);
    } else flags[name] = value;
  }
  if (!help) {
    if (positionals.length < spec.minPositionals) throw new UsageError(`"${spec.name}" needs ${spec.args}`, spec.name);
    if (positionals.length > spec.maxPositionals) throw new UsageError(`unexpected argument "${positionals[spec.maxPositionals]}" for "${spec.name}"`, spec.name);
  }
  return { flags, positionals, help };
}

const str = (p: Parsed, name: string): string | undefined => p.flags[name] as string | undefined;
const int = (p: Parsed, name: string): number | undefined => p.flags[name] as number | undefined;

function resolveFrom(io: CliIo, p: string): string {
  return path.resolve(io.cwd, p);
}

/** Config from env (relative env paths resolved against io.cwd), then flags. */
function configFor(io: CliIo, p: Parsed): NodeConfig {
  const cfg = defaultConfig(io.env);
  // defaultConfig resolves against process.cwd(); redo against io.cwd for env/default relative paths.
  cfg.archiveDir = resolveFrom(io, io.env.GEONODE_ARCHIVE ?? 'archive');
  cfg.dbPath = resolveFrom(io, io.env.GEONODE_DB ?? path.join('var', 'geonode.sqlite'));
  cfg.dataRoot = resolveFrom(io, io.env.GEONODE_DATA_ROOT ?? '/');
  cfg.tilesDir = resolveFrom(io, io.env.GEONODE_TILES ?? path.join('var', 'tiles'));
  const port = int(p, 'port');
  if (port !== undefined) {
    if (port > 65535) throw new UsageError(`--port must be 0..65535, got ${port}`);
    cfg.port = port;
  }
  if (str(p, 'host') !== undefined) cfg.host = str(p, 'host')!;
  if (str(p, 'db') !== undefined) cfg.dbPath = resolveFrom(io, str(p, 'db')!);
  if (str(p, 'data-root') !== undefined) cfg.dataRoot = resolveFrom(io, str(p, 'data-root')!);
  if (str(p, 'archive') !== undefined) cfg.archiveDir = resolveFrom(io, str(p, 'archive')!);
  if (str(p, 'tiles') !== undefined) cfg.tilesDir = resolveFrom(io, str(p, 'tiles')!);
  // A mistyped limit must not silently remove it (NaN compares false with everything).
  const limit = (name: string, v: number, min: number, what: string) => {
    if (!Number.isSafeInteger(v) || v < min) throw new UsageError(`${name} must be a whole number ≥ ${min} (${what}), got '${io.env[name]}'`);
  };
  limit('GEONODE_MAX_BYTES', cfg.maxResponseBytes, 0, 'bytes per dataselect response, 0 = no limit');
  limit('GEONODE_MAX_SAMPLES', cfg.maxSamples, 1, 'samples per /products response');
  return cfg;
}

const log = (io: CliIo, line: string) => io.stdout.write(line + '\n');
const warn = (io: CliIo, line: string) => io.stderr.write(line + '\n');

// ---------------------------------------------------------------- generate

function generateOptions(p: Parsed): GenerateOptions {
  const opts: GenerateOptions = { force: p.flags.force === true };
  const days = int(p, 'days');
  if (days !== undefined) {
    if (days < 1 || days > 366) throw new UsageError('--days must be 1..366', 'generate');
    opts.days = days;
  }
  const size = str(p, 'size');
  if (size !== undefined) {
    if (!ARCHIVE_SIZES.includes(size as ArchiveSize)) throw new UsageError(`--size must be one of ${ARCHIVE_SIZES.join(', ')}`, 'generate');
    opts.size = size as ArchiveSize;
  }
  const files = int(p, 'files');
  if (files !== undefined) {
    if (files < 1) throw new UsageError('--files must be at least 1', 'generate');
    opts.files = files;
  }
  const stations = str(p, 'stations');
  if (stations !== undefined) opts.stations = stations.split(',').map((s) => s.trim()).filter(Boolean);
  const window = str(p, 'window');
  if (window !== undefined) {
    const [a, b] = window.split(',');
    const startNs = a ? parseIsoToNs(a) : null;
    const endNs = b ? parseIsoToNs(b) : null;
    if (startNs === null || endNs === null || endNs <= startNs) throw new UsageError('--window must be START,END (ISO times, END after START)', 'generate');
    opts.window = { startNs, endNs };
  }
  const workers = int(p, 'workers');
  if (workers !== undefined) opts.workers = Math.max(1, workers);
  if (p.flags['no-products'] === true && p.flags.products === true) throw new UsageError('--products and --no-products contradict each other', 'generate');
  if (p.flags['no-products'] === true) opts.products = false;
  if (p.flags.products === true) opts.products = true;
  const lead = int(p, 'products-lead-days');
  if (lead !== undefined) {
    if (lead < 0 || lead > 366) throw new UsageError('--products-lead-days must be 0..366', 'generate');
    opts.productsLeadDays = lead;
  }
  return opts;
}

function generateSummaryLine(s: GenerateSummary): string {
  return (
    `generated ${s.size} archive in ${s.dir}: ${s.files} files, ${s.records} records, ${formatBytes(s.bytes)}, ` +
    `${s.samples} samples, ${s.channels} channels, ${s.days} day(s) in ${s.seconds.toFixed(1)} s` +
    (s.products ? `; products (geomag, AEF, VLF): ${s.products.files} files, ${formatBytes(s.products.bytes)} in ${s.products.seconds.toFixed(1)} s` : '')
  );
}

async function runGenerate(dir: string, opts: GenerateOptions, io: CliIo): Promise<GenerateSummary> {
  const bar = new ProgressLine(io.stderr, 'generate', 'files');
  const summary = await generateDemoArchive(dir, {
    ...opts,
    onProgress: (g) => bar.update({ done: g.filesDone, total: g.filesTotal, bytes: g.bytesDone, fraction: g.samplesTotal > 0 ? g.samplesDone / g.samplesTotal : 1 }, g.filesDone === g.filesTotal),
  });
  bar.clear();
  return summary;
}

// ---------------------------------------------------------------- index

async function runIndex(io: CliIo, roots: string[], dbPath: string, relativeTo: string | undefined): Promise<IndexSummary> {
  const { openIndexDb } = await import('./index/db');
  const { indexArchive } = await import('./index/indexer');
  fs.mkdirSync(path.dirname(dbPath), { recursive: true });
  const db = openIndexDb(dbPath);
  const bar = new ProgressLine(io.stderr, 'index', 'files');
  try {
    return await indexArchive(db, roots, {
      relativeTo,
      onProgress: (pr) => bar.update({ done: pr.filesDone, total: pr.filesTotal, bytes: pr.bytesDone, totalBytes: pr.bytesTotal }, pr.filesDone === pr.filesTotal),
    });
  } finally {
    bar.clear();
    db.close();
  }
}

function reportIndex(io: CliIo, s: IndexSummary): void {
  log(
    io,
    `indexed ${s.filesScanned} files (${s.filesSkipped} unchanged, ${s.filesRemoved} removed), ${s.records} records, ` +
      `${s.bytes} bytes (${formatBytes(s.bytes)}), ${s.sections} sections in ${s.seconds.toFixed(2)} s, ${s.errors.length} errors` +
      (s.notMiniseed.length + s.notMiniseedKnown > 0 ? `, ${s.notMiniseed.length + s.notMiniseedKnown} non-miniSEED files skipped` : '') +
      (s.aliases.length > 0 ? `, ${s.aliases.length} links to indexed files skipped` : ''),
  );
  for (const e of s.errors) warn(io, `error: ${e.file}${e.offset !== null ? ` @${e.offset}` : ''}: ${e.reason}`);
  // Non-miniSEED files (READMEs, JSON beside an SDS tree) are normal: name a few, count the rest.
  for (const e of s.notMiniseed.slice(0, 10)) warn(io, `skipped: ${e.file}: ${e.reason}`);
  if (s.notMiniseed.length > 10) warn(io, `skipped: … and ${s.notMiniseed.length - 10} more non-miniSEED files`);
  for (const e of s.aliases.slice(0, 10)) warn(io, `skipped: ${e.file}: ${e.reason}`);
  if (s.aliases.length > 10) warn(io, `skipped: … and ${s.aliases.length - 10} more links to indexed files`);
}

// ---------------------------------------------------------------- load-metadata

/** Load StationXML files/directories into the metadata tables of the index db; returns the number of failed files. */
async function runLoadMetadata(io: CliIo, paths: string[], dbPath: string): Promise<number> {
  const { openIndexDb } = await import('./index/db');
  const { loadMetadataPaths } = await import('./index/metadata');
  fs.mkdirSync(path.dirname(dbPath), { recursive: true });
  const db = openIndexDb(dbPath);
  try {
    const { results, errors } = loadMetadataPaths(db, paths);
    for (const r of results) {
      log(io, `${r.status}: ${r.source} (${r.networks} networks, ${r.stations} stations, ${r.channels} channel epochs)`);
      for (const sac of r.supersededSac ?? []) log(io, `  replaces the channel epoch synthesized from ${sac.replace(/^sac:/, '')}`);
    }
    for (const e of errors) warn(io, `error: ${e.source}: ${e.reason}`);
    log(io, `metadata: ${results.filter((r) => r.status !== 'unchanged').length} file(s) loaded, ${results.filter((r) => r.status === 'unchanged').length} unchanged, ${errors.length} failed`);
    return errors.length;
  } finally {
    db.close();
  }
}

/** truth.json of a full demo archive (not a benchmark, not a --stations subset). */
function isDemoArchive(dir: string): boolean {
  try {
    const truth = JSON.parse(fs.readFileSync(path.join(dir, 'truth.json'), 'utf8')) as { size?: string; streams?: unknown[] };
    return truth.size === 'demo' && Array.isArray(truth.streams) && truth.streams.length === demoStreams().length;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- load-events

/** Load event files (QuakeML, FDSN text, lists) into the event tables of the index db; returns the number of failed files. */
async function runLoadEvents(io: CliIo, paths: string[], dbPath: string, opts: import('./index/events').LoadEventsOptions = {}): Promise<number> {
  const { openIndexDb } = await import('./index/db');
  const { countEvents, loadEventFiles } = await import('./index/events');
  fs.mkdirSync(path.dirname(dbPath), { recursive: true });
  const db = openIndexDb(dbPath);
  try {
    const s = loadEventFiles(db, paths, opts);
    // Bad files and bad lines are named (file:line: reason) but do not stop the other files.
    for (const e of s.problems) warn(io, `error: ${e.file}${e.line !== undefined ? `:${e.line}` : ''}: ${e.reason}`);
    for (const n of s.notes) warn(io, `note: ${n.file}: ${n.reason}`);
    for (const r of s.renamed) {
      warn(io, `note: ${r.file}: event id ${r.from} (${r.publicId}) is already that of a different event (${r.otherPublicId}, origin times over 5 min apart): stored as ${r.to}`);
    }
    log(
      io,
      `events: ${s.loaded} file(s) loaded, ${s.unchanged} unchanged, ${s.failed} failed; ${s.events} events stored` +
        (s.replaced > 0 ? ` (${s.replaced} replacing events of other files)` : '') +
        ` in ${s.seconds.toFixed(2)} s; the catalogue holds ${countEvents(db, {})} events`,
    );
    return s.failed;
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------- load-sac

/** SAC files → archive miniSEED + index + synthesized channel epochs + events (index/sacIngest.ts); returns the number of failed files. */
async function runLoadSac(io: CliIo, paths: string[], dbPath: string, archiveDir: string, network: string | undefined): Promise<number> {
  const { openIndexDb } = await import('./index/db');
  const { ingestSac } = await import('./index/sacIngest');
  fs.mkdirSync(path.dirname(dbPath), { recursive: true });
  const db = openIndexDb(dbPath);
  try {
    const s = await ingestSac(db, paths, { archiveDir, defaultNetwork: network });
    for (const w of s.written) log(io, `${w.status}: ${w.sacFile} -> ${w.mseedFile} (${w.records} records)`);
    for (const n of s.notes) warn(io, `note: ${n.sacFile}: ${n.note}`);
    for (const e of s.errors) warn(io, `error: ${e.sacFile}: ${e.reason}`);
    if (s.index) reportIndex(io, s.index);
    const dayCount = (status: string) => s.written.filter((w) => w.status === status).length;
    log(
      io,
      `sac: ${s.files - s.errors.length} file(s) read (day files: ${dayCount('written')} written, ${dayCount('unchanged')} unchanged, ${dayCount('duplicate')} duplicate), ${s.errors.length} failed` +
        (s.skipped.length > 0 ? `, ${s.skipped.length} non-SAC file(s) skipped` : '') +
        `; ${s.channelsSynthesized} channel epoch(s) synthesized, ${s.eventsSeeded} event(s) seeded`,
    );
    return s.errors.length;
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------- serve

/** --workers N, else io.defaultWorkers (CPU count for the real process), else 1. */
function workersFor(io: CliIo, p: Parsed): number {
  const n = int(p, 'workers');
  if (n !== undefined) {
    if (n < 1 || n > 256) throw new UsageError('--workers must be 1..256');
    return n;
  }
  return Math.max(1, io.defaultWorkers ?? 1);
}

/**
 * Cluster primary: N workers (node:cluster, sharing the listening socket) each run `serve` with
 * their own read-only database connection. Reports the address once all listen; SIGINT/SIGTERM
 * (or io.signal) stop every worker gracefully; a worker that dies while serving is restarted.
 */
async function servePrimary(io: CliIo, cfg: NodeConfig, workers: number): Promise<number> {
  const shownHost = cfg.host === '0.0.0.0' || cfg.host === '::' ? 'localhost' : cfg.host;
  cluster.setupPrimary({
    exec: __filename,
    // Every flag-settable value goes to the workers (the environment is passed on as it is).
    args: ['serve', '--workers', '1', '--port', String(cfg.port), '--host', cfg.host, '--db', cfg.dbPath, '--data-root', cfg.dataRoot, '--tiles', cfg.tilesDir],
  });
  return new Promise<number>((resolve) => {
    let stopping = false;
    let listening = 0;
    let reported = false;
    let code = 0;
    const live = new Set<import('node:cluster').Worker>();
    const fork = (): void => {
      const w = cluster.fork({ ...io.env });
      live.add(w);
      let up = false;
      w.once('listening', (addr) => {
        up = true;
        if (++listening === workers && !reported) {
          reported = true;
          const url = `http://${shownHost}:${addr.port}`;
          log(io, `geonode serving ${url}/ (fdsnws dataselect, station, event, availability) with ${workers} workers (index ${cfg.dbPath}, data root ${cfg.dataRoot}); Ctrl-C to stop`);
          io.onListening?.(url, addr.port);
        }
      });
      w.once('exit', (exitCode, sig) => {
        live.delete(w);
        if (!stopping) {
          if (up) {
            warn(io, `geonode: worker ${w.process.pid} exited (${sig ?? exitCode}), restarting it`);
            listening--;
            fork();
            return;
          }
          // A worker that never listened (port taken, bad db): give up.
          code = 1;
          stop(`worker failed to start (exit ${sig ?? exitCode})`);
        }
        if (live.size === 0) finish();
      });
    };
    const finish = (): void => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(code);
    };
    const stop = (why: string): void => {
      if (stopping) return;
      stopping = true;
      log(io, `geonode: ${why}, stopping ${live.size} workers`);
      for (const w of live) w.process.kill('SIGTERM');
      if (live.size === 0) finish();
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    if (io.handleSignals) {
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
    }
    for (let i = 0; i < workers; i++) fork();
    if (io.signal?.aborted) stop('stopped');
    io.signal?.addEventListener('abort', () => stop('stopped'), { once: true });
  });
}

/** Why host:port cannot be listened on right now (null: it can, or port 0 / invalid, which serve reports). */
function listenProblem(host: string, port: number): Promise<string | null> {
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return Promise.resolve(null);
  return new Promise((resolve) => {
    const s = http.createServer();
    s.once('error', (e) => resolve((e as Error).message));
    s.listen(port, host, () => s.close(() => resolve(null)));
  });
}

async function serve(io: CliIo, cfg: NodeConfig, workers = 1): Promise<number> {
  if (!Number.isInteger(cfg.port) || cfg.port < 0 || cfg.port > 65535) {
    warn(io, `geonode: invalid port ${cfg.port} (check GEONODE_PORT / PORT)`);
    return 1;
  }
  if (!fs.existsSync(cfg.dbPath)) {
    warn(io, `geonode: index database ${cfg.dbPath} not found (run "geonode index ARCHIVE --db ${cfg.dbPath}" or "geonode start")`);
    return 1;
  }
  if (workers > 1 && cluster.isPrimary) return servePrimary(io, cfg, workers);
  const { openIndexDb } = await import('./index/db');
  const { createApp } = await import('./app');
  const { createDataselectFastPath } = await import('./fdsnws/dataselect');
  // The app only reads; a readonly connection cannot lock out a concurrent indexer.
  const db = openIndexDb(cfg.dbPath, { readonly: true });
  const app = createApp({ db, config: cfg });
  // dataselect GET /query answers with data are served without express; everything else
  // (and any request the fast path declines) goes to the express app.
  const fast = createDataselectFastPath({ db, config: cfg });
  let server: Server;
  try {
    server = await new Promise<Server>((resolve, reject) => {
      const s = http.createServer((req, res) => {
        const handled = fast(req, res);
        if (handled === false) void app(req, res);
        else handled.then((ok) => (ok ? undefined : app(req, res)), () => app(req, res));
      });
      s.once('error', reject);
      s.listen(cfg.port, cfg.host, () => resolve(s));
    });
  } catch (e) {
    db.close();
    warn(io, `geonode: cannot listen on ${cfg.host}:${cfg.port}: ${(e as Error).message}`);
    // A cluster worker must go away so that its primary sees the failure (its IPC channel would keep it alive).
    if (cluster.isWorker) process.disconnect?.();
    return 1;
  }
  const port = (server.address() as AddressInfo).port;
  const shownHost = cfg.host === '0.0.0.0' || cfg.host === '::' ? 'localhost' : cfg.host;
  const url = `http://${shownHost}:${port}`;
  // In a cluster the primary reports the address once.
  if (!cluster.isWorker) log(io, `geonode serving ${url}/ (fdsnws dataselect, station, event, availability; index ${cfg.dbPath}, data root ${cfg.dataRoot}); Ctrl-C to stop`);
  io.onListening?.(url, port);

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (why: string) => {
      if (stopping) return;
      stopping = true;
      log(io, `geonode: ${why}, shutting down`);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      // Finish in-flight responses, drop idle keep-alive sockets; force after 10 s.
      const force = setTimeout(() => server.closeAllConnections(), 10_000);
      force.unref();
      server.close(() => {
        clearTimeout(force);
        resolve();
      });
      server.closeIdleConnections();
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    if (io.handleSignals) {
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
    }
    if (io.signal?.aborted) stop('stopped');
    io.signal?.addEventListener('abort', () => stop('stopped'), { once: true });
  });
  db.close();
  // A cluster worker's IPC channel would keep it alive after the server closed.
  if (cluster.isWorker) process.disconnect?.();
  return 0;
}

// ---------------------------------------------------------------- commands

const COMMANDS: CommandSpec[] = [
  {
    name: 'generate',
    args: '',
    summary: 'write the demo archive (or a benchmark archive) as SDS miniSEED',
    minPositionals: 0,
    maxPositionals: 0,
    flags: {
      out: { type: 'string', value: 'DIR', help: 'target directory (default: GEONODE_ARCHIVE or ./archive)' },
      days: { type: 'int', value: 'N', help: 'days of data (demo default 3, centred on 2020-09-12)' },
      size: { type: 'string', value: 'SIZE', help: 'demo (default) | bench-small (~50 MB) | bench-large (~1.6 GB)' },
      files: { type: 'int', value: 'N', help: 'benchmark: about N small files (per-file indexing cost)' },
      force: { type: 'boolean', help: 'replace an archive generated earlier in DIR' },
      stations: { type: 'string', value: 'LIST', help: 'demo: only these stations (STA, NET.STA or NET.STA.LOC, comma-separated)' },
      window: { type: 'string', value: 'START,END', help: 'testing: only samples in this time window' },
      workers: { type: 'int', value: 'N', help: 'worker threads (default 2 on a multi-core machine)' },
      'no-products': { type: 'boolean', help: 'demo: skip the products inputs (DIR/products: geomag, AEF, VLF); the default with --stations or --window' },
      products: { type: 'boolean', help: 'demo: write the products inputs also with --stations or --window (they are not cut to either)' },
      'products-lead-days': { type: 'int', value: 'N', help: 'demo: products start N days before the seismic days (default 21: the anomaly scores need 15 baseline days)' },
      help: HELP_FLAG,
    },
    details:
      'The demo mirrors the stations II.ERM (00 at 20 Hz, 10 at 40 Hz) and JP.JKA, JMM, JSD, JTM, JYT\n' +
      '(20 Hz) with BHZ/BHN/BHE, synthetic noise and earthquakes including the 2020-09-12 M6.2 off\n' +
      'Miyagi, a few gaps and one overlap. DIR/truth.json lists all of it; DIR/events.txt is the catalogue.\n' +
      'Products (DIR/products): 1 s + 1 min geomagnetic (KAK, KNY, MMB), AEF and VLF inputs from 21 days before the\n' +
      'seismic days to their end, with 7 injected anomalies, a storm and rain; DIR/products/truth.json lists them.\n' +
      'DIR must be empty (README.md and dot files aside) or hold an archive generated earlier: the generator\n' +
      'overwrites files of the same names, so it refuses a directory holding anything else.',
    async run(p, io) {
      const cfg = configFor(io, p);
      const dir = str(p, 'out') !== undefined ? resolveFrom(io, str(p, 'out')!) : cfg.archiveDir;
      const summary = await runGenerate(dir, generateOptions(p), io);
      log(io, generateSummaryLine(summary));
      return 0;
    },
  },
  {
    name: 'index',
    args: 'ARCHIVE...',
    summary: 'index miniSEED files/directories into the SQLite tsindex (incremental)',
    minPositionals: 1,
    maxPositionals: Infinity,
    flags: {
      db: { type: 'string', value: 'FILE', help: 'index database (default: GEONODE_DB or var/geonode.sqlite)' },
      'relative-to': { type: 'string', value: 'DIR', help: 'store file names relative to DIR (default absolute)' },
      help: HELP_FLAG,
    },
    details:
      'Any tree (SDS or not); hidden entries are skipped. Unchanged files (size + mtime) are skipped, changed ones\n' +
      're-scanned, and rows of files gone from under ARCHIVE are deleted (only when the file is really gone: a\n' +
      'directory that cannot be read or a broken symlink is reported and keeps its rows). A file reached by two\n' +
      'names (symlink, hard link) is indexed once. Corrupt records are reported with file and byte offset and the\n' +
      'rest of the file is indexed; files without miniSEED are listed as skipped. Exit code 0 even with such reports.',
    async run(p, io) {
      const cfg = configFor(io, p);
      const relativeTo = str(p, 'relative-to');
      const summary = await runIndex(io, p.positionals.map((r) => resolveFrom(io, r)), cfg.dbPath, relativeTo === undefined ? undefined : resolveFrom(io, relativeTo));
      reportIndex(io, summary);
      return 0;
    },
  },
  {
    name: 'load-metadata',
    args: 'FILE|DIR...',
    summary: 'load FDSN StationXML (1.0-1.2) into the index database for fdsnws-station',
    minPositionals: 1,
    maxPositionals: Infinity,
    flags: {
      db: { type: 'string', value: 'FILE', help: 'index database (default: GEONODE_DB or var/geonode.sqlite)' },
      help: HELP_FLAG,
    },
    details:
      'Directories are searched for *.xml and *.stationxml files. A file loaded again replaces what it\n' +
      'loaded before; an unchanged file (same SHA-256) is skipped. Where files describe the same epoch,\n' +
      'the file loaded last wins. Exit code 1 if any file could not be loaded (the others still are).',
    async run(p, io) {
      const cfg = configFor(io, p);
      const failed = await runLoadMetadata(io, p.positionals.map((r) => resolveFrom(io, r)), cfg.dbPath);
      return failed > 0 ? 1 : 0;
    },
  },
  {
    name: 'load-events',
    args: 'FILE|DIR...',
    summary: 'load an event catalogue (QuakeML 1.2, FDSN event text, lists) for fdsnws-event',
    minPositionals: 1,
    maxPositionals: Infinity,
    flags: {
      db: { type: 'string', value: 'FILE', help: 'index database (default: GEONODE_DB or var/geonode.sqlite)' },
      catalog: { type: 'string', value: 'NAME', help: 'catalog name recorded on every event (default: from the file)' },
      contributor: { type: 'string', value: 'NAME', help: 'contributor name recorded on every event (default: from the file)' },
      'depth-unit': { type: 'string', value: 'm|km', help: 'unit of QuakeML depth values (default m as the standard; km for old IRIS output)' },
      force: { type: 'boolean', help: 'reload files even when unchanged' },
      help: HELP_FLAG,
    },
    details:
      'QuakeML is recognised by its leading "<"; other files are FDSN event text (13 or 14 columns) or\n' +
      'lists of "date time lat lon depth mag [magtype] [name]" lines (or CSV with a header). Directories\n' +
      'are searched for *.xml, *.qml, *.txt and *.csv. A changed file replaces what it loaded before; an\n' +
      'unchanged one (same SHA-256 and options) is skipped. An event loaded again (same publicID, or\n' +
      'same event id and origin times within 5 min) replaces the earlier one; a different event with an\n' +
      'id already taken (catalogues number events independently) is stored as ID_2 (ID_3, ...), with a\n' +
      'note. Bad lines are reported (file:line: reason) and skipped. A QuakeML file whose depths are all\n' +
      'below 1 km while it has M >= 5 events gets a note naming --depth-unit km. Exit code 1\n' +
      'if any file could not be loaded at all (the others still are).',
    async run(p, io) {
      const cfg = configFor(io, p);
      const depthUnit = str(p, 'depth-unit');
      if (depthUnit !== undefined && depthUnit !== 'm' && depthUnit !== 'km') throw new UsageError('--depth-unit must be m or km', 'load-events');
      const failed = await runLoadEvents(io, p.positionals.map((r) => resolveFrom(io, r)), cfg.dbPath, {
        catalog: str(p, 'catalog'),
        contributor: str(p, 'contributor'),
        depthUnit: depthUnit as 'm' | 'km' | undefined,
        force: p.flags.force === true,
      });
      return failed > 0 ? 1 : 0;
    },
  },
  {
    name: 'load-sac',
    args: 'FILE|DIR...',
    summary: 'convert SAC files to miniSEED in the archive, index them, add channel epochs and events',
    minPositionals: 1,
    maxPositionals: Infinity,
    flags: {
      db: { type: 'string', value: 'FILE', help: 'index database (default: GEONODE_DB or var/geonode.sqlite)' },
      archive: { type: 'string', value: 'DIR', help: 'archive the miniSEED files are written to (default: GEONODE_ARCHIVE or ./archive)' },
      network: { type: 'string', value: 'XX', help: 'network code for files without knetwk (default XX)' },
      help: HELP_FLAG,
    },
    details:
      'Both byte orders, header versions 6 and 7. Samples go to SDS files YEAR/NET/STA/CHA.D/\n' +
      'NET.STA.LOC.CHA.D.YEAR.DOY.sac-<source hash>.<content hash> (one per source file and day; Steim-2 for integer samples,\n' +
      'float32 otherwise) and are indexed. A SAC file loaded again replaces its files (unchanged ones\n' +
      'are not touched; a changed day takes its old file\'s place in the index in one step, safe while serving).\n' +
      'A channel epoch is synthesized from stla/stlo/stel/stdp/cmpaz/cmpinc unless\n' +
      'loaded StationXML already covers the data (StationXML loaded later replaces it); evla/evlo/o seed\n' +
      'a catalogue event. Directories are\n' +
      'searched recursively; non-SAC files there are skipped. Exit code 1 if any SAC file failed.',
    async run(p, io) {
      const cfg = configFor(io, p);
      const network = str(p, 'network');
      if (network !== undefined && !/^[A-Za-z0-9]{1,2}$/.test(network)) throw new UsageError('--network must be 1-2 letters or digits', 'load-sac');
      const failed = await runLoadSac(io, p.positionals.map((r) => resolveFrom(io, r)), cfg.dbPath, cfg.archiveDir, network);
      return failed > 0 ? 1 : 0;
    },
  },
  {
    name: 'ingest',
    args: '[DIR...]',
    summary: 'ingest IAGA-2002 / AEF / ISEE VLF files into raw + standardized Parquet product tiles',
    minPositionals: 0,
    maxPositionals: Infinity,
    flags: {
      tiles: { type: 'string', value: 'DIR', help: 'tile root (default: GEONODE_TILES or var/tiles)' },
      db: { type: 'string', value: 'FILE', help: 'SQLite file for the input table geonode_product_inputs (default: GEONODE_DB or var/geonode.sqlite)' },
      config: { type: 'string', value: 'FILE', help: 'JSON overrides of the product parameters (Hampel, max gap, seismic window, …; src/products/config.ts; default: GEONODE_PRODUCTS_CONFIG)' },
      seismic: { type: 'boolean', help: 'also write per-minute seismic tiles (RMS and mean-abs about the minute mean, mean, sample count) from the waveform index in --db, incremental per station-day' },
      'data-root': { type: 'string', value: 'DIR', help: 'with --seismic: resolve relative index file names against DIR (default: GEONODE_DATA_ROOT or /)' },
      force: { type: 'boolean', help: 're-process inputs even when unchanged' },
      help: HELP_FLAG,
    },
    details:
      'DIR... (files or directories) are needed unless --seismic is given (seismic tiles only).\n' +
      'Inputs are detected by name and content: *.sec|*.min|*.hor|*.day IAGA-2002 (geomag), kak*daef.min|hor (AEF;\n' +
      'also IAGA-2002 whose comments name the potential gradient or whose X/Y/F are entirely 88888),\n' +
      'isee_vlf_*.cdf or any CDF (v2/v3) with an epoch_vlf variable (VLF; other CDFs in a directory are not inputs,\n' +
      'a *.cdf that is not a CDF is reported). Unchanged inputs (same sha256 and parameters, tiles present) are\n' +
      'skipped; a bad file, broken symlink or unreadable file is reported and skipped (exit 1 when any failed);\n' +
      'reader warnings are printed and kept with the input (geonode_product_inputs.reason).\n' +
      'Inputs that share a tile (files split at noon, definitive + variation, daily files in a month tile) are\n' +
      'merged into it. Inputs recorded under a DIR given whose files are gone (deleted, renamed) are let go: their\n' +
      'rows leave the tiles (tiles they shared with other inputs of the run are rebuilt from those; a tile shared\n' +
      'with inputs outside the DIRs given keeps its rows, with a warning).\n' +
      'Tiles: TILES/layer=raw|std/source=…/station=…/cadence=…/date=…/part-0.parquet. One ingest or analyze writes\n' +
      'a tile root at a time (TILES/.geonode-writer.lock): another one on the same TILES is refused (exit 1).',
    async run(p, io) {
      if (p.positionals.length === 0 && p.flags.seismic !== true) throw new UsageError('"ingest" needs DIR... (or --seismic for seismic tiles only)', 'ingest');
      const cfg = configFor(io, p);
      const tilesDir = cfg.tilesDir;
      const { ingest } = await import('./products/ingest');
      const { loadProductsConfig } = await import('./products/config');
      const config = loadProductsConfig(str(p, 'config') !== undefined ? resolveFrom(io, str(p, 'config')!) : io.env.GEONODE_PRODUCTS_CONFIG);
      fs.mkdirSync(path.dirname(cfg.dbPath), { recursive: true });
      return withTileWriterLock(io, tilesDir, 'ingest', async () => {
        const bar = new ProgressLine(io.stderr, 'ingest', 'files');
        const s = await ingest(
          p.positionals.map((r) => resolveFrom(io, r)),
          { tilesDir, db: cfg.dbPath, config, force: p.flags.force === true, onProgress: (st) => bar.update(st) },
        );
        bar.clear();
        for (const f of s.failed) warn(io, `geonode: ingest: ${f.file}: ${f.reason}`);
        for (const w of s.warnings) warn(io, `geonode: ingest: warning: ${w.file}: ${w.reason}`);
        let seismicNote = '';
        let seismicFailed = 0;
        if (p.flags.seismic === true) {
          const { seismicProducts } = await import('./products/seismic');
          const { openIndexDb } = await import('./index/db');
          const db = openIndexDb(cfg.dbPath);
          try {
            const r = seismicProducts(db, { tilesDir, dataRoot: cfg.dataRoot, config, force: p.flags.force === true });
            for (const f of r.failed) warn(io, `geonode: ingest: ${f.file}: ${f.reason}`);
            seismicNote = `, seismic: ${r.days - r.skipped} station-day(s) → ${r.tiles.length} tile(s), ${r.skipped} unchanged${r.removed ? `, ${r.removed} tile(s) removed` : ''}${r.failed.length ? `, ${r.failed.length} problem(s)` : ''}`;
            seismicFailed = r.failed.length;
          } finally {
            db.close();
          }
        }
        log(
          io,
          `ingest: ${s.files} input(s): ${s.processed} processed${s.warnings.length ? ` (${new Set(s.warnings.map((w) => w.file)).size} with warnings)` : ''}, ${s.skipped} unchanged, ${s.superseded ? `${s.superseded} superseded, ` : ''}${s.failed.length} failed; ` +
            `${s.tilesWritten} tile(s) (${s.rawTiles} raw, ${s.stdTiles} std), ${s.inputRows} input rows, ${formatBytes(s.inputBytes)} read, ` +
            `${formatBytes(s.tileBytes)} written${s.removedTiles ? `, ${s.removedTiles} stale tile(s) removed` : ''}${s.removedInputs ? `, ${s.removedInputs} removed input(s) let go` : ''} in ${s.seconds.toFixed(1)} s${seismicNote} → ${tilesDir}`,
        );
        return s.failed.length + seismicFailed > 0 ? 1 : 0;
      });
    },
  },
  {
    name: 'analyze',
    args: '',
    summary: 'features → anomaly scores → event association over the product tiles (incremental by day)',
    minPositionals: 0,
    maxPositionals: 0,
    flags: {
      tiles: { type: 'string', value: 'DIR', help: 'tile root (default: GEONODE_TILES or var/tiles)' },
      db: { type: 'string', value: 'FILE', help: 'index database with events/metadata; run tables and geonode_associations go here (default: GEONODE_DB or var/geonode.sqlite)' },
      'data-root': { type: 'string', value: 'DIR', help: 'resolve relative index file names against DIR (seismic features; default: GEONODE_DATA_ROOT or /)' },
      'skip-features': { type: 'boolean', help: 'score the existing feature tiles only' },
      threshold: { type: 'string', value: 'Z', help: 'flag |z| at or above Z (default 3)' },
      'min-features': { type: 'int', value: 'N', help: 'flag only when N features of a row reach the threshold, near-copies (a minute\'s field mean/min/max) counted once (default 2; 1 = bare max|z|)' },
      force: { type: 'boolean', help: 'recompute everything, not only changed days' },
      dst: { type: 'string', value: 'FILES', help: 'Dst index files, comma-separated (WDC format as Kyoto serves it, or "ISO-time value" lines): a day with Dst <= -50 nT is a storm day' },
      kp: { type: 'string', value: 'FILES', help: 'Kp index files, comma-separated (GFZ Kp_ap_since_1932.txt layout, or "ISO-time value" lines): a day with Kp >= 4 is a storm day' },
      help: HELP_FLAG,
    },
    details:
      'Storm days: where --dst/--kp cover a day, the indices decide (products-methods §2); elsewhere a coherent\n' +
      'dB/dt of >= 0.5 nT/s at the 1 s geomagnetic stations (median over >= 2 stations) marks the hour and its day.\n' +
      'Every row of a storm day is disturbed: kept out of the baselines and never flagged.\n' +
      'Scores: robust z over a trailing 30-day baseline (>= 15 valid days), storm and non-fair-weather days excluded\n' +
      '(src/products/scores.ts); a row is flagged when >= 2 of its features reach |z| >= 3 → TILES/layer=score/…;\n' +
      'association of every located catalogue event with the stations\n' +
      'inside its Dobrovolsky radius → table geonode_associations. Unchanged inputs are skipped; days whose std tiles\n' +
      'are gone (ingest let go of a removed input) leave the feature tiles, and their score tiles and association\n' +
      'rows follow. A tile root without product tiles (no layer=std or layer=feat) is refused (exit 1) when the\n' +
      'database records feature runs of an earlier analyze (a mistyped --tiles), unless --force. While another ingest\n' +
      'or analyze writes the same tile root, analyze is refused (exit 1).',
    async run(p, io) {
      const cfg = configFor(io, p);
      const tilesDir = cfg.tilesDir;
      const thr = str(p, 'threshold');
      if (thr !== undefined && !(Number(thr) > 0)) throw new UsageError('--threshold must be a positive number', 'analyze');
      const minFeatures = int(p, 'min-features');
      if (minFeatures !== undefined && minFeatures < 1) throw new UsageError('--min-features must be at least 1', 'analyze');
      const indices = { dst: indexFiles(io, p, 'dst'), kp: indexFiles(io, p, 'kp') };
      // A mistyped tile root must not look like "every input removed": the run state and the
      // association table live in the database and would be rewritten from nothing. A first run
      // (no feature runs recorded) may start from an empty root: seismic features come from the
      // waveform index alone.
      const earlierRuns = tilesDir && !['std', 'feat'].some((l) => fs.existsSync(path.join(tilesDir, `layer=${l}`))) && p.flags.force !== true ? featureRunsIn(cfg.dbPath) : 0;
      if (earlierRuns > 0) {
        warn(
          io,
          `geonode analyze: ${tilesDir} holds no product tiles (no layer=std or layer=feat), but ${cfg.dbPath} records ${earlierRuns} feature run(s) of an earlier analyze: ` +
            'check --tiles / GEONODE_TILES (--force starts this tile root afresh)',
        );
        return 1;
      }
      const { analyze } = await import('./products/analyze');
      fs.mkdirSync(path.dirname(cfg.dbPath), { recursive: true });
      return withTileWriterLock(io, tilesDir, 'analyze', async () => {
        const bars = { features: new ProgressLine(io.stderr, 'features', 'units'), scores: new ProgressLine(io.stderr, 'scores', 'datasets'), association: new ProgressLine(io.stderr, 'association', 'events') };
        let stage: keyof typeof bars | null = null;
        const s = await analyze({
          tilesDir,
          db: cfg.dbPath,
          dataRoot: cfg.dataRoot,
          force: p.flags.force === true,
          skipFeatures: p.flags['skip-features'] === true,
          indices,
          scoreParams: { ...(thr !== undefined ? { threshold: Number(thr) } : {}), ...(minFeatures !== undefined ? { minFeatures } : {}) },
          onProgress: (st) => {
            if (stage !== st.stage) {
              if (stage) bars[stage].clear();
              stage = st.stage;
            }
            bars[st.stage].update({ done: st.done, total: st.total });
          },
        });
        if (stage) bars[stage as keyof typeof bars].clear();
        const f = s.features;
        // Each failed unit with its reason, as ingest and the loaders name theirs.
        for (const u of f.failures) warn(io, `geonode: analyze: ${u.unit}: ${u.reason}`);
        log(
          io,
          `analyze: features ${f.available ? `${f.computed} computed, ${f.skipped} unchanged, ${f.failed} failed${f.removed ? `, ${f.removed} day(s) without inputs removed` : ''}` : f.note}; ` +
            `scores: ${s.scores.datasets} dataset(s), ${s.scores.skipped} unchanged, ${s.scores.tilesWritten} tile(s), ${s.scores.daysScored} day(s) scored, ${s.scores.flagged} flagged${s.scores.removedTiles ? `, ${s.scores.removedTiles} stale tile(s) removed` : ''}; ` +
            `association: ${s.association.events} event(s), ${s.association.rows} row(s), ${s.association.withAnomalies} with anomalies${s.association.removedRows ? `, ${s.association.removedRows} stale row(s) removed` : ''}; ${s.seconds.toFixed(1)} s → ${tilesDir}`,
        );
        return f.failed > 0 ? 1 : 0;
      });
    },
  },
  {
    name: 'serve',
    args: '',
    summary: 'serve the FDSN web services, /products and the dashboard from an index and product tiles',
    minPositionals: 0,
    maxPositionals: 0,
    flags: {
      port: { type: 'int', value: 'N', help: 'TCP port (default: GEONODE_PORT, PORT or 8080)' },
      host: { type: 'string', value: 'H', help: 'listen address (default: GEONODE_HOST or 0.0.0.0)' },
      db: { type: 'string', value: 'FILE', help: 'index database (default: GEONODE_DB or var/geonode.sqlite)' },
      'data-root': { type: 'string', value: 'DIR', help: 'resolve relative file names against DIR (default: GEONODE_DATA_ROOT or /)' },
      tiles: { type: 'string', value: 'DIR', help: 'product tiles for /products (default: GEONODE_TILES or var/tiles)' },
      workers: { type: 'int', value: 'N', help: 'server processes sharing the port (default: number of CPUs; 1 = single process)' },
      help: HELP_FLAG,
    },
    details:
      'With N > 1 a primary process starts N workers (node:cluster), each with its own read-only\nindex connection; SIGINT/SIGTERM stop them gracefully (in-flight responses finish).\n' +
      'Environment only: GEONODE_MAX_BYTES (dataselect 413 limit in bytes, 0 = none), GEONODE_MAX_SAMPLES\n' +
      '(/products sample budget, default 345600), GEONODE_PUBLIC_URL (WADL base), GEONODE_USERS,\n' +
      'GEONODE_RESTRICTED, GEONODE_AUTH_REALM (restricted data, see README).',
    async run(p, io) {
      return serve(io, configFor(io, p), workersFor(io, p));
    },
  },
  {
    name: 'start',
    args: '',
    summary: 'first run: generate the demo archive (once), index it, load its StationXML and events, ingest and analyse its products, serve it',
    minPositionals: 0,
    maxPositionals: 0,
    flags: {
      port: { type: 'int', value: 'N', help: 'TCP port (default: GEONODE_PORT, PORT or 8080)' },
      host: { type: 'string', value: 'H', help: 'listen address (default: GEONODE_HOST or 0.0.0.0)' },
      archive: { type: 'string', value: 'DIR', help: 'archive directory (default: GEONODE_ARCHIVE or ./archive)' },
      db: { type: 'string', value: 'FILE', help: 'index database (default: GEONODE_DB or var/geonode.sqlite)' },
      tiles: { type: 'string', value: 'DIR', help: 'product tiles (default: GEONODE_TILES or var/tiles)' },
      workers: { type: 'int', value: 'N', help: 'server processes sharing the port (default: number of CPUs; 1 = single process)' },
      help: HELP_FLAG,
    },
    details:
      'Generation is skipped when ARCHIVE/truth.json exists, and when ARCHIVE holds files the generator did\n' +
      'not write (anything but README.md and dot files): such an archive is indexed and served as it is,\n' +
      'never overwritten. Indexing only scans new or changed files.\n' +
      'StationXML files in ARCHIVE (*.xml, e.g. the demo stations.xml) are loaded for fdsnws-station.\n' +
      'ARCHIVE/events.txt (the demo catalogue, FDSN event text) is loaded for fdsnws-event.\n' +
      'ARCHIVE/products (geomag, AEF, VLF inputs) is ingested into the tiles and analysed (as `ingest --seismic`\n' +
      'then `analyze`), so /products serves data, features, anomaly scores and event associations.',
    async run(p, io) {
      const cfg = configFor(io, p);
      // A busy port is found now, not after minutes of generating, indexing and analysing.
      const busy = await listenProblem(cfg.host, cfg.port);
      if (busy !== null) {
        warn(io, `geonode: cannot listen on ${cfg.host}:${cfg.port}: ${busy}`);
        return 1;
      }
      const foreign = fs.existsSync(path.join(cfg.archiveDir, 'truth.json')) ? [] : foreignArchiveEntries(cfg.archiveDir);
      if (fs.existsSync(path.join(cfg.archiveDir, 'truth.json'))) {
        log(io, `archive ${cfg.archiveDir} already generated (truth.json present), not regenerating`);
      } else if (foreign.length > 0) {
        // An operator's archive (GEONODE_ARCHIVE is also where load-sac writes): served as it is,
        // never overwritten by demo files of the same names.
        log(io, `archive ${cfg.archiveDir} holds data the demo generator did not write (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}): serving it as it is, no demo generated`);
      } else {
        log(io, `generating the demo archive in ${cfg.archiveDir} (first run only; ~1–2 min on 2 cores) …`);
        log(io, generateSummaryLine(await runGenerate(cfg.archiveDir, {}, io)));
      }
      // Index the SDS top-level (YEAR) folders, not the archive root: truth.json, events.txt and
      // README.md beside them are not miniSEED and would be reported as errors.
      const roots = fs
        .readdirSync(cfg.archiveDir, { withFileTypes: true })
        .filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== 'products') // products/: IAGA-2002/CDF inputs, not miniSEED
        .map((e) => path.join(cfg.archiveDir, e.name));
      log(io, `indexing ${cfg.archiveDir} into ${cfg.dbPath} …`);
      reportIndex(io, await runIndex(io, roots.length > 0 ? roots : [cfg.archiveDir], cfg.dbPath, undefined));
      // StationXML beside the data (the generator writes stations.xml) → fdsnws-station. A demo
      // archive generated before the generator wrote it gets it now (same constants).
      const { DEMO_STATIONXML_NAME, writeDemoStationXml } = await import('./demo/stationxml');
      if (!fs.existsSync(path.join(cfg.archiveDir, DEMO_STATIONXML_NAME)) && isDemoArchive(cfg.archiveDir)) writeDemoStationXml(cfg.archiveDir);
      const inventories = fs
        .readdirSync(cfg.archiveDir, { withFileTypes: true })
        .filter((e) => e.isFile() && /\.xml$/i.test(e.name))
        .map((e) => path.join(cfg.archiveDir, e.name));
      if (inventories.length > 0) {
        log(io, `loading station metadata ${inventories.map((f) => path.basename(f)).join(', ')} …`);
        await runLoadMetadata(io, inventories, cfg.dbPath);
      }
      // The demo catalogue (FDSN event text the generator writes) → fdsnws-event; unchanged = skipped.
      const eventsFile = path.join(cfg.archiveDir, 'events.txt');
      if (fs.existsSync(eventsFile)) {
        log(io, `loading events ${path.basename(eventsFile)} …`);
        await runLoadEvents(io, [eventsFile], cfg.dbPath);
      }
      // Products: ingest the geomag/AEF/VLF inputs into tiles, then features → scores →
      // association. Both steps skip unchanged inputs, so later starts are quick.
      const productsDir = path.join(cfg.archiveDir, 'products');
      if (fs.existsSync(productsDir)) {
        const passOn = { db: cfg.dbPath, tiles: cfg.tilesDir, 'data-root': cfg.dataRoot };
        log(io, `ingesting products ${productsDir} into ${cfg.tilesDir} …`);
        await commandNamed('ingest').run({ positionals: [productsDir], flags: { ...passOn, seismic: true } }, io);
        log(io, 'analysing products (features, anomaly scores, event association) …');
        await commandNamed('analyze').run({ positionals: [], flags: passOn }, io);
      }
      return serve(io, cfg, workersFor(io, p));
    },
  },
];

/**
 * The files of analyze's --dst / --kp: each must read and hold index values (the parsers skip
 * lines they do not know, so a wrong file would otherwise just change nothing).
 */
function indexFiles(io: CliIo, p: Parsed, flag: 'dst' | 'kp'): string[] | undefined {
  const list = str(p, flag);
  if (list === undefined) return undefined;
  const { parseDst, parseKp } = require('./products/features/storm') as typeof import('./products/features/storm');
  return list.split(',').filter((f) => f.trim() !== '').map((f) => {
    const file = resolveFrom(io, f.trim());
    let text: string;
    try {
      text = fs.readFileSync(file, 'latin1');
    } catch (e) {
      throw new UsageError(`--${flag} ${file}: ${(e as Error).message}`, 'analyze');
    }
    if ((flag === 'dst' ? parseDst(text) : parseKp(text)).values.size === 0) {
      throw new UsageError(`--${flag} ${file}: no ${flag === 'dst' ? 'Dst' : 'Kp'} values found (${flag === 'dst' ? 'WDC format' : 'GFZ Kp_ap_since_1932 layout'} or "ISO-time value" lines)`, 'analyze');
    }
    return file;
  });
}

/**
 * Run `work` holding the writer lock of the tile root (src/products/tileLock.ts): a second
 * ingest/analyze on the same tiles is refused (exit 1) instead of losing the other's rows.
 */
async function withTileWriterLock(io: CliIo, tilesDir: string, command: string, work: () => Promise<number>): Promise<number> {
  const { lockTileRoot, sweepTileTemps, TileRootBusyError } = await import('./products/tileLock');
  let release: () => void;
  try {
    release = lockTileRoot(tilesDir, command);
  } catch (e) {
    if (!(e instanceof TileRootBusyError)) throw e;
    warn(io, `geonode ${command}: ${e.message}`);
    return 1;
  }
  try {
    const swept = sweepTileTemps(tilesDir);
    if (swept > 0) log(io, `${command}: removed ${swept} temp file(s) left by an interrupted run`);
    return await work();
  } finally {
    release();
  }
}

/** Feature units an earlier analyze recorded in the database (0 when none, or no database yet). */
function featureRunsIn(dbPath: string): number {
  if (!fs.existsSync(dbPath)) return 0;
  const Database = require('better-sqlite3') as typeof import('better-sqlite3');
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const t = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'geonode_feature_runs'").get();
    return t ? (db.prepare('SELECT count(*) AS n FROM geonode_feature_runs').get() as { n: number }).n : 0;
  } finally {
    db.close();
  }
}

/** A command of the table above, for `start`, which chains several of them. */
function commandNamed(name: string): CommandSpec {
  const c = COMMANDS.find((x) => x.name === name);
  if (!c) throw new Error(`no command ${name}`);
  return c;
}

function commandHelp(c: CommandSpec): string {
  const lines = [`usage: geonode ${c.name}${c.args ? ' ' + c.args : ''} [options]`, '', c.summary, '', 'options:'];
  const names = Object.entries(c.flags).map(([n, f]) => [`--${n}${f.type === 'boolean' ? '' : ' ' + (f.value ?? 'VALUE')}`, f.help]);
  const w = Math.max(...names.map(([n]) => n.length));
  for (const [n, h] of names) lines.push(`  ${n.padEnd(w)}  ${h}`);
  if (c.details) lines.push('', c.details);
  return lines.join('\n') + '\n';
}

export function usage(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: geonode <command> [options]',
    '',
    'FDSN-compatible geophysical data node.',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    `  ${'help'.padEnd(w)}  show help for a command`,
    '',
    'Run "geonode <command> --help" for its options. Flags override GEONODE_* environment',
    'variables, which override defaults. Exit codes: 0 ok, 1 failure, 2 usage error.',
    '',
  ].join('\n');
}

function version(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function defaultIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), handleSignals: true, defaultWorkers: os.availableParallelism() };
}

/** Run the CLI; resolves to the exit code (never calls process.exit). */
export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help') {
    (first === undefined ? io.stderr : io.stdout).write(usage());
    return first === undefined ? 2 : 0;
  }
  if (first === '--version' || first === '-V') {
    log(io, version());
    return 0;
  }
  if (first === 'help') {
    const c = COMMANDS.find((x) => x.name === rest[0]);
    io.stdout.write(c ? commandHelp(c) : usage());
    return c || rest.length === 0 ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.name === first);
  try {
    if (!command) throw new UsageError(`unknown command "${first}"`);
    const parsed = parseArgs(rest, command);
    if (parsed.help) {
      io.stdout.write(commandHelp(command));
      return 0;
    }
    return await command.run(parsed, io);
  } catch (e) {
    if (e instanceof UsageError) {
      warn(io, `geonode: ${e.message}`);
      const c = COMMANDS.find((x) => x.name === e.command);
      io.stderr.write('\n' + (c ? commandHelp(c) : usage()));
      return 2;
    }
    if (e instanceof GenerateError) {
      warn(io, `geonode: ${e.message}`);
      return 1;
    }
    // The stack only on request: runtime failures are usually environment problems (disk, port).
    const detail = e instanceof Error ? (io.env.GEONODE_DEBUG ? (e.stack ?? e.message) : e.message) : String(e);
    warn(io, `geonode: ${command?.name ?? first} failed: ${detail}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`geonode: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
