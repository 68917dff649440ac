/**
 * The demo's synthetic earthquake catalogue and the body-wave signals it leaves at a station.
 *
 * The mainshock is the real 2020-09-12T02:44:11 UTC M6.2 off Miyagi (38.75N 142.26E, 35 km)
 * that the original project studied; the other events are invented foreshocks/aftershocks and
 * background seismicity nearby. Travel times use a homogeneous half-space (vp 6.5, vs 3.75 km/s,
 * straight-line hypocentral distance) — simple, documented, and easy to check in tests.
 */
import { parseIsoToNs, NS_PER_SEC } from '../formats/time';
import { hashString, mulberry32 } from './prng';

export const VP_KM_S = 6.5;
export const VS_KM_S = 3.75;
const EARTH_RADIUS_KM = 6371.0;

export interface DemoEvent {
  id: string;
  /** Origin time, ISO UTC without zone (millisecond precision). */
  time: string;
  latitude: number;
  longitude: number;
  depthKm: number;
  magnitude: number;
  magType: string;
  region: string;
  /** True for the real mainshock, false for invented events. */
  real: boolean;
}

export const DEMO_EVENTS: readonly DemoEvent[] = [
  { id: 'demo20200911a', time: '2020-09-11T07:23:41.500', latitude: 38.92, longitude: 142.05, depthKm: 45, magnitude: 3.9, magType: 'Mj', region: 'NEAR EAST COAST OF HONSHU, JAPAN', real: false },
  { id: 'demo20200911b', time: '2020-09-11T19:40:12.000', latitude: 40.55, longitude: 141.9, depthKm: 60, magnitude: 3.1, magType: 'Mj', region: 'NEAR EAST COAST OF HONSHU, JAPAN', real: false },
  { id: 'demo20200912a', time: '2020-09-12T02:44:11.000', latitude: 38.75, longitude: 142.26, depthKm: 35, magnitude: 6.2, magType: 'Mj', region: 'OFF EAST COAST OF HONSHU, JAPAN', real: true },
  { id: 'demo20200912b', time: '2020-09-12T03:12:58.200', latitude: 38.71, longitude: 142.35, depthKm: 32, magnitude: 4.6, magType: 'Mj', region: 'OFF EAST COAST OF HONSHU, JAPAN', real: false },
  { id: 'demo20200912c', time: '2020-09-12T09:51:06.800', latitude: 38.8, longitude: 142.18, depthKm: 38, magnitude: 3.4, magType: 'Mj', region: 'OFF EAST COAST OF HONSHU, JAPAN', real: false },
  { id: 'demo20200913a', time: '2020-09-13T14:05:33.100', latitude: 37.95, longitude: 141.8, depthKm: 52, magnitude: 4.1, magType: 'Mj', region: 'NEAR EAST COAST OF HONSHU, JAPAN', real: false },
];

export function eventOriginNs(ev: DemoEvent): bigint {
  const ns = parseIsoToNs(ev.time);
  if (ns === null) throw new Error(`bad demo event time ${ev.time}`);
  return ns;
}

/** Great-circle distance in km (haversine). */
export function epicentralDistanceKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Back azimuth (station -> event), degrees clockwise from north. */
export function backAzimuthDeg(staLat: number, staLon: number, evLat: number, evLon: number): number {
  const rad = Math.PI / 180;
  const y = Math.sin((evLon - staLon) * rad) * Math.cos(evLat * rad);
  const x = Math.cos(staLat * rad) * Math.sin(evLat * rad) - Math.sin(staLat * rad) * Math.cos(evLat * rad) * Math.cos((evLon - staLon) * rad);
  return ((Math.atan2(y, x) / rad) % 360 + 360) % 360;
}

export interface Arrival {
  eventId: string;
  epicentralKm: number;
  hypocentralKm: number;
  backAzimuth: number;
  originNs: bigint;
  pNs: bigint;
  sNs: bigint;
}

export function arrivalAt(ev: DemoEvent, staLat: number, staLon: number, staElevM: number): Arrival {
  const epi = epicentralDistanceKm(ev.latitude, ev.longitude, staLat, staLon);
  // Straight ray from the hypocentre up to the station (elevation adds to the vertical leg).
  const hypo = Math.hypot(epi, ev.depthKm + staElevM / 1000);
  const originNs = eventOriginNs(ev);
  // Round to whole microseconds so the times in truth.json are exact.
  const toNs = (sec: number) => originNs + BigInt(Math.round(sec * 1e6)) * 1000n;
  return {
    eventId: ev.id,
    epicentralKm: epi,
    hypocentralKm: hypo,
    backAzimuth: backAzimuthDeg(staLat, staLon, ev.latitude, ev.longitude),
    originNs,
    pNs: toNs(hypo / VP_KM_S),
    sNs: toNs(hypo / VS_KM_S),
  };
}

export type Component = 'Z' | 'N' | 'E';

/** Everything needed to add one event's P + S wavetrain to one channel, precomputed. */
export interface EventSignal {
  eventId: string;
  pNs: bigint;
  sNs: bigint;
  /** Peak amplitudes in counts of the P and S envelopes on this component. */
  ampP: number;
  ampS: number;
  /** Envelope rise time (s), plateau (source duration, s) and exponential coda decay (s). */
  rise: number;
  plateau: number;
  tau: number;
  /** Time (s after the S arrival) after which the wavetrain is below half a count and ignored. */
  durationAfterS: number;
  /** Carrier: sum of sinusoids with these frequencies (Hz), phases and weights, separately for P and S. */
  freqsP: Float64Array;
  phasesP: Float64Array;
  freqsS: Float64Array;
  phasesS: Float64Array;
  weight: number;
  dominantHz: number;
}

