// Jupiter Swap API v2: GET /build quotes and builds a leg in one call (ExactIn, `taker`, needs
// x-api-key). @jup-ag/api 6.0 has no model for it, so it is a plain fetch through the same error
// mapping as the v1 adapter; quotes and v1's POST /swap still go through the generated client.
import { ResponseError } from '@jup-ag/api';
import { MarketDataError } from '../errors.js';
import type { JsonValue } from '../quote-source.port.js';
import type { LegInstructions, LegRequest } from '../route-instructions.port.js';
import { withRetries } from '../retry.js';
import { parseInstructionsResponse } from './instructions-response.js';
import { checkMint, JupiterQuoteSource, type JupiterQuoteSourceOptions } from './jupiter-quote-source.js';
import { parseQuoteResponse } from './quote-response.js';

export class JupiterBuildSource extends JupiterQuoteSource {
  override readonly api = 'v2' as const;
  private readonly buildBase: string;

  /** basePath serves /quote (v1); buildBasePath serves /build (v2, e.g. https://api.jup.ag/swap/v2). */
  constructor(opts: JupiterQuoteSourceOptions & { buildBasePath: string; apiKey: string }) {
    super(opts);
    this.buildBase = opts.buildBasePath.replace(/\/+$/, '');
    if (!opts.apiKey) throw new MarketDataError('INVALID_REQUEST', 'jupiter', 'Jupiter v2 /build needs an API key (x-api-key)');
  }

  override async legInstructions(req: LegRequest): Promise<LegInstructions> {
    checkMint(req.taker, 'taker');
    const q = parseQuoteResponse(req.quoteRaw, this.now().toISOString());
    const params = new URLSearchParams({
      inputMint: q.inputMint,
      outputMint: q.outputMint,
      amount: q.inAmount.toString(),
      slippageBps: String(q.slippageBps),
      taker: req.taker,
      wrapAndUnwrapSol: 'false',
      ...(req.maxAccounts ? { maxAccounts: String(req.maxAccounts) } : {}),
    });
    const what = `GET /build ${q.inputMint} → ${q.outputMint}`;
    return withRetries(
      async () => {
        const json = await this.call(what, async (signal) => {
          const raw = await fetch(`${this.buildBase}/build?${params}`, { signal, headers: { 'x-api-key': this.opts.apiKey as string, accept: 'application/json' } });
          if (!raw.ok) throw new ResponseError(raw, 'Response returned an error code');
          return { raw };
        });
        return parseInstructionsResponse(json, 'v2', json as JsonValue);
      },
      this.retry,
      this.opts.onRetry,
    );
  }
}
