/**
 * QuakeML 1.2 writer. No Python ObsPy here, so: (1) round trip parse → write → parse with our reader,
 * (2) a lossless check on the XML content of every event, and (3) structural checks of what ObsPy's
 * QuakeML reader (obspy/io/quakeml/core.py Unpickler) needs: root {quakeml/1.2}quakeml with BED
 * eventParameters, publicIDs on event/origin/magnitude/pick/arrival, a `value` child in every
 * Real/Time/IntegerQuantity, preferred*ID pointing at elements present, times in ISO with `Z`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { childOrder } from '../../src/formats/quakeml/bed';
import { parseXmlTree } from '../../src/formats/quakeml/xml';
import {
  createEvent,
  parseQuakeML,
  parseQuakeMLTime,
  quakemlChunks,
  writeQuakeML,
  type CatalogEvent,
  type XmlNode,
} from '../../src/formats/quakeml';
import { parseIsoToNs } from '../../src/formats/time';
import { describeShared, sharedFiles } from '../helpers/sharedData';

const ALL = { includeAllOrigins: true, includeAllMagnitudes: true, includeArrivals: true };
const Q_NS = 'http://quakeml.org/xmlns/quakeml/1.2';
const BED = 'http://quakeml.org/xmlns/bed/1.2';

/** Strip raw/derived-by-writer fields so typed content can be compared across a round trip. */
function typed(ev: CatalogEvent): unknown {
  return JSON.parse(
    JSON.stringify(ev, (k, v) => {
      if (k === 'raw' || k === 'typeOriginal' || k === 'preferredOriginId' || k === 'preferredMagnitudeId') return undefined;
      return typeof v === 'bigint' ? v.toString() : v;
    }),
  );
}

const QUANTITY_ELEMENTS = new Set([
  'time', 'latitude', 'longitude', 'depth', 'mag', 'genericAmplitude', 'period', 'scalingTime', 'horizontalSlowness',
  'backazimuth', 'takeoffAngle', 'scalarMoment', 'strike', 'dip', 'rake', 'azimuth', 'plunge', 'length',
  'Mrr', 'Mtt', 'Mpp', 'Mrt', 'Mrp', 'Mtp', 'year', 'month', 'day', 'hour', 'minute', 'second',
]);
/** Parents in which those names are plain doubles, not quantities. */
const PLAIN_PARENTS = new Set(['arrival', 'originQuality', 'quality', 'sourceTimeFunction', 'dataUsed']);
const TIME_LEAVES = new Set(['creationTime', 'reference']);

