/**
 * An independent re-implementation of ObsPy's STATIONTXT reader rules
 * (obspy/io/stationtxt/core.py), since there is no Python ObsPy here: Python
 * csv.reader(delimiter='|', quotechar='"'); header[0] lstrip('#'), every header cell
 * strip().lower(), 'instrument' → 'sensordescription'; header must equal one of three tuples;
 * rows whose first cell starts with '#' are skipped; a blank line yields [] and `line[0]`
 * raises; cells are strip()ped and converted with float/int/UTCDateTime.
 * Shared by the stationText (formats) and fdsnws-station tests.
 */
export const OBSPY_HEADERS = {
  network: ['network', 'description', 'starttime', 'endtime', 'totalstations'],
  station: ['network', 'station', 'latitude', 'longitude', 'elevation', 'sitename', 'starttime', 'endtime'],
  channel: ['network', 'station', 'location', 'channel', 'latitude', 'longitude', 'elevation', 'depth', 'azimuth', 'dip', 'sensordescription', 'scale', 'scalefreq', 'scaleunits', 'samplerate', 'starttime', 'endtime'],
};
export type StationTextLevel = keyof typeof OBSPY_HEADERS;
type Conv = 'str' | 'float' | 'float?' | 'int' | 'time' | 'time?';
const TYPES: Record<StationTextLevel, Conv[]> = {
  network: ['str', 'str', 'time', 'time?', 'int'],
  station: ['str', 'str', 'float', 'float', 'float', 'str', 'time', 'time?'],
  channel: ['str', 'str', 'str', 'str', 'float', 'float', 'float', 'float?', 'float?', 'float?', 'str', 'float?', 'float?', 'str', 'float?', 'time', 'time?'],
};

/** Python csv.reader, default dialect, for '|' (quoted fields may span lines); ObsPy's EVENTTXT reader reads the same way. */
export function pyCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let inQuotes = false;
  let atFieldStart = true;
  let lineHasContent = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else field += c;
      continue;
    }
    if (c === '"' && atFieldStart) {
      inQuotes = true;
      atFieldStart = false;
      lineHasContent = true;
      continue;
    }
    if (c === '|') {
      row.push(field);
      field = '';
      atFieldStart = true;
      lineHasContent = true;
      continue;
    }
    if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      if (lineHasContent || field) row.push(field);
      rows.push(row);
      row = [];
      field = '';
      atFieldStart = true;
      lineHasContent = false;
      continue;
    }
    field += c;
    atFieldStart = false;
    lineHasContent = true;
  }
  if (inQuotes) throw new Error('unexpected end of data (open quote)');
  if (lineHasContent || field) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

const PY_FLOAT = /^[+-]?((\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|inf(inity)?|nan)$/i;
const UTC_ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?Z?$/;

export function obspyReadStationText(text: string): { level: StationTextLevel; rows: Array<Array<string | number | null>> } {
  const [header, ...rest] = pyCsv(text);
  header[0] = header[0].replace(/^#+/, '');
  const h = header.map((x) => x.trim().toLowerCase().replace('instrument', 'sensordescription'));
  const level = (Object.keys(OBSPY_HEADERS) as StationTextLevel[]).find((k) => JSON.stringify(OBSPY_HEADERS[k]) === JSON.stringify(h));
  if (!level) throw new Error('Unknown type of header.');
  const rows: Array<Array<string | number | null>> = [];
  for (const line of rest) {
    if (line.length === 0) throw new Error('IndexError: list index out of range (blank line)');
    if (line[0].startsWith('#')) continue;
    const cells = line.map((x) => x.trim());
    // zip(): extra cells are ignored, missing ones make the row short (ObsPy then fails to unpack).
    if (cells.length < TYPES[level].length) throw new Error(`short row: ${line.join('|')}`);
    rows.push(
      TYPES[level].map((t, i) => {
        const v = cells[i];
        if ((t === 'float?' || t === 'time?') && !v) return null;
        if (t === 'float' || t === 'float?') {
          if (!PY_FLOAT.test(v)) throw new Error(`could not convert string to float: '${v}'`);
          return Number(v);
        }
        if (t === 'int') {
          if (!/^[+-]?\d+$/.test(v)) throw new Error(`invalid literal for int(): '${v}'`);
          return Number(v);
        }
        if (t === 'time' || t === 'time?') {
          if (!UTC_ISO.test(v)) throw new Error(`UTCDateTime cannot parse '${v}'`);
          return v;
        }
        return v;
      }),
    );
  }
  return { level, rows };
}
