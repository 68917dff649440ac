/**
 * Synthetic geomagnetic observatory data (KAK, KNY, MMB) as IAGA-2002 day files: 1-second
 * `iagYYYYMMDDvsec.sec` and 1-minute `iagYYYYMMDDvmin.min` (Data Type "variation").
 *
 * Model per second, in geographic X (north), Y (east), Z (down), nT:
 *  - main field: the station's rounded IGRF-like H, D, Z (constant over the demo days);
 *  - Sq: daytime bumps in H, an eastward morning→afternoon swing and a Z dip, in local time,
 *    with a random day-to-day amplitude (switches at local midnight, where Sq is zero);
 *  - "random walk": fractal value noise from 1 s to ~18 h periods (≈10 nT over a day, a few
 *    tenths of nT at ULF periods), Z at 40 % of the horizontal level;
 *  - instrument noise: 0.04 nT white per element (F: 0.02 nT), then rounding to 0.01;
 *  - storms (scenario.ts): the same ΔH(t) and pulsations at every station, scaled per station;
 *  - injected anomalies, spikes, 9-filled gaps and 8-filled (not recorded) days from the scenario.
 * F = |B| + a per-site offset (the scalar sensor sits elsewhere on the site).
 *
 * Minute values are the boxcar mean of the 60 seconds [t−30 s, t+29 s] ("Average 1-Minute
 * (00:30-01:29)"); a minute with more than 10 % of its seconds missing is 9-filled, or 8-filled
 * when the element was not recorded. Real KMO minute values use INTERMAGNET's Gaussian filter;
 * the boxcar keeps the relation between the two files exact and easy to test.
 */
import { formatIagaHeader, formatIagaRows, SENTINEL_MISSING, SENTINEL_NOT_RECORDED, type IagaWriteColumn } from '../../formats/iaga2002';
import { countSentinels, DAY_MS, ymd, writeProductFile, type ProductFileTruth } from './common';
import { addFractalNoise, gaussAt, seedOf, sineBank, sineBankAt, taper, uniformAt, type SineBank } from './noise';
import { isoMs, resolveTime, type GeomagStation, type ProductsScenario, type StormSpec } from './scenario';

const M = Math; // see noise.ts

const RAD = M.PI / 180;
/** Seconds synthesised before the first and after the last day (minute means need ±30 s). */
const MARGIN_S = 60;

/** A storm prepared for evaluation: resolved times and its (global) pulsation banks. */
interface PreparedStorm {
  spec: StormSpec;
  ssc: number;
  min: number;
  pulsEnd: number;
  pc5: SineBank[];
  pc34: SineBank[];
}

function prepareStorm(spec: StormSpec): PreparedStorm {
  const ssc = resolveTime(spec.ssc) / 1000;
  // Identical seeds at every station: the pulsations are coherent (same phases everywhere).
  const bank = (band: string, f1: number, f2: number, n: number, rms: number) => ['H', 'E', 'Z'].map((c) => sineBank(`${spec.id}|${band}|${c}`, f1, f2, n, rms));
  return { spec, ssc, min: ssc + spec.mainPhaseHours * 3600, pulsEnd: ssc + spec.pulsationHours * 3600, pc5: bank('pc5', 0.002, 0.007, 16, spec.pc5Nt), pc34: bank('pc34', 0.01, 0.05, 24, spec.pc34Nt) };
}

/** Dst-like storm ΔH (nT, before station scaling) at t (epoch s): SSC step, main phase, recovery. */
export function stormDeltaH(spec: StormSpec, t: number): number {
  const ssc = resolveTime(spec.ssc) / 1000;
  const min = ssc + spec.mainPhaseHours * 3600;
  const dt = t - ssc;
  if (dt < -20 * spec.sscRiseSeconds) return 0;
  // The compression step decays as the ring current builds up.
  let v = spec.sscNt * 0.5 * (1 + M.tanh(dt / spec.sscRiseSeconds)) * (dt > 0 ? M.exp(-dt / 5400) : 1);
  if (dt > 0) v += t < min ? spec.minNt * M.sin((M.PI / 2) * (dt / (min - ssc))) ** 2 : spec.minNt * M.exp(-(t - min) / (spec.recoveryHours * 3600));
  return v;
}

