/**
 * QuakeML 1.2 (BED) reader → CatalogEvent[].
 */
import { utcToNs } from '../time';
import {
  BED_NS,
  QUAKEML_NS,
  deriveEventId,
  normaliseEventType,
  pickLocationName,
  type Amplitude,
  type Arrival,
  type CatalogEvent,
  type CreationInfo,
  type EventDescription,
  type FocalMechanism,
  type Magnitude,
  type NodalPlane,
  type Origin,
  type OriginQuality,
  type OriginUncertainty,
  type Pick,
  type StationMagnitude,
  type WaveformId,
  type XmlNode,
} from './model';
import { QuakeMLError, child, childText, childrenNamed, foreignAttr, parseXmlTree, textOf, withoutChildren } from './xml';

export interface ParseQuakeMLOptions {
  /** fdsnws-event catalog name to record on every event (overrides the file's own catalog attributes). */
  catalog?: string;
  /** fdsnws-event contributor to record on every event (overrides the file's own attributes). */
  contributor?: string;
  /**
   * Unit of `<depth><value>` in the source. QuakeML says metres (default). Some producers wrote km
   * (e.g. the old IRIS event service, see iris_events.xml: Tohoku `29.0`); pass 'km' for such sources
   * and the depth (and the stored raw XML) is converted to metres.
   */
  depthUnit?: 'm' | 'km';
}

/** Children of <event> that are separate objects in the model (not kept in event.raw). */
const EVENT_OWNED = new Set(['origin', 'magnitude', 'pick', 'amplitude', 'stationMagnitude', 'focalMechanism']);
const ORIGIN_OWNED = new Set(['arrival']);

const isAnss = (uri: string): boolean => uri.startsWith('http://anss.org/xmlns/catalog/');
const isIris = (uri: string): boolean => uri.includes('iris.edu');

/**
 * Parse QuakeML 1.2 text. Throws QuakeMLError for malformed XML, a non-QuakeML-1.2 document, or
 * unusable content (an origin without time, a non-numeric value where a number is required).
 */
export function parseQuakeML(text: string, opts: ParseQuakeMLOptions = {}): CatalogEvent[] {
  const { node: root, ns, localName } = parseXmlTree(text);
  let eventParameters: XmlNode[];
  if (localName === 'quakeml' && (ns === QUAKEML_NS || ns === undefined)) {
    eventParameters = (root.children ?? []).filter((c) => c.name === 'eventParameters' || c.name.endsWith(':eventParameters'));
  } else if (localName === 'eventParameters') {
    eventParameters = [root];
  } else {
    throw new QuakeMLError(
      `not a QuakeML 1.2 document: root element <${root.name}>${ns ? ` in namespace ${ns}` : ''} (expected <quakeml> in ${QUAKEML_NS})`,
    );
  }
  if (eventParameters.length === 0) throw new QuakeMLError('QuakeML document has no <eventParameters> element');
  const events: CatalogEvent[] = [];
  for (const ep of eventParameters) {
    // A BED element from another namespace (e.g. bed/1.1) keeps a prefix or an xmlns attribute.
    if (ep.name !== 'eventParameters' || ep.attrs?.xmlns !== undefined) {
      const epNs = ep.attrs?.xmlns ?? Object.entries(ep.attrs ?? {}).find(([k]) => k.startsWith('xmlns:'))?.[1];
      throw new QuakeMLError(`unsupported QuakeML namespace ${epNs ?? '?'}: only QuakeML 1.2 BED (${BED_NS}) is supported`);
    }
    for (const ev of childrenNamed(ep, 'event')) events.push(parseEvent(ev, opts));
  }
  return events;
}

// ---------------------------------------------------------------------------------------------------
// Value helpers

/**
 * Parse an xs:dateTime as used in QuakeML: `YYYY-MM-DDTHH:MM:SS[.f…][Z|±HH:MM]` (also a space for `T`,
 * and a bare date). No zone = UTC (IRIS writes times without `Z`). Fractions beyond ns are truncated.
 */
