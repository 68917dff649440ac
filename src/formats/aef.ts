/**
 * Kakioka atmospheric electric field (AEF) files: IAGA-2002 records whose Z column carries the
 * potential gradient (PG, V/m); X, Y and F are dummies filled with 88888.00 and gaps are
 * 9-filled (docs/data-formats.md §2). Negative PG is real (precipitating/thunder clouds),
 * so no geomagnetic range checks apply here.
 *
 * File names: `kakYYYYMMDDdaef.min` (one day, 1-minute), `kakYYYYMMdaef.hor` (one month,
 * hourly) and ranges such as `kak202001-202010daef.hor`.
 */
import path from 'node:path';
import {
  readIaga2002,
  SENTINEL_NOT_RECORDED,
  writeIaga2002,
  type IagaCadence,
  type IagaFile,
  type IagaHeader,
  type IagaWriteHeader,
  type IagaWriteOptions,
} from './iaga2002';

export interface AefFileName {
  /** Upper-case IAGA code (`KAK`). */
  station: string;
  /** Epoch ms of the first day/month covered. */
  start: number;
  /** Epoch ms just after the period the name covers (exclusive). */
  end: number;
  cadence: 'PT1M' | 'PT1H';
  /** Data-type letter (`d` definitive, `p` provisional, …). */
  dataType: string;
}

export interface AefFile {
  station: string;
  cadence: IagaCadence;
  /** Epoch ms. */
  times: Float64Array;
  /** Potential gradient in V/m; NaN where the file has a fill value. */
  pg: Float64Array;
  /** SENTINEL_* per PG value. */
  sentinel: Uint8Array;
  header: IagaHeader;
  /** Parsed file name when one was given and matched. */
  fileName: AefFileName | null;
  /** True when every X/Y/F value is a fill value, as documented for AEF files. */
  dummiesAreFill: boolean;
  warnings: string[];
}

const NAME_RE = /^([a-z]{3})(\d{4})(\d{2})(\d{2})?(?:-(\d{4})(\d{2}))?([a-z])aef\.(min|hor)$/i;

/** Parse an AEF file name; null when it is not one. */
export function parseAefFileName(name: string): AefFileName | null {
  const m = NAME_RE.exec(path.basename(name));
  if (!m) return null;
  const [, sta, y, mo, d, y2, mo2, type, ext] = m;
  const year = Number(y);
  const month = Number(mo);
  if (month < 1 || month > 12) return null;
  let start: number;
  let end: number;
  if (d !== undefined) {
    if (y2 !== undefined) return null; // a range is only written with months
    start = Date.UTC(year, month - 1, Number(d));
    if (new Date(start).getUTCDate() !== Number(d)) return null;
    end = start + 86_400_000;
  } else {
    start = Date.UTC(year, month - 1, 1);
    const [ey, em] = y2 !== undefined ? [Number(y2), Number(mo2)] : [year, month];
    if (em < 1 || em > 12) return null;
    end = Date.UTC(ey, em, 1); // first day of the month after the last one
    if (end <= start) return null;
  }
  return { station: sta.toUpperCase(), start, end, cadence: ext.toLowerCase() === 'min' ? 'PT1M' : 'PT1H', dataType: type.toLowerCase() };
}

/**
 * True when a parsed IAGA-2002 file has the AEF layout by content alone (data-formats §2.3):
 * a Z column, at least one row, and every other element column entirely 88888 (not recorded).
 * 99999 is not enough: a magnetometer file with its horizontal components missing (9-filled)
 * and Z valid is a geomagnetic file with gaps, not a PG record.
 */
export function hasAefDummyLayout(f: IagaFile): boolean {
  if (f.times.length === 0 || !f.columns.some((c) => c.element === 'Z')) return false;
  let dummies = 0;
  for (const c of f.columns) {
    if (c.element === 'Z' || c.element === 'NUL') continue;
    for (let i = 0; i < c.sentinel.length; i++) if (c.sentinel[i] !== SENTINEL_NOT_RECORDED) return false;
    dummies++;
  }
  return dummies > 0;
}

