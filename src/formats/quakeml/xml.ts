/**
 * Generic XML plumbing for QuakeML: text → XmlNode tree (fast-xml-parser, preserveOrder) with
 * namespace handling, and XmlNode tree → text (xmlbuilder2).
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { create } from 'xmlbuilder2';
import { findBadReference, lineCol } from '../xmlText';
import { BED_NS, QUAKEML_NS, type XmlNode } from './model';

/** xmlbuilder2 element handle (its interface type is not exported from the package root). */
export type XMLBuilder = ReturnType<typeof create>;

export class QuakeMLError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QuakeMLError';
  }
}

const XML_NS = 'http://www.w3.org/XML/1998/namespace';

type FxpEntry = Record<string, unknown> & { ':@'?: Record<string, string> };

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  // Keep every value as the exact string: numbers are parsed by us, text (comments) must not be trimmed.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  // Also decodes numeric character references (&#233;), which the basic entity set does not.
  htmlEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

function splitName(q: string): [string | undefined, string] {
  const i = q.indexOf(':');
  return i < 0 ? [undefined, q] : [q.slice(0, i), q.slice(i + 1)];
}

export interface ParsedRoot {
  node: XmlNode;
  /** Namespace URI of the root element (undefined = no namespace). */
  ns: string | undefined;
  localName: string;
}

/**
 * Parse XML text into an XmlNode tree. Throws QuakeMLError with line/column for malformed XML.
 *
 * Namespace handling (why): BED elements lose their prefix (whatever the source used: default ns,
 * `bed:`, or none at all), so the rest of the code compares plain names. Foreign elements/attributes
 * keep their prefix, and each such node gets the `xmlns:p` declaration it needs copied onto itself, so
 * any sub-tree can be stored and written on its own without dangling prefixes (the writer hoists
 * identical declarations back to the root).
 */
export function parseXmlTree(text: string): ParsedRoot {
  if (typeof text !== 'string') throw new QuakeMLError('QuakeML input must be a string');
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (src.trim() === '') throw new QuakeMLError('QuakeML input is empty');
  const v = XMLValidator.validate(src);
  if (v !== true) {
    throw new QuakeMLError(`malformed XML at line ${v.err.line}, column ${v.err.col}: ${v.err.msg}`);
  }
  // fast-xml-parser keeps an undeclared entity as literal text (and decodes HTML names like
  // &nbsp;): a document XML says is not well-formed must not be stored with altered text.
  const bad = findBadReference(src);
  if (bad) throw new QuakeMLError(`malformed XML at ${lineCol(src, bad.pos)}: ${bad.message}`);
  let entries: FxpEntry[];
  try {
    entries = parser.parse(src) as FxpEntry[];
  } catch (e) {
    throw new QuakeMLError(`malformed XML: ${(e as Error).message}`);
  }
  const roots = entries.filter((e) => elementName(e) !== undefined);
  if (roots.length !== 1) {
    throw new QuakeMLError(`XML must have exactly one root element, found ${roots.length}`);
  }
  const rootEntry = roots[0];
  const rootQName = elementName(rootEntry)!;
  const scope = new Map<string, string>([['xml', XML_NS]]);
  const rootAttrs = rootEntry[':@'] ?? {};
  const rootScope = extendScope(scope, rootAttrs);
  const [prefix, local] = splitName(rootQName);
  const ns = rootScope.get(prefix ?? '');
  return { node: convert(rootEntry, scope), ns, localName: local };
}

function elementName(e: FxpEntry): string | undefined {
  for (const k of Object.keys(e)) if (k !== ':@' && k !== '#text') return k;
  return undefined;
}

function extendScope(scope: Map<string, string>, attrs: Record<string, string>): Map<string, string> {
  let out = scope;
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'xmlns' || k.startsWith('xmlns:')) {
      if (out === scope) out = new Map(scope);
      out.set(k === 'xmlns' ? '' : k.slice(6), v);
    }
  }
  return out;
}

