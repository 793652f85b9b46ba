// The Solana venue: sends signed transactions to a Solana RPC node with @solana/web3.js 1.x and
// reads each fill back from the confirmed transaction's balances.
//
// - prepare: with both legs' route instructions (intent.roundTrip), ONE v0 round trip composed by
//   ./round-trip.ts, simulated unsigned for its units, guarded by a self-TransferChecked of the
//   input account for balance-at-prepare + minimum profit (one in flight per input account),
//   with both legs' lookup tables (v2: from the answer; v1: getMultipleAccounts, cached a TTL);
//   else Jupiter's swap transaction (blockhash refreshed) or, without one, the route
//   transaction of ../transaction.ts; lastValidBlockHeight comes with the blockhash.
// - submit: sendRawTransaction with preflight (a bad signature or a failing simulation is refused
//   before it can cost a fee) and maxRetries 0: the node does not rebroadcast, confirm() does,
//   and only until lastValidBlockHeight, so "expired" is a fact, not a guess.
// - confirm: polls block height, then the signature status (in that order: a status read after
//   a block height past lastValidBlockHeight that is still empty means the transaction can no
//   longer land), then getTransaction for the fee and balances.
// - HA: every send (the first and each rebroadcast) first asks whether the engine context it runs
//   in may still act (assertEngineMayAct: the leader's monotonic lease deadline), so a deposed
//   leader whose RPC path still works sends nothing past its deadline, even when its step-down
//   timer runs late.
// - RPC failures become VenueError; a refused or failed transaction is an outcome, not an error.
import { AccountLayout, getAssociatedTokenAddressSync, MintLayout } from '@solana/spl-token';
import {
  AddressLookupTableAccount,
  AddressLookupTableProgram,
  Connection,
  PublicKey as PublicKeyClass,
  SendTransactionError,
  SolanaJSONRPCError,
  VersionedTransaction,
  type Commitment,
  type Finality,
  type PublicKey,
  type SignatureStatus,
  type TransactionError,
  type VersionedMessage,
  type VersionedTransactionResponse,
} from '@solana/web3.js';
import { assertEngineMayAct } from '../../ledger/leadership/fencing.js';
import { VenueError } from '../errors.js';
import { fillAmounts, ownerDelta, type BalanceRecord, type TokenBalance } from '../fill-amounts.js';
import {
  attachSignature,
  buildRouteTransaction,
  checkIntent,
  decodeSwapTransaction,
  signerKeyOf,
  toPrepared,
} from '../transaction.js';
import type {
  ConfirmOptions,
  ConfirmOutcome,
  FillQuery,
  InstructionRole,
  PreparedTransaction,
  SubmitOutcome,
  RouteLegJson,
  TradeIntent,
  TransactionFailure,
  TransactionStatus,
  Venue,
} from '../venue.port.js';
import { pause } from '../../shared/retry.js';
import { composeRoundTrip, composeSwap, InFlightAccounts, SIMULATION_UNIT_LIMIT, tradeMemo, unitsWithMargin } from './round-trip.js';
import { decodeTransactionFailure, describeFailure, transactionErrorFromMessage } from './transaction-error.js';

export interface SolanaVenueOptions {
  rpcUrl: string;
  priorityFeeMicroLamports: bigint;
  computeUnitLimit: number;
  /** Receiver of the stand-in route transaction's transfer; the signer itself when absent. */
  settlementAddress?: PublicKey;
  /** Time between two polls of confirm(). Default 400 ms (about one slot). */
  pollIntervalMs?: number;
  /** Per-request timeout. Default 10 s. */
  rpcTimeoutMs?: number;
  /** confirm() gives up with RPC_UNAVAILABLE after this many failed polls in a row. Default 5. */
  maxConsecutivePollFailures?: number;
  /** A round trip asks for its simulated units plus this percentage. Default 20. */
  computeUnitMarginPct?: number;
  /** How long a fetched lookup table is reused. Default 60 s. */
  lookupTableTtlMs?: number;
  now?: () => Date;
}

