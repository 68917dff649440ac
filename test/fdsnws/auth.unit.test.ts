/**
 * digestAuth building blocks: users file, header parsing, nonce handling, reload.
 * (End-to-end Digest over HTTP is in auth.test.ts.)
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DigestAuth, parseDigestHeader, parseUsersFile } from '../../src/fdsnws/digestAuth';

const md5 = (s: string) => crypto.createHash('md5').update(s).digest('hex');

/** RFC 7616 response for qop=auth (written here, not taken from the module). */
function answer(a: DigestAuth, user: string, pw: string, nonce: string, uri: string, nc = '00000001'): string {
  const cnonce = 'abcdef0123456789';
  const r = md5(`${md5(`${user}:${a.realm}:${pw}`)}:${nonce}:${nc}:${cnonce}:auth:${md5(`GET:${uri}`)}`);
  return `Digest username="${user}", realm="${a.realm}", nonce="${nonce}", uri="${uri}", response="${r}", opaque="${a.opaque}", algorithm="MD5", qop=auth, nc=${nc}, cnonce="${cnonce}"`;
}
const nonceOf = (challenge: string) => /nonce="([^"]+)"/.exec(challenge)![1];

describe('digestAuth units', () => {
  test('users file: htdigest and plain lines, realm check, comments', () => {
    const warns: string[] = [];
    const u = parseUsersFile(
      ['# comment', '', `alice:FDSN:${md5('alice:FDSN:pw').toUpperCase()}`, `eve:OTHER:${md5('eve:OTHER:pw')}`, 'bob:pa:ss:word', 'carol:', ':nouser', 'junk'].join('\n'),
      'FDSN',
      (m) => warns.push(m),
    );
    expect(u.get('alice')).toEqual({ ha1: md5('alice:FDSN:pw') });
    expect(u.has('eve')).toBe(false); // HA1 of another realm can never match
    expect(u.get('bob')).toEqual({ ha1: md5('bob:FDSN:pa:ss:word') });
    expect(u.get('carol')).toEqual({ ha1: md5('carol:FDSN:') }); // empty password is a password
    expect(warns.join('\n')).toMatch(/line 4: user 'eve' is for realm 'OTHER'/);
    expect(warns.join('\n')).toMatch(/line 7:/);
    expect(warns.join('\n')).toMatch(/line 8:/);
  });

  test('Authorization header parser: quoting, escapes, tokens, errors', () => {
    const p = parseDigestHeader('Digest username="a\\"b", realm="R, x", nc=00000001 ,qop=auth, algorithm=MD5-sess');
    expect(p && Object.fromEntries(p)).toEqual({ username: 'a"b', realm: 'R, x', nc: '00000001', qop: 'auth', algorithm: 'MD5-sess' });
    expect(parseDigestHeader('digest USERNAME="x"')?.get('username')).toBe('x');
    for (const bad of ['Basic abc', 'Digest a="unterminated', 'Digest a=1 b=2', 'Digest a=1, a=2', 'Digest =1', 'Digest a']) {
      expect(parseDigestHeader(bad)).toBeNull();
    }
  });

  test('nonces: issued by us, expire, replay tracked per nonce', () => {
    let t = 1_700_000_000_000;
    const a = new DigestAuth({ realm: 'FDSN', users: { bob: 'pw' }, nonceTtlMs: 1000, now: () => t, secret: 'k' });
    const ch = a.challenge();
    expect(ch).toMatch(/^Digest realm="FDSN", qop="auth", nonce="[^"]+", opaque="[^"]+", algorithm=MD5$/);
    expect(a.challenge(true)).toMatch(/, stale=true$/);
    const n = nonceOf(ch);
    expect(a.verify(answer(a, 'bob', 'pw', n, '/x'), 'GET', '/x')).toEqual({ ok: true, user: 'bob' });
    expect(a.verify(answer(a, 'bob', 'pw', n, '/x'), 'GET', '/x')).toMatchObject({ ok: false, stale: true, reason: 'nonce count replayed' });
    expect(a.verify(answer(a, 'bob', 'pw', n, '/x', '00000002'), 'GET', '/x').ok).toBe(true);
    // Absolute-form uri with the same path+query is the same resource.
    expect(a.verify(answer(a, 'bob', 'pw', n, 'http://h:1/x', '00000003'), 'GET', '/x').ok).toBe(true);
    t += 1001;
    expect(a.verify(answer(a, 'bob', 'pw', n, '/x', '00000004'), 'GET', '/x')).toMatchObject({ ok: false, stale: true, reason: 'nonce expired' });
    // Another secret (e.g. after a restart) does not know our nonces: stale, so clients retry silently.
    const b = new DigestAuth({ realm: 'FDSN', users: { bob: 'pw' }, now: () => t, secret: 'other' });
    const n2 = nonceOf(a.challenge());
    expect(b.verify(answer(b, 'bob', 'pw', n2, '/x'), 'GET', '/x')).toMatchObject({ ok: false, stale: true, reason: 'unknown nonce' });
    // Tampered timestamp (would extend the lifetime) breaks the MAC.
    const [, rnd, mac] = n2.split('.');
    const forged = `${(t + 500).toString(36)}.${rnd}.${mac}`;
    expect(a.verify(answer(a, 'bob', 'pw', forged, '/x'), 'GET', '/x')).toMatchObject({ ok: false, stale: true, reason: 'unknown nonce' });
  });

  test('users file is re-read when it changes', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geonode-users-'));
    try {
      const f = path.join(dir, 'users');
      fs.writeFileSync(f, 'bob:one\n');
      let t = 1_700_000_000_000;
      const a = new DigestAuth({ realm: 'FDSN', usersFile: f, now: () => t });
      expect(a.userCount()).toBe(1);
      const n = nonceOf(a.challenge());
      expect(a.verify(answer(a, 'bob', 'one', n, '/x'), 'GET', '/x').ok).toBe(true);
      fs.writeFileSync(f, 'bob:two\nalice:three\n');
      fs.utimesSync(f, new Date(), new Date(Date.now() + 5000));
      t += 2500;
      expect(a.userCount()).toBe(2);
      expect(a.verify(answer(a, 'bob', 'one', n, '/x', '00000002'), 'GET', '/x').ok).toBe(false);
      expect(a.verify(answer(a, 'bob', 'two', n, '/x', '00000003'), 'GET', '/x').ok).toBe(true);
      const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
      try {
        fs.rmSync(f);
        t += 2500;
        expect(a.userCount()).toBe(0); // a deleted file removes every user
        expect(warn).toHaveBeenCalledWith(expect.stringMatching(/cannot read users file/));
      } finally {
        warn.mockRestore();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
