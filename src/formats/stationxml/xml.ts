/**
 * A small namespace-aware XML tree parser that records each element's source offsets.
 *
 * Why not only fast-xml-parser: StationXML's <Response> (and comments, equipment, ...) must be
 * kept byte-for-byte so level=response can return what the operator supplied, and no available
 * parser reports element offsets. fast-xml-parser's validator still runs first (parse.ts) for
 * good well-formedness messages; this parser also refuses what it cannot handle.
 */
import { charRefCodePoint, isXmlChar, lineCol, PREDEFINED_ENTITIES } from '../xmlText';

export class XmlSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlSyntaxError';
  }
}

export interface XAttr {
  /** Qualified name as written (e.g. `iris:alternateNetworkCodes`). */
  qname: string;
  local: string;
  prefix: string | null;
  /** Namespace URI (null for unprefixed attributes, which are in no namespace). */
  ns: string | null;
  value: string;
}

export interface XElement {
  kind: 'element';
  qname: string;
  local: string;
  prefix: string | null;
  /** Namespace URI of the element ('' when in no namespace). */
  ns: string;
  attrs: XAttr[];
  /** xmlns declarations written on this element: prefix ('' for default) → URI. */
  nsDecls: Map<string, string>;
  /** All bindings in scope at this element (inherited + own). */
  scope: Map<string, string>;
  children: XNode[];
  /** Offset of '<' of the start tag and offset just past the end tag's '>'. */
  start: number;
  end: number;
  /** Offset just past the start tag's name (where extra xmlns declarations can be inserted). */
  nameEnd: number;
}

export interface XText {
  kind: 'text';
  text: string;
}

export interface XComment {
  kind: 'comment';
  text: string;
}

export type XNode = XElement | XText | XComment;

const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const NAME_START = /[A-Za-z_:\u00C0-\uFFFF]/;
const NAME_CHAR = /[A-Za-z0-9_:.\-\u00B7\u00C0-\uFFFF]/;

function decodeEntities(s: string, text: string, pos: number): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(/&([^;&\s]*);?/g, (m, name: string) => {
    if (!m.endsWith(';')) throw new XmlSyntaxError(`unterminated entity reference at ${lineCol(text, pos)}`);
    if (name.startsWith('#')) {
      const cp = charRefCodePoint(name);
      if (!isXmlChar(cp)) throw new XmlSyntaxError(`bad character reference &${name}; at ${lineCol(text, pos)} (not an XML character)`);
      return String.fromCodePoint(cp);
    }
    const v = PREDEFINED_ENTITIES[name];
    if (v === undefined) throw new XmlSyntaxError(`unknown entity &${name}; at ${lineCol(text, pos)}`);
    return v;
  });
}

function splitQName(q: string): [string | null, string] {
  const i = q.indexOf(':');
  return i < 0 ? [null, q] : [q.slice(0, i), q.slice(i + 1)];
}

