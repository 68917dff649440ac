/**
 * Product pipeline parameters: defaults, overridable per source by a JSON file
 * (`geonode ingest --config FILE`, or GEONODE_PRODUCTS_CONFIG). Changing them changes
 * `paramsHash`, which is written into every tile and into the input table, so a re-run with new
 * parameters re-processes inputs even when their bytes did not change.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';

/** Version of the standardization pipeline, written into every tile (`geonode.pipeline_version`). */
export const PIPELINE_VERSION = '1.0.0';

export interface HampelParams {
  /** Half window in samples: the window is 2·halfWindow + 1 samples centred on the sample. */
  halfWindow: number;
  /** Threshold in robust standard deviations: |x − median| > k · 1.4826 · MAD. */
  k: number;
  /**
   * Absolute floor of the threshold in the data's units. Quantised, quiet data often have
   * MAD = 0 over a short window, which would flag every 0.01 nT step as an outlier.
   */
  minThreshold: number;
  /** Minimum valid samples in the window for a decision (else the sample is left alone). */
  minValid: number;
}

export interface SourceParams {
  hampel: HampelParams | null;
  /** Longest run of empty grid cells (in samples) that is filled by linear interpolation. */
  maxGapSamples: number;
  /**
   * Longest gap (ms) filled at any cadence: with maxGapSamples it gives min(samples, ms/step),
   * so 5 samples are 5 s of 1 s data and 5 min of 1 min data, while hourly and daily data (where
   * 5 samples would be 5 h or 5 days of invented field) are not filled.
   */
  maxGapMs?: number;
}

export interface ProductsConfig {
  /** Per-source parameters (geomag, aef, vlf, seismic). */
  sources: Record<string, SourceParams>;
  /** Parquet codec of the tiles. */
  codec: 'SNAPPY' | 'UNCOMPRESSED';
  /** VLF std layer: reduce frames to this cadence (ms) by the per-bin median. */
  vlfReduceMs: number;
  /** Seismic per-minute products: window in ms (divides a day, under an hour). */
  seismicWindowMs: number;
  /**
   * Seismic products: a window's statistics are null (MISSING | NO_SAMPLE) when fewer than this
   * fraction of its sample slots hold a sample; at or above it they are kept and flagged NO_SAMPLE.
   */
  seismicMinCoverage: number;
}

/**
 * Defaults. Hampel (rolling median ± k·MAD) with k = 6, the peer project's MAD threshold (products-
 * methods §2 [E1]), more lenient than MagPy's automatic k = 4 [MP2] so storm onsets survive. AEF:
 * the peer's 5-point window on 1-min AEF [E1]. Geomagnetic: a 7-point window (½-window 3), so a
 * 2-sample spike is still a minority of its window. minValid = ½-window + 1: a sample at a series
 * edge or next to a gap is still tested (its window holds itself and ½-window neighbours).
 * Gap fill: ≤ 5 points at 1 min ([E1]), and at most 5 minutes at any cadence; longer gaps stay
 * null and flagged.
 */
export function defaultProductsConfig(): ProductsConfig {
  return {
    sources: {
      geomag: { hampel: { halfWindow: 3, k: 6, minThreshold: 1, minValid: 4 }, maxGapSamples: 5, maxGapMs: 300_000 },
      aef: { hampel: { halfWindow: 2, k: 6, minThreshold: 5, minValid: 3 }, maxGapSamples: 5, maxGapMs: 300_000 },
      vlf: { hampel: null, maxGapSamples: 0, maxGapMs: 0 },
      seismic: { hampel: null, maxGapSamples: 0, maxGapMs: 0 },
    },
    codec: 'SNAPPY',
    vlfReduceMs: 60_000,
    seismicWindowMs: 60_000,
    seismicMinCoverage: 0.5,
  };
}

/** Deep-merge a JSON override (partial object) into the defaults; unknown keys are rejected. */
export function mergeProductsConfig(base: ProductsConfig, override: unknown): ProductsConfig {
  const merge = (a: unknown, b: unknown, where: string): unknown => {
    if (b === undefined) return a;
    if (a && typeof a === 'object' && !Array.isArray(a) && b && typeof b === 'object' && !Array.isArray(b)) {
      const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
      for (const [k, v] of Object.entries(b as Record<string, unknown>)) {
        if (!(k in out) && where !== 'sources') throw new Error(`products config: unknown key ${where ? `${where}.` : ''}${k}`);
        out[k] = k in out ? merge(out[k], v, where ? `${where}.${k}` : k) : v;
      }
      return out;
    }
    if (a !== null && b !== null && a !== undefined && typeof a !== typeof b) throw new Error(`products config: ${where} must be a ${typeof a}`);
    return b;
  };
  return merge(base, override, '') as ProductsConfig;
}

/** Defaults, overridden by a JSON file when given. */
export function loadProductsConfig(file?: string | null): ProductsConfig {
  const base = defaultProductsConfig();
  if (!file) return base;
  return mergeProductsConfig(base, JSON.parse(fs.readFileSync(file, 'utf8')));
}

/** Short stable hash of the parameters that shape one source's tiles. */
export function paramsHash(cfg: ProductsConfig, source: string): string {
  const p = { v: PIPELINE_VERSION, src: cfg.sources[source] ?? null, codec: cfg.codec, vlf: source === 'vlf' ? cfg.vlfReduceMs : undefined, seis: source === 'seismic' ? [cfg.seismicWindowMs, cfg.seismicMinCoverage] : undefined };
  return crypto.createHash('sha256').update(JSON.stringify(p)).digest('hex').slice(0, 16);
}
