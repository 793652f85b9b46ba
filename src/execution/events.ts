// Events of the execution context: a transaction was sent, and how it ended (filled, failed,
// expired). Amounts are base-unit strings; slots and block heights are strings too (u64).
// Payload builders turn a venue's outcome into the payload, so the saga never hand-copies fields.
import { VersionedTransaction } from '@solana/web3.js';
import { defineEvent, type PayloadOf } from '../ledger/event-types.js';
import type { z } from 'zod';
import { array, baseUnits, bool, int, isoTime, json, nullable, obj, optional, str } from '../ledger/schema.js';
import {
  INSTRUCTION_ROLES,
  ROUND_TRIP_PARTS,
  VENUE_NAMES,
  type ConfirmOutcome,
  type FillQuery,
  type PreparedTransaction,
  type SubmitOutcome,
  type TransactionFailure,
  type VenueName,
} from './venue.port.js';

const BASE58 = /^[1-9A-HJ-NP-Za-km-z]+$/;
const signature = () => str({ min: 64, max: 88, pattern: BASE58 });
const mint = () => str({ min: 32, max: 44, pattern: BASE58 });
const opportunityId = () => str({ min: 1, max: 200 });
const reason = () => str({ min: 1, max: 2000 });

export const TransactionSubmitted = defineEvent({
  type: 'TransactionSubmitted',
  version: 1,
  payload: obj({
    opportunityId: opportunityId(),
    signature: signature(),
    venue: str({ oneOf: VENUE_NAMES }),
    lastValidBlockHeight: baseUnits(),
    priorityFeeMicroLamports: baseUnits(),
    submittedAt: isoTime(),
  }),
});
export type TransactionSubmittedPayload = PayloadOf<typeof TransactionSubmitted>;

const fillConfirmedV1 = {
  opportunityId: opportunityId(),
  signature: signature(),
  slot: baseUnits(),
  inputMint: mint(),
  outputMint: mint(),
  /** Base units of inputMint spent, from the confirmed balances. */
  amountIn: baseUnits(),
  /** Base units of outputMint received, from the confirmed balances. */
  amountOut: baseUnits(),
  feeLamports: baseUnits(),
  /**
   * Signed base units of the input mint: amountOut − amountIn, gross of feeLamports. Only a
   * round trip (inputMint = outputMint, A → … → A) has one; absent when the mints differ.
   */
  realisedPnl: optional(baseUnits({ signed: true })),
  confirmedAt: isoTime(),
};

/** Version 1 as written before inventory was tracked: no `inventory`. */
export const FillConfirmedV1Schema = obj(fillConfirmedV1);
export type FillConfirmedV1Payload = z.output<typeof FillConfirmedV1Schema>;

/**
 * What the fill did to the signer's holding of a token that is not the base token: for a round
 * trip A → B → A, the intermediate B's change read from the chain's balances (leg 1 out − leg 2
 * in: leg 2 spends leg 1's minimum out, so whatever leg 1 delivered above it stays); for an
 * inventory sale B → A, minus what was sold. `price` values one base unit of `mint`: `usdMicros`
 * USD micro-units per `perBaseUnits` base units, the latest price the saga had (leg 1's rate at the
 * risk assessment's USD price of A; a sale's own assessment).
 */
export const inventoryChangeSchema = obj({
  mint: mint(),
  changeBaseUnits: baseUnits({ signed: true }),
  /** The base token this inventory is sold back to (the round trip's input mint). */
  baseMint: mint(),
  price: obj({ usdMicros: baseUnits(), perBaseUnits: baseUnits() }).nullable(),
});
export type InventoryChangePayload = z.output<typeof inventoryChangeSchema>;

/** Version 2 adds `inventory` (null: the fill left no other token behind, or a v1 event). */
export const FillConfirmed = defineEvent({
  type: 'FillConfirmed',
  version: 2,
  payload: obj({ ...fillConfirmedV1, inventory: inventoryChangeSchema.nullable() }),
  upcasters: {
    1: (p: FillConfirmedV1Payload) => ({ ...p, inventory: null }),
  },
});
export type FillConfirmedPayload = PayloadOf<typeof FillConfirmed>;

/**
 * What a confirmed fill moved of the signer's holdings, per mint (signed base units; the fee in
 * lamports aside): −amountIn of the input mint, +amountOut of the output mint, and a round trip's
 * intermediate (`inventory` of a third mint: what leg 1 left behind). A sale's inventory change is
 * its own input, already the first entry, so it is not counted twice. Balances (reconciliation)
 * and the settled-flow read model both fold these.
 */
