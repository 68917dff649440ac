/**
 * HTTP Digest authentication for the fdsnws `queryauth` methods (RFC 7616, compatible with
 * RFC 2617 clients). The FDSN spec names Digest, and ObsPy's client only speaks Digest (urllib
 * HTTPDigestAuthHandler: algorithm MD5, qop=auth, nc/cnonce, echoes opaque), so Basic is not
 * offered at all.
 *
 * Supported: algorithm MD5 and MD5-sess, qop=auth. Not supported: auth-int, SHA-256, userhash
 * (urllib would choke on a SHA-256 challenge; the MD5 challenge is what every client handles).
 * Requests without qop (RFC 2069 style) are refused, because they cannot carry nc/cnonce and
 * would be replayable.
 *
 * Nonces are stateless: `<ms timestamp, base36>.<random>.<HMAC-SHA256(secret, ts.random)>`, so
 * any process with the same secret can verify them and nothing is stored per challenge. They
 * expire after `nonceTtlMs` (default 5 min); an expired (or otherwise unacceptable) nonce with a
 * CORRECT response gets a fresh challenge with `stale=true`, which tells clients to retry with
 * the new nonce without asking the user again. Replays are refused by remembering, per nonce,
 * the highest nonce-count seen (bounded map, entries dropped when the nonce expires).
 *
 * Users file (config.usersFile, env GEONODE_USERS), one user per line; lines starting with `#`
 * are comments (no trailing comments: `#` may be part of a password):
 *
 *     alice:FDSN:<32 hex digits of MD5("alice:FDSN:<password>")>   (Apache `htdigest users FDSN alice`)
 *     bob:s3cret                                                     (plain user:password)
 *
 * A line with exactly three ':'-separated fields whose third field is 32 hex digits is an
 * htdigest line (HA1 = MD5(user:realm:password)); its realm must equal config.authRealm, or the
 * line is skipped with a warning (the HA1 cannot match another realm). Anything else is
 * `user:password`, the password being everything after the first ':' (it may contain ':').
 * The file is re-read when its mtime changes (checked at most every 2 s), so users can be added
 * without a restart.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import type express from 'express';
import type { NodeConfig } from '../config';
import { FdsnError } from './errors';

export interface DigestUser {
  /** HA1 = MD5(user:realm:password), lowercase hex. */
  ha1: string;
}

export interface DigestAuthOptions {
  realm: string;
  /** Users file path ('' = no users). */
  usersFile?: string;
  /** Users given directly (tests, embedding); merged over the file, plain passwords. */
  users?: Readonly<Record<string, string>>;
  /** HMAC key for nonces; default random per instance (nonces die with the process → stale=true). */
  secret?: Buffer | string;
  /** Nonce lifetime in ms (default 300000). */
  nonceTtlMs?: number;
  /** Clock (tests). */
  now?: () => number;
}

/** Result of checking an Authorization header. */
export type DigestResult =
  | { ok: true; user: string }
  | { ok: false; stale: boolean; reason: string };

export function md5(s: string): string {
  return crypto.createHash('md5').update(s, 'utf8').digest('hex');
}

/** Constant-time comparison of two strings (false when lengths differ; the length is not secret). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

/** Parse the users file text. Unknown/invalid lines are reported through `warn` and skipped. */
export function parseUsersFile(text: string, realm: string, warn: (msg: string) => void = () => undefined): Map<string, DigestUser> {
  const users = new Map<string, DigestUser>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const f = line.split(':');
    if (f.length < 2 || f[0] === '') {
      warn(`users file line ${i + 1}: expected user:realm:HA1 or user:password`);
      return;
    }
    const user = f[0];
    if (f.length === 3 && /^[0-9a-fA-F]{32}$/.test(f[2])) {
      if (f[1] !== realm) {
        warn(`users file line ${i + 1}: user '${user}' is for realm '${f[1]}', not '${realm}'; skipped`);
        return;
      }
      users.set(user, { ha1: f[2].toLowerCase() });
      return;
    }
    const password = line.slice(user.length + 1);
    users.set(user, { ha1: md5(`${user}:${realm}:${password}`) });
  });
  return users;
}

