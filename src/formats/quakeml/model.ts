/**
 * In-memory model of an earthquake catalogue entry, shared by the QuakeML and FDSN-text formats and
 * (later) the fdsnws-event service. Knows nothing of HTTP or SQL.
 *
 * Design: typed fields hold what the service filters, sorts and prints (time, position, magnitude, ids…).
 * Everything else is kept as a namespace-self-contained XML fragment in `raw`, so that a QuakeML file
 * read with parseQuakeML() and written with writeQuakeML() loses nothing (comments, compositeTime,
 * confidence ellipsoids, moment tensors, foreign-namespace attributes such as `catalog:eventid`).
 *
 * Rule for writers: when `raw` is present it is the source of truth for that element (typed fields are
 * a read-only projection of it); objects built without `raw` (e.g. from FDSN text) are synthesised from
 * their typed fields. If you edit typed fields of a parsed object, delete its `raw` first.
 * Sub-objects (origins, magnitudes, picks, arrivals, …) are NOT inside their parent's `raw`: they live in
 * the typed arrays so that include* flags can select them.
 */

/** A parsed XML element. Names of QuakeML-BED elements carry no prefix; foreign ones keep theirs. */
export interface XmlNode {
  name: string;
  /** Attributes as written (prefixed names kept); `xmlns:*` declarations needed by this node included. */
  attrs?: Record<string, string>;
  children?: XmlNode[];
  /** Character content (leaf elements); exact, not trimmed. */
  text?: string;
}

export const QUAKEML_NS = 'http://quakeml.org/xmlns/quakeml/1.2';
export const BED_NS = 'http://quakeml.org/xmlns/bed/1.2';

/** QuakeML RealQuantity / IntegerQuantity / TimeQuantity uncertainty part. */
export interface QuantityExtras {
  uncertainty?: number;
  lowerUncertainty?: number;
  upperUncertainty?: number;
  confidenceLevel?: number;
}

export interface CreationInfo {
  agencyId?: string;
  agencyUri?: string;
  author?: string;
  authorUri?: string;
  creationTimeNs?: bigint;
  version?: string;
}

export interface WaveformId {
  networkCode?: string;
  stationCode?: string;
  locationCode?: string;
  channelCode?: string;
  resourceUri?: string;
}

export interface OriginQuality {
  associatedPhaseCount?: number;
  usedPhaseCount?: number;
  associatedStationCount?: number;
  usedStationCount?: number;
  depthPhaseCount?: number;
  standardError?: number;
  azimuthalGap?: number;
  secondaryAzimuthalGap?: number;
  groundTruthLevel?: string;
  maximumDistance?: number;
  minimumDistance?: number;
  medianDistance?: number;
}

/** OriginUncertainty; lengths in metres as in QuakeML (confidenceEllipsoid kept in raw only). */
export interface OriginUncertainty {
  horizontalUncertainty?: number;
  minHorizontalUncertainty?: number;
  maxHorizontalUncertainty?: number;
  azimuthMaxHorizontalUncertainty?: number;
  preferredDescription?: string;
  confidenceLevel?: number;
}

export interface Arrival {
  publicId: string;
  pickId: string;
  phase: string;
  azimuth?: number;
  distance?: number;
  takeoffAngle?: number;
  timeResidual?: number;
  timeWeight?: number;
  raw?: XmlNode;
}

export interface Origin {
  publicId: string;
  /** Origin time, epoch nanoseconds (UTC). */
  timeNs: bigint;
  timeUncertainty?: number;
  lat?: number;
  lon?: number;
  /** Depth in km (QuakeML stores metres; converted here because FDSN parameters and text use km). */
  depthKm?: number;
  latUncertainty?: number;
  lonUncertainty?: number;
  depthUncertaintyKm?: number;
  depthType?: string;
  timeFixed?: boolean;
  epicenterFixed?: boolean;
  methodId?: string;
  earthModelId?: string;
  /** QuakeML OriginType (hypocenter, centroid, …). */
  type?: string;
  region?: string;
  evaluationMode?: string;
  evaluationStatus?: string;
  quality?: OriginQuality;
  uncertainty?: OriginUncertainty;
  creationInfo?: CreationInfo;
  /** creationInfo.author, else creationInfo.agencyID — the FDSN text "Author". */
  author?: string;
  agency?: string;
  /** Producer attributes such as iris:catalog / iris:contributor, when present. */
  catalog?: string;
  contributor?: string;
  arrivals: Arrival[];
  raw?: XmlNode;
}