export function parseQuakeMLTime(text: string): bigint | null {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i.exec(
    text.trim(),
  );
  if (!m) return null;
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0));
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59 || s > 60) return null;
  const check = new Date(Date.UTC(y, mo - 1, d));
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return null;
  const nanos = m[7] ? Number(m[7].slice(0, 9).padEnd(9, '0')) : 0;
  // 24:00:00 is the end of the day (xs:dateTime).
  if (h === 24 && (mi !== 0 || s !== 0 || nanos !== 0)) return null;
  let offMin = 0;
  const zone = m[8];
  if (zone && zone.toUpperCase() !== 'Z') {
    const zm = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    const abs = Number(zm[2]) * 60 + Number(zm[3] ?? 0);
    // xs:dateTime offsets run from -14:00 to +14:00.
    if (Number(zm[3] ?? 0) > 59 || abs > 14 * 60) return null;
    offMin = zm[1] === '-' ? -abs : abs;
  }
  // A leap second only ends a UTC day: 23:59:60Z, i.e. 08:59:60+09:00.
  if (s === 60 && (((h * 60 + mi - offMin) % 1440) + 1440) % 1440 !== 1439) return null;
  return utcToNs(y, mo, d, h, mi, s, nanos) - BigInt(offMin) * 60_000_000_000n;
}

/** The finite lexical forms of xs:double (XML Schema 2 §3.2.5); INF and NaN are handled apart. */
const XS_DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

class Ctx {
  constructor(readonly where: string) {}
  fail(msg: string): never {
    throw new QuakeMLError(`${this.where}: ${msg}`);
  }
  /**
   * Number from a leaf; undefined when absent/blank/NaN/INF; error when not an xs:double at all
   * (`Number()` alone would read `0x10` as 16) or beyond the double range (`1e400`).
   */
  num(node: XmlNode | undefined, what: string): number | undefined {
    const t = textOf(node);
    if (t === undefined) return undefined;
    if (/^[+-]?(nan|inf|infinity)$/i.test(t)) return undefined;
    if (!XS_DECIMAL.test(t)) this.fail(`${what} "${t}" is not a number`);
    const v = Number(t);
    if (!Number.isFinite(v)) this.fail(`${what} "${t}" is beyond the range of a double`);
    return v;
  }
  /** `<name><value>…</value></name>` of a RealQuantity/IntegerQuantity child. */
  qty(parent: XmlNode | undefined, name: string): number | undefined {
    return this.num(child(child(parent, name), 'value'), `${name}/value`);
  }
  qtyUnc(parent: XmlNode | undefined, name: string): number | undefined {
    return this.num(child(child(parent, name), 'uncertainty'), `${name}/uncertainty`);
  }
  childNum(parent: XmlNode | undefined, name: string): number | undefined {
    return this.num(child(parent, name), name);
  }
  time(node: XmlNode | undefined, what: string): bigint | undefined {
    const t = textOf(node);
    if (t === undefined) return undefined;
    const ns = parseQuakeMLTime(t);
    if (ns === null) this.fail(`${what} "${t}" is not a valid dateTime`);
    return ns;
  }
  bool(node: XmlNode | undefined): boolean | undefined {
    const t = textOf(node)?.toLowerCase();
    if (t === 'true' || t === '1') return true;
    if (t === 'false' || t === '0') return false;
    return undefined;
  }
}

function publicIdOf(node: XmlNode, fallback: string): string {
  const id = node.attrs?.publicID?.trim();
  return id && id !== '' ? id : fallback;
}

function parseCreationInfo(node: XmlNode | undefined, ctx: Ctx): CreationInfo | undefined {
  if (!node) return undefined;
  const ci: CreationInfo = {};
  const set = <K extends keyof CreationInfo>(k: K, v: CreationInfo[K] | undefined): void => {
    if (v !== undefined) ci[k] = v;
  };
  set('agencyId', childText(node, 'agencyID'));
  set('agencyUri', childText(node, 'agencyURI'));
  set('author', childText(node, 'author'));
  set('authorUri', childText(node, 'authorURI'));
  set('creationTimeNs', ctx.time(child(node, 'creationTime'), 'creationInfo/creationTime'));
  set('version', childText(node, 'version'));
  return ci;
}

