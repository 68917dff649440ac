/**
 * Write FDSN StationXML 1.2 from the inventory model with xmlbuilder2.
 *
 * Children are emitted in the order of the 1.2 XSD sequences (BaseNodeType first, then the
 * Network/Station/Channel extension). Raw fragments kept by the parser are re-parsed and
 * re-emitted element by element in the 1.2 namespace, so they always land in a well-formed,
 * correctly namespaced document whatever prefixes the source used.
 */
import { create } from 'xmlbuilder2';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces';
import { nsToIso } from '../time';
import { Channel, ExtraAttribute, FDSN_STATION_NS, Inventory, Network, RawElement, Station, channelKey } from './model';
import { XElement, childElements, parseXmlTree } from './xml';

export type StationLevel = 'network' | 'station' | 'channel' | 'response';

export interface WriteStationXmlOptions {
  level: StationLevel;
  /** <Source>; defaults to the inventory's source, else empty (the element is required). */
  source?: string;
  sender?: string;
  module?: string;
  moduleUri?: string;
  /** <Created>; default now. */
  created?: bigint | Date;
  /** Data extents by channelKey(net, sta, loc, cha): adds <DataAvailability><Extent> to channels. */
  availability?: Map<string, { startNs: bigint; endNs: bigint }>;
  /** Indent output (default true). */
  prettyPrint?: boolean;
}

const NS = FDSN_STATION_NS;

/** Characters XML 1.0 cannot carry at all; dropped rather than failing the whole document. */
function clean(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '');
}

function iso(ns: bigint): string {
  return nsToIso(ns, 'auto', true);
}

function numText(v: number): string {
  // JS number formatting ("1e-7", "3990240000") is valid xs:double lexical form; String(-0)
  // would lose the sign some sources write (ffbx: <Dip>-0.0</Dip>).
  return Object.is(v, -0) ? '-0' : String(v);
}

function addAttr(el: XMLBuilder, a: ExtraAttribute): void {
  if (a.ns) el.att(a.ns, a.prefix ? `${a.prefix}:${a.name}` : a.name, clean(a.value));
  else el.att(a.name, clean(a.value));
}

function textEl(parent: XMLBuilder, name: string, value: string, attrs?: ExtraAttribute[]): XMLBuilder {
  const e = parent.ele(NS, name);
  for (const a of attrs ?? []) addAttr(e, a);
  e.txt(clean(value));
  return e;
}

/** 1.0 → 1.2 adjustments needed inside kept fragments (only where 1.2 is stricter). */
function convertChildren(el: XElement): XElement[] {
  const kids = childElements(el);
  if (el.ns === NS && el.local === 'Operator') {
    // 1.0 allowed several <Agency>; 1.1+ allow exactly one.
    let seen = false;
    return kids.filter((k) => {
      if (k.ns !== NS || k.local !== 'Agency') return true;
      if (seen) return false;
      seen = true;
      return true;
    });
  }
  return kids;
}

/**
 * Mixed-content elements of the document being written: pretty-printing would indent inside
 * them and change their text ("H<sub>2</sub>O" read back as "H 2 O"), so each is written
 * compact on its own and spliced in for a placeholder after the document is serialized.
 */
let mixedFragments: Map<string, string> | null = null;

const isMixed = (el: XElement): boolean => el.children.some((c) => c.kind === 'element') && el.children.some((c) => c.kind === 'text' && c.text.trim() !== '');

/** Re-emit a parsed element (and subtree) under `parent`. */
function emitElement(parent: XMLBuilder, el: XElement): void {
  if (mixedFragments && isMixed(el)) {
    const frag = create();
    emitVerbatim(frag, el);
    let xml = frag.end({ headless: true, prettyPrint: false });
    // An element in no namespace, spliced inside the FDSN default namespace, must say so.
    if (el.ns === '' && !/^<[^\s>/]+[^>]*\sxmlns=""/.test(xml)) xml = xml.replace(/^<([^\s>/]+)/, '<$1 xmlns=""');
    const token = `geonodeMixedContent${mixedFragments.size}x${MIXED_NONCE}`;
    mixedFragments.set(token, xml);
    parent.txt(token);
    return;
  }
  const qname = el.ns === NS || !el.prefix ? el.local : `${el.prefix}:${el.local}`;
  // An element in no namespace must not inherit the parent's namespace.
  const e = parent.ele(el.ns === '' ? null : el.ns, qname);
  for (const a of el.attrs) {
    if (a.ns) e.att(a.ns, a.qname, a.value);
    else e.att(a.local, a.value);
  }
  const kids = convertChildren(el);
  if (kids.length === 0) {
    const t = el.children.map((c) => (c.kind === 'text' ? c.text : '')).join('');
    if (t.trim() !== '') e.txt(clean(t.trim()));
    return;
  }
  // Element-only content: whitespace between children is layout, re-created by prettyPrint;
  // comments inside kept fragments are preserved. (Mixed content, e.g. an extension element
  // <ext:note>calibrated by <ext:who>J. Doe</ext:who> on site</ext:note>, went verbatim above.)
  for (const c of el.children) {
    if (c.kind === 'element') {
      if (kids.includes(c)) emitElement(e, c);
    } else if (c.kind === 'comment') e.com(c.text.replace(/--/g, '- -'));
  }
}

