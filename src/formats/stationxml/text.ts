/**
 * FDSN station text format (fdsnws-station `format=text`) at network/station/channel level.
 *
 * The header lines are exactly those ObsPy's STATIONTXT reader matches (after stripping '#',
 * trimming and lower-casing), so `read_inventory(format='STATIONTXT')` accepts the output.
 * ObsPy splits with Python's csv module on '|' (quote char '"') and fails on blank lines, so
 * fields never contain '|', '"' or line breaks, and no blank lines are written.
 */
import { nsToIso } from '../time';
import { Inventory } from './model';

export type StationTextLevel = 'network' | 'station' | 'channel';

export const STATION_TEXT_HEADERS: Record<StationTextLevel, string> = {
  network: '#Network|Description|StartTime|EndTime|TotalStations',
  station: '#Network|Station|Latitude|Longitude|Elevation|SiteName|StartTime|EndTime',
  channel:
    '#Network|Station|Location|Channel|Latitude|Longitude|Elevation|Depth|Azimuth|Dip|SensorDescription|Scale|ScaleFreq|ScaleUnits|SampleRate|StartTime|EndTime',
};

/** Make a value safe for one '|'-separated field. */
export function textField(v: string | null | undefined): string {
  if (v === null || v === undefined) return '';
  return v
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/\|/g, '/') // the separator can never be escaped in this format
    .replace(/"/g, "'") // a leading '"' would start a csv quoted field in ObsPy
    .trim();
}

function num(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '' : String(v);
}

/** Times as IRIS/SeisComP print them: no zone suffix, fraction only when non-zero; '' = open. */
function time(ns: bigint | null): string {
  return ns === null ? '' : nsToIso(ns, 'auto', false);
}

function minNs(values: Array<bigint | null>): bigint | null {
  let m: bigint | null = null;
  for (const v of values) if (v !== null && (m === null || v < m)) m = v;
  return m;
}

/**
 * Render the inventory as FDSN text. Rows follow the inventory order (the caller sorts).
 * Missing network/station start dates fall back to the earliest start below them, because
 * ObsPy requires a StartTime; level 'response' has no text form and throws.
 */
export function stationText(inv: Inventory, level: StationTextLevel): string {
  if (!(level in STATION_TEXT_HEADERS)) throw new RangeError(`no station text format at level ${String(level)}`);
  const lines = [STATION_TEXT_HEADERS[level]];
  for (const net of inv.networks) {
    if (level === 'network') {
      const start = net.startNs ?? minNs(net.stations.map((s) => s.startNs ?? minNs(s.channels.map((c) => c.startNs))));
      lines.push(
        [textField(net.code), textField(net.description), time(start), time(net.endNs), String(net.totalNumberStations ?? net.stations.length)].join('|'),
      );
      continue;
    }
    for (const sta of net.stations) {
      if (level === 'station') {
        const start = sta.startNs ?? minNs(sta.channels.map((c) => c.startNs));
        lines.push(
          [textField(net.code), textField(sta.code), num(sta.lat), num(sta.lon), num(sta.elevation), textField(sta.siteName), time(start), time(sta.endNs)].join('|'),
        );
        continue;
      }
      for (const ch of sta.channels) {
        const s = ch.sensitivity;
        lines.push(
          [
            textField(net.code),
            textField(sta.code),
            textField(ch.location),
            textField(ch.code),
            num(ch.lat),
            num(ch.lon),
            num(ch.elevation),
            num(ch.depth),
            num(ch.azimuth),
            num(ch.dip),
            textField(ch.sensorDescription),
            num(s?.value),
            num(s?.frequency),
            textField(s?.inputUnits),
            num(ch.sampleRate),
            time(ch.startNs ?? sta.startNs),
            time(ch.endNs),
          ].join('|'),
        );
      }
    }
  }
  return lines.join('\n') + '\n';
}
