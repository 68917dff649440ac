/**
 * Detector evaluation against ground truth (`npm run eval` → node dist/products/eval.js).
 *
 * Unit of truth: (station, source, UTC day), as the methods doc says ("TP/FP/FN per (station,
 * anomaly day)"), with the source added because one station (KAK) carries several sources.
 *  - truth-positive units: every day an injected anomaly [start, end) overlaps;
 *  - predicted units: P1D score rows with `flagged` = 1 (storm days and, for AEF, rainy days
 *    are never flagged: they carry `disturbed` / `fair_weather` instead);
 *  - TP = both, FP = predicted only, FN = truth only (also when the day had no score at all:
 *    e.g. a too-short baseline — reported separately as `unscored`).
 * precision = TP/(TP+FP), recall = TP/(TP+FN) (null when undefined).
 * Lead-time error per detected anomaly with a related event: detected lead (event − centre of
 * the flagged day) − true lead (event − anomaly start), hours; daily bins limit it to ≈ ±12 h.
 *
 * Lead time: the detected time is the centre of the highest-scoring sub-daily score row
 * (PT1H, else PT1M) of the first flagged day, or the day centre when there is none.
 *
 * Inputs: the demo archive's products/truth.json (generateProductsDemo: 21 lead-in days give the
 * 30-day / 15-valid-day baselines, then 9 scored days with 7 injected anomalies and a storm) and
 * the score tiles in the tile tree; and the synthetic 40-day scenario below (syntheticScenario:
 * feature values drawn directly, truth known by construction) under both flag rules and 8 seeds.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { computeScores, readScoreRows, type ScoreParams, type ScoreRow } from './scores';
import { writeTile, type Layer } from './tiles';

const DAY = 86_400_000;
const HOUR = 3_600_000;

export interface TruthAnomaly {
  id?: string;
  source: string;
  station: string;
  start: string;
  end: string;
  relatedEvent?: string;
  leadHours?: number;
}

export interface TruthFile {
  range: { start: string; end: string };
  anomalies: TruthAnomaly[];
  storms?: { id?: string; start?: string; end?: string; disturbedDays?: string[] }[];
  mainshock?: { id: string; time: string };
}

export interface EvalUnit {
  station: string;
  source: string;
  day: string;
}

export interface LeadTimeResult {
  anomaly: string;
  station: string;
  source: string;
  trueLeadHours: number;
  detectedLeadHours: number;
  errorHours: number;
  /** When the detector places the anomaly (ISO) and from which score cadence. */
  detectedAt: string;
  resolution: string;
}

export interface EvalResult {
  range: { start: string; end: string };
  tp: EvalUnit[];
  fp: EvalUnit[];
  fn: EvalUnit[];
  /** Truth days with no score row (baseline too short, data missing). */
  unscored: EvalUnit[];
  /** Flagged units on storm days (should be 0: storm days are not local anomalies). */
  flaggedOnStormDays: number;
  precision: number | null;
  recall: number | null;
  leadTimes: LeadTimeResult[];
  meanAbsLeadErrorHours: number | null;
  scoreRows: number;
  scoredDays: number;
  stormDays: string[];
}

const dayOf = (ms: number) => new Date(Math.floor(ms / DAY) * DAY).toISOString().slice(0, 10);
const parseT = (s: string) => Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(s) ? s : s + 'Z');
const key = (u: EvalUnit) => `${u.station}|${u.source}|${u.day}`;

/**
 * Compare flagged P1D score rows with a truth file. `subDaily` (optional): score rows of finer
 * cadences; the detected time of a flagged day is then the centre of its highest-scoring row of
 * the coarsest sub-daily cadence present (PT1H before PT1M), instead of the day centre.
 */
