/**
 * FDSN web-service error responses (FDSN-WS spec 1.1 p.3), shared by every fdsnws service.
 *
 * Every 4xx/5xx answer is text/plain with exactly the sections of the spec, so that humans
 * (ObsPy only shows the body, it never parses it) and validators see the same layout at every
 * service. 204 is always sent with an EMPTY body (HTTP forbids a body on 204).
 */
import type express from 'express';

/** HTTP status codes of FDSN-WS Table 1, with the short description used on the first line. */
export const FDSN_STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

/** What a service contributes to its error bodies. */
export interface FdsnServiceInfo {
  /** Service name as in the URL: 'dataselect', 'station', 'event', 'availability'. */
  name: string;
  /** 3-level version string, e.g. '1.1.0' (the same text as /version). */
  version: string;
  /**
   * Usage-documentation URI for the request (normally `<service base>/application.wadl`).
   * When absent, `<service base URL of req>/application.wadl` is used.
   */
  docsUrl?: (req: express.Request) => string;
  /** Public site root (config.publicBaseUrl); empty = derived from the request Host. */
  publicBaseUrl?: string;
}

/**
 * An error a handler throws to end the request with an FDSN error body.
 * `message` is the detailed description (second paragraph of the body).
 */
export class FdsnError extends Error {
  constructor(
    public readonly status: number,
    message: string,
    /** Optional override of the one-line description (default: FDSN_STATUS_TEXT[status]). */
    public readonly short?: string,
  ) {
    super(message);
    this.name = 'FdsnError';
  }
}

/** Shorthand for the most common case. */
export function badRequest(detail: string): FdsnError {
  return new FdsnError(400, detail);
}

export interface FdsnErrorBodyParts {
  status: number;
  short?: string;
  detail: string;
  docsUrl: string;
  requestUrl: string;
  submitted: Date;
  version: string;
}

/** The exact text of the spec error body. */
export function formatFdsnErrorBody(p: FdsnErrorBodyParts): string {
  const short = p.short ?? FDSN_STATUS_TEXT[p.status] ?? 'Error';
  return (
    `Error ${p.status}: ${short}\n\n` +
    `${p.detail}\n\n` +
    `Usage details are available from ${p.docsUrl}\n\n` +
    `Request:\n${p.requestUrl}\n\n` +
    `Request Submitted:\n${p.submitted.toISOString()}\n\n` +
    `Service version:\n${p.version}\n`
  );
}

/** Site root as clients see it: config.publicBaseUrl, else scheme://Host of the request. */
export function publicRoot(req: express.Request, publicBaseUrl?: string): string {
  if (publicBaseUrl) return publicBaseUrl.replace(/\/+$/, '');
  const host = req.get('host') ?? 'localhost';
  return `${req.protocol}://${host}`;
}

/**
 * Public URL of the service the request was routed to, with a trailing slash, e.g.
 * `http://host/fdsnws/dataselect/1/` (req.baseUrl is the router mount path).
 */
export function serviceBaseUrl(req: express.Request, publicBaseUrl?: string): string {
  return `${publicRoot(req, publicBaseUrl)}${req.baseUrl}/`;
}

/** The submitted URL as the client sent it (path + query; POST bodies are not echoed). */
export function submittedUrl(req: express.Request, publicBaseUrl?: string): string {
  return `${publicRoot(req, publicBaseUrl)}${req.originalUrl}`;
}

/** Send an FDSN error body. Safe to call only before headers were sent. */
export function sendFdsnError(
  req: express.Request,
  res: express.Response,
  info: FdsnServiceInfo,
  status: number,
  detail: string,
  short?: string,
): void {
  const docsUrl = info.docsUrl ? info.docsUrl(req) : `${serviceBaseUrl(req, info.publicBaseUrl)}application.wadl`;
  const body = formatFdsnErrorBody({
    status,
    short,
    detail,
    docsUrl,
    requestUrl: submittedUrl(req, info.publicBaseUrl),
    submitted: new Date(),
    version: info.version,
  });
  res.status(status).type('text/plain; charset=utf-8').send(body);
}

/**
 * "No data" answer chosen by the `nodata` parameter: 204 with an empty body (default, preferred
 * by programs) or 404 with the spec error text (helps browsers).
 */
export function sendNoData(req: express.Request, res: express.Response, info: FdsnServiceInfo, nodata: number): void {
  if (nodata === 404) {
    sendFdsnError(req, res, info, 404, 'No data matched the request.');
    return;
  }
  res.status(204).end();
}

