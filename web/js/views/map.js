// @ts-check
/**
 * Station map: stations of every source at their coordinates, coloured by the latest anomaly
 * score (/products/stations; seismic stations from fdsnws-station when products are not served),
 * events from fdsnws-event as circles sized by magnitude. Clicking an event shows its
 * association: the Dobrovolsky circle and the stations inside it (from
 * /products/events/{id}/association, else computed here from the same public coordinates).
 */
import { ApiError, fetchProductStations, getJson } from '../api.js';
import { events, seismicStations } from '../context.js';
import { circle, distanceKm, dobrovolskyKm } from '../geo.js';
import { baseOption, chartOf, fmtUtc, h, loadWorld, panel, runPanel, scoreColor, setState } from '../ui.js';

const SOURCE_SYMBOL = /** @type {Record<string, string>} */ ({ seismic: 'triangle', geomag: 'diamond', aef: 'rect', vlf: 'pin' });

/** Symbol size (px) for a magnitude. @param {number} m */
export const magSize = (m) => Math.max(6, 2.2 * Math.max(m, 1) ** 1.4);

/** All stations: products' list (every source, with scores) merged with fdsnws-station. */
export async function allStations() {
  const [seis, prod] = await Promise.all([
    seismicStations(),
    fetchProductStations().then(
      (s) => ({ stations: s, note: '' }),
      (e) => ({ stations: [], note: e instanceof ApiError && e.notAvailable ? 'anomaly scores: /products/stations not available yet (grey = no score)' : `anomaly scores: ${e.message}` }),
    ),
  ]);
  const seen = new Set(prod.stations.map((s) => `${s.source}:${s.network}.${s.station}`));
  const merged = [...prod.stations, ...seis.filter((s) => !seen.has(`seismic:${s.network}.${s.station}`))];
  return { stations: merged, note: prod.note };
}

/**
 * Association of an event: /products/events/{id}/association, or computed in the browser.
 * @param {import('../api.js').QuakeEvent} ev @param {import('../api.js').Station[]} stations
 */
export async function association(ev, stations) {
  try {
    const a = await getJson(`/products/events/${encodeURIComponent(ev.id)}/association`);
    const radiusKm = Number(a?.radiusKm ?? a?.radius_km ?? a?.dobrovolskyKm ?? dobrovolskyKm(ev.magnitude));
    const linked = (a?.stations ?? []).map((/** @type {any} */ s) => {
      const network = s.network ?? '';
      const code = String(s.station ?? s.code ?? s.id);
      return {
        // Seismic tile stations are NET.STA already.
        station: network && code.startsWith(`${network}.`) ? code.slice(network.length + 1) : code,
        network,
        source: s.source ?? 'unknown',
        latitude: Number(s.latitude ?? s.lat),
        longitude: Number(s.longitude ?? s.lon),
        distanceKm: Number(s.distanceKm ?? s.distance_km ?? s.distance),
        score: s.maxScore ?? s.score ?? null,
        flaggedCount: s.flaggedCount ?? null,
        leadTimeHours: s.leadTimeHours ?? null,
      };
    });
    return { radiusKm, radiusRule: a?.radiusRule ?? '', windows: a?.windows ?? null, linked, from: 'products', raw: a };
  } catch (e) {
    if (!(e instanceof ApiError && e.notAvailable)) throw e;
  }
  const radiusKm = dobrovolskyKm(ev.magnitude);
  const linked = stations
    .map((s) => ({ ...s, distanceKm: distanceKm(ev.latitude, ev.longitude, s.latitude, s.longitude) }))
    .filter((s) => s.distanceKm <= radiusKm)
    .sort((a, b) => a.distanceKm - b.distanceKm);
  return { radiusKm, radiusRule: '', windows: null, linked, from: 'browser', raw: null };
}

/**
 * Draw the map into a panel. `focus` = an event to select at once (event page).
 * @param {import('../ui.js').Panel} p @param {{ focus?: string, onSelect?: (ev: any) => void, info?: HTMLElement }} [opts]
 */
