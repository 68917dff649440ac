/**
 * Plain inventory model for FDSN StationXML (network → station → channel epochs).
 *
 * Fields the station service filters on or prints in text format are typed; everything else
 * the source carried (comments, identifiers, operators, equipment, external references,
 * <Response> ...) is kept as raw standalone XML fragments so writeStationXml can emit StationXML
 * 1.2 faithfully at every level. The model is plain data (bigint epoch-ns times, strings,
 * numbers) so callers can build it from a database as well as from parseStationXml.
 */

/** Namespace of FDSN StationXML 1.x (all minor versions share it). */
export const FDSN_STATION_NS = 'http://www.fdsn.org/xml/station/1';

/**
 * An element kept verbatim: `xml` is the source text of the element, with only the namespace
 * declarations it needs from its ancestors added to its start tag (so it parses standalone).
 */
export interface RawElement {
  /** Local name, e.g. 'Comment', 'Identifier', 'Operator'. */
  name: string;
  /** Namespace URI; FDSN_STATION_NS for StationXML elements, anything else for extensions. */
  ns: string;
  xml: string;
}

/** An attribute the model does not type (alternateCode, historicalCode, sourceID, iris:...). */
export interface ExtraAttribute {
  /** Local name. */
  name: string;
  /** Namespace URI, null for plain attributes. */
  ns: string | null;
  /** Prefix used in the source (kept so re-emitted documents look familiar). */
  prefix: string | null;
  value: string;
}

export interface Sensitivity {
  value: number;
  frequency: number;
  /** InputUnits/Name, e.g. 'M/S'. */
  inputUnits: string;
  /** OutputUnits/Name, e.g. 'COUNTS'. */
  outputUnits: string;
}

export interface Site {
  name: string;
  description?: string;
  town?: string;
  county?: string;
  region?: string;
  country?: string;
}

export interface Channel {
  location: string;
  code: string;
  startNs: bigint | null;
  endNs: bigint | null;
  restrictedStatus: string | null;
  description: string | null;
  lat: number;
  lon: number;
  elevation: number;
  depth: number;
  azimuth: number | null;
  dip: number | null;
  /** <Type> values (CONTINUOUS, GEOPHYSICAL, ...). */
  types: string[];
  sampleRate: number | null;
  clockDrift: number | null;
  /** Sensor/Type, else Sensor/Description (ObsPy reads/writes the text column from Sensor/Type). */
  sensorDescription: string | null;
  /** InstrumentSensitivity of the response, null when absent. */
  sensitivity: Sensitivity | null;
  /** The <Response> element verbatim (standalone, see RawElement); null when the source had none. */
  responseXml: string | null;
  /** Number of <Stage> elements in responseXml (0 when none). */
  responseStageCount: number;
  /** DataAvailability/Extent found in the source (informational: the writer emits availability only from its option). */
  dataAvailability: { startNs: bigint; endNs: bigint } | null;
  attributes: ExtraAttribute[];
  /** Attributes of the typed value elements (unit, datum, plusError, ...) by element name. */
  valueAttributes?: Record<string, ExtraAttribute[]>;
  /** Other child elements in source order: Identifier, Comment, ExternalReference, WaterLevel,
   *  SampleRateRatio, CalibrationUnits, Sensor, PreAmplifier, DataLogger, Equipment, extensions. */
  extras: RawElement[];
}

export interface Station {
  code: string;
  startNs: bigint | null;
  endNs: bigint | null;
  restrictedStatus: string | null;
  description: string | null;
  lat: number;
  lon: number;
  elevation: number;
  siteName: string;
  site: Site;
  creationDateNs: bigint | null;
  terminationDateNs: bigint | null;
  /** TotalNumberChannels as stated by the source (null when absent). */
  totalNumberChannels: number | null;
  channels: Channel[];
  attributes: ExtraAttribute[];
  /** Attributes of Latitude/Longitude/Elevation (unit, datum, plusError, ...). */
  valueAttributes?: Record<string, ExtraAttribute[]>;
  /** Identifier, Comment, WaterLevel, Vault, Geology, Equipment, Operator, ExternalReference, extensions. */
  extras: RawElement[];
}

export interface Network {
  code: string;
  description: string | null;
  startNs: bigint | null;
  endNs: bigint | null;
  restrictedStatus: string | null;
  /** TotalNumberStations as stated by the source (null when absent). */
  totalNumberStations: number | null;
  stations: Station[];
  attributes: ExtraAttribute[];
  /** Identifier, Comment, Operator, extensions. */
  extras: RawElement[];
}

export interface Inventory {
  /** schemaVersion of the source document ('1.0', '1.1', '1.2'); null for built inventories. */
  schemaVersion: string | null;
  source: string | null;
  sender: string | null;
  module: string | null;
  moduleUri: string | null;
  createdNs: bigint | null;
  /** Name of the file/source this came from (for messages and provenance). */
  sourceName?: string;
  networks: Network[];
}

/** Key of a channel in availability maps: `NET.STA.LOC.CHA` (empty location stays empty). */
export function channelKey(network: string, station: string, location: string, channel: string): string {
  return `${network}.${station}.${location}.${channel}`;
}
