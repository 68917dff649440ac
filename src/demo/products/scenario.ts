/**
 * The products demo scenario as data: stations, the global storm, injected local anomalies,
 * weather (AEF confounders), data problems (gaps, spikes, not-recorded elements, VLF dropouts).
 *
 * Everything the generators inject comes from these tables, so a later scenario (anomalies N
 * days before chosen catalogue events, more storms) is a table edit, not new code: times may be
 * absolute ISO strings or relative to a catalogue event (`{ event, offsetHours }`), and each
 * anomaly `kind` maps to one injector in geomag.ts / aef.ts / vlf.ts. Items outside the
 * generated days are simply not injected (and not listed in truth.json).
 */
import { DEMO_EVENTS } from '../quakes';

export type ProductSource = 'geomag' | 'aef' | 'vlf';

/** An absolute UTC time (ISO, `Z` optional) or an offset from a catalogue event's origin time. */
export type TimeRef = string | { event: string; offsetHours: number };

export interface GeomagStation {
  code: 'KAK' | 'KNY' | 'MMB';
  name: string;
  latitude: number;
  longitude: number;
  elevation: number;
  /** Element order written in the files (column identities come from the DATE record). */
  elements: 'XYZF' | 'HDZF';
  /**
   * Approximate 2020 main field (IGRF-like, rounded): horizontal intensity H and vertical Z in
   * nT, declination D in degrees (west negative). Good to ~1 %, which is all a demo needs.
   */
  mainField: { H: number; D: number; Z: number };
  /**
   * Quiet-day (Sq) amplitudes in nT: H bump at local noon (negative north of the Sq focus,
   * positive south of it: KNY sits south), eastward swing morning→afternoon, Z noon dip.
   */
  sq: { H: number; E: number; Z: number };
  /** Storm-time scale of the global ΔH (≈ cos of geomagnetic latitude). */
  stormScale: number;
  /** Offset (nT) of the scalar magnetometer's F from |B| of the vector instrument (site difference). */
  deltaF: number;
}

/** Approximate coordinates: data-formats.md §1.6; main-field values rounded from IGRF-13 for 2020. */
export const GEOMAG_STATIONS: readonly GeomagStation[] = [
  { code: 'KAK', name: 'Kakioka', latitude: 36.232, longitude: 140.186, elevation: 36, elements: 'XYZF', mainField: { H: 29950, D: -7.6, Z: 35300 }, sq: { H: -22, E: 28, Z: -18 }, stormScale: 0.95, deltaF: 1.4 },
  { code: 'KNY', name: 'Kanoya', latitude: 31.424, longitude: 130.88, elevation: 107, elements: 'HDZF', mainField: { H: 32900, D: -6.5, Z: 32300 }, sq: { H: 14, E: 24, Z: -12 }, stormScale: 0.98, deltaF: -0.8 },
  { code: 'MMB', name: 'Memambetsu', latitude: 43.91, longitude: 144.189, elevation: 42, elements: 'XYZF', mainField: { H: 26800, D: -9.6, Z: 40900 }, sq: { H: -32, E: 34, Z: -22 }, stormScale: 0.9, deltaF: 0.6 },
];

export const AEF_STATION = { code: 'KAK', name: 'Kakioka', latitude: 36.232, longitude: 140.186, elevation: 36 } as const;

/** ISEE Moshiri ELF/VLF site (Hokkaido; 50 Hz grid). */
export const VLF_STATION = { code: 'MOS', name: 'Moshiri', latitude: 44.365, longitude: 142.273, elevation: 280 } as const;

/**
 * Global geomagnetic storm, the same ΔH(t) at every observatory (times stormScale): sudden
 * commencement (tanh step), main phase (ΔH falls to minNt), exponential recovery, plus Pc5
 * (2–7 mHz) and Pc3-4 (10–50 mHz) pulsations with identical phases everywhere. Pc3-4 power in
 * the ULF band is exactly why storm days must be kept out of Z/G baselines.
 */
