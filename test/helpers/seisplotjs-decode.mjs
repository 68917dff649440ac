// Independent second parser for the miniSEED tests: decode files with seisplotjs (ESM-only, so it
// runs in a child process) and print JSON, one entry per file argument:
//   { file, ok, version, error?, records: [{ start fields, sampleCount, sampleRate, codes, samples }] }
// seisplotjs's browser components touch DOM globals at import time; minimal stubs let it load in Node.
import fs from 'node:fs';

const g = globalThis;
for (const name of ['HTMLElement', 'HTMLDivElement', 'HTMLCanvasElement', 'HTMLInputElement', 'HTMLSelectElement', 'HTMLButtonElement', 'HTMLSpanElement', 'HTMLTableElement', 'SVGElement', 'Element', 'Node', 'Event', 'CustomEvent']) {
  if (!g[name]) g[name] = class {};
}
g.customElements ??= { define() {}, get() { return undefined; } };
g.window ??= g;
g.document ??= { createElement: () => ({ style: {}, setAttribute() {}, appendChild() {} }), querySelector: () => null, head: { appendChild() {} } };

const sp = await import('seisplotjs');

function samplesOf(decode) {
  try {
    const s = decode();
    if (!s || typeof s.length !== 'number') return { decodeError: `no samples returned (${String(s)})` };
    return { samples: Array.from(s, (v) => (Number.isFinite(v) ? v : String(v))) };
  } catch (e) {
    return { decodeError: String(e && e.message ? e.message : e) };
  }
}

function v2Records(ab) {
  return sp.miniseed.parseDataRecords(ab).map((dr) => {
    const h = dr.header;
    const b = h.startBTime;
    const b1001 = h.blocketteList.find((bl) => bl.type === 1001);
    return {
      btime: { year: b.year, jday: b.jday, hour: b.hour, min: b.min, sec: b.sec, tenthMilli: b.tenthMilli },
      // Raw B1001 byte as seisplotjs reads it (unsigned) and the header time correction fields.
      b1001Microsecond: b1001 ? b1001.microsecond : null,
      timeCorrection: h.timeCorrection,
      activityFlags: h.activityFlags,
      startIso: h.startTime.toISO(),
      sampleCount: h.numSamples,
      sampleRate: h.sampleRate,
      encoding: h.encoding,
      recordSize: h.recordSize,
      codes: dr.codes(),
      ...(h.encoding === 0 ? {} : samplesOf(() => dr.decompress())),
    };
  });
}

function v3Records(ab) {
  return sp.mseed3.parseMSeed3Records(ab).map((r) => {
    const h = r.header;
    let crcOk = null;
    try {
      crcOk = r.calcCrc() === h.crc;
    } catch {
      crcOk = null;
    }
    return {
      startIso: h.getStartFieldsAsISO(false),
      nanosecond: h.nanosecond,
      sampleCount: h.numSamples,
      sampleRate: h.sampleRate,
      encoding: h.encoding,
      recordSize: r.getSize(),
      codes: h.identifier,
      pubVersion: h.publicationVersion,
      crcOk,
      ...(h.encoding === 0 ? {} : samplesOf(() => r.decompress())),
    };
  });
}

const out = [];
for (const file of process.argv.slice(2)) {
  const bytes = fs.readFileSync(file);
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const version = bytes[0] === 0x4d && bytes[1] === 0x53 && bytes[2] === 3 ? 3 : 2;
  try {
    out.push({ file, ok: true, version, records: version === 3 ? v3Records(ab) : v2Records(ab) });
  } catch (e) {
    out.push({ file, ok: false, version, error: String(e && e.message ? e.message : e), records: [] });
  }
}
process.stdout.write(JSON.stringify(out));
