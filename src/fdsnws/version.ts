/**
 * Service versions: SpecMajor.SpecMinor.Implementation (FDSN-WS §"Versioning").
 * `/version` must be digits and dots only: ObsPy does `list(map(int, body.split(b".")))`.
 */
import type express from 'express';

/** fdsnws-dataselect: spec 1.1, implementation revision 0. */
export const DATASELECT_VERSION = '1.1.0';

/** Answer `/version`: text/plain, exactly the version string (no newline, no HTML). */
export function sendVersion(res: express.Response, version: string): void {
  res.status(200).type('text/plain; charset=utf-8').send(version);
}
