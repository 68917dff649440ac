/**
 * The dashboard in a real browser: generate a small demo archive (1 h around the 2020-09-12
 * mainshock, all stations) → `geonode start` (index, StationXML, events, serve on port 0) →
 * Debian's Chromium, headless, driven by playwright-core. Each view is opened; charts are checked
 * for plotted data through ECharts' own instance API (points, markers, bars — not just a canvas);
 * an event is clicked on the map; screenshots go to docs/screenshots/ (README uses them).
 *
 * The /products/* routes are checked twice: as served (404 "not available yet" → a message in the
 * panel; data once they exist), and with plan-shaped answers injected by the browser (page.route),
 * so the product views are known to draw the planned API.
 *
 * Skipped, with a message, when `which chromium` finds nothing (.ci/run installs it).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { main, type CliIo } from '../../src/cli';
import { generateDemoArchive } from '../../src/demo/generate';
import { parseIsoToNs } from '../../src/formats/time';

const chromiumPath = spawnSync('which', ['chromium'], { encoding: 'utf8' }).stdout.trim();
if (!chromiumPath) {
  // eslint-disable-next-line no-console
  console.warn('dashboard e2e test skipped: no `chromium` on PATH (apt-get install chromium; .ci/run does)');
}
const d = chromiumPath ? describe : describe.skip;

const SHOTS = path.join(__dirname, '..', '..', 'docs', 'screenshots');
const WINDOW = ['2020-09-12T02:30:00', '2020-09-12T03:30:00'];
const MAINSHOCK = 'demo20200912a';

class Sink {
  text = '';
  isTTY = false;
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

/** ECharts option of the chart inside a panel (series data only, serialisable). */
async function seriesOf(page: Page, panelId: string): Promise<{ id?: string; name?: string; type: string; n: number; data: unknown[] }[]> {
  return page.evaluate((id) => {
    const el = (globalThis as any).document.querySelector(`[data-panel="${id}"] [data-chart]`);
    const chart = el && (globalThis as any).echarts.getInstanceByDom(el);
    if (!chart) return [];
    return (chart.getOption().series as any[]).map((s) => ({
      id: s.id,
      name: s.name,
      type: s.type,
      n: (s.data ?? []).length,
      data: (s.data ?? []).slice(0, 50).map((x: any) => (x && typeof x === 'object' && 'value' in x ? { name: x.name, value: x.value } : x)),
    }));
  }, panelId);
}

/** Wait until every panel of the view has left the loading state; returns id → state/message. */
async function settled(page: Page, timeout = 20_000): Promise<Record<string, { state: string; status: string }>> {
  await page.waitForFunction(
    () => {
      const ps = [...(globalThis as any).document.querySelectorAll('[data-panel]')];
      return ps.length > 0 && ps.every((p) => p.dataset.state !== 'loading');
    },
    null,
    { timeout },
  );
  return page.evaluate(() =>
    Object.fromEntries(
      [...(globalThis as any).document.querySelectorAll('[data-panel]')].map((p: any) => [p.dataset.panel, { state: p.dataset.state ?? '', status: p.querySelector('.status')?.textContent ?? '' }]),
    ),
  );
}