function parseWaveformId(node: XmlNode | undefined): WaveformId | undefined {
  if (!node) return undefined;
  const a = node.attrs ?? {};
  const w: WaveformId = {};
  if (a.networkCode !== undefined) w.networkCode = a.networkCode;
  if (a.stationCode !== undefined) w.stationCode = a.stationCode;
  if (a.locationCode !== undefined) w.locationCode = a.locationCode;
  if (a.channelCode !== undefined) w.channelCode = a.channelCode;
  const uri = textOf(node);
  if (uri !== undefined) w.resourceUri = uri;
  return w;
}

/** Drop undefined-valued keys so objects compare and serialise cleanly. */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

function maxNs(values: (bigint | undefined)[]): bigint | undefined {
  let best: bigint | undefined;
  for (const v of values) if (v !== undefined && (best === undefined || v > best)) best = v;
  return best;
}

// ---------------------------------------------------------------------------------------------------
// Objects

function parseEvent(node: XmlNode, opts: ParseQuakeMLOptions): CatalogEvent {
  const publicId = node.attrs?.publicID?.trim();
  if (!publicId) throw new QuakeMLError('<event> without publicID');
  const ctx: Ctx = new Ctx(`event ${publicId}`);

  const origins = childrenNamed(node, 'origin').map((o, i) => parseOrigin(o, `${publicId}/origin/${i + 1}`, opts));
  const magnitudes = childrenNamed(node, 'magnitude').map((m, i) => parseMagnitude(m, `${publicId}/magnitude/${i + 1}`));
  const picks = childrenNamed(node, 'pick').map((p, i) => parsePick(p, `${publicId}/pick/${i + 1}`));
  const amplitudes = childrenNamed(node, 'amplitude').map((a, i) => parseAmplitude(a, `${publicId}/amplitude/${i + 1}`));
  const stationMagnitudes = childrenNamed(node, 'stationMagnitude').map((s, i) =>
    parseStationMagnitude(s, `${publicId}/stationMagnitude/${i + 1}`),
  );
  const focalMechanisms = childrenNamed(node, 'focalMechanism').map((f, i) =>
    parseFocalMechanism(f, `${publicId}/focalMechanism/${i + 1}`),
  );

  const descriptions: EventDescription[] = childrenNamed(node, 'description').map((d) =>
    compact({ text: child(d, 'text')?.text?.trim() ?? '', type: childText(d, 'type') }),
  );
  const typeText = childText(node, 'type');
  const type = normaliseEventType(typeText);
  const preferredOriginId = childText(node, 'preferredOriginID');
  const preferredMagnitudeId = childText(node, 'preferredMagnitudeID');
  const preferredFocalMechanismId = childText(node, 'preferredFocalMechanismID');
  // Why the fallback: many files (ISC/IMS conversions, hand-made ones) flag no preferred object, yet
  // the text format and the min/max filters need one origin and one magnitude per event.
  const preferredOrigin = origins.find((o) => o.publicId === preferredOriginId) ?? origins[0];
  const preferredMagnitude = magnitudes.find((m) => m.publicId === preferredMagnitudeId) ?? magnitudes[0];
  const creationInfo = parseCreationInfo(child(node, 'creationInfo'), ctx);

  // ANSS/ComCat: catalog:eventsource + catalog:eventid is the ComCat event id (ci + 37285320).
  const anssSource = foreignAttr(node, isAnss, 'eventsource');
  const anssId = foreignAttr(node, isAnss, 'eventid');
  const anssDataSource = foreignAttr(node, isAnss, 'datasource');
  const eventId = anssId ? (anssSource && !anssId.startsWith(anssSource) ? anssSource + anssId : anssId) : deriveEventId(publicId);
  const originRaw = preferredOrigin?.raw;
  const contributorId =
    foreignAttr(originRaw, isAnss, 'dataid') ?? foreignAttr(originRaw, isIris, 'contributorEventId') ?? undefined;

  return compact<CatalogEvent>({
    publicId,
    eventId,
    type,
    typeOriginal: typeText !== undefined && typeText !== type ? typeText : undefined,
    typeCertainty: childText(node, 'typeCertainty'),
    descriptions,
    locationName: pickLocationName(descriptions),
    preferredOriginId,
    preferredMagnitudeId,
    preferredFocalMechanismId,
    preferredOrigin,
    preferredMagnitude,
    origins,
    magnitudes,
    picks,
    amplitudes,
    stationMagnitudes,
    focalMechanisms,
    catalog: opts.catalog ?? anssSource ?? preferredOrigin?.catalog,
    contributor: opts.contributor ?? anssDataSource ?? preferredOrigin?.contributor ?? preferredOrigin?.agency,
    contributorId,
    creationInfo,
    creationTimeNs: creationInfo?.creationTimeNs,
    updatedNs: maxNs([
      creationInfo?.creationTimeNs,
      ...origins.map((o) => o.creationInfo?.creationTimeNs),
      ...magnitudes.map((m) => m.creationInfo?.creationTimeNs),
    ]),
    raw: withoutChildren(node, EVENT_OWNED),
  });
}

