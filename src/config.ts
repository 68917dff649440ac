/**
 * Runtime configuration: defaults, overridden by environment variables, overridden by CLI flags.
 */
import path from 'node:path';

export interface NodeConfig {
  /** TCP port of the HTTP server. */
  port: number;
  host: string;
  /** Archive roots indexed by `start` / `index`. */
  archiveDir: string;
  /** SQLite index file (mseedindex schema). */
  dbPath: string;
  /** Directory that relative `filename` values in the index are resolved against. */
  dataRoot: string;
  /** dataselect: maximum bytes in one response before 413 (0 = unlimited). */
  maxResponseBytes: number;
  /** Maximum URI length before 414 (FDSN spec: 2000). */
  maxUriLength: number;
  /** Public base URL written into WADL (derived from the request Host header when empty). */
  publicBaseUrl: string;
  /**
   * queryauth users (HTTP Digest): htdigest lines `user:realm:HA1` or plain `user:password`
   * (see fdsnws/digestAuth.ts). Empty = no users, so queryauth always answers 401.
   */
  usersFile: string;
  /** Restricted networks/stations, lines `NET` / `NET.STA [user,…]` or JSON (index/restrictions.ts). Empty = none. */
  restrictedFile: string;
  /** Digest realm; htdigest HA1 values are bound to it (`htdigest -c file <realm> user`). */
  authRealm: string;
  /** Root of the product tile tree served under /products (GEONODE_TILES, default var/tiles). */
  tilesDir: string;
  /**
   * /products/timeseries: most samples (rows × parameters) in one response without maxPoints
   * before 413 (USGS geomag web service REQUEST_LIMIT: 345,600).
   */
  maxSamples: number;
}

export function defaultConfig(env: NodeJS.ProcessEnv = process.env): NodeConfig {
  const archiveDir = path.resolve(env.GEONODE_ARCHIVE ?? 'archive');
  return {
    port: Number(env.GEONODE_PORT ?? env.PORT ?? 8080),
    host: env.GEONODE_HOST ?? '0.0.0.0',
    archiveDir,
    dbPath: path.resolve(env.GEONODE_DB ?? path.join('var', 'geonode.sqlite')),
    dataRoot: path.resolve(env.GEONODE_DATA_ROOT ?? '/'),
    maxResponseBytes: Number(env.GEONODE_MAX_BYTES ?? 4 * 1024 * 1024 * 1024),
    maxUriLength: 2000,
    publicBaseUrl: env.GEONODE_PUBLIC_URL ?? '',
    usersFile: env.GEONODE_USERS ? path.resolve(env.GEONODE_USERS) : '',
    restrictedFile: env.GEONODE_RESTRICTED ? path.resolve(env.GEONODE_RESTRICTED) : '',
    authRealm: env.GEONODE_AUTH_REALM ?? 'FDSN',
    tilesDir: path.resolve(env.GEONODE_TILES ?? path.join('var', 'tiles')),
    maxSamples: Number(env.GEONODE_MAX_SAMPLES ?? 345_600),
  };
}
