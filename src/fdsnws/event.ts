/**
 * fdsnws-event 1.2 (1.1 plus `eventtype` and the 14th text column EventType): /query (GET only),
 * /catalogs, /contributors, /version, /application.wadl.
 *
 * Request → params.ts (one parameter table, also the WADL source) → index/events.ts (SQL over
 * the event store) → QuakeML 1.2 (application/xml, streamed) or FDSN event text (text/plain).
 *
 * Choices (FDSN leaves them open; /work/shared/docs/fdsn-services.md §4, §5, §12):
 *  - bad combinations are 400 (min > max for latitude, radius, depth, magnitude);
 *  - minlongitude > maxlongitude is a box crossing the date line (SeisComP, fdsn-service-check);
 *  - latitude/longitude/minradius/maxradius constrain only when one of them is given;
 *  - magnitudetype: minmagnitude/maxmagnitude test the event's magnitudes of that type (any of
 *    them), and an event must have one; output still shows the preferred magnitude;
 *  - eventtype: comma list, case-insensitive, `*`/`?` wildcards, `_` = space (ComCat spelling),
 *    `unknown` also matches events without a type (SeisComP);
 *  - format=text lists only events with a located origin (time, latitude, longitude): ObsPy's
 *    text reader fails on empty numeric fields; limit/offset then page over those events;
 *  - no `limit` (or a limit above the maximum) and more matching events than the configured
 *    maximum → 413 naming the maximum, so a client learns to page instead of receiving a cut list;
 *  - responses are gzip-compressed when the client accepts it (ObsPy asks for gzip).
 */
import express from 'express';
import type { AppContext } from '../app';
import { writeEventText } from '../formats/eventText';
import { normaliseEventType, quakemlChunks } from '../formats/quakeml';
import { countEvents, eventDocumentPages, listCatalogs, listContributors, queryEvents, storedToTextEvent, type EventOrder, type EventQuery } from '../index/events';
import { badRequest, FdsnError, fdsnErrorHandler, unknownResourceHandler, sendFdsnError, sendNoData, serviceBaseUrl, uriLengthGuard, type FdsnServiceInfo } from './errors';
import { parseQueryString, type ParsedParams, type ServiceParamTable } from './params';
import { xmlEscape, buildWadl } from './wadl';
import { sendVersion } from './version';
import { sendBody, sendStream } from './send';

/** fdsnws-event: spec 1.2 (eventtype), implementation revision 0. */
export const EVENT_VERSION = '1.2.0';

/** Default maximum number of events in one response (USGS ComCat uses the same 20000). */
export const DEFAULT_MAX_EVENTS = 20_000;

const ORDERS: readonly EventOrder[] = ['time', 'time-asc', 'magnitude', 'magnitude-asc'];

