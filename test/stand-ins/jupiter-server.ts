// A local stand-in for Jupiter's Swap API (https://lite-api.jup.ag/swap/v1) as @jup-ag/api calls
// it: GET /quote answers a QuoteResponse computed from configurable USD prices (with the fields
// the generated model does not know, and a float timeTaken, like the real one); POST /swap answers
// a real serialized web3.js VersionedTransaction paid by the requested userPublicKey (a zero
// self-transfer plus a memo). Failure modes: HTTP 500/429, slow, malformed JSON, wrong shape.
//
// POST /swap-instructions (v1) and GET /build (v2, needs x-api-key) answer real SPL Token
// instructions against stand-in pools (setPool: one token account per mint, delegated to the
// trader). A DISTORTION of a real AMM, written down here and in the tests that use it: one
// instruction cannot move tokens both ways without an AMM program (none is on npm or buildable
// here), so the pay-in (taker → pool vault) is the `swapInstruction` and the payout (pool vault →
// taker, signed by the taker as the vault's delegate, for the quote's outAmount) is the
// `cleanupInstruction`. A price the pool no longer honours shows as a payout the vault cannot
// cover (drain it), not as Jupiter's 6001 slippage error.
//
// Lookup tables: setLookupTables names tables with their contents (create them for real with the
// RPC stand-in's createLookupTable). Like Jupiter, a leg's answer names only the tables that hold
// an account of that leg's instructions: v1 `addressLookupTableAddresses`, v2
// `addressesByLookupTableAddress` (with the addresses). setPoolAccounts gives a pool the other
// accounts a real AMM's swap reads (pool state, oracle, tick arrays…); they ride on the pay-in
// as read-only accounts after the Transfer's own three, which the token program ignores.
// setRouteAccounts(n) gives each leg's swapInstruction n more read-only accounts (a multi-hop
// route's pools); GET /build caps them with `maxAccounts` as Jupiter does (a route of at most that
// many accounts), so an oversize round trip fits once it is built again with a lower maxAccounts.
// Listens on 127.0.0.1, random port. Never used by src/.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { PublicKey, SystemProgram, TransactionInstruction, TransactionMessage, VersionedTransaction } from '@solana/web3.js';
import {
  createAssociatedTokenAccountIdempotentInstruction,
  createTransferInstruction,
  getAssociatedTokenAddressSync,
} from '@solana/spl-token';
import { ComputeBudgetProgram } from '@solana/web3.js';
import { FailureSwitch, sendJson } from './http-stand-in.js';

export type JupiterFailureMode = 'none' | 'http-500' | 'http-429' | 'slow' | 'malformed-json' | 'wrong-shape';

export interface StandInToken {
  decimals: number;
  /** USD price at expo -8 (150 USD = 15_000_000_000n). */
  usd8: bigint;
}

export interface JupiterStandIn {
  url: string;
  readonly requests: { method: string; path: string; query: Record<string, string>; body?: unknown }[];
  fail(mode: JupiterFailureMode, times?: number): void;
  setToken(mint: string, t: StandInToken): void;
  /** The pool's token account for `mint` (its vault; delegated to the trader for the payout). */
  setPool(mint: string, vault: string): void;
  /** Lookup tables with their contents; an answer names those holding an account of its leg (v1 addresses; v2 with the contents). */
  setLookupTables(tables: Record<string, string[]>): void;
  /** Read-only accounts the pool of `mint` adds to a swap through it (an AMM's state, oracle, tick arrays…). */
  setPoolAccounts(mint: string, accounts: string[]): void;
  /** The API key GET /build accepts. */
  apiKey: string;
  /** Read-only route accounts added to each leg's swap instruction; /build keeps at most maxAccounts − LEG_ACCOUNTS of them. */
  setRouteAccounts(n: number): void;
  /** Extra rate on one direction, in bps (positive = more output), e.g. a price dislocation. */
  setEdgeBps(inputMint: string, outputMint: string, bps: number): void;
  /** The output the stand-in computes for a quote (tests check the adapter against it). */
  expectedOut(inputMint: string, outputMint: string, amount: bigint): bigint;
  close(): Promise<void>;
}

const MEMO_PROGRAM = new PublicKey('MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr');
/**
 * The part of `maxAccounts` a leg keeps for accounts other than its route's pools. A convention of
 * the stand-in, not a count: a real Jupiter route instruction carries ~20 accounts besides its pools
 * (program, token programs, the taker's accounts, event authority), which maxAccounts includes; the
 * stand-in's transfers need fewer, and real legs put their pools in lookup tables, which the
 * stand-in does not (its route accounts are static keys, 33 bytes each in a transaction).
 */
