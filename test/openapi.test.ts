/**
 * openapi.yaml kept true: it parses as strict YAML (js-yaml refuses duplicate keys, which is what
 * swagger-parser and redocly use), every $ref resolves, every operation documents a 2xx answer,
 * and the query parameters of each /products route are exactly those the router accepts
 * (documented name or an "alias X" / "aliases X, Y" in its description).
 */
import fs from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { ANALYSIS_ROUTE_PARAMETERS } from '../src/products/analysisRoutes';
import { PRODUCTS_ROUTE_PARAMETERS } from '../src/products/routes';

type Obj = Record<string, unknown>;
const text = fs.readFileSync(path.join(__dirname, '..', 'openapi.yaml'), 'utf8');

describe('openapi.yaml', () => {
  test('strict YAML: a duplicated key is an error (the parser is strict: a control case)', () => {
    expect(() => load('a:\n  b: 1\n  b: 2\n')).toThrow(/duplicated mapping key/);
    expect(() => load(text)).not.toThrow();
  });

  const spec = load(text) as Obj;
  const resolve = (ref: string): unknown => ref.replace(/^#\//, '').split('/').reduce<unknown>((o, k) => (o as Obj | undefined)?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], spec);

  test('OpenAPI 3, every $ref resolves, every operation has a 2xx or 3xx answer', () => {
    expect(String(spec.openapi)).toMatch(/^3\./);
    const refs: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v as Obj)) {
          if (k === '$ref' && typeof x === 'string') refs.push(x);
          else walk(x);
        }
      }
    };
    walk(spec);
    for (const r of refs) expect([r, resolve(r) !== undefined]).toEqual([r, true]);
    for (const [p, item] of Object.entries(spec.paths as Obj)) {
      for (const [method, op] of Object.entries(item as Obj)) {
        if (!['get', 'post', 'put', 'delete', 'head', 'options'].includes(method)) continue;
        const codes = Object.keys((op as Obj).responses as Obj);
        expect([p, method, codes.some((c) => /^[23]\d\d$/.test(c))]).toEqual([p, method, true]);
      }
    }
  });

  /** Query parameter names an operation documents, aliases included. */
  const documented = (p: string): string[] => {
    const op = ((spec.paths as Obj)[p] as Obj | undefined)?.get as Obj | undefined;
    expect([p, op !== undefined]).toEqual([p, true]);
    const names: string[] = [];
    for (const raw of (op!.parameters as Obj[] | undefined) ?? []) {
      const prm = (typeof raw.$ref === 'string' ? resolve(raw.$ref) : raw) as Obj;
      if (prm.in !== 'query') continue;
      names.push(String(prm.name));
      const m = /\balias(?:es)? ([\w.]+(?:, [\w.]+)*)/i.exec(String(prm.description ?? ''));
      if (m) names.push(...m[1].split(', ').map((a) => a.replace(/\.$/, '')));
    }
    return names.sort();
  };

  test.each(Object.entries(PRODUCTS_ROUTE_PARAMETERS))('/products%s: documented query parameters = accepted ones', (route, accepted) => {
    expect(documented(`/products${route}`)).toEqual([...accepted].sort());
  });

  const analysisPath: Record<string, string> = {
    features: '/products/features',
    anomalies: '/products/anomalies',
    heatmap: '/products/heatmap',
    association: '/products/events/{eventid}/association',
    package: '/products/events/{eventid}/package',
  };
  test.each(Object.entries(ANALYSIS_ROUTE_PARAMETERS))('analysis route %s: documented query parameters = accepted ones', (route, accepted) => {
    expect(documented(analysisPath[route])).toEqual([...accepted].sort());
  });
});