/** Station-frame disturbance (ΔH north-magnetic, ΔE east, ΔZ) of all storms at t, added into d. */
function addStorms(storms: PreparedStorm[], st: GeomagStation, t: number, d: [number, number, number]): void {
  for (const s of storms) {
    if (t < s.ssc - 20 * s.spec.sscRiseSeconds) continue;
    const dh = stormDeltaH(s.spec, t) * st.stormScale;
    d[0] += dh;
    // Ring-current ΔZ is small at these latitudes.
    d[2] -= 0.1 * dh;
    const env = taper(t, s.ssc, s.pulsEnd, 1800);
    if (env > 0) {
      const k = env * st.stormScale;
      d[0] += k * (sineBankAt(s.pc5[0], t) + sineBankAt(s.pc34[0], t));
      d[1] += k * 0.4 * (sineBankAt(s.pc5[1], t) + sineBankAt(s.pc34[1], t));
      d[2] += k * 0.25 * (sineBankAt(s.pc5[2], t) + sineBankAt(s.pc34[2], t));
    }
  }
}

/** Seconds of one station in file-element space (X/Y or H/D, Z, F), NaN + sentinel where filled. */
export interface GeomagSeconds {
  station: GeomagStation;
  /** Epoch seconds of index 0. */
  t0: number;
  n: number;
  elements: string[];
  values: Float64Array[];
  sentinel: Uint8Array[];
  /** Spikes that were written (inside the range, not in a gap). */
  spikes: Array<{ time: number; element: string; nT: number }>;
}