/**
 * `Digest k=v, k="v", …` → map (lower-case keys). Null when the header is not a well-formed
 * Digest credential (unknown scheme, broken quoting, duplicate keys).
 */
export function parseDigestHeader(header: string): Map<string, string> | null {
  const m = /^\s*Digest\s+(.*)$/is.exec(header);
  if (!m) return null;
  const s = m[1];
  const out = new Map<string, string>();
  let i = 0;
  const skipWs = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  while (i < s.length) {
    skipWs();
    if (s[i] === ',') {
      i++;
      continue;
    }
    if (i >= s.length) break;
    const k = /^[A-Za-z0-9_-]+/.exec(s.slice(i));
    if (!k) return null;
    const key = k[0].toLowerCase();
    i += k[0].length;
    skipWs();
    if (s[i] !== '=') return null;
    i++;
    skipWs();
    let value = '';
    if (s[i] === '"') {
      i++;
      let closed = false;
      while (i < s.length) {
        const c = s[i++];
        if (c === '\\' && i < s.length) value += s[i++];
        else if (c === '"') {
          closed = true;
          break;
        } else value += c;
      }
      if (!closed) return null;
    } else {
      const t = /^[^\s,"]+/.exec(s.slice(i));
      if (!t) return null;
      value = t[0];
      i += value.length;
    }
    if (out.has(key)) return null;
    out.set(key, value);
    skipWs();
    if (i < s.length && s[i] !== ',') return null;
  }
  return out;
}

const NONCE_RE = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{22,64})$/;
const MAX_TRACKED_NONCES = 100_000;
const USERS_RECHECK_MS = 2000;

export class DigestAuth {
  readonly realm: string;
  readonly opaque: string;
  private readonly secret: Buffer;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly usersFile: string;
  private readonly extraUsers: Map<string, DigestUser>;
  private fileUsers = new Map<string, DigestUser>();
  private fileMtimeMs = -1;
  private lastCheckMs = -Infinity;
  /** nonce → highest nc accepted and expiry; insertion order = age (oldest evicted first). */
  private readonly seen = new Map<string, { nc: number; expires: number }>();
  /** HA1 of no user: keeps the work (and timing) the same for unknown user names. */
  private readonly dummyHa1: string;

  constructor(opts: DigestAuthOptions) {
    this.realm = opts.realm;
    this.secret = opts.secret === undefined ? crypto.randomBytes(32) : Buffer.from(opts.secret);
    this.ttlMs = opts.nonceTtlMs ?? 300_000;
    this.now = opts.now ?? (() => Date.now()); // late-bound: a mocked Date.now is honoured
    this.usersFile = opts.usersFile ?? '';
    this.extraUsers = new Map(Object.entries(opts.users ?? {}).map(([u, p]) => [u, { ha1: md5(`${u}:${this.realm}:${p}`) }]));
    // Opaque is only echoed by clients; derived from the secret so it is stable per key.
    this.opaque = this.mac(`opaque:${this.realm}`).slice(0, 22);
    this.dummyHa1 = md5(crypto.randomBytes(16).toString('hex'));
    this.reloadUsers();
  }

  private mac(text: string): string {
    return crypto.createHmac('sha256', this.secret).update(text).digest('base64url');
  }

  /** Re-read the users file when its mtime changed (at most every USERS_RECHECK_MS). */
  private reloadUsers(): void {
    if (!this.usersFile) return;
    const t = this.now();
    if (t - this.lastCheckMs < USERS_RECHECK_MS) return;
    this.lastCheckMs = t;
    let mtime: number;
    try {
      mtime = fs.statSync(this.usersFile).mtimeMs;
    } catch (e) {
      if (this.fileMtimeMs !== -2) console.warn(`auth: cannot read users file ${this.usersFile}: ${(e as Error).message}`);
      this.fileMtimeMs = -2;
      this.fileUsers = new Map();
      return;
    }
    if (mtime === this.fileMtimeMs) return;
    this.fileMtimeMs = mtime;
    this.fileUsers = parseUsersFile(fs.readFileSync(this.usersFile, 'utf8'), this.realm, (msg) => console.warn(`auth: ${this.usersFile}: ${msg}`));
  }

