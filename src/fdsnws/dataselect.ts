/**
 * fdsnws-dataselect 1.1: /query (GET + POST), /queryauth, /version, /application.wadl.
 *
 * Request → params.ts (one parameter table, also the WADL source) → index/select.ts (matching
 * sections) → index/extract.ts (original record bytes, streamed). Records are never re-encoded
 * or trimmed to samples: every record intersecting the window is sent whole, once (the spec
 * allows it; ObsPy trims client-side).
 *
 * Restricted data (index/restrictions.ts): `query` never returns it; `queryauth` requires HTTP
 * Digest (digestAuth.ts) and then returns unrestricted data plus the restricted data the user
 * may see. The filter is applied per channel after selection, which is exact because
 * restrictions are per network/station and segment options work per channel.
 */
import express from 'express';
import { pipeline } from 'node:stream/promises';
import type { AppContext } from '../app';
import { FdsnError, fdsnErrorHandler, notFoundHandler, sendNoData, serviceBaseUrl, uriLengthGuard, type FdsnServiceInfo } from './errors';
import { expandSelections, parsePostBody, parseQueryString, type ParsedParams, type ServiceParamTable } from './params';
import { buildWadl } from './wadl';
import { DATASELECT_VERSION, sendVersion } from './version';
import { selectSections } from '../index/select';
import { estimateBytes, openRecordStream, planExtraction } from '../index/extract';
import { nsToIso } from '../formats/time';
import { restrictionPolicyFor } from '../index/restrictions';
import { authenticatedUser, requireDigest } from './digestAuth';

/** Parameter table of fdsnws-dataselect 1.1 (SPEC Table 3). */
export const DATASELECT_PARAMS: ServiceParamTable = {
  service: 'dataselect',
  postTimesRequired: true,
  params: [
    { name: 'starttime', aliases: ['start'], kind: 'datetime', requiredGet: true, selection: 'starttime', doc: 'Start of the time window (UTC): YYYY-MM-DD[THH:MM:SS[.ffffff]][Z]. Records with data on or after it are returned.' },
    { name: 'endtime', aliases: ['end'], kind: 'datetime', requiredGet: true, selection: 'endtime', doc: 'End of the time window (UTC), inclusive.' },
    { name: 'network', aliases: ['net'], kind: 'network', selection: 'network', doc: 'Network code(s): comma list, wildcards * and ? allowed.' },
    { name: 'station', aliases: ['sta'], kind: 'station', selection: 'station', doc: 'Station code(s): comma list, wildcards * and ? allowed.' },
    { name: 'location', aliases: ['loc'], kind: 'location', selection: 'location', doc: 'Location code(s): comma list, wildcards * and ? allowed; -- for a blank location.' },
    { name: 'channel', aliases: ['cha'], kind: 'channel', selection: 'channel', doc: 'Channel code(s): comma list, wildcards * and ? allowed.' },
    { name: 'quality', kind: 'string', options: ['D', 'R', 'Q', 'M', 'B'], default: 'B', postHeader: true, doc: 'Data quality: D, R, Q, M, or B (best = any quality). miniSEED 3 data has no quality indicator and matches any value.' },
    { name: 'minimumlength', kind: 'double', min: 0, default: 0, postHeader: true, doc: 'Only return continuous segments (within the request window) at least this many seconds long.' },
    { name: 'longestonly', kind: 'boolean', default: false, postHeader: true, doc: 'Only return the longest continuous segment (within the request window) per channel.' },
    { name: 'format', kind: 'string', options: ['miniseed'], default: 'miniseed', postHeader: true, doc: 'Output format; only miniseed.' },
    { name: 'nodata', kind: 'int', options: [204, 404], default: 204, postHeader: true, doc: 'HTTP status when no data match: 204 (default) or 404.' },
  ],
};

// Large POST lists (virtual networks, mass downloader) are legitimate; cap them anyway.
const MAX_POST_BODY = '8mb';

function fileStamp(): string {
  return nsToIso(BigInt(Date.now()) * 1_000_000n, 0).replace(/[-:]/g, '');
}