function parseOrigin(node: XmlNode, fallbackId: string, opts: ParseQuakeMLOptions): Origin {
  const publicId = publicIdOf(node, fallbackId);
  const ctx: Ctx = new Ctx(`origin ${publicId}`);
  const timeNs = ctx.time(child(child(node, 'time'), 'value'), 'time/value');
  if (timeNs === undefined) ctx.fail('missing <time><value>');
  const raw = withoutChildren(node, ORIGIN_OWNED);
  // Depth: metres in QuakeML → km in the model. A 'km' source is fixed in raw too, so writing is right.
  const depthFactor = opts.depthUnit === 'km' ? 1 : 1 / 1000;
  const depthRaw = ctx.qty(node, 'depth');
  const depthUncRaw = ctx.qtyUnc(node, 'depth');
  if (opts.depthUnit === 'km') {
    for (const leaf of child(raw, 'depth')?.children ?? []) {
      if (['value', 'uncertainty', 'lowerUncertainty', 'upperUncertainty'].includes(leaf.name)) {
        const v = ctx.num(leaf, `depth/${leaf.name}`);
        if (v !== undefined) leaf.text = String(roundSig(v * 1000));
      }
    }
  }
  const q = child(node, 'quality');
  const u = child(node, 'originUncertainty');
  const creationInfo = parseCreationInfo(child(node, 'creationInfo'), ctx);
  return compact<Origin>({
    publicId,
    timeNs,
    timeUncertainty: ctx.qtyUnc(node, 'time'),
    lat: ctx.qty(node, 'latitude'),
    lon: ctx.qty(node, 'longitude'),
    depthKm: depthRaw === undefined ? undefined : roundSig(depthRaw * depthFactor),
    latUncertainty: ctx.qtyUnc(node, 'latitude'),
    lonUncertainty: ctx.qtyUnc(node, 'longitude'),
    depthUncertaintyKm: depthUncRaw === undefined ? undefined : roundSig(depthUncRaw * depthFactor),
    depthType: childText(node, 'depthType'),
    timeFixed: ctx.bool(child(node, 'timeFixed')),
    epicenterFixed: ctx.bool(child(node, 'epicenterFixed')),
    methodId: childText(node, 'methodID'),
    earthModelId: childText(node, 'earthModelID'),
    type: childText(node, 'type'),
    region: childText(node, 'region'),
    evaluationMode: childText(node, 'evaluationMode'),
    evaluationStatus: childText(node, 'evaluationStatus'),
    quality: q
      ? compact<OriginQuality>({
          associatedPhaseCount: ctx.childNum(q, 'associatedPhaseCount'),
          usedPhaseCount: ctx.childNum(q, 'usedPhaseCount'),
          associatedStationCount: ctx.childNum(q, 'associatedStationCount'),
          usedStationCount: ctx.childNum(q, 'usedStationCount'),
          depthPhaseCount: ctx.childNum(q, 'depthPhaseCount'),
          standardError: ctx.childNum(q, 'standardError'),
          azimuthalGap: ctx.childNum(q, 'azimuthalGap'),
          secondaryAzimuthalGap: ctx.childNum(q, 'secondaryAzimuthalGap'),
          groundTruthLevel: childText(q, 'groundTruthLevel'),
          maximumDistance: ctx.childNum(q, 'maximumDistance'),
          minimumDistance: ctx.childNum(q, 'minimumDistance'),
          medianDistance: ctx.childNum(q, 'medianDistance'),
        })
      : undefined,
    uncertainty: u
      ? compact<OriginUncertainty>({
          horizontalUncertainty: ctx.childNum(u, 'horizontalUncertainty'),
          minHorizontalUncertainty: ctx.childNum(u, 'minHorizontalUncertainty'),
          maxHorizontalUncertainty: ctx.childNum(u, 'maxHorizontalUncertainty'),
          azimuthMaxHorizontalUncertainty: ctx.childNum(u, 'azimuthMaxHorizontalUncertainty'),
          preferredDescription: childText(u, 'preferredDescription'),
          confidenceLevel: ctx.childNum(u, 'confidenceLevel'),
        })
      : undefined,
    creationInfo,
    author: creationInfo?.author ?? creationInfo?.agencyId,
    agency: creationInfo?.agencyId,
    catalog: foreignAttr(node, isIris, 'catalog'),
    contributor: foreignAttr(node, isIris, 'contributor'),
    arrivals: childrenNamed(node, 'arrival').map((a, i) => parseArrival(a, `${publicId}/arrival/${i + 1}`, ctx)),
    raw,
  });
}