const MIXED_NONCE = Math.random().toString(36).slice(2);

/** An element exactly as parsed: every text node as it was (mixed content). */
function emitVerbatim(parent: XMLBuilder, el: XElement): void {
  const qname = el.ns === NS || !el.prefix ? el.local : `${el.prefix}:${el.local}`;
  const e = parent.ele(el.ns === '' ? null : el.ns, qname);
  for (const a of el.attrs) {
    if (a.ns) e.att(a.ns, a.qname, a.value);
    else e.att(a.local, a.value);
  }
  for (const c of el.children) {
    if (c.kind === 'element') emitVerbatim(e, c);
    else if (c.kind === 'comment') e.com(c.text.replace(/--/g, '- -'));
    else if (c.text !== '') e.txt(clean(c.text));
  }
}

function emitRaw(parent: XMLBuilder, r: RawElement): void {
  emitElement(parent, parseXmlTree(r.xml));
}

function emitExtras(parent: XMLBuilder, extras: RawElement[], name: string): void {
  for (const r of extras) if (r.ns === NS && r.name === name) emitRaw(parent, r);
}

function emitForeign(parent: XMLBuilder, extras: RawElement[]): void {
  for (const r of extras) if (r.ns !== NS) emitRaw(parent, r);
}

function nodeAttrs(el: XMLBuilder, code: string, startNs: bigint | null, endNs: bigint | null, restricted: string | null, extra: ExtraAttribute[]): void {
  el.att('code', clean(code));
  if (startNs !== null) el.att('startDate', iso(startNs));
  if (endNs !== null) el.att('endDate', iso(endNs));
  if (restricted) el.att('restrictedStatus', restricted);
  for (const a of extra) addAttr(el, a);
}

/** BaseNodeType children: Description, Identifier*, Comment*, DataAvailability?, ##other*. */
function baseNode(el: XMLBuilder, description: string | null, extras: RawElement[], availability?: { startNs: bigint; endNs: bigint }): void {
  if (description !== null) textEl(el, 'Description', description);
  emitExtras(el, extras, 'Identifier');
  emitExtras(el, extras, 'Comment');
  if (availability) {
    el.ele(NS, 'DataAvailability').ele(NS, 'Extent', { start: iso(availability.startNs), end: iso(availability.endNs) });
  }
  emitForeign(el, extras);
}

/** Extent clipped to the channel epoch (data outside an epoch belong to another epoch). */
function clipAvailability(ch: Channel, a: { startNs: bigint; endNs: bigint } | undefined): { startNs: bigint; endNs: bigint } | undefined {
  if (!a) return undefined;
  const s = ch.startNs !== null && ch.startNs > a.startNs ? ch.startNs : a.startNs;
  const e = ch.endNs !== null && ch.endNs < a.endNs ? ch.endNs : a.endNs;
  return s <= e ? { startNs: s, endNs: e } : undefined;
}

function sensitivityXml(parent: XMLBuilder, ch: Channel): void {
  const s = ch.sensitivity;
  if (!s) return;
  const e = parent.ele(NS, 'InstrumentSensitivity');
  textEl(e, 'Value', numText(s.value));
  textEl(e, 'Frequency', numText(s.frequency));
  textEl(e.ele(NS, 'InputUnits'), 'Name', s.inputUnits);
  textEl(e.ele(NS, 'OutputUnits'), 'Name', s.outputUnits);
}

