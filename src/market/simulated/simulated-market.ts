// A deterministic simulated market for the embedded default (`npm start` without live keys) and for
// tests: one seeded state that is at once a price feed (Pyth-like), a quote source (Jupiter-like,
// with Jupiter's response shape) and an opportunity generator. Each step moves prices by a seeded
// random walk and opens a short-lived price dislocation on one pair; quotes are computed from the
// same prices, so a round trip is profitable exactly when the dislocation beats fees and impact.
// Some steps publish a wide confidence interval or a stale price, so risk checks fire sometimes.
import { createHash, randomUUID } from 'node:crypto';
import { PublicKey, SystemProgram, TransactionInstruction, TransactionMessage, VersionedTransaction } from '@solana/web3.js';
import { MarketDataError } from '../errors.js';
import { parseQuoteResponse, parseSwapResponse } from '../jupiter/quote-response.js';
import { offerEvery, routeOf, type OpportunityCandidate, type OpportunityRun, type OpportunitySource } from '../opportunity-source.port.js';
import type { PriceFeed, PriceObservation, PriceStream } from '../price-feed.port.js';
import type { JsonValue, Quote, QuoteRequest, QuoteSource, SwapTransaction, SwapTransactionSource } from '../quote-source.port.js';
import { DEFAULT_PAIRS, FEED_ID_RE, normaliseFeedId, type TokenInfo, type TradingPair } from '../../shared/tokens.js';
import bs58 from 'bs58';
import { Prng } from './prng.js';

/** Prices are kept with Pyth's usual exponent. */
export const SIM_EXPO = -8;
const ONE = 100_000_000n; // 1 USD at expo -8
const PPM = 1_000_000n;
const MEMO_PROGRAM = new PublicKey('MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr');

export interface SimulatedMarketConfig {
  seed: number;
  /** How often start() offers a candidate; 0 = never. */
  opportunitiesPerMinute: number;
  pairs?: readonly TradingPair[];
  slippageBps?: number;
  /** Starting USD price per symbol (decimal string); stablecoins default to 1, SOL to 150. */
  startPrices?: Record<string, string>;
  /** Chance per step that a feed publishes a wide confidence interval (default 0.08). */
  wideConfidenceRate?: number;
  /** Chance per step that a feed's last publish is minutes old (default 0.08). */
  stalePriceRate?: number;
  /** Fee per leg in basis points (default 4, a typical SOL/USDC pool). */
  feeBps?: number;
  /** USD depth that sets price impact: impact = trade value / depth (default 20 million). */
  depthUsd?: number;
  /** Clock for detectedAt, quotedAt and publish times (inject a fixed one for reproducible output). */
  now?: () => Date;
  /** Opportunity ids: random by default so restarts never reuse a stream id; inject for tests. */
  newId?: () => string;
  /** Most handler calls start() lets run at once; further ticks wait (default 4). */
  maxInFlight?: number;
}

interface FeedState {
  token: TokenInfo;
  /** USD price at expo -8. */
  price: bigint;
  confPpm: bigint;
  /** Seconds between the last publish and now. */
  ageSec: number;
}

export class SimulatedMarket implements PriceFeed, QuoteSource, OpportunitySource, SwapTransactionSource {
  private readonly rng: Prng;
  private readonly pairs: readonly TradingPair[];
  private readonly tokens = new Map<string, TokenInfo>(); // by mint
  private readonly feeds = new Map<string, FeedState>(); // by feed id
  /** Price dislocation of a direction "inMint>outMint", in ppm of the fair rate. */
  private dislocation = new Map<string, bigint>();
  private readonly subscribers = new Set<{ ids: Set<string>; onPrice: (p: PriceObservation) => void; onError: (e: MarketDataError) => void }>();
  private readonly slippageBps: number;
  private readonly wideRate: number;
  private readonly staleRate: number;
  private readonly feePpm: bigint;
  private readonly depthUsd8: bigint;
  private readonly now: () => Date;
  private readonly newId: () => string;
  private step = 0;
  private slot = 310_000_000n;