const COMMITMENT = 'confirmed' satisfies Commitment & Finality;
const MAX_REMEMBERED = 10_000;
/** Transaction errors a node reports when a v0 message's lookups do not resolve. */
const LOOKUP_ERRORS = new Set(['AddressLookupTableNotFound', 'InvalidAddressLookupTableOwner', 'InvalidAddressLookupTableData', 'InvalidAddressLookupTableIndex']);

type Sent = { raw: Uint8Array; lastValidBlockHeight: bigint; submit: Extract<SubmitOutcome, { status: 'submitted' }> };

export class SolanaVenue implements Venue {
  readonly name = 'solana' as const;
  readonly connection: Connection;
  /** Signed bytes of what this process sent, for rebroadcasting until lastValidBlockHeight. */
  private readonly sent = new Map<string, Sent>();
  private readonly pollMs: number;
  private readonly maxPollFailures: number;
  private readonly now: () => Date;
  /** One round trip in flight per input token account (its guard read the balance at prepare). */
  readonly inFlight = new InFlightAccounts();
  private readonly tables = new Map<string, { table: AddressLookupTableAccount; untilMs: number }>();

  constructor(private readonly opts: SolanaVenueOptions) {
    const timeout = opts.rpcTimeoutMs ?? 10_000;
    this.connection = new Connection(opts.rpcUrl, {
      commitment: COMMITMENT,
      // Retries are ours to decide (and web3.js would log to the console while it waits).
      disableRetryOnRateLimit: true,
      fetchMiddleware: (info, init, next) => next(info, { ...init, signal: AbortSignal.timeout(timeout) } as typeof init),
    });
    this.pollMs = opts.pollIntervalMs ?? 400;
    this.maxPollFailures = opts.maxConsecutivePollFailures ?? 5;
    this.now = opts.now ?? (() => new Date());
  }

  async prepare(intent: TradeIntent, signerPublicKey: Uint8Array): Promise<PreparedTransaction> {
    checkIntent(intent);
    const payer = signerKeyOf(signerPublicKey);
    if (intent.roundTrip) return this.prepareRoundTrip(intent, payer);
    if (intent.swap) return this.prepareSwap(intent, payer);
    const swap = intent.swapTransactionBase64 !== undefined ? decodeSwapTransaction(intent.swapTransactionBase64, payer) : null;
    const { blockhash, lastValidBlockHeight } = await this.rpc('getLatestBlockhash', () => this.connection.getLatestBlockhash(COMMITMENT));
    let tx: VersionedTransaction;
    if (swap) {
      // Jupiter's blockhash may be seconds old already; a fresh one gives the full ~60 s window.
      swap.message.recentBlockhash = blockhash;
      tx = swap;
    } else {
      tx = buildRouteTransaction({
        intent,
        payer,
        blockhash,
        priorityFeeMicroLamports: this.opts.priorityFeeMicroLamports,
        computeUnitLimit: this.opts.computeUnitLimit,
        settlement: this.opts.settlementAddress,
      });
    }
    return toPrepared('solana', intent, tx, BigInt(lastValidBlockHeight));
  }

