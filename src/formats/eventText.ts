/**
 * FDSN event text format (fdsnws-event `format=text`) and simple catalogue lists.
 *
 * Writing: the 13 FDSN-WS 1.1 columns plus, as SeisComP's fdsnws (event 1.2.x) does, a 14th
 * `EventType` column. ObsPy's EVENTTXT reader (obspy/io/csv/core.py `_read_eventtxt`) skips the
 * first line and reads rows with csv.DictReader and 13 fixed field names; extra fields go to the
 * DictReader rest-key and are ignored, so the 14th column is harmless to it. It does need every
 * line to carry Time/Latitude/Longitude (float('') fails), and only ONE header line.
 *
 * Reading: (a) FDSN text, 13 or 14 columns, header optional (if present, columns are matched by name,
 * so ObsPy's `#EventID | Time | …` header and other orders work); (b) catalogue lists: whitespace
 * or comma (or semicolon) separated `date time lat lon depth mag [magtype] [name…]` lines, or CSV
 * with a header naming its columns (USGS ComCat CSV: time,latitude,longitude,depth,mag,magType,…).
 */
import { nsToIso } from './time';
import { createEvent, deriveEventId, normaliseEventType, type CatalogEvent, type Magnitude, type Origin } from './quakeml/model';
import { parseQuakeMLTime } from './quakeml/parse';
import { textField } from './stationxml/text';

export const EVENT_TEXT_COLUMNS = [
  'EventID', 'Time', 'Latitude', 'Longitude', 'Depth/km', 'Author', 'Catalog', 'Contributor', 'ContributorID',
  'MagType', 'Magnitude', 'MagAuthor', 'EventLocationName', 'EventType',
] as const;

/** The 14-column header written by writeEventText (13 FDSN 1.1 columns + SeisComP's EventType). */
export const EVENT_TEXT_HEADER = '#' + EVENT_TEXT_COLUMNS.join('|');
/** The FDSN-WS 1.1 13-column header. */
export const EVENT_TEXT_HEADER_13 = '#' + EVENT_TEXT_COLUMNS.slice(0, 13).join('|');

export interface WriteEventTextOptions {
  /** Write the 14th EventType column (default true; false gives the plain FDSN 1.1 13 columns). */
  eventType?: boolean;
}

/**
 * A field may never contain the separator or a line break (`|` becomes `/`, breaks become
 * spaces), nor a `"`: ObsPy reads this format with Python's csv module, where a leading quote
 * opens a quoted field that swallows the following events. Same rule as the station text.
 */
const field = (v: string | undefined): string => textField(v);

function num(v: number | undefined): string {
  // toPrecision(15) removes conversion noise (m → km) without losing any real digit.
  return v === undefined || !Number.isFinite(v) ? '' : String(Number(v.toPrecision(15)));
}