/** Independent structural check with fast-xml-parser in its plain (non-preserveOrder) mode. */
function obspyStructureCheck(xml: string): string[] {
  const problems: string[] = [];
  const p = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, isArray: (_n: string, _j: unknown, _leaf: boolean, isAttr: boolean) => !isAttr });
  const doc = p.parse(xml) as Record<string, unknown[]>;
  const root = doc['q:quakeml']?.[0] as Record<string, unknown> | undefined;
  if (!root) return ['root is not q:quakeml'];
  if (root['@xmlns:q'] !== Q_NS) problems.push('xmlns:q');
  if (root['@xmlns'] !== BED) problems.push('default namespace is not BED 1.2');
  const eps = root.eventParameters as Record<string, unknown>[];
  if (!eps || eps.length !== 1 || !eps[0]['@publicID']) problems.push('eventParameters/@publicID');
  const walk = (node: Record<string, unknown>, name: string, parent: string, where: string): void => {
    if (['event', 'origin', 'magnitude', 'pick', 'arrival', 'amplitude', 'stationMagnitude', 'focalMechanism'].includes(name)) {
      if (!node['@publicID']) problems.push(`${where}: ${name} without publicID`);
    }
    if (QUANTITY_ELEMENTS.has(name) && !PLAIN_PARENTS.has(parent) && parent !== 'principalAxes') {
      const v = node.value as unknown[] | undefined;
      if (!v || v.length !== 1) problems.push(`${where}: ${name} without one <value>`);
    }
    for (const [k, kids] of Object.entries(node)) {
      if (k.startsWith('@') || k === '#text' || !Array.isArray(kids)) continue;
      for (const kid of kids) {
        if (typeof kid !== 'object' || kid === null) {
          // Leaf with text only (or an empty element such as <latitude/>).
          const text = String(kid);
          if (QUANTITY_ELEMENTS.has(k) && !PLAIN_PARENTS.has(name)) problems.push(`${where}/${k}: ${k} without one <value>`);
          const isTime = (k === 'value' && name === 'time') || (k === 'value' && name === 'scalingTime') || TIME_LEAVES.has(k);
          if (isTime && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(text)) problems.push(`${where}/${k}: time "${text}" without Z`);
          continue;
        }
        const obj = kid as Record<string, unknown>;
        const text = obj['#text'];
        if (text !== undefined) {
          const isTime = (k === 'value' && (name === 'time' || name === 'scalingTime')) || TIME_LEAVES.has(k);
          if (isTime && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(String(text))) problems.push(`${where}/${k}: time "${text}" without Z`);
        }
        walk(obj, k, name, `${where}/${k}`);
      }
    }
  };
  for (const ev of (eps?.[0]?.event as Record<string, unknown>[]) ?? []) {
    walk(ev, 'event', 'eventParameters', `event ${String(ev['@publicID'])}`);
    const ids = (kind: string): Set<string> =>
      new Set(((ev[kind] as Record<string, unknown>[]) ?? []).map((o) => String(o['@publicID'])));
    const textOf = (kind: string): string | undefined => {
      const v = (ev[kind] as unknown[] | undefined)?.[0];
      return v === undefined ? undefined : typeof v === 'object' ? String((v as Record<string, unknown>)['#text']) : String(v);
    };
    const po = textOf('preferredOriginID');
    const pm = textOf('preferredMagnitudeID');
    if (po !== undefined && !ids('origin').has(po)) problems.push(`preferredOriginID ${po} not included`);
    if (pm !== undefined && !ids('magnitude').has(pm)) problems.push(`preferredMagnitudeID ${pm} not included`);
    if (ids('origin').size > 0 && po === undefined) problems.push('origins but no preferredOriginID');
  }
  return problems;
}

/** Every leaf and attribute under each event as a sortable "path=value" list (times as epoch ns). */
function eventLeaves(xml: string): string[][] {
  const { node } = parseXmlTree(xml);
  const ep = node.children!.find((c) => c.name === 'eventParameters')!;
  const out: string[][] = [];
  const DROP = new Set(['preferredOriginID', 'preferredMagnitudeID', 'preferredFocalMechanismID', 'type']);
  for (const ev of ep.children!.filter((c) => c.name === 'event')) {
    const leaves: string[] = [];
    const walk = (n: XmlNode, p: string, depth: number): void => {
      for (const [k, v] of Object.entries(n.attrs ?? {})) if (!k.startsWith('xmlns')) leaves.push(`${p}@${k}=${v}`);
      const kids = n.children ?? [];
      if (kids.length === 0) {
        const t = (n.text ?? '').trim();
        if (t === '') return;
        const ns = /^\d{4}-\d{2}-\d{2}T/.test(t) ? parseQuakeMLTime(t) : null;
        leaves.push(`${p}=${ns === null ? t : `ns:${ns}`}`);
      }
      for (const c of kids) {
        if (depth === 0 && DROP.has(c.name)) continue; // recomputed by the writer
        walk(c, `${p}/${c.name}`, depth + 1);
      }
    };
    walk(ev, 'event', 0);
    out.push(leaves.sort());
  }
  return out;
}