export function evaluate(truth: TruthFile, rows: ScoreRow[], subDaily: ScoreRow[] = []): EvalResult {
  const r0 = parseT(truth.range.start);
  const r1 = parseT(truth.range.end);
  const daily = rows.filter((r) => r.cadence === 'P1D' && r.time >= r0 && r.time < r1);
  const truthUnits = new Map<string, EvalUnit>();
  const unitAnomaly = new Map<string, TruthAnomaly>();
  for (const a of truth.anomalies) {
    const s = parseT(a.start);
    const e = parseT(a.end);
    for (let d = Math.floor(s / DAY) * DAY; d < e; d += DAY) {
      if (d < r0 || d >= r1) continue;
      const u = { station: a.station, source: a.source, day: dayOf(d) };
      truthUnits.set(key(u), u);
      if (!unitAnomaly.has(key(u))) unitAnomaly.set(key(u), a);
    }
  }
  const storm = new Set<string>();
  for (const s of truth.storms ?? []) for (const d of s.disturbedDays ?? []) storm.add(d);
  const predicted = new Map<string, { u: EvalUnit; row: ScoreRow }>();
  const scored = new Set<string>();
  let flaggedOnStormDays = 0;
  for (const r of daily) {
    const u = { station: r.station, source: r.source, day: dayOf(r.time) };
    if (r.score !== null) scored.add(key(u));
    if (r.flagged === 1) {
      predicted.set(key(u), { u, row: r });
      if (storm.has(u.day)) flaggedOnStormDays++;
    }
  }
  const tp: EvalUnit[] = [];
  const fp: EvalUnit[] = [];
  const fn: EvalUnit[] = [];
  const unscored: EvalUnit[] = [];
  for (const [k, p] of predicted) (truthUnits.has(k) ? tp : fp).push(p.u);
  for (const [k, u] of truthUnits) {
    if (predicted.has(k)) continue;
    fn.push(u);
    if (!scored.has(k)) unscored.push(u);
  }
  const leadTimes: LeadTimeResult[] = [];
  const seen = new Set<string>();
  for (const u of tp) {
    const a = unitAnomaly.get(key(u))!;
    if (a.leadHours === undefined || seen.has(a.id ?? key(u))) continue;
    seen.add(a.id ?? key(u));
    const eventMs = parseT(a.start) + a.leadHours * HOUR;
    // The earliest flagged day of this anomaly = the detector's lead.
    const days = tp.filter((x) => unitAnomaly.get(key(x)) === a).map((x) => parseT(x.day));
    const first = days.reduce((m, d) => Math.min(m, d), Infinity);
    const at = detectedTime(subDaily, a.station, a.source, first);
    const detected = (eventMs - at.ms) / HOUR;
    leadTimes.push({
      anomaly: a.id ?? key(u),
      station: a.station,
      source: a.source,
      trueLeadHours: a.leadHours,
      detectedLeadHours: Number(detected.toFixed(3)),
      errorHours: Number((detected - a.leadHours).toFixed(3)),
      detectedAt: new Date(at.ms).toISOString(),
      resolution: at.cadence,
    });
  }
  const sortU = (l: EvalUnit[]) => l.sort((a, b) => (key(a) < key(b) ? -1 : 1));
  return {
    range: truth.range,
    tp: sortU(tp),
    fp: sortU(fp),
    fn: sortU(fn),
    unscored: sortU(unscored),
    flaggedOnStormDays,
    precision: tp.length + fp.length > 0 ? tp.length / (tp.length + fp.length) : null,
    recall: tp.length + fn.length > 0 ? tp.length / (tp.length + fn.length) : null,
    leadTimes,
    meanAbsLeadErrorHours: leadTimes.length ? leadTimes.reduce((s, l) => s + Math.abs(l.errorHours), 0) / leadTimes.length : null,
    scoreRows: daily.length,
    scoredDays: new Set(daily.filter((r) => r.score !== null).map((r) => dayOf(r.time))).size,
    stormDays: [...storm].sort(),
  };
}