/**
 * Router-level guard: URIs longer than the limit (FDSN: 2000 bytes incl. encoding) → 414.
 * Mount first in each service router so the body carries that service's version.
 */
export function uriLengthGuard(maxUriLength: number, info: FdsnServiceInfo): express.RequestHandler {
  return (req, res, next) => {
    if (maxUriLength > 0 && Buffer.byteLength(req.originalUrl, 'utf8') > maxUriLength) {
      sendFdsnError(req, res, info, 414, `The request URI is ${Buffer.byteLength(req.originalUrl, 'utf8')} bytes; the limit is ${maxUriLength} bytes. Use POST for long selections.`);
      return;
    }
    next();
  };
}

/** Final 404 for unknown paths below a service (instead of express' HTML page). */
/**
 * Last handler of a service router: a known resource asked with another method is a 405 with
 * `Allow` (RFC 9110 §15.5.6), anything else a 404 listing the resources. `methods`: resource →
 * the methods its routes serve (HEAD comes with GET in express).
 */
export function unknownResourceHandler(info: FdsnServiceInfo, methods: Record<string, 'GET' | 'GET, POST'>): express.RequestHandler {
  return (req, res) => {
    const resource = req.path.replace(/^\//, '');
    const allowed = Object.prototype.hasOwnProperty.call(methods, resource) ? methods[resource] : undefined;
    if (allowed) {
      res.setHeader('Allow', allowed === 'GET' ? 'GET, HEAD' : 'GET, HEAD, POST');
      sendFdsnError(req, res, info, 405, `${req.method} is not supported by fdsnws-${info.name} /${resource}; use ${allowed.replace(', ', ' or ')}.`);
      return;
    }
    sendFdsnError(req, res, info, 404, `Unknown resource '${req.path}'. Supported: ${Object.keys(methods).join(', ')}.`);
  };
}

/**
 * Error middleware for a service router: FdsnError → its status; body-parser errors (e.g. a POST
 * body over the limit) keep their 4xx status; anything else → 500. If the response is already
 * streaming, the status cannot change any more, so the connection is cut to make the
 * truncation visible to the client instead of pretending success.
 */
/** POST bodies the services accept (express.text limit), and how the WADLs and 413 state it. */
export const MAX_POST_BODY = '8mb';
export const MAX_POST_BODY_BYTES = 8 * 1024 * 1024;
/**
 * Most code combinations the comma lists of one request may multiply out to: network × station ×
 * location × channel of each selection line that names several codes in a field, summed over
 * those lines. A 1 KB URI of four 80-code lists named 41 million selections and ran the server
 * out of memory. Lines of one code per field (a mass downloader's POST: one line per channel and
 * window, as many as 8 MiB hold) are not counted. Checked by params.ts.
 */
export const MAX_SELECTION_COMBINATIONS = 100_000;
/** The request-size limits every selection service states in its WADL. */
export const POST_BODY_LIMIT_TEXT = `POST bodies up to ${MAX_POST_BODY_BYTES} bytes (8 MiB, 413 above); comma lists multiplying out to at most ${MAX_SELECTION_COMBINATIONS} network/station/location/channel combinations per request (413 above; lines of one code per field not counted)`;

export function fdsnErrorHandler(info: FdsnServiceInfo): express.ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (res.headersSent) {
      console.error(`fdsnws/${info.name}: error after response started: ${describe(err)}`);
      res.destroy(err instanceof Error ? err : undefined);
      return;
    }
    if (err instanceof FdsnError) {
      sendFdsnError(req, res, info, err.status, err.message, err.short);
      return;
    }
    // body-parser's refusal: the spec wants the service limit in the 413 text.
    if ((err as { type?: unknown } | null)?.type === 'entity.too.large') {
      const length = Number((err as { length?: unknown }).length);
      sendFdsnError(req, res, info, 413, `The POST body${Number.isFinite(length) ? ` of ${length} bytes` : ''} is too large: this service accepts POST bodies up to ${MAX_POST_BODY_BYTES} bytes (8 MiB). Split the request into several.`);
      return;
    }
    const status = httpStatusOf(err);
    if (status !== undefined && status >= 400 && status < 500) {
      sendFdsnError(req, res, info, status, describe(err));
      return;
    }
    console.error(`fdsnws/${info.name}: internal error for ${req.originalUrl}:`, err);
    sendFdsnError(req, res, info, 500, `Internal error: ${describe(err)}`);
  };
}

function httpStatusOf(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null) {
    const s = (err as { status?: unknown; statusCode?: unknown }).status ?? (err as { statusCode?: unknown }).statusCode;
    if (typeof s === 'number') return s;
  }
  return undefined;
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
