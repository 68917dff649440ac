/**
 * WADL generator fed by the same parameter table as the request parser (params.ts).
 *
 * Shaped for ObsPy's WADLParser (obspy/clients/fdsn/wadl_parser.py), which makes or breaks
 * `Client(base_url)`:
 *  - root `<application xmlns="http://wadl.dev.java.net/2009/02">` with `/application/resources`
 *    whose `base` contains the service name (ObsPy picks the service type from it);
 *  - GET params are taken from `//method[@name='GET']/request/param`, grouped by the method `id`;
 *    the group `query` is preferred, so the query GET method has `id="query"`;
 *  - every `type` must contain date|string|double|float|long|int|bool, and `default`/`option`
 *    values must convert to it (so no defaults like "now");
 *  - every supported parameter is listed by its LONG name (a parameter missing from the WADL is
 *    rejected client-side with TypeError, a missing standard one silently dropped).
 */
import type { ParamKind, ParamSpec, ServiceParamTable } from './params';

const XS_TYPE: Record<ParamKind, string> = {
  datetime: 'xs:dateTime',
  string: 'xs:string',
  double: 'xs:double',
  int: 'xs:int',
  boolean: 'xs:boolean',
  network: 'xs:string',
  station: 'xs:string',
  location: 'xs:string',
  channel: 'xs:string',
};

export interface WadlMethodDoc {
  /** Resource path relative to the base, e.g. 'query', 'version'. */
  path: string;
  /** Response media types of the GET method. */
  mediaTypes: readonly string[];
  /** Documentation of the resource. */
  doc?: string;
  /** true: the GET method lists the table's parameters and a POST method is added (`queryPost`). */
  withParams?: boolean;
  /** Add a POST method (body = key=value lines + selection lines). Default: same as withParams. */
  post?: boolean;
  /**
   * The parameters as this resource accepts them (GET list and POST doc): a parameter unchanged,
   * narrowed (fewer options) or null when the resource refuses it. Default: the whole table.
   */
  params?: (p: ParamSpec) => ParamSpec | null;
}

export interface WadlOptions {
  /** Absolute service base URL ending with '/', e.g. http://host/fdsnws/dataselect/1/ */
  baseUrl: string;
  /** Service title for the top-level doc. */
  title: string;
  /** Resources in order; usually query, version, application.wadl. */
  resources: readonly WadlMethodDoc[];
  /** Limits to document (FDSN: "limits should also be documented in the WADL"). */
  limits?: string;
}

/** Escape text for XML attribute values and element content. */
export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** Default written to the WADL: only values ObsPy can convert with the declared type. */
function wadlDefault(p: ParamSpec): string | undefined {
  if (p.default === undefined) return undefined;
  if (p.kind === 'boolean') return p.default ? 'true' : 'false';
  if (p.kind === 'double') {
    const n = Number(p.default);
    return Number.isInteger(n) ? n.toFixed(1) : String(n);
  }
  return String(p.default);
}

function paramXml(p: ParamSpec, indent: string): string {
  const attrs = [`name="${xmlEscape(p.name)}"`, 'style="query"', `type="${XS_TYPE[p.kind]}"`];
  if (p.requiredGet) attrs.push('required="true"');
  const def = wadlDefault(p);
  if (def !== undefined) attrs.push(`default="${xmlEscape(def)}"`);
  const inner: string[] = [];
  const aliasNote = p.aliases && p.aliases.length ? ` Alias: ${p.aliases.join(', ')}.` : '';
  inner.push(`${indent}  <doc xml:lang="en" title="${xmlEscape(p.name)}">${xmlEscape(p.doc + aliasNote)}</doc>`);
  for (const o of p.options ?? []) inner.push(`${indent}  <option value="${xmlEscape(String(o))}"/>`);
  return `${indent}<param ${attrs.join(' ')}>\n${inner.join('\n')}\n${indent}</param>`;
}

/** Build the WADL document (UTF-8 XML text). */
export function buildWadl(table: ServiceParamTable, opts: WadlOptions): string {
  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push('<application xmlns="http://wadl.dev.java.net/2009/02" xmlns:xs="http://www.w3.org/2001/XMLSchema">');
  out.push(`  <doc title="${xmlEscape(opts.title)}">${xmlEscape(opts.title)}${opts.limits ? `. Limits: ${xmlEscape(opts.limits)}` : ''}</doc>`);
  out.push(`  <resources base="${xmlEscape(opts.baseUrl)}">`);
  for (const r of opts.resources) {
    out.push(`    <resource path="${xmlEscape(r.path)}">`);
    if (r.doc) out.push(`      <doc>${xmlEscape(r.doc)}</doc>`);
    const id = r.path.replace(/[^A-Za-z0-9]/g, '_');
    const params = r.params ? table.params.map(r.params).filter((p): p is ParamSpec => p !== null) : table.params;
    out.push(`      <method name="GET" id="${id}">`);
    if (r.withParams) {
      out.push('        <request>');
      for (const p of params) out.push(paramXml(p, '          '));
      out.push('        </request>');
    }
    out.push('        <response status="200">');
    for (const m of r.mediaTypes) out.push(`          <representation mediaType="${xmlEscape(m)}"/>`);
    out.push('        </response>');
    if (r.withParams) {
      out.push('        <response status="204 400 401 403 404 413 414 500 503">');
      out.push('          <representation mediaType="text/plain"/>');
      out.push('        </response>');
    }
    out.push('      </method>');
    if (r.post ?? r.withParams) {
      // POST params are not described as query params (ObsPy only reads GET params): the body
      // format is documented instead.
      out.push(`      <method name="POST" id="${id}POST">`);
      out.push('        <request>');
      out.push('          <representation mediaType="text/plain">');
      out.push(
        `            <doc>key=value lines (${params
          .filter((p) => p.postHeader)
          .map((p) => p.name)
          .join(', ')}) followed by one selection per line: NET STA LOC CHA STARTTIME ENDTIME (blank location as --).</doc>`,
      );
      out.push('          </representation>');
      out.push('        </request>');
      out.push('        <response status="200">');
      for (const m of r.mediaTypes) out.push(`          <representation mediaType="${xmlEscape(m)}"/>`);
      out.push('        </response>');
      out.push('        <response status="204 400 401 403 404 413 500 503">');
      out.push('          <representation mediaType="text/plain"/>');
      out.push('        </response>');
      out.push('      </method>');
    }
    out.push('    </resource>');
  }
  out.push('  </resources>');
  out.push('</application>');
  return out.join('\n') + '\n';
}
