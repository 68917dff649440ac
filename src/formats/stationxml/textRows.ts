/**
 * Fast FDSN station text: the same bytes as stationText (text.ts stays the formatter of record
 * and defines every field; test/index/metadata-fastpath.test.ts checks the two agree), for large
 * answers (fdsnws-station `network=*` at level=channel is ~6,000+ lines).
 *
 * What makes it cheaper: codes, sensor names, units and epoch times repeat across thousands of
 * channels, so each distinct value is sanitised (textField) or formatted (nsToIso) once per
 * answer, and lines are appended to one string instead of building a field array per line.
 */
import { nsToIso } from '../time';
import type { Inventory } from './model';
import { STATION_TEXT_HEADERS, textField, type StationTextLevel } from './text';

function num(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '' : String(v);
}

function minNs(values: Array<bigint | null>): bigint | null {
  let m: bigint | null = null;
  for (const v of values) if (v !== null && (m === null || v < m)) m = v;
  return m;
}

/** stationText(inv, level), byte for byte, with per-answer memoisation of repeated values. */
export function stationTextFast(inv: Inventory, level: StationTextLevel): string {
  if (!(level in STATION_TEXT_HEADERS)) throw new RangeError(`no station text format at level ${String(level)}`);
  const fields = new Map<string, string>();
  const times = new Map<bigint, string>();
  const f = (v: string | null | undefined): string => {
    if (v === null || v === undefined) return '';
    let r = fields.get(v);
    if (r === undefined) fields.set(v, (r = textField(v)));
    return r;
  };
  const time = (ns: bigint | null): string => {
    if (ns === null) return '';
    let r = times.get(ns);
    if (r === undefined) times.set(ns, (r = nsToIso(ns, 'auto', false)));
    return r;
  };
  let out = STATION_TEXT_HEADERS[level] + '\n';
  for (const net of inv.networks) {
    const netCode = f(net.code);
    if (level === 'network') {
      const start = net.startNs ?? minNs(net.stations.map((s) => s.startNs ?? minNs(s.channels.map((c) => c.startNs))));
      out += `${netCode}|${f(net.description)}|${time(start)}|${time(net.endNs)}|${String(net.totalNumberStations ?? net.stations.length)}\n`;
      continue;
    }
    for (const sta of net.stations) {
      const staCode = f(sta.code);
      if (level === 'station') {
        const start = sta.startNs ?? minNs(sta.channels.map((c) => c.startNs));
        out += `${netCode}|${staCode}|${num(sta.lat)}|${num(sta.lon)}|${num(sta.elevation)}|${f(sta.siteName)}|${time(start)}|${time(sta.endNs)}\n`;
        continue;
      }
      for (const ch of sta.channels) {
        const s = ch.sensitivity;
        out +=
          `${netCode}|${staCode}|${f(ch.location)}|${f(ch.code)}|${num(ch.lat)}|${num(ch.lon)}|${num(ch.elevation)}|${num(ch.depth)}|` +
          `${num(ch.azimuth)}|${num(ch.dip)}|${f(ch.sensorDescription)}|${num(s?.value)}|${num(s?.frequency)}|${f(s?.inputUnits)}|` +
          `${num(ch.sampleRate)}|${time(ch.startNs ?? sta.startNs)}|${time(ch.endNs)}\n`;
      }
    }
  }
  return out;
}