/** Centre of the highest-scoring sub-daily row of a station-source-day (coarsest cadence first), else the day centre. */
function detectedTime(subDaily: ScoreRow[], station: string, source: string, day: number): { ms: number; cadence: string } {
  const inDay = subDaily.filter((r) => r.station === station && r.source === source && r.time >= day && r.time < day + DAY && r.score !== null);
  if (inDay.length) {
    const coarsest = Math.max(...inDay.map((r) => r.cadenceMs));
    let best: ScoreRow | null = null;
    for (const r of inDay) if (r.cadenceMs === coarsest && (!best || r.score! > best.score!)) best = r;
    if (best) return { ms: best.time + best.cadenceMs / 2, cadence: best.cadence };
  }
  return { ms: day + DAY / 2, cadence: 'P1D' };
}

// ---------------------------------------------------------------------------------------------
// Synthetic scenario: 40 days of daily feature tiles with a storm, rain and injected anomalies.

/** Deterministic PRNG (mulberry32) and standard normal draws (Box–Muller). */
function rng(seed: number): { u: () => number; n: () => number } {
  let s = seed >>> 0;
  const u = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const n = () => {
    const a = Math.max(u(), 1e-12);
    return Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * u());
  };
  return { u, n };
}

export interface SyntheticScenario {
  truth: TruthFile & { events: { id: string; time: string; latitude: number; longitude: number; depthKm: number; magnitude: number }[] };
  stations: { source: string; station: string; latitude: number; longitude: number }[];
  firstDayMs: number;
  days: number;
}

const SYN_STATIONS = [
  { source: 'geomag', station: 'KAK', latitude: 36.232, longitude: 140.186 },
  { source: 'geomag', station: 'KNY', latitude: 31.424, longitude: 130.88 },
  { source: 'geomag', station: 'MMB', latitude: 43.91, longitude: 144.189 },
  { source: 'aef', station: 'KAK', latitude: 36.232, longitude: 140.186 },
  { source: 'vlf', station: 'MOS', latitude: 44.365, longitude: 142.273 },
];

/**
 * Write the synthetic scenario's feature tiles (`feat/<source>/<station>/P1D` + the storm flags
 * `feat/indices/GLOBAL/P1D`) under tilesDir and return its truth.
 *
 * Days 0..39 from 2020-08-10. Noise: Gaussian around a per-feature level. Storm on days 33–34:
 * every geomag/VLF feature at every station jumps by +8σ (global, so `disturbed`, not an
 * anomaly). Rain at KAK on day 27: fair_weather = 0, PG negative for hours (valid data, not an
 * anomaly). Injected anomalies (the truth): geomag KAK zg_ratio/ulf_z on day 32 (the night
 * before the M6.2 event at day 33 02:44), AEF KAK negative bay on day 32, VLF MOS band power on
 * day 32, geomag MMB ulf_z on day 37 (just after the storm: detectable only if the storm
 * stayed out of the baseline).
 */
