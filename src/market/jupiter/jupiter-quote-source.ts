// Jupiter adapter of the quote source port, through @jup-ag/api's generated SwapApi. We build the
// SwapApi ourselves because createJupiterApiClient ignores basePath (it always calls Jupiter's
// public host), and use the *Raw methods so the exact response body is kept for the audit trail.
import { Configuration, FetchError, RequiredError, ResponseError, SwapApi } from '@jup-ag/api';
import { codeForStatus, MarketDataError, parseRetryAfter, snippet, transportError } from '../errors.js';
import type { JsonValue, Quote, QuoteRequest, QuoteSource, SwapTransaction, SwapTransactionSource } from '../quote-source.port.js';
import { DEFAULT_RETRY, withRetries, type RetryPolicy } from '../retry.js';
import { parseQuoteResponse, parseSwapResponse } from './quote-response.js';
import { parseInstructionsResponse } from './instructions-response.js';
import type { LegInstructions, LegRequest, RouteInstructionsSource } from '../route-instructions.port.js';

/** Jupiter's public (keyless) Swap API base, as in @jup-ag/api 6.0.48's createJupiterApiClient. */
export { JUPITER_PUBLIC_URL } from '../../config/config.js';
import { JUPITER_PUBLIC_URL } from '../../config/config.js';

const BASE58 = /^[1-9A-HJ-NP-Za-km-z]{32,44}$/;
/** Jupiter's errorCode values that mean "no way to swap this", not "try again". */
const NO_ROUTE_CODES = new Set(['COULD_NOT_FIND_ANY_ROUTE', 'NO_ROUTES_FOUND', 'TOKEN_NOT_TRADABLE', 'ROUTE_PLAN_DOES_NOT_CONSUME_ALL_THE_AMOUNT']);

export interface JupiterQuoteSourceOptions {
  /** e.g. https://lite-api.jup.ag/swap/v1 (no trailing slash needed). */
  basePath: string;
  /** Sent as x-api-key (needed on api.jup.ag, not on lite-api). */
  apiKey?: string;
  /** Per request, body included. */
  timeoutMs?: number;
  retry?: RetryPolicy;
  now?: () => Date;
  onRetry?: (e: MarketDataError, attempt: number, delayMs: number) => void;
}

export class JupiterQuoteSource implements QuoteSource, SwapTransactionSource, RouteInstructionsSource {
  readonly api: 'v1' | 'v2' = 'v1';
  protected readonly swapApi: SwapApi;
  protected readonly timeoutMs: number;
  protected readonly retry: RetryPolicy;
  protected readonly now: () => Date;

  constructor(protected readonly opts: JupiterQuoteSourceOptions) {
    this.swapApi = new SwapApi(
      new Configuration({
        basePath: opts.basePath.replace(/\/+$/, ''),
        ...(opts.apiKey ? { headers: { 'x-api-key': opts.apiKey } } : {}),
      }),
    );
    this.timeoutMs = opts.timeoutMs ?? 5_000;
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.now = opts.now ?? (() => new Date());
  }

  async quote(req: QuoteRequest): Promise<Quote> {
    checkMint(req.inputMint, 'inputMint');
    checkMint(req.outputMint, 'outputMint');
    if (typeof req.amount !== 'bigint' || req.amount <= 0n) {
      throw new MarketDataError('INVALID_REQUEST', 'jupiter', `amount must be a positive bigint in base units (got ${String(req.amount)})`);
    }
    if (!Number.isSafeInteger(req.slippageBps) || req.slippageBps < 0 || req.slippageBps > 10_000) {
      throw new MarketDataError('INVALID_REQUEST', 'jupiter', `slippageBps must be an integer from 0 to 10000 (got ${req.slippageBps})`);
    }
    const what = `GET /quote ${req.inputMint} → ${req.outputMint}`;
    return withRetries(
      async () => {
        const body = await this.call(what, (signal) =>
          this.swapApi.quoteGetRaw(
            {
              inputMint: req.inputMint,
              outputMint: req.outputMint,
              // The generated client types amount as a JS number; the query string only needs its
              // text, and a string keeps amounts above 2^53 exact.
              amount: req.amount.toString() as unknown as number,
              slippageBps: req.slippageBps,
            },
            { signal },
          ),
        );
        return parseQuoteResponse(body, this.now().toISOString());
      },
      this.retry,
      this.opts.onRetry,
    );
  }