/** Parameter table of fdsnws-event 1.2 (SPEC Table 5 + eventtype), long names first. */
export const EVENT_PARAMS: ServiceParamTable = {
  service: 'event',
  postTimesRequired: false,
  params: [
    { name: 'starttime', aliases: ['start'], kind: 'datetime', doc: 'Events with origin time on or after this time (UTC): YYYY-MM-DD[THH:MM:SS[.ffffff]][Z].' },
    { name: 'endtime', aliases: ['end'], kind: 'datetime', doc: 'Events with origin time on or before this time (UTC).' },
    { name: 'minlatitude', aliases: ['minlat'], kind: 'double', min: -90, max: 90, doc: 'Southern boundary (degrees, inclusive).' },
    { name: 'maxlatitude', aliases: ['maxlat'], kind: 'double', min: -90, max: 90, doc: 'Northern boundary (degrees, inclusive).' },
    { name: 'minlongitude', aliases: ['minlon'], kind: 'double', min: -180, max: 180, doc: 'Western boundary (degrees, inclusive); greater than maxlongitude = a box crossing the date line.' },
    { name: 'maxlongitude', aliases: ['maxlon'], kind: 'double', min: -180, max: 180, doc: 'Eastern boundary (degrees, inclusive).' },
    { name: 'latitude', aliases: ['lat'], kind: 'double', min: -90, max: 90, default: 0, doc: 'Latitude of the centre of a radius search (degrees).' },
    { name: 'longitude', aliases: ['lon'], kind: 'double', min: -180, max: 180, default: 0, doc: 'Longitude of the centre of a radius search (degrees).' },
    { name: 'minradius', kind: 'double', min: 0, max: 180, default: 0, doc: 'Minimum great-circle distance from latitude/longitude (degrees, inclusive).' },
    { name: 'maxradius', kind: 'double', min: 0, max: 180, default: 180, doc: 'Maximum great-circle distance from latitude/longitude (degrees, inclusive).' },
    { name: 'mindepth', kind: 'double', doc: 'Minimum depth (km, inclusive).' },
    { name: 'maxdepth', kind: 'double', doc: 'Maximum depth (km, inclusive).' },
    { name: 'minmagnitude', aliases: ['minmag'], kind: 'double', doc: 'Minimum magnitude (inclusive).' },
    { name: 'maxmagnitude', aliases: ['maxmag'], kind: 'double', doc: 'Maximum magnitude (inclusive).' },
    { name: 'magnitudetype', aliases: ['magtype'], kind: 'string', doc: 'Magnitude type (case-insensitive) that minmagnitude/maxmagnitude apply to; events need a magnitude of this type.' },
    { name: 'eventtype', kind: 'string', doc: 'QuakeML event types, comma list, * and ? wildcards (e.g. earthquake,*explosion); unknown = no type.' },
    { name: 'includeallorigins', kind: 'boolean', default: false, doc: 'All origins of each event instead of only the preferred one (QuakeML only).' },
    { name: 'includeallmagnitudes', kind: 'boolean', default: false, doc: 'All magnitudes of each event instead of only the preferred one (QuakeML only).' },
    { name: 'includearrivals', kind: 'boolean', default: false, doc: 'Arrivals of the written origins, with their picks, amplitudes and station magnitudes (QuakeML only).' },
    { name: 'eventid', kind: 'string', doc: 'One event: the EventID of the text format or the full QuakeML publicID.' },
    { name: 'limit', kind: 'int', min: 1, doc: 'Maximum number of events.' },
    { name: 'offset', kind: 'int', min: 1, default: 1, doc: 'Index of the first event returned (1 = first).' },
    { name: 'orderby', kind: 'string', options: [...ORDERS], default: 'time', doc: 'time (newest first), time-asc, magnitude (largest first), magnitude-asc.' },
    { name: 'catalog', kind: 'string', doc: 'Events of this catalog only (see /catalogs).' },
    { name: 'contributor', kind: 'string', doc: 'Events of this contributor only (see /contributors).' },
    { name: 'updatedafter', kind: 'datetime', doc: 'Events updated strictly after this time (latest creationTime, else load time).' },
    { name: 'format', kind: 'string', options: ['xml', 'text'], default: 'xml', doc: 'QuakeML 1.2 (xml) or FDSN event text with the EventType column (text).' },
    { name: 'nodata', kind: 'int', options: [204, 404], default: 204, doc: 'HTTP status when nothing matches: 204 (default) or 404.' },
  ],
};

export interface EventRequest {
  query: EventQuery;
  format: 'xml' | 'text';
  nodata: number;
  includeAllOrigins: boolean;
  includeAllMagnitudes: boolean;
  includeArrivals: boolean;
}

const EVENT_TYPE_ITEM = /^[a-z0-9 *?()-]+$/;

/** Parse the eventtype list (400 on characters no event type has). */
function eventTypes(value: string): string[] {
  const out: string[] = [];
  for (const raw of value.split(',')) {
    const t = raw.trim().toLowerCase().replace(/_+/g, ' ').replace(/\s+/g, ' ');
    if (t === '' || !EVENT_TYPE_ITEM.test(t)) throw badRequest(`Bad value for 'eventtype': '${raw}'. Expected QuakeML event types (e.g. earthquake, quarry blast), comma-separated, * and ? wildcards allowed.`);
    // ComCat/SeisComP spellings ('quarry', 'other') map to the QuakeML ones the store holds.
    out.push(/[*?]/.test(t) ? t : (normaliseEventType(t) ?? t));
  }
  return [...new Set(out)];
}

