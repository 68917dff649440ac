// @ts-check
/**
 * The page's only way to data: the node's public API (/fdsnws/*, /products/*), same origin.
 * Errors are thrown as ApiError with the HTTP status and the server's message, so panels can
 * show them; a 404 from /products/* means "this product is not served by this node (yet)".
 */

export class ApiError extends Error {
  /** @param {string} url @param {number} status @param {string} message */
  constructor(url, status, message, routeAnswered = false) {
    super(message);
    this.name = 'ApiError';
    this.url = url;
    this.status = status;
    /** The route itself answered (a JSON error of the /products API), so a 404 means "no such thing", not "no such route". */
    this.routeAnswered = routeAnswered;
  }
  /** A product route that this node does not serve (yet): a 404 that is not an answer of an existing /products route. */
  get notAvailable() {
    return this.status === 404 && !this.routeAnswered && /^\/products\//.test(new URL(this.url, location.href).pathname);
  }
}

/** Build `path?query` dropping empty values. @param {string} path @param {Record<string, string|number|undefined|null>} [q] */
export function url(path, q = {}) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `${path}?${s}` : path;
}

/** Count of requests made (the e2e test reads it to check that views stay within budget). */
export const stats = { requests: 0 };

/** @param {string} u @param {RequestInit} [init] */
async function request(u, init) {
  stats.requests++;
  let res;
  try {
    res = await fetch(u, init);
  } catch (e) {
    throw new ApiError(u, 0, `network error: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (res.status === 204) return null; // FDSN "no data"
  if (!res.ok) {
    let text = '';
    try {
      text = await res.text();
    } catch {
      /* ignore */
    }
    const { message, routeAnswered } = errorInfo(res.status, text);
    throw new ApiError(u, res.status, message, routeAnswered);
  }
  return res;
}

/**
 * The server's error text: FDSN plain text, the /products JSON ({error:{status, message}} and/or
 * HAPI {status:{code, message}}), or HTML. `routeAnswered`: a /products route answered with its
 * own JSON error (not the catch-all "no product route" 404).
 * @param {number} status @param {string} body
 */
function errorInfo(status, body) {
  let msg = '';
  let routeAnswered = false;
  try {
    const j = JSON.parse(body);
    const e = j?.error;
    msg = (typeof e === 'object' && e ? e.message : e) ?? j?.status?.message ?? j?.message ?? j?.metadata?.error ?? '';
    routeAnswered = typeof msg === 'string' && msg !== '' && !/^no product route/i.test(msg);
  } catch {
    const pre = /<pre>([\s\S]*?)<\/pre>/i.exec(body);
    msg = (pre ? pre[1] : body).replace(/<[^>]*>/g, ' ');
  }
  msg = String(msg).replace(/\s+/g, ' ').trim().slice(0, 300);
  return { message: `HTTP ${status}${msg ? `: ${msg}` : ''}`, routeAnswered };
}

/** @param {string} u @returns {Promise<any>} JSON, or null for 204 */
export async function getJson(u) {
  const res = await request(u);
  if (!res) return null;
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(u, res.status, `invalid JSON from ${u}`);
  }
}

/** @param {string} u @returns {Promise<string|null>} */
export async function getText(u) {
  const res = await request(u);
  return res ? res.text() : null;
}

/** @param {string} u @returns {Promise<ArrayBuffer|null>} */
export async function getBytes(u) {
  const res = await request(u);
  return res ? res.arrayBuffer() : null;
}

/**
 * FDSN text format ('#Header|Cols' then '|' separated rows) → objects keyed by header name.
 * @param {string|null} text @returns {Record<string, string>[]}
 */
export function parseFdsnText(text) {
  if (!text) return [];
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) return [];
  const head = lines[0].replace(/^#/, '').split('|').map((h) => h.trim());
  return lines.slice(1).filter((l) => !l.startsWith('#')).map((l) => {
    const cells = l.split('|');
    /** @type {Record<string, string>} */
    const o = {};
    head.forEach((h, i) => (o[h] = (cells[i] ?? '').trim()));
    return o;
  });
}

/**
 * @typedef {{ network: string, station: string, latitude: number, longitude: number,
 *   elevation: number, siteName: string, source: string, score: number|null, disturbed: boolean|null, fromProducts: boolean,
 *   scoreTime?: string|null, datasets?: string[] }} Station
 * @typedef {{ id: string, timeMs: number, time: string, latitude: number, longitude: number,
 *   depthKm: number, magnitude: number, magType: string, region: string }} QuakeEvent
 */

/** Seismic stations from fdsnws-station. @returns {Promise<Station[]>} */
export async function fetchSeismicStations() {
  const rows = parseFdsnText(await getText(url('/fdsnws/station/1/query', { format: 'text', level: 'station' })));
  return rows.map((r) => ({
    network: r.Network,
    station: r.Station,
    latitude: Number(r.Latitude),
    longitude: Number(r.Longitude),
    elevation: Number(r.Elevation),
    siteName: r.SiteName,
    source: 'seismic',
    score: null,
    disturbed: null,
    fromProducts: false,
  }));
}

/** Channels from fdsnws-station (level=channel). */
export async function fetchChannels() {
  const rows = parseFdsnText(await getText(url('/fdsnws/station/1/query', { format: 'text', level: 'channel' })));
  return rows.map((r) => ({
    network: r.Network,
    station: r.Station,
    location: r.Location,
    channel: r.Channel,
    sampleRate: Number(r.SampleRate),
    scaleUnits: r.ScaleUnits,
    scale: Number(r.Scale),
    latitude: Number(r.Latitude),
    longitude: Number(r.Longitude),
    startTime: r.StartTime,
    endTime: r.EndTime,
  }));
}

/** Events from fdsnws-event, newest first. @param {Record<string,string>} [q] @returns {Promise<QuakeEvent[]>} */
export async function fetchEvents(q = {}) {
  const rows = parseFdsnText(await getText(url('/fdsnws/event/1/query', { format: 'text', ...q })));
  return rows.map((r) => ({
    id: r.EventID,
    time: r.Time,
    timeMs: parseUtc(r.Time),
    latitude: Number(r.Latitude),
    longitude: Number(r.Longitude),
    depthKm: Number(r['Depth/km']),
    magnitude: Number(r.Magnitude),
    magType: r.MagType,
    region: r.EventLocationName,
  }));
}

/**
 * Stations of every source from /products/stations (GeoJSON points; properties carry the
 * source, the latest anomaly score and a disturbed flag). Throws ApiError (404 = not yet).
 * @returns {Promise<Station[]>}
 */
export async function fetchProductStations() {
  const gj = await getJson('/products/stations');
  const feats = Array.isArray(gj?.features) ? gj.features : [];
  return feats
    .filter((/** @type {any} */ f) => f?.geometry?.type === 'Point')
    .map((/** @type {any} */ f) => {
      const p = f.properties ?? {};
      const [lon, lat] = f.geometry.coordinates;
      const score = p.score ?? p.latestScore ?? p.latest_score ?? null;
      return {
        network: p.network ?? '',
        station: p.station ?? p.code ?? p.id ?? '?',
        latitude: Number(lat),
        longitude: Number(lon),
        elevation: Number(p.elevation ?? NaN),
        siteName: p.name ?? p.siteName ?? '',
        source: p.source ?? 'unknown',
        score: score === null || score === undefined ? null : Number(score),
        scoreTime: p.scoreTime ?? null,
        disturbed: p.disturbed ?? null,
        datasets: Array.isArray(p.datasets) ? p.datasets : [],
        fromProducts: true,
      };
    });
}

/** ISO time (with or without Z) as UTC milliseconds. @param {string} s */
export function parseUtc(s) {
  if (!s) return NaN;
  const t = /[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s}Z`;
  // Date parses at most milliseconds; trim extra fraction digits.
  return Date.parse(t.replace(/(\.\d{3})\d+/, '$1'));
}

/** UTC ISO without zone, second precision (FDSN query style). @param {number} ms */
export function isoUtc(ms) {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '');
}
