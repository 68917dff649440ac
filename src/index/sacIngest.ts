/**
 * SAC ingestion: SAC files → miniSEED in the archive (indexed for dataselect/availability), a
 * synthesized channel epoch for fdsnws-station where the metadata store has none, and a
 * catalogue event where the header carries one.
 *
 * Choices (why):
 *  - Codes: knetwk/kstnm/khole/kcmpnm. An undefined network becomes `defaultNetwork` ('XX', the
 *    FDSN code for "no network"); an undefined location stays blank; station and channel are
 *    required, and codes must fit miniSEED 2 (2/5/2/3 characters, letters/digits/_/-), else the
 *    file is reported and skipped.
 *  - Sample rate: SAC stores delta as float32, so 1/delta is rarely the nominal rate
 *    (II.TLY: delta 0.05000016 → 19.99994 Hz). The rate is snapped to the nearest "nominal"
 *    value (integer Hz, integer period, or 3 decimals) when within 1e-4 relative; the encoder
 *    then writes an exact factor/multiplier instead of an odd blockette-100 rate, and the
 *    archive agrees with StationXML's nominal SampleRate. Otherwise the exact rate is kept.
 *  - Encoding: Steim-2 when every sample is an int32 integer (lossless, ~3x smaller), float32
 *    otherwise (SAC samples are float32, so that is lossless too). miniSEED 2.4, 512-byte
 *    records, quality D.
 *  - Layout and idempotency: SDS path `YEAR/NET/STA/CHA.D/NET.STA.LOC.CHA.D.YEAR.DOY`, split at
 *    UTC day boundaries, with the suffix `.sac-<hash8>.<hash8>` (sha256 of the absolute SAC path,
 *    then of the file's bytes): one file per source and day, so a re-ingest REPLACES that file
 *    (identical bytes → the same name, not touched, so the indexer sees nothing new) and never
 *    appends a second copy. A changed day gets a new name and takes the old file's place in the
 *    index in one transaction (readers plan one version or the other, never old offsets against
 *    new bytes); the old file is deleted at the end of the run. Days the source no longer covers
 *    leave the index, then lose their file. A day whose records are byte-identical to another file of
 *    the same channel/day (e.g. the same SAC in the other byte order) is not written again
 *    ('duplicate'), so dataselect never serves the same records twice; when that other file
 *    leaves in the same run (its source changed), the day is written after all. Limitations:
 *    when a source's header codes change, its files under the old codes are not found (remove
 *    them); a duplicate's twin replaced in a run that does not include the duplicate's SAC file
 *    takes those records along (load both again).
 *  - Index: the channel folders touched are indexed with indexArchive (incremental, prunes
 *    vanished files under them).
 *  - Metadata (source `sac:<abs path>`, replaced on every ingest of that file): a channel epoch
 *    [first sample, last sample] from stla/stlo/stel/stdp, cmpaz (azimuth), cmpinc − 90 (dip),
 *    kinst (sensor) — only when no other source has an epoch of that channel covering the data
 *    (real StationXML wins; loaded later, it removes the synthesized epoch it covers, see
 *    metadata.ts dropSupersededSacEpochs), and only when stla/stlo are defined (a station at 0°,0° would be
 *    worse than none). The epoch hangs under the stored station/network epoch covering the data
 *    when there is one (copied unchanged, so the merge by key keeps them identical); otherwise a
 *    station epoch spanning the data of this and every overlapping SAC file of the station
 *    (their epochs are widened to match, so the components are one station) and an open
 *    network epoch are created.
 *  - Events (source `sac:<abs path>` in the event store): evla, evlo and o defined → one event
 *    with evdp (km; metres above 1000, see formats/sac.ts) and mag/imagtyp. Its id is kevnm when
 *    that is a plain token, else `sac-<hash8 of origin time and epicentre>`, so the files of one
 *    event at several stations seed ONE catalogue entry (the store keeps one event per id).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { encodeRecords, sampleTimeNs } from '../formats/mseed';
import { createEvent, type CatalogEvent, type Magnitude } from '../formats/quakeml';
import { readSac, sacIsIntegral, SacError, type SacFile } from '../formats/sac';
import type { Channel, Inventory, Network, Station } from '../formats/stationxml';
import { listEventSources, SAC_EVENT_PREFIX, storeEvents } from './events';
import { forgetIndexedFiles, indexArchive } from './indexer';
import { loadInventory, queryMetadata, removeMetadataSource, widenSacStationEpochs, type MetadataSelection } from './metadata';
import type { IndexSummary } from './types';

export interface SacIngestOptions {
  /** Archive root the miniSEED files are written under (SDS layout). */
  archiveDir: string;
  /** Network code for files whose knetwk is undefined (default 'XX'). */
  defaultNetwork?: string;
  /** Store index file names relative to this directory (as `index --relative-to`); default absolute. */
  relativeTo?: string;
  /** Indexer threads (default 0: in this thread; SAC files are small). */
  workers?: number;
  /** Synthesize channel epochs (default true). */
  synthesizeChannels?: boolean;
  /** Seed catalogue events (default true). */
  seedEvents?: boolean;
  /** Load time for metadata/events (tests). */
  now?: Date;
}

