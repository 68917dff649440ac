/**
 * The demo scenario: which signal each demo channel carries (noise levels per station, the
 * events), where the deliberate gaps and the one overlap are, and `demoSamples()` — the exact
 * samples the generator writes for any window, used by tests as independent truth.
 */
import { nsToIso, parseIsoToNs } from '../formats/time';
import { arrivalAt, DEMO_EVENTS, eventSignalFor, type Arrival, type Component, type DemoEvent } from './quakes';
import { samplePeriodNs, sampleIndexAt, synthesize, type NoiseLevels, type SignalSource } from './signals';
import { DEMO_STATIONS, findDemoStream, streamId, type DemoChannel, type DemoStation } from './stations';

/** Ground-velocity noise levels per station (m/s RMS): coastal sites have stronger microseism,
 * JYT (Kanto plain) the most cultural noise, JSD (Sea of Japan side) a shorter microseism period. */
export const STATION_NOISE: Readonly<Record<string, NoiseLevels>> = {
  'II.ERM': { microseism: 6e-7, microseismHz: 0.17, background: 8e-9, cultural: 3e-9, utcOffsetHours: 9 },
  'JP.JKA': { microseism: 2.5e-7, microseismHz: 0.21, background: 2e-9, cultural: 4e-9, utcOffsetHours: 9 },
  'JP.JMM': { microseism: 3.5e-7, microseismHz: 0.2, background: 3e-9, cultural: 8e-9, utcOffsetHours: 9 },
  'JP.JSD': { microseism: 5e-7, microseismHz: 0.26, background: 6e-9, cultural: 5e-9, utcOffsetHours: 9 },
  'JP.JTM': { microseism: 4e-7, microseismHz: 0.19, background: 3e-9, cultural: 6e-9, utcOffsetHours: 9 },
  'JP.JYT': { microseism: 4.5e-7, microseismHz: 0.18, background: 5e-9, cultural: 5e-8, utcOffsetHours: 9 },
};

export function componentOf(channel: string): Component {
  const c = channel[2];
  return c === 'N' || c === '1' ? 'N' : c === 'E' || c === '2' ? 'E' : 'Z';
}

/** Arrivals of every demo event at a channel's coordinates. */
export function demoArrivals(channel: DemoChannel, events: readonly DemoEvent[] = DEMO_EVENTS): Arrival[] {
  return events.map((ev) => arrivalAt(ev, channel.latitude, channel.longitude, channel.elevation));
}

const sourceCache = new Map<string, SignalSource>();

/** The SignalSource of one demo channel (cached: sources carry precomputed filter state). */
export function demoSource(station: DemoStation, channel: DemoChannel): SignalSource {
  const key = streamId(station.network, station.station, channel.location, channel.channel);
  let src = sourceCache.get(key);
  if (src) return src;
  const noise = STATION_NOISE[`${station.network}.${station.station}`];
  if (!noise) throw new Error(`no noise levels for ${key}`);
  const component = componentOf(channel.channel);
  const arrivals = demoArrivals(channel);
  const events = DEMO_EVENTS.map((ev, i) => eventSignalFor(ev, arrivals[i], component, channel.sensitivity, channel.sampleRate, key));
  src = { key, sampleRate: channel.sampleRate, sensitivity: channel.sensitivity, component, noise, events };
  sourceCache.set(key, src);
  return src;
}

/**
 * The exact samples (counts) the generator writes for `NET.STA.LOC.CHA` from startNs (must be on
 * the channel's sample grid) for n samples — whether or not that span is in a gap.
 */
export function demoSamples(network: string, station: string, location: string, channel: string, startNs: bigint, n: number): Int32Array {
  const s = findDemoStream(network, station, location, channel);
  if (!s) throw new Error(`not a demo channel: ${streamId(network, station, location, channel)}`);
  return synthesize(demoSource(s.station, s.channel), sampleIndexAt(startNs, s.channel.sampleRate), n);
}

/** A span of missing data: samples with startNs <= t < endNs are absent from the archive. */
export interface DemoGap {
  network: string;
  station: string;
  location: string;
  channel: string;
  startNs: bigint;
  endNs: bigint;
}

/** A span written twice: an extra run of records (same samples) appended to the day file. */
export interface DemoOverlap extends DemoGap {
  note: string;
}

function t(iso: string): bigint {
  const ns = parseIsoToNs(iso);
  if (ns === null) throw new Error(`bad time ${iso}`);
  return ns;
}

/**
 * Deliberate data problems. They sit at fixed times; a generated range that does not contain
 * them simply does not have them. The event-day ones are near the mainshock so that even a
 * one-day or short-window demo shows a gap and the overlap.
 */
export const DEMO_GAPS: readonly DemoGap[] = [
  { network: 'JP', station: 'JSD', location: '', channel: 'BHZ', startNs: t('2020-09-11T05:10:00'), endNs: t('2020-09-11T05:14:30') },
  // Telemetry dropout during strong shaking of the mainshock.
  { network: 'JP', station: 'JMM', location: '', channel: 'BHN', startNs: t('2020-09-12T02:55:00'), endNs: t('2020-09-12T02:58:00') },
  { network: 'II', station: 'ERM', location: '10', channel: 'BHE', startNs: t('2020-09-13T07:30:00'), endNs: t('2020-09-13T07:36:00') },
];

export const DEMO_OVERLAP: DemoOverlap = {
  network: 'JP',
  station: 'JYT',
  location: '',
  channel: 'BHZ',
  // Not aligned with the primary record boundaries, as a re-sent telemetry packet would be.
  startNs: t('2020-09-12T02:50:00.350'),
  endNs: t('2020-09-12T02:51:30.350'),
  note: 'records re-sent: samples identical to the primary series, appended at the end of the same day file',
};

/** First generated day of the default demo: centred on the 2020-09-12 mainshock. */
export function defaultDemoStartDay(days: number): bigint {
  return t('2020-09-12') - BigInt(Math.floor((days - 1) / 2)) * 86_400_000_000_000n;
}

export function isoOrNull(ns: bigint | null): string | null {
  return ns === null ? null : nsToIso(ns, 'auto');
}

export { DEMO_STATIONS, samplePeriodNs };
