/**
 * Parse FDSN StationXML 1.0 / 1.1 / 1.2 (namespace http://www.fdsn.org/xml/station/1) into the
 * plain model of ./model.ts. Elements the model does not type are kept as raw fragments.
 */
import { XMLValidator } from 'fast-xml-parser';
import { parseIsoToNs } from '../time';
import { Channel, ExtraAttribute, FDSN_STATION_NS, Inventory, Network, RawElement, Sensitivity, Site, Station } from './model';
import { XElement, XmlSyntaxError, childElements, parseXmlTree, standaloneFragment, textContent } from './xml';

export class StationXmlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StationXmlError';
  }
}

/** Decode a StationXML file honouring its XML declaration (UTF-8 unless it says ISO-8859-1/ASCII). */
export function decodeXmlBuffer(buf: Buffer): string {
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) return buf.toString('utf8', 3);
  if (buf.length >= 2 && ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff))) {
    throw new StationXmlError('UTF-16 encoded XML is not supported');
  }
  const head = buf.toString('latin1', 0, Math.min(buf.length, 200));
  const m = /^<\?xml[^>]*encoding\s*=\s*["']([^"']+)["']/.exec(head);
  const enc = (m?.[1] ?? 'utf-8').toLowerCase();
  if (enc === 'utf-8' || enc === 'utf8') return buf.toString('utf8');
  if (['iso-8859-1', 'latin1', 'latin-1', 'iso8859-1', 'us-ascii', 'ascii'].includes(enc)) return buf.toString('latin1');
  throw new StationXmlError(`unsupported XML encoding ${m?.[1]}`);
}

/**
 * xs:dateTime → epoch ns. Accepts a trailing Z, a ±hh:mm offset or no zone (taken as UTC, as
 * IRIS 1.0 output writes), and fractions longer than 9 digits (truncated).
 */
export function parseXmlDateTime(text: string): bigint | null {
  const m = /^\s*(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2}:\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:?\d{2})?\s*$/.exec(text);
  if (!m) return null;
  const base = m[1] + (m[2] ? 'T' + m[2] + (m[3] ? '.' + m[3].slice(0, 9) : '') : '');
  const ns = parseIsoToNs(base);
  if (ns === null) return null;
  const z = m[4];
  if (!z || z === 'Z') return ns;
  const sign = z[0] === '-' ? -1n : 1n;
  const digits = z.slice(1).replace(':', '');
  const offMin = BigInt(Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
  return ns - sign * offMin * 60_000_000_000n;
}

interface Ctx {
  text: string;
  where: string;
}

function fail(ctx: Ctx, msg: string): never {
  throw new StationXmlError(`${ctx.where}: ${msg}`);
}

function attr(el: XElement, name: string): string | undefined {
  return el.attrs.find((a) => a.ns === null && a.local === name)?.value;
}

function isFdsn(el: XElement): boolean {
  return el.ns === FDSN_STATION_NS;
}

function child(el: XElement, local: string): XElement | undefined {
  return childElements(el).find((c) => isFdsn(c) && c.local === local);
}

function childText(el: XElement, local: string): string | undefined {
  const c = child(el, local);
  return c ? textContent(c).trim() : undefined;
}

function num(ctx: Ctx, el: XElement | undefined, what: string, required: true): number;
function num(ctx: Ctx, el: XElement | undefined, what: string, required: false): number | null;
function num(ctx: Ctx, el: XElement | undefined, what: string, required: boolean): number | null {
  if (!el) {
    if (required) fail(ctx, `missing <${what}>`);
    return null;
  }
  const t = textContent(el).trim();
  // xs:double also allows INF/-INF/NaN; none is meaningful here.
  const v = Number(t);
  if (t === '' || !Number.isFinite(v)) fail(ctx, `<${what}> is not a number: ${JSON.stringify(t)}`);
  return v;
}

function time(ctx: Ctx, value: string | undefined, what: string): bigint | null {
  if (value === undefined || value.trim() === '') return null;
  const ns = parseXmlDateTime(value);
  if (ns === null) fail(ctx, `${what} is not a date-time: ${JSON.stringify(value)}`);
  return ns;
}