export function syntheticScenario(tilesDir: string, seed = 20200912): SyntheticScenario {
  const days = 40;
  const first = Date.UTC(2020, 7, 10);
  const r = rng(seed);
  const ts = Float64Array.from({ length: days }, (_, i) => first + i * DAY);
  const stormDays = [33, 34];
  const rainDay = 27;
  const anomalies: { source: string; station: string; day: number; id: string; startHour: number; hours: number }[] = [
    { id: 'syn-geomag-kak-ulf', source: 'geomag', station: 'KAK', day: 32, startHour: 13, hours: 4 },
    { id: 'syn-aef-kak-bay', source: 'aef', station: 'KAK', day: 32, startHour: 19, hours: 2.5 },
    { id: 'syn-vlf-mos-band', source: 'vlf', station: 'MOS', day: 32, startHour: 17, hours: 2 },
    { id: 'syn-geomag-mmb-ulf', source: 'geomag', station: 'MMB', day: 37, startHour: 14, hours: 5 },
  ];
  const eventMs = first + 33 * DAY + (2 * 60 + 44) * 60_000 + 11_000;
  const isAnom = (src: string, sta: string, d: number) => anomalies.some((a) => a.source === src && a.station === sta && a.day === d);
  const write = (source: string, station: string, cols: Record<string, Float64Array>, meta: { latitude: number; longitude: number }) =>
    writeTile(tilesDir, {
      key: { layer: 'feat' as Layer, source, station, cadence: 'P1D', period: '2020' },
      ts,
      columns: Object.entries(cols).map(([name, values]) => ({ name, type: 'DOUBLE' as const, values })),
      meta: { units: {}, sources: [{ name: 'synthetic', sha256: '0'.repeat(64) }], station: { name: station, ...meta } },
    });
  const series = (level: number, sigma: number, f: (d: number, v: number) => number) => Float64Array.from({ length: days }, (_, d) => f(d, level + sigma * r.n()));
  for (const s of SYN_STATIONS) {
    if (s.source === 'geomag') {
      const storm = (d: number, v: number, sigma: number) => (stormDays.includes(d) ? v + 8 * sigma : v);
      const anom = (d: number, v: number, sigma: number) => (isAnom('geomag', s.station, d) ? v + 7 * sigma : v);
      write('geomag', s.station, {
        ulf_z: series(0.05, 0.004, (d, v) => anom(d, storm(d, v, 0.004), 0.004)),
        zg_ratio: series(0.6, 0.05, (d, v) => anom(d, storm(d, v, 0.05), 0.05)),
        dbdt_max: series(0.4, 0.05, (d, v) => storm(d, v, 0.05) + (stormDays.includes(d) ? 2 : 0)),
      }, s);
    } else if (s.source === 'aef') {
      const fair = Float64Array.from({ length: days }, (_, d) => (d === rainDay ? 0 : 1));
      write('aef', s.station, {
        fair_weather: fair,
        pg_median: series(130, 8, (d, v) => (d === rainDay ? v - 90 : isAnom('aef', 'KAK', d) ? v - 60 : v)),
        pg_neg_minutes: series(0, 0, (d) => (d === rainDay ? 270 : isAnom('aef', 'KAK', d) ? 150 : 0)),
        pg_min: series(60, 10, (d, v) => (d === rainDay ? -350 : isAnom('aef', 'KAK', d) ? -200 : v)),
      }, s);
    } else {
      const f = (d: number, v: number, sigma: number) => (stormDays.includes(d) ? v + 8 * sigma : isAnom('vlf', s.station, d) ? v + 7 * sigma : v);
      write('vlf', s.station, {
        bp_300_3000_ns: series(-40, 1.5, (d, v) => f(d, v, 1.5)),
        bp_300_3000_ew: series(-41, 1.5, (d, v) => f(d, v, 1.5)),
      }, s);
    }
  }
  writeTile(tilesDir, {
    key: { layer: 'feat' as Layer, source: 'indices', station: 'GLOBAL', cadence: 'P1D', period: '2020' },
    ts,
    columns: [{ name: 'disturbed', type: 'DOUBLE', values: Float64Array.from({ length: days }, (_, d) => (stormDays.includes(d) ? 1 : 0)) }],
    meta: { units: { disturbed: 'bool' }, sources: [] },
  });
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    truth: {
      range: { start: iso(first), end: iso(first + days * DAY) },
      anomalies: anomalies.map((a) => {
        const start = first + a.day * DAY + a.startHour * HOUR;
        const related = a.day === 32;
        return { id: a.id, source: a.source, station: a.station, start: iso(start), end: iso(start + a.hours * HOUR), ...(related ? { relatedEvent: 'syn2020091302', leadHours: Number(((eventMs - start) / HOUR).toFixed(3)) } : {}) };
      }),
      storms: [{ id: 'syn-storm', start: iso(first + 33 * DAY), end: iso(first + 35 * DAY), disturbedDays: stormDays.map((d) => iso(first + d * DAY).slice(0, 10)) }],
      mainshock: { id: 'syn2020091302', time: iso(eventMs) },
      events: [{ id: 'syn2020091302', time: iso(eventMs), latitude: 38.75, longitude: 142.26, depthKm: 35, magnitude: 6.2 }],
    },
    stations: SYN_STATIONS,
    firstDayMs: first,
    days,
  };
}

