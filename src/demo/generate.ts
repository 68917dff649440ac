/**
 * `geonode generate`: write the demo (or a benchmark) archive as an SDS tree of 512-byte
 * Steim-2 miniSEED 2.4 records, plus truth.json (what was written, gaps, overlap, events,
 * arrivals) and, for the demo, events.txt (FDSN event text format).
 *
 *   DIR/YEAR/NET/STA/CHA.D/NET.STA.LOC.CHA.D.YEAR.DOY
 *
 * One task writes one channel-day file. Samples are synthesised and encoded one hour at a time
 * (streaming, bounded memory), so even the 100 Hz benchmark never holds a whole day. With the
 * compiled JS the tasks are spread over worker threads (both cores); under ts-jest everything
 * runs in-process.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { encodeRecords } from '../formats/mseed';
import { nsToIso, parseIsoToNs } from '../formats/time';
import { BENCH_CHANNELS, BENCH_LAYOUTS, BENCH_LOCATION, BENCH_NETWORK, BENCH_RATE, BENCH_SENSITIVITY, BENCH_START_ISO, benchSource, benchStationCode, filesLayout, type BenchLayout } from './bench';
import { DEMO_EVENTS, VP_KM_S, VS_KM_S, type DemoEvent } from './quakes';
import { DEMO_GAPS, DEMO_OVERLAP, STATION_NOISE, defaultDemoStartDay, demoArrivals, demoSource, type DemoGap } from './scenario';
import { blockLength, samplePeriodNs, synthesize, type SignalSource } from './signals';
import { DEMO_STATIONS, findDemoStream, streamId, type DemoStation } from './stations';
import { writeDemoStationXml } from './stationxml';
import { generateProductsDemo, PRODUCTS_LEAD_DAYS, type ProductsSummary } from './products';

export type ArchiveSize = 'demo' | 'bench-small' | 'bench-large';
export const ARCHIVE_SIZES: readonly ArchiveSize[] = ['demo', 'bench-small', 'bench-large'];

export const RECORD_LENGTH = 512;
const DAY_NS = 86_400_000_000_000n;
/** Signal block length in files mode (files hold 120 s each). */
const FILES_BLOCK_SECONDS = 120;

/** Products range of a demo of `days` seismic days: `lead` days before them, then the same days. */
export function productsRange(days: number, lead: number): { days: number; firstDay: bigint } {
  if (!Number.isInteger(lead) || lead < 0 || lead > 366) throw new GenerateError(`products lead-in must be an integer 0..366 days, got ${lead}`);
  return { days: days + lead, firstDay: defaultDemoStartDay(days) - BigInt(lead) * DAY_NS };
}

export interface GenerateOptions {
  /** Demo: number of days, centred on the 2020-09-12 mainshock (default 3). Bench: overrides the layout's days. */
  days?: number;
  /** 'demo' (default) or a benchmark archive. */
  size?: ArchiveSize;
  /** Files mode: about this many small files (benchmark of per-file indexing cost). Overrides size. */
  files?: number;
  /** Replace an archive generated earlier in the same directory (else an error). */
  force?: boolean;
  /** Demo only: restrict to these stations (`STA`, `NET.STA` or `NET.STA.LOC`). */
  stations?: string[];
  /** Testing: write only samples within [startNs, endNs) (day files become partial). */
  window?: { startNs: bigint; endNs: bigint };
  /** Worker threads; default 2 on a multi-core machine when running compiled JS, else 1. */
  workers?: number;
  onProgress?: (p: GenerateProgress) => void;
  /**
   * Demo only: also write the products inputs (products/: geomag, AEF, VLF + truth.json) for
   * the same days. Default: on for the full demo, off with --stations/--window (test subsets).
   */
  products?: boolean;
  /**
   * Demo products only: days of products written BEFORE the seismic demo days (default
   * PRODUCTS_LEAD_DAYS = 21). Anomaly scores need a trailing baseline of ≥ 15 valid days (30-day
   * window, products-methods §6); the lead-in gives the demo 15 baseline days before its first
   * scored day, so the detector can be evaluated on the demo itself (`npm run eval`).
   */
  productsLeadDays?: number;
}