function convert(entry: FxpEntry, parentScope: Map<string, string>): XmlNode {
  const qname = elementName(entry)!;
  const srcAttrs = entry[':@'] ?? {};
  const scope = extendScope(parentScope, srcAttrs);
  const [prefix, local] = splitName(qname);
  const ns = scope.get(prefix ?? '');
  const attrs: Record<string, string> = {};
  const declare = (p: string): void => {
    if (p === 'xml' || attrs[`xmlns:${p}`] !== undefined) return;
    const uri = scope.get(p);
    if (uri !== undefined) attrs[`xmlns:${p}`] = uri;
  };
  let name: string;
  if (ns === BED_NS || ns === undefined) {
    // BED, or no namespace at all (sloppy producers): treat as BED.
    name = local;
  } else {
    name = qname;
    if (prefix !== undefined) declare(prefix);
    else attrs.xmlns = ns;
  }
  for (const [k, v] of Object.entries(srcAttrs)) {
    if (k === 'xmlns') {
      if (v !== BED_NS) attrs.xmlns = v;
      continue;
    }
    if (k.startsWith('xmlns:')) {
      const uri = v;
      if (uri !== BED_NS && uri !== QUAKEML_NS) attrs[k] = uri;
      continue;
    }
    attrs[k] = String(v);
    const [ap] = splitName(k);
    if (ap !== undefined) declare(ap);
  }
  const node: XmlNode = { name };
  if (Object.keys(attrs).length > 0) node.attrs = attrs;
  const kids = (entry[qname] as FxpEntry[] | undefined) ?? [];
  const children: XmlNode[] = [];
  let textBuf = '';
  for (const k of kids) {
    if ('#text' in k) {
      textBuf += String(k['#text']);
    } else if (elementName(k) !== undefined) {
      children.push(convert(k, scope));
    }
  }
  if (children.length > 0) {
    node.children = children;
    // Mixed content does not occur in QuakeML; keep non-blank text anyway (foreign elements).
    if (textBuf.trim() !== '') node.text = textBuf;
  } else if (textBuf !== '') {
    node.text = textBuf;
  }
  return node;
}

// ---------------------------------------------------------------------------------------------------
// Tree helpers

export function child(node: XmlNode | undefined, name: string): XmlNode | undefined {
  return node?.children?.find((c) => c.name === name);
}

export function childrenNamed(node: XmlNode | undefined, name: string): XmlNode[] {
  return node?.children?.filter((c) => c.name === name) ?? [];
}

/** Text of a leaf, trimmed; undefined when absent or blank. */
export function textOf(node: XmlNode | undefined): string | undefined {
  const t = node?.text?.trim();
  return t === undefined || t === '' ? undefined : t;
}

export function childText(node: XmlNode | undefined, name: string): string | undefined {
  return textOf(child(node, name));
}

/** Namespace URI bound to an attribute prefix on this (self-contained) node. */
function attrNs(node: XmlNode, attrName: string): string | undefined {
  const [p] = splitName(attrName);
  return p === undefined ? undefined : node.attrs?.[`xmlns:${p}`];
}

/** Attribute by namespace-URI test and local name (prefix-independent). */
export function foreignAttr(node: XmlNode | undefined, nsTest: (uri: string) => boolean, local: string): string | undefined {
  if (!node?.attrs) return undefined;
  for (const [k, v] of Object.entries(node.attrs)) {
    if (k.startsWith('xmlns')) continue;
    const [p, l] = splitName(k);
    if (p === undefined || l !== local) continue;
    const uri = attrNs(node, k);
    if (uri !== undefined && nsTest(uri)) return v;
  }
  return undefined;
}

/** Deep copy without the named direct children (used to split owned sub-objects out of `raw`). */
export function withoutChildren(node: XmlNode, names: ReadonlySet<string>): XmlNode {
  const out: XmlNode = { name: node.name };
  if (node.attrs) out.attrs = { ...node.attrs };
  if (node.text !== undefined) out.text = node.text;
  const kids = node.children?.filter((c) => !names.has(c.name)).map(cloneNode);
  if (kids && kids.length > 0) out.children = kids;
  return out;
}

export function cloneNode(node: XmlNode): XmlNode {
  const out: XmlNode = { name: node.name };
  if (node.attrs) out.attrs = { ...node.attrs };
  if (node.text !== undefined) out.text = node.text;
  if (node.children) out.children = node.children.map(cloneNode);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Serialisation helpers

// Characters not allowed in XML 1.0 documents at all: dropped rather than producing unreadable output.
// eslint-disable-next-line no-control-regex
const ILLEGAL_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/**
 * Pre-escape for xmlbuilder2 text. Why: xmlbuilder2 4 does not escape an `&` that already looks like an
 * entity (`/&(?![A-Za-z]+;|#\d+;)/`), so a literal "&amp;" (ComCat publicIDs contain one) would come
 * out as "&amp;" and be read back as "&". Escaping every `&` ourselves makes each one look like an
 * entity, which xmlbuilder2 then leaves alone; `<`/`>` are still escaped by xmlbuilder2.
 */
export function escText(s: string): string {
  return s.replace(ILLEGAL_XML_CHARS, '').replace(/&/g, '&amp;');
}

/** Same for attribute values, plus whitespace that attribute normalisation would otherwise turn into spaces. */
export function escAttr(s: string): string {
  return escText(s).replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
}

/** Append an XmlNode (already ordered/normalised) under an xmlbuilder2 element. */
export function appendNode(parent: XMLBuilder, node: XmlNode, strip: ReadonlySet<string>): void {
  const attrs: Record<string, string> = {};
  if (node.attrs) {
    for (const [k, v] of Object.entries(node.attrs)) {
      if (strip.has(k) && (k !== 'xmlns' || v === BED_NS)) continue;
      attrs[k] = escAttr(v);
    }
  }
  const el = parent.ele(node.name, attrs);
  if (node.text !== undefined && node.text !== '') el.txt(escText(node.text));
  for (const c of node.children ?? []) appendNode(el, c, strip);
}
