// @ts-check
/** Time spans of channels (pure: no DOM), for the availability view. */

/**
 * Gaps and overlaps of each channel's spans. fdsnws-availability lists overlapping spans
 * separately (unless merge=overlap), so the spans are walked in start order against the
 * furthest end so far: a span starting before it overlaps (re-sent records), one starting
 * after it follows a gap. Consecutive pairs alone would show an overlap as a negative gap.
 * @param {{ id: string, spans: number[][] }[]} ds
 */
export function gapsAndOverlaps(ds) {
  /** @type {{ id: string, from: number, to: number }[]} */
  const gaps = [];
  /** @type {{ id: string, from: number, to: number }[]} */
  const overlaps = [];
  for (const d of ds) {
    const spans = [...d.spans].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let end = -Infinity;
    for (const [a, b] of spans) {
      if (end > -Infinity && a > end) gaps.push({ id: d.id, from: end, to: a });
      else if (a < end) overlaps.push({ id: d.id, from: a, to: Math.min(b, end) });
      end = Math.max(end, b);
    }
  }
  return { gaps, overlaps };
}
