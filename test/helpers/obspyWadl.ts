/**
 * ObsPy's WADLParser (obspy/clients/fdsn/wadl_parser.py) re-implemented over fast-xml-parser,
 * since there is no Python ObsPy here: root/resources lookup in the WADL namespace, service type
 * from resources@base, //method[@name='GET']/request/param grouped by method id with 'query'
 * preferred, type mapping, default/option conversion, and the warning for missing standard
 * parameters of the service (obspy/clients/fdsn/header.py DEFAULT_PARAMETERS).
 * Shared by the WADL tests of every service.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

type Node = Record<string, unknown>;

/** Standard parameters per service (ObsPy warns when the WADL lacks one, then silently drops user values for it). */
export const STANDARD_PARAMS: Record<string, string[]> = {
  dataselect: ['starttime', 'endtime', 'network', 'station', 'location', 'channel'],
  station: ['starttime', 'endtime', 'network', 'station', 'location', 'channel', 'minlatitude', 'maxlatitude', 'minlongitude', 'maxlongitude', 'level'],
  event: ['starttime', 'endtime', 'minlatitude', 'maxlatitude', 'minlongitude', 'maxlongitude', 'mindepth', 'maxdepth', 'minmagnitude', 'maxmagnitude', 'orderby'],
};
const WADL_NS = 'http://wadl.dev.java.net/2009/02';

export interface ObspyParam {
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
export function obspyParse(xml: string): { wadlType: string; parameters: Record<string, ObspyParam>; warnings: string[]; eidaAuth: boolean } {
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
  const standard = STANDARD_PARAMS[wadlType];
  const missing = standard.filter((s) => !(s in parameters));
  if (missing.length) warnings.push(`cannot deal with the following required parameters: ${missing.join(', ')}`);
  return { wadlType, parameters, warnings, eidaAuth };
}