export interface SacWritten {
  sacFile: string;
  /** The file holding the records (for 'duplicate': the existing identical file). */
  mseedFile: string;
  records: number;
  /** written = new or replaced; unchanged = identical file already there; duplicate = identical records in another file. */
  status: 'written' | 'unchanged' | 'duplicate';
}

export interface SacIngestSummary {
  /** SAC files read (or attempted). */
  files: number;
  written: SacWritten[];
  /** Channel epochs (re)loaded into the metadata store ('unchanged' reloads not counted). */
  channelsSynthesized: number;
  /** Events stored (unchanged ones not counted). */
  eventsSeeded: number;
  /** Per-file problems; the file was skipped (nothing of it stored). */
  errors: Array<{ sacFile: string; reason: string }>;
  /** Files that were ingested with a caveat (no coordinates → no channel epoch, …). */
  notes: Array<{ sacFile: string; note: string }>;
  /** Directory entries that are not SAC files (not errors). */
  skipped: string[];
  /** Result of indexing the touched channel folders (undefined when nothing was touched). */
  index?: IndexSummary;
}

/** Relative tolerance for snapping 1/delta to a nominal rate. */
export const NOMINAL_RATE_TOLERANCE = 1e-4;

/**
 * Nominal sample rate for a SAC delta: integer Hz, else an integer period, else 3 decimals, the
 * first within NOMINAL_RATE_TOLERANCE of 1/delta; else 1/delta itself.
 */
export function nominalSampleRate(delta: number): number {
  const rate = 1 / delta;
  const candidates = [Math.round(rate), 1 / Math.round(delta), Math.round(rate * 1000) / 1000];
  for (const c of candidates) {
    if (c > 0 && Number.isFinite(c) && Math.abs(rate - c) / c <= NOMINAL_RATE_TOLERANCE) return c;
  }
  return rate;
}

const CODE_RE = /^[A-Za-z0-9_-]*$/;
const WIDTH = { network: 2, station: 5, location: 2, channel: 3 } as const;

interface Codes {
  network: string;
  station: string;
  location: string;
  channel: string;
}

function codesOf(sac: SacFile, defaultNetwork: string): Codes {
  const network = sac.network === '' ? defaultNetwork : sac.network;
  // '--' is how FDSN writes a blank location; some SAC writers copy it into khole.
  const location = sac.location === '--' ? '' : sac.location;
  const codes: Codes = { network, station: sac.station, location, channel: sac.channel };
  if (codes.station === '') throw new SacError('no station code (kstnm undefined)');
  if (codes.channel === '') throw new SacError('no channel code (kcmpnm undefined)');
  for (const k of Object.keys(WIDTH) as Array<keyof Codes>) {
    const v = codes[k];
    if (!CODE_RE.test(v)) throw new SacError(`${k} code ${JSON.stringify(v)} has characters not allowed in miniSEED/SDS names`);
    if (v.length > WIDTH[k]) throw new SacError(`${k} code ${JSON.stringify(v)} is longer than ${WIDTH[k]} characters (miniSEED 2)`);
  }
  return codes;
}

const DAY_NS = 86_400_000_000_000n;