/** Undo binary noise from unit conversion (29.0 m → 0.029 km, not 0.028999999999999998). */
function roundSig(v: number): number {
  return Number(v.toPrecision(15));
}

function parseArrival(node: XmlNode, fallbackId: string, octx: Ctx): Arrival {
  const publicId = publicIdOf(node, fallbackId);
  const ctx: Ctx = new Ctx(`${octx.where} arrival ${publicId}`);
  return compact<Arrival>({
    publicId,
    pickId: childText(node, 'pickID') ?? '',
    phase: childText(node, 'phase') ?? '',
    azimuth: ctx.childNum(node, 'azimuth'),
    distance: ctx.childNum(node, 'distance'),
    takeoffAngle: ctx.qty(node, 'takeoffAngle'),
    timeResidual: ctx.childNum(node, 'timeResidual'),
    timeWeight: ctx.childNum(node, 'timeWeight'),
    raw: node, // freshly parsed, not shared: no copy needed
  });
}

function parseMagnitude(node: XmlNode, fallbackId: string): Magnitude {
  const publicId = publicIdOf(node, fallbackId);
  const ctx: Ctx = new Ctx(`magnitude ${publicId}`);
  const value = ctx.qty(node, 'mag');
  if (value === undefined) {
    const t = textOf(child(child(node, 'mag'), 'value'));
    ctx.fail(t === undefined ? 'missing <mag><value>' : `<mag><value> is ${t}: a magnitude needs a finite value`);
  }
  const creationInfo = parseCreationInfo(child(node, 'creationInfo'), ctx);
  return compact<Magnitude>({
    publicId,
    value,
    uncertainty: ctx.qtyUnc(node, 'mag'),
    type: childText(node, 'type'),
    originId: childText(node, 'originID'),
    methodId: childText(node, 'methodID'),
    stationCount: ctx.childNum(node, 'stationCount'),
    azimuthalGap: ctx.childNum(node, 'azimuthalGap'),
    evaluationMode: childText(node, 'evaluationMode'),
    evaluationStatus: childText(node, 'evaluationStatus'),
    creationInfo,
    author: creationInfo?.author ?? creationInfo?.agencyId,
    raw: node, // freshly parsed, not shared: no copy needed
  });
}

