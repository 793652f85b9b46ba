// Pyth adapter of the price feed port, through @pythnetwork/hermes-client: latest prices
// (GET /v2/updates/price/latest) and the server-sent-events stream (/v2/updates/price/stream).
// The client's own retries are turned off: it retries everything (even a malformed body, which
// cannot get better), so retries happen here, bounded, for 5xx, 429, timeouts and network errors.
import { HermesClient } from '@pythnetwork/hermes-client';
import { codeForStatus, MarketDataError, snippet, transportError } from '../errors.js';
import type { PriceFeed, PriceObservation, PriceStream } from '../price-feed.port.js';
import { DEFAULT_RETRY, withRetries, type RetryPolicy } from '../retry.js';
import { fullJitterDelayMs } from '../../shared/retry.js';
import { FEED_ID_RE, normaliseFeedId } from '../../shared/tokens.js';

export { HERMES_PUBLIC_URL } from '../../config/config.js';
import { HERMES_PUBLIC_URL } from '../../config/config.js';

export interface HermesPriceFeedOptions {
  endpoint: string;
  /** Per request, body included. */
  timeoutMs?: number;
  retry?: RetryPolicy;
  /** Reconnects of the stream after it fails (counted from the last successful open). */
  streamRetry?: RetryPolicy;
  onRetry?: (e: MarketDataError, attempt: number, delayMs: number) => void;
}

type EventSourceLike = Awaited<ReturnType<HermesClient['getPriceUpdatesStream']>>;

export class HermesPriceFeed implements PriceFeed {
  private readonly client: HermesClient;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly streamRetry: RetryPolicy;

  constructor(private readonly opts: HermesPriceFeedOptions) {
    this.timeoutMs = opts.timeoutMs ?? 5_000;
    this.client = new HermesClient(opts.endpoint, { timeout: this.timeoutMs, httpRetries: 0 });
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.streamRetry = opts.streamRetry ?? { maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 30_000 };
  }

  async latest(feedIds: string[]): Promise<PriceObservation[]> {
    const ids = checkIds(feedIds);
    if (ids.length === 0) return [];
    const what = `GET /v2/updates/price/latest (${ids.length} feed${ids.length === 1 ? '' : 's'})`;
    return withRetries(
      async () => {
        let update: unknown;
        try {
          update = await this.client.getLatestPriceUpdates(ids, { parsed: true });
        } catch (e) {
          throw mapHermesError(what, e, this.timeoutMs);
        }
        return parsePriceUpdate(update, what);
      },
      this.retry,
      this.opts.onRetry,
    );
  }

  stream(feedIds: string[], onPrice: (p: PriceObservation) => void, onError: (e: MarketDataError) => void): PriceStream {
    const what = 'price stream';
    const report = (e: MarketDataError) => {
      try {
        onError(e);
      } catch {
        // A failing error handler must not take the stream (or the process) down with it.
      }
    };
    let ids: string[];
    try {
      ids = checkIds(feedIds);
    } catch (e) {
      // Reported asynchronously, like every other stream error, so callers handle one path.
      queueMicrotask(() => report(e as MarketDataError));
      return { close: () => undefined };
    }

    let closed = false;
    let source: EventSourceLike | undefined;
    let timer: NodeJS.Timeout | undefined;
    let failures = 0;

    const giveUp = (message: string, status?: number) => {
      if (closed) return;
      closed = true;
      source?.close();
      report(new MarketDataError('STREAM_FAILED', 'pyth', `${what}: ${message}; stopped after ${failures} failed attempt${failures === 1 ? '' : 's'}`, {
        ...(status === undefined ? {} : { status }),
        attempts: failures,
      }));
    };

    const open = () => {
      if (closed) return;
      this.client
        .getPriceUpdatesStream(ids, { parsed: true })
        .then((es) => {
          if (closed) return es.close();
          source = es;
          es.addEventListener('open', () => {
            failures = 0;
          });
          es.addEventListener('message', (ev: MessageEvent) => {
            if (closed) return;
            let observations: PriceObservation[];
            try {
              let body: unknown;
              try {
                body = JSON.parse(String(ev.data));
              } catch {
                throw new MarketDataError('MALFORMED_RESPONSE', 'pyth', `${what}: an update is not JSON (${snippet(String(ev.data)) || 'empty'}); skipped`);
              }
              observations = parsePriceUpdate(body, `${what} update`);
            } catch (e) {
              return report(e as MarketDataError);
            }
            for (const p of observations) {
              try {
                onPrice(p);
              } catch (e) {
                report(new MarketDataError('HANDLER_FAILED', 'pyth', `${what}: the price handler threw: ${(e as Error)?.message ?? String(e)}`, { cause: e }));
              }
            }
          });
          es.addEventListener('error', (ev: Event) => {
            if (closed) return;
            const { code, message } = ev as Event & { code?: number; message?: string };
            failures++;
            const detail = message ?? 'connection error';
            const retryable = code === undefined || code === 429 || code >= 500;
            if (!retryable) return giveUp(`Hermes refused the stream: ${detail}`, code);
            if (failures >= this.streamRetry.maxAttempts) return giveUp(detail, code);
            const notice = new MarketDataError(code === undefined ? 'UNREACHABLE' : codeForStatus(code), 'pyth', `${what}: ${detail}; reconnecting`, {
              ...(code === undefined ? {} : { status: code }),
              attempts: failures,
            });
            if (es.readyState === es.CLOSED) {
              // The EventSource gave up on this response (non-200): reopen it ourselves, with backoff.
              const delay = fullJitterDelayMs(failures, this.streamRetry);
              report(notice);
              timer = setTimeout(open, delay);
            } else {
              // The EventSource reconnects by itself after a dropped connection.
              report(notice);
            }
          });
        })
        .catch((e) => {
          failures++;
          giveUp(`could not open: ${(e as Error)?.message ?? String(e)}`);
        });
    };

    open();
    return {
      close: () => {
        closed = true;
        if (timer) clearTimeout(timer);
        source?.close();
      },
    };
  }
}