export function fillHoldingChanges(
  p: Pick<FillConfirmedPayload, 'inputMint' | 'outputMint' | 'amountIn' | 'amountOut'> & { inventory?: FillConfirmedPayload['inventory'] },
): { mint: string; changeBaseUnits: bigint }[] {
  const out = [
    { mint: p.inputMint, changeBaseUnits: -BigInt(p.amountIn) },
    { mint: p.outputMint, changeBaseUnits: BigInt(p.amountOut) },
  ];
  const inv = p.inventory;
  if (inv && inv.mint !== p.inputMint && inv.mint !== p.outputMint) out.push({ mint: inv.mint, changeBaseUnits: BigInt(inv.changeBaseUnits) });
  return out;
}

const fillFailedV1 = {
  opportunityId: opportunityId(),
  signature: signature(),
  reason: reason(),
  /** Set when the transaction landed with an error: the fee was still charged. */
  slot: optional(baseUnits()),
  feeLamports: optional(baseUnits()),
  failedAt: isoTime(),
};
export const FillFailedV1Schema = obj(fillFailedV1);
export type FillFailedV1Payload = z.output<typeof FillFailedV1Schema>;

/** The decoded error of a failed transaction (TransactionFailure of the venue port). */
const failureSchema = obj({
  stage: str({ oneOf: ['preflight', 'on-chain'] as const }),
  /** The TransactionError as the node wrote it, e.g. {"InstructionError":[8,{"Custom":1}]}. */
  transactionError: json(),
  instructionIndex: nullable(int({ min: 0, max: 255 })),
  part: nullable(str({ oneOf: ROUND_TRIP_PARTS })),
  group: nullable(str({ oneOf: ['setup', 'swap', 'cleanup', 'other'] as const })),
  programId: nullable(mint()),
  program: nullable(str({ min: 1, max: 100 })),
  code: nullable(int({ min: 0, max: 4_294_967_295 })),
  error: str({ min: 1, max: 200 }),
  message: reason(),
});

/**
 * A transaction that was refused or landed with an error. Version 2 adds `failure`: the program
 * error decoded (which part of the round trip — leg 1, leg 2, guard, budget — which program, which
 * error: Jupiter's 6001 SlippageToleranceExceeded, SPL Token's InsufficientFunds at the guard), or
 * null when the venue had nothing to decode (paper venue, a refusal without an error). v1 rows
 * upcast to failure: null; their reason keeps the words they were written with.
 */
export const FillFailed = defineEvent({
  type: 'FillFailed',
  version: 2,
  payload: obj({ ...fillFailedV1, failure: failureSchema.nullable() }),
  upcasters: {
    1: (p: FillFailedV1Payload) => ({ ...p, failure: null }),
  },
});
export type FillFailedPayload = PayloadOf<typeof FillFailed>;

export const TransactionExpired = defineEvent({
  type: 'TransactionExpired',
  version: 1,
  payload: obj({
    opportunityId: opportunityId(),
    signature: signature(),
    lastValidBlockHeight: baseUnits(),
    reason: reason(),
    expiredAt: isoTime(),
  }),
});
export type TransactionExpiredPayload = PayloadOf<typeof TransactionExpired>;

const preparedV1 = {
  opportunityId: opportunityId(),
  venue: str({ oneOf: VENUE_NAMES }),
  inputMint: mint(),
  outputMint: mint(),
  inAmount: baseUnits(),
  expectedOut: baseUnits(),
  signerPublicKey: str({ min: 32, max: 44, pattern: BASE58 }),
  /** Base64 of the unsigned transaction: with the signature that follows it, the exact bytes sent. */
  unsignedTx: str({ min: 1, max: 8192, pattern: /^[A-Za-z0-9+/]+={0,2}$/ }),
  blockhash: str({ min: 32, max: 44, pattern: BASE58 }),
  lastValidBlockHeight: baseUnits(),
  priorityFeeMicroLamports: baseUnits(),
};

/** Version 1 as written before round trips were composed: no roundTrip. */
export const TransactionPreparedV1Schema = obj(preparedV1);
export type TransactionPreparedV1Payload = z.output<typeof TransactionPreparedV1Schema>;

