// @ts-check
/**
 * Event page: the event (fdsnws-event), its association on the map, the waveform at the nearest
 * station with data around the origin time, anomaly scores against distance, the heatmap of the
 * days around it, and links to its data package (/products/events/{id}/package) and to the
 * waveforms as plain fdsnws-dataselect.
 */
import { isoUtc, url } from '../api.js';
import { events, extents } from '../context.js';
import { distanceKm } from '../geo.js';
import { fmtUtc, h, panel, runPanel } from '../ui.js';
import { drawMap } from './map.js';
import { anomalyPanel, heatmapPanel } from './products.js';
import { waveformPanel } from './waveform.js';

const DAY = 86_400_000;

/** @param {HTMLElement} root @param {string} id */
export function render(root, id) {
  const head = panel('event', `Event ${id}`, { chart: false });
  const mapP = panel('map', 'Association (Dobrovolsky circle and linked stations)', { tall: true });
  const grid = h('div', { class: 'grid' });
  root.append(head.el, h('div', { class: 'grid map-grid' }, [mapP.el, h('div', { class: 'assoc-box' })]), grid);
  const assocBox = /** @type {HTMLElement} */ (root.querySelector('.assoc-box'));
  void runPanel(head, async () => {
    const ev = (await events()).find((e) => e.id === id);
    if (!ev) throw new Error(`event ${id} not found in fdsnws-event`);
    // The association's daily window: 30 days before the origin to the day after it.
    const win = { start: Math.floor(ev.timeMs / DAY) * DAY - 30 * DAY, end: Math.floor(ev.timeMs / DAY) * DAY + 2 * DAY };
    const ex = await extents().catch(() => []);
    // Nearest station with a vertical channel covering the origin time.
    const cover = ex.filter((e) => e.earliestMs <= ev.timeMs && e.latestMs >= ev.timeMs && /Z$/.test(e.channel));
    const dataUrl = url('/fdsnws/dataselect/1/query', { start: isoUtc(ev.timeMs - 60_000), end: isoUtc(ev.timeMs + 240_000), net: '*', sta: '*', cha: '*' });
    head.body.append(
      h('dl', { class: 'facts' }, [
        h('dt', { text: 'Origin time' }), h('dd', { text: fmtUtc(ev.timeMs) }),
        h('dt', { text: 'Magnitude' }), h('dd', { text: `${ev.magnitude} ${ev.magType}` }),
        h('dt', { text: 'Location' }), h('dd', { text: `${ev.latitude}°N ${ev.longitude}°E, depth ${ev.depthKm} km` }),
        h('dt', { text: 'Region' }), h('dd', { text: ev.region }),
      ]),
      h('p', { class: 'downloads' }, [
        h('a', { href: `/products/events/${encodeURIComponent(ev.id)}/package`, download: `${ev.id}.zip`, 'data-link': 'package', text: 'Download the data package' }),
        ' · ',
        h('a', { href: dataUrl, 'data-link': 'dataselect', text: 'Waveforms −1 min … +4 min (miniSEED, fdsnws-dataselect)' }),
        ' · ',
        h('a', { href: url('/fdsnws/event/1/query', { eventid: ev.id }), text: 'QuakeML' }),
        ' · ',
        h('a', { href: '#/map', text: '← map' }),
      ]),
    );
    void runPanel(mapP, async () => {
      const m = await drawMap(mapP, { focus: ev.id, info: assocBox });
      if (cover.length) {
        const coords = new Map(m.stations.map((s) => [`${s.network}.${s.station}`, s]));
        cover.sort((a, b) => {
          const sa = coords.get(`${a.network}.${a.station}`);
          const sb = coords.get(`${b.network}.${b.station}`);
          const da = sa ? distanceKm(ev.latitude, ev.longitude, sa.latitude, sa.longitude) : 1e9;
          const db = sb ? distanceKm(ev.latitude, ev.longitude, sb.latitude, sb.longitude) : 1e9;
          return da - db;
        });
      }
      return m.message;
    }).then(() => {
      waveformPanel(grid, { id: cover[0]?.id, startMs: ev.timeMs - 30_000, durationS: 180, title: 'Waveform at the nearest station with data' });
      anomalyPanel(grid, { event: ev, window: win });
      heatmapPanel(grid, { window: win });
    });
    document.title = `${ev.id} — geonode`;
    return `M${ev.magnitude} ${ev.region}, ${fmtUtc(ev.timeMs)}`;
  });
}