export interface GenerateProgress {
  filesDone: number;
  filesTotal: number;
  samplesDone: number;
  samplesTotal: number;
  bytesDone: number;
}

export interface GenerateSummary {
  dir: string;
  size: ArchiveSize | 'files';
  files: number;
  records: number;
  bytes: number;
  samples: number;
  channels: number;
  days: number;
  seconds: number;
  truthPath: string;
  /** Products demo (products/), when written. */
  products?: ProductsSummary;
}

/** A problem the user can fix (existing archive without --force, bad option): CLI exit 1/2. */
export class GenerateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GenerateError';
  }
}

/** One channel-day file: the sample spans to write, in order; `extra` spans are appended after. */
interface FileTask {
  kind: 'demo' | 'bench' | 'files';
  network: string;
  station: string;
  location: string;
  channel: string;
  sampleRate: number;
  file: string;
  spans: Array<[bigint, bigint]>;
  extra: Array<[bigint, bigint]>;
}

interface TaskResult {
  records: number;
  bytes: number;
  samples: number;
}

export function sdsRelativePath(network: string, station: string, location: string, channel: string, dayStartNs: bigint): string {
  const d = new Date(Number(dayStartNs / 1_000_000n));
  const year = d.getUTCFullYear();
  const doy = Math.floor((d.getTime() - Date.UTC(year, 0, 1)) / 86_400_000) + 1;
  const doyStr = String(doy).padStart(3, '0');
  return path.join(String(year), network, station, `${channel}.D`, `${network}.${station}.${location}.${channel}.D.${year}.${doyStr}`);
}

function spanSamples(span: [bigint, bigint], rate: number): number {
  return Number((span[1] - span[0]) / samplePeriodNs(rate));
}

/** First time on the sample grid at or after t. */
function ceilToGrid(t: bigint, period: bigint): bigint {
  const r = ((t % period) + period) % period;
  return r === 0n ? t : t + period - r;
}

/** [a, b) minus the given holes, all on the sample grid. */
function subtractSpans(span: [bigint, bigint], holes: Array<[bigint, bigint]>): Array<[bigint, bigint]> {
  let parts: Array<[bigint, bigint]> = [span];
  for (const [hs, he] of holes) {
    const next: Array<[bigint, bigint]> = [];
    for (const [s, e] of parts) {
      if (he <= s || hs >= e) {
        next.push([s, e]);
        continue;
      }
      if (hs > s) next.push([s, hs]);
      if (he < e) next.push([he, e]);
    }
    parts = next;
  }
  return parts;
}

function intersect(a: [bigint, bigint], b: [bigint, bigint]): [bigint, bigint] | null {
  const s = a[0] > b[0] ? a[0] : b[0];
  const e = a[1] < b[1] ? a[1] : b[1];
  return s < e ? [s, e] : null;
}

function taskSource(task: FileTask): SignalSource {
  if (task.kind === 'bench') return benchSource(task.station, task.channel);
  if (task.kind === 'files') return benchSource(task.station, task.channel, FILES_BLOCK_SECONDS);
  const s = findDemoStream(task.network, task.station, task.location, task.channel);
  if (!s) throw new Error(`not a demo channel: ${task.network}.${task.station}.${task.location}.${task.channel}`);
  return demoSource(s.station, s.channel);
}

/**
 * Write one file: each span is synthesised and encoded one signal block (hour) at a time. The
 * last record of a chunk is held back (it may be short) and its samples re-encoded with the next
 * chunk, so the file has full records except at the end of each span.
 */