/** Build the synthetic scenario in tilesDir, score it, evaluate. */
export async function evaluateSynthetic(tilesDir: string, params?: Partial<ScoreParams>, seed?: number): Promise<{ scenario: SyntheticScenario; result: EvalResult }> {
  const scenario = syntheticScenario(tilesDir, seed);
  await computeScores({ tilesDir, params, force: true });
  const rows = await readScoreRows(tilesDir, { cadence: 'P1D' });
  return { scenario, result: evaluate(scenario.truth, rows) };
}

/** Evaluate the score tiles under tilesDir against a truth.json (demo archive). */
export async function evaluateTruthFile(truthPath: string, tilesDir: string): Promise<EvalResult> {
  const truth = JSON.parse(fs.readFileSync(truthPath, 'utf8')) as TruthFile;
  const range = { startMs: parseT(truth.range.start), endMs: parseT(truth.range.end) };
  const rows = await readScoreRows(tilesDir, { cadence: 'P1D', ...range });
  // Sub-daily rows only of the days that matter (flagged truth days), to place the detection.
  const subDaily: ScoreRow[] = [];
  const first = evaluate(truth, rows);
  for (const u of first.tp) {
    const d = parseT(u.day);
    for (const cadence of ['PT1H', 'PT1M']) for (const r of await readScoreRows(tilesDir, { cadence, source: u.source, station: u.station, startMs: d, endMs: d + DAY })) subDaily.push(r);
  }
  return evaluate(truth, rows, subDaily);
}

// ---------------------------------------------------------------------------------------------
// Report

/** Seeds of the synthetic noise (the first is the reference scenario). */
export const SEEDS = [20200912, 1, 2, 3, 4, 5, 6, 7];

const pct = (v: number | null) => (v === null ? 'n/a' : v.toFixed(3));

export function formatReport(title: string, r: EvalResult): string {
  const lines = [`== ${title}`, `range ${r.range.start} .. ${r.range.end}; ${r.scoreRows} daily score rows over ${r.scoredDays} scored day(s); storm days: ${r.stormDays.join(', ') || 'none'}`];
  const w = [10, 8, 11, 9];
  lines.push(['outcome', 'station', 'source', 'day'].map((h, i) => h.padEnd(w[i])).join(' '));
  const row = (o: string, u: EvalUnit) => [o, u.station, u.source, u.day].map((v, i) => v.padEnd(w[i])).join(' ');
  for (const u of r.tp) lines.push(row('TP', u));
  for (const u of r.fp) lines.push(row('FP', u));
  for (const u of r.fn) lines.push(row(r.unscored.some((x) => key(x) === key(u)) ? 'FN(noscore)' : 'FN', u));
  lines.push(`TP ${r.tp.length}  FP ${r.fp.length}  FN ${r.fn.length} (unscored ${r.unscored.length})  flagged on storm days ${r.flaggedOnStormDays}`);
  lines.push(`precision ${pct(r.precision)}  recall ${pct(r.recall)}`);
  for (const l of r.leadTimes) lines.push(`lead time ${l.anomaly}: true ${l.trueLeadHours.toFixed(1)} h, detected ${l.detectedLeadHours.toFixed(1)} h (${l.resolution === 'P1D' ? 'day centre' : `peak ${l.resolution} score at ${l.detectedAt.slice(0, 16)}Z`}), error ${l.errorHours.toFixed(1)} h`);
  lines.push(`mean |lead-time error| ${r.meanAbsLeadErrorHours === null ? 'n/a' : r.meanAbsLeadErrorHours.toFixed(1) + ' h'}`);
  return lines.join('\n') + '\n';
}