  constructor(private readonly config: SimulatedMarketConfig) {
    if (!Number.isSafeInteger(config.seed)) throw new Error(`simulated market seed must be an integer (got ${config.seed})`);
    if (!(config.opportunitiesPerMinute >= 0)) {
      throw new Error(`opportunitiesPerMinute must be ≥ 0 (got ${config.opportunitiesPerMinute})`);
    }
    this.rng = new Prng(config.seed);
    this.pairs = config.pairs ?? DEFAULT_PAIRS;
    if (this.pairs.length === 0) throw new Error('the simulated market needs at least one trading pair');
    this.slippageBps = config.slippageBps ?? 50;
    this.wideRate = config.wideConfidenceRate ?? 0.08;
    this.staleRate = config.stalePriceRate ?? 0.08;
    this.feePpm = BigInt(Math.round((config.feeBps ?? 4) * 100));
    this.depthUsd8 = BigInt(Math.round(config.depthUsd ?? 20_000_000)) * ONE;
    this.now = config.now ?? (() => new Date());
    this.newId = config.newId ?? randomUUID;
    const start = { SOL: '150', ...config.startPrices };
    for (const p of this.pairs) {
      for (const t of [p.a, p.b]) {
        if (this.tokens.has(t.mint)) continue;
        this.tokens.set(t.mint, t);
        const usd = (start as Record<string, string>)[t.symbol] ?? '1';
        this.feeds.set(normaliseFeedId(t.pythFeedId), { token: t, price: decimalToExpo8(usd), confPpm: 500n, ageSec: 0 });
      }
    }
  }

  /** Steps taken so far (one per opportunity). */
  get steps(): number {
    return this.step;
  }

  /**
   * Moves the market one step and returns the opportunity it opens. Deterministic: the same seed
   * and the same sequence of calls give the same prices, amounts and quotes.
   */
  next(): OpportunityCandidate {
    this.step++;
    this.slot += BigInt(this.rng.int(40, 160));
    for (const f of this.feeds.values()) {
      if (isStable(f.token)) {
        // Stablecoins wander within ±0.1 % of a dollar.
        f.price = ONE + BigInt(this.rng.int(-100_000, 100_000));
      } else {
        // ±0.5 % per step, floored so a long run never reaches zero.
        const movePpm = BigInt(this.rng.int(-5_000, 5_000));
        f.price = bigMax(ONE / 100n, (f.price * (PPM + movePpm)) / PPM);
      }
      f.confPpm = this.rng.chance(this.wideRate) ? BigInt(this.rng.int(15_000, 30_000)) : BigInt(this.rng.int(200, 800));
      f.ageSec = this.rng.chance(this.staleRate) ? this.rng.int(120, 600) : this.rng.int(0, 2);
    }
    const pair = this.rng.pick(this.pairs);
    const unit = 10n ** BigInt(Math.max(0, pair.a.decimals - 3)); // round to 0.001 of a token
    const amountIn = bigMax(unit, (this.rng.bigint(pair.minAmountIn, pair.maxAmountIn) / unit) * unit);
    // The opening: −30 … +40 bps on the way out, ±5 bps on the way back. Round-trip costs are
    // about 2 × fee + impact, so roughly four in ten opportunities are worth taking.
    this.dislocation = new Map([
      [`${pair.a.mint}>${pair.b.mint}`, BigInt(this.rng.int(-3_000, 4_000))],
      [`${pair.b.mint}>${pair.a.mint}`, BigInt(this.rng.int(-500, 500))],
    ]);
    this.publish();
    return {
      opportunityId: this.newId(),
      route: routeOf(pair.a, pair.b),
      amountIn,
      source: 'simulated',
      detectedAt: this.now().toISOString(),
      slippageBps: this.slippageBps,
      priceFeedId: normaliseFeedId(pair.a.pythFeedId),
    };
  }

  start(
    onOpportunity: (o: OpportunityCandidate) => void | Promise<void>,
    onError?: (e: unknown, o: OpportunityCandidate) => void,
  ): OpportunityRun {
    return offerEvery(this.config.opportunitiesPerMinute, this.config.maxInFlight ?? 4, () => this.next(), onOpportunity, onError);
  }

  async latest(feedIds: string[]): Promise<PriceObservation[]> {
    return this.checkFeeds(feedIds).map((id) => this.observe(id));
  }