export function createDataselectRouter(ctx: AppContext): express.Router {
  const { db, config } = ctx;
  const info: FdsnServiceInfo = { name: 'dataselect', version: DATASELECT_VERSION, publicBaseUrl: config.publicBaseUrl };
  const router = express.Router();

  router.use(uriLengthGuard(config.maxUriLength, info));

  router.get('/version', (_req, res) => sendVersion(res, DATASELECT_VERSION));

  router.get('/application.wadl', (req, res) => {
    const limits = config.maxResponseBytes > 0 ? `at most ${config.maxResponseBytes} bytes per response (413 above); URIs up to ${config.maxUriLength} bytes (414 above)` : `URIs up to ${config.maxUriLength} bytes (414 above)`;
    const xml = buildWadl(DATASELECT_PARAMS, {
      baseUrl: serviceBaseUrl(req, config.publicBaseUrl),
      title: 'FDSN dataselect web service 1.1',
      limits,
      resources: [
        { path: 'query', mediaTypes: ['application/vnd.fdsn.mseed'], withParams: true, doc: 'Time series in miniSEED: every record intersecting the window, unmodified. Restricted data is never included.' },
        // Same params as query (ObsPy prefers the method with id="query", so this one is ignored by its WADL parser).
        { path: 'queryauth', mediaTypes: ['application/vnd.fdsn.mseed'], withParams: true, doc: 'As query, after HTTP Digest authentication (401 challenge otherwise); also returns the restricted data the user may access.' },
        { path: 'version', mediaTypes: ['text/plain'] },
        { path: 'application.wadl', mediaTypes: ['application/xml'] },
      ],
    });
    res.status(200).type('application/xml; charset=utf-8').send(xml);
  });

  const policy = restrictionPolicyFor(ctx);

  /** `user` undefined = anonymous /query; a name = authenticated /queryauth. */
  const answer = async (req: express.Request, res: express.Response, parsed: ParsedParams, user?: string): Promise<void> => {
    const nodata = parsed.number('nodata') ?? 204;
    const quality = parsed.string('quality') ?? 'B';
    const selections = expandSelections(parsed.selections);
    const matched = selectSections(db, selections, {
      quality,
      minimumLengthSec: parsed.number('minimumlength') ?? 0,
      longestOnly: parsed.bool('longestonly') ?? false,
    });
    const selected = policy.filter(matched, user, (s) => s.section);
    if (selected.length === 0) {
      // An authenticated user asking only for data they are not granted: 403 (FDSN "access
      // blocked to restricted data") says more than "no data". Anonymous /query says nothing
      // about restricted data existing: plain no-data.
      if (user !== undefined && matched.length > 0) {
        throw new FdsnError(403, `User '${user}' has no access to the restricted data matching this request.`);
      }
      sendNoData(req, res, info, nodata);
      return;
    }
    const items = planExtraction(selected, config.dataRoot);
    // 413 must be decided before the first header goes out: an upper bound of the byte ranges.
    const estimate = estimateBytes(items);
    if (config.maxResponseBytes > 0 && estimate > config.maxResponseBytes) {
      throw new FdsnError(413, `The request would return about ${estimate} bytes; the limit of this service is ${config.maxResponseBytes} bytes per request. Request a shorter time window or fewer channels.`);
    }
    const stream = await openRecordStream(items, { dataRoot: config.dataRoot, quality });
    if (!stream) {
      // Sections matched but no record intersects (window inside a gap, unreadable files).
      sendNoData(req, res, info, nodata);
      return;
    }
    res.status(200);
    res.setHeader('Content-Type', 'application/vnd.fdsn.mseed');
    res.setHeader('Content-Disposition', `attachment; filename=fdsnws-dataselect_${fileStamp()}.mseed`);
    try {
      await pipeline(stream, res);
    } catch (e) {
      // Client disconnects end up here; the status is already sent, so only log.
      if ((e as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') console.warn(`dataselect: streaming aborted: ${(e as Error).message}`);
    }
  };

  const getHandler = (auth: boolean): express.RequestHandler => async (req, res) => {
    const q = req.originalUrl.indexOf('?');
    const parsed = parseQueryString(DATASELECT_PARAMS, q >= 0 ? req.originalUrl.slice(q + 1) : '');
    await answer(req, res, parsed, auth ? authenticatedUser(res) : undefined);
  };

  // Raw text body whatever the Content-Type (ObsPy sends text/plain, curl often form-urlencoded).
  const rawText = express.text({ type: () => true, limit: MAX_POST_BODY });
  const postHandler = (auth: boolean): express.RequestHandler => async (req, res) => {
    const body = typeof req.body === 'string' ? req.body : '';
    // Query-string parameters on a POST would be silently ignored otherwise: reject them.
    if (req.originalUrl.includes('?') && req.originalUrl.split('?')[1] !== '') {
      throw new FdsnError(400, `POST /${auth ? 'queryauth' : 'query'} takes its parameters from the body only (key=value lines, then NET STA LOC CHA START END lines); no query string.`);
    }
    await answer(req, res, parsePostBody(DATASELECT_PARAMS, body), auth ? authenticatedUser(res) : undefined);
  };

  router.get('/query', getHandler(false));
  router.post('/query', rawText, postHandler(false));

  // Digest first, body parser second: an unauthenticated POST body is never read into memory.
  const digest = requireDigest(ctx);
  router.get('/queryauth', digest, getHandler(true));
  router.post('/queryauth', digest, rawText, postHandler(true));

  router.use(notFoundHandler(info));
  router.use(fdsnErrorHandler(info));
  return router;
}