function checkOrder(parsed: ParsedParams, min: string, max: string): void {
  const a = parsed.number(min);
  const b = parsed.number(max);
  if (parsed.has(min) && parsed.has(max) && a !== undefined && b !== undefined && a > b) throw badRequest(`${min} (${a}) is greater than ${max} (${b}).`);
}

/** Turn the parsed request into a store query (400 on inconsistent values). */
export function eventRequest(parsed: ParsedParams): EventRequest {
  const format = (parsed.string('format') ?? 'xml') as 'xml' | 'text';
  const query: EventQuery = {
    startNs: parsed.time('starttime'),
    endNs: parsed.time('endtime'),
    minDepthKm: parsed.number('mindepth'),
    maxDepthKm: parsed.number('maxdepth'),
    minMag: parsed.number('minmagnitude'),
    maxMag: parsed.number('maxmagnitude'),
    magType: parsed.string('magnitudetype'),
    eventId: parsed.string('eventid'),
    catalog: parsed.string('catalog'),
    contributor: parsed.string('contributor'),
    updatedAfterNs: parsed.time('updatedafter'),
    orderBy: (parsed.string('orderby') ?? 'time') as EventOrder,
    limit: parsed.number('limit'),
    offset: parsed.number('offset') ?? 1,
    locatedOnly: format === 'text',
  };
  checkOrder(parsed, 'minlatitude', 'maxlatitude');
  checkOrder(parsed, 'mindepth', 'maxdepth');
  checkOrder(parsed, 'minmagnitude', 'maxmagnitude');
  if (['minlatitude', 'maxlatitude', 'minlongitude', 'maxlongitude'].some((n) => parsed.has(n))) {
    query.box = {
      minLat: parsed.number('minlatitude') ?? -90,
      maxLat: parsed.number('maxlatitude') ?? 90,
      minLon: parsed.number('minlongitude') ?? -180,
      maxLon: parsed.number('maxlongitude') ?? 180,
    };
  }
  if (['latitude', 'longitude', 'minradius', 'maxradius'].some((n) => parsed.has(n))) {
    const r = { lat: parsed.number('latitude') ?? 0, lon: parsed.number('longitude') ?? 0, minRadius: parsed.number('minradius') ?? 0, maxRadius: parsed.number('maxradius') ?? 180 };
    if (r.minRadius > r.maxRadius) throw badRequest(`minradius (${r.minRadius}) is greater than maxradius (${r.maxRadius}).`);
    query.radius = r;
  }
  const et = parsed.string('eventtype');
  if (et !== undefined) query.eventTypes = eventTypes(et);
  return {
    query,
    format,
    nodata: parsed.number('nodata') ?? 204,
    includeAllOrigins: parsed.bool('includeallorigins') ?? false,
    includeAllMagnitudes: parsed.bool('includeallmagnitudes') ?? false,
    includeArrivals: parsed.bool('includearrivals') ?? false,
  };
}

