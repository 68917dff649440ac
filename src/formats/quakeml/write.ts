/**
 * CatalogEvent[] → QuakeML 1.2 (BED) text, as returned by fdsnws-event `format=xml`.
 */
import { fragment } from 'xmlbuilder2';
import { nsToIso } from '../time';
import { DATETIME, childOrder, childTypeOf } from './bed';
import {
  BED_NS,
  QUAKEML_NS,
  normaliseEventType,
  type Amplitude,
  type Arrival,
  type CatalogEvent,
  type CreationInfo,
  type FocalMechanism,
  type Magnitude,
  type Origin,
  type Pick,
  type StationMagnitude,
  type WaveformId,
  type XmlNode,
} from './model';
import { parseQuakeMLTime } from './parse';
import { appendNode } from './xml';

export interface WriteQuakeMLOptions {
  /** All origins instead of only the preferred one (fdsnws `includeallorigins`). */
  includeAllOrigins?: boolean;
  /** All magnitudes instead of only the preferred one (fdsnws `includeallmagnitudes`). */
  includeAllMagnitudes?: boolean;
  /**
   * Arrivals of the written origins, plus the event's picks (so every arrival's pickID resolves),
   * amplitudes and station magnitudes (fdsnws `includearrivals`).
   */
  includeArrivals?: boolean;
  /** Focal mechanisms (default true: there are few and they are what GCMT-type catalogues are about). */
  includeFocalMechanisms?: boolean;
  /** eventParameters/creationInfo (e.g. the node's agency and the response time). */
  creationInfo?: CreationInfo;
  /** eventParameters publicID (default `smi:local/fdsnws/event/1/query`). */
  publicId?: string;
  /** Indent the output (default true). */
  pretty?: boolean;
}

const EVENT_REPLACED = new Set(['preferredOriginID', 'preferredMagnitudeID', 'preferredFocalMechanismID', 'type']);
const DESCRIPTION_TYPES = new Set([
  'felt report', 'Flinn-Engdahl region', 'local time', 'tectonic summary', 'nearest cities', 'earthquake name', 'region name',
]);

export function writeQuakeML(events: CatalogEvent[], opts: WriteQuakeMLOptions = {}): string {
  return [...quakemlChunks(events, opts)].join('');
}

/**
 * The same document as writeQuakeML, as a sequence of strings (envelope start, one chunk per event,
 * envelope end) so a server can stream large responses with `res.write()` instead of holding the whole
 * document. Why per-event xmlbuilder2 fragments: one xmlbuilder2 DOM for a whole 17 MB catalogue made
 * garbage collection the main cost; fragments keep the live heap to one event.
 */
export function* quakemlChunks(
  events: CatalogEvent[] | Iterable<CatalogEvent>,
  opts: WriteQuakeMLOptions & {
    /**
     * The namespace declarations of every event (prefix → URI, null when bound differently),
     * known beforehand: the events are then built and written one at a time (a streamed answer).
     * Without it they are all built first to find them.
     */
    namespaces?: ReadonlyMap<string, string | null>;
  } = {},
): Generator<string> {
  const pretty = opts.pretty !== false;
  const nl = pretty ? '\n' : '';
  const built: XmlNode[] | null = opts.namespaces ? null : [...events].map((e) => eventNode(e, opts));
  const { rootDecls, strip } = hoistedDecls(opts.namespaces ?? namespacesOf(built!));
  // Envelope by hand (it is fixed text), so events can be serialised one by one.
  let rootAttrs = ` xmlns:q="${QUAKEML_NS}" xmlns="${BED_NS}"`;
  for (const [p, uri] of rootDecls) rootAttrs += ` xmlns:${p}="${attrEscape(uri)}"`;
  const epId = attrEscape(opts.publicId ?? 'smi:local/fdsnws/event/1/query');
  yield `<?xml version="1.0" encoding="UTF-8"?>${nl}<q:quakeml${rootAttrs}>${nl}${pretty ? '  ' : ''}<eventParameters publicID="${epId}">${nl}`;
  const serialise = (n: XmlNode): string => {
    const f = fragment();
    appendNode(f, n, strip);
    return f.end({ prettyPrint: pretty, indent: '  ', offset: 2 }) + nl;
  };
  if (built) for (const n of built) yield serialise(normalise(n, 'Event'));
  else for (const e of events) yield serialise(normalise(eventNode(e, opts), 'Event'));
  const ci = opts.creationInfo ? creationInfoNode(opts.creationInfo) : undefined;
  if (ci) yield serialise(normalise(ci, 'CreationInfo'));
  yield `${pretty ? '  ' : ''}</eventParameters>${nl}</q:quakeml>\n`;
}