  private lookup(user: string): DigestUser | undefined {
    this.reloadUsers();
    return this.extraUsers.get(user) ?? this.fileUsers.get(user);
  }

  /** Number of known users (for startup logs). */
  userCount(): number {
    this.reloadUsers();
    return new Set([...this.fileUsers.keys(), ...this.extraUsers.keys()]).size;
  }

  newNonce(): string {
    const ts = this.now().toString(36);
    const rnd = crypto.randomBytes(12).toString('base64url');
    return `${ts}.${rnd}.${this.mac(`${ts}.${rnd}`)}`;
  }

  /** The WWW-Authenticate value of a fresh challenge. */
  challenge(stale = false): string {
    // algorithm=MD5 unquoted and qop quoted, as RFC 7616 §3.3 writes them; urllib parses both.
    return `Digest realm="${this.realm}", qop="auth", nonce="${this.newNonce()}", opaque="${this.opaque}", algorithm=MD5${stale ? ', stale=true' : ''}`;
  }

  /** 'ok' | 'expired' | 'invalid' (not ours / tampered). */
  private nonceState(nonce: string): 'ok' | 'expired' | 'invalid' {
    const m = NONCE_RE.exec(nonce);
    if (!m) return 'invalid';
    if (!safeEqual(m[3], this.mac(`${m[1]}.${m[2]}`))) return 'invalid';
    const issued = parseInt(m[1], 36);
    const age = this.now() - issued;
    // A nonce "from the future" beyond small clock skew is not ours either.
    if (age < -5000) return 'invalid';
    return age > this.ttlMs ? 'expired' : 'ok';
  }

  /**
   * Check an Authorization header for `method` + `requestUri` (path + query as sent, i.e.
   * express `req.originalUrl`).
   */
  verify(authorization: string | undefined, method: string, requestUri: string): DigestResult {
    if (!authorization) return { ok: false, stale: false, reason: 'no credentials' };
    const p = parseDigestHeader(authorization);
    if (!p) return { ok: false, stale: false, reason: 'malformed Digest Authorization header' };
    const username = p.get('username');
    const realm = p.get('realm');
    const nonce = p.get('nonce');
    const uri = p.get('uri');
    const response = p.get('response');
    const qop = p.get('qop');
    const nc = p.get('nc');
    const cnonce = p.get('cnonce');
    const algorithm = (p.get('algorithm') ?? 'MD5').toUpperCase();
    if (username === undefined || realm === undefined || nonce === undefined || uri === undefined || response === undefined) {
      return { ok: false, stale: false, reason: 'incomplete Digest credentials' };
    }
    if (realm !== this.realm) return { ok: false, stale: false, reason: 'wrong realm' };
    if (qop !== 'auth' || nc === undefined || cnonce === undefined || !/^[0-9a-fA-F]{8}$/.test(nc) || cnonce === '') {
      return { ok: false, stale: false, reason: 'qop=auth with nc and cnonce is required' };
    }
    if (algorithm !== 'MD5' && algorithm !== 'MD5-SESS') return { ok: false, stale: false, reason: `unsupported algorithm ${algorithm}` };
    const opaque = p.get('opaque');
    if (opaque !== undefined && !safeEqual(opaque, this.opaque)) return { ok: false, stale: false, reason: 'opaque mismatch' };
    // The digest covers `uri`; it must be the URI of THIS request, or a response captured for
    // one URL could be replayed for another (absolute-form URIs are compared by path+query).
    if (!uriMatches(uri, requestUri)) return { ok: false, stale: false, reason: 'uri does not match the request' };
    if (!/^[0-9a-fA-F]{32}$/.test(response)) return { ok: false, stale: false, reason: 'malformed response' };

    const u = this.lookup(username);
    let ha1 = u ? u.ha1 : this.dummyHa1;
    if (algorithm === 'MD5-SESS') ha1 = md5(`${ha1}:${nonce}:${cnonce}`);
    const ha2 = md5(`${method.toUpperCase()}:${uri}`);
    const expected = md5(`${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`);
    const digestOk = safeEqual(expected, response.toLowerCase()) && u !== undefined;
    if (!digestOk) return { ok: false, stale: false, reason: 'wrong user name or password' };

    // Credentials are right; now the nonce must be fresh, ours and not replayed. Failing that,
    // stale=true lets the client retry at once with the new nonce (RFC 7616 §3.3).
    const state = this.nonceState(nonce);
    if (state !== 'ok') return { ok: false, stale: true, reason: state === 'expired' ? 'nonce expired' : 'unknown nonce' };
    const n = parseInt(nc, 16);
    const t = this.now();
    this.prune(t);
    const prev = this.seen.get(nonce);
    if (prev && n <= prev.nc) return { ok: false, stale: true, reason: 'nonce count replayed' };
    if (prev) prev.nc = n;
    else {
      if (this.seen.size >= MAX_TRACKED_NONCES) this.seen.delete(this.seen.keys().next().value as string);
      const issued = parseInt(nonce.split('.')[0], 36);
      this.seen.set(nonce, { nc: n, expires: issued + this.ttlMs });
    }
    return { ok: true, user: username };
  }