/** One line per event; `\n` line ends; header first. Events without an origin get empty origin fields. */
export function writeEventText(events: CatalogEvent[], opts: WriteEventTextOptions = {}): string {
  const withType = opts.eventType !== false;
  const lines = [withType ? EVENT_TEXT_HEADER : EVENT_TEXT_HEADER_13];
  for (const ev of events) {
    const o = ev.preferredOrigin;
    const m = ev.preferredMagnitude;
    const cols = [
      field(ev.eventId),
      o ? nsToIso(o.timeNs, 6) : '',
      num(o?.lat),
      num(o?.lon),
      num(o?.depthKm),
      field(o?.author),
      field(ev.catalog),
      field(ev.contributor),
      field(ev.contributorId),
      field(m?.type),
      num(m?.value),
      field(m?.author),
      field(ev.locationName),
    ];
    if (withType) cols.push(field(ev.type ?? ev.typeOriginal));
    lines.push(cols.join('|'));
  }
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------------
// Reading

export class EventTextError extends Error {
  constructor(
    readonly line: number,
    message: string,
    readonly lineText: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'EventTextError';
  }
}

/** Prefix of the publicIDs made up for events that have only a short id (text, lists). */
export const LOCAL_EVENT_PREFIX = 'smi:local/event/';

export interface ParseEventTextOptions {
  /** Catalog recorded on every event (overrides a Catalog column). */
  catalog?: string;
  /** Contributor recorded on every event (overrides a Contributor column). */
  contributor?: string;
  /** 'auto' (default) detects FDSN text by its `|` separators; otherwise a catalogue list. */
  format?: 'auto' | 'fdsn' | 'list';
  /** Magnitude type for lists that have none. */
  magType?: string;
  /** publicID = prefix + EventID when the id is not already a URI (default `smi:local/event/`). */
  publicIdPrefix?: string;
  /**
   * Called for a malformed line instead of throwing; the line is then skipped. Without it the first
   * malformed line throws an EventTextError (which carries the 1-based line number).
   */
  onError?: (err: EventTextError) => void;
}

/** Canonical column keys and the header spellings that mean them (compared lower-case, alnum only). */
const ALIASES: Record<string, string[]> = {
  eventid: ['eventid', 'id', 'evid', 'event', 'publicid'],
  time: ['time', 'datetime', 'origintime', 'otime', 'timeutc', 'utctime', 'eventtime'],
  date: ['date', 'ymd'],
  year: ['year', 'yr', 'yyyy'],
  month: ['month', 'mon', 'mo'],
  day: ['day', 'dd'],
  hour: ['hour', 'hr', 'hh'],
  minute: ['minute', 'min', 'minu', 'mi'],
  second: ['second', 'sec', 'ss'],
  latitude: ['latitude', 'lat'],
  longitude: ['longitude', 'lon', 'long', 'lng'],
  depthkm: ['depthkm', 'depth', 'dep', 'depkm'],
  depthm: ['depthm', 'depm'],
  author: ['author', 'locationsource'],
  catalog: ['catalog', 'cat'],
  contributor: ['contributor', 'net', 'network', 'agency'],
  contributorid: ['contributorid'],
  magtype: ['magtype', 'magnitudetype', 'mtype'],
  magnitude: ['magnitude', 'mag'],
  magauthor: ['magauthor', 'magsource'],
  eventlocationname: ['eventlocationname', 'place', 'region', 'location', 'locationname', 'name', 'description'],
  eventtype: ['eventtype', 'type'],
  updated: ['updated', 'updatetime', 'modified'],
};
const ALIAS_INDEX = new Map<string, string>();
for (const [key, names] of Object.entries(ALIASES)) for (const n of names) ALIAS_INDEX.set(n, key);

const canon = (h: string): string | undefined => ALIAS_INDEX.get(h.toLowerCase().replace(/[^a-z0-9]/g, ''));

const FDSN_POSITIONAL = [
  'eventid', 'time', 'latitude', 'longitude', 'depthkm', 'author', 'catalog', 'contributor', 'contributorid',
  'magtype', 'magnitude', 'magauthor', 'eventlocationname', 'eventtype',
];

const DATE_RE = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/;
const TIME_RE = /^(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?$/;
const NUM_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Split a CSV line honouring double quotes (ComCat quotes `place`, which contains commas). */
function splitDelimited(line: string, sep: string): string[] {
  if (!line.includes('"')) return line.split(sep).map((s) => s.trim());
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === sep) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

interface Row {
  [key: string]: string | undefined;
}

/** Parse FDSN event text or a catalogue list (see module comment). */
export function parseEventText(text: string, opts: ParseEventTextOptions = {}): CatalogEvent[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  // FDSN text is recognised by its separator on a data line, or by its header line.
  const isFdsn =
    opts.format === 'fdsn' ||
    (opts.format !== 'list' &&
      lines.some((l) => (l.trimStart().startsWith('#') ? /eventid\s*\|/i.test(l) : l.includes('|'))));
  const events: CatalogEvent[] = [];
  const usedIds = new Map<string, number>();
  const fail = (n: number, msg: string, raw: string): void => {
    const err = new EventTextError(n, msg, raw);
    if (opts.onError) opts.onError(err);
    else throw err;
  };

  let header: (string | undefined)[] | undefined;
  let sep: string | undefined;
  let sawData = false;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const line = raw.trim();
    const n = i + 1;
    if (line === '') continue;
    if (line.startsWith('#')) {
      // The FDSN header (first '#' line with separators, before any data); other '#' lines are comments.
      if (isFdsn && !header && !sawData && line.includes('|')) header = line.slice(1).split('|').map((h) => canon(h.trim()));
      continue;
    }
    let fields: string[];
    if (isFdsn) {
      fields = line.split('|').map((s) => s.trim());
    } else {
      sep ??= line.includes(',') ? ',' : line.includes(';') ? ';' : ' ';
      fields = sep === ' ' ? line.split(/\s+/) : splitDelimited(line, sep);
      if (!header && !sawData && looksLikeHeader(fields)) {
        header = fields.map(canon);
        continue;
      }
    }
    sawData = true;
    try {
      let row: Row;
      if (isFdsn) {
        let names: readonly (string | undefined)[];
        if (!header) {
          if (fields.length !== 13 && fields.length !== 14) throw new Error(`expected 13 or 14 '|'-separated columns, found ${fields.length}`);
          names = FDSN_POSITIONAL;
        } else if (fields.length === header.length) {
          names = header;
        } else if (Math.min(fields.length, header.length) === 13 && Math.max(fields.length, header.length) === 14) {
          // 1.1 header with 1.2 rows or the reverse: the 14th column can only be EventType.
          names = fields.length === 14 ? [...header, 'eventtype'] : header;
        } else {
          throw new Error(`expected ${header.length} columns as in the header, found ${fields.length}`);
        }
        row = toRow(names, fields);
      } else if (header) {
        if (fields.length < header.length) throw new Error(`expected ${header.length} columns as in the header, found ${fields.length}`);
        row = toRow(header, fields);
      } else {
        row = positionalListRow(fields);
      }
      events.push(rowToEvent(row, opts, usedIds));
    } catch (e) {
      fail(n, (e as Error).message, raw);
    }
  }
  return events;
}

function toRow(names: readonly (string | undefined)[], fields: string[]): Row {
  const row: Row = {};
  names.forEach((k, j) => {
    if (k && row[k] === undefined && fields[j] !== undefined && fields[j] !== '') row[k] = fields[j];
  });
  return row;
}

/** A first line of names (not a date, mentions latitude and longitude) is a header. */
function looksLikeHeader(fields: string[]): boolean {
  if (fields.length === 0 || DATE_RE.test(fields[0]) || parseQuakeMLTime(fields[0]) !== null) return false;
  const keys = new Set(fields.map(canon));
  return keys.has('latitude') && keys.has('longitude');
}

/** `date time lat lon depth mag [magtype] [name…]` or `datetime lat lon depth mag …`. */
function positionalListRow(f: string[]): Row {
  let i: number;
  let time: string;
  if (f.length > 1 && DATE_RE.test(f[0]) && TIME_RE.test(f[1])) {
    time = `${f[0]} ${f[1]}`;
    i = 2;
  } else if (f.length > 0 && parseQuakeMLTime(f[0]) !== null) {
    time = f[0];
    i = 1;
  } else {
    throw new Error(`cannot read a date/time from "${f.slice(0, 2).join(' ')}"`);
  }
  const nums = f.slice(i, i + 4);
  if (nums.length < 4) throw new Error(`expected latitude, longitude, depth and magnitude after the time, found ${nums.length} value(s)`);
  const row: Row = { time, latitude: nums[0], longitude: nums[1], depthkm: nums[2], magnitude: nums[3] };
  let j = i + 4;
  if (j < f.length && /^[A-Za-z][A-Za-z0-9_()]{0,9}$/.test(f[j]) && !/\s/.test(f[j])) row.magtype = f[j++];
  if (j < f.length) row.eventlocationname = f.slice(j).join(' ');
  return row;
}

function parseNum(v: string | undefined, what: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (!NUM_RE.test(v)) throw new Error(`${what} "${v}" is not a number`);
  const n = Number(v);
  // 1e400 passes the pattern but is Infinity, which neither writer can put back out.
  if (!Number.isFinite(n)) throw new Error(`${what} "${v}" is beyond the range of a double`);
  return n;
}

function rowTime(row: Row): bigint {
  let t = row.time;
  if (row.date !== undefined) t = row.time !== undefined ? `${row.date} ${row.time}` : row.date;
  else if (t === undefined && row.year !== undefined) {
    const p = (s: string | undefined, w = 2): string => (s ?? '0').padStart(w, '0');
    const [sec, frac] = (row.second ?? '0').split('.');
    t = `${row.year}-${p(row.month)}-${p(row.day)}T${p(row.hour)}:${p(row.minute)}:${p(sec)}${frac ? '.' + frac : ''}`;
  }
  if (t === undefined) throw new Error('no time');
  // Lists use 2020/09/12 and one-digit months/hours; normalise before the strict ISO parse.
  const m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ]+(\d{1,2})(:.*)?)?$/.exec(t.trim());
  const iso = m ? `${m[1]}-${m[2].padStart(2, '0')}-${m[3].padStart(2, '0')}${m[4] !== undefined ? `T${m[4].padStart(2, '0')}${m[5] ?? ':00'}` : ''}` : t;
  const ns = parseQuakeMLTime(iso.length === 16 ? iso + ':00' : iso);
  if (ns === null) throw new Error(`time "${t}" is not a valid date/time`);
  return ns;
}