function writeFileTask(task: FileTask, onSamples?: (n: number, bytes: number) => void): TaskResult {
  const src = taskSource(task);
  const period = samplePeriodNs(task.sampleRate);
  const blockLen = blockLength(src);
  fs.mkdirSync(path.dirname(task.file), { recursive: true });
  const fd = fs.openSync(task.file, 'w');
  let sequence = 1;
  const result: TaskResult = { records: 0, bytes: 0, samples: 0 };
  try {
    for (const [spanStart, spanEnd] of [...task.spans, ...task.extra]) {
      const firstIdx = Number(spanStart / period);
      const endIdx = Number(spanEnd / period);
      let nextIdx = firstIdx; // next sample not yet synthesised
      let pending = new Int32Array(0);
      let pendingIdx = firstIdx; // absolute index of pending[0]
      while (nextIdx < endIdx) {
        const chunkEnd = Math.min(endIdx, (Math.floor(nextIdx / blockLen) + 1) * blockLen);
        const fresh = synthesize(src, nextIdx, chunkEnd - nextIdx);
        nextIdx = chunkEnd;
        const samples = new Int32Array(pending.length + fresh.length);
        samples.set(pending);
        samples.set(fresh, pending.length);
        const final = nextIdx === endIdx;
        const records = encodeRecords(
          { network: task.network, station: task.station, location: task.location, channel: task.channel, startNs: BigInt(pendingIdx) * period, sampleRate: task.sampleRate },
          samples,
          { formatVersion: 2, encoding: 'steim2', recordLength: RECORD_LENGTH, startSequence: sequence },
        );
        const keep = final ? records.length : records.length - 1;
        let consumed = 0;
        for (let i = 0; i < keep; i++) consumed += records[i].readUInt16BE(30); // v2 header: number of samples
        if (keep > 0) {
          const out = Buffer.concat(records.slice(0, keep));
          fs.writeSync(fd, out);
          result.bytes += out.length;
          result.records += keep;
          sequence += keep;
        }
        pending = samples.slice(consumed);
        pendingIdx += consumed;
        result.samples += fresh.length;
        onSamples?.(fresh.length, keep * RECORD_LENGTH);
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return result;
}

interface Plan {
  size: ArchiveSize | 'files';
  days: number;
  tasks: FileTask[];
  truth: Record<string, unknown>;
  events: readonly DemoEvent[];
}

function matchesStationFilter(st: DemoStation, location: string, filter: string[] | undefined): boolean {
  if (!filter || filter.length === 0) return true;
  return filter.some((f) => {
    const parts = f.split('.');
    if (parts.length === 1) return parts[0] === st.station;
    if (parts.length === 2) return parts[0] === st.network && parts[1] === st.station;
    return parts[0] === st.network && parts[1] === st.station && (parts[2] === location || (parts[2] === '--' && location === ''));
  });
}

const iso = (ns: bigint): string => nsToIso(ns, 'auto', true);

function planDemo(dir: string, opts: GenerateOptions): Plan {
  const days = opts.days ?? 3;
  const firstDay = defaultDemoStartDay(days);
  const rangeStart = opts.window ? (opts.window.startNs > firstDay ? opts.window.startNs : firstDay) : firstDay;
  const lastDayEnd = firstDay + BigInt(days) * DAY_NS;
  const rangeEnd = opts.window ? (opts.window.endNs < lastDayEnd ? opts.window.endNs : lastDayEnd) : lastDayEnd;
  if (rangeStart >= rangeEnd) throw new GenerateError('the --window does not intersect the generated days');

  const tasks: FileTask[] = [];
  const streams: Record<string, unknown>[] = [];
  const gaps: Record<string, unknown>[] = [];
  let overlap: Record<string, unknown> | null = null;
  const stations: Record<string, unknown>[] = [];
  const arrivals: Record<string, unknown>[] = [];

  for (const st of DEMO_STATIONS) {
    const channels = st.channels.filter((c) => matchesStationFilter(st, c.location, opts.stations));
    if (channels.length === 0) continue;
    stations.push({
      network: st.network,
      station: st.station,
      siteName: st.siteName,
      latitude: st.latitude,
      longitude: st.longitude,
      elevation: st.elevation,
      noise: STATION_NOISE[`${st.network}.${st.station}`],
      channels: channels.map((c) => ({
        location: c.location,
        channel: c.channel,
        sampleRate: c.sampleRate,
        latitude: c.latitude,
        longitude: c.longitude,
        elevation: c.elevation,
        depth: c.depth,
        azimuth: c.azimuth,
        dip: c.dip,
        sensitivity: c.sensitivity,
        sensitivityFrequency: c.sensitivityFrequency,
        sensor: c.sensor,
        synthetic: c.synthetic,
      })),
    });
    for (const loc of [...new Set(channels.map((c) => c.location))]) {
      const c = channels.find((x) => x.location === loc)!;
      demoArrivals(c).forEach((a) => {
        arrivals.push({
          eventId: a.eventId,
          network: st.network,
          station: st.station,
          location: loc,
          epicentralKm: Number(a.epicentralKm.toFixed(2)),
          hypocentralKm: Number(a.hypocentralKm.toFixed(2)),
          backAzimuth: Number(a.backAzimuth.toFixed(1)),
          P: iso(a.pNs),
          S: iso(a.sNs),
        });
      });
    }
    for (const c of channels) {
      const period = samplePeriodNs(c.sampleRate);
      const codes = { network: st.network, station: st.station, location: c.location, channel: c.channel };
      const same = (g: DemoGap) => g.network === st.network && g.station === st.station && g.location === c.location && g.channel === c.channel;
      const files: string[] = [];
      let firstSample: bigint | null = null;
      let lastSample: bigint | null = null;
      for (let d = 0; d < days; d++) {
        const dayStart = firstDay + BigInt(d) * DAY_NS;
        const day = intersect([dayStart, dayStart + DAY_NS], [rangeStart, rangeEnd]);
        if (!day) continue;
        const span: [bigint, bigint] = [ceilToGrid(day[0], period), ceilToGrid(day[1], period)];
        if (span[0] >= span[1]) continue;
        const holes: Array<[bigint, bigint]> = [];
        for (const g of DEMO_GAPS.filter(same)) {
          const hole = intersect([ceilToGrid(g.startNs, period), ceilToGrid(g.endNs, period)], span);
          if (!hole) continue;
          holes.push(hole);
          gaps.push({ ...codes, start: iso(hole[0]), end: iso(hole[1]), lastSampleBefore: iso(hole[0] - period), firstSampleAfter: iso(hole[1]), missingSamples: spanSamples(hole, c.sampleRate) });
        }
        const spans = subtractSpans(span, holes);
        const extra: Array<[bigint, bigint]> = [];
        const rel = sdsRelativePath(st.network, st.station, c.location, c.channel, dayStart);
        if (same(DEMO_OVERLAP)) {
          const ov = intersect([ceilToGrid(DEMO_OVERLAP.startNs, period), ceilToGrid(DEMO_OVERLAP.endNs, period)], span);
          if (ov) {
            extra.push(ov);
            overlap = { ...codes, start: iso(ov[0]), end: iso(ov[1]), lastSample: iso(ov[1] - period), samples: spanSamples(ov, c.sampleRate), file: rel, note: DEMO_OVERLAP.note };
          }
        }
        if (spans.length > 0) {
          firstSample ??= spans[0][0];
          lastSample = spans[spans.length - 1][1] - period;
        }
        files.push(rel);
        tasks.push({ kind: 'demo', ...codes, sampleRate: c.sampleRate, file: path.join(dir, rel), spans, extra });
      }
      streams.push({ id: streamId(st.network, st.station, c.location, c.channel), ...codes, sampleRate: c.sampleRate, firstSample: firstSample === null ? null : iso(firstSample), lastSample: lastSample === null ? null : iso(lastSample), files });
    }
  }
  if (tasks.length === 0) throw new GenerateError(`no demo station matches ${opts.stations?.join(',')}`);

  const truth = {
    generator: 'geonode generate (demo)',
    truthVersion: 1,
    size: 'demo',
    format: { format: 'miniSEED 2.4', encoding: 'STEIM2', recordLength: RECORD_LENGTH, byteOrder: 'big-endian', quality: 'D', layout: 'SDS YEAR/NET/STA/CHA.D/NET.STA.LOC.CHA.D.YEAR.DOY' },
    days,
    firstDay: iso(firstDay),
    range: { start: iso(rangeStart), end: iso(rangeEnd) },
    notes: [
      'Stations, location codes, BHZ rates, coordinates and sensitivities are those of the IRIS inventory ExportBlock__stations_inventory_JP_II.xml; BHN/BHE are added by the demo (same rate, coordinates, sensitivity; azimuth 0/90, dip 0).',
      'Samples are synthetic counts: velocity noise (microseism, background, diurnal cultural) plus P/S wavetrains of the catalogue below, times the channel sensitivity. demoSamples() in src/demo/scenario.ts recomputes any window exactly.',
      'Gaps: samples with start <= t < end are missing. The overlap span is written twice (identical samples) in the listed file.',
    ],
    velocityModel: { vpKmS: VP_KM_S, vsKmS: VS_KM_S, ray: 'straight line from hypocentre to station' },
    stations,
    streams,
    gaps,
    overlap,
    events: DEMO_EVENTS.map((e) => ({ id: e.id, time: e.time + 'Z', latitude: e.latitude, longitude: e.longitude, depthKm: e.depthKm, magnitude: e.magnitude, magType: e.magType, region: e.region, real: e.real })),
    arrivals,
  };
  return { size: 'demo', days, tasks, truth, events: DEMO_EVENTS };
}

function planBench(dir: string, size: ArchiveSize | 'files', layout: BenchLayout): Plan {
  const first = parseIsoToNs(BENCH_START_ISO)!;
  const period = samplePeriodNs(BENCH_RATE);
  const tasks: FileTask[] = [];
  const streams: Record<string, unknown>[] = [];
  const max = layout.maxFiles ?? Infinity;
  outer: for (let s = 0; s < layout.stations; s++) {
    const station = benchStationCode(s);
    for (const channel of BENCH_CHANNELS) {
      const files: string[] = [];
      for (let d = 0; d < layout.days; d++) {
        if (tasks.length >= max) break outer;
        const dayStart = first + BigInt(d) * DAY_NS;
        const rel = sdsRelativePath(BENCH_NETWORK, station, BENCH_LOCATION, channel, dayStart);
        const span: [bigint, bigint] = [dayStart, dayStart + BigInt(layout.secondsPerFile) * 1_000_000_000n];
        files.push(rel);
        tasks.push({ kind: size === 'files' ? 'files' : 'bench', network: BENCH_NETWORK, station, location: BENCH_LOCATION, channel, sampleRate: BENCH_RATE, file: path.join(dir, rel), spans: [span], extra: [] });
      }
      if (files.length > 0) {
        streams.push({ id: streamId(BENCH_NETWORK, station, BENCH_LOCATION, channel), network: BENCH_NETWORK, station, location: BENCH_LOCATION, channel, sampleRate: BENCH_RATE, files });
      }
    }
  }
  const truth = {
    generator: `geonode generate (${size})`,
    truthVersion: 1,
    size,
    format: { format: 'miniSEED 2.4', encoding: 'STEIM2', recordLength: RECORD_LENGTH, byteOrder: 'big-endian', quality: 'D', layout: 'SDS YEAR/NET/STA/CHA.D/NET.STA.LOC.CHA.D.YEAR.DOY' },
    days: layout.days,
    firstDay: iso(first),
    secondsPerFile: layout.secondsPerFile,
    sensitivity: BENCH_SENSITIVITY,
    samplePeriodNs: period.toString(),
    notes: ['Benchmark archive: synthetic noise only (no events, gaps or overlaps), network XX.'],
    streams,
    gaps: [],
    overlap: null,
    events: [],
    arrivals: [],
  };
  return { size, days: layout.days, tasks, truth, events: [] };
}

/** FDSN event text format (fdsnws-event format=text), one line per event. */
export function eventsText(events: readonly DemoEvent[]): string {
  const header = '#EventID|Time|Latitude|Longitude|Depth/km|Author|Catalog|Contributor|ContributorID|MagType|Magnitude|MagAuthor|EventLocationName';
  const lines = events.map((e) =>
    [e.id, e.time, e.latitude.toFixed(4), e.longitude.toFixed(4), e.depthKm.toFixed(1), 'GEONODE-DEMO', 'DEMO', 'GEONODE-DEMO', e.id, e.magType, e.magnitude.toFixed(1), 'GEONODE-DEMO', e.region].join('|'),
  );
  return [header, ...lines].join('\n') + '\n';
}

/** Present while a generation runs (removed once truth.json is written). */
const GENERATING_MARKER = '.geonode-generating';

/**
 * Entries of `dir` that are somebody else's data: anything but README.md and dot files, unless
 * an interrupted generation left its marker. Empty when the directory does not exist.
 */
export function foreignArchiveEntries(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  if (names.includes(GENERATING_MARKER)) return [];
  return names.filter((n) => !n.startsWith('.') && n !== 'README.md').sort();
}

/** Remove what an earlier run wrote (the files listed in its truth.json), then empty folders. */
function removePrevious(dir: string): void {
  const truthPath = path.join(dir, 'truth.json');
  let files: string[] = [];
  try {
    const old = JSON.parse(fs.readFileSync(truthPath, 'utf8')) as { streams?: Array<{ files?: string[] }> };
    files = (old.streams ?? []).flatMap((s) => s.files ?? []);
  } catch {
    // Unreadable truth: nothing known to remove; files are overwritten anyway.
  }
  const parents = new Set<string>();
  for (const rel of files) {
    const abs = path.resolve(dir, rel);
    if (!abs.startsWith(path.resolve(dir) + path.sep)) continue; // never outside the archive
    fs.rmSync(abs, { force: true });
    for (let p = path.dirname(abs); p.startsWith(path.resolve(dir) + path.sep); p = path.dirname(p)) parents.add(p);
  }
  // Deepest first, and only when empty (other people's files stay).
  for (const p of [...parents].sort((a, b) => b.length - a.length)) {
    try {
      fs.rmdirSync(p);
    } catch {
      // not empty
    }
  }
  fs.rmSync(truthPath, { force: true });
  fs.rmSync(path.join(dir, 'events.txt'), { force: true });
}

function defaultWorkers(): number {
  // Workers load this file as JS; under ts-jest (a .ts file) stay in-process.
  if (!__filename.endsWith('.js')) return 1;
  return Math.max(1, Math.min(2, os.cpus().length));
}

type WorkerMessage = { type: 'progress'; samples: number; bytes: number } | { type: 'done'; result: TaskResult } | { type: 'error'; message: string };

async function runTasks(tasks: FileTask[], workers: number, onProgress: (samples: number, bytes: number, fileDone: boolean) => void): Promise<TaskResult> {
  const total: TaskResult = { records: 0, bytes: 0, samples: 0 };
  const add = (r: TaskResult) => {
    total.records += r.records;
    total.bytes += r.bytes;
    total.samples += r.samples;
  };
  if (workers <= 1 || tasks.length < 2) {
    for (const task of tasks) {
      add(writeFileTask(task, (n, b) => onProgress(n, b, false)));
      onProgress(0, 0, true);
      // Let a TTY progress line and signals through between files.
      await new Promise((r) => setImmediate(r));
    }
    return total;
  }
  let next = 0;
  const runWorker = () =>
    new Promise<void>((resolve, reject) => {
      const w = new Worker(__filename, { workerData: { geonodeGenerateWorker: true } });
      const feed = () => {
        if (next >= tasks.length) {
          void w.terminate().then(() => resolve());
          return;
        }
        w.postMessage(tasks[next++]);
      };
      w.on('message', (m: WorkerMessage) => {
        if (m.type === 'progress') onProgress(m.samples, m.bytes, false);
        else if (m.type === 'done') {
          add(m.result);
          onProgress(0, 0, true);
          feed();
        } else {
          void w.terminate();
          reject(new Error(m.message));
        }
      });
      w.on('error', reject);
      feed();
    });
  await Promise.all(Array.from({ length: Math.min(workers, tasks.length) }, runWorker));
  return total;
}

if (!isMainThread && (workerData as { geonodeGenerateWorker?: boolean } | null)?.geonodeGenerateWorker) {
  parentPort!.on('message', (task: FileTask) => {
    try {
      const result = writeFileTask(task, (samples, bytes) => parentPort!.postMessage({ type: 'progress', samples, bytes } satisfies WorkerMessage));
      parentPort!.postMessage({ type: 'done', result } satisfies WorkerMessage);
    } catch (e) {
      parentPort!.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) } satisfies WorkerMessage);
    }
  });
}