describeShared('writeQuakeML on the shared QuakeML files', () => {
  const files = sharedFiles('quakeml');

  test.each(files.map((f) => [path.basename(f), f]))('%s: round trip parse → write → parse keeps typed content', (_n, f) => {
    const a = parseQuakeML(fs.readFileSync(f, 'utf8'));
    const xml = writeQuakeML(a, ALL);
    const b = parseQuakeML(xml);
    expect(b.map(typed)).toEqual(a.map(typed));
    // Writing is stable: a second pass gives the same bytes.
    expect(writeQuakeML(b, ALL)).toBe(xml);
  });

  test.each(files.map((f) => [path.basename(f), f]))('%s: nothing lost — every leaf and attribute of each event survives', (_n, f) => {
    const src = fs.readFileSync(f, 'utf8');
    const xml = writeQuakeML(parseQuakeML(src), { ...ALL, includeFocalMechanisms: true });
    const before = eventLeaves(src).map((l) => l.filter((x) => !/=$/.test(x)));
    expect(eventLeaves(xml)).toEqual(before);
  });

  test.each(files.map((f) => [path.basename(f), f]))('%s: structure ObsPy needs, all flags on and off', (_n, f) => {
    const evs = parseQuakeML(fs.readFileSync(f, 'utf8'));
    for (const opts of [{}, ALL]) {
      const xml = writeQuakeML(evs, opts);
      expect(obspyStructureCheck(xml)).toEqual([]);
      expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<q:quakeml xmlns:q="http://quakeml.org/xmlns/quakeml/1.2" xmlns="http://quakeml.org/xmlns/bed/1.2"')).toBe(true);
    }
  });

  test('children come out in QuakeML-BED XSD order', () => {
    const xml = writeQuakeML(parseQuakeML(fs.readFileSync(files.find((f) => f.endsWith('usgs_event.xml'))!, 'utf8')), ALL);
    const { node } = parseXmlTree(xml);
    const ev = node.children![0].children![0];
    const orderOf = (type: string, n: XmlNode): number[] => n.children!.map((c) => childOrder(type, c.name));
    const isSorted = (a: number[]): boolean => a.every((v, i) => i === 0 || a[i - 1] <= v);
    expect(isSorted(orderOf('Event', ev))).toBe(true);
    const origin = ev.children!.find((c) => c.name === 'origin')!;
    expect(isSorted(orderOf('Origin', origin))).toBe(true);
    // ComCat wrote originUncertainty after depth; XSD order puts it before time, longitude before latitude.
    expect(origin.children!.map((c) => c.name).slice(0, 4)).toEqual(['originUncertainty', 'time', 'longitude', 'latitude']);
    expect(ev.children!.map((c) => c.name).slice(-4)).toEqual(['preferredOriginID', 'preferredMagnitudeID', 'type', 'creationInfo']);
  });

  test('usgs: ANSS attributes kept with one namespace declaration; &amp; inside publicID preserved; type fixed', () => {
    const src = fs.readFileSync(files.find((f) => f.endsWith('usgs_event.xml'))!, 'utf8');
    const xml = writeQuakeML(parseQuakeML(src));
    expect(xml).toContain('xmlns:catalog="http://anss.org/xmlns/catalog/0.1"');
    expect(xml.match(/xmlns:catalog=/g)).toHaveLength(1);
    expect(xml).toContain('catalog:eventid="37285320"');
    expect(xml).toContain('publicID="quakeml:comcat.cr.usgs.gov/fdsnws/event/1/query?eventid=ci37285320&amp;amp;format=quakeml"');
    expect(xml).toContain('<type>quarry blast</type>');
    expect(xml).not.toContain('quarry_blast');
  });

  test('iris: zone-less times written with Z; iris: namespace hoisted', () => {
    const xml = writeQuakeML(parseQuakeML(fs.readFileSync(files.find((f) => f.endsWith('iris_events.xml'))!, 'utf8')));
    expect(xml).toContain('<value>2011-03-11T05:46:24.120000Z</value>');
    expect(xml).toContain('iris:contributor="NEIC PDE-W"');
    expect(xml.match(/xmlns:iris=/g)).toHaveLength(1);
  });

  test('include flags select origins, magnitudes, arrivals+picks', () => {
    const f = (name: string): string => fs.readFileSync(files.find((x) => x.endsWith(name))!, 'utf8');
    const gcmt = parseQuakeML(f('C200604092050A.xml'));
    const count = (xml: string, tag: string): number => (xml.match(new RegExp(`<${tag}[ >]`, 'g')) ?? []).length;
    const def = writeQuakeML(gcmt);
    expect([count(def, 'origin'), count(def, 'magnitude'), count(def, 'focalMechanism')]).toEqual([1, 1, 1]);
    expect(def).toContain('publicID="smi:local/ndk/C200604092050A/origin#cmtorigin"');
    expect(def).toContain('<preferredFocalMechanismID>');
    const all = writeQuakeML(gcmt, { includeAllOrigins: true, includeAllMagnitudes: true });
    expect([count(all, 'origin'), count(all, 'magnitude')]).toEqual([2, 3]);
    const noFm = writeQuakeML(gcmt, { includeFocalMechanisms: false });
    expect(count(noFm, 'focalMechanism')).toBe(0);
    expect(noFm).not.toContain('preferredFocalMechanismID');

    const ipe = parseQuakeML(f('ipe202409sel_ims.xml'));
    const noArr = writeQuakeML(ipe);
    expect([count(noArr, 'arrival'), count(noArr, 'pick'), count(noArr, 'amplitude'), count(noArr, 'stationMagnitude')]).toEqual([0, 0, 0, 0]);
    const arr = writeQuakeML(ipe, { includeArrivals: true });
    expect([count(arr, 'arrival'), count(arr, 'pick'), count(arr, 'amplitude'), count(arr, 'stationMagnitude')]).toEqual([7, 20, 6, 6]);
    // Every arrival's pick is in the document.
    const back = parseQuakeML(arr);
    for (const ev of back) {
      const picks = new Set(ev.picks.map((p) => p.publicId));
      for (const a of ev.preferredOrigin?.arrivals ?? []) expect(picks.has(a.pickId)).toBe(true);
    }
    // The unlocated event's empty <latitude/> is not written (invalid and empty).
    expect(arr).not.toMatch(/<latitude\/>/);
  });

  test('compact output and streaming chunks give the same events', () => {
    const evs = parseQuakeML(fs.readFileSync(files.find((f) => f.endsWith('ipe202409sel_ims.xml'))!, 'utf8'));
    const compactXml = writeQuakeML(evs, { ...ALL, pretty: false });
    expect(compactXml.split('\n')).toHaveLength(2); // one line + final newline
    expect(parseQuakeML(compactXml).map(typed)).toEqual(parseQuakeML(writeQuakeML(evs, ALL)).map(typed));
    const chunks = [...quakemlChunks(evs, ALL)];
    expect(chunks).toHaveLength(evs.length + 2); // envelope start, one per event, envelope end
    expect(chunks.join('')).toBe(writeQuakeML(evs, ALL));
  });

  test('eventParameters creationInfo and publicID options', () => {
    const xml = writeQuakeML([], {
      publicId: 'smi:my.node/fdsnws/event/1/query?starttime=2020-01-01&minmag=5',
      creationInfo: { agencyId: 'XX', creationTimeNs: parseIsoToNs('2024-01-02T03:04:05.5')! },
    });
    expect(xml).toContain('<eventParameters publicID="smi:my.node/fdsnws/event/1/query?starttime=2020-01-01&amp;minmag=5">');
    expect(xml).toContain('<creationTime>2024-01-02T03:04:05.500000Z</creationTime>');
    expect(obspyStructureCheck(xml)).toEqual([]);
  });
});

