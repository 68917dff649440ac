/**
 * Synthetic Kakioka atmospheric electric field (potential gradient, V/m): daily 1-minute files
 * `kakYYYYMMDDdaef.min` from the first month's start to the last demo day, and the monthly
 * hourly file `kakYYYYMMdaef.hor` for
 * every month they touch, covering the whole month (a 30-day AEF baseline, as the robust-z
 * scores of products-methods.md §6 need).
 *
 * Model per minute:
 *  - fair weather: 120 V/m × Carnegie curve (global circuit, UT: max ≈19 UT, min ≈03 UT, ±15 %)
 *    × a local morning maximum (sunrise convection/aerosol, ≈07 LT), plus slow day-to-day
 *    drift (fractal noise, hours–days, ≈15 V/m) and 1–60 min fluctuations (≈6 V/m) and 1.5 V/m
 *    white noise; values rounded to 0.1 V/m;
 *  - weather: rain/showers replace fair weather by strongly fluctuating negative PG (valid data).
 *    The scenario's entries cover the demo days; other days of the month get seeded random
 *    showers (listed in truth.json), except next to scenario items so those stay clean;
 *  - anomalies (`aef-negative-bay`): a smooth dip of `amplitude` V/m over [start, end);
 *  - gaps: 9-filled minutes.
 * Hourly values: mean of the 60 minutes of the hour, stamped hh:30 (centre), 9-filled when more
 * than 10 % of the minutes are missing.
 */
import { SENTINEL_MISSING } from '../../formats/iaga2002';
import { writeAef } from '../../formats/aef';
import { countSentinels, DAY_MS, ymd, writeProductFile, type ProductFileTruth } from './common';
import { addFractalNoise, gaussAt, seedOf, taper, uniformAt } from './noise';
import { AEF_STATION, isoMs, resolveTime, type ProductsScenario, type WeatherSpec } from './scenario';

const M = Math; // see noise.ts

export interface AefWeather {
  kind: 'rain' | 'shower';
  start: number;
  end: number;
  depthVm: number;
  /** True for the seeded background showers outside the scenario's days. */
  generated: boolean;
}

/** Scenario weather plus the seeded showers of the days in [fromMs, toMs). */
export function aefWeather(scenario: ProductsScenario, fromMs: number, toMs: number): AefWeather[] {
  const explicit = scenario.weather.filter((w: WeatherSpec) => w.station === AEF_STATION.code);
  const out: AefWeather[] = explicit.map((w) => ({ kind: w.kind, start: resolveTime(w.start), end: resolveTime(w.end), depthVm: w.depthVm, generated: false }));
  // Days next to any AEF scenario item keep only the scenario's weather (a window-independent rule).
  const protectedDays = new Set<number>();
  const items = [...out.map((w) => [w.start, w.end]), ...scenario.anomalies.filter((a) => a.source === 'aef').map((a) => [resolveTime(a.start), resolveTime(a.end)])];
  for (const [a, b] of items) for (let d = M.floor(a / DAY_MS) - 1; d <= M.floor(b / DAY_MS) + 1; d++) protectedDays.add(d);
  const s = seedOf('aef', 'weather');
  for (let d = M.floor(fromMs / DAY_MS) - 1; d < M.ceil(toMs / DAY_MS); d++) {
    if (protectedDays.has(d) || uniformAt(s, 4 * d) >= 0.3) continue;
    const start = d * DAY_MS + M.round(uniformAt(s, 4 * d + 1) * 20 * 60) * 60_000;
    const hours = 1 + M.round(uniformAt(s, 4 * d + 2) * 10) / 2;
    out.push({ kind: hours < 2 ? 'shower' : 'rain', start, end: start + hours * 3_600_000, depthVm: -M.round(120 + 300 * uniformAt(s, 4 * d + 3)), generated: true });
  }
  return out.sort((a, b) => a.start - b.start);
}

