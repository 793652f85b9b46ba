// The paper venue: the embedded default. Nothing reaches a chain; fills are simulated from the
// quote, deterministically (the slippage of a fill is drawn from a PRNG keyed by a seed and the
// transaction's signature, so the same transaction always fills the same way).
//
// It still behaves like a chain where that matters for the ledger:
// - transactions are real Solana v0 transactions and the signature is checked (Ed25519 over the
//   message bytes); a bad one is refused with 'signature verification failed';
// - a signature fills at most once: a second submit returns the first outcome;
// - blockhashes expire: a submitted transaction lands the first time someone looks (confirm or
//   status) while the paper block height is ≤ its lastValidBlockHeight, and expires otherwise.
// Its book lives in memory: after a restart every old signature is 'unknown'.
import { createHash } from 'node:crypto';
import { VersionedTransaction } from '@solana/web3.js';
import bs58 from 'bs58';
import { VenueError } from '../errors.js';
import {
  attachSignature,
  buildRouteTransaction,
  checkIntent,
  computeUnitLimitOf,
  decodeSwapTransaction,
  LAMPORTS_PER_SIGNATURE,
  priorityFeeLamports,
  signerKeyOf,
  toPrepared,
  verifyEd25519,
} from '../transaction.js';
import type {
  ConfirmOutcome,
  FillQuery,
  PreparedTransaction,
  SubmitOutcome,
  TradeIntent,
  TransactionStatus,
  Venue,
} from '../venue.port.js';

export interface PaperVenueOptions {
  /** Seed of the slippage draw; the same seed and transaction always give the same fill. */
  seed?: string;
  /** Each fill gives up between 0 and this many basis points of expectedOut. Default 30. */
  maxSlippageBps?: number;
  /**
   * A round trip's leg 1 delivers this many bps more of the intermediate than leg 2 spends
   * (FillQuery.intermediateSpentByNextLeg): the rest stays as inventory. Default 0.
   */
  leg1SurplusBps?: number;
  priorityFeeMicroLamports?: bigint;
  computeUnitLimit?: number;
  /** How many blocks a blockhash stays valid (Solana: 150). */
  blockhashValidBlocks?: number;
  startBlockHeight?: bigint;
  /** How many transactions the in-memory book keeps (oldest forgotten first). */
  maxRemembered?: number;
  now?: () => Date;
}

type PaperEntry = {
  submit: SubmitOutcome;
  signerPublicKey: string;
  lastValidBlockHeight: bigint;
  inputMint: string;
  outputMint: string;
  inAmount: bigint;
  expectedOut: bigint;
  fee: bigint;
  result?: ConfirmOutcome;
};

export class PaperVenue implements Venue {
  readonly name = 'paper' as const;
  private height: bigint;
  private readonly book = new Map<string, PaperEntry>();
  private readonly seed: string;
  private readonly maxSlippageBps: bigint;
  private readonly leg1SurplusBps: bigint;
  private readonly priorityFee: bigint;
  private readonly computeUnitLimit: number;
  private readonly validBlocks: bigint;
  private readonly maxRemembered: number;
  private readonly now: () => Date;

  constructor(opts: PaperVenueOptions = {}) {
    this.seed = opts.seed ?? 'arbiter-paper';
    const bps = opts.maxSlippageBps ?? 30;
    if (!Number.isInteger(bps) || bps < 0 || bps > 10_000) throw new RangeError(`maxSlippageBps must be an integer 0..10000 (got ${bps})`);
    this.maxSlippageBps = BigInt(bps);
    const surplus = opts.leg1SurplusBps ?? 0;
    if (!Number.isInteger(surplus) || surplus < 0 || surplus > 10_000) throw new RangeError(`leg1SurplusBps must be an integer 0..10000 (got ${surplus})`);
    this.leg1SurplusBps = BigInt(surplus);
    this.priorityFee = opts.priorityFeeMicroLamports ?? 1000n;
    this.computeUnitLimit = opts.computeUnitLimit ?? 200_000;
    this.validBlocks = BigInt(opts.blockhashValidBlocks ?? 150);
    this.height = opts.startBlockHeight ?? 1000n;
    this.maxRemembered = opts.maxRemembered ?? 100_000;
    this.now = opts.now ?? (() => new Date());
  }

  /** The paper chain's block height (and slot: paper blocks are never skipped). */
  blockHeight(): bigint {
    return this.height;
  }

  /** Moves the paper chain on; transactions whose blockhash is now too old will never land. */
  advanceBlocks(n: number | bigint): void {
    const by = BigInt(n);
    if (by < 0n) throw new RangeError('the paper chain only moves forward');
    this.height += by;
  }

  async prepare(intent: TradeIntent, signerPublicKey: Uint8Array): Promise<PreparedTransaction> {
    checkIntent(intent);
    const payer = signerKeyOf(signerPublicKey);
    const blockhash = bs58.encode(createHash('sha256').update(`paper-blockhash:${this.seed}:${this.height}`).digest());
    let tx: VersionedTransaction;
    if (intent.swapTransactionBase64 !== undefined) {
      tx = decodeSwapTransaction(intent.swapTransactionBase64, payer);
      tx.message.recentBlockhash = blockhash;
    } else {
      tx = buildRouteTransaction({
        intent,
        payer,
        blockhash,
        priorityFeeMicroLamports: this.priorityFee,
        computeUnitLimit: this.computeUnitLimit,
      });
    }
    return toPrepared('paper', intent, tx, this.height + this.validBlocks);
  }