export interface Magnitude {
  publicId: string;
  value: number;
  uncertainty?: number;
  /** Magnitude type as given (ML, Mw, mb, …). */
  type?: string;
  originId?: string;
  methodId?: string;
  stationCount?: number;
  azimuthalGap?: number;
  evaluationMode?: string;
  evaluationStatus?: string;
  creationInfo?: CreationInfo;
  /** creationInfo.author, else agencyID — the FDSN text "MagAuthor". */
  author?: string;
  raw?: XmlNode;
}

export interface Pick {
  publicId: string;
  timeNs: bigint;
  waveformId?: WaveformId;
  phaseHint?: string;
  onset?: string;
  polarity?: string;
  evaluationMode?: string;
  evaluationStatus?: string;
  raw?: XmlNode;
}

export interface Amplitude {
  publicId: string;
  genericAmplitude?: number;
  type?: string;
  unit?: string;
  period?: number;
  snr?: number;
  pickId?: string;
  waveformId?: WaveformId;
  magnitudeHint?: string;
  raw?: XmlNode;
}

export interface StationMagnitude {
  publicId: string;
  originId?: string;
  mag?: number;
  type?: string;
  amplitudeId?: string;
  waveformId?: WaveformId;
  raw?: XmlNode;
}

export interface NodalPlane {
  strike: number;
  dip: number;
  rake: number;
}

export interface FocalMechanism {
  publicId: string;
  triggeringOriginId?: string;
  nodalPlanes?: NodalPlane[];
  momentTensor?: {
    publicId?: string;
    derivedOriginId?: string;
    momentMagnitudeId?: string;
    scalarMoment?: number;
  };
  raw?: XmlNode;
}

export interface EventDescription {
  text: string;
  type?: string;
}

export interface CatalogEvent {
  /** QuakeML publicID (what `eventid=<publicID>` must match). */
  publicId: string;
  /** Short id for `eventid=` and the text format (e.g. `ci37285320`, `3279407`). */
  eventId: string;
  /** QuakeML 1.2 EventType, normalised to the schema's spelling when recognisable. */
  type?: string;
  /** The type string exactly as found in the source, when it differs from `type` or is not a valid EventType. */
  typeOriginal?: string;
  typeCertainty?: string;
  descriptions: EventDescription[];
  /** FDSN text "EventLocationName": region name, else Flinn-Engdahl region, else earthquake name, … */
  locationName?: string;
  preferredOriginId?: string;
  preferredMagnitudeId?: string;
  preferredFocalMechanismId?: string;
  /** Origin referenced by preferredOriginID; falls back to the first origin when none is flagged. */
  preferredOrigin?: Origin;
  /** Magnitude referenced by preferredMagnitudeID; falls back to the first magnitude when none is flagged. */
  preferredMagnitude?: Magnitude;
  origins: Origin[];
  magnitudes: Magnitude[];
  picks: Pick[];
  amplitudes: Amplitude[];
  stationMagnitudes: StationMagnitude[];
  focalMechanisms: FocalMechanism[];
  /** fdsnws-event `catalog` (caller's option, else the file's own catalog attribute). */
  catalog?: string;
  /** fdsnws-event `contributor`. */
  contributor?: string;
  contributorId?: string;
  creationInfo?: CreationInfo;
  creationTimeNs?: bigint;
  /** Latest creationTime seen on the event or any of its sub-objects (for `updatedafter`). */
  updatedNs?: bigint;
  raw?: XmlNode;
}

/** All QuakeML 1.2 EventType values (QuakeML-BED-1.2). */
export const EVENT_TYPES: readonly string[] = [
  'not existing', 'not reported', 'earthquake', 'anthropogenic event', 'collapse', 'cavity collapse',
  'mine collapse', 'building collapse', 'explosion', 'accidental explosion', 'chemical explosion',
  'controlled explosion', 'experimental explosion', 'industrial explosion', 'mining explosion',
  'quarry blast', 'road cut', 'blasting levee', 'nuclear explosion', 'induced or triggered event',
  'rock burst', 'reservoir loading', 'fluid injection', 'fluid extraction', 'crash', 'plane crash',
  'train crash', 'boat crash', 'other event', 'atmospheric event', 'sonic boom', 'sonic blast',
  'acoustic noise', 'thunder', 'avalanche', 'snow avalanche', 'debris avalanche', 'hydroacoustic event',
  'ice quake', 'slide', 'landslide', 'rockslide', 'meteorite', 'volcanic eruption',
];

