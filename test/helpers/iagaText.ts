/**
 * An independent IAGA-2002 reader for product tests (truth for tiles and routes): header key/values,
 * whitespace-split data rows, values >= 88888 (missing / not recorded) as null.
 */
import fs from 'node:fs';

export interface Iaga {
  header: Record<string, string>;
  elements: string[];
  times: number[];
  values: (number | null)[][];
}

/** IAGA-2002 parsed here: header key/values, whitespace-split data, ≥ 88888 → null. */
export function parseIaga(file: string): Iaga {
  const lines = fs.readFileSync(file, 'latin1').split(/\r?\n/);
  const header: Record<string, string> = {};
  for (const l of lines) {
    if (l.startsWith('DATE')) break;
    const m = /^ ([A-Za-z][A-Za-z ]*?)\s{2,}(.*?)\s*\|$/.exec(l);
    if (m) header[m[1].trim().toLowerCase()] = m[2].trim();
  }
  const di = lines.findIndex((l) => l.startsWith('DATE'));
  const names = lines[di].replace('|', '').trim().split(/\s+/).slice(3);
  const elements = names.map((n) => (n.length > 3 ? n.slice(3) : n));
  const times: number[] = [];
  const values: (number | null)[][] = elements.map(() => []);
  for (const l of lines.slice(di + 1)) {
    if (!/^\d{4}-/.test(l)) continue;
    const p = l.trim().split(/\s+/);
    times.push(Date.parse(`${p[0]}T${p[1]}Z`));
    for (let k = 0; k < elements.length; k++) {
      const v = Number(p[3 + k]);
      values[k].push(Math.abs(v) >= 88888 ? null : v);
    }
  }
  return { header, elements, times, values };
}