function parsePick(node: XmlNode, fallbackId: string): Pick {
  const publicId = publicIdOf(node, fallbackId);
  const ctx: Ctx = new Ctx(`pick ${publicId}`);
  const timeNs = ctx.time(child(child(node, 'time'), 'value'), 'time/value');
  if (timeNs === undefined) ctx.fail('missing <time><value>');
  return compact<Pick>({
    publicId,
    timeNs,
    waveformId: parseWaveformId(child(node, 'waveformID')),
    phaseHint: childText(node, 'phaseHint'),
    onset: childText(node, 'onset'),
    polarity: childText(node, 'polarity'),
    evaluationMode: childText(node, 'evaluationMode'),
    evaluationStatus: childText(node, 'evaluationStatus'),
    raw: node, // freshly parsed, not shared: no copy needed
  });
}

function parseAmplitude(node: XmlNode, fallbackId: string): Amplitude {
  const publicId = publicIdOf(node, fallbackId);
  const ctx: Ctx = new Ctx(`amplitude ${publicId}`);
  return compact<Amplitude>({
    publicId,
    genericAmplitude: ctx.qty(node, 'genericAmplitude'),
    type: childText(node, 'type'),
    unit: childText(node, 'unit'),
    period: ctx.qty(node, 'period'),
    snr: ctx.childNum(node, 'snr'),
    pickId: childText(node, 'pickID'),
    waveformId: parseWaveformId(child(node, 'waveformID')),
    magnitudeHint: childText(node, 'magnitudeHint'),
    raw: node, // freshly parsed, not shared: no copy needed
  });
}

function parseStationMagnitude(node: XmlNode, fallbackId: string): StationMagnitude {
  const publicId = publicIdOf(node, fallbackId);
  const ctx: Ctx = new Ctx(`stationMagnitude ${publicId}`);
  return compact<StationMagnitude>({
    publicId,
    originId: childText(node, 'originID'),
    mag: ctx.qty(node, 'mag'),
    type: childText(node, 'type'),
    amplitudeId: childText(node, 'amplitudeID'),
    waveformId: parseWaveformId(child(node, 'waveformID')),
    raw: node, // freshly parsed, not shared: no copy needed
  });
}

function parseFocalMechanism(node: XmlNode, fallbackId: string): FocalMechanism {
  const publicId = publicIdOf(node, fallbackId);
  const ctx: Ctx = new Ctx(`focalMechanism ${publicId}`);
  const planes: NodalPlane[] = [];
  const np = child(node, 'nodalPlanes');
  for (const name of ['nodalPlane1', 'nodalPlane2']) {
    const p = child(np, name);
    const strike = ctx.qty(p, 'strike');
    const dip = ctx.qty(p, 'dip');
    const rake = ctx.qty(p, 'rake');
    if (strike !== undefined && dip !== undefined && rake !== undefined) planes.push({ strike, dip, rake });
  }
  const mt = child(node, 'momentTensor');
  return compact<FocalMechanism>({
    publicId,
    triggeringOriginId: childText(node, 'triggeringOriginID'),
    nodalPlanes: planes.length > 0 ? planes : undefined,
    momentTensor: mt
      ? compact({
          publicId: mt.attrs?.publicID,
          derivedOriginId: childText(mt, 'derivedOriginID'),
          momentMagnitudeId: childText(mt, 'momentMagnitudeID'),
          scalarMoment: ctx.qty(mt, 'scalarMoment'),
        })
      : undefined,
    raw: node, // freshly parsed, not shared: no copy needed
  });
}
