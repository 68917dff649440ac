// @ts-check
/** Map helpers: TopoJSON → GeoJSON (world-atlas countries), distances, the Dobrovolsky circle. */

/**
 * Convert one object of a TopoJSON topology to a GeoJSON FeatureCollection (Polygon and
 * MultiPolygon geometries, quantized or not) — the few lines of topojson-client we need.
 * @param {any} topo @param {string} name
 */
export function topoToGeo(topo, name) {
  const tf = topo.transform;
  const arcs = topo.arcs.map((/** @type {number[][]} */ arc) => {
    let x = 0;
    let y = 0;
    return arc.map((p) => {
      if (!tf) return [p[0], p[1]];
      x += p[0];
      y += p[1];
      return [x * tf.scale[0] + tf.translate[0], y * tf.scale[1] + tf.translate[1]];
    });
  });
  /** @param {number[]} idx */
  const ring = (idx) => {
    /** @type {number[][]} */
    const pts = [];
    for (const i of idx) {
      const a = i < 0 ? arcs[~i].slice().reverse() : arcs[i];
      pts.push(...(pts.length ? a.slice(1) : a));
    }
    return pts;
  };
  const obj = topo.objects[name];
  const geoms = obj.type === 'GeometryCollection' ? obj.geometries : [obj];
  return {
    type: 'FeatureCollection',
    features: geoms
      .filter((/** @type {any} */ g) => g.type === 'Polygon' || g.type === 'MultiPolygon')
      .map((/** @type {any} */ g, /** @type {number} */ k) => ({
        type: 'Feature',
        properties: { name: g.properties?.name ?? `${name}-${k}` },
        geometry:
          g.type === 'Polygon'
            ? { type: 'Polygon', coordinates: g.arcs.map(ring) }
            : { type: 'MultiPolygon', coordinates: g.arcs.map((/** @type {number[][]} */ p) => p.map(ring)) },
      })),
  };
}

const R_EARTH_KM = 6371;
const RAD = Math.PI / 180;

/** Great-circle distance (km). @param {number} lat1 @param {number} lon1 @param {number} lat2 @param {number} lon2 */
export function distanceKm(lat1, lon1, lat2, lon2) {
  const dLat = (lat2 - lat1) * RAD;
  const dLon = (lon2 - lon1) * RAD;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * R_EARTH_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Dobrovolsky et al. (1979) preparation-zone radius, km: R = 10^(0.43 M). @param {number} m */
export function dobrovolskyKm(m) {
  return 10 ** (0.43 * m);
}

/**
 * A small circle on the sphere as [lon, lat] points (closed).
 * @param {number} lat @param {number} lon @param {number} radiusKm @param {number} [n]
 */
export function circle(lat, lon, radiusKm, n = 96) {
  const d = radiusKm / R_EARTH_KM;
  const la = lat * RAD;
  const lo = lon * RAD;
  const pts = [];
  for (let i = 0; i <= n; i++) {
    const b = (2 * Math.PI * i) / n;
    const la2 = Math.asin(Math.sin(la) * Math.cos(d) + Math.cos(la) * Math.sin(d) * Math.cos(b));
    const lo2 = lo + Math.atan2(Math.sin(b) * Math.sin(d) * Math.cos(la), Math.cos(d) - Math.sin(la) * Math.sin(la2));
    pts.push([lo2 / RAD, la2 / RAD]);
  }
  return pts;
}