function int(ctx: Ctx, el: XElement | undefined, what: string): number | null {
  if (!el) return null;
  const t = textContent(el).trim();
  if (!/^\+?\d+$/.test(t)) fail(ctx, `<${what}> is not a non-negative integer: ${JSON.stringify(t)}`);
  return Number(t);
}

/** Attributes other than the typed ones (and xmlns, which the parser keeps apart). */
function extraAttrs(el: XElement, typed: string[]): ExtraAttribute[] {
  return el.attrs
    .filter((a) => a.ns !== null || !typed.includes(a.local))
    .map((a) => ({ name: a.local, ns: a.ns, prefix: a.prefix, value: a.value }));
}

function raw(ctx: Ctx, el: XElement, parent: XElement): RawElement {
  return { name: el.local, ns: el.ns, xml: standaloneFragment(ctx.text, el, parent.scope) };
}

/** Attributes of typed value elements (unit, datum, plusError, ...), kept for faithful output. */
function valueAttrs(el: XElement | undefined): ExtraAttribute[] | undefined {
  if (!el || el.attrs.length === 0) return undefined;
  return el.attrs.map((a) => ({ name: a.local, ns: a.ns, prefix: a.prefix, value: a.value }));
}

const NODE_ATTRS = ['code', 'startDate', 'endDate', 'restrictedStatus'];

function parseSensitivity(ctx: Ctx, resp: XElement): Sensitivity | null {
  const s = child(resp, 'InstrumentSensitivity');
  if (!s) return null;
  const inU = child(s, 'InputUnits');
  const outU = child(s, 'OutputUnits');
  return {
    value: num(ctx, child(s, 'Value'), 'InstrumentSensitivity/Value', true),
    frequency: num(ctx, child(s, 'Frequency'), 'InstrumentSensitivity/Frequency', true),
    inputUnits: inU ? (childText(inU, 'Name') ?? '') : '',
    outputUnits: outU ? (childText(outU, 'Name') ?? '') : '',
  };
}