  /**
   * The round trip as one v0 transaction: balance of the input token account read now (the
   * guard's base), lookup tables of both legs, composed at the runtime's unit maximum and
   * simulated (unsigned), then composed again with the simulated units × margin. A simulation
   * that fails (the guard: no profit; a leg: no liquidity) is SIMULATION_FAILED: nothing is
   * signed or sent. Holds the input token account until the outcome is known.
   */
  private async prepareRoundTrip(intent: TradeIntent, payer: PublicKey): Promise<PreparedTransaction> {
    const rt = intent.roundTrip!;
    if (intent.inputMint !== intent.outputMint) {
      throw new VenueError('INVALID_REQUEST', `a round trip starts and ends in one mint (got ${intent.inputMint} → ${intent.outputMint})`);
    }
    const mint = new PublicKeyClass(intent.inputMint);
    const account = getAssociatedTokenAddressSync(mint, payer, true);
    const [mintInfo, accountInfo] = await this.rpc('getMultipleAccounts', () => this.connection.getMultipleAccountsInfo([mint, account], COMMITMENT));
    if (!mintInfo || mintInfo.data.length < MintLayout.span) throw new VenueError('INVALID_REQUEST', `mint ${mint.toBase58()} does not exist on this cluster`);
    if (!accountInfo || accountInfo.data.length < AccountLayout.span) {
      throw new VenueError('INVALID_REQUEST', `the signer has no token account ${account.toBase58()} of ${mint.toBase58()}: create it (the round trip trades from a standing account)`);
    }
    const balance = AccountLayout.decode(accountInfo.data).amount;
    const decimals = MintLayout.decode(mintInfo.data).decimals;
    const guardAmount = balance + rt.minProfitBaseUnits;
    const lookupTables = await this.lookupTablesOf(rt.legs);
    const { blockhash, lastValidBlockHeight } = await this.rpc('getLatestBlockhash', () => this.connection.getLatestBlockhash(COMMITMENT));
    const parts = {
      payer,
      blockhash,
      legs: [rt.legs[0], rt.legs[1]] as [typeof rt.legs[0], typeof rt.legs[1]],
      computeUnitLimit: SIMULATION_UNIT_LIMIT,
      computeUnitPriceMicroLamports: this.opts.priorityFeeMicroLamports,
      guard: { account, mint, decimals, amount: guardAmount },
      lookupTables,
      memo: tradeMemo(intent.opportunityId),
    };
    const { tx: trial, roles } = composeRoundTrip(parts);
    const simulatedUnits = await this.simulatedUnits(trial, 'the round trip', lookupTables, roles);
    const computeUnitLimit = unitsWithMargin(simulatedUnits, this.opts.computeUnitMarginPct ?? 20);
    const { tx, bytes } = composeRoundTrip({ ...parts, computeUnitLimit });
    // ~150 blocks of ~400 ms: past that the blockhash is dead and the hold would only block.
    const nowMs = this.now().getTime();
    this.inFlight.take(account.toBase58(), intent.opportunityId, nowMs, nowMs + 90_000);
    return {
      ...toPrepared('solana', intent, tx, BigInt(lastValidBlockHeight)),
      roundTrip: {
        guardAccount: account.toBase58(),
        balanceAtPrepareBaseUnits: balance,
        minProfitBaseUnits: rt.minProfitBaseUnits,
        guardAmountBaseUnits: guardAmount,
        simulatedUnits,
        computeUnitLimit,
        lookupTables: lookupTables.map((t) => t.key.toBase58()),
        serializedBytes: bytes,
        instructionRoles: roles,
        legs: rt.legs.map((l) => ({ api: l.api, raw: l.raw })),
      },
    };
  }

  /**
   * A single-leg swap (an inventory sale B → base) as one v0 transaction: the leg's lookup tables,
   * composed at the unit maximum and simulated unsigned, then composed with the simulated units ×
   * margin. No profit guard: Jupiter's swap instruction refuses less than the leg's minimum out.
   */
  private async prepareSwap(intent: TradeIntent, payer: PublicKey): Promise<PreparedTransaction> {
    const leg = intent.swap!;
    if (intent.inputMint === intent.outputMint) {
      throw new VenueError('INVALID_REQUEST', `a single-leg swap sells one mint for another (got ${intent.inputMint} → ${intent.outputMint})`);
    }
    const lookupTables = await this.lookupTablesOf([leg]);
    const { blockhash, lastValidBlockHeight } = await this.rpc('getLatestBlockhash', () => this.connection.getLatestBlockhash(COMMITMENT));
    const parts = { payer, blockhash, leg, computeUnitLimit: SIMULATION_UNIT_LIMIT, computeUnitPriceMicroLamports: this.opts.priorityFeeMicroLamports, lookupTables, memo: tradeMemo(intent.opportunityId) };
    const simulatedUnits = await this.simulatedUnits(composeSwap(parts).tx, 'the swap', lookupTables, null);
    const { tx } = composeSwap({ ...parts, computeUnitLimit: unitsWithMargin(simulatedUnits, this.opts.computeUnitMarginPct ?? 20) });
    return toPrepared('solana', intent, tx, BigInt(lastValidBlockHeight));
  }