export async function drawMap(p, opts = {}) {
  const [{ stations, note }, evs] = await Promise.all([allStations(), events(), loadWorld()]);
  const chart = chartOf(p);
  const pts = [...stations.map((s) => [s.longitude, s.latitude]), ...evs.map((e) => [e.longitude, e.latitude])];
  const lons = pts.map((q) => q[0]);
  const lats = pts.map((q) => q[1]);
  const pad = 2;
  const box = pts.length
    ? [[Math.min(...lons) - pad, Math.max(...lats) + pad], [Math.max(...lons) + pad, Math.min(...lats) - pad]]
    : [[-180, 85], [180, -85]];
  const sources = [...new Set(stations.map((s) => s.source))];
  const base = baseOption();
  chart.setOption(
    {
      ...base,
      tooltip: { trigger: 'item', confine: true },
      toolbox: { right: 8, feature: { restore: {}, saveAsImage: { name: 'geonode-map' } } },
      legend: { left: 8, top: 4, data: [...sources.map((s) => `${s} stations`), 'events', 'association'] },
      geo: {
        map: 'world',
        roam: true,
        boundingCoords: box,
        itemStyle: { areaColor: '#eef1f4', borderColor: '#9aa5b1', borderWidth: 0.6 },
        emphasis: { disabled: true },
        select: { disabled: true },
        label: { show: false },
      },
      series: [
        ...sources.map((src) => ({
          id: `stations-${src}`,
          name: `${src} stations`,
          type: 'scatter',
          coordinateSystem: 'geo',
          symbol: SOURCE_SYMBOL[src] ?? 'circle',
          symbolSize: 13,
          z: 4,
          label: { show: true, position: 'right', formatter: '{b}', fontSize: 11, color: '#1f2933' },
          data: stations
            .filter((s) => s.source === src)
            .map((s) => ({
              name: s.station,
              value: [s.longitude, s.latitude, s.score],
              itemStyle: { color: scoreColor(s.score), borderColor: '#1f2933', borderWidth: 0.8 },
              station: s,
            })),
          tooltip: {
            formatter: (/** @type {any} */ q) =>
              `${q.data.station.network ? q.data.station.network + '.' : ''}${q.name} (${src})<br>${q.data.station.siteName ?? ''}<br>` +
              `${q.value[1].toFixed(3)}°N ${q.value[0].toFixed(3)}°E<br>latest daily score: ${q.value[2] === null || q.value[2] === undefined ? 'n/a' : `${Number(q.value[2]).toFixed(2)}${q.data.station.scoreTime ? ` (${String(q.data.station.scoreTime).slice(0, 10)})` : ''}`}` +
              `${q.data.station.disturbed ? '<br>geomagnetically disturbed day' : ''}`,
          },
        })),
        {
          id: 'events',
          name: 'events',
          type: 'scatter',
          coordinateSystem: 'geo',
          z: 3,
          // Largest first, so smaller events are drawn on top and stay clickable.
          data: [...evs].sort((a, b) => b.magnitude - a.magnitude).map((e) => ({ name: e.id, value: [e.longitude, e.latitude, e.magnitude], symbolSize: magSize(e.magnitude), event: e })),
          itemStyle: { color: 'rgba(37, 99, 235, 0.35)', borderColor: '#1d4ed8', borderWidth: 1.2 },
          emphasis: { scale: 1.2 },
          tooltip: { formatter: (/** @type {any} */ q) => `${q.data.event.id}<br>${fmtUtc(q.data.event.timeMs)}<br>${q.data.event.magType} ${q.data.event.magnitude}, ${q.data.event.depthKm} km<br>${q.data.event.region}<br><i>click: association</i>` },
        },
        { id: 'association', name: 'association', type: 'lines', coordinateSystem: 'geo', polyline: true, z: 2, data: [], lineStyle: { color: '#d6332a', width: 1.5, type: 'dashed' }, silent: true },
        { id: 'links', name: 'association', type: 'lines', coordinateSystem: 'geo', z: 2, data: [], lineStyle: { color: '#d6332a', width: 1, opacity: 0.7 }, silent: true },
      ],
    },
    { notMerge: true },
  );

  const info = opts.info ?? h('div', { class: 'assoc' });
  if (!opts.info) p.body.append(info);

  /** @param {import('../api.js').QuakeEvent} ev */
  const select = async (ev) => {
    info.dataset.event = ev.id;
    info.replaceChildren(h('p', { text: `Loading association of ${ev.id}…` }));
    try {
      const a = await association(ev, stations);
      chart.setOption({
        series: [
          { id: 'association', data: [{ name: `Dobrovolsky R = ${a.radiusKm.toFixed(0)} km`, coords: circle(ev.latitude, ev.longitude, a.radiusKm) }] },
          { id: 'links', data: a.linked.map((/** @type {any} */ s) => ({ coords: [[ev.longitude, ev.latitude], [s.longitude, s.latitude]] })) },
        ],
      });
      info.replaceChildren(
        h('h3', {}, [h('a', { href: `#/event/${encodeURIComponent(ev.id)}`, text: ev.id }), ` — M${ev.magnitude} ${ev.magType}, ${fmtUtc(ev.timeMs)}`]),
        h('p', {
          text:
            `Dobrovolsky radius R = 10^(0.43·M) = ${a.radiusKm.toFixed(0)} km; ${a.linked.length} linked station(s)` +
            (a.from === 'browser'
              ? ' (computed in the browser: /products/events/{id}/association not available yet).'
              : ` (server association${a.windows ? `: scores ${a.windows.beforeDailyDays ?? '?'} d (daily) / ${a.windows.beforeSubDailyHours ?? '?'} h (sub-daily) before, ${a.windows.afterHours ?? '?'} h after` : ''}).`),
        }),
        h('table', { class: 'linked' }, [
          h('thead', {}, [h('tr', {}, [h('th', { text: 'Station' }), h('th', { text: 'Source' }), h('th', { text: 'Distance (km)' }), h('th', { text: 'Max score' }), h('th', { text: 'Flagged' }), h('th', { text: 'Lead (h)' })])]),
          h('tbody', {}, a.linked.map((/** @type {any} */ s) =>
            h('tr', { 'data-source': s.source }, [
              h('td', { text: `${s.network ? s.network + '.' : ''}${s.station}` }),
              h('td', { text: s.source }),
              h('td', { text: Number.isFinite(s.distanceKm) ? s.distanceKm.toFixed(0) : '—' }),
              h('td', { text: s.score === null || s.score === undefined ? '—' : Number(s.score).toFixed(2) }),
              h('td', { text: s.flaggedCount ?? '—' }),
              h('td', { text: s.leadTimeHours === null || s.leadTimeHours === undefined ? '—' : Number(s.leadTimeHours).toFixed(1) }),
            ]),
          )),
        ]),
      );
      opts.onSelect?.(ev);
    } catch (e) {
      info.replaceChildren(h('p', { class: 'status error', text: `Error loading the association of ${ev.id}: ${e instanceof Error ? e.message : e}` }));
    }
  };
  chart.off('click');
  chart.on('click', (/** @type {any} */ q) => {
    if (q.seriesId === 'events' && q.data?.event) void select(q.data.event);
  });
  const focus = opts.focus ? evs.find((e) => e.id === opts.focus) : null;
  if (focus) await select(focus);
  else info.replaceChildren(h('p', { class: 'hint', text: 'Click an event (blue circle) to show its Dobrovolsky circle and linked stations.' }));
  return {
    stations,
    events: evs,
    select,
    message: `${stations.length} stations (${sources.join(', ')}), ${evs.length} events. Colour: latest daily anomaly score (green 0 → red ≥ 5, grey = none).${note ? ' ' + note + '.' : ''}`,
  };
}

