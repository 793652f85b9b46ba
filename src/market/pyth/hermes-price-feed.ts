// Pyth adapter of the price feed port, through @pythnetwork/hermes-client: latest prices
// (GET /v2/updates/price/latest) and the server-sent-events stream (/v2/updates/price/stream).
// The client's own retries are turned off: it retries everything (even a malformed body, which
// cannot get better), so retries happen here, bounded, for 5xx, 429, timeouts and network errors.
import { HermesClient } from '@pythnetwork/hermes-client';
import { z } from 'zod';
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

/**
 * The part of a Hermes price update (latest or stream) Arbiter uses, declared once in zod. Hermes
 * sends more (ema_price, binary, metadata.proof_available_time …): unknown fields are allowed
 * here, since upstream may add some. Prices stay strings until BigInt: never a JS float.
 */
const hermesPriceUpdate = z.looseObject({
  parsed: z.array(
    z.looseObject({
      id: z.string().regex(FEED_ID_RE, { error: 'must be a 64-hex-digit feed id' }),
      price: z.looseObject({
        price: z.string({ error: 'must be an integer string' }).regex(INT, { error: 'must be an integer string' }),
        conf: z.string({ error: 'must be a non-negative integer string' }).regex(/^\d+$/, { error: 'must be a non-negative integer string' }),
        expo: z.int({ error: 'must be an integer' }),
        publish_time: z.int({ error: 'must be unix seconds' }).min(0, { error: 'must be unix seconds' }),
      }, { error: 'must be an object' }),
      // A slot that is missing or not a count is left out, not an error: it is only evidence.
      metadata: z.unknown(),
    }),
    { error: 'must be an array (ask with parsed=true)' },
  ),
}, { error: 'not a JSON object' });

/** Reads the `parsed` part of a Hermes price update (latest or stream), every wrong field named at once. */
export function parsePriceUpdate(body: unknown, what: string): PriceObservation[] {
  const r = hermesPriceUpdate.safeParse(body);
  if (!r.success) {
    const problems = r.error.issues.map((i) => {
      const at = i.path.reduce<string>((p, k) => (typeof k === 'number' ? `${p}[${k}]` : p ? `${p}.${String(k)}` : String(k)), '');
      return at ? `${at} ${i.message}` : i.message;
    });
    throw new MarketDataError('MALFORMED_RESPONSE', 'pyth', `${what}: the body has the wrong shape (${problems.join('; ')})`);
  }
  return r.data.parsed.map((u) => {
    const slot = typeof u.metadata === 'object' && u.metadata !== null ? (u.metadata as { slot?: unknown }).slot : undefined;
    return {
      feedId: normaliseFeedId(u.id),
      price: BigInt(u.price.price),
      conf: BigInt(u.price.conf),
      expo: u.price.expo,
      publishTime: u.price.publish_time,
      ...(typeof slot === 'number' && Number.isSafeInteger(slot) && slot >= 0 ? { slot: BigInt(slot) } : {}),
    };
  });
}