/** UTC year and day-of-year of an epoch-ns time. */
function yearDoy(ns: bigint): { year: number; doy: number } {
  const d = new Date(Number(ns / 1_000_000n));
  const year = d.getUTCFullYear();
  return { year, doy: Math.floor((Date.UTC(year, d.getUTCMonth(), d.getUTCDate()) - Date.UTC(year, 0, 1)) / 86_400_000) + 1 };
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

/** [first, end) sample index ranges per UTC day. */
function daySplits(startNs: bigint, rate: number, n: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let i = 0;
  while (i < n) {
    const t = sampleTimeNs(startNs, rate, i);
    const midnight = (floorDiv(t, DAY_NS) + 1n) * DAY_NS;
    // First index at or after midnight: estimate, then correct for rounding.
    let j = Math.max(i + 1, Math.ceil((Number(midnight - startNs) / 1e9) * rate));
    while (j > i + 1 && sampleTimeNs(startNs, rate, j - 1) >= midnight) j--;
    while (j < n && sampleTimeNs(startNs, rate, j) < midnight) j++;
    out.push([i, Math.min(j, n)]);
    i = Math.min(j, n);
  }
  return out;
}

/** Expand FILE|DIR arguments (directories recursively, sorted, hidden entries skipped). */
function expand(paths: readonly string[]): Array<{ file: string; fromDir: boolean }> {
  const out: Array<{ file: string; fromDir: boolean }> = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push({ file: p, fromDir: true });
    }
  };
  for (const p of paths) {
    const abs = path.resolve(p);
    if (fs.existsSync(abs) && fs.statSync(abs).isDirectory()) walk(abs);
    else out.push({ file: abs, fromDir: false });
  }
  return out;
}

const hash8 = (s: string) => crypto.createHash('sha256').update(s).digest('hex').slice(0, 8);

/** Does `file` hold exactly `bytes`? (A file another process removed meanwhile does not.) */
function sameBytes(file: string, bytes: Buffer): boolean {
  try {
    return fs.statSync(file).size === bytes.length && fs.readFileSync(file).equals(bytes);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** Write `data` to `file` atomically (hidden temp file + rename: the indexer never sees half a file). */
function writeAtomic(file: string, data: Buffer): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true }); // a full disk keeps no hidden half-written file (the indexer skips dot files)
    throw e;
  }
}