/** What a composed round trip recorded: both legs' route answers, the guard, the units, the tables, each instruction's role. */
const roundTripFields = {
  guardAccount: mint(),
  balanceAtPrepareBaseUnits: baseUnits(),
  minProfitBaseUnits: baseUnits(),
  guardAmountBaseUnits: baseUnits(),
  simulatedUnits: baseUnits(),
  computeUnitLimit: int({ min: 1, max: 1_400_000 }),
  lookupTables: array(mint(), { max: 64 }),
  serializedBytes: int({ min: 1, max: 1232 }),
  /** Each leg's route API and its answer exactly as parsed (the generated models drop fields). */
  legs: array(obj({ api: str({ min: 1, max: 16 }), raw: json() }), { min: 2, max: 2 }),
};
const roundTripV2Schema = obj(roundTripFields);
const roundTripSchema = obj({
  ...roundTripFields,
  /** Each instruction's role in message order (budget, leg 1/2 setup/swap/cleanup/other, guard); null on rows upcast from v2. */
  instructionRoles: array(str({ oneOf: INSTRUCTION_ROLES }), { min: 1, max: 64 }).nullable(),
});
export const TransactionPreparedV2Schema = obj({ ...preparedV1, roundTrip: roundTripV2Schema.nullable() });
export type TransactionPreparedV2Payload = z.output<typeof TransactionPreparedV2Schema>;

/**
 * The transaction the saga is about to sign, kept so a resumed saga submits exactly the same
 * bytes (the same signature) instead of ever building a second transaction. Version 2 adds
 * `roundTrip` (null when the venue built a plain transaction); v1 rows upcast to roundTrip: null.
 * Version 3 adds `roundTrip.instructionRoles` (what each instruction is, so a failure names the
 * part that failed); v2 rows upcast to instructionRoles: null (their failures name the index only).
 */
export const TransactionPrepared = defineEvent({
  type: 'TransactionPrepared',
  version: 3,
  payload: obj({ ...preparedV1, roundTrip: roundTripSchema.nullable() }),
  upcasters: {
    1: (p: TransactionPreparedV1Payload): TransactionPreparedV2Payload => ({ ...p, roundTrip: null }),
    2: (p: TransactionPreparedV2Payload) => ({ ...p, roundTrip: p.roundTrip ? { ...p.roundTrip, instructionRoles: null } : null }),
  },
});
export type TransactionPreparedPayload = PayloadOf<typeof TransactionPrepared>;

export function transactionPreparedPayload(p: PreparedTransaction): TransactionPreparedPayload {
  return {
    opportunityId: p.opportunityId,
    venue: p.venue,
    inputMint: p.inputMint,
    outputMint: p.outputMint,
    inAmount: p.inAmount.toString(),
    expectedOut: p.expectedOut.toString(),
    signerPublicKey: p.signerPublicKey,
    unsignedTx: p.unsignedTx,
    blockhash: p.blockhash,
    lastValidBlockHeight: p.lastValidBlockHeight.toString(),
    priorityFeeMicroLamports: p.priorityFeeMicroLamports.toString(),
    roundTrip: p.roundTrip
      ? {
          guardAccount: p.roundTrip.guardAccount,
          balanceAtPrepareBaseUnits: p.roundTrip.balanceAtPrepareBaseUnits.toString(),
          minProfitBaseUnits: p.roundTrip.minProfitBaseUnits.toString(),
          guardAmountBaseUnits: p.roundTrip.guardAmountBaseUnits.toString(),
          simulatedUnits: p.roundTrip.simulatedUnits.toString(),
          computeUnitLimit: p.roundTrip.computeUnitLimit,
          lookupTables: p.roundTrip.lookupTables,
          serializedBytes: p.roundTrip.serializedBytes,
          instructionRoles: p.roundTrip.instructionRoles,
          legs: p.roundTrip.legs.map((l) => ({ api: l.api, raw: l.raw })),
        }
      : null,
  };
}

