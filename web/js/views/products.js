// @ts-check
/**
 * Views over the derived products: anomaly scatter (/products/anomalies), station × day heatmap
 * (/products/heatmap) and VLF spectrogram (/products/spectrogram). Responses are read
 * tolerantly (HAPI-like metadata, parallel arrays); a 404 shows "not available yet".
 */
import { getJson, isoUtc, parseUtc, url } from '../api.js';
import { dataSpan } from '../context.js';
import { distanceKm } from '../geo.js';
import { baseOption, chartOf, field, fromInput, h, panel, runPanel, select, timeAxis, toInput, valueAxis } from '../ui.js';

const DAY = 86_400_000;

/** Default window: the data span widened to whole days (at most 7), else the last 3 days. */
async function defaultWindow() {
  const span = await dataSpan();
  const end = span ? Math.ceil(span.endMs / DAY) * DAY : Math.ceil(Date.now() / DAY) * DAY;
  const start = span ? Math.max(Math.floor(span.startMs / DAY) * DAY, end - 7 * DAY) : end - 3 * DAY;
  return { start: Math.min(start, end - DAY), end };
}

/** Start/stop inputs. @param {{start:number,end:number}} w */
function windowInputs(w) {
  const startIn = /** @type {HTMLInputElement} */ (h('input', { type: 'text', size: 19, spellcheck: 'false', placeholder: 'YYYY-MM-DDTHH:MM:SS', name: 'start', value: toInput(w.start) }));
  const stopIn = /** @type {HTMLInputElement} */ (h('input', { type: 'text', size: 19, spellcheck: 'false', placeholder: 'YYYY-MM-DDTHH:MM:SS', name: 'stop', value: toInput(w.end) }));
  return { startIn, stopIn, get: () => ({ start: isoUtc(fromInput(startIn.value)) + 'Z', stop: isoUtc(fromInput(stopIn.value)) + 'Z' }) };
}

/** @param {any} j */
function anomalyList(j) {
  const list = Array.isArray(j) ? j : j?.anomalies ?? j?.data ?? j?.items ?? [];
  return list.map((/** @type {any} */ a) => ({
    timeMs: typeof a.time === 'number' ? a.time : parseUtc(a.time ?? a.start ?? a.ts),
    score: Number(a.score ?? a.value),
    source: a.source ?? 'unknown',
    station: a.station ?? '',
    latitude: a.latitude ?? a.lat,
    longitude: a.longitude ?? a.lon,
    distanceKm: a.distanceKm ?? a.distance_km ?? null,
    storm: !!(a.storm ?? a.disturbed),
  }));
}

/** Storm days (UTC dates) from an anomalies answer: top-level list, or days of storm-flagged items. @param {any} j @param {ReturnType<typeof anomalyList>} list */
function stormDays(j, list) {
  const days = new Set((j?.stormDays ?? j?.storm_days ?? []).map((/** @type {any} */ d) => String(d).slice(0, 10)));
  for (const a of list) if (a.storm && Number.isFinite(a.timeMs)) days.add(new Date(a.timeMs).toISOString().slice(0, 10));
  return [...days].sort();
}

/**
 * Anomaly scatter: score against time (or against distance from an event) per source.
 * @param {HTMLElement} root @param {{ event?: import('../api.js').QuakeEvent, window?: {start:number,end:number} }} [opts]
 */