  /**
   * POST /swap for a quote. quoteRaw is sent as received (the generated serializer would drop
   * fields Jupiter may need); a stored, sanitised quote gets its float fields back first.
   */
  async swapTransaction(quoteRaw: JsonValue, userPublicKey: string): Promise<SwapTransaction> {
    checkMint(userPublicKey, 'userPublicKey');
    const quoteResponse = restoreQuoteFloats(quoteRaw);
    // Validates the quote before the generated serializer touches it (it crashes on a missing routePlan).
    const parsed = parseQuoteResponse(quoteResponse, this.now().toISOString());
    const body = { userPublicKey, quoteResponse, wrapAndUnwrapSol: true, dynamicComputeUnitLimit: true };
    const what = `POST /swap ${parsed.inputMint} → ${parsed.outputMint}`;
    return withRetries(
      async () => {
        const json = await this.call(what, (signal) =>
          this.swapApi.swapPostRaw(
            { swapRequest: { userPublicKey, quoteResponse: quoteResponse as never } },
            // The runtime JSON-encodes an object body itself (Content-Type is application/json).
            async () => ({ signal, body }) as unknown as RequestInit,
          ),
        );
        return parseSwapResponse(json);
      },
      this.retry,
      this.opts.onRetry,
    );
  }

  /**
   * v1 POST /swap-instructions for a leg's quote, with wrapAndUnwrapSol=false (the taker keeps a
   * standing WSOL account) through @jup-ag/api's SwapApi; the raw answer is kept.
   */
  async legInstructions(req: LegRequest): Promise<LegInstructions> {
    checkMint(req.taker, 'taker');
    const quoteResponse = restoreQuoteFloats(req.quoteRaw);
    const parsed = parseQuoteResponse(quoteResponse, this.now().toISOString());
    const body = { userPublicKey: req.taker, quoteResponse, wrapAndUnwrapSol: false, dynamicComputeUnitLimit: false };
    const what = `POST /swap-instructions ${parsed.inputMint} → ${parsed.outputMint}`;
    return withRetries(
      async () => {
        const json = await this.call(what, (signal) =>
          this.swapApi.swapInstructionsPostRaw(
            { swapRequest: { userPublicKey: req.taker, quoteResponse: quoteResponse as never } },
            async () => ({ signal, body }) as unknown as RequestInit,
          ),
        );
        return parseInstructionsResponse(json, 'v1', req.quoteRaw);
      },
      this.retry,
      this.opts.onRetry,
    );
  }

  /** One request: maps every failure to MarketDataError and returns the parsed JSON body. */
  protected async call(what: string, send: (signal: AbortSignal) => Promise<{ raw: Response }>): Promise<unknown> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    let text: string;
    try {
      const res = await send(signal);
      text = await res.raw.text();
    } catch (e) {
      throw await this.mapError(what, e);
    }
    try {
      return JSON.parse(text);
    } catch {
      throw new MarketDataError('MALFORMED_RESPONSE', 'jupiter', `${what}: the body is not JSON (${snippet(text) || 'empty'})`);
    }
  }

  protected async mapError(what: string, e: unknown): Promise<MarketDataError> {
    if (e instanceof MarketDataError) return e;
    if (e instanceof ResponseError) {
      const status = e.response.status;
      let body = '';
      try {
        body = await e.response.text();
      } catch {
        // The body is only for the message; the status already says what happened.
      }
      let errorCode: string | undefined;
      let upstreamMessage: string | undefined;
      try {
        const j = JSON.parse(body) as { errorCode?: unknown; error?: unknown; message?: unknown };
        if (typeof j.errorCode === 'string') errorCode = j.errorCode;
        if (typeof j.error === 'string') upstreamMessage = j.error;
        else if (typeof j.message === 'string') upstreamMessage = j.message;
      } catch {
        // Not JSON: the snippet below still goes into the message.
      }
      const code = errorCode && NO_ROUTE_CODES.has(errorCode) ? 'NO_ROUTE' : codeForStatus(status);
      const detail = upstreamMessage ? `${upstreamMessage}${errorCode ? ` (${errorCode})` : ''}` : snippet(body) || 'no body';
      const retryAfterMs = parseRetryAfter(e.response.headers.get('retry-after'));
      return new MarketDataError(code, 'jupiter', `${what}: HTTP ${status}: ${detail}`, {
        status,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      });
    }
    if (e instanceof RequiredError) return new MarketDataError('INVALID_REQUEST', 'jupiter', `${what}: ${e.message}`);
    if (e instanceof FetchError) return transportError('jupiter', what, e.cause, this.timeoutMs);
    return transportError('jupiter', what, e, this.timeoutMs);
  }
}

export function checkMint(v: string, name: string): void {
  if (typeof v !== 'string' || !BASE58.test(v)) {
    throw new MarketDataError('INVALID_REQUEST', 'jupiter', `${name} must be a base58 Solana address (got ${JSON.stringify(v)})`);
  }
}

/** toStorableJson wrote timeTaken (a float) as a string; Jupiter expects a number back. */
export function restoreQuoteFloats(raw: JsonValue): JsonValue {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const t = raw.timeTaken;
  if (typeof t === 'string' && /^\d+(\.\d+)?([eE][-+]?\d+)?$/.test(t)) return { ...raw, timeTaken: Number(t) };
  return raw;
}