/** Ingest SAC files/directories. Never throws for bad input files: they are listed in `errors`. */
export async function ingestSac(db: Database.Database, paths: readonly string[], opts: SacIngestOptions): Promise<SacIngestSummary> {
  const archive = path.resolve(opts.archiveDir);
  const defaultNetwork = opts.defaultNetwork ?? 'XX';
  const summary: SacIngestSummary = { files: 0, written: [], channelsSynthesized: 0, eventsSeeded: 0, errors: [], notes: [], skipped: [] };
  const touched = new Set<string>();
  const ingested: Array<{ file: string; sac: SacFile; codes: Codes; rate: number }> = [];
  const perFile: IndexSummary[] = [];
  /** Day files no SAC file covers any more: taken out of the index, then deleted (at the end). */
  const stale: string[] = [];
  /** Superseded versions of day files, already out of the index: deleted at the end (readers may still hold them). */
  const retired: string[] = [];

  const names = new DayFileNames();
  /** Write one SAC file's days and bring the index up to date with them. */
  const store = async (file: string, sac: SacFile, codes: Codes, rate: number): Promise<SacWritten[]> => {
    const days = writeDays(archive, names, file, sac, codes, rate);
    for (const w of days.written) touched.add(path.dirname(w.mseedFile));
    stale.push(...days.stale);
    retired.push(...days.replaced);
    // The index follows each file at once, and a day's new version (a new file name) takes
    // the old one's place in the same transaction: a reader plans the old file or the new
    // one, never old offsets against new bytes (only the day files written are read: a
    // rescan of their directories per SAC file grew with the square of the files).
    const fresh = days.written.filter((w) => w.status === 'written').map((w) => w.mseedFile);
    if (fresh.length > 0 || days.replaced.length > 0) {
      perFile.push(await indexArchive(db, fresh, { workers: 0, relativeTo: opts.relativeTo, pruneMissing: false, rebuildSummary: false, replaces: days.replaced }));
    }
    return days.written;
  };

  for (const { file, fromDir } of expand(paths)) {
    const fail = (e: unknown) => summary.errors.push({ sacFile: file, reason: e instanceof Error ? e.message : String(e) });
    let buf: Buffer;
    let sac: SacFile;
    let codes: Codes;
    try {
      buf = fs.readFileSync(file);
      sac = readSac(buf);
    } catch (e) {
      // In a directory, a file that is not SAC at all (README, …) is skipped, not an error.
      if (fromDir && e instanceof SacError && /^not a SAC file/.test(e.message)) summary.skipped.push(file);
      else {
        summary.files++;
        fail(e);
      }
      continue;
    }
    summary.files++;
    try {
      codes = codesOf(sac, defaultNetwork);
      if (sac.startNs === null) throw new SacError('no reference time (nzyear … nzmsec undefined)');
      if (sac.npts === 0) throw new SacError('no samples (npts = 0)');
    } catch (e) {
      fail(e);
      continue;
    }
    const rate = nominalSampleRate(sac.delta);
    try {
      summary.written.push(...(await store(file, sac, codes, rate)));
      ingested.push({ file, sac, codes, rate });
    } catch (e) {
      fail(e);
    }
  }
  // A source stored as a duplicate of a day file that a later source of this run let go of
  // (that source changed) would lose its records with that file: it is stored again, now
  // without that twin (a day written the first time stays reported as written).
  const leaving = new Set([...retired, ...stale]);
  for (const it of ingested) {
    const before = summary.written.filter((w) => w.sacFile === it.file);
    if (!before.some((w) => w.status === 'duplicate' && leaving.has(w.mseedFile))) continue;
    try {
      const again = await store(it.file, it.sac, it.codes, it.rate);
      const firstWritten = new Set(before.filter((w) => w.status === 'written').map((w) => w.mseedFile));
      for (const w of again) if (w.status === 'unchanged' && firstWritten.has(w.mseedFile)) w.status = 'written';
      const at = summary.written.findIndex((w) => w.sacFile === it.file);
      summary.written = summary.written.filter((w) => w.sacFile !== it.file);
      summary.written.splice(at, 0, ...again);
    } catch (e) {
      summary.errors.push({ sacFile: it.file, reason: e instanceof Error ? e.message : String(e) });
    }
  }

  // Before the last pass (which would index them again): versions the index has already let go
  // of, and days no SAC file covers (out of the index first, then deleted).
  for (const f of retired) fs.rmSync(f, { force: true });
  if (stale.length > 0) {
    forgetIndexedFiles(db, stale, opts.relativeTo);
    for (const f of stale) fs.rmSync(f, { force: true });
  }
  if (touched.size > 0) {
    // A last pass over every directory touched (nothing left to do but reporting and pruning).
    const last = await indexArchive(db, [...touched].sort(), { workers: opts.workers ?? 0, relativeTo: opts.relativeTo, pruneMissing: true });
    for (const f of perFile) {
      last.filesSkipped = Math.max(0, last.filesSkipped - f.filesScanned); // indexed just before, not "unchanged"
      last.filesScanned += f.filesScanned;
      last.filesRemoved += f.filesRemoved;
      last.records += f.records;
      last.bytes += f.bytes;
      last.sections += f.sections;
      last.seconds += f.seconds;
      last.errors.push(...f.errors);
      last.notMiniseed.push(...f.notMiniseed);
      last.aliases.push(...f.aliases);
    }
    summary.index = last;
  }
  if (summary.index) summary.index.filesRemoved += stale.length + retired.length;

  const now = opts.now ?? new Date();
  const eventSources = opts.seedEvents === false ? new Map<string, string>() : new Map(listEventSources(db).map((s) => [s.path, s.sha256]));
  for (const it of ingested) {
    const source = `sac:${it.file}`;
    if (opts.synthesizeChannels !== false) synthesizeChannel(db, it, source, now, summary);
    if (opts.seedEvents !== false) seedEvent(db, it.sac, source, eventSources, now, summary);
  }
  return summary;
}