export interface StormSpec {
  id: string;
  ssc: TimeRef;
  /** Sudden-commencement step (nT) and its tanh time constant (s): sets the peak dB/dt. */
  sscNt: number;
  sscRiseSeconds: number;
  /** Main phase: ΔH reaches minNt this many hours after the SSC (Dst-like). */
  mainPhaseHours: number;
  minNt: number;
  /** e-folding time of the recovery (h). */
  recoveryHours: number;
  /** Pulsation amplitudes (nT) in H, active from the SSC to `pulsationHours` after it. */
  pc5Nt: number;
  pc34Nt: number;
  pulsationHours: number;
  /** VLF at Moshiri: chorus/hiss (0.8–8 kHz) gain (dB) from the SSC for `vlfHours`. */
  vlfChorusDb: number;
  vlfHours: number;
}

export interface AnomalySpec {
  id: string;
  source: ProductSource;
  station: string;
  /**
   * geomag `ulf-z-enhancement`: extra 10–50 mHz power in Z only (raises Z/G), amplitude = nT RMS.
   * aef `aef-negative-bay`: PG pulled down by `amplitude` V/m (negative) with smooth edges.
   * vlf `vlf-band-enhancement`: +amplitude dB on the natural emission in bandHz, both channels.
   */
  kind: 'ulf-z-enhancement' | 'aef-negative-bay' | 'vlf-band-enhancement';
  start: TimeRef;
  end: TimeRef;
  amplitude: number;
  units: string;
  bandHz?: [number, number];
  /** Catalogue event the anomaly is meant to precede (for association tests). */
  relatedEvent?: string;
  note?: string;
}

/** Weather at the AEF site: rain/showers turn PG negative (valid data, not an anomaly). */
export interface WeatherSpec {
  station: 'KAK';
  kind: 'rain' | 'shower';
  start: TimeRef;
  end: TimeRef;
  /** Typical negative PG reached (V/m). */
  depthVm: number;
}

/** Missing data written as 9-filled values (or, for VLF, dropped frames / FILLVAL / no file). */
export interface GapSpec {
  source: ProductSource;
  station: string;
  start: TimeRef;
  end: TimeRef;
  /** geomag: which elements (default all four). vlf: which channels (default both). */
  elements?: string[];
  /** vlf only: 'drop' = frames absent, 'fill' = frames present with FILLVAL, 'file' = no hour file. */
  vlfMode?: 'drop' | 'fill' | 'file';
  note: string;
}

/**
 * A one-sample spike in a 1-second geomagnetic series (instrument/electrical interference),
 * added to one of the file's elements (D spikes in arc-minutes); the minute mean smears it.
 */
export interface SpikeSpec {
  station: string;
  time: TimeRef;
  element: 'X' | 'Y' | 'Z' | 'F' | 'H' | 'D';
  nT: number;
}

/**
 * An element not recorded for a whole UTC day of 1-second data: the column is 88888-filled.
 * The minute file is derived from the seconds, so its column is 88888 as well.
 */
export interface NotRecordedSpec {
  station: string;
  /** UTC day YYYY-MM-DD. */
  day: string;
  element: 'X' | 'Y' | 'Z' | 'F' | 'H' | 'D';
  note: string;
}

export interface ProductsScenario {
  storms: StormSpec[];
  anomalies: AnomalySpec[];
  weather: WeatherSpec[];
  gaps: GapSpec[];
  spikes: SpikeSpec[];
  notRecorded: NotRecordedSpec[];
}

const MAIN = 'demo20200912a';

