// A local stand-in for Pyth Hermes (https://hermes.pyth.network) speaking the v2 HTTP API that
// @pythnetwork/hermes-client uses: GET /v2/updates/price/latest and the server-sent-events stream
// GET /v2/updates/price/stream. Its failure modes (HTTP 500/429/404, slow answers, malformed or
// wrongly shaped bodies) let tests hold the adapter to "a clear error or a retry, never a crash".
// Listens on 127.0.0.1, random port. Never used by src/.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FailureSwitch, sendJson } from './http-stand-in.js';

export type HermesFailureMode = 'none' | 'http-500' | 'http-429' | 'slow' | 'malformed-json' | 'wrong-shape';

export interface HermesPrice {
  price: string;
  conf: string;
  expo: number;
  publishTime: number;
  slot?: number;
}

export interface HermesStandIn {
  url: string;
  /** Every request seen, in order (path + query). */
  readonly requests: { path: string; ids: string[] }[];
  /** Fail the next `times` requests (default: until set back to 'none'). Applies to latest and stream. */
  fail(mode: HermesFailureMode, times?: number): void;
  setPrice(feedId: string, p: HermesPrice): void;
  /** Sends the current price of these feeds (default: each stream's feeds) to every open stream. */
  push(feedIds?: string[]): void;
  /** Sends one raw SSE data line to every open stream (for malformed updates). */
  pushRaw(data: string): void;
  /** Open stream connections right now. */
  streamCount(): number;
  /** Resolves when at least n streams are open. */
  waitForStreams(n: number): Promise<void>;
  /** Resolves when no stream is open. */
  waitForNoStreams(): Promise<void>;
  close(): Promise<void>;
}

const bare = (id: string) => id.toLowerCase().replace(/^0x/, '');

export async function startHermesStandIn(opts: { slowMs?: number } = {}): Promise<HermesStandIn> {
  const slowMs = opts.slowMs ?? 3_000;
  const prices = new Map<string, HermesPrice>();
  const requests: { path: string; ids: string[] }[] = [];
  const streams = new Set<{ res: ServerResponse; ids: string[] }>();
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  const waiters: (() => void)[] = [];
  const failures = new FailureSwitch<Exclude<HermesFailureMode, 'none'>>();

  const notify = () => {
    for (const w of waiters.splice(0)) w();
  };

  const parsedUpdate = (id: string) => {
    const p = prices.get(id)!;
    const price = { price: p.price, conf: p.conf, expo: p.expo, publish_time: p.publishTime };
    return {
      id,
      price,
      ema_price: { ...price },
      metadata: { slot: p.slot ?? 310_000_000, proof_available_time: p.publishTime + 1, prev_publish_time: p.publishTime - 1 },
    };
  };
  const updateBody = (ids: string[]) => ({
    // Real Hermes sends the Wormhole-signed accumulator update here; its content is opaque to us.
    binary: { encoding: 'hex', data: [Buffer.from(`stand-in:${ids.join(',')}`).toString('hex')] },
    parsed: ids.map(parsedUpdate),
  });

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const ids = url.searchParams.getAll('ids[]').map(bare);
    requests.push({ path: url.pathname, ids });
    const isLatest = url.pathname === '/v2/updates/price/latest';
    const isStream = url.pathname === '/v2/updates/price/stream';
    if (req.method !== 'GET' || (!isLatest && !isStream)) return sendJson(res, 404, 'Not Found');

    const failure = failures.take();
    if (failure === 'http-500') return sendJson(res, 500, 'Internal Server Error');
    if (failure === 'http-429') return sendJson(res, 429, 'Too Many Requests', { 'retry-after': '0' });
    if (failure === 'slow') {
      // Holds the answer past the client's timeout; the client gives up first.
      const t = setTimeout(() => {
        timers.delete(t);
        if (!res.writableEnded && !res.destroyed) sendJson(res, 200, updateBody(ids.filter((id) => prices.has(id))));
      }, slowMs);
      timers.add(t);
      return;
    }
    if (ids.length === 0) return sendJson(res, 400, 'Price ids must be provided');
    const missing = ids.filter((id) => !prices.has(id));
    if (missing.length) return sendJson(res, 404, `Price ids not found: ${missing.join(', ')}`);

    if (isLatest) {
      if (failure === 'malformed-json') return sendJson(res, 200, '{"binary":{"encoding":"hex","data":["00"]},"parsed":[{"id":');
      if (failure === 'wrong-shape') return sendJson(res, 200, { binary: { encoding: 'hex', data: [] }, parsed: [{ id: ids[0], price: { price: 15000000000 } }] });
      return sendJson(res, 200, updateBody(ids));
    }

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const stream = { res, ids };
    streams.add(stream);
    res.on('close', () => {
      streams.delete(stream);
      notify();
    });
    if (failure === 'malformed-json') res.write('data: {"parsed":[{"id":\n\n');
    else if (failure === 'wrong-shape') res.write(`data: ${JSON.stringify({ parsed: [{ id: ids[0], price: 'nope' }] })}\n\n`);
    res.write(`data: ${JSON.stringify(updateBody(ids))}\n\n`);
    notify();
  };

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (e) {
      sendJson(res, 500, String(e));
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const waitFor = (ok: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => (ok() ? resolve() : waiters.push(check));
      check();
    });

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    fail(m, times = Infinity) {
      failures.set(m, times);
    },
    setPrice(feedId, p) {
      prices.set(bare(feedId), p);
    },
    push(feedIds) {
      for (const s of streams) {
        const ids = (feedIds?.map(bare) ?? s.ids).filter((id) => s.ids.includes(id) && prices.has(id));
        if (ids.length) s.res.write(`data: ${JSON.stringify(updateBody(ids))}\n\n`);
      }
    },
    pushRaw(data) {
      for (const s of streams) s.res.write(`data: ${data}\n\n`);
    },
    streamCount: () => streams.size,
    waitForStreams: (n) => waitFor(() => streams.size >= n),
    waitForNoStreams: () => waitFor(() => streams.size === 0),
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const s of streams) s.res.end();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
