/**
 * XML 1.0 text rules shared by the StationXML and QuakeML readers: where a position is, which
 * characters a reference may name, which entities exist without a DTD.
 */

/** "line L, column C" of a character offset (1-based), for error messages. */
export function lineCol(text: string, pos: number): string {
  let line = 1;
  let last = -1;
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return `line ${line}, column ${pos - last}`;
}

/** The five entities XML predefines; no other is declared in a document without a DTD. */
export const PREDEFINED_ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** XML 1.0 Char production (§2.2): what a character reference may name (WFC "Legal Character"). */
export function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/** Code point of a character reference's name (`#233`, `#xE9`), NaN when it is not one. */
export function charRefCodePoint(name: string): number {
  if (/^#x[0-9a-fA-F]+$/.test(name)) return parseInt(name.slice(2), 16);
  if (/^#[0-9]+$/.test(name)) return parseInt(name.slice(1), 10);
  return NaN;
}

/**
 * The first reference in markup-free text that is not well-formed: an unterminated one, a
 * character reference to no XML character (`&#0;`, `&#x110000;`), or an entity that is not
 * predefined (`&nbsp;`, or one a DTD declares: DTDs are not read, so its text would be lost).
 * Comments, CDATA sections, processing instructions and the DOCTYPE are skipped.
 */
export function findBadReference(text: string): { pos: number; message: string } | null {
  const re = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>|<!DOCTYPE[^[>]*(?:\[[\s\S]*?\])?\s*>|&([^;&\s<]*)(;?)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[0][0] !== '&') continue;
    const name = m[1];
    if (!m[2]) return { pos: m.index, message: `unterminated entity reference '&${name}'` };
    if (name.startsWith('#')) {
      if (!isXmlChar(charRefCodePoint(name))) return { pos: m.index, message: `bad character reference &${name}; (not an XML character)` };
    } else if (PREDEFINED_ENTITIES[name] === undefined) {
      return { pos: m.index, message: `unknown entity &${name}; (only &lt; &gt; &amp; &quot; &apos; and character references are defined)` };
    }
  }
  return null;
}