/** @param {HTMLElement} root */
export function render(root) {
  const p = panel('map', 'Station map', { tall: true });
  const list = panel('events', 'Events (fdsnws-event)', { chart: false });
  root.append(h('div', { class: 'grid map-grid' }, [p.el, list.el]));
  let api = /** @type {any} */ (null);
  void runPanel(p, async () => {
    api = await drawMap(p);
    return api.message;
  });
  void runPanel(list, async () => {
    const evs = await events();
    if (evs.length === 0) return { empty: 'No events in the catalogue.' };
    list.body.append(
      h('table', { class: 'events' }, [
        h('thead', {}, [h('tr', {}, [h('th', { text: 'Time (UTC)' }), h('th', { text: 'M' }), h('th', { text: 'Depth (km)' }), h('th', { text: 'Region' }), h('th', { text: '' })])]),
        h('tbody', {}, evs.map((e) =>
          h('tr', { 'data-event': e.id }, [
            h('td', { text: fmtUtc(e.timeMs).replace(' UTC', '') }),
            h('td', { text: `${e.magnitude} ${e.magType}` }),
            h('td', { text: String(e.depthKm) }),
            h('td', { text: e.region }),
            h('td', {}, [
              h('button', { type: 'button', text: 'show', onclick: () => api?.select(e) }),
              ' ',
              h('a', { href: `#/event/${encodeURIComponent(e.id)}`, text: 'page' }),
            ]),
          ]),
        )),
      ]),
    );
    return `${evs.length} events`;
  });

}