/** Synthesise [t0, t0 + n) seconds of a station (values depend on absolute time only). */
export function synthGeomagSeconds(st: GeomagStation, scenario: ProductsScenario, t0: number, n: number): GeomagSeconds {
  const X = new Float64Array(n);
  const Y = new Float64Array(n);
  const Z = new Float64Array(n);
  // "Random walk" (fractal value noise) + white instrument noise.
  addFractalNoise(X, seedOf('geomag', st.code, 'X'), t0, 1, 0, 16, 0.03);
  addFractalNoise(Y, seedOf('geomag', st.code, 'Y'), t0, 1, 0, 16, 0.03);
  addFractalNoise(Z, seedOf('geomag', st.code, 'Z'), t0, 1, 0, 16, 0.012);
  const sX = seedOf('geomag', st.code, 'wX');
  const sY = seedOf('geomag', st.code, 'wY');
  const sZ = seedOf('geomag', st.code, 'wZ');
  const sF = seedOf('geomag', st.code, 'wF');
  const sDay = seedOf('geomag', st.code, 'sq-day');

  const cosD = M.cos(st.mainField.D * RAD);
  const sinD = M.sin(st.mainField.D * RAD);
  const X0 = st.mainField.H * cosD;
  const Y0 = st.mainField.H * sinD;
  const lonH = st.longitude / 15;
  const storms = scenario.storms.map(prepareStorm);
  const ulf = scenario.anomalies
    .filter((a) => a.source === 'geomag' && a.station === st.code)
    .map((a) => {
      if (a.kind !== 'ulf-z-enhancement') throw new Error(`geomag anomaly ${a.id}: unsupported kind ${a.kind}`);
      const [f1, f2] = a.bandHz ?? [0.01, 0.05];
      return { a, start: resolveTime(a.start) / 1000, end: resolveTime(a.end) / 1000, bank: sineBank(`${a.id}|Z`, f1, f2, 32, a.amplitude) };
    });
  const d: [number, number, number] = [0, 0, 0];
  const F = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const t = t0 + k;
    // Sq in local solar time; the day-to-day factor changes at local midnight (Sq ≈ 0 there).
    const lh = t / 3600 + lonH;
    const lt = lh - 24 * M.floor(lh / 24);
    d[0] = 0;
    d[1] = 0;
    d[2] = 0;
    if (lt > 4.5 && lt < 18.5) {
      const f = 0.7 + 0.6 * uniformAt(sDay, M.floor(lh / 24));
      const ph = (2 * M.PI * (lt - 4.5)) / 14;
      const bump = 0.5 - 0.5 * M.cos(ph);
      d[0] = st.sq.H * bump * f;
      d[1] = -st.sq.E * M.sin(ph) * f;
      d[2] = st.sq.Z * bump * f;
    }
    if (storms.length) addStorms(storms, st, t, d);
    for (const u of ulf) {
      const env = taper(t, u.start, u.end, 600);
      if (env > 0) d[2] += env * sineBankAt(u.bank, t);
    }
    const x = X0 + X[k] + d[0] * cosD - d[1] * sinD + 0.04 * gaussAt(sX, t);
    const y = Y0 + Y[k] + d[0] * sinD + d[1] * cosD + 0.04 * gaussAt(sY, t);
    const z = st.mainField.Z + Z[k] + d[2] + 0.04 * gaussAt(sZ, t);
    X[k] = x;
    Y[k] = y;
    Z[k] = z;
    F[k] = M.sqrt(x * x + y * y + z * z) + st.deltaF + 0.02 * gaussAt(sF, t);
  }
  const elements = st.elements.split('');
  let values: Float64Array[];
  if (st.elements === 'HDZF') {
    const H = new Float64Array(n);
    const D = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      H[k] = M.hypot(X[k], Y[k]);
      D[k] = (M.atan2(Y[k], X[k]) / RAD) * 60; // minutes of arc (IAGA-2002 §1.2)
    }
    values = [H, D, Z, F];
  } else values = [X, Y, Z, F];
  const sentinel = values.map(() => new Uint8Array(n));
  const col = (el: string): number => {
    const i = elements.indexOf(el);
    if (i < 0) throw new Error(`${st.code}: element ${el} is not in ${st.elements}`);
    return i;
  };
  const inRange = (ms: number): number => {
    const k = ms / 1000 - t0;
    return Number.isInteger(k) && k >= 0 && k < n ? k : -1;
  };

  const spikes: GeomagSeconds['spikes'] = [];
  for (const s of scenario.spikes.filter((x) => x.station === st.code)) {
    const ms = resolveTime(s.time);
    const k = inRange(ms);
    if (k < 0) continue;
    values[col(s.element)][k] += s.nT;
    spikes.push({ time: ms, element: s.element, nT: s.nT });
  }
  // Round to the file's 0.01 resolution now, so minute means are means of what the .sec holds.
  for (const v of values) for (let k = 0; k < n; k++) v[k] = M.round(v[k] * 100) / 100;

  for (const g of scenario.gaps.filter((x) => x.source === 'geomag' && x.station === st.code)) {
    const a = M.max(0, M.ceil(resolveTime(g.start) / 1000 - t0));
    const b = M.min(n, M.ceil(resolveTime(g.end) / 1000 - t0));
    for (const el of g.elements ?? elements) {
      const c = col(el);
      for (let k = a; k < b; k++) {
        values[c][k] = NaN;
        sentinel[c][k] = SENTINEL_MISSING;
      }
    }
  }
  for (const r of scenario.notRecorded.filter((x) => x.station === st.code)) {
    const day = Date.parse(r.day + 'T00:00:00Z') / 1000;
    const a = M.max(0, day - t0);
    const b = M.min(n, day + 86400 - t0);
    const c = col(r.element);
    for (let k = a; k < b; k++) {
      values[c][k] = NaN;
      sentinel[c][k] = SENTINEL_NOT_RECORDED;
    }
  }
  // A spike hidden by a gap was never written.
  const written = spikes.filter((s) => sentinel[col(s.element)][s.time / 1000 - t0] === 0);
  return { station: st, t0, n, elements, values, sentinel, spikes: written };
}

/** Minute means of the seconds: stamps m (epoch s), mean of [m−30, m+29]; 90 % rule for fills. */
export function minuteMeans(sec: GeomagSeconds, firstMinute: number, count: number): { times: Float64Array; values: Float64Array[]; sentinel: Uint8Array[] } {
  const times = new Float64Array(count);
  const values = sec.values.map(() => new Float64Array(count));
  const sentinel = sec.values.map(() => new Uint8Array(count));
  for (let m = 0; m < count; m++) {
    const stamp = firstMinute + 60 * m;
    times[m] = stamp * 1000;
    const a = stamp - 30 - sec.t0;
    if (a < 0 || a + 60 > sec.n) throw new Error('minuteMeans: seconds do not cover the minute window');
    for (let c = 0; c < sec.values.length; c++) {
      const v = sec.values[c];
      const s = sec.sentinel[c];
      let sum = 0;
      let ok = 0;
      let notRec = 0;
      for (let k = a; k < a + 60; k++) {
        if (s[k] === 0) {
          sum += v[k];
          ok++;
        } else if (s[k] === SENTINEL_NOT_RECORDED) notRec++;
      }
      if (ok >= 54) values[c][m] = sum / ok;
      else {
        values[c][m] = NaN;
        sentinel[c][m] = notRec > 60 - ok - notRec ? SENTINEL_NOT_RECORDED : SENTINEL_MISSING;
      }
    }
  }
  return { times, values, sentinel };
}