/**
 * The archive's day-file names of the directories this run writes in, kept current as files are
 * written or let go, and listed again only when the directory changed under us (its mtime: another
 * process wrote or removed a file). Listing a directory per day written grew with the square of
 * the files in it (a year of hourly SAC files in one folder). Names are grouped by day
 * (`NET.STA.LOC.CHA.D.YEAR.DOY`) and by SAC source tag (`sac-<hash8>`).
 */
class DayFileNames {
  private readonly dirs = new Map<string, { mtimeMs: number; byDay: Map<string, Set<string>>; byTag: Map<string, Set<string>> }>();
  /** Files let go in this run (deleted at its end): never listed again. */
  private readonly leaving = new Set<string>();

  private static parts(name: string): { day: string; tag: string | undefined } {
    const p = name.split('.');
    return { day: p.slice(0, 7).join('.'), tag: p.length > 7 && p[7].startsWith('sac-') ? p[7] : undefined };
  }

  private dir(dir: string) {
    const mtimeMs = fs.statSync(dir).mtimeMs;
    let d = this.dirs.get(dir);
    if (!d || d.mtimeMs !== mtimeMs) {
      d = { mtimeMs, byDay: new Map(), byTag: new Map() };
      this.dirs.set(dir, d);
      for (const name of fs.readdirSync(dir)) if (!this.leaving.has(path.join(dir, name))) this.put(d, name);
    }
    return d;
  }

  private put(d: { byDay: Map<string, Set<string>>; byTag: Map<string, Set<string>> }, name: string): void {
    const { day, tag } = DayFileNames.parts(name);
    const add = (m: Map<string, Set<string>>, k: string) => (m.get(k) ?? m.set(k, new Set()).get(k)!).add(name);
    add(d.byDay, day);
    if (tag) add(d.byTag, tag);
  }

  /** Names of one day's files in `dir` (`day` = NET.STA.LOC.CHA.D.YEAR.DOY). */
  ofDay(dir: string, day: string): string[] {
    return [...(this.dir(dir).byDay.get(day) ?? [])];
  }

  /** Names in `dir` written from one SAC source (`tag` = sac-<hash8>). */
  ofTag(dir: string, tag: string): string[] {
    return [...(this.dir(dir).byTag.get(tag) ?? [])];
  }

  /**
   * A file this run just wrote: the directory's new mtime is ours (a change by another process
   * between listing the day and this write is missed, as a listing per day missed one).
   */
  add(file: string): void {
    const dir = path.dirname(file);
    const d = this.dirs.get(dir) ?? this.dir(dir);
    this.put(d, path.basename(file));
    d.mtimeMs = fs.statSync(dir).mtimeMs;
  }

  /** A file leaving the archive in this run: no longer a twin or a version to find. */
  remove(file: string): void {
    this.leaving.add(file);
    const d = this.dirs.get(path.dirname(file));
    if (!d) return;
    const name = path.basename(file);
    const { day, tag } = DayFileNames.parts(name);
    d.byDay.get(day)?.delete(name);
    if (tag) d.byTag.get(tag)?.delete(name);
  }
}

/**
 * Encode and write (or skip) one file per UTC day. A day's file is named by its content
 * (`….sac-<source>.<content>`), so a new version never overwrites the file a reader may be
 * reading: `replaced` lists the versions it supersedes (swapped out of the index with the new
 * file's rows, then deleted by the caller), `stale` this source's files of days it no longer covers.
 * Both are dropped from `names` at once, so no later source of the run takes them as its twin.
 */