/** The prepared transaction back from its event; the bytes to sign are re-read from the transaction itself. */
export function preparedFromPayload(p: TransactionPreparedPayload): PreparedTransaction {
  const messageBytes = VersionedTransaction.deserialize(Buffer.from(p.unsignedTx, 'base64')).message.serialize();
  return {
    venue: p.venue,
    opportunityId: p.opportunityId,
    inputMint: p.inputMint,
    outputMint: p.outputMint,
    inAmount: BigInt(p.inAmount),
    expectedOut: BigInt(p.expectedOut),
    signerPublicKey: p.signerPublicKey,
    unsignedTx: p.unsignedTx,
    messageBytes,
    blockhash: p.blockhash,
    lastValidBlockHeight: BigInt(p.lastValidBlockHeight),
    priorityFeeMicroLamports: BigInt(p.priorityFeeMicroLamports),
    ...(p.roundTrip
      ? {
          roundTrip: {
            ...p.roundTrip,
            balanceAtPrepareBaseUnits: BigInt(p.roundTrip.balanceAtPrepareBaseUnits),
            minProfitBaseUnits: BigInt(p.roundTrip.minProfitBaseUnits),
            guardAmountBaseUnits: BigInt(p.roundTrip.guardAmountBaseUnits),
            simulatedUnits: BigInt(p.roundTrip.simulatedUnits),
          },
        }
      : {}),
  };
}

export const executionEvents = [TransactionPrepared, TransactionSubmitted, FillConfirmed, FillFailed, TransactionExpired];

export function transactionSubmittedPayload(
  prepared: PreparedTransaction,
  outcome: Extract<SubmitOutcome, { status: 'submitted' }>,
): TransactionSubmittedPayload {
  return {
    opportunityId: prepared.opportunityId,
    signature: outcome.signature,
    venue: prepared.venue,
    lastValidBlockHeight: prepared.lastValidBlockHeight.toString(),
    priorityFeeMicroLamports: prepared.priorityFeeMicroLamports.toString(),
    submittedAt: outcome.submittedAt,
  };
}

export type OutcomePayload =
  | { event: typeof FillConfirmed; payload: FillConfirmedPayload }
  | { event: typeof FillFailed; payload: FillFailedPayload }
  | { event: typeof TransactionExpired; payload: TransactionExpiredPayload };

/** The event that records how a transaction ended, from confirm()'s outcome. */
export function outcomeEvent(
  query: FillQuery,
  outcome: ConfirmOutcome,
  now = new Date().toISOString(),
  inventory: InventoryChangePayload | null = null,
): OutcomePayload {
  switch (outcome.status) {
    case 'confirmed':
      return {
        event: FillConfirmed,
        payload: {
          opportunityId: query.opportunityId,
          signature: outcome.signature,
          slot: outcome.slot.toString(),
          inputMint: query.inputMint,
          outputMint: query.outputMint,
          amountIn: outcome.amountIn.toString(),
          amountOut: outcome.amountOut.toString(),
          feeLamports: outcome.fee.toString(),
          ...(outcome.realisedPnl === null ? {} : { realisedPnl: outcome.realisedPnl.toString() }),
          confirmedAt: outcome.confirmedAt,
          inventory,
        },
      };
    case 'failed':
      return { event: FillFailed, payload: fillFailedPayload(query.opportunityId, outcome, now) };
    case 'expired':
      return {
        event: TransactionExpired,
        payload: {
          opportunityId: query.opportunityId,
          signature: outcome.signature,
          lastValidBlockHeight: outcome.lastValidBlockHeight.toString(),
          reason: clip(outcome.reason),
          expiredAt: now,
        },
      };
  }
}

/**
 * The event that records a submit: TransactionSubmitted, or how it ended right away (refused →
 * FillFailed, blockhash already too old → TransactionExpired). Null for a repeated submit
 * (alreadyProcessed): its TransactionSubmitted was written the first time.
 */
export function submitOutcomeEvent(
  prepared: PreparedTransaction,
  outcome: SubmitOutcome,
  now = new Date().toISOString(),
):
  | { event: typeof TransactionSubmitted; payload: TransactionSubmittedPayload }
  | { event: typeof FillFailed; payload: FillFailedPayload }
  | { event: typeof TransactionExpired; payload: TransactionExpiredPayload }
  | null {
  switch (outcome.status) {
    case 'submitted':
      return outcome.alreadyProcessed ? null : { event: TransactionSubmitted, payload: transactionSubmittedPayload(prepared, outcome) };
    case 'failed':
      return { event: FillFailed, payload: fillFailedPayload(prepared.opportunityId, outcome, now) };
    case 'expired':
      return {
        event: TransactionExpired,
        payload: {
          opportunityId: prepared.opportunityId,
          signature: outcome.signature,
          lastValidBlockHeight: prepared.lastValidBlockHeight.toString(),
          reason: clip(outcome.reason),
          expiredAt: now,
        },
      };
  }
}

