/**
 * fdsnws-station 1.1: /query (GET + POST), /version, /application.wadl.
 *
 * Request → params.ts (one parameter table, also the WADL source) → index/metadata.ts
 * (selection over the StationXML store, matchtimeseries / includeavailability from the
 * waveform index) → StationXML 1.2 (application/xml) or FDSN text (text/plain) through the
 * shared writers in formats/stationxml. Selection semantics are documented in metadata.ts.
 *
 * Choices (FDSN leaves them open; /work/shared/docs/fdsn-services.md §3, §12):
 *  - bad combinations are 400, not silently empty: min > max latitude / radius, format=text at
 *    level=response, a query string on POST;
 *  - minlongitude > maxlongitude is a box crossing the date line (SeisComP, fdsn-service-check);
 *  - latitude/longitude/minradius/maxradius only constrain when one of them is given
 *    (defaults 0/0/0/180 then apply);
 *  - responses are gzip-compressed when the client accepts it (ObsPy asks for gzip; StationXML
 *    with responses compresses ~10x).
 */
import express from 'express';
import type { AppContext } from '../app';
import { stationXmlChunks, type Inventory, type StationLevel } from '../formats/stationxml';
import { stationTextFast } from '../formats/stationxml/textRows';
import { channelExtents, queryMetadataFor, syncMetadataRestrictions, type MetadataQuery } from '../index/metadata';
import { restrictionPolicyFor, type RestrictionPolicy } from '../index/restrictions';
import { badRequest, FdsnError, fdsnErrorHandler, unknownResourceHandler, MAX_POST_BODY, POST_BODY_LIMIT_TEXT, sendFdsnError, sendNoData, serviceBaseUrl, submittedUrl, uriLengthGuard, type FdsnServiceInfo } from './errors';
import { parsePostBody, parseQueryString, type ParsedParams, type ServiceParamTable } from './params';
import { buildWadl } from './wadl';
import { sendVersion } from './version';
import { sendBody, sendPieces } from './send';

/** fdsnws-station: spec 1.1, implementation revision 0. */
export const STATION_VERSION = '1.1.0';

const LEVELS = ['network', 'station', 'channel', 'response'] as const;

const t = (name: string, doc: string, aliases?: string[]) => ({ name, aliases, kind: 'datetime' as const, postHeader: true, doc });

/** Parameter table of fdsnws-station 1.1 (SPEC Table 4), long names first. */
export const STATION_PARAMS: ServiceParamTable = {
  service: 'station',
  postTimesRequired: false,
  params: [
    { name: 'starttime', aliases: ['start'], kind: 'datetime', selection: 'starttime', doc: 'Limit to metadata epochs ending on or after this time (UTC): YYYY-MM-DD[THH:MM:SS[.ffffff]][Z].' },
    { name: 'endtime', aliases: ['end'], kind: 'datetime', selection: 'endtime', doc: 'Limit to metadata epochs starting on or before this time (UTC).' },
    t('startbefore', 'Limit to epochs starting strictly before this time.'),
    t('startafter', 'Limit to epochs starting strictly after this time.'),
    t('endbefore', 'Limit to epochs ending strictly before this time (open epochs never end).'),
    t('endafter', 'Limit to epochs ending strictly after this time (open epochs always do).'),
    { name: 'network', aliases: ['net'], kind: 'network', selection: 'network', doc: 'Network code(s): comma list, wildcards * and ? allowed.' },
    { name: 'station', aliases: ['sta'], kind: 'station', selection: 'station', doc: 'Station code(s): comma list, wildcards * and ? allowed.' },
    { name: 'location', aliases: ['loc'], kind: 'location', selection: 'location', doc: 'Location code(s): comma list, wildcards * and ? allowed; -- for a blank location.' },
    { name: 'channel', aliases: ['cha'], kind: 'channel', selection: 'channel', doc: 'Channel code(s): comma list, wildcards * and ? allowed.' },
    { name: 'minlatitude', aliases: ['minlat'], kind: 'double', min: -90, max: 90, postHeader: true, doc: 'Southern boundary (degrees, inclusive).' },
    { name: 'maxlatitude', aliases: ['maxlat'], kind: 'double', min: -90, max: 90, postHeader: true, doc: 'Northern boundary (degrees, inclusive).' },
    { name: 'minlongitude', aliases: ['minlon'], kind: 'double', min: -180, max: 180, postHeader: true, doc: 'Western boundary (degrees, inclusive); greater than maxlongitude = a box crossing the date line.' },
    { name: 'maxlongitude', aliases: ['maxlon'], kind: 'double', min: -180, max: 180, postHeader: true, doc: 'Eastern boundary (degrees, inclusive).' },
    { name: 'latitude', aliases: ['lat'], kind: 'double', min: -90, max: 90, postHeader: true, doc: 'Latitude of the centre of a radius search (degrees; default 0).' },
    { name: 'longitude', aliases: ['lon'], kind: 'double', min: -180, max: 180, postHeader: true, doc: 'Longitude of the centre of a radius search (degrees; default 0).' },
    { name: 'minradius', kind: 'double', min: 0, max: 180, postHeader: true, doc: 'Minimum great-circle distance from latitude/longitude (degrees, inclusive; default 0).' },
    { name: 'maxradius', kind: 'double', min: 0, max: 180, postHeader: true, doc: 'Maximum great-circle distance from latitude/longitude (degrees, inclusive; default 180).' },
    { name: 'level', kind: 'string', options: [...LEVELS], default: 'station', postHeader: true, doc: 'Level of detail: network, station, channel or response.' },
    { name: 'includerestricted', kind: 'boolean', default: true, postHeader: true, doc: 'Include restricted (restrictedStatus closed) networks, stations and channels.' },
    { name: 'includeavailability', kind: 'boolean', default: false, postHeader: true, doc: 'Add DataAvailability extents from the waveform archive to channels (StationXML).' },
    t('updatedafter', 'Limit to metadata updated (loaded with changes) strictly after this time.'),
    { name: 'matchtimeseries', kind: 'boolean', default: false, postHeader: true, doc: 'Limit to channel epochs with data in the waveform archive (within the epoch and time window).' },
    { name: 'format', kind: 'string', options: ['xml', 'text'], default: 'xml', postHeader: true, doc: 'StationXML 1.2 (xml) or FDSN station text (text; not at level=response).' },
    { name: 'nodata', kind: 'int', options: [204, 404], default: 204, postHeader: true, doc: 'HTTP status when nothing matches: 204 (default) or 404.' },
  ],
};

