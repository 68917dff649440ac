/**
 * Minimal streaming ZIP writer (PKWARE APPNOTE 6.3): stored and deflated entries, CRC-32, no
 * ZIP64 (a package that would pass 4 GiB or 65,535 entries is refused), no new dependency.
 *
 * Why streaming: an event package carries waveforms that can be large; entries are written to
 * the output as they are produced, so the HTTP response starts at once and memory stays flat.
 *  - Buffer entries (sizes known): the local header carries CRC and sizes (no data descriptor),
 *    stored or deflated as asked.
 *  - Stream entries (sizes unknown up front): general-purpose bit 3 with a data descriptor
 *    (signature + CRC + sizes) after the data. They are always deflated: a reader that walks
 *    local headers (not the central directory) can find the end of deflated data by itself, but
 *    not the end of stored data of unknown size.
 * Names are UTF-8 (bit 11). Times are DOS local-time fields written from UTC (no time-zone
 * field exists; UTC is what the package manifest states). Every entry's sha256 is computed on
 * the uncompressed bytes while writing, for the manifest.
 */
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import type { Writable } from 'node:stream';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Update a CRC-32 (ISO-HDLC, as ZIP and gzip use) with bytes; start with 0. */
export function crc32(buf: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  const t = CRC_TABLE;
  for (let i = 0; i < buf.length; i++) c = t[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

export interface ZipEntryInfo {
  name: string;
  method: 'store' | 'deflate';
  /** Uncompressed bytes. */
  size: number;
  compressedSize: number;
  crc32: number;
  /** sha256 (hex) of the uncompressed bytes. */
  sha256: string;
}

interface CentralRecord extends ZipEntryInfo {
  offset: number;
  flags: number;
  dosTime: number;
  dosDate: number;
}

const MAX32 = 0xffffffff;

function dosDateTime(d: Date): { time: number; date: number } {
  const y = Math.max(1980, d.getUTCFullYear());
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1),
    date: ((y - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

/** A safe entry name: relative, forward slashes, no `..`, no drive letters. */
function checkName(name: string): void {
  if (!name || name.startsWith('/') || name.includes('\\') || /^[A-Za-z]:/.test(name) || name.split('/').some((p) => p === '..' || p === '')) {
    throw new Error(`zip: unsafe entry name ${JSON.stringify(name)}`);
  }
}

/**
 * Writes a ZIP to a Writable (an HTTP response, a file stream) as entries are added. Call
 * `finish()` once; it writes the central directory and resolves with the entry list.
 */
export class ZipWriter {
  private offset = 0;
  private readonly entries: CentralRecord[] = [];
  private readonly names = new Set<string>();
  private finished = false;
  private busy = false;

  constructor(
    private readonly out: Writable,
    private readonly opts: { date?: Date; level?: number } = {},
  ) {}

  /** Bytes written so far. */
  get bytesWritten(): number {
    return this.offset;
  }

  private async write(buf: Buffer): Promise<void> {
    if (buf.length === 0) return;
    // A closed output (the client went away) stops the archive: the caller's sources (an open
    // data file in extractRecords) are released by the error, instead of waiting for a 'drain'
    // or 'close' that will never come again.
    const closed = () => new Error('zip: the output closed before the archive was written (client gone)');
    if (this.out.destroyed || this.out.writableEnded) throw closed();
    this.offset += buf.length;
    if (!this.out.write(buf)) {
      await new Promise<void>((resolve, reject) => {
        const done = (err?: Error) => {
          this.out.off('drain', onDrain);
          this.out.off('close', onClose);
          this.out.off('error', done);
          if (err) reject(err);
          else resolve();
        };
        const onDrain = () => done();
        const onClose = () => done(closed());
        this.out.once('drain', onDrain);
        this.out.once('close', onClose);
        this.out.once('error', done);
        if (this.out.destroyed) onClose(); // closed before the listeners were in place
      });
    }
    if (this.offset > MAX32) throw new Error('zip: archive exceeds 4 GiB (ZIP64 not supported)');
  }

  private begin(name: string): void {
    if (this.finished) throw new Error('zip: already finished');
    if (this.busy) throw new Error('zip: entries must be added one at a time');
    checkName(name);
    if (this.names.has(name)) throw new Error(`zip: duplicate entry ${name}`);
    if (this.entries.length >= 0xffff) throw new Error('zip: more than 65,535 entries (ZIP64 not supported)');
    this.names.add(name);
  }

  private localHeader(nameBuf: Buffer, flags: number, method: number, dt: { time: number; date: number }, crc: number, csize: number, size: number): Buffer {
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    h.writeUInt16LE(flags, 6);
    h.writeUInt16LE(method, 8);
    h.writeUInt16LE(dt.time, 10);
    h.writeUInt16LE(dt.date, 12);
    h.writeUInt32LE(crc, 14);
    h.writeUInt32LE(csize, 18);
    h.writeUInt32LE(size, 22);
    h.writeUInt16LE(nameBuf.length, 26);
    h.writeUInt16LE(0, 28);
    return Buffer.concat([h, nameBuf]);
  }

  /** Add an entry whose bytes are all in memory. */
  async addBuffer(name: string, data: Buffer | string, opts: { method?: 'store' | 'deflate'; date?: Date } = {}): Promise<ZipEntryInfo> {
    this.begin(name);
    this.busy = true;
    try {
      const raw = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      if (raw.length > MAX32) throw new Error(`zip: entry ${name} exceeds 4 GiB`);
      const method = opts.method ?? 'deflate';
      const body = method === 'deflate' ? zlib.deflateRawSync(raw, { level: this.opts.level ?? 6 }) : raw;
      const crc = crc32(raw);
      const sha256 = crypto.createHash('sha256').update(raw).digest('hex');
      const dt = dosDateTime(opts.date ?? this.opts.date ?? new Date());
      const nameBuf = Buffer.from(name, 'utf8');
      const flags = 0x0800;
      const offset = this.offset;
      await this.write(this.localHeader(nameBuf, flags, method === 'deflate' ? 8 : 0, dt, crc, body.length, raw.length));
      await this.write(body);
      const rec: CentralRecord = { name, method, size: raw.length, compressedSize: body.length, crc32: crc, sha256, offset, flags, dosTime: dt.time, dosDate: dt.date };
      this.entries.push(rec);
      return strip(rec);
    } finally {
      this.busy = false;
    }
  }

  /** Add an entry from chunks of unknown total size (deflated, data descriptor). */
  async addStream(name: string, chunks: AsyncIterable<Buffer> | Iterable<Buffer>, opts: { date?: Date } = {}): Promise<ZipEntryInfo> {
    this.begin(name);
    this.busy = true;
    try {
      const dt = dosDateTime(opts.date ?? this.opts.date ?? new Date());
      const nameBuf = Buffer.from(name, 'utf8');
      const flags = 0x0800 | 0x0008;
      const offset = this.offset;
      await this.write(this.localHeader(nameBuf, flags, 8, dt, 0, 0, 0));
      const deflate = zlib.createDeflateRaw({ level: this.opts.level ?? 6 });
      const hash = crypto.createHash('sha256');
      let crc = 0;
      let size = 0;
      let csize = 0;
      const pending: Buffer[] = [];
      deflate.on('data', (b: Buffer) => pending.push(b));
      const flushPending = async () => {
        while (pending.length) {
          const b = pending.shift()!;
          csize += b.length;
          await this.write(b);
        }
      };
      for await (const chunk of chunks as AsyncIterable<Buffer>) {
        if (chunk.length === 0) continue;
        crc = crc32(chunk, crc);
        hash.update(chunk);
        size += chunk.length;
        if (size > MAX32) throw new Error(`zip: entry ${name} exceeds 4 GiB`);
        // Copy: callers may reuse their chunk buffers (pooled extract chunks) once we return.
        await new Promise<void>((resolve, reject) => deflate.write(Buffer.from(chunk), (e) => (e ? reject(e) : resolve())));
        await flushPending();
      }
      await new Promise<void>((resolve, reject) => {
        deflate.once('end', resolve);
        deflate.once('error', reject);
        deflate.end();
      });
      await flushPending();
      const dd = Buffer.alloc(16);
      dd.writeUInt32LE(0x08074b50, 0);
      dd.writeUInt32LE(crc, 4);
      dd.writeUInt32LE(csize, 8);
      dd.writeUInt32LE(size, 12);
      await this.write(dd);
      const rec: CentralRecord = { name, method: 'deflate', size, compressedSize: csize, crc32: crc, sha256: hash.digest('hex'), offset, flags, dosTime: dt.time, dosDate: dt.date };
      this.entries.push(rec);
      return strip(rec);
    } finally {
      this.busy = false;
    }
  }

  /** Write the central directory and end record; resolves with every entry. Does not end `out`. */
  async finish(comment = ''): Promise<ZipEntryInfo[]> {
    if (this.finished) throw new Error('zip: already finished');
    this.finished = true;
    const cdStart = this.offset;
    for (const e of this.entries) {
      const nameBuf = Buffer.from(e.name, 'utf8');
      const h = Buffer.alloc(46);
      h.writeUInt32LE(0x02014b50, 0);
      h.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, spec 2.0 (so the mode below is honoured)
      h.writeUInt16LE(20, 6);
      h.writeUInt16LE(e.flags, 8);
      h.writeUInt16LE(e.method === 'deflate' ? 8 : 0, 10);
      h.writeUInt16LE(e.dosTime, 12);
      h.writeUInt16LE(e.dosDate, 14);
      h.writeUInt32LE(e.crc32, 16);
      h.writeUInt32LE(e.compressedSize, 20);
      h.writeUInt32LE(e.size, 24);
      h.writeUInt16LE(nameBuf.length, 28);
      h.writeUInt16LE(0, 30); // extra
      h.writeUInt16LE(0, 32); // comment
      h.writeUInt16LE(0, 34); // disk
      h.writeUInt16LE(0, 36); // internal attributes
      h.writeUInt32LE((0o100644 << 16) >>> 0, 38); // external: regular file rw-r--r--
      h.writeUInt32LE(e.offset, 42);
      await this.write(Buffer.concat([h, nameBuf]));
    }
    const cdSize = this.offset - cdStart;
    const c = Buffer.from(comment, 'utf8').subarray(0, 0xffff);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(0, 4);
    end.writeUInt16LE(0, 6);
    end.writeUInt16LE(this.entries.length, 8);
    end.writeUInt16LE(this.entries.length, 10);
    end.writeUInt32LE(cdSize, 12);
    end.writeUInt32LE(cdStart, 16);
    end.writeUInt16LE(c.length, 20);
    await this.write(Buffer.concat([end, c]));
    return this.entries.map(strip);
  }
}

function strip(r: CentralRecord): ZipEntryInfo {
  return { name: r.name, method: r.method, size: r.size, compressedSize: r.compressedSize, crc32: r.crc32, sha256: r.sha256 };
}
