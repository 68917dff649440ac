/**
 * The products side of the demo archive: synthetic inputs for the derived geomagnetic, AEF and
 * VLF products, written beside the seismic SDS tree by `geonode generate` (demo size):
 *
 *   products/geomag/{KAK,KNY,MMB}/iagYYYYMMDDvsec.sec, iagYYYYMMDDvmin.min   IAGA-2002
 *   products/aef/KAK/kakYYYYMMDDdaef.min (from the first month's start), kakYYYYMMdaef.hor (whole months)
 *   products/vlf/MOS/YYYY/MM/isee_vlf_mos_YYYYMMDDhh_v01.cdf   (reduced: 10-s frames, 256 bins)
 *   products/truth.json   stations, what was injected where and when, every file written
 *
 * Same days as the seismic demo (defaultDemoStartDay). Deterministic: every value depends on
 * absolute time and fixed seeds only, so runs are byte-identical and a 1-day run writes the same
 * files as the matching day of a 3-day run. What is injected comes from the data tables in
 * products/scenario.ts (storm, anomalies, weather, gaps, spikes, not-recorded elements).
 */
import fs from 'node:fs';
import path from 'node:path';
import { nsToIso } from '../formats/time';
import { writeAefFiles } from './products/aef';
import { DAY_MS, type ProductFileTruth } from './products/common';
import { writeGeomag } from './products/geomag';
import { AEF_STATION, DEFAULT_PRODUCTS_SCENARIO, GEOMAG_STATIONS, isoMs, resolveTime, VLF_STATION, type ProductSource, type ProductsScenario } from './products/scenario';
import { VLF_BINS, VLF_FILL, VLF_FRAME_SECONDS, VLF_REAL, writeVlfFiles } from './products/vlf';
import { DEMO_EVENTS, epicentralDistanceKm } from './quakes';
import { defaultDemoStartDay } from './scenario';

export { DEFAULT_PRODUCTS_SCENARIO, GEOMAG_STATIONS, AEF_STATION, VLF_STATION, resolveTime };
export type { ProductsScenario, ProductSource, ProductFileTruth };

export const PRODUCTS_DIR = 'products';
/**
 * Days of products written before the seismic demo days by `geonode generate` (demo): 15
 * baseline days (the scores' minimum) + 6 scored days before the seismic days, which hold
 * most of the scenario's injected anomalies (see scenario.ts).
 */
export const PRODUCTS_LEAD_DAYS = 21;
export const PRODUCTS_TRUTH = 'truth.json';

export interface ProductsOptions {
  /** Number of days (default 3), as the seismic demo. */
  days?: number;
  /** First UTC day (ns since epoch, or ISO); default: the seismic demo's defaultDemoStartDay(days). */
  firstDay?: bigint | string;
  /** What to inject (default DEFAULT_PRODUCTS_SCENARIO). */
  scenario?: ProductsScenario;
  /** Which sources to write (default all three). */
  sources?: ProductSource[];
}

export interface ProductsSummary {
  /** The products directory (DIR/products). */
  dir: string;
  files: number;
  bytes: number;
  bySource: Record<ProductSource, { files: number; bytes: number }>;
  seconds: number;
  truthPath: string;
}

/** Remove the files a previous products run listed in its truth.json (never anything else). */
function removePrevious(productsDir: string): void {
  const truthPath = path.join(productsDir, PRODUCTS_TRUTH);
  let rels: string[] = [];
  try {
    rels = ((JSON.parse(fs.readFileSync(truthPath, 'utf8')) as { files?: Array<{ path?: string }> }).files ?? []).map((f) => f.path ?? '').filter(Boolean);
  } catch {
    return;
  }
  const root = path.dirname(productsDir);
  for (const rel of rels) {
    const abs = path.resolve(root, rel);
    if (abs.startsWith(productsDir + path.sep)) fs.rmSync(abs, { force: true });
  }
  fs.rmSync(truthPath, { force: true });
}

const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

