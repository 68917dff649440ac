/**
 * Hand-built tsindex databases for the extraction tests: the table as mseedindex creates it, a
 * row inserter with defaults, the miniSEED reader's records of a file (the truth), and the
 * epoch-seconds text of timeindex entries.
 */
import type Database from 'better-sqlite3';
import { parseRecordHeader, type RecordHeader } from '../../src/formats/mseed';
import type { TsIndexRow } from '../../src/index/types';

/** One record of a file: header, byte offset in the file and its bytes. */
export interface Rec {
  h: RecordHeader;
  off: number;
  bytes: Buffer;
}

/** Every record of a miniSEED file, in file order, by the reader (not the code under test). */
export function parseFile(buf: Buffer): Rec[] {
  const out: Rec[] = [];
  for (let off = 0; off < buf.length; ) {
    const h = parseRecordHeader(buf, off);
    out.push({ h, off, bytes: buf.subarray(off, off + h.recordLength) });
    off += h.recordLength;
  }
  return out;
}

/** Time as mseedindex writes it in timeindex: epoch seconds with 6 decimals. */
export function epochText(ns: bigint): string {
  return `${ns / 1_000_000_000n}.${((ns % 1_000_000_000n) / 1000n).toString().padStart(6, '0')}`;
}

/** mseedindex-style timeindex (-si stepSec): first record, then each record crossing the next step. */
export function timeIndexOf(recs: Rec[], stepSec: number, latest: 0 | 1): string {
  const entries: string[] = [];
  let next = recs[0].h.startNs;
  for (const r of recs) {
    if (r.h.startNs >= next) {
      entries.push(`${epochText(r.h.startNs)}=>${r.off}`);
      while (next <= r.h.startNs) next += BigInt(stepSec) * 1_000_000_000n;
    }
  }
  return `${entries.join(',')},latest=>${latest}`;
}

/** mseedindex's tsindex table. */
export const DDL =
  'CREATE TABLE tsindex (network TEXT,station TEXT,location TEXT,channel TEXT,quality TEXT,version INTEGER,starttime TEXT,endtime TEXT,samplerate REAL,filename TEXT,byteoffset INTEGER,bytes INTEGER,hash TEXT,timeindex TEXT,timespans TEXT,timerates TEXT,format TEXT,filemodtime TEXT,updated TEXT,scanned TEXT)';

/** Insert one tsindex row: XX..HHZ at 20 Hz, version 1, no hash/timeindex/timespans, then `defaults`, then `r`. */
export function insertRow(db: Database.Database, defaults: Partial<TsIndexRow>, r: Partial<TsIndexRow>): void {
  const full: TsIndexRow = {
    network: 'XX',
    station: '',
    location: '',
    channel: 'HHZ',
    quality: null,
    version: 1,
    starttime: '',
    endtime: '',
    samplerate: 20,
    filename: '',
    byteoffset: 0,
    bytes: 0,
    hash: null,
    timeindex: null,
    timespans: null,
    timerates: null,
    format: null,
    filemodtime: '2020-01-01T00:00:00',
    updated: '2020-01-01T00:00:00',
    scanned: '2020-01-01T00:00:00',
    ...defaults,
    ...r,
  };
  db.prepare(
    'INSERT INTO tsindex VALUES (@network,@station,@location,@channel,@quality,@version,@starttime,@endtime,@samplerate,@filename,@byteoffset,@bytes,@hash,@timeindex,@timespans,@timerates,@format,@filemodtime,@updated,@scanned)',
  ).run(full);
}