function writeDays(archive: string, names: DayFileNames, sacFile: string, sac: SacFile, c: Codes, rate: number): { written: SacWritten[]; replaced: string[]; stale: string[] } {
  const encoding = sacIsIntegral(sac.data) ? 'steim2' : 'float32';
  const tag = `sac-${hash8(sacFile)}`;
  const own = (name: string, base: string) => name === `${base}.${tag}` || name.startsWith(`${base}.${tag}.`);
  const out: SacWritten[] = [];
  const replaced: string[] = [];
  const mine = new Set<string>();
  const dirs = new Set<string>();
  for (const [a, b] of daySplits(sac.startNs!, rate, sac.npts)) {
    const t0 = sampleTimeNs(sac.startNs!, rate, a);
    const { year, doy } = yearDoy(t0);
    const recs = encodeRecords(
      { network: c.network, station: c.station, location: c.location, channel: c.channel, quality: 'D', startNs: t0, sampleRate: rate },
      sac.data.subarray(a, b),
      { formatVersion: 2, encoding, recordLength: 512 },
    );
    const bytes = Buffer.concat(recs);
    const dir = path.join(archive, String(year), c.network, c.station, `${c.channel}.D`);
    const base = `${c.network}.${c.station}.${c.location}.${c.channel}.D.${year}.${String(doy).padStart(3, '0')}`;
    const target = path.join(dir, `${base}.${tag}.${crypto.createHash('sha256').update(bytes).digest('hex').slice(0, 8)}`);
    fs.mkdirSync(dir, { recursive: true });
    dirs.add(dir);
    const sameDay = names.ofDay(dir, base);
    const previous = sameDay.filter((f) => own(f, base) && f !== path.basename(target)).map((f) => path.join(dir, f));
    if (sameBytes(target, bytes)) {
      mine.add(target);
      replaced.push(...previous);
      out.push({ sacFile, mseedFile: target, records: recs.length, status: 'unchanged' });
      continue;
    }
    // Same records already archived from another source (same SAC in another byte order, a copy elsewhere)?
    const twin = sameDay
      .filter((f) => !own(f, base))
      .map((f) => path.join(dir, f))
      .find((f) => sameBytes(f, bytes));
    if (twin) {
      out.push({ sacFile, mseedFile: twin, records: recs.length, status: 'duplicate' });
      continue;
    }
    writeAtomic(target, bytes);
    names.add(target);
    mine.add(target);
    replaced.push(...previous);
    out.push({ sacFile, mseedFile: target, records: recs.length, status: 'written' });
  }
  // Days this source covered before but not now (or now duplicates of another file).
  const stale: string[] = [];
  const gone = new Set(replaced);
  for (const dir of dirs) {
    for (const f of names.ofTag(dir, tag)) {
      const p = path.join(dir, f);
      if (!mine.has(p) && !gone.has(p)) stale.push(p);
    }
  }
  for (const f of [...replaced, ...stale]) names.remove(f);
  return { written: out, replaced, stale };
}