/** PG (V/m, rounded to 0.1) and sentinels for minutes t0Ms + 60 s·k, k < n. */
export function synthAefMinutes(scenario: ProductsScenario, t0Ms: number, n: number): { pg: Float64Array; sentinel: Uint8Array; weather: AefWeather[] } {
  const t0 = t0Ms / 1000;
  const drift = new Float64Array(n);
  addFractalNoise(drift, seedOf('aef', 'drift'), t0, 60, 12, 17, 0.0295);
  const fluct = new Float64Array(n);
  addFractalNoise(fluct, seedOf('aef', 'fluct'), t0, 60, 6, 11, 0.094);
  // Rain fluctuations: unit-std noise of 2–70 min periods (sign reversals under showers).
  const rainz = new Float64Array(n);
  addFractalNoise(rainz, seedOf('aef', 'rain'), t0, 60, 7, 12, 1 / M.sqrt(2 ** 13 - 2 ** 7));
  const weather = aefWeather(scenario, t0Ms, t0Ms + n * 60_000);
  const bays = scenario.anomalies
    .filter((a) => a.source === 'aef' && a.station === AEF_STATION.code)
    .map((a) => {
      if (a.kind !== 'aef-negative-bay') throw new Error(`aef anomaly ${a.id}: unsupported kind ${a.kind}`);
      return { start: resolveTime(a.start) / 1000, end: resolveTime(a.end) / 1000, amp: a.amplitude };
    });
  const sw = seedOf('aef', 'white');
  const pg = new Float64Array(n);
  const sentinel = new Uint8Array(n);
  const lonH = AEF_STATION.longitude / 15;
  for (let k = 0; k < n; k++) {
    const t = t0 + 60 * k;
    const ut = (t / 3600) % 24;
    const lt = (ut + lonH) % 24;
    const carnegie = 1 + 0.15 * M.cos((2 * M.PI * (ut - 19)) / 24);
    const local = 1 + 0.12 * M.exp(-(((lt - 7) / 2) ** 2));
    let v = 120 * carnegie * local + drift[k] + fluct[k] + 1.5 * gaussAt(sw, t / 60);
    for (const w of weather) {
      const e = taper(t, w.start / 1000, w.end / 1000, 600);
      if (e > 0) v = (1 - e) * v + e * w.depthVm * (0.6 + 0.5 * rainz[k]);
    }
    for (const b of bays) if (t > b.start && t < b.end) v += b.amp * (0.5 - 0.5 * M.cos((2 * M.PI * (t - b.start)) / (b.end - b.start)));
    pg[k] = M.round(v * 10) / 10;
  }
  for (const g of scenario.gaps.filter((x) => x.source === 'aef' && x.station === AEF_STATION.code)) {
    const a = M.max(0, M.ceil((resolveTime(g.start) - t0Ms) / 60_000));
    const b = M.min(n, M.ceil((resolveTime(g.end) - t0Ms) / 60_000));
    for (let k = a; k < b; k++) {
      pg[k] = NaN;
      sentinel[k] = SENTINEL_MISSING;
    }
  }
  return { pg, sentinel, weather };
}

export interface AefResult {
  files: ProductFileTruth[];
  /** Weather of the months written (scenario + generated showers). */
  weather: AefWeather[];
}

const comments = (what: string) => [
  ' SYNTHETIC DEMO DATA written by geonode generate, not KMO data.',
  ` Atmospheric electric field: potential gradient (V/m) in Z, ${what}.`,
  ' X, Y and F are dummies (88888.00); missing PG is 99999.00.',
  ' Injected weather and anomalies: see products/truth.json.',
];

/** Minute files from the first month's start to the last demo day; hourly files for whole months. */
export function writeAefFiles(root: string, scenario: ProductsScenario, firstDayMs: number, days: number): AefResult {
  const first = new Date(firstDayMs);
  const monthStart = Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), 1);
  const last = new Date(firstDayMs + days * DAY_MS - 1);
  const monthsEnd = Date.UTC(last.getUTCFullYear(), last.getUTCMonth() + 1, 1);
  const n = (monthsEnd - monthStart) / 60_000;
  const { pg, sentinel, weather } = synthAefMinutes(scenario, monthStart, n);
  const files: ProductFileTruth[] = [];
  const rec = (w: { path: string; bytes: number; sha256: string }, cadence: string, times: Float64Array, sent: Uint8Array): ProductFileTruth => {
    const s = countSentinels(sent, 0, sent.length);
    return { ...w, source: 'aef', station: AEF_STATION.code, cadence, first: isoMs(times[0]), last: isoMs(times[times.length - 1]), rows: times.length, elements: ['X', 'Y', 'Z', 'F'], ...(s ? { sentinels: { Z: s } } : {}) };
  };
  // Minute files from the first month's start (not only the demo days): the AEF scores need
  // 15 fair-weather days of minute-based daily values, and about a third of the days have rain.
  const minuteDays = (firstDayMs - monthStart) / DAY_MS + days;
  for (let d = 0; d < minuteDays; d++) {
    const dayMs = monthStart + d * DAY_MS;
    const a = (dayMs - monthStart) / 60_000;
    const times = Float64Array.from({ length: 1440 }, (_, k) => dayMs + k * 60_000);
    const buf = writeAef(times, pg.subarray(a, a + 1440), sentinel.subarray(a, a + 1440), { intervalType: '1-minute', header: { comments: comments('1-minute values') } });
    files.push(rec(writeProductFile(root, `products/aef/KAK/kak${ymd(dayMs)}daef.min`, buf), 'PT1M', times, sentinel.subarray(a, a + 1440)));
  }
  for (let m = monthStart; m < monthsEnd; ) {
    const next = Date.UTC(new Date(m).getUTCFullYear(), new Date(m).getUTCMonth() + 1, 1);
    const hours = (next - m) / 3_600_000;
    const times = new Float64Array(hours);
    const hv = new Float64Array(hours);
    const hs = new Uint8Array(hours);
    for (let h = 0; h < hours; h++) {
      times[h] = m + h * 3_600_000 + 1_800_000;
      const a = (m - monthStart) / 60_000 + 60 * h;
      let sum = 0;
      let ok = 0;
      for (let k = a; k < a + 60; k++) {
        if (sentinel[k] === 0) {
          sum += pg[k];
          ok++;
        }
      }
      if (ok >= 54) hv[h] = sum / ok;
      else {
        hv[h] = NaN;
        hs[h] = SENTINEL_MISSING;
      }
    }
    const buf = writeAef(times, hv, hs, { intervalType: '1-hour (00:00-59:59), stamped at the centre', header: { comments: comments('hourly means of the 1-minute values') } });
    files.push(rec(writeProductFile(root, `products/aef/KAK/kak${ymd(m).slice(0, 6)}daef.hor`, buf), 'PT1H', times, hs));
    m = next;
  }
  return { files, weather };
}
