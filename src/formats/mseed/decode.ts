/**
 * Decoding of a record's data payload into samples.
 */
import { decodeSteim1, decodeSteim2, SteimError } from './steim';
import { Encoding, MseedError, RecordHeader, Samples } from './types';

function fail(header: RecordHeader, reason: string, file?: string): never {
  throw new MseedError(`${file ?? '<buffer>'} @${header.offset}: ${reason}`, file, header.offset, reason);
}

/**
 * Decode the samples of a record whose first byte is at `recordStart` of `buf`.
 * Throws MseedError for unsupported encodings, payloads too short for the sample count, and
 * Steim records whose last sample disagrees with the reverse integration constant.
 */
export function decodeAt(buf: Buffer, recordStart: number, header: RecordHeader, file?: string): Samples {
  const n = header.sampleCount;
  const dataStart = recordStart + header.dataOffset;
  const dataLength = Math.min(header.dataLength, buf.length - dataStart);
  if (dataStart > buf.length || dataLength < 0) fail(header, 'record data beyond end of buffer', file);
  const le = header.dataLittleEndian;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const need = (bytesPerSample: number) => {
    if (n * bytesPerSample > dataLength) fail(header, `data payload of ${dataLength} bytes too short for ${n} samples of ${bytesPerSample} bytes`, file);
  };
  switch (header.encoding) {
    case Encoding.TEXT: {
      // Text records: the payload up to the sample count (or the payload without trailing NULs).
      let end = dataStart + Math.min(n > 0 ? n : dataLength, dataLength);
      while (end > dataStart && buf[end - 1] === 0) end--;
      return buf.toString('latin1', dataStart, end);
    }
    case Encoding.INT16: {
      need(2);
      const out = new Int32Array(n);
      for (let i = 0, p = dataStart; i < n; i++, p += 2) out[i] = view.getInt16(p, le);
      return out;
    }
    case Encoding.INT32: {
      need(4);
      const out = new Int32Array(n);
      for (let i = 0, p = dataStart; i < n; i++, p += 4) out[i] = view.getInt32(p, le);
      return out;
    }
    case Encoding.FLOAT32: {
      need(4);
      const out = new Float32Array(n);
      for (let i = 0, p = dataStart; i < n; i++, p += 4) out[i] = view.getFloat32(p, le);
      return out;
    }
    case Encoding.FLOAT64: {
      need(8);
      const out = new Float64Array(n);
      for (let i = 0, p = dataStart; i < n; i++, p += 8) out[i] = view.getFloat64(p, le);
      return out;
    }
    case Encoding.STEIM1:
    case Encoding.STEIM2:
      try {
        return header.encoding === Encoding.STEIM1
          ? decodeSteim1(view, dataStart, dataLength, n, le)
          : decodeSteim2(view, dataStart, dataLength, n, le);
      } catch (e) {
        if (e instanceof SteimError) fail(header, e.message, file);
        throw e;
      }
    default:
      return fail(header, `unsupported data encoding ${header.encoding}`, file);
  }
}

/** Decode a record of `buf` located at header.offset (the offset returned when parsing `buf`). */
export function decodeRecord(buf: Buffer, header: RecordHeader, file?: string): Samples {
  return decodeAt(buf, header.offset, header, file);
}

/** Decode a record from a buffer that starts at the record (e.g. bytes read at a file offset). */
export function decodeRecordAt(recordBuf: Buffer, header: RecordHeader, file?: string): Samples {
  return decodeAt(recordBuf, 0, header, file);
}
