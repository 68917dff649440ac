/**
 * Shared by the HTTP benchmark rows (bench/events.ts, bench/station.ts): the app on 127.0.0.1
 * behind one keep-alive socket, sequential timed GETs, and the p50/p99 latency summary.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One row of the benchmark table. */
export interface BenchRow {
  measure: string;
  value: string;
  reference: string;
}

/** Nearest-rank percentile (p in 0..100) of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export interface HttpResult {
  status: number;
  bytes: number;
}

/** GET 127.0.0.1:port/path through `agent`, counting (not keeping) the body bytes. */
export function httpGet(agent: http.Agent, port: number, p: string): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: p, agent }, (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      })
      .on('error', reject);
  });
}

export interface BenchServer {
  port: number;
  /** Sequential GET over the server's single keep-alive socket. */
  get(path: string): Promise<HttpResult>;
  /** Drop the keep-alive socket and close the server. */
  close(): Promise<void>;
}

/** Listen on 127.0.0.1 (ephemeral port), with a keep-alive agent of one socket for the requests. */
async function startBenchServer(app: { listen(port: number, host: string, cb: () => void): http.Server }): Promise<BenchServer> {
  const server = await new Promise<http.Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return {
    port,
    get: (p) => httpGet(agent, port, p),
    close: async () => {
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Run `fn` against `app` served by startBenchServer; the server is closed afterwards, also on error. */
export async function withBenchServer<T>(app: Parameters<typeof startBenchServer>[0], fn: (server: BenchServer) => Promise<T>): Promise<T> {
  const server = await startBenchServer(app);
  try {
    return await fn(server);
  } finally {
    await server.close();
  }
}

export interface TimedRequests {
  /** Wall time per request in ms, ascending. */
  times: number[];
  /** Body bytes over all timed requests. */
  bytes: number;
}

/**
 * `warmup` untimed then `requests` timed sequential GETs of `url()` (a new URL per call; built
 * outside the timed span). A status that `ok` (default: 200 only) refuses throws, naming `label`
 * and the URL.
 */
export async function timeRequests(
  server: BenchServer,
  url: () => string,
  opts: { warmup: number; requests: number; label: string; ok?: (status: number) => boolean },
): Promise<TimedRequests> {
  const ok = opts.ok ?? ((s: number) => s === 200);
  for (let i = 0; i < opts.warmup; i++) await server.get(url());
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < opts.requests; i++) {
    const u = url();
    const a = process.hrtime.bigint();
    const r = await server.get(u);
    times.push(Number(process.hrtime.bigint() - a) / 1e6);
    if (!ok(r.status)) throw new Error(`${opts.label}: HTTP ${r.status} for ${u}`);
    bytes += r.bytes;
  }
  times.sort((x, y) => x - y);
  return { times, bytes };
}

/** "p50 … ms, p99 … ms (… KiB avg)" of timeRequests' result. */
export function latencySummary(t: TimedRequests): string {
  return `p50 ${percentile(t.times, 50).toFixed(1)} ms, p99 ${percentile(t.times, 99).toFixed(1)} ms (${Math.round(t.bytes / t.times.length / 1024)} KiB avg)`;
}

/** For `require.main === module`: the numeric value after `--name` on the command line. */
export function numberArg(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
}

/** For `require.main === module`: print the rows, or the error with exit code 1. */
export function printRows(rows: Promise<BenchRow[]>): void {
  rows.then(
    (rs) => {
      for (const r of rs) console.log(`${r.measure}: ${r.value} [${r.reference}]`);
    },
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