  stream(feedIds: string[], onPrice: (p: PriceObservation) => void, onError: (e: MarketDataError) => void): PriceStream {
    let ids: string[];
    try {
      ids = this.checkFeeds(feedIds);
    } catch (e) {
      queueMicrotask(() => onError(e as MarketDataError));
      return { close: () => undefined };
    }
    const sub = { ids: new Set(ids), onPrice, onError };
    this.subscribers.add(sub);
    // Like Hermes, a new stream starts with the current prices.
    queueMicrotask(() => {
      if (this.subscribers.has(sub)) for (const id of ids) this.deliver(sub, this.observe(id));
    });
    return { close: () => void this.subscribers.delete(sub) };
  }

  async quote(req: QuoteRequest): Promise<Quote> {
    const a = this.tokens.get(req.inputMint);
    const b = this.tokens.get(req.outputMint);
    if (!a || !b || a === b) {
      throw new MarketDataError('NO_ROUTE', 'simulated', `the simulated market has no route ${req.inputMint} → ${req.outputMint}`);
    }
    if (typeof req.amount !== 'bigint' || req.amount <= 0n) {
      throw new MarketDataError('INVALID_REQUEST', 'simulated', `amount must be a positive bigint in base units (got ${String(req.amount)})`);
    }
    if (!Number.isSafeInteger(req.slippageBps) || req.slippageBps < 0 || req.slippageBps > 10_000) {
      throw new MarketDataError('INVALID_REQUEST', 'simulated', `slippageBps must be an integer from 0 to 10000 (got ${req.slippageBps})`);
    }
    const pa = this.feedOf(a).price;
    const pb = this.feedOf(b).price;
    const fair = (req.amount * pa * 10n ** BigInt(b.decimals)) / (pb * 10n ** BigInt(a.decimals));
    const tradeUsd8 = (req.amount * pa) / 10n ** BigInt(a.decimals);
    const impactPpm = bigMin(50_000n, (tradeUsd8 * PPM) / this.depthUsd8);
    const d = this.dislocation.get(`${a.mint}>${b.mint}`) ?? 0n;
    const outAmount = (fair * (PPM + d) * (PPM - this.feePpm) * (PPM - impactPpm)) / (PPM * PPM * PPM);
    const otherAmountThreshold = (outAmount * BigInt(10_000 - req.slippageBps)) / 10_000n;
    const feeAmount = (req.amount * this.feePpm) / PPM;
    const raw: JsonValue = {
      inputMint: a.mint,
      inAmount: req.amount.toString(),
      outputMint: b.mint,
      outAmount: outAmount.toString(),
      otherAmountThreshold: otherAmountThreshold.toString(),
      swapMode: 'ExactIn',
      slippageBps: req.slippageBps,
      platformFee: null,
      priceImpactPct: ppmToDecimal(impactPpm),
      routePlan: [
        {
          swapInfo: {
            ammKey: fakeAddress(`sim-amm:${[a.mint, b.mint].sort().join(':')}`),
            label: 'Simulated AMM',
            inputMint: a.mint,
            outputMint: b.mint,
            inAmount: req.amount.toString(),
            outAmount: outAmount.toString(),
            feeAmount: feeAmount.toString(),
            feeMint: a.mint,
          },
          percent: 100,
          bps: 10_000,
        },
      ],
      contextSlot: Number(this.slot),
      // A float, like Jupiter's: keeps the storable-JSON path honest in simulation too.
      timeTaken: 0.0011 + (this.step % 7) * 0.00037,
      swapUsdValue: formatExpo8(tradeUsd8),
      simplerRouteUsed: false,
    };
    return parseQuoteResponse(raw, this.now().toISOString(), 'simulated');
  }