  /** Units an unsigned simulation consumed; a failing simulation is SIMULATION_FAILED (nothing is signed or sent). */
  private async simulatedUnits(
    trial: VersionedTransaction,
    what: string,
    lookupTables: AddressLookupTableAccount[],
    roles: readonly InstructionRole[] | null,
  ): Promise<bigint> {
    const sim = await this.rpc('simulateTransaction', () => this.connection.simulateTransaction(trial, { sigVerify: false, commitment: COMMITMENT }));
    this.forgetTablesThatFailed(sim.value.err, lookupTables);
    if (sim.value.err) {
      const logs = sim.value.logs ?? [];
      const last = logs.length ? ` (last log: ${logs[logs.length - 1]})` : '';
      // Named by part (leg 1, leg 2, guard) when the layout is known: a round trip's roles.
      const failure = decodeTransactionFailure(sim.value.err, { stage: 'preflight', programIds: programIdsOf(trial.message), roles });
      throw new VenueError('SIMULATION_FAILED', `${what} failed its simulation, nothing was signed or sent: ${describeFailure(failure).replace(/^refused by preflight \(never landed, no fee\): /, '')}${last}`);
    }
    if (typeof sim.value.unitsConsumed !== 'number' || !Number.isSafeInteger(sim.value.unitsConsumed) || sim.value.unitsConsumed <= 0) {
      throw new VenueError('MALFORMED_RESPONSE', `simulateTransaction reported no unitsConsumed (got ${String(sim.value.unitsConsumed)})`);
    }
    return BigInt(sim.value.unitsConsumed);
  }

  /**
   * Both legs' tables, each once: from the answer when it carried them (v2: nothing fetched),
   * else fetched in one getMultipleAccounts and cached for the TTL (v1). A table the cluster
   * does not have, or an account that is not a table, is INVALID_REQUEST; a deactivated table
   * is left out (it stops resolving once its cool-down ends; without it the round trip is
   * larger, and TRANSACTION_TOO_LARGE sends the caller back to a re-quote).
   */
  private async lookupTablesOf(legs: readonly RouteLegJson[]): Promise<AddressLookupTableAccount[]> {
    const out = new Map<string, AddressLookupTableAccount>();
    const toFetch = new Set<string>();
    const nowMs = this.now().getTime();
    for (const leg of legs) {
      if (leg.addressesByLookupTableAddress) {
        for (const [key, addresses] of Object.entries(leg.addressesByLookupTableAddress)) {
          out.set(key, new AddressLookupTableAccount({
            key: new PublicKeyClass(key),
            state: { deactivationSlot: 2n ** 64n - 1n, lastExtendedSlot: 0, lastExtendedSlotStartIndex: 0, authority: undefined, addresses: addresses.map((a) => new PublicKeyClass(a)) },
          }));
        }
        continue;
      }
      for (const key of leg.addressLookupTableAddresses) {
        const cached = this.tables.get(key);
        if (cached && cached.untilMs > nowMs) out.set(key, cached.table);
        else toFetch.add(key);
      }
    }
    const keys = [...toFetch].filter((k) => !out.has(k));
    if (keys.length) {
      const infos = await this.rpc('getMultipleAccounts', () => this.connection.getMultipleAccountsInfo(keys.map((k) => new PublicKeyClass(k)), COMMITMENT));
      keys.forEach((key, i) => {
        const info = infos[i];
        if (!info) throw new VenueError('INVALID_REQUEST', `address lookup table ${key} does not exist on this cluster`);
        if (!info.owner.equals(AddressLookupTableProgram.programId)) {
          throw new VenueError('INVALID_REQUEST', `account ${key} is not an address lookup table (owner ${info.owner.toBase58()})`);
        }
        let table: AddressLookupTableAccount;
        try {
          table = new AddressLookupTableAccount({ key: new PublicKeyClass(key), state: AddressLookupTableAccount.deserialize(info.data) });
        } catch (err) {
          throw new VenueError('MALFORMED_RESPONSE', `address lookup table ${key} has data that is not a lookup table: ${(err as Error).message}`, { cause: err });
        }
        if (!table.isActive()) return; // deactivated: neither cached nor used
        this.tables.set(key, { table, untilMs: nowMs + (this.opts.lookupTableTtlMs ?? 60_000) });
        out.set(key, table);
      });
    }
    return [...out.values()];
  }