function emitResponse(parent: XMLBuilder, ch: Channel, full: boolean): void {
  if (ch.responseXml) {
    const resp = parseXmlTree(ch.responseXml);
    if (full) {
      emitElement(parent, resp);
      return;
    }
    // level=channel: the overall sensitivity only, as FDSN services do.
    const sens = childElements(resp).find((c) => c.ns === NS && c.local === 'InstrumentSensitivity');
    if (sens) {
      emitElement(parent.ele(NS, 'Response'), sens);
      return;
    }
    if (!ch.sensitivity) return;
  }
  if (ch.sensitivity) sensitivityXml(parent.ele(NS, 'Response'), ch);
}

function writeChannel(parent: XMLBuilder, net: Network, sta: Station, ch: Channel, opts: WriteStationXmlOptions): void {
  const el = parent.ele(NS, 'Channel');
  nodeAttrs(el, ch.code, ch.startNs, ch.endNs, ch.restrictedStatus, ch.attributes);
  el.att('locationCode', clean(ch.location));
  const va = ch.valueAttributes ?? {};
  baseNode(el, ch.description, ch.extras, clipAvailability(ch, opts.availability?.get(channelKey(net.code, sta.code, ch.location, ch.code))));
  emitExtras(el, ch.extras, 'ExternalReference');
  textEl(el, 'Latitude', numText(ch.lat), va.Latitude);
  textEl(el, 'Longitude', numText(ch.lon), va.Longitude);
  textEl(el, 'Elevation', numText(ch.elevation), va.Elevation);
  textEl(el, 'Depth', numText(ch.depth), va.Depth);
  if (ch.azimuth !== null) textEl(el, 'Azimuth', numText(ch.azimuth), va.Azimuth);
  if (ch.dip !== null) textEl(el, 'Dip', numText(ch.dip), va.Dip);
  emitExtras(el, ch.extras, 'WaterLevel');
  for (const t of ch.types) textEl(el, 'Type', t);
  if (ch.sampleRate !== null) {
    textEl(el, 'SampleRate', numText(ch.sampleRate), va.SampleRate);
    emitExtras(el, ch.extras, 'SampleRateRatio'); // only valid after SampleRate
  }
  if (ch.clockDrift !== null) textEl(el, 'ClockDrift', numText(ch.clockDrift), va.ClockDrift);
  emitExtras(el, ch.extras, 'CalibrationUnits');
  if (ch.extras.some((r) => r.ns === NS && r.name === 'Sensor')) emitExtras(el, ch.extras, 'Sensor');
  else if (ch.sensorDescription) textEl(el.ele(NS, 'Sensor'), 'Type', ch.sensorDescription);
  emitExtras(el, ch.extras, 'PreAmplifier');
  emitExtras(el, ch.extras, 'DataLogger');
  emitExtras(el, ch.extras, 'Equipment');
  emitResponse(el, ch, opts.level === 'response');
}

function writeStation(parent: XMLBuilder, net: Network, sta: Station, opts: WriteStationXmlOptions): void {
  const el = parent.ele(NS, 'Station');
  nodeAttrs(el, sta.code, sta.startNs, sta.endNs, sta.restrictedStatus, sta.attributes);
  const va = sta.valueAttributes ?? {};
  baseNode(el, sta.description, sta.extras);
  textEl(el, 'Latitude', numText(sta.lat), va.Latitude);
  textEl(el, 'Longitude', numText(sta.lon), va.Longitude);
  textEl(el, 'Elevation', numText(sta.elevation), va.Elevation);
  const site = el.ele(NS, 'Site');
  textEl(site, 'Name', sta.siteName);
  if (sta.site.description !== undefined) textEl(site, 'Description', sta.site.description);
  if (sta.site.town !== undefined) textEl(site, 'Town', sta.site.town);
  if (sta.site.county !== undefined) textEl(site, 'County', sta.site.county);
  if (sta.site.region !== undefined) textEl(site, 'Region', sta.site.region);
  if (sta.site.country !== undefined) textEl(site, 'Country', sta.site.country);
  for (const name of ['WaterLevel', 'Vault', 'Geology', 'Equipment', 'Operator']) emitExtras(el, sta.extras, name);
  if (sta.creationDateNs !== null) textEl(el, 'CreationDate', iso(sta.creationDateNs));
  if (sta.terminationDateNs !== null) textEl(el, 'TerminationDate', iso(sta.terminationDateNs));
  textEl(el, 'TotalNumberChannels', String(sta.totalNumberChannels ?? sta.channels.length));
  textEl(el, 'SelectedNumberChannels', String(sta.channels.length));
  emitExtras(el, sta.extras, 'ExternalReference');
  if (opts.level === 'channel' || opts.level === 'response') {
    for (const ch of sta.channels) writeChannel(el, net, sta, ch, opts);
  }
}

