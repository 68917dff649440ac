/** NASA CDF reader/writer: see read.ts (reader), write.ts (writer), time.ts (time types). */
export * from './types';
export { CdfFile, openCdf, decodeValues, encodeValues, defaultPad, transposeRecords, decodeText } from './read';
export type { ReadOptions } from './read';
export * from './time';
export { rleDecode, rleEncode, decompress } from './compression';
export type { Block } from './records';
export { checkStructure } from './records';
export { writeCdf } from './write';
export { cdfVariableNames, isCdfMagic } from './names';
export type { CdfWriteOptions, CdfWriteVariable, CdfWriteAttr } from './write';