const CARRIER_TERMS = 8;

/**
 * Peak ground velocity (m/s) of the S wave: a simple magnitude–distance relation with
 * log-amplitude rising 1 per magnitude unit and geometric + anelastic decay ~R^-1.8.
 */
export function peakVelocity(magnitude: number, hypocentralKm: number): number {
  return 10 ** (magnitude - 1.8 * Math.log10(Math.max(hypocentralKm, 5)) - 4.9);
}

/** Dominant frequency (Hz): lower for bigger events (corner frequency) and farther stations (attenuation). */
export function dominantFrequency(magnitude: number, hypocentralKm: number): number {
  return 10 ** (1.35 - 0.22 * magnitude) / (1 + hypocentralKm / 400);
}

export function eventSignalFor(
  ev: DemoEvent,
  arrival: Arrival,
  component: Component,
  sensitivity: number,
  sampleRate: number,
  seedKey: string,
): EventSignal {
  const m = ev.magnitude;
  const peakCounts = peakVelocity(m, arrival.hypocentralKm) * sensitivity;
  const baz = (arrival.backAzimuth * Math.PI) / 180;
  // S is strongest on the horizontals, P on the vertical (near-vertical incidence).
  let pFactor: number;
  let sFactor: number;
  if (component === 'Z') {
    pFactor = 0.35;
    sFactor = 0.45;
  } else {
    const proj = component === 'N' ? Math.abs(Math.cos(baz)) : Math.abs(Math.sin(baz));
    pFactor = 0.08 + 0.1 * proj;
    sFactor = 0.5 + 0.5 * (1 - proj);
  }
  const dominant = Math.min(dominantFrequency(m, arrival.hypocentralKm), 0.3 * sampleRate);
  const tau = 10 ** (0.25 * m - 0.3) + arrival.hypocentralKm / 60;
  const plateau = 10 ** (0.5 * m - 2.3);
  const rise = 0.5 / dominant;
  const ampS = peakCounts * sFactor;
  const ampP = peakCounts * pFactor;
  const rnd = mulberry32(hashString(`${seedKey}|${ev.id}`));
  const carrier = () => {
    const f = new Float64Array(CARRIER_TERMS);
    const ph = new Float64Array(CARRIER_TERMS);
    for (let i = 0; i < CARRIER_TERMS; i++) {
      // Log-uniform over half an octave below to one octave above the dominant frequency.
      f[i] = Math.min(dominant * 2 ** (rnd() * 1.5 - 0.5), 0.45 * sampleRate);
      ph[i] = rnd() * 2 * Math.PI;
    }
    return [f, ph] as const;
  };
  const [freqsP, phasesP] = carrier();
  const [freqsS, phasesS] = carrier();
  const durationAfterS = plateau + tau * Math.log(Math.max(ampS, ampP, 1) / 0.25);
  return {
    eventId: ev.id,
    pNs: arrival.pNs,
    sNs: arrival.sNs,
    ampP,
    ampS,
    rise,
    plateau,
    tau,
    durationAfterS,
    freqsP,
    phasesP,
    freqsS,
    phasesS,
    weight: Math.sqrt(2 / CARRIER_TERMS),
    dominantHz: dominant,
  };
}

/** Envelope of one phase, t seconds after its onset. */
function envelope(t: number, rise: number, plateau: number, tau: number): number {
  if (t <= 0) return 0;
  const up = t < rise ? t / rise : 1;
  return t <= plateau ? up : up * Math.exp(-(t - plateau) / tau);
}

/**
 * Add the wavetrains of `sig` to out[k] for samples at absolute index idx0 + k (index =
 * epoch-ns / sample period). Pure function of time, so block boundaries do not matter.
 */
export function addEventSignal(out: Float64Array, idx0: number, sampleRate: number, sig: EventSignal): void {
  const periodNs = BigInt(Math.round(1e9 / sampleRate));
  // Work in seconds relative to the P arrival to keep float arguments small (precision).
  const pIdx = Number(sig.pNs / periodNs) + Number(sig.pNs % periodNs) / Number(periodNs);
  const sMinusP = Number(sig.sNs - sig.pNs) / 1e9;
  const endSec = sMinusP + sig.durationAfterS;
  const kFirst = Math.max(0, Math.ceil(pIdx - idx0));
  const kLast = Math.min(out.length - 1, Math.floor(pIdx + endSec * sampleRate - idx0));
  const w = sig.weight;
  const twoPi = 2 * Math.PI;
  for (let k = kFirst; k <= kLast; k++) {
    const tP = (idx0 + k - pIdx) / sampleRate;
    let v = 0;
    const eP = envelope(tP, sig.rise, sig.plateau, sig.tau);
    if (eP > 0) {
      let c = 0;
      for (let j = 0; j < sig.freqsP.length; j++) c += Math.sin(twoPi * sig.freqsP[j] * tP + sig.phasesP[j]);
      v += sig.ampP * eP * c * w;
    }
    const tS = tP - sMinusP;
    const eS = envelope(tS, sig.rise, sig.plateau, sig.tau);
    if (eS > 0) {
      let c = 0;
      for (let j = 0; j < sig.freqsS.length; j++) c += Math.sin(twoPi * sig.freqsS[j] * tS + sig.phasesS[j]);
      v += sig.ampS * eS * c * w;
    }
    out[k] += v;
  }
}

/** Origin time of an event in epoch seconds (display helpers). */
export function eventOriginSeconds(ev: DemoEvent): number {
  return Number(eventOriginNs(ev) / NS_PER_SEC);
}