/** Turn the parsed request into a store query (400 on inconsistent values). */
export function stationQuery(parsed: ParsedParams): { query: MetadataQuery; level: StationLevel; format: 'xml' | 'text'; nodata: number; availability: boolean } {
  const level = (parsed.string('level') ?? 'station') as StationLevel;
  const format = (parsed.string('format') ?? 'xml') as 'xml' | 'text';
  if (format === 'text' && level === 'response') throw badRequest("format=text is not available at level=response (use format=xml).");
  const query: MetadataQuery = {
    selections: parsed.selections,
    level,
    startBeforeNs: parsed.time('startbefore'),
    startAfterNs: parsed.time('startafter'),
    endBeforeNs: parsed.time('endbefore'),
    endAfterNs: parsed.time('endafter'),
    updatedAfterNs: parsed.time('updatedafter'),
    includeRestricted: parsed.bool('includerestricted') ?? true,
    matchTimeseries: parsed.bool('matchtimeseries') ?? false,
  };
  const box = ['minlatitude', 'maxlatitude', 'minlongitude', 'maxlongitude'];
  if (box.some((n) => parsed.has(n))) {
    const b = {
      minLat: parsed.number('minlatitude') ?? -90,
      maxLat: parsed.number('maxlatitude') ?? 90,
      minLon: parsed.number('minlongitude') ?? -180,
      maxLon: parsed.number('maxlongitude') ?? 180,
    };
    if (b.minLat > b.maxLat) throw badRequest(`minlatitude (${b.minLat}) is greater than maxlatitude (${b.maxLat}).`);
    query.box = b;
  }
  const circle = ['latitude', 'longitude', 'minradius', 'maxradius'];
  if (circle.some((n) => parsed.has(n))) {
    const c = { lat: parsed.number('latitude') ?? 0, lon: parsed.number('longitude') ?? 0, minRadius: parsed.number('minradius') ?? 0, maxRadius: parsed.number('maxradius') ?? 180 };
    if (c.minRadius > c.maxRadius) throw badRequest(`minradius (${c.minRadius}) is greater than maxradius (${c.maxRadius}).`);
    query.radius = c;
  }
  return { query, level, format, nodata: parsed.number('nodata') ?? 204, availability: parsed.bool('includeavailability') ?? false };
}

/**
 * restrictedStatus as the node enforces it: a station the operator's policy covers
 * (GEONODE_RESTRICTED) is `closed` with its channels, whatever its source file said, and its
 * network `partial` (`closed` when the policy covers the whole network). Elements closed by
 * their own StationXML already say so, and only they: their open siblings stay open here, even
 * though dataselect withholds the whole station's waveforms. Copies: the store's objects are not
 * changed.
 */