d('dashboard in Chromium (playwright-core)', () => {
  let tmp: string;
  let base = '';
  let done: Promise<number>;
  const ac = new AbortController();
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-dash-'));
    const archive = path.join(tmp, 'archive');
    await generateDemoArchive(archive, { days: 1, workers: 1, window: { startNs: parseIsoToNs(WINDOW[0])!, endNs: parseIsoToNs(WINDOW[1])! } });
    const out = new Sink();
    const err = new Sink();
    const io: CliIo = { stdout: out, stderr: err, env: {}, cwd: tmp, handleSignals: false, signal: ac.signal };
    const listening = new Promise<void>((resolve) => {
      io.onListening = (_url, port) => {
        base = `http://127.0.0.1:${port}`;
        resolve();
      };
    });
    done = main(['start', '--archive', archive, '--db', path.join(tmp, 'index.sqlite'), '--port', '0', '--host', '127.0.0.1', '--workers', '1'], io);
    await Promise.race([listening, done.then((code) => Promise.reject(new Error(`start exited ${code}: ${err.text}`)))]);

    fs.mkdirSync(SHOTS, { recursive: true });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    ac.abort();
    await done;
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('static files: index at /, vendored ECharts and map, app JS; API routes still win', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(await res.text()).toContain('vendor/echarts.min.js');
    const ech = await fetch(`${base}/vendor/echarts.min.js`);
    expect(ech.status).toBe(200);
    expect(ech.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const world = await fetch(`${base}/vendor/countries-50m.json`);
    expect(((await world.json()) as { type: string }).type).toBe('Topology');
    expect((await fetch(`${base}/js/mseed.js`)).headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${base}/vendor/nope.js`)).status).toBe(404);
    expect((await fetch(`${base}/fdsnws/station/1/version`)).status).toBe(200);
  });

  test('map: loads fast, every station and event plotted; clicking an event shows its association', async () => {
    const t0 = Date.now();
    await page.goto(`${base}/#/map`);
    const st = await settled(page);
    const loadMs = Date.now() - t0;
    expect(st.map.state).toBe('ok');
    // Issue target: under 2 s on the demo data (measured ~0.6 s here); slack for a loaded CI machine.
    expect(loadMs).toBeLessThan(5000);
    const series = await seriesOf(page, 'map');
    const stations = series.filter((s) => String(s.id).startsWith('stations-'));
    expect(stations.reduce((n, s) => n + s.n, 0)).toBe(6); // the six demo seismic stations
    const events = series.find((s) => s.id === 'events')!;
    expect(events.n).toBe(6);
    expect(series.find((s) => s.id === 'association')!.n).toBe(0);

    // A real mouse click on the mainshock's circle.
    const xy = await page.evaluate((id) => {
      const el = (globalThis as any).document.querySelector('[data-panel="map"] [data-chart]')!;
      const chart = (globalThis as any).echarts.getInstanceByDom(el);
      const ev = (chart.getOption().series as any[]).find((s) => s.id === 'events').data.find((x: any) => x.name === id);
      const [px, py] = chart.convertToPixel({ geoIndex: 0 }, ev.value.slice(0, 2));
      const r = el.getBoundingClientRect();
      return [r.left + px, r.top + py];
    }, MAINSHOCK);
    await page.mouse.click(xy[0], xy[1]);
    await page.waitForSelector(`.assoc[data-event="${MAINSHOCK}"] table.linked tbody tr`);
    const after = await seriesOf(page, 'map');
    expect(after.find((s) => s.id === 'association')!.n).toBe(1); // the Dobrovolsky circle
    expect(after.find((s) => s.id === 'links')!.n).toBe(6); // R(6.2) ≈ 463 km reaches all six
    expect(await page.locator('.assoc table.linked tbody tr').count()).toBe(6);
    expect(await page.locator('.assoc').textContent()).toMatch(/Dobrovolsky radius R = .* 463 km/);
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-map.png') });
  });

  test('time series view: the waveform is decoded from dataselect and plotted within budget; products panel reports its state', async () => {
    await page.goto(`${base}/#/timeseries`);
    const st = await settled(page);
    expect(st.waveform.state).toBe('ok');
    // 3 min at 20 Hz around the mainshock.
    expect(st.waveform.status).toMatch(/^3600 samples in \d+ records, 1 segment/);
    const [wf] = await seriesOf(page, 'waveform');
    expect(wf.n).toBeGreaterThan(1000);
    expect(wf.n).toBeLessThanOrEqual(4000);
    // Sensitivity-corrected velocities (m/s), not zeros: the S wave of an M6.2 at ~160 km.
    const peak = await page.evaluate(() => {
      const chart = (globalThis as any).echarts.getInstanceByDom((globalThis as any).document.querySelector('[data-panel="waveform"] [data-chart]'));
      return Math.max(...chart.getOption().series[0].data.map((p: [number, number | null]) => Math.abs(p[1] ?? 0)));
    });
    expect(peak).toBeGreaterThan(1e-6);
    expect(peak).toBeLessThan(1);
    expect(['na', 'ok', 'empty']).toContain(st.timeseries.state);
    if (st.timeseries.state === 'na') expect(st.timeseries.status).toMatch(/Not available yet.*\/products\/catalog.*404/);
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-timeseries.png'), fullPage: true });
  });

  test('the browser decoder returns exactly the samples the server stored (Steim-2)', async () => {
    const { demoSamples } = await import('../../src/demo/scenario');
    // A string, so TypeScript does not rewrite the dynamic import() for CommonJS.
    const got: { startMs: number; encoding: number; samples: number[] }[] = await page.evaluate(`(async () => {
      const m = await import('/js/mseed.js');
      const buf = await (await fetch('/fdsnws/dataselect/1/query?net=JP&sta=JSD&loc=--&cha=BHE&start=2020-09-12T02:44:00&end=2020-09-12T02:45:00')).arrayBuffer();
      return m.parseMiniseed(buf).map((r) => ({ startMs: r.startMs, encoding: r.encoding, samples: Array.from(r.samples) }));
    })()`);
    expect(got.length).toBeGreaterThan(2);
    for (const r of got) {
      expect(r.encoding).toBe(11);
      const want = demoSamples('JP', 'JSD', '', 'BHE', BigInt(Math.round(r.startMs * 1000)) * 1000n, r.samples.length);
      expect(r.samples).toEqual(Array.from(want));
    }
  });

  test('availability: one bar per data span, gaps listed', async () => {
    await page.goto(`${base}/#/availability`);
    const st = await settled(page);
    expect(st.availability.state).toBe('ok');
    const [spans] = await seriesOf(page, 'availability');
    const m = /^(\d+) channels, (\d+) spans, (\d+) gaps/.exec(st.availability.status)!;
    expect(Number(m[1])).toBe(21);
    expect(spans.n).toBe(Number(m[2]));
    expect(spans.n).toBe(21 + Number(m[3]));
    expect(Number(m[3])).toBeGreaterThanOrEqual(1); // the demo scenario's gaps inside the window
    expect(await page.locator('table.gaps tbody tr').count()).toBe(Number(m[3]));
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-availability.png') });
  });

  test('event page: association, waveform at the nearest station, package link; products panels say what is missing', async () => {
    await page.goto(`${base}/#/event/${MAINSHOCK}`);
    await settled(page);
    await page.waitForSelector('[data-panel="waveform"]');
    const st = await settled(page);
    expect(st.event.state).toBe('ok');
    expect(st.map.state).toBe('ok');
    expect(st.waveform.state).toBe('ok');
    expect((await seriesOf(page, 'map')).find((s) => s.id === 'links')!.n).toBe(6);
    expect((await seriesOf(page, 'waveform'))[0].n).toBeGreaterThan(1000);
    expect(await page.locator('[data-panel="waveform"] select[name="channel"]').inputValue()).toBe('JP.JMM..BHZ'); // nearest (161 km)
    expect(await page.locator('a[data-link="package"]').getAttribute('href')).toBe(`/products/events/${MAINSHOCK}/package`);
    const dataLink = await page.locator('a[data-link="dataselect"]').getAttribute('href');
    expect((await fetch(`${base}${dataLink}`)).status).toBe(200);
    for (const id of ['anomalies', 'heatmap']) expect(['na', 'ok', 'empty']).toContain(st[id].state);
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-event.png'), fullPage: true });
  });

  test('product views draw plan-shaped /products answers (injected in the browser)', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const p = await ctx.newPage();
    const t0 = Date.parse('2020-09-10T00:00:00Z');
    const DAY = 86_400_000;
    const json = (body: unknown) => ({ status: 200, contentType: 'application/json', body: JSON.stringify(body) });
    await p.route('**/products/**', (route) => {
      const u = new URL(route.request().url());
      const path_ = u.pathname;
      if (path_ === '/products/stations')
        return route.fulfill(json({ type: 'FeatureCollection', features: [
          { type: 'Feature', geometry: { type: 'Point', coordinates: [140.18, 36.23] }, properties: { station: 'KAK', source: 'geomag', score: 4.2, disturbed: true } },
          { type: 'Feature', geometry: { type: 'Point', coordinates: [140.18, 36.232] }, properties: { station: 'KAK', source: 'aef', score: 1.1 } },
          { type: 'Feature', geometry: { type: 'Point', coordinates: [142.27, 44.37] }, properties: { station: 'MOS', source: 'vlf', score: null } },
        ] }));
      if (path_ === '/products/catalog') return route.fulfill(json({ catalog: [{ id: 'std/geomag/KAK/PT1M', title: 'Kakioka 1-min' }] }));
      if (path_ === '/products/info') return route.fulfill(json({ startDate: '2020-09-10T00:00:00Z', stopDate: '2020-09-11T00:00:00Z', parameters: [{ name: 'time', type: 'isotime' }, { name: 'H', units: 'nT', type: 'double' }] }));
      if (path_ === '/products/timeseries') {
        const n = Number(u.searchParams.get('maxPoints'));
        const times = Array.from({ length: 1440 }, (_, i) => new Date(t0 + i * 60_000).toISOString());
        const values = times.map((_, i) => (i >= 600 && i < 620 ? null : 30000 + 20 * Math.sin(i / 100)));
        return route.fulfill(json({ times: times.slice(0, n), values: [{ id: 'H', metadata: { units: 'nT' }, values: values.slice(0, n), flags: values.map((_, i) => (i % 300 === 7 ? 16 : 0)).slice(0, n) }] }));
      }
      if (path_ === '/products/anomalies')
        return route.fulfill(json({ stormDays: ['2020-09-11'], anomalies: Array.from({ length: 40 }, (_, i) => ({ time: new Date(t0 + i * 3 * 3600_000).toISOString(), score: (i % 7) * 0.8, source: ['geomag', 'aef', 'vlf', 'seismic'][i % 4], station: 'KAK', distanceKm: 50 + i * 10 })) }));
      if (path_ === '/products/heatmap')
        return route.fulfill(json({ feature: 'score', units: 'z', stations: ['KAK', 'KNY', 'MMB', 'MOS'], days: ['2020-09-10', '2020-09-11', '2020-09-12', '2020-09-13'], values: [[0.1, 2, 3.5, null], [1, 1, 1, 1], [0, 0.5, 4, 2], [null, 1, 2, 3]] }));
      if (path_ === '/products/spectrogram') {
        const tBins = Number(u.searchParams.get('tBins'));
        const fBins = Number(u.searchParams.get('fBins'));
        return route.fulfill(json({
          times: Array.from({ length: tBins }, (_, i) => new Date(t0 + i * 600_000).toISOString()),
          bins: { name: 'frequency', units: 'Hz', centers: Array.from({ length: fBins }, (_, f) => 100 + f * 400) },
          units: 'dB',
          values: Array.from({ length: tBins }, (_, t) => Array.from({ length: fBins }, (_, f) => -120 + 30 * Math.exp(-((f - 20) ** 2) / 20) + (t % 10))),
        }));
      }
      return route.fulfill({ status: 404, contentType: 'application/json', body: JSON.stringify({ status: { code: 1404, message: 'unknown' } }) });
    });
    try {
      await p.goto(`${base}/#/map`);
      let st = await settled(p);
      expect(st.map.state).toBe('ok');
      const map = await seriesOf(p, 'map');
      expect(map.filter((s) => String(s.id).startsWith('stations-')).map((s) => `${s.id}:${s.n}`).sort()).toEqual(['stations-aef:1', 'stations-geomag:1', 'stations-seismic:6', 'stations-vlf:1']);
      expect(map.find((s) => s.id === 'stations-geomag')!.data[0]).toMatchObject({ name: 'KAK', value: [140.18, 36.23, 4.2] });

      await p.goto(`${base}/#/timeseries`);
      await p.waitForFunction(() => (globalThis as any).document.querySelector('[data-panel="timeseries"]')?.dataset.state === 'ok' && !!(globalThis as any).echarts.getInstanceByDom((globalThis as any).document.querySelector('[data-panel="timeseries"] [data-chart]')));
      const ts = await seriesOf(p, 'timeseries');
      expect(ts[0].n).toBe(1440); // maxPoints=2000 asked; the mock returned all 1440
      expect((ts[0].data as [number, number | null][]).length).toBeGreaterThan(0);
      expect(ts.find((s) => s.name === 'flagged')!.n).toBe(4); // 5 flags, one on a null (gap) sample

      await p.goto(`${base}/#/anomalies`);
      st = await settled(p);
      expect(st.anomalies.state).toBe('ok');
      const an = await seriesOf(p, 'anomalies');
      expect(an.map((s) => s.name).sort()).toEqual(['aef', 'geomag', 'seismic', 'vlf']);
      expect(an.reduce((n, s) => n + s.n, 0)).toBe(40);
      expect(st.anomalies.status).toContain('1 storm day(s)');
      await p.screenshot({ path: path.join(SHOTS, 'dashboard-anomalies-mock.png') });

      await p.goto(`${base}/#/heatmap`);
      st = await settled(p);
      expect(st.heatmap.state).toBe('ok');
      expect((await seriesOf(p, 'heatmap'))[0].n).toBe(14); // 16 cells, 2 null

      await p.goto(`${base}/#/spectrogram`);
      st = await settled(p);
      expect(st.spectrogram.state).toBe('ok');
      const sg = await seriesOf(p, 'spectrogram');
      expect(sg[0].n).toBe(120 * 48); // a few thousand cells at most
      await p.screenshot({ path: path.join(SHOTS, 'dashboard-spectrogram-mock.png') });
    } finally {
      await ctx.close();
    }
  });

  test('API errors are shown in the panel, not swallowed', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const p = await ctx.newPage();
    await p.route('**/fdsnws/event/1/query**', (route) => route.fulfill({ status: 500, contentType: 'text/plain', body: 'Error 500: Internal Server Error\n\nevent store unavailable\n' }));
    try {
      await p.goto(`${base}/#/map`);
      const st = await settled(p);
      expect(st.events.state).toBe('error');
      expect(st.events.status).toMatch(/HTTP 500.*event store unavailable/);
      expect(st.map.state).toBe('error');
      expect(await p.locator('[data-panel="events"] .status.error').isVisible()).toBe(true);
    } finally {
      await ctx.close();
    }
  });

  test('narrow (mobile) width: views fit without horizontal scrolling', async () => {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
    const p = await ctx.newPage();
    try {
      for (const view of ['map', 'timeseries', 'availability']) {
        await p.goto(`${base}/#/${view}`);
        const st = await settled(p);
        expect(Object.values(st).some((s) => s.state === 'ok')).toBe(true);
        const overflow = await p.evaluate(() => (globalThis as any).document.documentElement.scrollWidth - (globalThis as any).innerWidth);
        expect(overflow).toBeLessThanOrEqual(1);
        if (view === 'map') {
          expect((await seriesOf(p, 'map')).find((s) => s.id === 'events')!.n).toBe(6);
          await p.screenshot({ path: path.join(SHOTS, 'dashboard-mobile.png') });
        }
      }
    } finally {
      await ctx.close();
    }
  });

  test('no uncaught errors in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
