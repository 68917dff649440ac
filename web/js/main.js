// @ts-check
/**
 * The dashboard's router: one view per hash route, charts of the previous view disposed.
 *   #/map  #/timeseries  #/anomalies  #/heatmap  #/spectrogram  #/availability  #/event/ID
 */
import { stats } from './api.js';
import { disposeCharts, echarts, h } from './ui.js';
import * as mapView from './views/map.js';
import * as tsView from './views/timeseries.js';
import * as products from './views/products.js';
import * as availability from './views/availability.js';
import * as eventView from './views/event.js';

const VIEWS = [
  { route: 'map', title: 'Map', render: mapView.render },
  { route: 'timeseries', title: 'Time series', render: tsView.render },
  { route: 'anomalies', title: 'Anomalies', render: products.renderAnomalies },
  { route: 'heatmap', title: 'Heatmap', render: products.renderHeatmap },
  { route: 'spectrogram', title: 'Spectrogram', render: products.renderSpectrogram },
  { route: 'availability', title: 'Availability', render: availability.render },
];

const nav = /** @type {HTMLElement} */ (document.getElementById('nav'));
const main = /** @type {HTMLElement} */ (document.getElementById('view'));
nav.append(...VIEWS.map((v) => h('a', { href: `#/${v.route}`, 'data-route': v.route, text: v.title })));

function route() {
  const hash = location.hash.replace(/^#\/?/, '') || 'map';
  const [name, ...rest] = hash.split('/');
  disposeCharts();
  main.replaceChildren();
  main.dataset.view = name;
  for (const a of nav.querySelectorAll('a')) a.classList.toggle('active', a.getAttribute('data-route') === name);
  try {
    if (name === 'event' && rest.length) {
      eventView.render(main, decodeURIComponent(rest.join('/')));
      return;
    }
    const v = VIEWS.find((x) => x.route === name);
    if (!v) {
      main.append(h('p', { class: 'status error', text: `Unknown view "${name}".` }));
      return;
    }
    document.title = `${v.title} — geonode`;
    v.render(main);
  } catch (e) {
    main.append(h('p', { class: 'status error', text: `Error: ${e instanceof Error ? e.message : e}` }));
    console.error(e);
  }
}

if (!echarts) {
  main.append(h('p', { class: 'status error', text: 'Error: the charting library (/vendor/echarts.min.js) did not load.' }));
} else {
  window.addEventListener('hashchange', route);
  route();
}
/** For tests and the console. */
Object.assign(window, { geonode: { stats } });