/** `<Catalogs><Catalog>…</Catalog></Catalogs>`: ObsPy wants root = plural, children = root minus 's'. */
export function nameListXml(root: 'Catalogs' | 'Contributors', names: readonly string[]): string {
  const child = root.slice(0, -1);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root}>\n${names.map((n) => `  <${child}>${xmlEscape(n)}</${child}>\n`).join('')}</${root}>\n`;
}

export interface EventRouterOptions {
  /** Maximum events per response (413 above when no smaller limit is given). */
  maxEvents?: number;
}

export function createEventRouter(ctx: AppContext, opts: EventRouterOptions = {}): express.Router {
  const { db, config } = ctx;
  // A `maxEvents` in the node configuration is honoured when present (config.ts may add one).
  const cfgMax = (config as { maxEvents?: unknown }).maxEvents;
  const maxEvents = opts.maxEvents ?? (typeof cfgMax === 'number' && cfgMax > 0 ? cfgMax : DEFAULT_MAX_EVENTS);
  const info: FdsnServiceInfo = { name: 'event', version: EVENT_VERSION, publicBaseUrl: config.publicBaseUrl };
  const router = express.Router();

  router.use(uriLengthGuard(config.maxUriLength, info));

  router.get('/version', (_req, res) => sendVersion(res, EVENT_VERSION));

  router.get('/application.wadl', (req, res) => {
    const xml = buildWadl(EVENT_PARAMS, {
      baseUrl: serviceBaseUrl(req, config.publicBaseUrl),
      title: 'FDSN event web service 1.2',
      limits: `at most ${maxEvents} events per response (413 above; use limit and offset to page); URIs up to ${config.maxUriLength} bytes (414 above)`,
      resources: [
        { path: 'query', mediaTypes: ['application/xml', 'text/plain'], withParams: true, post: false, doc: 'Events as QuakeML 1.2 (format=xml) or FDSN event text (format=text, 14 columns incl. EventType).' },
        { path: 'catalogs', mediaTypes: ['application/xml'], doc: 'Catalog names usable with catalog=.' },
        { path: 'contributors', mediaTypes: ['application/xml'], doc: 'Contributor names usable with contributor=.' },
        { path: 'version', mediaTypes: ['text/plain'] },
        { path: 'application.wadl', mediaTypes: ['application/xml'] },
      ],
    });
    sendBody(req, res, 'application/xml; charset=utf-8', xml);
  });

  router.get('/catalogs', (req, res) => sendBody(req, res, 'application/xml; charset=utf-8', nameListXml('Catalogs', listCatalogs(db))));
  router.get('/contributors', (req, res) => sendBody(req, res, 'application/xml; charset=utf-8', nameListXml('Contributors', listContributors(db))));

  router.get('/query', async (req, res) => {
    const q = req.originalUrl.indexOf('?');
    const r = eventRequest(parseQueryString(EVENT_PARAMS, q >= 0 ? req.originalUrl.slice(q + 1) : ''));
    // Count (capped) only when the response could be too large.
    if (r.query.limit === undefined || r.query.limit > maxEvents) {
      if (countEvents(db, r.query, maxEvents) > maxEvents) {
        throw new FdsnError(413, `The request matches more than ${maxEvents} events, the maximum of this service per response. Narrow the selection or page with limit (at most ${maxEvents}) and offset.`);
      }
    }
    if (r.format === 'text') {
      const rows = queryEvents(db, r.query);
      if (rows.length === 0) return sendNoData(req, res, info, r.nodata);
      sendBody(req, res, 'text/plain; charset=utf-8', writeEventText(rows.map(storedToTextEvent)));
      return;
    }
    const found = eventDocumentPages(db, r.query);
    if (found.count === 0) {
      found.close();
      return sendNoData(req, res, info, r.nodata);
    }
    const events = (function* () {
      for (const page of found.pages()) for (const d of page) yield d.event;
    })();
    const chunks = quakemlChunks(events, {
      includeAllOrigins: r.includeAllOrigins,
      includeAllMagnitudes: r.includeAllMagnitudes,
      includeArrivals: r.includeArrivals,
      namespaces: found.namespaces,
    });
    // Streamed chunk by chunk (one per event) with back-pressure, the stored documents read and
    // parsed a page at a time: a large answer never sits in memory, as one string or as parsed
    // events. Other requests get their turn between events (the socket may never push back).
    const paced = (async function* () {
      let n = 0;
      for (const c of chunks) {
        yield c;
        if (++n % 50 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    })();
    try {
      await sendStream(req, res, 'application/xml; charset=utf-8', paced);
    } finally {
      found.close(); // the read ends with the answer, however it ends (client gone too)
    }
  });

  // GET only (FDSN event); other methods and paths get the spec error body.
  router.use(unknownResourceHandler(info, { query: 'GET', catalogs: 'GET', contributors: 'GET', version: 'GET', 'application.wadl': 'GET' }));
  router.use(fdsnErrorHandler(info));
  return router;
}