/** Generate an archive into `dir` (created if needed). See GenerateOptions. */
export async function generateDemoArchive(dir: string, opts: GenerateOptions = {}): Promise<GenerateSummary> {
  const t0 = process.hrtime.bigint();
  const root = path.resolve(dir);
  if (opts.days !== undefined && (!Number.isInteger(opts.days) || opts.days < 1 || opts.days > 366)) throw new GenerateError(`days must be an integer 1..366, got ${opts.days}`);
  if (opts.files !== undefined && (!Number.isInteger(opts.files) || opts.files < 1)) throw new GenerateError(`files must be a positive integer, got ${opts.files}`);
  const size = opts.size ?? 'demo';
  if (!ARCHIVE_SIZES.includes(size)) throw new GenerateError(`unknown size "${size}" (expected ${ARCHIVE_SIZES.join(', ')})`);

  const truthPath = path.join(root, 'truth.json');
  if (fs.existsSync(truthPath)) {
    if (!opts.force) throw new GenerateError(`${root} already holds a generated archive (truth.json); use --force to replace it`);
    removePrevious(root);
  } else {
    const foreign = foreignArchiveEntries(root);
    if (foreign.length > 0) {
      throw new GenerateError(
        `${root} holds files the generator did not write (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}); ` +
          'it overwrites same-named files, so it only writes into an empty directory or one it generated before',
      );
    }
  }
  fs.mkdirSync(root, { recursive: true });
  // Marks the directory as ours until truth.json says the run is complete, so a run
  // interrupted half-way may be repeated over its own files.
  fs.writeFileSync(path.join(root, GENERATING_MARKER), '');

  let plan: Plan;
  if (opts.files !== undefined) plan = planBench(root, 'files', filesLayout(opts.files));
  else if (size === 'demo') plan = planDemo(root, opts);
  else plan = planBench(root, size, { ...BENCH_LAYOUTS[size], ...(opts.days ? { days: opts.days } : {}) });

  const progress: GenerateProgress = {
    filesDone: 0,
    filesTotal: plan.tasks.length,
    samplesDone: 0,
    samplesTotal: plan.tasks.reduce((n, t) => n + [...t.spans, ...t.extra].reduce((m, s) => m + spanSamples(s, t.sampleRate), 0), 0),
    bytesDone: 0,
  };
  const totals = await runTasks(plan.tasks, opts.workers ?? defaultWorkers(), (samples, bytes, fileDone) => {
    progress.samplesDone += samples;
    progress.bytesDone += bytes;
    if (fileDone) progress.filesDone += 1;
    opts.onProgress?.({ ...progress });
  });

  if (plan.events.length > 0) fs.writeFileSync(path.join(root, 'events.txt'), eventsText(plan.events));
  // The demo's inventory beside its data: `geonode start` loads it for fdsnws-station.
  if (plan.size === 'demo') writeDemoStationXml(root, plan.tasks);
  const products = plan.size === 'demo' && (opts.products ?? (!opts.window && !opts.stations?.length)) ? await generateProductsDemo(root, productsRange(plan.days, opts.productsLeadDays ?? PRODUCTS_LEAD_DAYS)) : undefined;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const summary: GenerateSummary = {
    dir: root,
    size: plan.size,
    files: plan.tasks.length,
    records: totals.records,
    bytes: totals.bytes,
    samples: totals.samples,
    channels: new Set(plan.tasks.map((t) => streamId(t.network, t.station, t.location, t.channel))).size,
    days: plan.days,
    seconds,
    truthPath,
    ...(products ? { products } : {}),
  };
  // truth.json last: its presence means "complete" (`start` skips generation when it exists).
  const truth = { ...plan.truth, ...(products ? { products: 'products/truth.json' } : {}), summary: { files: summary.files, records: summary.records, bytes: summary.bytes, samples: summary.samples, channels: summary.channels } };
  fs.writeFileSync(truthPath, JSON.stringify(truth, null, 2) + '\n');
  fs.rmSync(path.join(root, GENERATING_MARKER), { force: true });
  return summary;
}
