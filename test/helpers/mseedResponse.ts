/**
 * Reading miniSEED response bodies in the fdsnws tests (dataselect, availability, queryauth):
 * a supertest parser that keeps the raw bytes, and the record headers of a body.
 */
import type request from 'supertest';
import { parseRecordHeader, type RecordHeader } from '../../src/formats/mseed';

/** supertest parser collecting the raw bytes (superagent's Response type lacks the stream API). */
export const binary = ((res: NodeJS.ReadableStream, cb: (err: Error | null, body: Buffer) => void): void => {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
}) as unknown as Parameters<request.Test['parse']>[0];

/** Parse a response body into its records (whole records back to back, as served). */
export function records(body: Buffer): RecordHeader[] {
  const out: RecordHeader[] = [];
  for (let off = 0; off < body.length; ) {
    const h = parseRecordHeader(body, off);
    out.push(h);
    off += h.recordLength;
  }
  return out;
}