export function anomalyPanel(root, opts = {}) {
  const p = panel('anomalies', opts.event ? 'Anomaly scores against distance from the event' : 'Anomaly scores (/products/anomalies)');
  root.append(p.el);
  void (async () => {
    const w = windowInputs(opts.window ?? (await defaultWindow()));
    const xSel = select([{ value: 'time', label: 'time' }, { value: 'distance', label: 'distance from event' }], opts.event ? 'distance' : 'time', 'x');
    const minIn = /** @type {HTMLInputElement} */ (h('input', { type: 'number', name: 'minScore', value: '0', step: '0.5', min: '0', style: 'width:5em' }));
    const go = h('button', { type: 'button', text: 'Plot' });
    p.controls.append(field('Start (UTC)', w.startIn), field('Stop (UTC)', w.stopIn), field('Min score', minIn), ...(opts.event ? [field('x axis', xSel)] : []), go);
    const load = () =>
      runPanel(p, async () => {
        const { start, stop } = w.get();
        const j = await getJson(url('/products/anomalies', { start, stop, minScore: minIn.value, event: opts.event?.id }));
        const list = anomalyList(j);
        if (list.length === 0) return { empty: 'No anomaly scores in this window.' };
        const byDistance = opts.event && xSel.value === 'distance';
        const ev = opts.event;
        const xOf = (/** @type {any} */ a) =>
          byDistance && ev ? a.distanceKm ?? (a.latitude !== undefined ? distanceKm(ev.latitude, ev.longitude, Number(a.latitude), Number(a.longitude)) : null) : a.timeMs;
        const sources = [...new Set(list.map((/** @type {any} */ a) => a.source))];
        const storms = stormDays(j, list);
        chartOf(p).setOption(
          {
            ...baseOption(),
            tooltip: { trigger: 'item', confine: true },
            legend: { bottom: 0 },
            xAxis: byDistance ? { ...valueAxis('Distance from epicentre (km)'), nameGap: 30, scale: false, min: 0 } : timeAxis(),
            yAxis: valueAxis('Anomaly score (robust z)'),
            series: sources.map((src, k) => ({
              name: src,
              type: 'scatter',
              symbolSize: 7,
              data: list.filter((/** @type {any} */ a) => a.source === src).map((/** @type {any} */ a) => [xOf(a), a.score, a.station]).filter((/** @type {any[]} */ d) => d[0] !== null),
              ...(k === 0 && !byDistance && storms.length
                ? { markArea: { silent: true, itemStyle: { color: 'rgba(120, 90, 200, 0.12)' }, label: { show: true, position: 'insideTop', formatter: 'storm', fontSize: 10 }, data: storms.map((d) => [{ xAxis: Date.parse(`${d}T00:00:00Z`) }, { xAxis: Date.parse(`${d}T00:00:00Z`) + DAY }]) } }
                : {}),
            })),
          },
          { notMerge: true },
        );
        return `${list.length} scores from ${sources.length} source(s); ${storms.length} storm day(s) shaded.`;
      });
    go.addEventListener('click', () => void load());
    await load();
  })();
  return p;
}

/**
 * Normalise a heatmap answer: {stations|rows, days|columns|times, values|z (rows × columns)}.
 * @param {any} j
 */
export function normaliseHeatmap(j) {
  const rows = j?.stations ?? j?.rows ?? j?.y ?? [];
  const cols = (j?.days ?? j?.columns ?? j?.times ?? j?.x ?? []).map((/** @type {any} */ d) => String(d).slice(0, 10));
  const z = j?.values ?? j?.z ?? j?.matrix ?? [];
  return { rows: rows.map(String), cols, z, units: j?.units ?? '', feature: j?.feature ?? '' };
}

/** @param {HTMLElement} root @param {{ window?: {start:number,end:number} }} [opts] */
export function heatmapPanel(root, opts = {}) {
  const p = panel('heatmap', 'Station × day heatmap (/products/heatmap)');
  root.append(p.el);
  void (async () => {
    const w = windowInputs(opts.window ?? (await defaultWindow()));
    const featIn = /** @type {HTMLInputElement} */ (h('input', { type: 'text', name: 'feature', value: 'score', size: 12 }));
    const go = h('button', { type: 'button', text: 'Plot' });
    p.controls.append(field('Feature or score', featIn), field('Start (UTC)', w.startIn), field('Stop (UTC)', w.stopIn), go);
    const load = () =>
      runPanel(p, async () => {
        const { start, stop } = w.get();
        const j = await getJson(url('/products/heatmap', { feature: featIn.value, start, stop, bin: 'P1D' }));
        const hm = normaliseHeatmap(j);
        const cells = [];
        let lo = Infinity;
        let hi = -Infinity;
        for (let r = 0; r < hm.rows.length; r++)
          for (let c = 0; c < hm.cols.length; c++) {
            const v = hm.z?.[r]?.[c];
            if (v === null || v === undefined || !Number.isFinite(Number(v))) continue;
            cells.push([c, r, Number(v)]);
            lo = Math.min(lo, Number(v));
            hi = Math.max(hi, Number(v));
          }
        if (cells.length === 0) return { empty: 'No values in this window.' };
        const label = `${hm.feature || featIn.value}${hm.units ? ` (${hm.units})` : ''}`;
        chartOf(p).setOption(
          {
            ...baseOption(),
            tooltip: { trigger: 'item', confine: true, formatter: (/** @type {any} */ q) => `${hm.rows[q.value[1]]} ${hm.cols[q.value[0]]}: ${q.value[2]}` },
            grid: { ...baseOption().grid, left: 80, bottom: 80 },
            xAxis: { type: 'category', name: 'Day (UTC)', nameLocation: 'middle', nameGap: 30, data: hm.cols, splitArea: { show: true } },
            yAxis: { type: 'category', name: 'Station', data: hm.rows, splitArea: { show: true } },
            visualMap: { min: lo, max: hi === lo ? lo + 1 : hi, calculable: true, orient: 'horizontal', left: 'center', bottom: 0, text: [label, ''], inRange: { color: ['#f7fbff', '#6baed6', '#08306b'] } },
            series: [{ name: label, type: 'heatmap', data: cells, label: { show: false } }],
          },
          { notMerge: true },
        );
        return `${hm.rows.length} stations × ${hm.cols.length} days, ${cells.length} cells with values.`;
      });
    go.addEventListener('click', () => void load());
    await load();
  })();
  return p;
}