/** Serialise an inventory as FDSN StationXML 1.2 at the given level. */
export function writeStationXml(inv: Inventory, opts: WriteStationXmlOptions): string {
  return [...stationXmlChunks(inv, opts)].join('');
}

/**
 * The same document in pieces: the envelope, each network's opening part, each station (with its
 * channels and responses) and each closing tag, every piece serialised on its own, so a large
 * answer never exists as one document tree or one string (a response-level answer took ~31 times
 * its size in memory). The pieces are indented as the whole document would be.
 */
export function* stationXmlChunks(inv: Inventory, opts: WriteStationXmlOptions): Generator<string> {
  if (!['network', 'station', 'channel', 'response'].includes(opts.level)) throw new RangeError(`unknown level ${String(opts.level)}`);
  const pretty = opts.prettyPrint ?? true;
  const nl = pretty ? '\n' : '';
  const doc = create({ version: '1.0', encoding: 'UTF-8' });
  const root = doc.ele(NS, 'FDSNStationXML', { schemaVersion: '1.2' });
  textEl(root, 'Source', opts.source ?? inv.source ?? '');
  const sender = opts.sender ?? inv.sender;
  if (sender != null) textEl(root, 'Sender', sender);
  const module = opts.module ?? inv.module;
  if (module != null) textEl(root, 'Module', module);
  const moduleUri = opts.moduleUri ?? inv.moduleUri;
  if (moduleUri != null) textEl(root, 'ModuleURI', moduleUri);
  const created = opts.created === undefined ? BigInt(Date.now()) * 1_000_000n : typeof opts.created === 'bigint' ? opts.created : BigInt(opts.created.getTime()) * 1_000_000n;
  textEl(root, 'Created', iso(created));
  const head = doc.end({ prettyPrint: pretty });
  const rootClose = '</FDSNStationXML>';
  yield head.slice(0, head.lastIndexOf(rootClose)); // ends with the newline before the closing tag
  const scratch = create().ele(NS, 'FDSNStationXML');
  for (const net of inv.networks) {
    const open = fragmentXml(scratch, (f) => writeNetworkShell(f, net), 1, pretty);
    if (opts.level === 'network' || net.stations.length === 0) {
      yield open + nl;
      continue;
    }
    const close = '</Network>';
    const at = open.lastIndexOf(close);
    yield open.slice(0, at).replace(/[ ]*$/, '');
    for (const sta of net.stations) yield fragmentXml(scratch, (f) => writeStation(f, net, sta, opts), 2, pretty) + nl;
    yield (pretty ? '  ' : '') + close + nl;
  }
  yield rootClose;
}

/** A network element with its own children but not its stations (they are pieces of their own). */
function writeNetworkShell(parent: XMLBuilder, net: Network): void {
  const el = parent.ele(NS, 'Network');
  nodeAttrs(el, net.code, net.startNs, net.endNs, net.restrictedStatus, net.attributes);
  baseNode(el, net.description, net.extras);
  emitExtras(el, net.extras, 'Operator');
  textEl(el, 'TotalNumberStations', String(net.totalNumberStations ?? net.stations.length));
  textEl(el, 'SelectedNumberStations', String(net.stations.length));
}

/**
 * One element written by `build` into a fragment, serialised at `depth` (its indentation in the
 * whole document), without the default-namespace declaration it inherits there, and with its
 * mixed-content placeholders replaced.
 */
function fragmentXml(scratch: XMLBuilder, build: (f: XMLBuilder) => void, depth: number, pretty: boolean): string {
  const fragments = new Map<string, string>();
  mixedFragments = fragments;
  let xml: string;
  try {
    // Built under one scratch element of one document and taken out again: a new document per
    // piece made node creation several times slower.
    build(scratch);
    const el = scratch.last();
    xml = el.toString({ prettyPrint: pretty, indent: '  ', offset: depth });
    el.remove();
  } finally {
    mixedFragments = null;
  }
  xml = xml.replace(/^(\s*<[^\s>/]+)\s+xmlns="http:\/\/www\.fdsn\.org\/xml\/station\/1"/, '$1');
  for (const [token, fragment] of fragments) xml = xml.replace(token, () => fragment);
  return xml;
}