/** Write the products demo under DIR/products; truth.json is written last. */
export async function generateProductsDemo(dir: string, opts: ProductsOptions = {}): Promise<ProductsSummary> {
  const t0 = process.hrtime.bigint();
  const root = path.resolve(dir);
  const days = opts.days ?? 3;
  if (!Number.isInteger(days) || days < 1 || days > 366) throw new Error(`products: days must be an integer 1..366, got ${days}`);
  const firstNs = opts.firstDay === undefined ? defaultDemoStartDay(days) : typeof opts.firstDay === 'bigint' ? opts.firstDay : BigInt(Date.parse(opts.firstDay.endsWith('Z') ? opts.firstDay : opts.firstDay + 'Z')) * 1_000_000n;
  const firstDayMs = Number(firstNs / 1_000_000n);
  if (!Number.isFinite(firstDayMs) || firstDayMs % DAY_MS !== 0) throw new Error('products: firstDay must be a UTC midnight');
  const endMs = firstDayMs + days * DAY_MS;
  const scenario = opts.scenario ?? DEFAULT_PRODUCTS_SCENARIO;
  const sources = new Set<ProductSource>(opts.sources ?? ['geomag', 'aef', 'vlf']);
  const productsDir = path.join(root, PRODUCTS_DIR);
  removePrevious(productsDir);
  fs.mkdirSync(productsDir, { recursive: true });

  const files: ProductFileTruth[] = [];
  let spikes: Array<Record<string, unknown>> = [];
  let weather: Array<Record<string, unknown>> = [];
  let missingVlfFiles: string[] = [];
  if (sources.has('geomag')) {
    const g = writeGeomag(root, GEOMAG_STATIONS, scenario, firstDayMs, days);
    files.push(...g.files);
    spikes = g.spikes;
    await yieldToLoop();
  }
  if (sources.has('aef')) {
    const a = writeAefFiles(root, scenario, firstDayMs, days);
    files.push(...a.files);
    weather = a.weather.map((w) => ({ station: AEF_STATION.code, kind: w.kind, start: isoMs(w.start), end: isoMs(w.end), depthVm: w.depthVm, generated: w.generated, inDemoDays: w.start < endMs && w.end > firstDayMs }));
    await yieldToLoop();
  }
  if (sources.has('vlf')) {
    const v = writeVlfFiles(root, scenario, firstDayMs, days);
    files.push(...v.files);
    missingVlfFiles = v.missingFiles;
  }

  const inRange = (a: number, b: number) => a < endMs && b > firstDayMs;
  const mainshock = DEMO_EVENTS.find((e) => e.real) ?? DEMO_EVENTS[0];
  const coords = (code: string): { latitude: number; longitude: number } => (code === VLF_STATION.code ? VLF_STATION : GEOMAG_STATIONS.find((s) => s.code === code) ?? AEF_STATION);
  const distances = (lat: number, lon: number) => Object.fromEntries(DEMO_EVENTS.map((e) => [e.id, Math.round(epicentralDistanceKm(lat, lon, e.latitude, e.longitude))]));

  const truth = {
    generator: 'geonode generate (demo products)',
    truthVersion: 1,
    days,
    firstDay: nsToIso(firstNs, 'auto', true),
    range: { start: isoMs(firstDayMs), end: isoMs(endMs) },
    notes: [
      'SYNTHETIC data in the real file formats; values are realistic in level and cadence, not observations.',
      'Times are UTC; intervals are [start, end). Items of the scenario outside the generated days are not injected and not listed.',
      'Geomag: 1-second values per UTC day and their 1-minute boxcar means over [t-30 s, t+29 s]; a minute with > 10 % missing seconds is 99999 (88888 when the element was not recorded).',
      'AEF: PG in the Z column (V/m), X/Y/F = 88888. Minute files from the start of the first month to the last demo day; the monthly hourly file covers the whole month (hourly means stamped hh:30, > 10 % missing minutes = 99999). Negative PG under rain is valid data (see weather).',
      `VLF: REDUCED vs real ISEE files to keep the demo small: one frame per ${VLF_FRAME_SECONDS} s (real ≈ ${VLF_REAL.frameSeconds} s, ≈ ${VLF_REAL.framesPerHour} frames/hour) and ${VLF_BINS} bins (every 4th of the real ${VLF_REAL.bins}-bin axis 10 + 19.53125·k Hz). Same variables, types and attributes otherwise; ch1/ch2 GZIP-compressed.`,
      'Values depend on absolute time and fixed seeds only: runs are byte-identical, and a shorter run writes the same files for the days it shares with a longer one (except truth.json).',
    ],
    stations: {
      geomag: GEOMAG_STATIONS.map((s) => ({ code: s.code, name: s.name, latitude: s.latitude, longitude: s.longitude, elevation: s.elevation, elements: s.elements.split(''), mainField: s.mainField, sqAmplitudeNt: s.sq, stormScale: s.stormScale, deltaFNt: s.deltaF, epicentralKm: distances(s.latitude, s.longitude) })),
      aef: [{ ...AEF_STATION, quantity: 'potential gradient', units: 'V/m', fairWeatherVm: '≈100–160 (120 × Carnegie curve × morning maximum)', epicentralKm: distances(AEF_STATION.latitude, AEF_STATION.longitude) }],
      vlf: [{ ...VLF_STATION, channels: { ch1: 'N-S', ch2: 'E-W' }, units: 'V^2/Hz', mainsHz: 50, epicentralKm: distances(VLF_STATION.latitude, VLF_STATION.longitude) }],
    },
    formats: {
      geomag: { format: 'IAGA-2002', dataType: 'Variation', fileNames: 'iagYYYYMMDDvsec.sec, iagYYYYMMDDvmin.min', decimals: 2, dUnits: 'minutes of arc (HDZF files)', missing: 99999, notRecorded: 88888 },
      aef: { format: 'IAGA-2002 (Kakioka AEF profile)', fileNames: 'kakYYYYMMDDdaef.min, kakYYYYMMdaef.hor', hourStamp: 'hh:30:00 (centre of the hourly mean)', missing: 99999, dummy: 88888 },
      vlf: { format: 'NASA CDF v3 (ISEE VLF layout)', fileNames: 'isee_vlf_mos_YYYYMMDDhh_v01.cdf', frameSeconds: VLF_FRAME_SECONDS, framesPerHour: 3600 / VLF_FRAME_SECONDS, bins: VLF_BINS, freqHz: { first: VLF_REAL.f0, step: 4 * VLF_REAL.df, last: VLF_REAL.f0 + 4 * VLF_REAL.df * (VLF_BINS - 1) }, fillValue: VLF_FILL, real: VLF_REAL },
    },
    storms: scenario.storms
      .map((s) => {
        const ssc = resolveTime(s.ssc);
        const min = ssc + s.mainPhaseHours * 3_600_000;
        // "Disturbed" until ΔH has recovered to 5 % of its minimum (three e-folding times).
        const end = min + 3 * s.recoveryHours * 3_600_000;
        return { id: s.id, kind: 'geomagnetic-storm', ssc: isoMs(ssc), start: isoMs(ssc), end: isoMs(end), mainPhaseMinimum: isoMs(min), minNt: s.minNt, sscNt: s.sscNt, sscRiseSeconds: s.sscRiseSeconds, peakDbDtNtPerS: Number((s.sscNt / (2 * s.sscRiseSeconds)).toFixed(2)), recoveryHours: s.recoveryHours, pulsations: { pc5Nt: s.pc5Nt, pc34Nt: s.pc34Nt, end: isoMs(ssc + s.pulsationHours * 3_600_000) }, stations: GEOMAG_STATIONS.map((g) => g.code), vlf: { station: VLF_STATION.code, chorusDb: s.vlfChorusDb, bandHz: [800, 8000], end: isoMs(ssc + s.vlfHours * 3_600_000) }, disturbedDays: disturbedDays(ssc, end), _in: inRange(ssc - 3_600_000, end) };
      })
      .filter((s) => s._in)
      .map(({ _in, ...s }) => s),
    anomalies: scenario.anomalies
      .map((a) => {
        const start = resolveTime(a.start);
        const end = resolveTime(a.end);
        const ev = a.relatedEvent ? DEMO_EVENTS.find((e) => e.id === a.relatedEvent) : undefined;
        const c = coords(a.station);
        return {
          id: a.id,
          source: a.source,
          station: a.station,
          kind: a.kind,
          start: isoMs(start),
          end: isoMs(end),
          amplitude: a.amplitude,
          units: a.units,
          ...(a.bandHz ? { bandHz: a.bandHz } : {}),
          ...(ev ? { relatedEvent: ev.id, leadHours: Number(((Date.parse(ev.time + 'Z') - start) / 3_600_000).toFixed(3)), epicentralKm: Math.round(epicentralDistanceKm(c.latitude, c.longitude, ev.latitude, ev.longitude)) } : {}),
          ...(a.note ? { note: a.note } : {}),
          _in: inRange(start, end) && sources.has(a.source),
        };
      })
      .filter((a) => a._in)
      .map(({ _in, ...a }) => a),
    weather,
    gaps: scenario.gaps
      .filter((g) => sources.has(g.source) && inRange(resolveTime(g.start), resolveTime(g.end)))
      .map((g) => ({ source: g.source, station: g.station, start: isoMs(resolveTime(g.start)), end: isoMs(resolveTime(g.end)), ...(g.source === 'vlf' ? { mode: g.vlfMode ?? 'drop', ...(g.elements ? { channels: g.elements } : {}) } : { elements: g.elements ?? 'all', fill: 99999 }), note: g.note })),
    spikes,
    notRecorded: scenario.notRecorded
      .filter((r) => sources.has('geomag') && inRange(Date.parse(r.day + 'T00:00:00Z'), Date.parse(r.day + 'T00:00:00Z') + DAY_MS))
      .map((r) => ({ ...r, fill: 88888, files: files.filter((f) => f.station === r.station && f.source === 'geomag' && f.first.startsWith(r.day)).map((f) => f.path) })),
    vlf: { missingFiles: missingVlfFiles },
    mainshock: { id: mainshock.id, time: mainshock.time + 'Z' },
    files,
    summary: { files: files.length, bytes: files.reduce((n, f) => n + f.bytes, 0) },
  };
  const truthPath = path.join(productsDir, PRODUCTS_TRUTH);
  fs.writeFileSync(truthPath, JSON.stringify(truth, null, 2) + '\n');

  const bySource = { geomag: { files: 0, bytes: 0 }, aef: { files: 0, bytes: 0 }, vlf: { files: 0, bytes: 0 } };
  for (const f of files) {
    bySource[f.source].files++;
    bySource[f.source].bytes += f.bytes;
  }
  return { dir: productsDir, files: files.length, bytes: truth.summary.bytes, bySource, seconds: Number(process.hrtime.bigint() - t0) / 1e9, truthPath };
}

function disturbedDays(a: number, b: number): string[] {
  const out: string[] = [];
  for (let d = Math.floor(a / DAY_MS) * DAY_MS; d < b; d += DAY_MS) out.push(isoMs(d).slice(0, 10));
  return out;
}