  async submit(prepared: PreparedTransaction, signature: Uint8Array): Promise<SubmitOutcome> {
    const { tx, signature: sig } = attachSignature(prepared, signature);
    const known = this.book.get(sig);
    if (known) return known.submit.status === 'submitted' ? { ...known.submit, alreadyProcessed: true } : known.submit;

    let submit: SubmitOutcome;
    if (!verifyEd25519(tx.message.staticAccountKeys[0]!.toBytes(), tx.message.serialize(), signature)) {
      submit = { status: 'failed', signature: sig, reason: 'signature verification failed' };
    } else if (this.height > prepared.lastValidBlockHeight) {
      submit = {
        status: 'expired',
        signature: sig,
        reason: `blockhash not found: block height ${this.height} is past the transaction's last valid block height ${prepared.lastValidBlockHeight}`,
      };
    } else {
      submit = { status: 'submitted', signature: sig, submittedAt: this.now().toISOString(), alreadyProcessed: false };
    }
    const cuLimit = computeUnitLimitOf(tx.message) ?? 200_000n;
    this.remember(sig, {
      submit,
      signerPublicKey: prepared.signerPublicKey,
      lastValidBlockHeight: prepared.lastValidBlockHeight,
      inputMint: prepared.inputMint,
      outputMint: prepared.outputMint,
      inAmount: prepared.inAmount,
      expectedOut: prepared.expectedOut,
      fee: LAMPORTS_PER_SIGNATURE + priorityFeeLamports(prepared.priorityFeeMicroLamports, cuLimit),
      result:
        submit.status === 'submitted'
          ? undefined
          : submit.status === 'failed'
            ? { status: 'failed', signature: sig, reason: submit.reason }
            : { status: 'expired', signature: sig, reason: submit.reason, lastValidBlockHeight: prepared.lastValidBlockHeight },
    });
    return submit;
  }

  async confirm(query: FillQuery, opts: { signal?: AbortSignal } = {}): Promise<ConfirmOutcome> {
    if (opts.signal?.aborted) throw new VenueError('CONFIRM_ABORTED', `stopped waiting for ${query.signature}`);
    const entry = this.book.get(query.signature);
    if (!entry) {
      return {
        status: 'expired',
        signature: query.signature,
        lastValidBlockHeight: query.lastValidBlockHeight,
        reason: 'the paper venue never received this transaction (its book starts empty at each start), so it can never land',
      };
    }
    const outcome = this.settle(query.signature, entry);
    if (outcome.status !== 'confirmed' || !query.intermediateMint) return outcome;
    // The paper book's balances: leg 2 spent what it was quoted for, leg 1 delivered the surplus on top.
    const spent = query.intermediateSpentByNextLeg ?? 0n;
    return { ...outcome, intermediateChangeBaseUnits: (spent * this.leg1SurplusBps) / 10_000n };
  }

  async status(signature: string, lastValidBlockHeight?: bigint): Promise<TransactionStatus> {
    const entry = this.book.get(signature);
    if (!entry) return lastValidBlockHeight !== undefined && this.height > lastValidBlockHeight ? 'expired' : 'unknown';
    return this.settle(signature, entry).status;
  }

  /** Lands a submitted transaction if its blockhash is still valid, once; returns how it ended. */
  private settle(signature: string, entry: PaperEntry): ConfirmOutcome {
    if (entry.result) return entry.result;
    if (this.height > entry.lastValidBlockHeight) {
      entry.result = {
        status: 'expired',
        signature,
        lastValidBlockHeight: entry.lastValidBlockHeight,
        reason: `not landed by block height ${entry.lastValidBlockHeight}; the chain is at ${this.height}`,
      };
      return entry.result;
    }
    const bps = this.slippageBps(signature);
    const amountOut = (entry.expectedOut * (10_000n - bps)) / 10_000n;
    const amountIn = entry.inAmount;
    const slot = this.height;
    this.height += 1n;
    entry.result = {
      status: 'confirmed',
      signature,
      slot,
      fee: entry.fee,
      amountIn,
      amountOut,
      realisedPnl: entry.inputMint === entry.outputMint ? amountOut - amountIn : null,
      confirmedAt: this.now().toISOString(),
    };
    return entry.result;
  }

  /** Uniform in [0, maxSlippageBps], keyed by seed and signature, in integers only. */
  private slippageBps(signature: string): bigint {
    const h = createHash('sha256').update(`${this.seed}:${signature}`).digest();
    return (BigInt(h.readUInt32BE(0)) * (this.maxSlippageBps + 1n)) >> 32n;
  }

  private remember(signature: string, entry: PaperEntry): void {
    this.book.set(signature, entry);
    while (this.book.size > this.maxRemembered) {
      const oldest = this.book.keys().next().value as string;
      this.book.delete(oldest);
    }
  }
}
