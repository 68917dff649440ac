/**
 * The dataselect WADL checked with the rules of ObsPy's WADLParser
 * (obspy/clients/fdsn/wadl_parser.py), re-implemented over fast-xml-parser since there is no
 * Python ObsPy here: root/resources lookup in the WADL namespace, service type from
 * resources@base, //method[@name='GET']/request/param grouped by method id with 'query'
 * preferred, type mapping, default/option conversion, required standard parameters.
 */
import Database from 'better-sqlite3';
import request from 'supertest';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { createApp } from '../../src/app';
import { defaultConfig } from '../../src/config';
import { DATASELECT_PARAMS } from '../../src/fdsnws/dataselect';
import { buildWadl } from '../../src/fdsnws/wadl';

type Node = Record<string, unknown>;
const WADL_NS = 'http://wadl.dev.java.net/2009/02';

interface ObspyParam {
  required: boolean;
  type: 'UTCDateTime' | 'str' | 'float' | 'int' | 'bool';
  options: unknown[];
  default_value: unknown;
}

/** Python-like conversions ObsPy applies to default/option values (raise on failure). */
function convert(type: ObspyParam['type'], v: string): unknown {
  switch (type) {
    case 'UTCDateTime':
      if (!/^\d{4}-\d\d-\d\d(T\d\d:\d\d:\d\d(\.\d+)?)?Z?$/.test(v)) throw new Error(`UTCDateTime(${v})`);
      return v;
    case 'float':
      if (!/^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/.test(v)) throw new Error(`float(${v})`);
      return Number(v);
    case 'int':
      if (!/^\s*[+-]?\d+\s*$/.test(v)) throw new Error(`int(${v})`);
      return Number(v);
    case 'bool':
      return v.toLowerCase() === 'true' ? true : v.toLowerCase() === 'false' ? false : null;
    default:
      return v;
  }
}

function asArray<T>(x: T | T[] | undefined): T[] {
  return x === undefined ? [] : Array.isArray(x) ? x : [x];
}

/** Walk every element (depth-first), giving its tag and its parent chain. */
function walk(node: Node, tag: string, parents: Array<{ tag: string; node: Node }>, fn: (tag: string, node: Node, parents: Array<{ tag: string; node: Node }>) => void): void {
  fn(tag, node, parents);
  for (const [k, v] of Object.entries(node)) {
    if (k.startsWith('@_') || k === '#text') continue;
    for (const child of asArray(v as Node | Node[])) {
      if (typeof child === 'object' && child !== null) walk(child, k, [...parents, { tag, node }], fn);
    }
  }
}

/** ObsPy WADLParser.__init__ + add_parameter, returning the parameters dict. */
function obspyParse(xml: string): { wadlType: string; parameters: Record<string, ObspyParam>; warnings: string[]; eidaAuth: boolean } {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`XML syntax error: ${JSON.stringify(valid)}`);
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', removeNSPrefix: false }).parse(xml) as Node;
  const app = doc['application'] as Node | undefined;
  if (!app) throw new Error('IndexError: no /application');
  // Default namespace handling: ObsPy prefixes every step with the default namespace.
  if (app['@_xmlns'] !== WADL_NS) throw new Error('IndexError: /application/resources not found in WADL namespace');
  const resources = asArray(app['resources'] as Node | Node[]);
  if (resources.length === 0) throw new Error('IndexError: /application/resources');
  const url = String(resources[0]['@_base'] ?? '');
  let wadlType: string;
  if (url.includes('dataselect')) wadlType = 'dataselect';
  else if (url.includes('station')) wadlType = 'station';
  else if (url.includes('event')) wadlType = 'event';
  else throw new Error('NotImplementedError');

  const groups = new Map<string, Node[]>();
  let eidaAuth = false;
  walk(app, 'application', [], (tag, node, parents) => {
    if (tag === 'resource' && node['@_path'] === 'auth' && parents[parents.length - 1]?.tag === 'resources') eidaAuth = true;
    if (tag !== 'param') return;
    const request = parents[parents.length - 1];
    const method = parents[parents.length - 2];
    if (request?.tag !== 'request' || method?.tag !== 'method' || method.node['@_name'] !== 'GET') return;
    const id = String(method.node['@_id'] ?? '').toLowerCase();
    if (!groups.has(id)) groups.set(id, []);
    groups.get(id)!.push(node);
  });
  let params: Node[] | undefined = groups.get('query');
  if (!params) {
    for (const [k, v] of groups) {
      if (k.includes('query') && !k.includes('auth')) {
        params = v;
        break;
      }
    }
    if (!params) params = groups.get('');
    if (!params) throw new Error('ValueError: Could not parse the WADL');
  }
  if (params.length === 0) throw new Error('ValueError: Could not find any parameters');

  const shortToLong: Record<string, string> = { start: 'starttime', end: 'endtime', net: 'network', sta: 'station', loc: 'location', cha: 'channel' };
  const parameters: Record<string, ObspyParam> = {};
  const warnings: string[] = [];
  for (const p of params) {
    let name = String(p['@_name']);
    name = shortToLong[name] ?? name;
    if (name === 'nodata') continue; // WADL_PARAMETERS_NOT_TO_BE_PARSED
    if (p['@_style'] !== 'query') warnings.push(`Unknown parameter style '${p['@_style']}'`);
    const required = String(p['@_required'] ?? '').toLowerCase() === 'true';
    const t = String(p['@_type'] ?? '').toLowerCase();
    let type: ObspyParam['type'];
    if (t.includes('date')) type = 'UTCDateTime';
    else if (t.includes('string')) type = 'str';
    else if (t.includes('double') || t.includes('float')) type = 'float';
    else if (t.includes('long') || t.includes('int')) type = 'int';
    else if (t.includes('bool')) type = 'bool';
    else throw new Error(`ValueError: Unknown parameter type '${t}'`);
    const def = p['@_default'] === undefined ? undefined : convert(type, String(p['@_default']));
    const options = asArray(p['option'] as Node | Node[]).map((o) => convert(type, String(o['@_value'])));
    parameters[name] = { required, type, options, default_value: def };
  }
  const standard = ['starttime', 'endtime', 'network', 'station', 'location', 'channel'];
  const missing = standard.filter((s) => !(s in parameters));
  if (missing.length) warnings.push(`cannot deal with the following required parameters: ${missing.join(', ')}`);
  return { wadlType, parameters, warnings, eidaAuth };
}