/** Full attribute escaping for the hand-written envelope. */
function attrEscape(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

// ---------------------------------------------------------------------------------------------------
// Event assembly

function eventNode(ev: CatalogEvent, opts: WriteQuakeMLOptions): XmlNode {
  const origins = opts.includeAllOrigins ? ev.origins : ev.preferredOrigin ? [ev.preferredOrigin] : [];
  const magnitudes = opts.includeAllMagnitudes ? ev.magnitudes : ev.preferredMagnitude ? [ev.preferredMagnitude] : [];
  const focalMechanisms = opts.includeFocalMechanisms === false ? [] : ev.focalMechanisms;

  const kids: XmlNode[] = [];
  let attrs: Record<string, string>;
  if (ev.raw) {
    // Everything the source had at event level, except what we recompute below.
    // Shallow: normalise() copies every node it keeps, so raw is never mutated.
    attrs = { ...(ev.raw.attrs ?? {}) };
    kids.push(...(ev.raw.children ?? []).filter((c) => !EVENT_REPLACED.has(c.name)));
  } else {
    attrs = {};
    for (const d of ev.descriptions) {
      const dk: XmlNode[] = [leaf('text', d.text)];
      if (d.type && DESCRIPTION_TYPES.has(d.type)) dk.push(leaf('type', d.type));
      kids.push({ name: 'description', children: dk });
    }
    if (ev.typeCertainty) kids.push(leaf('typeCertainty', ev.typeCertainty));
    const ci = creationInfoNode(ev.creationInfo ?? (ev.creationTimeNs !== undefined ? { creationTimeNs: ev.creationTimeNs } : undefined));
    if (ci) kids.push(ci);
  }
  attrs.publicID = ev.publicId;

  for (const o of origins) kids.push(originNode(o, opts.includeArrivals === true));
  for (const m of magnitudes) kids.push(m.raw ?? magnitudeNode(m));
  for (const f of focalMechanisms) kids.push(f.raw ?? focalMechanismNode(f));
  if (opts.includeArrivals) {
    for (const p of ev.picks) kids.push(p.raw ?? pickNode(p));
    for (const a of ev.amplitudes) kids.push(a.raw ?? amplitudeNode(a));
    for (const s of ev.stationMagnitudes) kids.push(s.raw ?? stationMagnitudeNode(s));
  }

  // Preferred ids only when they point at something in this document (ObsPy resolves them).
  // Where the source flagged none, the first origin/magnitude is the one the service filtered
  // on and returns by default (fdsnws-event: the preferred origin unless includeallorigins),
  // so it is named: without it ObsPy's event.preferred_origin() is None for a one-origin answer.
  // Compared by id, not identity: events may have been rebuilt (e.g. deserialised) by the caller.
  const po = origins.find((o) => o.publicId === ev.preferredOrigin?.publicId);
  const pm = magnitudes.find((m) => m.publicId === ev.preferredMagnitude?.publicId);
  if (po) kids.push(leaf('preferredOriginID', po.publicId));
  if (pm) kids.push(leaf('preferredMagnitudeID', pm.publicId));
  if (ev.preferredFocalMechanismId && focalMechanisms.some((f) => f.publicId === ev.preferredFocalMechanismId)) {
    kids.push(leaf('preferredFocalMechanismID', ev.preferredFocalMechanismId));
  }
  // Only schema EventType values: ComCat's `quarry_blast` is mapped, unknown strings are left out.
  const type = normaliseEventType(ev.type ?? ev.typeOriginal);
  if (type) kids.push(leaf('type', type));
  return { name: 'event', attrs, children: kids };
}

function originNode(o: Origin, withArrivals: boolean): XmlNode {
  const n = o.raw ? { ...o.raw } : synthOrigin(o);
  if (withArrivals && o.arrivals.length > 0) {
    n.children = [...(n.children ?? []), ...o.arrivals.map((a) => a.raw ?? arrivalNode(a))];
  }
  return n;
}

// ---------------------------------------------------------------------------------------------------
// Synthesis from typed fields (objects that did not come from QuakeML)

function leaf(name: string, value: string | number | boolean): XmlNode {
  return { name, text: typeof value === 'number' ? fmtNum(value) : String(value) };
}

/** Shortest faithful decimal; strips conversion noise (0.029*1000 → 29). */
function fmtNum(v: number): string {
  return String(Number(v.toPrecision(15)));
}

function timeZ(ns: bigint): string {
  // 6 digits (what ObsPy and most servers write) unless there really is sub-microsecond detail.
  return nsToIso(ns, ns % 1000n === 0n ? 6 : 9, true);
}

function push(kids: XmlNode[], name: string, v: string | number | boolean | undefined): void {
  if (v !== undefined) kids.push(leaf(name, v));
}

function quantity(name: string, value: number | string | undefined, uncertainty?: number): XmlNode | undefined {
  if (value === undefined) return undefined;
  const k: XmlNode[] = [leaf('value', value)];
  push(k, 'uncertainty', uncertainty);
  return { name, children: k };
}

function pushNode(kids: XmlNode[], n: XmlNode | undefined): void {
  if (n) kids.push(n);
}

function creationInfoNode(ci: CreationInfo | undefined): XmlNode | undefined {
  if (!ci) return undefined;
  const k: XmlNode[] = [];
  push(k, 'agencyID', ci.agencyId);
  push(k, 'agencyURI', ci.agencyUri);
  push(k, 'author', ci.author);
  push(k, 'authorURI', ci.authorUri);
  if (ci.creationTimeNs !== undefined) k.push(leaf('creationTime', timeZ(ci.creationTimeNs)));
  push(k, 'version', ci.version);
  return k.length > 0 ? { name: 'creationInfo', children: k } : undefined;
}

function withAuthor(ci: CreationInfo | undefined, author: string | undefined, agency?: string): CreationInfo | undefined {
  if (ci) return ci;
  if (author === undefined && agency === undefined) return undefined;
  const out: CreationInfo = {};
  if (agency !== undefined) out.agencyId = agency;
  if (author !== undefined && author !== agency) out.author = author;
  return out;
}

function waveformIdNode(w: WaveformId | undefined): XmlNode | undefined {
  if (!w) return undefined;
  const attrs: Record<string, string> = {};
  if (w.networkCode !== undefined) attrs.networkCode = w.networkCode;
  if (w.stationCode !== undefined) attrs.stationCode = w.stationCode;
  if (w.locationCode !== undefined) attrs.locationCode = w.locationCode;
  if (w.channelCode !== undefined) attrs.channelCode = w.channelCode;
  const n: XmlNode = { name: 'waveformID', attrs };
  if (w.resourceUri !== undefined) n.text = w.resourceUri;
  return n;
}

function synthOrigin(o: Origin): XmlNode {
  const k: XmlNode[] = [];
  pushNode(k, quantity('time', timeZ(o.timeNs), o.timeUncertainty));
  pushNode(k, quantity('longitude', o.lon, o.lonUncertainty));
  pushNode(k, quantity('latitude', o.lat, o.latUncertainty));
  pushNode(
    k,
    quantity('depth', o.depthKm === undefined ? undefined : o.depthKm * 1000, o.depthUncertaintyKm === undefined ? undefined : o.depthUncertaintyKm * 1000),
  );
  push(k, 'depthType', o.depthType);
  push(k, 'timeFixed', o.timeFixed);
  push(k, 'epicenterFixed', o.epicenterFixed);
  push(k, 'methodID', o.methodId);
  push(k, 'earthModelID', o.earthModelId);
  if (o.quality) {
    const q: XmlNode[] = [];
    for (const [key, v] of Object.entries(o.quality)) push(q, key, v as string | number | undefined);
    if (q.length > 0) k.push({ name: 'quality', children: q });
  }
  if (o.uncertainty) {
    const u: XmlNode[] = [];
    for (const [key, v] of Object.entries(o.uncertainty)) push(u, key, v as string | number | undefined);
    if (u.length > 0) k.push({ name: 'originUncertainty', children: u });
  }
  push(k, 'type', o.type);
  push(k, 'region', o.region);
  push(k, 'evaluationMode', o.evaluationMode);
  push(k, 'evaluationStatus', o.evaluationStatus);
  pushNode(k, creationInfoNode(withAuthor(o.creationInfo, o.author, o.agency)));
  return { name: 'origin', attrs: { publicID: o.publicId }, children: k };
}

function arrivalNode(a: Arrival): XmlNode {
  const k: XmlNode[] = [leaf('pickID', a.pickId), leaf('phase', a.phase)];
  push(k, 'azimuth', a.azimuth);
  push(k, 'distance', a.distance);
  pushNode(k, quantity('takeoffAngle', a.takeoffAngle));
  push(k, 'timeResidual', a.timeResidual);
  push(k, 'timeWeight', a.timeWeight);
  return { name: 'arrival', attrs: { publicID: a.publicId }, children: k };
}

function magnitudeNode(m: Magnitude): XmlNode {
  const k: XmlNode[] = [];
  pushNode(k, quantity('mag', m.value, m.uncertainty));
  push(k, 'type', m.type);
  push(k, 'originID', m.originId);
  push(k, 'methodID', m.methodId);
  push(k, 'stationCount', m.stationCount);
  push(k, 'azimuthalGap', m.azimuthalGap);
  push(k, 'evaluationMode', m.evaluationMode);
  push(k, 'evaluationStatus', m.evaluationStatus);
  pushNode(k, creationInfoNode(withAuthor(m.creationInfo, m.author)));
  return { name: 'magnitude', attrs: { publicID: m.publicId }, children: k };
}

function pickNode(p: Pick): XmlNode {
  const k: XmlNode[] = [];
  pushNode(k, quantity('time', timeZ(p.timeNs)));
  pushNode(k, waveformIdNode(p.waveformId ?? {}));
  push(k, 'onset', p.onset);
  push(k, 'phaseHint', p.phaseHint);
  push(k, 'polarity', p.polarity);
  push(k, 'evaluationMode', p.evaluationMode);
  push(k, 'evaluationStatus', p.evaluationStatus);
  return { name: 'pick', attrs: { publicID: p.publicId }, children: k };
}

function amplitudeNode(a: Amplitude): XmlNode {
  const k: XmlNode[] = [];
  pushNode(k, quantity('genericAmplitude', a.genericAmplitude));
  push(k, 'type', a.type);
  push(k, 'unit', a.unit);
  pushNode(k, quantity('period', a.period));
  push(k, 'snr', a.snr);
  push(k, 'pickID', a.pickId);
  pushNode(k, waveformIdNode(a.waveformId));
  push(k, 'magnitudeHint', a.magnitudeHint);
  return { name: 'amplitude', attrs: { publicID: a.publicId }, children: k };
}

function stationMagnitudeNode(s: StationMagnitude): XmlNode {
  const k: XmlNode[] = [];
  push(k, 'originID', s.originId);
  pushNode(k, quantity('mag', s.mag));
  push(k, 'type', s.type);
  push(k, 'amplitudeID', s.amplitudeId);
  pushNode(k, waveformIdNode(s.waveformId));
  return { name: 'stationMagnitude', attrs: { publicID: s.publicId }, children: k };
}

function focalMechanismNode(f: FocalMechanism): XmlNode {
  const k: XmlNode[] = [];
  push(k, 'triggeringOriginID', f.triggeringOriginId);
  if (f.nodalPlanes && f.nodalPlanes.length > 0) {
    const planes = f.nodalPlanes.slice(0, 2).map((p, i) => ({
      name: `nodalPlane${i + 1}`,
      children: [quantity('strike', p.strike)!, quantity('dip', p.dip)!, quantity('rake', p.rake)!],
    }));
    k.push({ name: 'nodalPlanes', children: planes });
  }
  const mt = f.momentTensor;
  if (mt?.derivedOriginId) {
    const mk: XmlNode[] = [leaf('derivedOriginID', mt.derivedOriginId)];
    push(mk, 'momentMagnitudeID', mt.momentMagnitudeId);
    pushNode(mk, quantity('scalarMoment', mt.scalarMoment));
    k.push({ name: 'momentTensor', attrs: { publicID: mt.publicId ?? `${f.publicId}/momentTensor` }, children: mk });
  }
  return { name: 'focalMechanism', attrs: { publicID: f.publicId }, children: k };
}

// ---------------------------------------------------------------------------------------------------
// Normalisation: schema order and `Z` times

/**
 * Return a copy with children in QuakeML-BED order for `type` (stable; foreign elements last, as the
 * XSD's trailing xs:any requires) and xs:dateTime leaves rewritten as ISO UTC with `Z`
 * (FSC testDateIncludeZ; IRIS files carry times without a zone).
 */
function normalise(node: XmlNode, type: string | undefined): XmlNode {
  const out: XmlNode = { name: node.name };
  if (node.attrs) out.attrs = { ...node.attrs };
  if (type === DATETIME) {
    const t = node.text?.trim();
    const ns = t ? parseQuakeMLTime(t) : null;
    out.text = ns === null ? node.text : timeZ(ns);
    return out;
  }
  if (node.text !== undefined) out.text = node.text;
  if (node.children) {
    const kids = node.children
      .filter((c) => !isEmptyQuantity(c, childTypeOf(type, c.name)))
      .map((c, i) => ({ c, i, o: childOrder(type, c.name) }));
    kids.sort((a, b) => a.o - b.o || a.i - b.i);
    out.children = kids.map(({ c }) => normalise(c, childTypeOf(type, c.name)));
  }
  return out;
}

const QUANTITY_TYPES = new Set(['RealQuantity', 'IntegerQuantity', 'TimeQuantity']);

/**
 * `<latitude/>` without a value (ObsPy writes these for unlocated IMS events) is invalid BED and says
 * nothing; dropped so that every quantity we write has the `value` ObsPy and the schema expect.
 */
function isEmptyQuantity(n: XmlNode, type: string | undefined): boolean {
  if (!type || !QUANTITY_TYPES.has(type)) return false;
  const v = n.children?.find((c) => c.name === 'value');
  return v === undefined || (v.text ?? '').trim() === '';
}

/**
 * Move `xmlns:p` declarations that mean the same thing everywhere to the root (one `xmlns:catalog` on
 * q:quakeml instead of one per element). A prefix bound to different URIs in different fragments stays
 * declared locally, which is still correct XML.
 */
/** prefix → URI of every xmlns:prefix declared in the nodes (null when bound to different URIs). */
function namespacesOf(nodes: XmlNode[]): Map<string, string | null> {
  const seen = new Map<string, string | null>();
  const walk = (n: XmlNode): void => {
    for (const [k, v] of Object.entries(n.attrs ?? {})) {
      if (!k.startsWith('xmlns:')) continue;
      const p = k.slice(6);
      const prev = seen.get(p);
      if (prev === undefined) seen.set(p, v);
      else if (prev !== v) seen.set(p, null);
    }
    for (const c of n.children ?? []) walk(c);
  };
  nodes.forEach(walk);
  return seen;
}

/** Declarations bound one way everywhere go on the root (and are stripped below it). */
function hoistedDecls(seen: ReadonlyMap<string, string | null>): { rootDecls: Map<string, string>; strip: Set<string> } {
  const rootDecls = new Map<string, string>();
  const strip = new Set<string>(['xmlns']); // appendNode drops xmlns only when it equals BED_NS
  for (const [p, uri] of seen) {
    if (uri === null || p === 'q' || p === 'xml') continue;
    rootDecls.set(p, uri);
    strip.add(`xmlns:${p}`);
  }
  return { rootDecls, strip };
}