function withPolicyStatus(inv: Inventory, policy: RestrictionPolicy): Inventory {
  if (!policy.hasOperatorEntries) return inv;
  return {
    ...inv,
    networks: inv.networks.map((n) => {
      let any = false;
      const stations = n.stations.map((st) => {
        if (!policy.isRestrictedByOperator(n.code, st.code)) return st;
        any = true;
        return { ...st, restrictedStatus: 'closed', channels: st.channels.map((c) => ({ ...c, restrictedStatus: 'closed' })) };
      });
      const whole = policy.isRestrictedByOperator(n.code, '*');
      const restrictedStatus = whole ? 'closed' : any && n.restrictedStatus !== 'closed' ? 'partial' : n.restrictedStatus;
      return any || whole ? { ...n, restrictedStatus, stations } : n;
    }),
  };
}

export function createStationRouter(ctx: AppContext): express.Router {
  const { db, config } = ctx;
  const info: FdsnServiceInfo = { name: 'station', version: STATION_VERSION, publicBaseUrl: config.publicBaseUrl };
  const router = express.Router();
  const policy = restrictionPolicyFor(ctx);
  // What the store states closed protects its waveforms from the start.
  syncMetadataRestrictions(db, policy);

  router.use(uriLengthGuard(config.maxUriLength, info));

  router.get('/version', (_req, res) => sendVersion(res, STATION_VERSION));

  router.get('/application.wadl', (req, res) => {
    const xml = buildWadl(STATION_PARAMS, {
      baseUrl: serviceBaseUrl(req, config.publicBaseUrl),
      title: 'FDSN station web service 1.1',
      limits: `URIs up to ${config.maxUriLength} bytes (414 above); ${POST_BODY_LIMIT_TEXT}`,
      resources: [
        { path: 'query', mediaTypes: ['application/xml', 'text/plain'], withParams: true, doc: 'Station metadata as FDSN StationXML 1.2 (format=xml) or FDSN station text (format=text).' },
        { path: 'version', mediaTypes: ['text/plain'] },
        { path: 'application.wadl', mediaTypes: ['application/xml'] },
      ],
    });
    sendBody(req, res, 'application/xml; charset=utf-8', xml);
  });

  const answer = async (req: express.Request, res: express.Response, parsed: ParsedParams): Promise<void> => {
    const o = stationQuery(parsed);
    syncMetadataRestrictions(db, policy); // files loaded while serving
    // Only what the chosen writer prints at this level is read and decoded (same output as the full model).
    const inv = withPolicyStatus(queryMetadataFor(db, { ...o.query, isRestricted: (n, s) => policy.isRestrictedByOperator(n, s) }, o.format), policy);
    if (inv.networks.length === 0) {
      sendNoData(req, res, info, o.nodata);
      return;
    }
    if (o.format === 'text') {
      // = stationText(inv, level) byte for byte, memoising repeated values (large answers).
      sendBody(req, res, 'text/plain; charset=utf-8', stationTextFast(inv, o.level as 'network' | 'station' | 'channel'));
      return;
    }
    // Written station by station and streamed (a response-level answer built whole took ~31
    // times its size in memory and held the server for its whole build).
    const pieces = stationXmlChunks(inv, {
      level: o.level,
      source: 'GeoNode',
      sender: 'GeoNode',
      module: `GeoNode fdsnws-station ${STATION_VERSION}`,
      moduleUri: submittedUrl(req, config.publicBaseUrl),
      availability: o.availability && (o.level === 'channel' || o.level === 'response') ? channelExtents(db, inv) : undefined,
    });
    await sendPieces(req, res, 'application/xml; charset=utf-8', pieces);
  };

  router.get('/query', (req, res) => {
    const q = req.originalUrl.indexOf('?');
    return answer(req, res, parseQueryString(STATION_PARAMS, q >= 0 ? req.originalUrl.slice(q + 1) : ''));
  });
  // Raw text body whatever the Content-Type (ObsPy sends text/plain, curl often form-urlencoded).
  router.post('/query', express.text({ type: () => true, limit: MAX_POST_BODY }), (req, res) => {
    if (req.originalUrl.includes('?') && req.originalUrl.split('?')[1] !== '') {
      throw new FdsnError(400, 'POST /query takes its parameters from the body only (key=value lines, then NET STA LOC CHA [START END] lines); no query string.');
    }
    return answer(req, res, parsePostBody(STATION_PARAMS, typeof req.body === 'string' ? req.body : ''));
  });

  router.use(unknownResourceHandler(info, { query: 'GET, POST', version: 'GET', 'application.wadl': 'GET' }));
  router.use(fdsnErrorHandler(info));
  return router;
}