describe('dataselect application.wadl', () => {
  let db: Database.Database;
  beforeAll(() => {
    db = new Database(':memory:');
  });
  afterAll(() => db.close());

  test('served as application/xml and accepted by the ObsPy WADL rules without warnings', async () => {
    const app = createApp({ db, config: { ...defaultConfig({}), publicBaseUrl: '' } });
    const r = await request(app).get('/fdsnws/dataselect/1/application.wadl').set('Host', 'example.org:8080');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/xml/);
    expect(r.headers['access-control-allow-origin']).toBe('*');
    const xml = r.text;
    const parsed = obspyParse(xml);
    expect(parsed.wadlType).toBe('dataselect');
    expect(parsed.warnings).toEqual([]);
    expect(parsed.eidaAuth).toBe(false);
    expect(xml).toContain('<resources base="http://example.org:8080/fdsnws/dataselect/1/">');
    // Every supported parameter by long name (nodata is skipped by ObsPy but must be listed).
    for (const p of DATASELECT_PARAMS.params) {
      expect(xml).toContain(`name="${p.name}"`);
      if (p.name !== 'nodata') expect(parsed.parameters[p.name]).toBeDefined();
      for (const a of p.aliases ?? []) expect(xml).not.toContain(`name="${a}"`);
    }
    expect(parsed.parameters.starttime).toMatchObject({ type: 'UTCDateTime', required: true });
    expect(parsed.parameters.endtime).toMatchObject({ type: 'UTCDateTime', required: true });
    expect(parsed.parameters.network.type).toBe('str');
    expect(parsed.parameters.minimumlength).toMatchObject({ type: 'float', default_value: 0 });
    expect(parsed.parameters.longestonly).toMatchObject({ type: 'bool', default_value: false });
    expect(parsed.parameters.quality).toMatchObject({ type: 'str', default_value: 'B', options: ['D', 'R', 'Q', 'M', 'B'] });
    expect(parsed.parameters.format.options).toEqual(['miniseed']);
    // A POST method on the query resource as well.
    expect(xml).toMatch(/<resource path="query">[\s\S]*<method name="POST"/);
  });

  test('base URL comes from config.publicBaseUrl when set', async () => {
    const app = createApp({ db, config: { ...defaultConfig({}), publicBaseUrl: 'https://data.example.net/node/' } });
    const r = await request(app).get('/fdsnws/dataselect/1/application.wadl');
    expect(r.text).toContain('<resources base="https://data.example.net/node/fdsnws/dataselect/1/">');
    expect(obspyParse(r.text).wadlType).toBe('dataselect');
  });

  test('the generator escapes text and keeps the types ObsPy understands for any table', () => {
    const xml = buildWadl(
      {
        service: 'station',
        postTimesRequired: false,
        params: [
          { name: 'starttime', kind: 'datetime', doc: 'a < b & "c"' },
          { name: 'level', kind: 'string', options: ['network', 'station'], default: 'station', doc: 'level' },
          { name: 'minlatitude', aliases: ['minlat'], kind: 'double', default: -90, doc: 'lat' },
          { name: 'limit', kind: 'int', doc: 'n' },
          { name: 'includerestricted', kind: 'boolean', default: true, doc: 'r' },
        ],
      },
      { baseUrl: 'http://h/fdsnws/station/1/', title: 'station', resources: [{ path: 'query', mediaTypes: ['application/xml'], withParams: true }] },
    );
    const p = obspyParse(xml);
    expect(p.wadlType).toBe('station');
    expect(p.parameters.minlatitude).toMatchObject({ type: 'float', default_value: -90 });
    expect(p.parameters.includerestricted.default_value).toBe(true);
    expect(p.parameters.limit.type).toBe('int');
    expect(xml).toContain('a &lt; b &amp; &quot;c&quot;');
  });
});
