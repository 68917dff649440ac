/**
 * Harness for driving the CLI through its programmatic entry `main(argv, io)`: captured
 * stdout/stderr, starting a long-running command (serve, start) until it listens, and a plain
 * HTTP GET against the started server.
 */
import http from 'node:http';
import { main, type CliIo } from '../../src/cli';

/** A non-TTY output stream that keeps everything written to it. */
export class Sink {
  text = '';
  isTTY = false;
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

export type TestIo = CliIo & { out: Sink; err: Sink };

/** CliIo with captured stdout (`io.out.text`) and stderr (`io.err.text`), no signal handlers. */
export function makeIo(cwd: string, env: NodeJS.ProcessEnv = {}): TestIo {
  const out = new Sink();
  const err = new Sink();
  return { stdout: out, stderr: err, out, err, env, cwd, handleSignals: false };
}

/**
 * Run `main(argv, io)` for a command that serves (serve, start) and wait until it listens;
 * rejects with stderr when the command exits first. `stop()` aborts it, `done` is its exit code.
 */
export async function startListening(argv: string[], io: TestIo): Promise<{ port: number; done: Promise<number>; stop: () => void }> {
  const ac = new AbortController();
  io.signal = ac.signal;
  let port = -1;
  const listening = new Promise<void>((resolve) => {
    io.onListening = (_url, p) => {
      port = p;
      resolve();
    };
  });
  const done = main(argv, io);
  await Promise.race([listening, done.then((code) => Promise.reject(new Error(`${argv[0]} exited ${code}: ${io.err.text}`)))]);
  return { port, done, stop: () => ac.abort() };
}

/** GET with node:http (no supertest: the server is a real listening one), whole body. */
export function httpGet(url: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

/** httpGet with the body decoded as UTF-8. */
export async function httpGetText(url: string): Promise<{ status: number; body: string }> {
  const r = await httpGet(url);
  return { status: r.status, body: r.body.toString('utf8') };
}
