// Typed failures of the market data adapters (Pyth, Jupiter, simulated). Every upstream problem
// (HTTP status, timeout, unreachable host, malformed or wrongly shaped body) becomes one of
// these, so callers can record a clear event or retry instead of crashing on a raw fetch error.

export type MarketDataSource = 'pyth' | 'jupiter' | 'simulated';

export type MarketDataErrorCode =
  /** Upstream answered 5xx (or another unexpected status). */
  | 'UPSTREAM_ERROR'
  /** Upstream answered 429. */
  | 'RATE_LIMITED'
  /** No answer within the configured timeout. */
  | 'TIMEOUT'
  /** Connection refused, DNS failure, reset: the request never got an HTTP answer. */
  | 'UNREACHABLE'
  /** The body was not JSON, or JSON of the wrong shape. */
  | 'MALFORMED_RESPONSE'
  /** Upstream refused the request (4xx other than 429), e.g. an unknown feed id or mint. */
  | 'REJECTED'
  /** Jupiter found no route for the pair and amount. */
  | 'NO_ROUTE'
  /** The price stream failed for good (it is closed; open a new one). */
  | 'STREAM_FAILED'
  /** The caller passed something the adapter cannot send (bad mint, amount ≤ 0, …). */
  | 'INVALID_REQUEST'
  /** The caller's own stream handler threw; the stream goes on. */
  | 'HANDLER_FAILED';

const RETRYABLE: ReadonlySet<MarketDataErrorCode> = new Set(['UPSTREAM_ERROR', 'RATE_LIMITED', 'TIMEOUT', 'UNREACHABLE']);

export class MarketDataError extends Error {
  readonly retryable: boolean;
  constructor(
    readonly code: MarketDataErrorCode,
    readonly source: MarketDataSource,
    message: string,
    readonly details: {
      status?: number;
      /** How many requests were made before giving up (1 = no retry). */
      attempts?: number;
      /** Upstream's Retry-After, in milliseconds, when it sent one. */
      retryAfterMs?: number;
      cause?: unknown;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'MarketDataError';
    this.retryable = RETRYABLE.has(code);
  }

  get status(): number | undefined {
    return this.details.status;
  }

  get attempts(): number {
    return this.details.attempts ?? 1;
  }

  /** A storable description (no stack, no cause object) for an event or a log line. */
  toJSON(): { code: MarketDataErrorCode; source: MarketDataSource; message: string; status: number | null; attempts: number } {
    return { code: this.code, source: this.source, message: this.message, status: this.status ?? null, attempts: this.attempts };
  }

  /** Same error, with the number of attempts that led to it. */
  withAttempts(attempts: number): MarketDataError {
    return new MarketDataError(this.code, this.source, this.message, { ...this.details, attempts });
  }
}

export function isMarketDataError(e: unknown): e is MarketDataError {
  return e instanceof MarketDataError;
}

/** Maps an HTTP status to the error code callers act on. */
export function codeForStatus(status: number): MarketDataErrorCode {
  if (status === 429) return 'RATE_LIMITED';
  if (status >= 400 && status < 500) return 'REJECTED';
  return 'UPSTREAM_ERROR';
}

/** Recognises fetch failures that never reached HTTP: timeouts and network errors. */
export function transportError(source: MarketDataSource, what: string, e: unknown, timeoutMs: number): MarketDataError {
  const err = e as { name?: string; message?: string; cause?: { name?: string; message?: string; code?: string } };
  const names = [err?.name, err?.cause?.name];
  if (names.includes('TimeoutError') || names.includes('AbortError')) {
    return new MarketDataError('TIMEOUT', source, `${what}: no answer within ${timeoutMs} ms`, { cause: e });
  }
  const detail = err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(e);
  return new MarketDataError('UNREACHABLE', source, `${what}: could not reach the server (${detail})`, { cause: e });
}

/** Parses Retry-After (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Keeps upstream bodies short in messages: enough to act on, never a wall of HTML. */
export function snippet(body: string, max = 200): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