describe('the structure checker itself', () => {
  test('flags missing Z, missing value, dangling preferred ids, missing publicID', () => {
    const bad = `<q:quakeml xmlns:q="${Q_NS}" xmlns="${BED}"><eventParameters publicID="smi:x/ep"><event publicID="smi:x/e">
      <origin publicID="smi:x/o"><time><value>2020-01-01T00:00:00</value></time><latitude/></origin>
      <magnitude><mag><value>1</value></mag></magnitude>
      <preferredOriginID>smi:x/other</preferredOriginID></event></eventParameters></q:quakeml>`;
    const problems = obspyStructureCheck(bad);
    expect(problems.some((p) => p.includes('without Z'))).toBe(true);
    expect(problems.some((p) => p.includes('latitude without one <value>'))).toBe(true);
    expect(problems.some((p) => p.includes('magnitude without publicID'))).toBe(true);
    expect(problems.some((p) => p.includes('preferredOriginID smi:x/other not included'))).toBe(true);
  });
});

describe('writeQuakeML on synthesised events (no raw XML)', () => {
  const mk = (): CatalogEvent =>
    createEvent({
      publicId: 'smi:local/event/20200912024411000',
      descriptions: [{ text: 'OFF MIYAGI <PREF> & "CO" | x', type: 'region name' }],
      type: 'earthquake',
      origins: [
        {
          publicId: 'smi:local/event/20200912024411000/origin',
          timeNs: parseIsoToNs('2020-09-12T02:44:11.123456789')!,
          lat: 38.75,
          lon: 142.26,
          depthKm: 35.1,
          author: 'JMA',
          arrivals: [{ publicId: 'smi:local/a1', pickId: 'smi:local/p1', phase: 'P', distance: 1.5 }],
        },
      ],
      magnitudes: [{ publicId: 'smi:local/event/20200912024411000/magnitude', value: 6.2, type: 'Mj', author: 'JMA' }],
      picks: [{ publicId: 'smi:local/p1', timeNs: parseIsoToNs('2020-09-12T02:44:30')!, waveformId: { networkCode: 'JP', stationCode: 'JKA' }, phaseHint: 'P' }],
    });

  test('valid structure, escaping, metres, ns times, round trip', () => {
    const ev = mk();
    const xml = writeQuakeML([ev], ALL);
    expect(obspyStructureCheck(xml)).toEqual([]);
    expect(xml).toContain('<text>OFF MIYAGI &lt;PREF&gt; &amp; "CO" | x</text>');
    expect(xml).toContain('<value>35100</value>');
    expect(xml).toContain('<value>2020-09-12T02:44:11.123456789Z</value>');
    const [back] = parseQuakeML(xml);
    expect(back.preferredOrigin).toMatchObject({ timeNs: ev.preferredOrigin!.timeNs, lat: 38.75, lon: 142.26, depthKm: 35.1, author: 'JMA' });
    expect(back.preferredMagnitude).toMatchObject({ value: 6.2, type: 'Mj', author: 'JMA' });
    expect(back.locationName).toBe('OFF MIYAGI <PREF> & "CO" | x');
    expect(back.picks[0]).toMatchObject({ phaseHint: 'P', waveformId: { networkCode: 'JP', stationCode: 'JKA' } });
    expect(back.preferredOrigin!.arrivals[0]).toMatchObject({ pickId: 'smi:local/p1', phase: 'P', distance: 1.5 });
  });

  test('odd characters: literal entity text, newlines in attributes, control characters', () => {
    const ev = mk();
    ev.publicId = 'smi:local/e?x=1&amp;y=&#65;\nz';
    ev.descriptions = [{ text: 'a\u0001b &lt; Zürich 東京', type: 'region name' }];
    ev.locationName = undefined;
    const xml = writeQuakeML([ev]);
    const [back] = parseQuakeML(xml);
    expect(back.publicId).toBe('smi:local/e?x=1&amp;y=&#65;\nz');
    expect(back.descriptions[0].text).toBe('ab &lt; Zürich 東京');
  });

  test('unknown event type left out; empty list gives an empty eventParameters', () => {
    const ev = mk();
    ev.type = undefined;
    ev.typeOriginal = 'kaboom';
    expect(writeQuakeML([ev])).not.toContain('kaboom');
    const empty = writeQuakeML([]);
    expect(parseQuakeML(empty)).toEqual([]);
    expect(obspyStructureCheck(empty)).toEqual([]);
  });

  test('conflicting prefixes stay declared locally', () => {
    const a = parseQuakeML(
      `<q:quakeml xmlns:q="${Q_NS}" xmlns="${BED}" xmlns:x="urn:one"><eventParameters><event publicID="smi:a/1" x:k="1"/></eventParameters></q:quakeml>`,
    );
    const b = parseQuakeML(
      `<q:quakeml xmlns:q="${Q_NS}" xmlns="${BED}" xmlns:x="urn:two"><eventParameters><event publicID="smi:a/2" x:k="2"/></eventParameters></q:quakeml>`,
    );
    const xml = writeQuakeML([...a, ...b]);
    expect(xml).toContain('xmlns:x="urn:one"');
    expect(xml).toContain('xmlns:x="urn:two"');
    const back = parseQuakeML(xml);
    expect(back.map((e) => e.raw!.attrs!['xmlns:x'])).toEqual(['urn:one', 'urn:two']);
  });
});