function parseChannel(ctx0: Ctx, el: XElement): Channel {
  const code = attr(el, 'code') ?? '';
  const location = attr(el, 'locationCode') ?? '';
  const ctx: Ctx = { text: ctx0.text, where: `${ctx0.where}.${location}.${code}` };
  if (!code) fail(ctx, 'Channel without code');
  const ch: Channel = {
    location,
    code,
    startNs: time(ctx, attr(el, 'startDate'), 'startDate'),
    endNs: time(ctx, attr(el, 'endDate'), 'endDate'),
    restrictedStatus: attr(el, 'restrictedStatus') ?? null,
    description: null,
    lat: 0,
    lon: 0,
    elevation: 0,
    depth: 0,
    azimuth: null,
    dip: null,
    types: [],
    sampleRate: null,
    clockDrift: null,
    sensorDescription: null,
    sensitivity: null,
    responseXml: null,
    responseStageCount: 0,
    dataAvailability: null,
    attributes: extraAttrs(el, [...NODE_ATTRS, 'locationCode']),
    extras: [],
  };
  let haveLat = false;
  let haveLon = false;
  let haveElev = false;
  const vattrs: Record<string, ExtraAttribute[]> = {};
  for (const c of childElements(el)) {
    if (!isFdsn(c)) {
      ch.extras.push(raw(ctx, c, el));
      continue;
    }
    const va = valueAttrs(c);
    switch (c.local) {
      case 'Description':
        ch.description = textContent(c).trim();
        break;
      case 'Latitude':
        ch.lat = num(ctx, c, 'Latitude', true);
        haveLat = true;
        if (va) vattrs.Latitude = va;
        break;
      case 'Longitude':
        ch.lon = num(ctx, c, 'Longitude', true);
        haveLon = true;
        if (va) vattrs.Longitude = va;
        break;
      case 'Elevation':
        ch.elevation = num(ctx, c, 'Elevation', true);
        haveElev = true;
        if (va) vattrs.Elevation = va;
        break;
      case 'Depth':
        ch.depth = num(ctx, c, 'Depth', true);
        if (va) vattrs.Depth = va;
        break;
      case 'Azimuth':
        ch.azimuth = num(ctx, c, 'Azimuth', true);
        if (va) vattrs.Azimuth = va;
        break;
      case 'Dip':
        ch.dip = num(ctx, c, 'Dip', true);
        if (va) vattrs.Dip = va;
        break;
      case 'Type':
        ch.types.push(textContent(c).trim());
        break;
      case 'SampleRate':
        ch.sampleRate = num(ctx, c, 'SampleRate', true);
        if (va) vattrs.SampleRate = va;
        break;
      case 'ClockDrift':
        ch.clockDrift = num(ctx, c, 'ClockDrift', true);
        if (va) vattrs.ClockDrift = va;
        break;
      case 'Sensor':
        ch.sensorDescription = childText(c, 'Type') || childText(c, 'Description') || null;
        ch.extras.push(raw(ctx, c, el));
        break;
      case 'Response': {
        ch.responseXml = standaloneFragment(ctx.text, c, el.scope);
        ch.sensitivity = parseSensitivity(ctx, c);
        ch.responseStageCount = childElements(c).filter((s) => isFdsn(s) && s.local === 'Stage').length;
        break;
      }
      case 'DataAvailability': {
        // Availability describes the archive, not the metadata: the writer recomputes it.
        const ext = child(c, 'Extent');
        const s = ext ? time(ctx, attr(ext, 'start'), 'Extent start') : null;
        const e = ext ? time(ctx, attr(ext, 'end'), 'Extent end') : null;
        if (s !== null && e !== null) ch.dataAvailability = { startNs: s, endNs: e };
        break;
      }
      case 'StorageFormat':
        // StationXML 1.0 only; removed in 1.1, so it cannot be written as 1.2.
        break;
      default:
        ch.extras.push(raw(ctx, c, el));
    }
  }
  if (!haveLat || !haveLon || !haveElev) fail(ctx, 'Channel needs Latitude, Longitude and Elevation');
  if (Object.keys(vattrs).length) ch.valueAttributes = vattrs;
  return ch;
}

function parseSite(ctx: Ctx, el: XElement | undefined): Site {
  if (!el) fail(ctx, 'missing <Site>');
  const site: Site = { name: childText(el, 'Name') ?? '' };
  const opt = (k: 'description' | 'town' | 'county' | 'region' | 'country', tag: string): void => {
    const v = childText(el, tag);
    if (v !== undefined) site[k] = v;
  };
  opt('description', 'Description');
  opt('town', 'Town');
  opt('county', 'County');
  opt('region', 'Region');
  opt('country', 'Country');
  return site;
}

function parseStation(ctx0: Ctx, el: XElement): Station {
  const code = attr(el, 'code') ?? '';
  const ctx: Ctx = { text: ctx0.text, where: `${ctx0.where}.${code}` };
  if (!code) fail(ctx, 'Station without code');
  const site = parseSite(ctx, child(el, 'Site'));
  const st: Station = {
    code,
    startNs: time(ctx, attr(el, 'startDate'), 'startDate'),
    endNs: time(ctx, attr(el, 'endDate'), 'endDate'),
    restrictedStatus: attr(el, 'restrictedStatus') ?? null,
    description: null,
    lat: num(ctx, child(el, 'Latitude'), 'Latitude', true),
    lon: num(ctx, child(el, 'Longitude'), 'Longitude', true),
    elevation: num(ctx, child(el, 'Elevation'), 'Elevation', true),
    siteName: site.name,
    site,
    creationDateNs: null,
    terminationDateNs: null,
    totalNumberChannels: null,
    channels: [],
    attributes: extraAttrs(el, NODE_ATTRS),
    extras: [],
  };
  const vattrs: Record<string, ExtraAttribute[]> = {};
  for (const c of childElements(el)) {
    if (!isFdsn(c)) {
      st.extras.push(raw(ctx, c, el));
      continue;
    }
    switch (c.local) {
      case 'Latitude':
      case 'Longitude':
      case 'Elevation': {
        const va = valueAttrs(c);
        if (va) vattrs[c.local] = va;
        break;
      }
      case 'Site':
      case 'SelectedNumberChannels': // recomputed from the selection when writing
      case 'DataAvailability': // recomputed by the service
        break;
      case 'Description':
        st.description = textContent(c).trim();
        break;
      case 'CreationDate':
        st.creationDateNs = time(ctx, textContent(c), 'CreationDate');
        break;
      case 'TerminationDate':
        st.terminationDateNs = time(ctx, textContent(c), 'TerminationDate');
        break;
      case 'TotalNumberChannels':
        st.totalNumberChannels = int(ctx, c, 'TotalNumberChannels');
        break;
      case 'Channel':
        st.channels.push(parseChannel(ctx, c));
        break;
      default:
        st.extras.push(raw(ctx, c, el));
    }
  }
  if (Object.keys(vattrs).length) st.valueAttributes = vattrs;
  return st;
}