/** FillFailed for a submit that was refused, or a confirm that found the transaction failed. */
export function fillFailedPayload(
  opportunityId: string,
  outcome: { signature: string; reason: string; slot?: bigint; fee?: bigint; failure?: TransactionFailure },
  now = new Date().toISOString(),
): FillFailedPayload {
  const f = outcome.failure;
  return {
    opportunityId,
    signature: outcome.signature,
    reason: clip(outcome.reason),
    ...(outcome.slot === undefined ? {} : { slot: outcome.slot.toString() }),
    ...(outcome.fee === undefined ? {} : { feeLamports: outcome.fee.toString() }),
    failure: f
      ? {
          stage: f.stage,
          transactionError: f.transactionError ?? null,
          instructionIndex: f.instructionIndex,
          part: f.part,
          group: f.group,
          programId: f.programId,
          program: f.program,
          code: f.code,
          error: f.error.slice(0, 200),
          message: clip(f.message),
        }
      : null,
    failedAt: now,
  };
}

const clip = (s: string) => (s.length > 2000 ? `${s.slice(0, 1997)}...` : s || 'no reason given');

// ---------------------------------------------------------------------------------------------
// Reconciliation of the ledger's balances with the chain (./decisions.ts decides, trading's
// ReconciliationService reads and appends). One stream per wallet, `reconciliation-<owner>`.
// Each event holds both figures per mint; its chain figures are where the next reconciliation's
// ledger figures start (docs/decisions/0018).

export const RECONCILIATION_STREAM_PREFIX = 'reconciliation-';
export const reconciliationStreamId = (owner: string) => `${RECONCILIATION_STREAM_PREFIX}${owner}`;

const reconciledBalance = obj({
  /** The mint; wrapped SOL's mint (So111…112) stands for SOL: the owner's lamports plus its wrapped SOL. */
  mint: mint(),
  /** What the ledger says: the previous reconciliation's chain figure plus the fills since; null at the opening (no previous one). */
  ledgerBaseUnits: nullable(baseUnits({ signed: true })),
  chainBaseUnits: baseUnits(),
  /** chain − ledger (0 at the opening). */
  differenceBaseUnits: baseUnits({ signed: true }),
  toleranceBaseUnits: baseUnits(),
  beyondTolerance: bool(),
});

const reconciliationV1 = {
  owner: mint(),
  venue: str({ oneOf: VENUE_NAMES }),
  /** The slot the chain was read at (at least). */
  slot: baseUnits(),
  /** The owner's own lamports, as read (also inside the SOL row, with wrapped SOL). */
  lamports: baseUnits(),
  tokenAccounts: int({ min: 0 }),
  /** Tokens held of mints neither traded nor tracked: counted, not compared (anyone can send a token to a wallet). */
  untrackedMints: int({ min: 0 }),
  /** The ledger figures fold every fill up to this global position; the next reconciliation folds from here. */
  ledgerThroughPosition: baseUnits(),
  /** The position of the reconciliation the ledger figures start from; null at the opening. */
  basisPosition: nullable(baseUnits()),
  /** Fill outcomes (FillConfirmed, FillFailed) folded since the basis. */
  fillsCounted: int({ min: 0 }),
  balances: array(reconciledBalance, { max: 10_000 }),
  checkedAt: isoTime(),
};

/** The chain agrees with the ledger for every mint (or this is the opening: the chain's figures become the ledger's starting point). */
export const BalancesReconciled = defineEvent({
  type: 'BalancesReconciled',
  version: 1,
  payload: obj({ ...reconciliationV1, opening: bool() }),
});
export type BalancesReconciledPayload = PayloadOf<typeof BalancesReconciled>;

/**
 * The chain and the ledger differ for at least one mint. `beyondTolerance`: some difference is
 * beyond its mint's tolerance, and the circuit breaker pauses the engine on it (risk).
 */
export const BalanceDiscrepancyDetected = defineEvent({
  type: 'BalanceDiscrepancyDetected',
  version: 1,
  payload: obj({ ...reconciliationV1, beyondTolerance: bool() }),
});
export type BalanceDiscrepancyDetectedPayload = PayloadOf<typeof BalanceDiscrepancyDetected>;

export const reconciliationEvents = [BalancesReconciled, BalanceDiscrepancyDetected];