export const LEG_ACCOUNTS = 20;
const FEE_BPS = 4n;

export async function startJupiterStandIn(opts: { slowMs?: number; contextSlot?: number } = {}): Promise<JupiterStandIn> {
  const slowMs = opts.slowMs ?? 3_000;
  const tokens = new Map<string, StandInToken>();
  const edges = new Map<string, bigint>();
  const requests: JupiterStandIn['requests'] = [];
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  const failures = new FailureSwitch<Exclude<JupiterFailureMode, 'none'>>();
  let slot = opts.contextSlot ?? 312_456_789;
  const pools = new Map<string, string>();
  let lookupTables: Record<string, string[]> = {};
  const poolAccounts = new Map<string, string[]>();
  /** The tables that hold at least one account of the leg's instructions. */
  const tablesFor = (groups: { setupInstructions: IxJson[]; swapInstruction: IxJson; cleanupInstruction: IxJson }) => {
    const used = new Set([...groups.setupInstructions, groups.swapInstruction, groups.cleanupInstruction].flatMap((ix) => ix.accounts.map((a) => a.pubkey)));
    return Object.fromEntries(Object.entries(lookupTables).filter(([, addresses]) => addresses.some((a) => used.has(a))));
  };
  let routeAccounts = 0;
  const apiKey = 'stand-in-key';

  const expectedOut = (inputMint: string, outputMint: string, amount: bigint): bigint => {
    const a = tokens.get(inputMint)!;
    const b = tokens.get(outputMint)!;
    const fair = (amount * a.usd8 * 10n ** BigInt(b.decimals)) / (b.usd8 * 10n ** BigInt(a.decimals));
    const edge = edges.get(`${inputMint}>${outputMint}`) ?? 0n;
    return (fair * (10_000n + edge) * (10_000n - FEE_BPS)) / 100_000_000n;
  };

  const quote = (q: URLSearchParams, res: ServerResponse) => {
    const r = quoteBody(q);
    if ('error' in r) return sendJson(res, 400, r);
    sendJson(res, 200, r);
  };

  const quoteBody = (q: URLSearchParams): Record<string, unknown> => {
    const inputMint = q.get('inputMint') ?? '';
    const outputMint = q.get('outputMint') ?? '';
    const amountText = q.get('amount') ?? '';
    const slippageBps = Number(q.get('slippageBps') ?? '50');
    if (!/^[1-9]\d*$/.test(amountText)) {
      return { error: `Query parameter amount cannot be parsed: ${amountText}`, errorCode: 'INVALID_REQUEST' };
    }
    if (!tokens.has(inputMint) || !tokens.has(outputMint) || inputMint === outputMint) {
      return { error: 'Could not find any route', errorCode: 'COULD_NOT_FIND_ANY_ROUTE' };
    }
    const amount = BigInt(amountText);
    const out = expectedOut(inputMint, outputMint, amount);
    const threshold = (out * BigInt(10_000 - slippageBps)) / 10_000n;
    slot += 3;
    return {
      inputMint,
      inAmount: amount.toString(),
      outputMint,
      outAmount: out.toString(),
      otherAmountThreshold: threshold.toString(),
      swapMode: 'ExactIn',
      slippageBps,
      platformFee: null,
      priceImpactPct: '0.000123',
      routePlan: [
        {
          swapInfo: {
            ammKey: '5BKxfWMbmYBAEWvyPZS9esPducUba9GqyMjtLCfbaqyF',
            label: 'Meteora DLMM',
            inputMint,
            outputMint,
            inAmount: amount.toString(),
            outAmount: out.toString(),
            feeAmount: ((amount * FEE_BPS) / 10_000n).toString(),
            feeMint: inputMint,
          },
          percent: 100,
          bps: 10_000,
        },
      ],
      contextSlot: slot,
      timeTaken: 0.015257836,
      swapUsdValue: '150.12',
      simplerRouteUsed: false,
      mostReliableAmmsQuoteReport: { info: { '5BKxfWMbmYBAEWvyPZS9esPducUba9GqyMjtLCfbaqyF': out.toString() } },
      useIncurredSlippageForQuoting: null,
      otherRoutePlans: null,
      loadedLongtailToken: false,
      instructionVersion: null,
    };
  };

  type IxJson = ReturnType<typeof ixJson>;
  const ixJson = (ix: TransactionInstruction) => ({
    programId: ix.programId.toBase58(),
    accounts: ix.keys.map((k) => ({ pubkey: k.pubkey.toBase58(), isSigner: k.isSigner, isWritable: k.isWritable })),
    data: Buffer.from(ix.data).toString('base64'),
  });

  /** The instruction groups of one leg for `taker` (see the distortion in the header). */
  const legInstructions = (taker: PublicKey, q: { inputMint: string; outputMint: string; inAmount: string; outAmount: string }, maxAccounts?: number) => {
    const inMint = new PublicKey(q.inputMint);
    const outMint = new PublicKey(q.outputMint);
    const inVault = pools.get(q.inputMint);
    const outVault = pools.get(q.outputMint);
    if (!inVault || !outVault) return null;
    const takerIn = getAssociatedTokenAddressSync(inMint, taker, true);
    const takerOut = getAssociatedTokenAddressSync(outMint, taker, true);
    const extra = maxAccounts === undefined ? routeAccounts : Math.max(0, Math.min(routeAccounts, maxAccounts - LEG_ACCOUNTS));
    // Distinct per direction (two legs do not share pools), read-only, never touched by the transfer.
    const route = Array.from({ length: extra }, (_, i) => ({
      pubkey: new PublicKey(createHash('sha256').update(`route-account:${q.inputMint}>${q.outputMint}:${i}`).digest()),
      isSigner: false,
      isWritable: false,
    }));
    const payIn = createTransferInstruction(takerIn, new PublicKey(inVault), taker, BigInt(q.inAmount));
    payIn.keys.push(...route);
    for (const a of [...(poolAccounts.get(q.inputMint) ?? []), ...(poolAccounts.get(q.outputMint) ?? [])]) {
      payIn.keys.push({ pubkey: new PublicKey(a), isSigner: false, isWritable: false });
    }
    return {
      computeBudgetInstructions: [
        ixJson(ComputeBudgetProgram.setComputeUnitLimit({ units: 388_876 })),
        ixJson(ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 25_715 })),
      ],
      setupInstructions: [ixJson(createAssociatedTokenAccountIdempotentInstruction(taker, takerOut, taker, outMint))],
      swapInstruction: ixJson(payIn),
      cleanupInstruction: ixJson(createTransferInstruction(new PublicKey(outVault), takerOut, taker, BigInt(q.outAmount))),
      otherInstructions: [],
    };
  };

  const takerOf = (text: unknown): PublicKey | null => {
    try {
      return new PublicKey(String(text));
    } catch {
      return null;
    }
  };

  const swapInstructions = (body: unknown, res: ServerResponse) => {
    const b = body as { userPublicKey?: unknown; wrapAndUnwrapSol?: unknown; quoteResponse?: Record<string, unknown> };
    const taker = takerOf(b?.userPublicKey);
    if (!taker) return sendJson(res, 400, { error: `Invalid userPublicKey: ${String(b?.userPublicKey)}`, errorCode: 'INVALID_REQUEST' });
    const q = b.quoteResponse as { inputMint: string; outputMint: string; inAmount: string; outAmount: string } | undefined;
    if (!q || typeof q.inAmount !== 'string' || typeof q.outAmount !== 'string') {
      return sendJson(res, 400, { error: 'Failed to deserialize the JSON body into the target type: quoteResponse', errorCode: 'INVALID_REQUEST' });
    }
    const groups = legInstructions(taker, q);
    if (!groups) return sendJson(res, 400, { error: 'Could not find any route', errorCode: 'COULD_NOT_FIND_ANY_ROUTE' });
    sendJson(res, 200, { tokenLedgerInstruction: null, ...groups, addressLookupTableAddresses: Object.keys(tablesFor(groups)) });
  };

  const build = (q: URLSearchParams, headers: IncomingMessage['headers'], res: ServerResponse) => {
    if (headers['x-api-key'] !== apiKey) return sendJson(res, 401, { code: 401, message: 'Unauthorized: a valid x-api-key is required' });
    const taker = takerOf(q.get('taker'));
    if (!taker) return sendJson(res, 400, { error: `Invalid taker: ${String(q.get('taker'))}`, errorCode: 'INVALID_REQUEST' });
    const quoted = quoteBody(q);
    if ('error' in quoted) return sendJson(res, 400, quoted);
    const maxText = q.get('maxAccounts');
    if (maxText !== null && !/^[1-9]\d*$/.test(maxText)) return sendJson(res, 400, { error: `Query parameter maxAccounts cannot be parsed: ${maxText}`, errorCode: 'INVALID_REQUEST' });
    const groups = legInstructions(taker, quoted as never, maxText === null ? undefined : Number(maxText));
    if (!groups) return sendJson(res, 400, { error: 'Could not find any route', errorCode: 'COULD_NOT_FIND_ANY_ROUTE' });
    const blockhash = new PublicKey(createHash('sha256').update(`stand-in-blockhash:${slot}`).digest()).toBase58();
    sendJson(res, 200, {
      ...quoted,
      ...groups,
      addressesByLookupTableAddress: tablesFor(groups),
      blockhashWithMetadata: { blockhash, lastValidBlockHeight: 290_000_000 + (slot % 1000) },
    });
  };

  const swap = (body: unknown, res: ServerResponse) => {
    const b = body as { userPublicKey?: unknown; quoteResponse?: { inAmount?: unknown; inputMint?: unknown; outputMint?: unknown } };
    let payer: PublicKey;
    try {
      payer = new PublicKey(String(b?.userPublicKey));
    } catch {
      return sendJson(res, 400, { error: `Invalid userPublicKey: ${String(b?.userPublicKey)}`, errorCode: 'INVALID_REQUEST' });
    }
    if (!b.quoteResponse || typeof b.quoteResponse.inAmount !== 'string') {
      return sendJson(res, 400, { error: 'Failed to deserialize the JSON body into the target type: quoteResponse', errorCode: 'INVALID_REQUEST' });
    }
    const blockhash = new PublicKey(createHash('sha256').update(`stand-in-blockhash:${slot}`).digest()).toBase58();
    const message = new TransactionMessage({
      payerKey: payer,
      recentBlockhash: blockhash,
      instructions: [
        SystemProgram.transfer({ fromPubkey: payer, toPubkey: payer, lamports: 0 }),
        new TransactionInstruction({
          programId: MEMO_PROGRAM,
          keys: [],
          data: Buffer.from(`stand-in swap ${b.quoteResponse.inAmount} ${String(b.quoteResponse.inputMint)} -> ${String(b.quoteResponse.outputMint)}`),
        }),
      ],
    }).compileToV0Message();
    sendJson(res, 200, {
      swapTransaction: Buffer.from(new VersionedTransaction(message).serialize()).toString('base64'),
      lastValidBlockHeight: 290_000_000 + (slot % 1000),
      prioritizationFeeLamports: 9_999,
      computeUnitLimit: 388_876,
      prioritizationType: { computeBudget: { microLamports: 25_715, estimatedMicroLamports: 785_154 } },
      dynamicSlippageReport: null,
      simulationError: null,
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let body: unknown;
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return sendJson(res, 400, { error: 'Failed to parse the request body as JSON', errorCode: 'INVALID_REQUEST' });
      }
    }
    requests.push({ method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), body });
    const isQuote = req.method === 'GET' && url.pathname === '/quote';
    const isSwap = req.method === 'POST' && url.pathname === '/swap';
    const isInstructions = req.method === 'POST' && url.pathname === '/swap-instructions';
    const isBuild = req.method === 'GET' && url.pathname === '/build';
    if (!isQuote && !isSwap && !isInstructions && !isBuild) return sendJson(res, 404, { error: 'Not Found' });

    const failure = failures.take();
    if (failure === 'http-500') return sendJson(res, 500, { error: 'Internal Server Error' });
    if (failure === 'http-429') return sendJson(res, 429, { code: 429, message: 'Rate limit exceeded' }, { 'retry-after': '0' });
    if (failure === 'malformed-json') return sendJson(res, 200, '{"inputMint":"So111');
    if (failure === 'wrong-shape') {
      return sendJson(res, 200, isQuote ? { inputMint: url.searchParams.get('inputMint'), outAmount: 12.5, routePlan: 'none' } : { swapTransaction: 42 });
    }
    if (failure === 'slow') {
      const t = setTimeout(() => {
        timers.delete(t);
        if (!res.writableEnded && !res.destroyed) (isQuote ? quote(url.searchParams, res) : swap(body, res));
      }, slowMs);
      timers.add(t);
      return;
    }
    if (isInstructions) return swapInstructions(body, res);
    if (isBuild) return build(url.searchParams, req.headers, res);
    return isQuote ? quote(url.searchParams, res) : swap(body, res);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) sendJson(res, 500, { error: String(e) });
      else res.destroy();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    fail(m, times = Infinity) {
      failures.set(m, times);
    },
    setToken(mint, t) {
      tokens.set(mint, t);
    },
    setPool(mint, vault) {
      pools.set(mint, vault);
    },
    setLookupTables(tables) {
      lookupTables = tables;
    },
    setPoolAccounts(mint, accounts) {
      poolAccounts.set(mint, accounts);
    },
    setRouteAccounts(n) {
      routeAccounts = n;
    },
    apiKey,
    setEdgeBps(inputMint, outputMint, bps) {
      edges.set(`${inputMint}>${outputMint}`, BigInt(bps));
    },
    expectedOut,
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