function parseNetwork(ctx0: Ctx, el: XElement): Network {
  const code = attr(el, 'code') ?? '';
  const ctx: Ctx = { text: ctx0.text, where: `${ctx0.where}${code}` };
  if (!code) fail(ctx, 'Network without code');
  const net: Network = {
    code,
    description: null,
    startNs: time(ctx, attr(el, 'startDate'), 'startDate'),
    endNs: time(ctx, attr(el, 'endDate'), 'endDate'),
    restrictedStatus: attr(el, 'restrictedStatus') ?? null,
    totalNumberStations: null,
    stations: [],
    attributes: extraAttrs(el, NODE_ATTRS),
    extras: [],
  };
  for (const c of childElements(el)) {
    if (!isFdsn(c)) {
      net.extras.push(raw(ctx, c, el));
      continue;
    }
    switch (c.local) {
      case 'Description':
        net.description = textContent(c).trim();
        break;
      case 'TotalNumberStations':
        net.totalNumberStations = int(ctx, c, 'TotalNumberStations');
        break;
      case 'SelectedNumberStations':
      case 'DataAvailability':
        break;
      case 'Station':
        net.stations.push(parseStation(ctx, c));
        break;
      default:
        net.extras.push(raw(ctx, c, el));
    }
  }
  return net;
}

/**
 * Parse FDSN StationXML (1.0, 1.1, 1.2). `input` may be a Buffer (decoded per its XML
 * declaration) or text. Throws StationXmlError on malformed XML or a non-StationXML root.
 */
export function parseStationXml(input: string | Buffer, sourceName?: string): Inventory {
  const text = typeof input === 'string' ? input : decodeXmlBuffer(input);
  const label = sourceName ?? 'StationXML';
  const v = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (v !== true) {
    throw new StationXmlError(`${label}: malformed XML: ${v.err.msg} (line ${v.err.line}, column ${v.err.col})`);
  }
  let root: XElement;
  try {
    root = parseXmlTree(text);
  } catch (e) {
    if (e instanceof XmlSyntaxError) throw new StationXmlError(`${label}: malformed XML: ${e.message}`);
    throw e;
  }
  if (root.local !== 'FDSNStationXML' || root.ns !== FDSN_STATION_NS) {
    throw new StationXmlError(
      `${label}: not FDSN StationXML: root element is <${root.qname}>${root.ns ? ` in namespace ${root.ns}` : ''}, expected <FDSNStationXML> in ${FDSN_STATION_NS}`,
    );
  }
  const ctx: Ctx = { text, where: `${label}: ` };
  const inv: Inventory = {
    schemaVersion: attr(root, 'schemaVersion') ?? null,
    source: childText(root, 'Source') ?? null,
    sender: childText(root, 'Sender') ?? null,
    module: childText(root, 'Module') ?? null,
    moduleUri: childText(root, 'ModuleURI') ?? null,
    createdNs: time(ctx, childText(root, 'Created'), 'Created'),
    networks: [],
  };
  if (sourceName !== undefined) inv.sourceName = sourceName;
  for (const c of childElements(root)) {
    if (isFdsn(c) && c.local === 'Network') inv.networks.push(parseNetwork(ctx, c));
  }
  return inv;
}
