/**
 * Independent Parquet reading for the product tests: data and key-value metadata through
 * parquet-wasm (arrow-rs compiled to wasm) + apache-arrow, and row-group statistics through a
 * small Thrift compact-protocol decoder of the footer written here (parquet-wasm does not expose
 * statistics). Nothing here uses hyparquet / hyparquet-writer.
 */
import fs from 'node:fs';
import { tableFromIPC, type Table } from 'apache-arrow';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pw = require('parquet-wasm') as typeof import('parquet-wasm');

export interface IndependentTile {
  table: Table;
  rows: number;
  kv: Map<string, string>;
  /** column name → Arrow values (null for nulls); timestamps as epoch ms numbers. */
  col(name: string): (number | null)[];
  /** Statistics of row group 0 per column path: min/max raw bytes and null count. */
  stats: Map<string, { min?: Buffer; max?: Buffer; nullCount?: bigint }>;
  numRowGroups: number;
  /** Parquet schema types from the footer: name → {type, convertedType, logicalType field id} */
  schema: Map<string, { type?: number; repetition?: number; convertedType?: number; logical?: Record<number, unknown> }>;
}

// ---- Thrift compact decoder ----
type TV = unknown;
class Compact {
  pos = 0;
  constructor(private readonly b: Buffer) {}
  varint(): bigint {
    let r = 0n;
    let s = 0n;
    for (;;) {
      const x = this.b[this.pos++];
      r |= BigInt(x & 0x7f) << s;
      if (!(x & 0x80)) return r;
      s += 7n;
    }
  }
  zz(): bigint {
    const v = this.varint();
    return (v >> 1n) ^ -(v & 1n);
  }
  value(type: number): TV {
    switch (type) {
      case 1:
        return true;
      case 2:
        return false;
      case 3:
        return this.b.readInt8(this.pos++);
      case 4:
      case 5:
        return Number(this.zz());
      case 6:
        return this.zz();
      case 7: {
        const d = this.b.readDoubleLE(this.pos);
        this.pos += 8;
        return d;
      }
      case 8: {
        const n = Number(this.varint());
        const out = this.b.subarray(this.pos, this.pos + n);
        this.pos += n;
        return Buffer.from(out);
      }
      case 9:
      case 10: {
        const h = this.b[this.pos++];
        let n = h >> 4;
        const et = h & 15;
        if (n === 15) n = Number(this.varint());
        const out: TV[] = [];
        for (let i = 0; i < n; i++) out.push(et === 1 || et === 2 ? this.b[this.pos++] === 1 : this.value(et));
        return out;
      }
      case 11: {
        const n = Number(this.varint());
        if (n === 0) return new Map();
        const kt = this.b[this.pos] >> 4;
        const vt = this.b[this.pos++] & 15;
        const m = new Map();
        for (let i = 0; i < n; i++) m.set(this.value(kt), this.value(vt));
        return m;
      }
      case 12:
        return this.struct();
      default:
        throw new Error(`thrift type ${type}`);
    }
  }
  struct(): Record<number, TV> {
    const out: Record<number, TV> = {};
    let last = 0;
    for (;;) {
      const h = this.b[this.pos++];
      if (h === 0) return out;
      const delta = h >> 4;
      const type = h & 15;
      const id = delta ? last + delta : Number(this.zz());
      last = id;
      out[id] = this.value(type);
    }
  }
}

export function footer(bytes: Buffer): Record<number, TV> {
  if (bytes.subarray(bytes.length - 4).toString('latin1') !== 'PAR1') throw new Error('not parquet');
  const len = bytes.readUInt32LE(bytes.length - 8);
  return new Compact(bytes.subarray(bytes.length - 8 - len, bytes.length - 8)).struct();
}

export function readIndependent(file: string): IndependentTile {
  const bytes = fs.readFileSync(file);
  const wasmTable = pw.readParquet(new Uint8Array(bytes));
  const table = tableFromIPC(wasmTable.intoIPCStream());
  const fm = footer(bytes);
  const kv = new Map<string, string>();
  for (const e of (fm[5] as Record<number, TV>[]) ?? []) kv.set((e[1] as Buffer).toString('utf8'), e[2] ? (e[2] as Buffer).toString('utf8') : '');
  const rgs = fm[4] as Record<number, TV>[];
  const stats = new Map<string, { min?: Buffer; max?: Buffer; nullCount?: bigint }>();
  for (const cc of (rgs[0]?.[1] as Record<number, TV>[]) ?? []) {
    const md = cc[3] as Record<number, TV>;
    const name = (md[3] as Buffer[]).map((b) => b.toString('utf8')).join('.');
    const st = (md[12] as Record<number, TV>) ?? {};
    stats.set(name, { min: st[6] as Buffer | undefined, max: st[5] as Buffer | undefined, nullCount: st[3] as bigint | undefined });
  }
  const schema = new Map<string, { type?: number; repetition?: number; convertedType?: number; logical?: Record<number, unknown> }>();
  for (const el of (fm[2] as Record<number, TV>[]).slice(1)) {
    schema.set((el[4] as Buffer).toString('utf8'), { type: el[1] as number, repetition: el[3] as number, convertedType: el[6] as number, logical: el[10] as Record<number, unknown> });
  }
  const col = (name: string): (number | null)[] => {
    const v = table.getChild(name);
    if (!v) throw new Error(`no column ${name}`);
    const out: (number | null)[] = [];
    for (let i = 0; i < v.length; i++) {
      const x = v.get(i) as unknown;
      out.push(x === null || x === undefined ? null : typeof x === 'bigint' ? Number(x) : x instanceof Date ? x.getTime() : Number(x));
    }
    return out;
  };
  return { table, rows: table.numRows, kv, col, stats, numRowGroups: rgs.length, schema };
}