  /**
   * A cached table stops resolving once it was deactivated and closed; the simulation then fails
   * with a lookup error. Drop what this round trip used, so the next prepare reads them afresh
   * (and leaves out what is gone) instead of failing on the cache for the rest of the TTL.
   */
  private forgetTablesThatFailed(err: TransactionError | string | null, used: AddressLookupTableAccount[]): void {
    if (typeof err !== 'string' || !LOOKUP_ERRORS.has(err)) return;
    for (const t of used) this.tables.delete(t.key.toBase58());
  }

  async submit(prepared: PreparedTransaction, signature: Uint8Array): Promise<SubmitOutcome> {
    const outcome = await this.send(prepared, signature);
    // Refused or expired: it can never land, so the guard's account is free again.
    if (outcome.status !== 'submitted') this.inFlight.releaseAll(prepared.opportunityId);
    return outcome;
  }

  private async send(prepared: PreparedTransaction, signature: Uint8Array): Promise<SubmitOutcome> {
    const { tx, signature: sig } = attachSignature(prepared, signature);
    const known = this.sent.get(sig);
    if (known) return { ...known.submit, alreadyProcessed: true };
    const raw = tx.serialize();
    assertEngineMayAct(`sendTransaction ${sig}`);
    try {
      const returned = await this.connection.sendRawTransaction(raw, {
        skipPreflight: false,
        preflightCommitment: COMMITMENT,
        maxRetries: 0,
      });
      if (returned !== sig) {
        throw new VenueError('MALFORMED_RESPONSE', `the node answered sendTransaction with signature ${returned}, expected ${sig}`);
      }
      const submit = { status: 'submitted', signature: sig, submittedAt: this.now().toISOString(), alreadyProcessed: false } as const;
      this.remember(sig, { raw, lastValidBlockHeight: prepared.lastValidBlockHeight, submit });
      return submit;
    } catch (err) {
      if (!(err instanceof SendTransactionError)) throw mapRpcError('sendTransaction', err);
      return this.refused(err, prepared, sig, raw, tx.message);
    }
  }