function compactId(ns: bigint): string {
  // 2020-09-12T02:44:11.000000 → 20200912024411000: stable, URL-safe, unique per millisecond.
  return nsToIso(ns, 3).replace(/[-:T.]/g, '');
}

function rowToEvent(row: Row, opts: ParseEventTextOptions, usedIds: Map<string, number>): CatalogEvent {
  const timeNs = rowTime(row);
  const lat = parseNum(row.latitude, 'latitude');
  const lon = parseNum(row.longitude, 'longitude');
  if (lat !== undefined && (lat < -90 || lat > 90)) throw new Error(`latitude ${lat} out of range`);
  if (lon !== undefined && (lon < -180 || lon > 360)) throw new Error(`longitude ${lon} out of range`);
  let depthKm = parseNum(row.depthkm, 'depth');
  const depthM = parseNum(row.depthm, 'depth');
  if (depthKm === undefined && depthM !== undefined) depthKm = depthM / 1000;
  const mag = parseNum(row.magnitude, 'magnitude');

  let eventId = row.eventid;
  let publicId: string;
  if (eventId && /^(smi|quakeml):/i.test(eventId)) {
    publicId = eventId;
    eventId = deriveEventId(eventId);
  } else {
    if (!eventId) {
      // Lists have no ids: derive one from the time, made unique within this input.
      const base = compactId(timeNs);
      const k = (usedIds.get(base) ?? 0) + 1;
      usedIds.set(base, k);
      eventId = k === 1 ? base : `${base}_${k}`;
    }
    publicId = (opts.publicIdPrefix ?? LOCAL_EVENT_PREFIX) + eventId;
  }

  const origin: Origin = { publicId: `${publicId}/origin`, timeNs, arrivals: [] };
  if (lat !== undefined) origin.lat = lat;
  if (lon !== undefined) origin.lon = lon;
  if (depthKm !== undefined) origin.depthKm = depthKm;
  if (row.author) origin.author = row.author;

  let magnitude: Magnitude | undefined;
  if (mag !== undefined) {
    magnitude = { publicId: `${publicId}/magnitude`, value: mag, originId: origin.publicId };
    const type = row.magtype ?? opts.magType;
    if (type) magnitude.type = type;
    if (row.magauthor) magnitude.author = row.magauthor;
  }
  const type = normaliseEventType(row.eventtype);
  const updatedNs = row.updated ? (parseQuakeMLTime(row.updated) ?? undefined) : undefined;
  const ev = createEvent({
    publicId,
    eventId,
    origins: [origin],
    magnitudes: magnitude ? [magnitude] : [],
    descriptions: row.eventlocationname ? [{ text: row.eventlocationname, type: 'region name' }] : [],
  });
  if (type) ev.type = type;
  if (row.eventtype && row.eventtype !== type) ev.typeOriginal = row.eventtype;
  const catalog = opts.catalog ?? row.catalog;
  const contributor = opts.contributor ?? row.contributor;
  if (catalog) ev.catalog = catalog;
  if (contributor) ev.contributor = contributor;
  if (row.contributorid) ev.contributorId = row.contributorid;
  if (updatedNs !== undefined) ev.updatedNs = updatedNs;
  return ev;
}