function synthesizeChannel(db: Database.Database, it: { file: string; sac: SacFile; codes: Codes; rate: number }, source: string, now: Date, summary: SacIngestSummary): void {
  const { sac, codes, rate } = it;
  const startNs = sac.startNs!;
  const endNs = sampleTimeNs(startNs, rate, sac.npts - 1);
  if (sac.stla === null || sac.stlo === null) {
    removeMetadataSource(db, source);
    summary.notes.push({ sacFile: it.file, note: 'no station coordinates (stla/stlo undefined): no channel epoch synthesized' });
    return;
  }
  const sel = (station: string, location: string, channel: string): MetadataSelection[] => [
    { network: [codes.network], station: [station], location: [location], channel: [channel], startNs, endNs },
  ];
  const covers = (e: { startNs: bigint | null; endNs: bigint | null }) => (e.startNs === null || e.startNs <= startNs) && (e.endNs === null || e.endNs >= endNs);
  // Another source (StationXML, another SAC file) already describes the channel for this span.
  const existing = queryMetadata(db, { selections: sel(codes.station, codes.location, codes.channel), level: 'channel', excludeSources: [source] });
  if (existing.networks.some((n) => n.stations.some((s) => s.channels.some(covers)))) {
    removeMetadataSource(db, source);
    return;
  }
  const channel: Channel = {
    location: codes.location,
    code: codes.channel,
    startNs,
    endNs,
    restrictedStatus: null,
    description: `Synthesized from SAC file ${path.basename(it.file)}`,
    lat: sac.stla,
    lon: sac.stlo,
    elevation: sac.stel ?? 0,
    depth: sac.stdp ?? 0,
    azimuth: sac.cmpaz,
    dip: sac.dip,
    types: [],
    sampleRate: rate,
    clockDrift: null,
    sensorDescription: sac.header.strings.kinst,
    sensitivity: null,
    responseXml: null,
    responseStageCount: 0,
    dataAvailability: null,
    attributes: [],
    extras: [],
  };
  // Parents covering the data from other sources are reused as they are (same key, same content).
  const stas = queryMetadata(db, { selections: sel(codes.station, '*', '*'), level: 'station', excludeSources: [source] });
  let network: Network | undefined;
  let station: Station | undefined;
  for (const n of stas.networks) {
    const s = covers(n) ? n.stations.find(covers) : undefined;
    if (s) {
      network = { ...n, totalNumberStations: null, stations: [] };
      station = { ...s, totalNumberChannels: null, channels: [] };
      break;
    }
  }
  if (!network) {
    const nets = queryMetadata(db, { selections: sel('*', '*', '*'), level: 'network', excludeSources: [source] });
    const n = nets.networks.find(covers);
    if (n) network = { ...n, totalNumberStations: null, stations: [] };
  }
  network ??= { code: codes.network, description: null, startNs: null, endNs: null, restrictedStatus: null, totalNumberStations: null, stations: [], attributes: [], extras: [] };
  // A station of SAC files only: its epoch spans the data of all its overlapping files.
  const span = station ? null : widenSacStationEpochs(db, codes.network, codes.station, startNs, endNs, source, now);
  station ??= {
    code: codes.station,
    startNs: span!.startNs,
    endNs: span!.endNs,
    restrictedStatus: null,
    description: null,
    lat: sac.stla,
    lon: sac.stlo,
    elevation: sac.stel ?? 0,
    siteName: codes.station,
    site: { name: codes.station },
    creationDateNs: null,
    terminationDateNs: null,
    totalNumberChannels: null,
    channels: [],
    attributes: [],
    extras: [],
  };
  station.channels.push(channel);
  network.stations.push(station);
  const inv: Inventory = { schemaVersion: null, source: 'GeoNode', sender: 'GeoNode', module: 'GeoNode load-sac', moduleUri: null, createdNs: null, sourceName: path.basename(it.file), networks: [network] };
  const r = loadInventory(db, inv, source, now);
  if (r.status !== 'unchanged') summary.channelsSynthesized++;
}

/** SAC imagtyp enumeration → magnitude type. */
const MAG_TYPES: Record<number, string> = { 52: 'mb', 53: 'Ms', 54: 'ML', 55: 'Mw', 56: 'Md', 57: 'Mx' };

function seedEvent(db: Database.Database, sac: SacFile, source: string, known: Map<string, string>, now: Date, summary: SacIngestSummary): void {
  let events: CatalogEvent[] = [];
  if (sac.evla !== null && sac.evlo !== null && sac.originNs !== null) {
    const kevnm = sac.header.strings.kevnm;
    const id = kevnm && /^[A-Za-z0-9._-]{1,64}$/.test(kevnm) ? kevnm : `sac-${hash8(`${sac.originNs}|${sac.evla.toFixed(4)}|${sac.evlo.toFixed(4)}`)}`;
    const base = SAC_EVENT_PREFIX + id;
    const origin = { publicId: `${base}/origin`, timeNs: sac.originNs, lat: sac.evla, lon: sac.evlo, depthKm: sac.evdpKm ?? undefined, arrivals: [] };
    const imagtyp = sac.header.ints.imagtyp;
    const magnitudes: Magnitude[] =
      sac.mag === null ? [] : [{ publicId: `${base}/magnitude`, value: Math.round(sac.mag * 1000) / 1000, type: imagtyp !== null ? MAG_TYPES[imagtyp] : undefined, originId: origin.publicId }];
    events = [createEvent({ publicId: base, eventId: id, origins: [origin], magnitudes })];
  }
  // Digest over what is stored: an unchanged file leaves the store (and `updated`) untouched.
  const digest = crypto.createHash('sha256').update(JSON.stringify(events, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))).digest('hex');
  const prev = known.get(source);
  if (prev === digest || (prev === undefined && events.length === 0)) return;
  const r = storeEvents(db, source, digest, '{"sac":1}', events, BigInt(now.getTime()) * 1_000_000n);
  known.set(source, digest);
  summary.eventsSeeded += r.stored;
}