  /** Turns a preflight refusal into an outcome: the node did not forward the transaction. */
  private async refused(err: SendTransactionError, prepared: PreparedTransaction, sig: string, raw: Uint8Array, message0: VersionedMessage): Promise<SubmitOutcome> {
    const message = err.transactionError.message ?? err.message;
    if (/signature verification fail/i.test(message)) {
      return { status: 'failed', signature: sig, reason: 'signature verification failed', failure: decodeTransactionFailure('SignatureFailure', { stage: 'preflight', programIds: null, roles: null }) };
    }
    if (/already been processed/i.test(message)) {
      // Sent before (by us before a restart, or by a second submit): nothing new will fill.
      const submit = { status: 'submitted', signature: sig, submittedAt: this.now().toISOString(), alreadyProcessed: true } as const;
      this.remember(sig, { raw, lastValidBlockHeight: prepared.lastValidBlockHeight, submit });
      return submit;
    }
    if (/blockhash not found/i.test(message)) {
      const height = BigInt(await this.rpc('getBlockHeight', () => this.connection.getBlockHeight(COMMITMENT)));
      if (height > prepared.lastValidBlockHeight) {
        return {
          status: 'expired',
          signature: sig,
          reason: `blockhash not found: block height ${height} is past the transaction's last valid block height ${prepared.lastValidBlockHeight}`,
        };
      }
      // A node that has not seen the blockhash yet (it lags behind the one that gave it out).
      throw new VenueError('RPC_UNAVAILABLE', `the node does not know blockhash ${prepared.blockhash} yet (block height ${height}); retry the submit`, { cause: err });
    }
    const logs = err.transactionError.logs;
    const last = logs && logs.length ? ` (last log: ${logs[logs.length - 1]})` : '';
    const txError = transactionErrorFromMessage(message);
    if (txError === null) return { status: 'failed', signature: sig, reason: `refused by preflight: ${message}${last}` };
    const failure = decodeTransactionFailure(txError, { stage: 'preflight', programIds: programIdsOf(message0), roles: prepared.roundTrip?.instructionRoles ?? null });
    return { status: 'failed', signature: sig, reason: `${describeFailure(failure)}${last}`, failure };
  }

  async confirm(query: FillQuery, opts: ConfirmOptions = {}): Promise<ConfirmOutcome> {
    const outcome = await this.waitForOutcome(query, opts);
    this.inFlight.releaseAll(query.opportunityId);
    return outcome;
  }

  private async waitForOutcome(query: FillQuery, opts: ConfirmOptions): Promise<ConfirmOutcome> {
    let failures = 0;
    for (;;) {
      if (opts.signal?.aborted) throw new VenueError('CONFIRM_ABORTED', `stopped waiting for ${query.signature}; it may still land`);
      try {
        const outcome = await this.poll(query);
        if (outcome) return outcome;
        failures = 0;
      } catch (err) {
        if (!(err instanceof VenueError) || err.code !== 'RPC_UNAVAILABLE' || ++failures >= this.maxPollFailures) throw err;
      }
      await pause(this.pollMs, opts.signal);
    }
  }

  /** One round of confirm(): an outcome when the transaction is final, else null. */
  private async poll(query: FillQuery): Promise<ConfirmOutcome | null> {
    const height = BigInt(await this.rpc('getBlockHeight', () => this.connection.getBlockHeight(COMMITMENT)));
    const status = await this.signatureStatus(query.signature);
    if (status) {
      if (status.err) return this.failed(query, status);
      if (status.confirmationStatus === 'confirmed' || status.confirmationStatus === 'finalized') {
        return this.fill(query);
      }
      return null; // processed: in a block that may still be dropped by a fork
    }
    if (height > query.lastValidBlockHeight) {
      return {
        status: 'expired',
        signature: query.signature,
        lastValidBlockHeight: query.lastValidBlockHeight,
        reason: `not landed by block height ${query.lastValidBlockHeight}; the chain is at ${height}`,
      };
    }
    const sent = this.sent.get(query.signature);
    if (sent) {
      // Same bytes, same signature: the chain accepts at most one. Errors here change nothing.
      // A deposed leader stops here (FencedError), not at its next poll.
      assertEngineMayAct(`rebroadcast of ${query.signature}`);
      await this.connection.sendRawTransaction(sent.raw, { skipPreflight: true, maxRetries: 0 }).catch(() => undefined);
    }
    return null;
  }