export const DEFAULT_PRODUCTS_SCENARIO: ProductsScenario = {
  // Day 3 of the default demo, well after the mainshock: storm-day exclusion is testable
  // without masking the pre-event day.
  storms: [
    { id: 'storm20200913', ssc: '2020-09-13T04:52:00Z', sscNt: 28, sscRiseSeconds: 12, mainPhaseHours: 7, minNt: -125, recoveryHours: 14, pc5Nt: 4, pc34Nt: 0.8, pulsationHours: 10, vlfChorusDb: 12, vlfHours: 12 },
  ],
  // Scored days of the default demo (21-day lead-in): 2020-09-05 .. 09-13. Each anomaly lies
  // inside one UTC day (the evaluation unit), on a day with fair weather at KAK and no storm.
  // ULF anomalies sit in the Z/G night (20–04 JST = 11–19 UTC); AEF bays are short enough
  // (< 5 % of the day below zero) for the day to stay "fair" under the doc's proxy.
  anomalies: [
    {
      id: 'anom-geomag-kak-ulf',
      source: 'geomag',
      station: 'KAK',
      kind: 'ulf-z-enhancement',
      // Night 22–02 JST before the mainshock (the Z/G window of the methods doc).
      start: { event: MAIN, offsetHours: -13.5 },
      end: { event: MAIN, offsetHours: -9.5 },
      amplitude: 0.9,
      units: 'nT RMS (Z, 10-50 mHz)',
      bandHz: [0.01, 0.05],
      relatedEvent: MAIN,
      note: 'KAK is ~340 km from the M6.2 epicentre (inside the Dobrovolsky radius 10^(0.43 M) ≈ 465 km); KNY and MMB stay quiet',
    },
    {
      id: 'anom-geomag-kak-ulf-2',
      source: 'geomag',
      station: 'KAK',
      kind: 'ulf-z-enhancement',
      start: '2020-09-07T12:30:00Z',
      end: '2020-09-07T17:30:00Z',
      amplitude: 0.8,
      units: 'nT RMS (Z, 10-50 mHz)',
      bandHz: [0.01, 0.05],
      relatedEvent: MAIN,
      note: 'an earlier ULF night at KAK, ~4.5 days before the mainshock (inside the 30-day window of daily features)',
    },
    {
      id: 'anom-geomag-mmb-ulf',
      source: 'geomag',
      station: 'MMB',
      kind: 'ulf-z-enhancement',
      start: '2020-09-09T13:00:00Z',
      end: '2020-09-09T18:00:00Z',
      amplitude: 1.0,
      units: 'nT RMS (Z, 10-50 mHz)',
      bandHz: [0.01, 0.05],
      note: 'no related event: MMB is ~600 km from the M6.2 epicentre, outside its Dobrovolsky radius. The detector must find it; the event association must not link it',
    },
    {
      id: 'anom-aef-kak-bay',
      source: 'aef',
      station: 'KAK',
      kind: 'aef-negative-bay',
      start: { event: MAIN, offsetHours: -6.5 },
      end: { event: MAIN, offsetHours: -5.25 },
      amplitude: -300,
      units: 'V/m',
      relatedEvent: MAIN,
      note: 'fair-weather negative bay, ≈ 45 min below zero (no rain in the weather table at that time)',
    },
    {
      id: 'anom-aef-kak-bay-2',
      source: 'aef',
      station: 'KAK',
      kind: 'aef-negative-bay',
      start: '2020-09-08T13:00:00Z',
      end: '2020-09-08T14:15:00Z',
      amplitude: -300,
      units: 'V/m',
      relatedEvent: MAIN,
      note: 'fair-weather negative bay, ≈ 45 min below zero, ~3.5 days before the mainshock',
    },
    {
      id: 'anom-vlf-mos-band',
      source: 'vlf',
      station: 'MOS',
      kind: 'vlf-band-enhancement',
      start: { event: MAIN, offsetHours: -9 },
      end: { event: MAIN, offsetHours: -7 },
      amplitude: 12,
      units: 'dB',
      bandHz: [1000, 3000],
      relatedEvent: MAIN,
      note: 'both channels; +12 dB on the natural emission in the band, ≈ 8 dB in the total PSD (which also holds sferics and mains); Moshiri is ~620 km from the epicentre',
    },
    {
      id: 'anom-vlf-mos-band-2',
      source: 'vlf',
      station: 'MOS',
      kind: 'vlf-band-enhancement',
      start: '2020-09-09T09:00:00Z',
      end: '2020-09-09T11:30:00Z',
      amplitude: 12,
      units: 'dB',
      bandHz: [3000, 8000],
      relatedEvent: MAIN,
      note: 'both channels, 3–8 kHz, ~2.7 days before the mainshock',
    },
  ],
  weather: [
    // Rain on the mainshock day: negative PG for hours, valid data and no anomaly (the day is
    // not fair weather under the proxy, so it is neither flagged nor part of a baseline).
    { station: 'KAK', kind: 'rain', start: '2020-09-12T08:20:00Z', end: '2020-09-12T10:50:00Z', depthVm: -320 },
    { station: 'KAK', kind: 'rain', start: '2020-09-13T03:10:00Z', end: '2020-09-13T07:40:00Z', depthVm: -350 },
  ],
  gaps: [
    { source: 'geomag', station: 'KNY', start: '2020-09-12T06:00:00Z', end: '2020-09-12T06:20:00Z', note: 'data logger restart: all elements 9-filled' },
    { source: 'geomag', station: 'MMB', start: '2020-09-11T22:13:05Z', end: '2020-09-11T22:13:47Z', note: 'short telemetry loss' },
    { source: 'geomag', station: 'KAK', start: '2020-09-13T00:10:00Z', end: '2020-09-13T00:15:00Z', elements: ['F'], note: 'scalar magnetometer reset: F only' },
    { source: 'aef', station: 'KAK', start: '2020-09-12T01:00:00Z', end: '2020-09-12T01:40:00Z', note: 'collector maintenance' },
    { source: 'aef', station: 'KAK', start: '2020-09-11T14:37:00Z', end: '2020-09-11T14:38:00Z', note: 'one lost minute' },
    { source: 'vlf', station: 'MOS', start: '2020-09-12T12:21:00Z', end: '2020-09-12T12:24:00Z', vlfMode: 'drop', note: 'recorder buffer overrun: frames absent' },
    { source: 'vlf', station: 'MOS', start: '2020-09-13T01:30:00Z', end: '2020-09-13T01:35:00Z', vlfMode: 'fill', elements: ['ch1'], note: 'NS channel saturated: FILLVAL frames' },
    { source: 'vlf', station: 'MOS', start: '2020-09-12T21:00:00Z', end: '2020-09-12T22:00:00Z', vlfMode: 'file', note: 'hour file missing from the archive' },
  ],
  spikes: [
    { station: 'KAK', time: '2020-09-11T03:17:42Z', element: 'X', nT: 340 },
    { station: 'KAK', time: '2020-09-12T17:05:09Z', element: 'Z', nT: -95 },
    { station: 'KNY', time: '2020-09-11T11:48:30Z', element: 'Z', nT: 620 },
    { station: 'KNY', time: '2020-09-13T19:22:01Z', element: 'H', nT: -48 },
    { station: 'MMB', time: '2020-09-12T09:31:55Z', element: 'Y', nT: 210 },
    { station: 'MMB', time: '2020-09-12T15:02:13Z', element: 'F', nT: 75 },
  ],
  notRecorded: [{ station: 'MMB', day: '2020-09-13', element: 'F', note: 'proton magnetometer off for the day' }],
};

const EVENT_MS = new Map(DEMO_EVENTS.map((e) => [e.id, Date.parse(e.time + 'Z')]));

/** Epoch ms of a TimeRef. */
export function resolveTime(ref: TimeRef): number {
  if (typeof ref === 'string') {
    const ms = Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(ref) ? ref : ref + 'Z');
    if (!Number.isFinite(ms)) throw new Error(`products scenario: bad time ${ref}`);
    return ms;
  }
  const ev = EVENT_MS.get(ref.event);
  if (ev === undefined) throw new Error(`products scenario: unknown catalogue event ${ref.event}`);
  return ev + Math.round(ref.offsetHours * 3_600_000);
}

export const isoMs = (ms: number): string => new Date(ms).toISOString();