const EVENT_TYPE_SET = new Set(EVENT_TYPES);
/** Non-schema spellings seen in real catalogues (ComCat `quarry_blast`/`quarry`, SeisComP `other`). */
const EVENT_TYPE_ALIASES: Record<string, string> = {
  quarry: 'quarry blast',
  'quarry blast': 'quarry blast',
  blast: 'quarry blast',
  other: 'other event',
  'induced event': 'induced or triggered event',
  'induced earthquake': 'induced or triggered event',
  'mine blast': 'mining explosion',
  'mining blast': 'mining explosion',
  'nuclear test': 'nuclear explosion',
  'rockburst': 'rock burst',
  'sonicboom': 'sonic boom',
  icequake: 'ice quake',
};

/**
 * Map an event type string to the QuakeML 1.2 EventType spelling (`quarry_blast` → `quarry blast`),
 * or undefined when it is not recognisable (writing an invalid enum would break schema validation,
 * and ObsPy drops such values with a warning anyway).
 */
export function normaliseEventType(type: string | undefined): string | undefined {
  if (type === undefined) return undefined;
  const t = type.trim().toLowerCase().replace(/[_-]+/g, ' ').replace(/\s+/g, ' ');
  if (EVENT_TYPE_SET.has(t)) return t;
  return EVENT_TYPE_ALIASES[t];
}

/** Order in which description types are preferred for the FDSN text EventLocationName. */
const LOCATION_NAME_PREFERENCE = ['region name', 'flinn-engdahl region', 'earthquake name', 'nearest cities'];

export function pickLocationName(descriptions: EventDescription[]): string | undefined {
  for (const want of LOCATION_NAME_PREFERENCE) {
    const d = descriptions.find((x) => (x.type ?? '').toLowerCase() === want && x.text.trim() !== '');
    if (d) return d.text.trim();
  }
  // Untyped descriptions are usually region names too; typed felt reports etc. are not.
  const untyped = descriptions.find((x) => x.type === undefined && x.text.trim() !== '');
  return untyped?.text.trim();
}

/** Path segments that name a resource kind rather than identify it (`…/C200604092050A/event`). */
const GENERIC_ID_WORDS = new Set(['event', 'events', 'query', 'origin', 'eventparameters', 'quakeml', 'product']);

/**
 * Short event id from a publicID: the `eventid=`/`eventId=` query value if there is one (IRIS, ComCat),
 * else the last path-ish segment that is not a generic word (`smi:local/ndk/C200604092050A/event` →
 * `C200604092050A`, `smi:…/event/2032247` → `2032247`).
 */
export function deriveEventId(publicId: string): string {
  const q = /[?&;](?:amp;)?event_?id=([^&;#]+)/i.exec(publicId);
  if (q) return q[1];
  const parts = publicId.split(/[/=?&#]/).filter((p) => p !== '' && !/^(smi|quakeml):/i.test(p));
  for (let i = parts.length - 1; i >= 0; i--) {
    const p = parts[i].replace(/^amp;/, '');
    if (p !== '' && !GENERIC_ID_WORDS.has(p.toLowerCase()) && !p.includes('.xml')) return p;
  }
  const last = publicId.split(/[/=]/).pop();
  return last && last !== '' ? last : publicId;
}

/**
 * Build a consistent event from typed parts (used by the text reader; handy for the service and tests).
 * The first origin / magnitude become the preferred ones unless ids say otherwise.
 */
export function createEvent(init: Partial<CatalogEvent> & { publicId: string }): CatalogEvent {
  const origins = init.origins ?? (init.preferredOrigin ? [init.preferredOrigin] : []);
  const magnitudes = init.magnitudes ?? (init.preferredMagnitude ? [init.preferredMagnitude] : []);
  const preferredOrigin =
    init.preferredOrigin ?? origins.find((o) => o.publicId === init.preferredOriginId) ?? origins[0];
  const preferredMagnitude =
    init.preferredMagnitude ?? magnitudes.find((m) => m.publicId === init.preferredMagnitudeId) ?? magnitudes[0];
  const descriptions = init.descriptions ?? [];
  return {
    ...init,
    publicId: init.publicId,
    eventId: init.eventId ?? deriveEventId(init.publicId),
    descriptions,
    locationName: init.locationName ?? pickLocationName(descriptions),
    preferredOriginId: init.preferredOriginId ?? preferredOrigin?.publicId,
    preferredMagnitudeId: init.preferredMagnitudeId ?? preferredMagnitude?.publicId,
    preferredOrigin,
    preferredMagnitude,
    origins,
    magnitudes,
    picks: init.picks ?? [],
    amplitudes: init.amplitudes ?? [],
    stationMagnitudes: init.stationMagnitudes ?? [],
    focalMechanisms: init.focalMechanisms ?? [],
  };
}
