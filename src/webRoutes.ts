/**
 * The dashboard: static files of `web/` at `/`, plus the two vendored assets it needs offline
 * (no CDN): ECharts' prebuilt `dist/echarts.min.js` and the Natural Earth country outlines of
 * `world-atlas` (TopoJSON, converted to GeoJSON in the browser by web/js/geo.js).
 *
 * The page is fed only by the public API (/fdsnws/*, /products/*), so this router holds no data
 * access of its own. Mounted after the API routers: it only answers GET/HEAD for files that exist
 * and falls through (404 from express) for anything else.
 *
 * Cache headers: the app's own files are not fingerprinted, so they are revalidated on every
 * load (`no-cache` + Last-Modified); the vendored files change only with package versions and
 * are cached for a day.
 */
import fs from 'node:fs';
import path from 'node:path';
import express from 'express';

/** web/ beside src/ and dist/ (this file compiles to dist/webRoutes.js). */
export const WEB_ROOT = path.resolve(__dirname, '..', 'web');

/** Vendored assets: URL path under /vendor/ → file inside an npm package. */
export function vendorFiles(): Record<string, string> {
  const pkgDir = (name: string) => path.dirname(require.resolve(`${name}/package.json`));
  return {
    'echarts.min.js': path.join(pkgDir('echarts'), 'dist', 'echarts.min.js'),
    'countries-50m.json': path.join(pkgDir('world-atlas'), 'countries-50m.json'),
  };
}

const VENDOR_MAX_AGE_S = 86_400;

export function createWebRouter(root: string = WEB_ROOT): express.Router {
  const router = express.Router();
  let vendor: Record<string, string> = {};
  try {
    vendor = vendorFiles();
  } catch {
    // A missing optional asset package must not stop the API from serving; the page reports
    // the failed /vendor/ request itself.
  }

  router.get('/vendor/:file', (req, res, next) => {
    const file = vendor[req.params.file];
    if (!file || !fs.existsSync(file)) {
      next();
      return;
    }
    res.setHeader('Cache-Control', `public, max-age=${VENDOR_MAX_AGE_S}`);
    res.sendFile(file, { dotfiles: 'deny', etag: false, lastModified: true });
  });

  router.use(
    express.static(root, {
      index: 'index.html',
      etag: false,
      lastModified: true,
      dotfiles: 'ignore',
      redirect: false,
      fallthrough: true,
      setHeaders(res) {
        res.setHeader('Cache-Control', 'no-cache');
        res.setHeader('X-Content-Type-Options', 'nosniff');
      },
    }),
  );
  return router;
}
