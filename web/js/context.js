// @ts-check
/** Data several views share, fetched once per page load (all from the public API). */
import { fetchChannels, fetchEvents, fetchSeismicStations, getJson, parseUtc, url } from './api.js';

/** @type {Map<string, Promise<any>>} */
const cache = new Map();
/** @template T @param {string} key @param {() => Promise<T>} fn @returns {Promise<T>} */
function once(key, fn) {
  let p = cache.get(key);
  if (!p) {
    p = fn();
    cache.set(key, p);
    p.catch(() => cache.delete(key)); // retry on the next view
  }
  return p;
}

export const seismicStations = () => once('stations', fetchSeismicStations);
export const channels = () => once('channels', fetchChannels);
export const events = () => once('events', () => fetchEvents());

/**
 * Per-channel extents from fdsnws-availability (/extent).
 * @returns {Promise<{ id: string, network: string, station: string, location: string, channel: string, sampleRate: number, earliestMs: number, latestMs: number }[]>}
 */
export const extents = () =>
  once('extents', async () => {
    const j = await getJson(url('/fdsnws/availability/1/extent', { format: 'json' }));
    return (j?.datasources ?? []).map((/** @type {any} */ d) => ({
      id: `${d.network}.${d.station}.${d.location}.${d.channel}`,
      network: d.network,
      station: d.station,
      location: d.location,
      channel: d.channel,
      sampleRate: Number(d.samplerate),
      earliestMs: parseUtc(d.earliest),
      latestMs: parseUtc(d.latest),
    }));
  });

/** The time span covered by waveform data (for default windows), or null. */
export async function dataSpan() {
  const ex = await extents().catch(() => []);
  if (ex.length === 0) return null;
  return { startMs: Math.min(...ex.map((e) => e.earliestMs)), endMs: Math.max(...ex.map((e) => e.latestMs)) };
}

/** The largest event inside the data span (else the largest overall), for default windows. */
export async function focusEvent() {
  const [evs, span] = await Promise.all([events().catch(() => []), dataSpan()]);
  const inSpan = span ? evs.filter((e) => e.timeMs >= span.startMs && e.timeMs <= span.endMs) : [];
  const pool = inSpan.length ? inSpan : evs;
  return pool.reduce((/** @type {any} */ best, e) => (!best || e.magnitude > best.magnitude ? e : best), null);
}
