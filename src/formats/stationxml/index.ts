/** FDSN StationXML model, parser, 1.2 writer and FDSN station text output. */
export * from './model';
export { parseStationXml, parseXmlDateTime, decodeXmlBuffer, StationXmlError } from './parse';
export { stationXmlChunks, writeStationXml } from './write';
export type { WriteStationXmlOptions, StationLevel } from './write';
export { stationText, textField, STATION_TEXT_HEADERS } from './text';
export type { StationTextLevel } from './text';
