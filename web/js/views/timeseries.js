// @ts-check
/**
 * Time series of any product dataset and parameter (/products/catalog, /products/info,
 * /products/timeseries with maxPoints: downsampled by the server), flagged samples highlighted,
 * nulls drawn as gaps; plus the waveform panel for a seismic channel.
 */
import { getJson, isoUtc, parseUtc, url } from '../api.js';
import { dataSpan } from '../context.js';
import { baseOption, chartOf, field, fromInput, h, panel, runPanel, select, timeAxis, toInput, valueAxis } from '../ui.js';
import { waveformPanel } from './waveform.js';

export const MAX_POINTS = 2000;

/**
 * Normalise a /products/timeseries answer: IMF-JSON style ({times, values:[{id, metadata, values, flags}]})
 * or HAPI JSON ({parameters:[{name, units}], data:[[time, …]]}).
 * @param {any} j
 * @returns {{ times: number[], series: { name: string, units: string, values: (number|null)[], flags: number[] | null }[] }}
 */
export function normaliseTimeseries(j) {
  if (Array.isArray(j?.times) && Array.isArray(j?.values)) {
    const times = j.times.map((/** @type {any} */ t) => (typeof t === 'number' ? t : parseUtc(t)));
    return {
      times,
      series: j.values.map((/** @type {any} */ v) => ({
        name: v.id ?? v.metadata?.element ?? v.name ?? 'value',
        units: v.metadata?.units ?? v.units ?? '',
        values: v.values,
        flags: v.flags ?? v.qflags ?? v.metadata?.flags ?? null,
      })),
    };
  }
  if (Array.isArray(j?.parameters) && Array.isArray(j?.data)) {
    const params = j.parameters;
    const times = j.data.map((/** @type {any[]} */ r) => (typeof r[0] === 'number' ? r[0] : parseUtc(r[0])));
    const series = [];
    for (let k = 1; k < params.length; k++) {
      if (/flag/i.test(params[k].name)) continue;
      const fk = params.findIndex((/** @type {any} */ q) => q.name === `${params[k].name}_flags` || q.name === `${params[k].name}_qflags`);
      series.push({
        name: params[k].name,
        units: params[k].units ?? '',
        values: j.data.map((/** @type {any[]} */ r) => r[k]),
        flags: fk > 0 ? j.data.map((/** @type {any[]} */ r) => r[fk]) : null,
      });
    }
    return { times, series };
  }
  throw new Error('unexpected /products/timeseries response (neither times/values nor parameters/data)');
}

/** Draw a normalised series set into a panel's chart. @param {import('../ui.js').Panel} p @param {ReturnType<typeof normaliseTimeseries>} ts @param {string} title */
export function drawTimeseries(p, ts, title) {
  const units = [...new Set(ts.series.map((s) => s.units))];
  const chart = chartOf(p);
  const flagged = ts.series.flatMap((s) => (s.flags ? ts.times.flatMap((t, i) => (s.flags?.[i] && s.values[i] !== null ? [[t, s.values[i]]] : [])) : []));
  chart.setOption(
    {
      ...baseOption(),
      title: { text: title, left: 'center', top: 4, textStyle: { fontSize: 13 } },
      legend: { bottom: 0 },
      xAxis: timeAxis(),
      yAxis: valueAxis(units.filter(Boolean).length ? `${ts.series.map((s) => s.name).join(', ')} (${units.join(', ')})` : ts.series.map((s) => s.name).join(', ')),
      dataZoom: [{ type: 'inside' }],
      series: [
        ...ts.series.map((s) => ({ name: s.name, type: 'line', showSymbol: false, connectNulls: false, lineStyle: { width: 1 }, data: ts.times.map((t, i) => [t, s.values[i]]) })),
        { name: 'flagged', type: 'scatter', symbolSize: 6, itemStyle: { color: '#d6332a' }, data: flagged },
      ],
    },
    { notMerge: true },
  );
  const gaps = ts.series.reduce((n, s) => n + s.values.filter((v) => v === null).length, 0);
  return `${ts.times.length} points per parameter; ${flagged.length} flagged (red); ${gaps} null value(s) drawn as gaps.`;
}

/** @param {HTMLElement} root */
export function productTimeseriesPanel(root) {
  const p = panel('timeseries', 'Product time series (/products/timeseries, server-downsampled)');
  root.append(p.el);
  let plot = /** @type {null | (() => Promise<void>)} */ (null);
  void runPanel(p, async () => {
    const cat = await getJson('/products/catalog');
    const list = (cat?.catalog ?? cat?.datasets ?? (Array.isArray(cat) ? cat : [])).map((/** @type {any} */ d) => (typeof d === 'string' ? { id: d } : d));
    if (list.length === 0) return { empty: 'The product catalogue is empty.' };
    const dsSel = select(list.map((/** @type {any} */ d) => ({ value: d.id, label: d.title ? `${d.id} — ${d.title}` : d.id })), list[0].id, 'dataset');
    const parSel = select([], undefined, 'parameter');
    const startIn = /** @type {HTMLInputElement} */ (h('input', { type: 'text', size: 19, spellcheck: 'false', placeholder: 'YYYY-MM-DDTHH:MM:SS', name: 'start' }));
    const stopIn = /** @type {HTMLInputElement} */ (h('input', { type: 'text', size: 19, spellcheck: 'false', placeholder: 'YYYY-MM-DDTHH:MM:SS', name: 'stop' }));
    const go = h('button', { type: 'button', text: 'Plot' });
    p.controls.append(field('Dataset', dsSel), field('Parameter', parSel), field('Start (UTC)', startIn), field('Stop (UTC)', stopIn), go);
    const loadInfo = async () => {
      const info = await getJson(url('/products/info', { dataset: dsSel.value }));
      const params = (info?.parameters ?? []).filter((/** @type {any} */ q) => q.type !== 'isotime' && !/^(time|ts)$/i.test(q.name));
      parSel.replaceChildren(...params.map((/** @type {any} */ q) => h('option', { value: q.name, text: q.units ? `${q.name} (${q.units})` : q.name })));
      const span = await dataSpan();
      const stop = parseUtc(info?.stopDate) || span?.endMs || Date.now();
      const start = Math.max(parseUtc(info?.startDate) || stop - 86_400_000, stop - 3 * 86_400_000);
      startIn.value = toInput(start);
      stopIn.value = toInput(stop);
    };
    plot = () =>
      runPanel(p, async () => {
        const j = await getJson(url('/products/timeseries', { dataset: dsSel.value, parameters: parSel.value, start: isoUtc(fromInput(startIn.value)) + 'Z', stop: isoUtc(fromInput(stopIn.value)) + 'Z', format: 'json', maxPoints: MAX_POINTS }));
        if (!j) return { empty: 'No data in this window (HTTP 204).' };
        return drawTimeseries(p, normaliseTimeseries(j), `${dsSel.value} ${parSel.value}`);
      });
    const doPlot = plot;
    dsSel.addEventListener('change', () => void loadInfo().then(doPlot, (e) => runPanel(p, () => Promise.reject(e))));
    go.addEventListener('click', () => void doPlot());
    await loadInfo();
    return '';
  }).then(() => plot?.());
  return p;
}

/** @param {HTMLElement} root */
export function render(root) {
  const grid = h('div', { class: 'grid' });
  root.append(grid);
  productTimeseriesPanel(grid);
  waveformPanel(grid);
}