  private async fill(query: FillQuery): Promise<ConfirmOutcome | null> {
    const tx = await this.rpc('getTransaction', () =>
      this.connection.getTransaction(query.signature, { commitment: COMMITMENT, maxSupportedTransactionVersion: 0 }),
    );
    if (!tx) return null; // status is ahead of the node's transaction index; ask again next poll
    if (!tx.meta) throw new VenueError('MALFORMED_RESPONSE', `getTransaction(${query.signature}) has no meta: cannot read the fill`);
    if (tx.meta.err) {
      const failure = landedFailure(tx.meta.err, query, tx);
      return { status: 'failed', signature: query.signature, reason: describeFailure(failure), slot: BigInt(tx.slot), fee: BigInt(tx.meta.fee), failure };
    }
    const record = balanceRecord(tx);
    const amounts = fillAmounts(record, {
      signer: query.signerPublicKey,
      inputMint: query.inputMint,
      outputMint: query.outputMint,
      inAmount: query.inAmount,
    });
    return {
      status: 'confirmed',
      signature: query.signature,
      slot: BigInt(tx.slot),
      fee: record.fee,
      ...amounts,
      // What the round trip left of its intermediate mint, from the same balances (static and loaded keys).
      ...(query.intermediateMint ? { intermediateChangeBaseUnits: ownerDelta(record, query.signerPublicKey, query.intermediateMint) } : {}),
      confirmedAt: this.now().toISOString(),
    };
  }

  private async failed(query: FillQuery, status: SignatureStatus): Promise<ConfirmOutcome> {
    const { signature } = query;
    // The fee was charged all the same; record it (and read the programs from the message) when the node can tell us.
    const tx = await this.connection
      .getTransaction(signature, { commitment: COMMITMENT, maxSupportedTransactionVersion: 0 })
      .catch(() => null);
    const failure = landedFailure(status.err!, query, tx);
    return {
      status: 'failed',
      signature,
      reason: describeFailure(failure),
      slot: BigInt(status.slot),
      ...(tx?.meta ? { fee: BigInt(tx.meta.fee) } : {}),
      failure,
    };
  }

  async status(signature: string, lastValidBlockHeight?: bigint): Promise<TransactionStatus> {
    const sent = this.sent.get(signature);
    const lastValid = lastValidBlockHeight ?? sent?.lastValidBlockHeight;
    const height =
      lastValid === undefined ? undefined : BigInt(await this.rpc('getBlockHeight', () => this.connection.getBlockHeight(COMMITMENT)));
    const status = await this.signatureStatus(signature);
    if (status) {
      if (status.err) return 'failed';
      return status.confirmationStatus === 'confirmed' || status.confirmationStatus === 'finalized' ? 'confirmed' : 'pending';
    }
    if (lastValid !== undefined && height! > lastValid) return 'expired';
    return sent ? 'pending' : 'unknown';
  }

  private async signatureStatus(signature: string): Promise<SignatureStatus | null> {
    const res = await this.rpc('getSignatureStatuses', () =>
      this.connection.getSignatureStatuses([signature], { searchTransactionHistory: true }),
    );
    if (!res || !Array.isArray(res.value)) throw new VenueError('MALFORMED_RESPONSE', 'getSignatureStatuses returned no value list');
    return res.value[0] ?? null;
  }

  private async rpc<T>(method: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw mapRpcError(method, err);
    }
  }

  private remember(signature: string, entry: Sent): void {
    this.sent.set(signature, entry);
    while (this.sent.size > MAX_REMEMBERED) this.sent.delete(this.sent.keys().next().value as string);
  }
}