/** Parse a whole document (or a standalone element fragment); returns the root element. */
export function parseXmlTree(text: string): XElement {
  let pos = 0;
  const n = text.length;
  if (text.charCodeAt(0) === 0xfeff) pos = 1;
  const fail = (msg: string, at = pos): never => {
    throw new XmlSyntaxError(`${msg} at ${lineCol(text, at)}`);
  };

  const readName = (): string => {
    const s = pos;
    if (pos >= n || !NAME_START.test(text[pos])) fail('expected a name');
    pos++;
    while (pos < n && NAME_CHAR.test(text[pos])) pos++;
    return text.slice(s, pos);
  };
  const skipWs = (): void => {
    while (pos < n && (text[pos] === ' ' || text[pos] === '\n' || text[pos] === '\r' || text[pos] === '\t')) pos++;
  };
  const skipMisc = (): void => {
    // Whitespace, comments and processing instructions outside the root element.
    for (;;) {
      skipWs();
      if (text.startsWith('<?', pos)) {
        const e = text.indexOf('?>', pos);
        if (e < 0) fail('unterminated processing instruction');
        pos = e + 2;
      } else if (text.startsWith('<!--', pos)) {
        const e = text.indexOf('-->', pos + 4);
        if (e < 0) fail('unterminated comment');
        pos = e + 3;
      } else if (text.startsWith('<!DOCTYPE', pos)) {
        // Skip, including an internal subset in brackets; entities declared there are not expanded.
        let depth = 0;
        while (pos < n) {
          const c = text[pos++];
          if (c === '[') depth++;
          else if (c === ']') depth--;
          else if (c === '>' && depth <= 0) break;
        }
      } else return;
    }
  };

  const parseElement = (parentScope: Map<string, string>): XElement => {
    const start = pos;
    pos++; // '<'
    const qname = readName();
    const nameEnd = pos;
    const rawAttrs: Array<[string, string, number]> = [];
    let selfClosing = false;
    for (;;) {
      const before = pos;
      skipWs();
      if (pos >= n) fail(`unterminated start tag <${qname}>`, start);
      if (text[pos] === '/') {
        if (text[pos + 1] !== '>') fail("expected '>' after '/'");
        pos += 2;
        selfClosing = true;
        break;
      }
      if (text[pos] === '>') {
        pos++;
        break;
      }
      if (before === pos) fail(`expected whitespace between attributes of <${qname}>`);
      const aStart = pos;
      const an = readName();
      skipWs();
      if (text[pos] !== '=') fail(`expected '=' after attribute ${an}`);
      pos++;
      skipWs();
      const q = text[pos];
      if (q !== '"' && q !== "'") fail(`attribute ${an} value must be quoted`);
      const e = text.indexOf(q, pos + 1);
      if (e < 0) fail(`unterminated value of attribute ${an}`);
      const rawVal = text.slice(pos + 1, e);
      if (rawVal.includes('<')) fail(`'<' in value of attribute ${an}`, pos);
      // Attribute-value normalisation: literal whitespace characters become spaces.
      const val = decodeEntities(rawVal.replace(/[\t\n\r]/g, ' '), text, pos);
      if (rawAttrs.some(([x]) => x === an)) fail(`duplicate attribute ${an}`, aStart);
      rawAttrs.push([an, val, aStart]);
      pos = e + 1;
    }
    const nsDecls = new Map<string, string>();
    for (const [an, val] of rawAttrs) {
      if (an === 'xmlns') nsDecls.set('', val);
      else if (an.startsWith('xmlns:')) nsDecls.set(an.slice(6), val);
    }
    const scope = nsDecls.size ? new Map([...parentScope, ...nsDecls]) : parentScope;
    const [prefix, local] = splitQName(qname);
    let ns: string;
    if (prefix === null) ns = scope.get('') ?? '';
    else if (prefix === 'xml') ns = XML_NS;
    else {
      const u = scope.get(prefix);
      if (u === undefined) fail(`undeclared namespace prefix '${prefix}' on <${qname}>`, start);
      ns = u as string;
    }
    const attrs: XAttr[] = [];
    for (const [an, value, aStart] of rawAttrs) {
      if (an === 'xmlns' || an.startsWith('xmlns:')) continue;
      const [ap, al] = splitQName(an);
      let ans: string | null = null;
      if (ap === 'xml') ans = XML_NS;
      else if (ap !== null) {
        const u = scope.get(ap);
        if (u === undefined) fail(`undeclared namespace prefix '${ap}' on attribute ${an}`, aStart);
        ans = u as string;
      }
      attrs.push({ qname: an, local: al, prefix: ap, ns: ans, value });
    }
    const el: XElement = { kind: 'element', qname, local, prefix, ns, attrs, nsDecls, scope, children: [], start, end: pos, nameEnd };
    if (selfClosing) return el;
    // Content.
    let textBuf = '';
    const flushText = (): void => {
      if (textBuf) {
        el.children.push({ kind: 'text', text: textBuf });
        textBuf = '';
      }
    };
    for (;;) {
      if (pos >= n) fail(`element <${qname}> is not closed`, start);
      const lt = text.indexOf('<', pos);
      if (lt < 0) fail(`element <${qname}> is not closed`, start);
      if (lt > pos) {
        const raw = text.slice(pos, lt);
        if (raw.includes(']]>')) fail("']]>' in text", pos);
        textBuf += decodeEntities(raw, text, pos);
        pos = lt;
      }
      if (text.startsWith('</', pos)) {
        pos += 2;
        const endName = readName();
        if (endName !== qname) fail(`end tag </${endName}> does not match <${qname}>`);
        skipWs();
        if (text[pos] !== '>') fail(`expected '>' to close </${endName}>`);
        pos++;
        flushText();
        el.end = pos;
        return el;
      }
      if (text.startsWith('<!--', pos)) {
        const e = text.indexOf('-->', pos + 4);
        if (e < 0) fail('unterminated comment');
        flushText();
        el.children.push({ kind: 'comment', text: text.slice(pos + 4, e) });
        pos = e + 3;
        continue;
      }
      if (text.startsWith('<![CDATA[', pos)) {
        const e = text.indexOf(']]>', pos + 9);
        if (e < 0) fail('unterminated CDATA section');
        textBuf += text.slice(pos + 9, e);
        pos = e + 3;
        continue;
      }
      if (text.startsWith('<?', pos)) {
        const e = text.indexOf('?>', pos);
        if (e < 0) fail('unterminated processing instruction');
        pos = e + 2;
        continue;
      }
      flushText();
      el.children.push(parseElement(scope));
    }
  };

  skipMisc();
  if (pos >= n || text[pos] !== '<') fail('no root element found');
  const root = parseElement(new Map());
  skipMisc();
  if (pos < n) fail('content after the root element');
  return root;
}

/** Element children only. */
export function childElements(el: XElement): XElement[] {
  return el.children.filter((c): c is XElement => c.kind === 'element');
}

/** Concatenated text content (all descendants), untrimmed. */
export function textContent(el: XElement): string {
  let s = '';
  for (const c of el.children) {
    if (c.kind === 'text') s += c.text;
    else if (c.kind === 'element') s += textContent(c);
  }
  return s;
}

/**
 * The element's exact source text, made standalone: namespace bindings it uses that were
 * declared on an ancestor are added to its start tag (nothing else changes), so the fragment can
 * be parsed on its own and re-emitted in another document.
 */
export function standaloneFragment(source: string, el: XElement, parentScope: Map<string, string>): string {
  const used = new Set<string>();
  const walk = (e: XElement): void => {
    used.add(e.prefix ?? '');
    for (const a of e.attrs) if (a.prefix && a.prefix !== 'xml') used.add(a.prefix);
    for (const c of e.children) if (c.kind === 'element') walk(c);
  };
  walk(el);
  let decl = '';
  for (const p of [...used].sort()) {
    if (el.nsDecls.has(p)) continue;
    const uri = parentScope.get(p);
    if (uri === undefined) continue; // unprefixed element in no namespace
    decl += p === '' ? ` xmlns="${escapeAttr(uri)}"` : ` xmlns:${p}="${escapeAttr(uri)}"`;
  }
  const raw = source.slice(el.start, el.end);
  if (!decl) return raw;
  const cut = el.nameEnd - el.start;
  return raw.slice(0, cut) + decl + raw.slice(cut);
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
