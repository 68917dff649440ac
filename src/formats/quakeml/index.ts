/** QuakeML 1.2 support: model, reader, writer. */
export * from './model';
export { parseQuakeML, parseQuakeMLTime, type ParseQuakeMLOptions } from './parse';
export { writeQuakeML, quakemlChunks, type WriteQuakeMLOptions } from './write';
export { QuakeMLError } from './xml';