/**
 * Normalise a spectrogram answer: times + frequency bins + power matrix (time × frequency, dB).
 * @param {any} j
 */
export function normaliseSpectrogram(j) {
  /** @type {number[]} */
  const times = (j?.times ?? j?.x ?? []).map((/** @type {any} */ t) => (typeof t === 'number' ? t : parseUtc(t)));
  const bins = j?.bins ?? j?.parameters?.find?.((/** @type {any} */ q) => q.bins)?.bins?.[0] ?? {};
  const freqs = j?.frequencies ?? j?.freqs ?? (Array.isArray(bins) ? bins[0]?.centers : bins.centers) ?? [];
  const z = j?.values ?? j?.power ?? j?.z ?? [];
  /** @type {number[]} */
  const freqNums = freqs.map(Number);
  return { times, freqs: freqNums, z, units: j?.units ?? 'dB', freqUnits: (Array.isArray(bins) ? bins[0]?.units : bins.units) ?? 'Hz' };
}

/** @param {HTMLElement} root @param {{ window?: {start:number,end:number} }} [opts] */
export function spectrogramPanel(root, opts = {}) {
  const p = panel('spectrogram', 'VLF spectrogram (/products/spectrogram)', { tall: true });
  root.append(p.el);
  void (async () => {
    const w = windowInputs(opts.window ?? (await defaultWindow()));
    const staIn = /** @type {HTMLInputElement} */ (h('input', { type: 'text', name: 'station', value: 'MOS', size: 6 }));
    const chSel = select([{ value: 'ch1' }, { value: 'ch2' }], 'ch1', 'channel');
    const go = h('button', { type: 'button', text: 'Plot' });
    p.controls.append(field('Station', staIn), field('Channel', chSel), field('Start (UTC)', w.startIn), field('Stop (UTC)', w.stopIn), go);
    const load = () =>
      runPanel(p, async () => {
        const { start, stop } = w.get();
        // At most 120 × 48 cells: a few thousand points.
        const j = await getJson(url('/products/spectrogram', { station: staIn.value, channel: chSel.value, start, stop, tBins: 120, fBins: 48, scale: 'db', format: 'json' }));
        const sg = normaliseSpectrogram(j);
        const cells = [];
        let lo = Infinity;
        let hi = -Infinity;
        for (let t = 0; t < sg.times.length; t++)
          for (let f = 0; f < sg.freqs.length; f++) {
            const v = sg.z?.[t]?.[f];
            if (v === null || v === undefined || !Number.isFinite(Number(v))) continue;
            cells.push([t, f, Number(v)]);
            lo = Math.min(lo, Number(v));
            hi = Math.max(hi, Number(v));
          }
        if (cells.length === 0) return { empty: 'No spectra in this window.' };
        const tLabels = sg.times.map((t) => new Date(t).toISOString().slice(5, 16).replace('T', ' '));
        chartOf(p).setOption(
          {
            ...baseOption(),
            tooltip: { trigger: 'item', confine: true, formatter: (/** @type {any} */ q) => `${tLabels[q.value[0]]} UTC, ${sg.freqs[q.value[1]]} ${sg.freqUnits}: ${q.value[2].toFixed(1)} ${sg.units}` },
            grid: { ...baseOption().grid, bottom: 90 },
            xAxis: { type: 'category', name: 'Time (UTC)', nameLocation: 'middle', nameGap: 30, data: tLabels, axisLabel: { hideOverlap: true } },
            yAxis: { type: 'category', name: `Frequency (${sg.freqUnits})`, nameLocation: 'middle', nameGap: 52, data: sg.freqs.map((f) => (f >= 1000 ? `${(f / 1000).toFixed(1)}k` : String(Math.round(f)))) },
            visualMap: { min: lo, max: hi === lo ? lo + 1 : hi, calculable: true, orient: 'horizontal', left: 'center', bottom: 0, text: [`power (${sg.units})`, ''], inRange: { color: ['#000004', '#51127c', '#b73779', '#fc8961', '#fcfdbf'] } },
            series: [{ name: 'power', type: 'heatmap', data: cells, progressive: 0 }],
          },
          { notMerge: true },
        );
        return `${sg.times.length} time bins × ${sg.freqs.length} frequency bins (${cells.length} cells).`;
      });
    go.addEventListener('click', () => void load());
    await load();
  })();
  return p;
}

/** @param {HTMLElement} root */
export function renderAnomalies(root) {
  anomalyPanel(root);
}

/** @param {HTMLElement} root */
export function renderHeatmap(root) {
  heatmapPanel(root);
}

/** @param {HTMLElement} root */
export function renderSpectrogram(root) {
  spectrogramPanel(root);
}
