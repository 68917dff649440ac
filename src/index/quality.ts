/**
 * The data quality label of an index row or record, one rule for dataselect and availability.
 *
 * miniSEED 2 records (and mseedindex 2.x rows) carry the SEED quality char D, R, Q or M.
 * miniSEED 3 has none: it has a publication version, and mseedindex 3 stores that version with a
 * NULL quality. libmseed 3 maps a v2 quality to a version as R→1 D→2 Q→3 M→4, so a missing
 * quality is read as the inverse of that mapping (which restores the original char of v2 data
 * indexed by mseedindex 3, and is what libmseed writes when packing v3 data as v2). Versions
 * outside 1..4, and rows with neither, are 'D' (libmseed's default).
 */
const VERSION_TO_QUALITY: Readonly<Record<number, string>> = { 1: 'R', 2: 'D', 3: 'Q', 4: 'M' };

export function qualityLabel(quality: string | null, version: number | null): string {
  if (quality) return quality;
  return (version !== null && VERSION_TO_QUALITY[version]) || 'D';
}