function header(st: GeomagStation, cadence: 'sec' | 'min') {
  return {
    iagaCode: st.code,
    source: 'Kakioka Magnetic Observatory, JMA',
    stationName: st.name,
    latitude: st.latitude,
    longitude: st.longitude,
    elevation: st.elevation,
    reported: st.elements,
    sensorOrientation: 'HDZ',
    digitalSampling: '0.1 second',
    intervalType: cadence === 'sec' ? 'Average 1-Second' : 'Average 1-Minute (00:30-01:29)',
    dataType: 'Variation',
    comments: [
      ' SYNTHETIC DEMO DATA written by geonode generate, not KMO data.',
      ' Injected storms, anomalies, spikes and gaps: see products/truth.json.',
      ...(st.elements === 'HDZF' ? [' D is in minutes of arc.'] : []),
      ...(cadence === 'min' ? [' Minute values: boxcar mean of the 1-second values (00:30-01:29).'] : []),
    ],
  };
}

export interface GeomagResult {
  files: ProductFileTruth[];
  spikes: Array<{ station: string; time: string; element: string; nT: number; file: string }>;
}

/** Write the sec and min day files of every station for the days [firstDayMs, +days). */
export function writeGeomag(root: string, stations: readonly GeomagStation[], scenario: ProductsScenario, firstDayMs: number, days: number): GeomagResult {
  const out: GeomagResult = { files: [], spikes: [] };
  for (const st of stations) {
    const t0 = firstDayMs / 1000 - MARGIN_S;
    const sec = synthGeomagSeconds(st, scenario, t0, days * 86400 + 2 * MARGIN_S);
    const code = st.code.toLowerCase();
    for (let d = 0; d < days; d++) {
      const dayMs = firstDayMs + d * DAY_MS;
      const from = MARGIN_S + d * 86400;
      const to = from + 86400;
      const times = new Float64Array(86400);
      for (let k = 0; k < 86400; k++) times[k] = dayMs + k * 1000;
      const cols: IagaWriteColumn[] = sec.elements.map((el, c) => ({ element: el, values: sec.values[c].subarray(from, to), sentinel: sec.sentinel[c].subarray(from, to) }));
      const secRel = `products/geomag/${st.code}/${code}${ymd(dayMs)}vsec.sec`;
      const secBuf = Buffer.concat([Buffer.from(formatIagaHeader(header(st, 'sec'), cols), 'latin1'), formatIagaRows(times, cols)]);
      out.files.push(fileTruth(writeProductFile(root, secRel, secBuf), st, 'PT1S', times, sec.elements, sec.sentinel.map((s) => s.subarray(from, to))));
      for (const s of sec.spikes) if (s.time >= dayMs && s.time < dayMs + DAY_MS) out.spikes.push({ station: st.code, time: isoMs(s.time), element: s.element, nT: s.nT, file: secRel });

      const min = minuteMeans(sec, dayMs / 1000, 1440);
      const mcols: IagaWriteColumn[] = sec.elements.map((el, c) => ({ element: el, values: min.values[c], sentinel: min.sentinel[c] }));
      const minRel = `products/geomag/${st.code}/${code}${ymd(dayMs)}vmin.min`;
      const minBuf = Buffer.concat([Buffer.from(formatIagaHeader(header(st, 'min'), mcols), 'latin1'), formatIagaRows(min.times, mcols)]);
      out.files.push(fileTruth(writeProductFile(root, minRel, minBuf), st, 'PT1M', min.times, sec.elements, min.sentinel));
    }
  }
  return out;
}

function fileTruth(w: { path: string; bytes: number; sha256: string }, st: GeomagStation, cadence: string, times: Float64Array, elements: string[], sent: Uint8Array[]): ProductFileTruth {
  const sentinels: NonNullable<ProductFileTruth['sentinels']> = {};
  elements.forEach((el, c) => {
    const s = countSentinels(sent[c], 0, sent[c].length);
    if (s) sentinels[el] = s;
  });
  return {
    ...w,
    source: 'geomag',
    station: st.code,
    cadence,
    first: isoMs(times[0]),
    last: isoMs(times[times.length - 1]),
    rows: times.length,
    elements,
    ...(Object.keys(sentinels).length ? { sentinels } : {}),
  };
}
