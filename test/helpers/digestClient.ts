/**
 * Independent HTTP Digest client for the auth tests (dataselect queryauth, availability
 * queryauth/extentauth). Written from RFC 7616 §3.4 and from what Python's
 * urllib.request.AbstractDigestAuthHandler.get_authorization sends (ObsPy's only auth path),
 * deliberately NOT from src/fdsnws/digestAuth.ts, so the tests check the server against an
 * outside reading of the protocol:
 *   HA1 = MD5(user:realm:password), HA2 = MD5(method:uri),
 *   response = MD5(HA1:nonce:nc:cnonce:qop:HA2)
 *   Authorization: Digest username="…", realm="…", nonce="…", uri="…", response="…",
 *                  opaque="…", algorithm="MD5", qop=auth, nc=00000001, cnonce="…"
 *
 * Keep this file free of imports from src/.
 */
import crypto from 'node:crypto';

export const md5 = (s: string) => crypto.createHash('md5').update(s).digest('hex');

/** WWW-Authenticate → scheme + params (like urllib's parse_http_list + parse_keqv_list). */
export function parseChallenge(h: string | undefined): { scheme: string; p: Record<string, string> } {
  expect(typeof h).toBe('string');
  const [scheme, ...rest] = (h as string).split(' ');
  const p: Record<string, string> = {};
  const re = /([a-zA-Z]+)=("([^"]*)"|[^,\s]+)/g;
  for (let m = re.exec(rest.join(' ')); m; m = re.exec(rest.join(' '))) p[m[1].toLowerCase()] = m[3] ?? m[2];
  return { scheme, p };
}

/** What urllib keeps between requests: the last nonce and how often it was used. */
export interface ClientState {
  lastNonce?: string;
  nonceCount: number;
}

/**
 * urllib's get_authorization: the same header layout, nc incremented when the nonce repeats.
 * Without a shared `st` every call is a first use of the nonce (nc=00000001).
 */
export function authorization(method: string, uri: string, user: string, password: string, chal: Record<string, string>, st: ClientState = { nonceCount: 0 }): string {
  const { realm, nonce, opaque } = chal;
  const algorithm = chal.algorithm ?? 'MD5';
  expect(chal.qop.split(',')).toContain('auth');
  st.nonceCount = nonce === st.lastNonce ? st.nonceCount + 1 : 1;
  st.lastNonce = nonce;
  const nc = st.nonceCount.toString(16).padStart(8, '0');
  const cnonce = crypto.randomBytes(8).toString('hex');
  const ha1 = md5(`${user}:${realm}:${password}`);
  const ha2 = md5(`${method}:${uri}`);
  const response = md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
  let h = `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}"`;
  if (opaque) h += `, opaque="${opaque}"`;
  h += `, algorithm="${algorithm}", qop=auth, nc=${nc}, cnonce="${cnonce}"`;
  return h;
}
