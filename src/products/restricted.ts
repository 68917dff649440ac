/**
 * Products derived from restricted waveforms are withheld like the waveforms. Seismic tiles
 * (per-minute RMS and mean-abs, their features and anomaly scores) are computed from the
 * miniSEED data, and /products has no authentication: a station with anything restricted (see
 * RestrictionPolicy.hidesDerived) has no seismic products there, as anonymous dataselect has no
 * data of it. Other sources (geomagnetic, AEF, VLF) have no restrictions.
 */
import type Database from 'better-sqlite3';
import { syncMetadataRestrictions } from '../index/metadata';
import type { RestrictionPolicy } from '../index/restrictions';

export type HiddenProduct = (source: string, station: string) => boolean;

/** The predicate for one request, with the metadata loaded so far applied to the policy. */
export function hiddenProducts(db: Database.Database | undefined, policy: RestrictionPolicy): HiddenProduct {
  if (db) syncMetadataRestrictions(db, policy); // (a products-only router may have no database)
  return (source, station) => {
    if (source !== 'seismic') return false;
    const dot = station.indexOf('.');
    return dot > 0 && policy.hidesDerived(station.slice(0, dot), station.slice(dot + 1));
  };
}