function checkIds(feedIds: string[]): string[] {
  if (!Array.isArray(feedIds)) throw new MarketDataError('INVALID_REQUEST', 'pyth', 'feedIds must be an array of 64-hex-digit Pyth feed ids');
  const bad = feedIds.filter((id) => typeof id !== 'string' || !FEED_ID_RE.test(id));
  if (bad.length) {
    throw new MarketDataError('INVALID_REQUEST', 'pyth', `not Pyth feed ids (64 hex digits, optional 0x): ${bad.map((b) => JSON.stringify(b)).join(', ')}`);
  }
  return [...new Set(feedIds.map(normaliseFeedId))];
}

/** The hermes client throws plain Errors; recover the HTTP status and the kind of failure. */
function mapHermesError(what: string, e: unknown, timeoutMs: number): MarketDataError {
  if (e instanceof MarketDataError) return e;
  const err = e as { name?: string; message?: string; issues?: { path: (string | number)[]; message: string }[] };
  const http = /^HTTP error! status: (\d{3})(?:, body: ([\s\S]*))?$/.exec(err?.message ?? '');
  if (http) {
    const status = Number(http[1]);
    return new MarketDataError(codeForStatus(status), 'pyth', `${what}: HTTP ${status}: ${snippet(http[2] ?? '') || 'no body'}`, { status });
  }
  if (err?.name === 'SyntaxError') return new MarketDataError('MALFORMED_RESPONSE', 'pyth', `${what}: the body is not JSON (${err.message})`);
  if (err?.name === 'ZodError' && Array.isArray(err.issues)) {
    const issues = err.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    return new MarketDataError('MALFORMED_RESPONSE', 'pyth', `${what}: the body has the wrong shape (${issues.join('; ')})`);
  }
  return transportError('pyth', what, e, timeoutMs);
}

const INT = /^-?\d+$/;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads the `parsed` part of a Hermes price update (latest or stream), checking every field we use. */
export function parsePriceUpdate(body: unknown, what: string): PriceObservation[] {
  const fail = (problem: string) => new MarketDataError('MALFORMED_RESPONSE', 'pyth', `${what}: the body has the wrong shape (${problem})`);
  if (!isObj(body)) throw fail('not a JSON object');
  if (!Array.isArray(body.parsed)) throw fail('parsed must be an array (ask with parsed=true)');
  return body.parsed.map((u, i) => {
    const at = `parsed[${i}]`;
    if (!isObj(u) || typeof u.id !== 'string' || !FEED_ID_RE.test(u.id)) throw fail(`${at}.id must be a 64-hex-digit feed id`);
    const p = u.price;
    if (!isObj(p)) throw fail(`${at}.price must be an object`);
    if (typeof p.price !== 'string' || !INT.test(p.price)) throw fail(`${at}.price.price must be an integer string`);
    if (typeof p.conf !== 'string' || !/^\d+$/.test(p.conf)) throw fail(`${at}.price.conf must be a non-negative integer string`);
    if (typeof p.expo !== 'number' || !Number.isSafeInteger(p.expo)) throw fail(`${at}.price.expo must be an integer`);
    if (typeof p.publish_time !== 'number' || !Number.isSafeInteger(p.publish_time) || p.publish_time < 0) {
      throw fail(`${at}.price.publish_time must be unix seconds`);
    }
    const slot = isObj(u.metadata) ? u.metadata.slot : undefined;
    return {
      feedId: normaliseFeedId(u.id),
      price: BigInt(p.price),
      conf: BigInt(p.conf),
      expo: p.expo,
      publishTime: p.publish_time,
      ...(typeof slot === 'number' && Number.isSafeInteger(slot) && slot >= 0 ? { slot: BigInt(slot) } : {}),
    };
  });
}
