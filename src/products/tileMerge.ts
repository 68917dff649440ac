/**
 * A station-period whose tile another input already wrote (ingest.ts): files split at noon, a
 * definitive and a variation file of the same day, daily files of hourly values sharing a month
 * tile, a stray next-day row. Writing the new period alone would drop the other input's rows
 * from the tile, so the rows of the existing raw tile are merged in first, and the raw and std
 * tiles are rebuilt from the union (std is recomputed over all of it, so despiking and gap fill
 * see both inputs).
 *
 * The tile gets the union of both inputs' rows. Where both have a row for the same time, the
 * input of the more final IAGA data type wins (definitive > quasi-definitive > provisional >
 * variation/reported), the new input on a tie (the newer ingest). A tile written by the same
 * input alone is simply replaced (a re-ingest after the file changed).
 */
import fs from 'node:fs';
import { SENTINEL_MISSING, SENTINEL_NOT_RECORDED } from '../formats/iaga2002';
import type { PeriodSeries, SeriesColumn, SeriesContext } from './periodTiles';
import { Q_NOT_RECORDED, Q_SENTINEL } from './quality';
import { isoCadence, readTile, readTileMetadata, tilePath, tilePeriod, type TileSourceFile } from './tiles';

/** Inputs merged into a period's tiles besides the current one, and the data types of all. */
export interface PriorInputs {
  sources: TileSourceFile[];
  dataType: string;
}

/** Rank of an IAGA-2002 data type: the more final the higher. */
export function dataTypeRank(t: string): number {
  const s = t.trim().toLowerCase();
  if (s.startsWith('def')) return 3;
  if (s.startsWith('quasi')) return 2;
  if (s.startsWith('prov') || s.startsWith('adj')) return 1;
  return 0;
}

/**
 * The period merged with the rows of its existing raw tile, or null when there is nothing to
 * merge (no tile yet, or one written by this same input alone).
 */
export async function mergeExistingPeriod(root: string, ctx: SeriesContext, s: PeriodSeries): Promise<{ series: PeriodSeries; prior: PriorInputs } | null> {
  if (s.times.length === 0) return null;
  const per = tilePeriod(ctx.cadenceMs, s.times[0]);
  const file = tilePath(root, { layer: 'raw', source: ctx.source, station: ctx.station, cadence: isoCadence(ctx.cadenceMs), period: per.period });
  if (!fs.existsSync(file)) return null;
  // The footer first: a re-ingest of the same input (the common case) needs no row read.
  let sources: TileSourceFile[] = [];
  try {
    sources = JSON.parse((await readTileMetadata(file)).kv['geonode.source_files'] ?? '[]') as TileSourceFile[];
  } catch {
    /* unreadable provenance: the rows are still merged */
  }
  const others = sources.filter((x) => x.name !== ctx.file.name);
  if (others.length === 0 && sources.length > 0) return null;
  const old = await readTile(file);
  const oldType = old.kv['geonode.data_type'] ?? '';
  const newType = ctx.header.dataType ?? '';
  const oldWins = dataTypeRank(oldType) > dataTypeRank(newType);

  // The union of both sides' rows; where both have a time, one side wins.
  const newTimes = new Set<number>(s.times);
  const oldTimes = new Set<number>(old.ts);
  const merged: { t: number; side: 0 | 1; i: number }[] = [];
  old.ts.forEach((t, i) => {
    if (oldWins || !newTimes.has(t)) merged.push({ t, side: 0, i });
  });
  s.times.forEach((t, i) => {
    if (!oldWins || !oldTimes.has(t)) merged.push({ t, side: 1, i });
  });
  merged.sort((a, b) => a.t - b.t);
  const n = merged.length;
  const names = s.columns.map((c) => c.name);
  for (const k of Object.keys(old.columns)) if (!k.endsWith('_q') && !names.includes(k)) names.push(k);
  // Row of each time on each side: a component the winning side does not have at all (an
  // adjusted HENULNUL file against a variation HEZF one) comes from the other side.
  const newAt = new Map<number, number>();
  s.times.forEach((t, i) => newAt.set(t, i));
  const oldAt = new Map<number, number>();
  old.ts.forEach((t, i) => oldAt.set(t, i));
  const columns: SeriesColumn[] = names.map((name) => {
    const nc = s.columns.find((c) => c.name === name);
    const ov = old.columns[name];
    const oq = old.columns[`${name}_q`];
    const values = new Float64Array(n);
    const sentinel = new Uint8Array(n);
    const fromNew = (k: number, i: number) => {
      values[k] = nc!.values[i];
      sentinel[k] = nc!.sentinel[i];
    };
    const fromOld = (k: number, i: number) => {
      values[k] = ov![i];
      const q = oq ? oq[i] : 0;
      sentinel[k] = q & Q_NOT_RECORDED ? SENTINEL_NOT_RECORDED : q & Q_SENTINEL ? SENTINEL_MISSING : 0;
    };
    merged.forEach((r, k) => {
      const otherOld = r.side === 1 ? oldAt.get(r.t) : undefined;
      const otherNew = r.side === 0 ? newAt.get(r.t) : undefined;
      if (r.side === 1 && nc) fromNew(k, r.i);
      else if (r.side === 0 && ov) fromOld(k, r.i);
      else if (otherOld !== undefined && ov) fromOld(k, otherOld);
      else if (otherNew !== undefined && nc) fromNew(k, otherNew);
      else values[k] = NaN; // no input has this element at this time: null, not a fill value (sentinel 0)
    });
    const units = nc?.units ?? (JSON.parse(old.kv['geonode.units'] ?? '{}') as Record<string, string>)[name] ?? '';
    return { name, units, values, sentinel };
  });
  const times = Float64Array.from(merged, (r) => r.t);
  const types = [...new Set([oldType, newType].filter(Boolean))];
  return { series: { times, columns }, prior: { sources: others, dataType: types.join(',') } };
}
