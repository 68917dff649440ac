/**
 * Sending text bodies with optional gzip, shared by every service (one rule everywhere).
 *
 * Why: ObsPy's discovery and bulk requests send `Accept-Encoding: gzip`, and StationXML /
 * QuakeML / WADL compress 5-10x (see /work/shared/docs/fdsn-services.md §5 and §12 item 19).
 * Rules:
 *  - gzip only when the client prefers it over identity (`req.acceptsEncodings`), so `gzip;q=0`
 *    or no header at all gets the plain body;
 *  - whole bodies below GZIP_MIN_BYTES stay plain (the gzip header would cost more than it saves);
 *    streamed bodies are always compressed when accepted (their size is not known up front);
 *  - `Vary: Accept-Encoding` on every response sent through here, so caches keep both variants;
 *  - miniSEED (dataselect) is NOT sent through here: Steim data hardly compresses and that path
 *    streams byte ranges straight from the archive.
 */
import zlib from 'node:zlib';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type express from 'express';

/** Whole bodies shorter than this are sent uncompressed even when gzip is accepted. */
export const GZIP_MIN_BYTES = 1024;

/** True when the client accepts gzip and prefers it over identity. */
export function wantsGzip(req: express.Request): boolean {
  return req.acceptsEncodings('gzip', 'identity') === 'gzip';
}

/**
 * Send a complete body (status 200 unless given), gzip-compressed when the client accepts it and
 * the body is at least GZIP_MIN_BYTES long.
 */
export function sendBody(req: express.Request, res: express.Response, contentType: string, body: string | Buffer, status = 200): void {
  res.status(status).type(contentType);
  res.setHeader('Vary', 'Accept-Encoding');
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  if (size >= GZIP_MIN_BYTES && wantsGzip(req)) {
    res.setHeader('Content-Encoding', 'gzip');
    res.send(zlib.gzipSync(body));
    return;
  }
  res.send(body);
}

/**
 * Stream chunks (strings or Buffers) as the 200 body, through gzip when accepted, with
 * back-pressure. A client that goes away mid-stream ends it quietly (nothing left to tell it).
 */
export async function sendStream(
  req: express.Request,
  res: express.Response,
  contentType: string,
  chunks: Iterable<string | Buffer> | AsyncIterable<string | Buffer> | Readable,
): Promise<void> {
  res.status(200).type(contentType);
  res.setHeader('Vary', 'Accept-Encoding');
  const source = chunks instanceof Readable ? chunks : Readable.from(chunks, { objectMode: false });
  try {
    if (wantsGzip(req)) {
      res.setHeader('Content-Encoding', 'gzip');
      await pipeline(source, zlib.createGzip(), res);
    } else {
      await pipeline(source, res);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw e;
  }
}

/** Pieces joined into strings of about `size` characters (a piece larger than that goes alone). */
export function* joinPieces(pieces: Iterable<string>, size = 65536): Generator<string> {
  let buf = '';
  for (const p of pieces) {
    buf += p;
    if (buf.length >= size) {
      yield buf;
      buf = '';
    }
  }
  if (buf) yield buf;
}

/**
 * Send an answer produced in pieces: whole (Content-Length; gzip above its threshold) when it
 * comes to less than 64 KiB, else streamed in ~64 KiB chunks with back-pressure, other requests
 * served between chunks (the socket may never push back); a client that goes away stops the
 * pieces. Large answers are never one string.
 */
export async function sendPieces(req: express.Request, res: express.Response, contentType: string, pieces: Iterable<string>): Promise<void> {
  const chunks = joinPieces(pieces)[Symbol.iterator]();
  const first = chunks.next();
  const second = chunks.next();
  if (second.done) {
    sendBody(req, res, contentType, first.done ? '' : first.value);
    return;
  }
  await sendStream(
    req,
    res,
    contentType,
    (async function* () {
      yield first.value as string;
      yield second.value;
      for (let n = chunks.next(); !n.done; n = chunks.next()) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        yield n.value;
      }
    })(),
  );
}