/** CLI: `node dist/products/eval.js [--archive DIR] [--tiles DIR] [--json]`; always exit 0 unless it crashes. */
export async function main(argv: string[], out: NodeJS.WritableStream = process.stdout, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const arg = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const archive = path.resolve(arg('archive') ?? env.GEONODE_ARCHIVE ?? 'archive');
  const tilesDir = path.resolve(arg('tiles') ?? env.GEONODE_TILES ?? path.join('var', 'tiles'));
  const json = argv.includes('--json');
  const report: Record<string, unknown> = {};
  const truthPath = path.join(archive, 'products', 'truth.json');
  if (fs.existsSync(truthPath)) {
    const truth = JSON.parse(fs.readFileSync(truthPath, 'utf8')) as TruthFile & { days?: number };
    const r = await evaluateTruthFile(truthPath, tilesDir);
    report.demo = r;
    if (!json) {
      out.write(formatReport(`demo archive ${archive} (${truth.days ?? '?'} day(s), tiles ${tilesDir})`, r));
      if (r.scoreRows === 0 || r.scoredDays === 0) {
        out.write(
          `note: no usable daily scores for the demo range. A score needs a trailing baseline of at least 15 valid days (30-day window);\n` +
            `      the demo's ${truth.days ?? '?'} day(s) cannot provide one. \`geonode generate\` writes 21 lead-in days of products by default\n` +
            `      (see --products-lead-days); run \`geonode analyze\` after ingesting them.\n`,
        );
      }
    }
  } else if (!json) out.write(`demo: no ${truthPath} (generate the demo archive first); synthetic scenario only\n`);
  // Synthetic: the default rule (>= 2 features with |z| >= 3) and the bare rule of the methods
  // doc (any feature), on the reference seed in detail and on 8 seeds in summary.
  const configs: { name: string; params: Partial<ScoreParams> }[] = [
    { name: 'default: flag >= 2 features with |z| >= 3', params: {} },
    { name: 'bare: flag max|z| >= 3 (--min-features 1)', params: { minFeatures: 1 } },
  ];
  const synthetic: Record<string, unknown> = {};
  for (const c of configs) {
    const perSeed: { seed: number; tp: number; fp: number; fn: number; precision: number | null; recall: number | null; meanAbsLeadErrorHours: number | null }[] = [];
    for (const seed of SEEDS) {
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-eval-'));
      try {
        const { result } = await evaluateSynthetic(tmp, c.params, seed);
        if (seed === SEEDS[0] && !json) out.write(formatReport(`synthetic scenario, ${c.name} (seed ${seed}; 40 days, 5 station-sources, storm days 33-34, rain day 27, 4 injected anomalies)`, result));
        if (seed === SEEDS[0]) synthetic[c.name] = result;
        perSeed.push({ seed, tp: result.tp.length, fp: result.fp.length, fn: result.fn.length, precision: result.precision, recall: result.recall, meanAbsLeadErrorHours: result.meanAbsLeadErrorHours });
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    }
    synthetic[`${c.name} (seeds)`] = perSeed;
    if (!json) {
      const ps = perSeed.map((p) => p.precision ?? 0);
      const rs = perSeed.map((p) => p.recall ?? 0);
      out.write(`-- ${c.name}, ${SEEDS.length} seeds: precision min ${Math.min(...ps).toFixed(3)} mean ${(ps.reduce((a, b) => a + b, 0) / ps.length).toFixed(3)}; recall min ${Math.min(...rs).toFixed(3)}\n\n`);
    }
  }
  report.synthetic = synthetic;
  if (json) out.write(JSON.stringify(report, null, 2) + '\n');
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`eval: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