  /** An unsigned v0 transaction paying from userPublicKey with a memo naming the swap (never a real swap). */
  async swapTransaction(quoteRaw: JsonValue, userPublicKey: string): Promise<SwapTransaction> {
    const q = parseQuoteResponse(quoteRaw, this.now().toISOString(), 'simulated');
    let payer: PublicKey;
    try {
      payer = new PublicKey(userPublicKey);
    } catch {
      throw new MarketDataError('INVALID_REQUEST', 'simulated', `userPublicKey must be a base58 Solana address (got ${JSON.stringify(userPublicKey)})`);
    }
    const message = new TransactionMessage({
      payerKey: payer,
      recentBlockhash: fakeAddress(`sim-blockhash:${this.slot}`),
      instructions: [
        SystemProgram.transfer({ fromPubkey: payer, toPubkey: payer, lamports: 0 }),
        new TransactionInstruction({
          programId: MEMO_PROGRAM,
          keys: [],
          data: Buffer.from(`arbiter simulated swap ${q.inAmount} ${q.inputMint} -> ${q.outAmount} ${q.outputMint}`),
        }),
      ],
    }).compileToV0Message();
    const tx = new VersionedTransaction(message);
    const raw = {
      swapTransaction: Buffer.from(tx.serialize()).toString('base64'),
      lastValidBlockHeight: Number(this.slot) + 150,
      prioritizationFeeLamports: 5_000,
    };
    return parseSwapResponse(raw, 'simulated');
  }

  private publish(): void {
    for (const sub of this.subscribers) for (const id of sub.ids) this.deliver(sub, this.observe(id));
  }

  private deliver(sub: { onPrice: (p: PriceObservation) => void; onError: (e: MarketDataError) => void }, p: PriceObservation): void {
    try {
      sub.onPrice(p);
    } catch (e) {
      try {
        sub.onError(new MarketDataError('HANDLER_FAILED', 'simulated', `price handler threw: ${(e as Error)?.message ?? String(e)}`, { cause: e }));
      } catch {
        // Nothing more to tell anyone.
      }
    }
  }

  private observe(feedId: string): PriceObservation {
    const f = this.feeds.get(feedId)!;
    return {
      feedId,
      price: f.price,
      conf: (f.price * f.confPpm) / PPM,
      expo: SIM_EXPO,
      publishTime: Math.floor(this.now().getTime() / 1000) - f.ageSec,
      slot: this.slot - BigInt(f.ageSec * 3),
    };
  }

  private feedOf(t: TokenInfo): FeedState {
    return this.feeds.get(normaliseFeedId(t.pythFeedId))!;
  }

  private checkFeeds(feedIds: string[]): string[] {
    const bad = feedIds.filter((id) => typeof id !== 'string' || !FEED_ID_RE.test(id));
    if (bad.length) throw new MarketDataError('INVALID_REQUEST', 'simulated', `not Pyth feed ids: ${bad.map((b) => JSON.stringify(b)).join(', ')}`);
    const ids = [...new Set(feedIds.map(normaliseFeedId))];
    const unknown = ids.filter((id) => !this.feeds.has(id));
    if (unknown.length) {
      throw new MarketDataError('REJECTED', 'simulated', `the simulated market does not publish feed(s) ${unknown.join(', ')}; it knows ${[...this.feeds.keys()].join(', ')}`);
    }
    return ids;
  }
}

const isStable = (t: TokenInfo) => t.symbol === 'USDC' || t.symbol === 'USDT';
const bigMax = (a: bigint, b: bigint) => (a > b ? a : b);
const bigMin = (a: bigint, b: bigint) => (a < b ? a : b);

function decimalToExpo8(text: string): bigint {
  const m = /^(\d+)(?:\.(\d{1,8}))?$/.exec(text);
  if (!m) throw new Error(`start price must be a positive decimal with at most 8 decimals (got "${text}")`);
  return BigInt(m[1]!) * ONE + BigInt((m[2] ?? '').padEnd(8, '0'));
}

function formatExpo8(v: bigint): string {
  const frac = (v % ONE).toString().padStart(8, '0').replace(/0+$/, '');
  return frac ? `${v / ONE}.${frac}` : `${v / ONE}`;
}

function ppmToDecimal(ppm: bigint): string {
  const frac = ppm.toString().padStart(6, '0').replace(/0+$/, '');
  return frac ? `0.${frac}` : '0';
}

/** A stable, valid-looking 32-byte address derived from a label. */
function fakeAddress(label: string): string {
  return bs58.encode(createHash('sha256').update(label).digest());
}