/**
 * Read an AEF file: the IAGA-2002 reader plus the AEF profile (keep Z as PG in V/m).
 * The Z column is found by its element name, never by position.
 */
export function readAef(buf: Buffer | Uint8Array | string, fileName?: string): AefFile {
  const f = readIaga2002(buf, { fileName });
  const warnings = [...f.header.warnings];
  const z = f.columns.find((c) => c.element === 'Z');
  if (!z) throw new Error(`AEF file${fileName ? ` ${fileName}` : ''}: no Z column (elements ${f.header.elements.join(',')})`);
  let dummiesAreFill = true;
  for (const c of f.columns) {
    if (c === z) continue;
    for (let i = 0; i < c.sentinel.length; i++) {
      if (c.sentinel[i] === 0) {
        dummiesAreFill = false;
        break;
      }
    }
  }
  if (!dummiesAreFill) warnings.push('X/Y/F columns hold values: expected 88888 dummies in an AEF file');
  const name = fileName ? parseAefFileName(fileName) : null;
  if (fileName && !name) warnings.push(`file name ${path.basename(fileName)} is not an AEF name (kakYYYYMM[DD]daef.min|hor)`);
  const station = f.header.iagaCode || name?.station || '';
  if (name && f.header.iagaCode && name.station !== f.header.iagaCode) warnings.push(`IAGA code ${f.header.iagaCode} differs from file name station ${name.station}`);
  if (name && f.cadence.source === 'timestamps' && f.cadence.iso !== name.cadence) warnings.push(`time steps say ${f.cadence.iso}, file name says ${name.cadence}`);
  return { station, cadence: f.cadence, times: f.times, pg: z.values, sentinel: z.sentinel, header: f.header, fileName: name, dummiesAreFill, warnings };
}

export interface AefWriteOptions extends IagaWriteOptions {
  /** Header fields to override (defaults: KAK, 36.232 N, 140.186 E, 36 m, Definitive). */
  header?: Partial<IagaWriteHeader>;
  /** Data Interval Type text (default from the cadence of the times). */
  intervalType?: string;
}

/**
 * Write an AEF file in the documented layout: Reported XYZF, X/Y/F = 88888.00, Z = PG,
 * NaN PG written as 99999.00 (or 88888.00 where `sentinel` says not recorded).
 */
export function writeAef(times: ArrayLike<number>, pg: ArrayLike<number>, sentinel?: ArrayLike<number>, opts: AefWriteOptions = {}): Buffer {
  const n = times.length;
  const dummy = new Float64Array(n).fill(NaN);
  const dummySent = new Uint8Array(n).fill(SENTINEL_NOT_RECORDED);
  const step = n >= 2 ? times[1] - times[0] : 60_000;
  const header: IagaWriteHeader = {
    iagaCode: 'KAK',
    source: 'Kakioka Magnetic Observatory, JMA',
    stationName: 'Kakioka',
    latitude: 36.232,
    longitude: 140.186,
    elevation: 36,
    reported: 'XYZF',
    sensorOrientation: '',
    digitalSampling: '',
    intervalType: opts.intervalType ?? (step >= 3_600_000 ? '1-hour' : '1-minute'),
    dataType: 'Definitive',
    comments: [' Atmospheric electric field: potential gradient (V/m) in Z.', ' X, Y and F are dummies (88888.00); missing PG is 99999.00.'],
    ...opts.header,
  };
  return writeIaga2002(
    {
      header,
      times,
      columns: [
        { element: 'X', values: dummy, sentinel: dummySent },
        { element: 'Y', values: dummy, sentinel: dummySent },
        { element: 'Z', values: pg, sentinel },
        { element: 'F', values: dummy, sentinel: dummySent },
      ],
    },
    opts,
  );
}