  /** Drop tracked nonces that have expired (they are refused by nonceState anyway). */
  private prune(t: number): void {
    for (const [k, v] of this.seen) {
      if (v.expires >= t) break; // insertion order ≈ expiry order
      this.seen.delete(k);
    }
  }
}

function uriMatches(uri: string, requestUri: string): boolean {
  if (uri === requestUri) return true;
  if (/^https?:\/\//i.test(uri)) {
    try {
      const u = new URL(uri);
      return `${u.pathname}${u.search}` === requestUri;
    } catch {
      return false;
    }
  }
  return false;
}

/** One DigestAuth per config object, so every service of a node shares nonces and users. */
const instances = new WeakMap<object, DigestAuth>();

export function digestAuthFor(ctx: { config: NodeConfig; digestAuth?: DigestAuth }): DigestAuth {
  if (ctx.digestAuth) return ctx.digestAuth;
  let a = instances.get(ctx.config);
  if (!a) {
    a = new DigestAuth({ realm: ctx.config.authRealm || 'FDSN', usersFile: ctx.config.usersFile ?? '' });
    instances.set(ctx.config, a);
  }
  return a;
}

/** Name of the authenticated user, set by requireDigest (undefined on anonymous routes). */
export function authenticatedUser(res: express.Response): string | undefined {
  const u = (res.locals as { fdsnUser?: unknown }).fdsnUser;
  return typeof u === 'string' ? u : undefined;
}

/**
 * Express middleware for `…/queryauth`-style routes: on valid Digest credentials sets
 * `res.locals.fdsnUser` (read it with authenticatedUser(res)) and continues; otherwise sets the
 * `WWW-Authenticate` challenge and passes a 401 FdsnError to the router's fdsnErrorHandler, so the
 * body is the FDSN error text with the calling service's version. Mount it BEFORE any body
 * parser: unauthenticated POST bodies are then never parsed.
 */
export function requireDigest(ctx: { config: NodeConfig; digestAuth?: DigestAuth }): express.RequestHandler {
  const auth = digestAuthFor(ctx);
  return (req, res, next) => {
    const r = auth.verify(req.get('authorization'), req.method, req.originalUrl);
    if (r.ok) {
      res.locals.fdsnUser = r.user;
      next();
      return;
    }
    res.setHeader('WWW-Authenticate', auth.challenge(r.stale));
    const detail =
      r.reason === 'no credentials'
        ? 'Authentication required: this method serves restricted data and needs HTTP Digest credentials (user name and password). Unrestricted data is also available without authentication from /query.'
        : r.stale
          ? `The nonce of the request is no longer valid (${r.reason}); retry with the new nonce of this challenge.`
          : `Authentication failed (${r.reason}).`;
    next(new FdsnError(401, detail));
  };
}