/** The balances of a confirmed transaction, in the account order its token balances index into. */
export function balanceRecord(tx: VersionedTransactionResponse): BalanceRecord {
  const meta = tx.meta!;
  const keys = [
    ...tx.transaction.message.staticAccountKeys.map((k) => k.toBase58()),
    ...(meta.loadedAddresses?.writable ?? []).map((k) => k.toBase58()),
    ...(meta.loadedAddresses?.readonly ?? []).map((k) => k.toBase58()),
  ];
  const tokens = (list: typeof meta.preTokenBalances): TokenBalance[] =>
    (list ?? []).map((b) => {
      // accountIndex counts static keys, then loaded writable, then loaded readonly: one past
      // them all means the node left out meta.loadedAddresses, and the fill cannot be trusted.
      if (!Number.isSafeInteger(b.accountIndex) || b.accountIndex < 0 || b.accountIndex >= keys.length) {
        throw new VenueError(
          'MALFORMED_RESPONSE',
          `a token balance names account index ${b.accountIndex}, but the transaction has ${keys.length} accounts (static and loaded from lookup tables)`,
        );
      }
      if (!/^\d+$/.test(b.uiTokenAmount.amount)) {
        throw new VenueError('MALFORMED_RESPONSE', `token balance amount "${b.uiTokenAmount.amount}" is not an integer in base units`);
      }
      return { accountIndex: b.accountIndex, mint: b.mint, owner: b.owner, amount: BigInt(b.uiTokenAmount.amount) };
    });
  const lamports = (list: number[]) =>
    list.map((n) => {
      if (!Number.isSafeInteger(n) || n < 0) throw new VenueError('MALFORMED_RESPONSE', `balance ${n} is not a lamport amount`);
      return BigInt(n);
    });
  return {
    accountKeys: keys,
    preBalances: lamports(meta.preBalances),
    postBalances: lamports(meta.postBalances),
    preTokenBalances: tokens(meta.preTokenBalances),
    postTokenBalances: tokens(meta.postTokenBalances),
    fee: BigInt(meta.fee),
  };
}

/** The program of each instruction of a message, in order (programs are always static keys, even in v0). */
export function programIdsOf(message: VersionedMessage): string[] {
  return message.compiledInstructions.map((ix) => message.staticAccountKeys[ix.programIdIndex]?.toBase58() ?? 'unknown');
}

/** A landed transaction's error, decoded with its message's programs and the round trip's recorded layout. */
function landedFailure(err: TransactionError | object | string, query: FillQuery, tx: VersionedTransactionResponse | null): TransactionFailure {
  return decodeTransactionFailure(err, {
    stage: 'on-chain',
    programIds: tx ? programIdsOf(tx.transaction.message) : null,
    roles: query.roundTrip?.instructionRoles ?? null,
  });
}

export function mapRpcError(method: string, err: unknown): VenueError {
  if (err instanceof VenueError) return err;
  const e = err as Error & { code?: unknown; name?: string };
  if (err instanceof SolanaJSONRPCError) {
    // -32004 block not available, -32005 node unhealthy / behind, -32016 min context slot not reached
    const unavailable = e.code === -32004 || e.code === -32005 || e.code === -32016;
    return new VenueError(unavailable ? 'RPC_UNAVAILABLE' : 'RPC_ERROR', `Solana RPC ${method} failed: ${e.message}`, { cause: err });
  }
  // web3.js wraps what went wrong into the text of a plain Error ("failed to get recent
  // blockhash: StructError: …", "…: Error: 503 Service Unavailable: busy"): read it from there.
  const text = e?.message ?? '';
  if (e?.name === 'StructError' || e instanceof SyntaxError || /StructError|SyntaxError|Unexpected token|not valid JSON/.test(text)) {
    return new VenueError('MALFORMED_RESPONSE', `Solana RPC ${method} returned an unexpected reply: ${text.slice(0, 300)}`, { cause: err });
  }
  const http = /(?:^|: )(\d{3}) [^:]*:/.exec(text);
  if (http) {
    const status = Number(http[1]);
    const code = status === 429 || status >= 500 ? 'RPC_UNAVAILABLE' : 'RPC_ERROR';
    return new VenueError(code, `Solana RPC ${method} answered HTTP ${text.slice(http.index).replace(/^: /, '').slice(0, 300)}`, { cause: err });
  }
  // fetch failed, connection refused, reset, timeout: the request never got an answer.
  const detail = (e?.cause as Error | undefined)?.message ?? e?.message ?? String(err);
  return new VenueError('RPC_UNAVAILABLE', `Solana RPC ${method} could not reach the node: ${detail}`, { cause: err });
}
