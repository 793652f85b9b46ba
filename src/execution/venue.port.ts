// The venue port: where a signed arbitrage transaction is sent and how its fill is read back.
// Adapters: paper/ (fills simulated from the quote, the embedded default) and solana/ (a real
// RPC node through @solana/web3.js 1.x).
//
// The saga drives a venue in steps so that a crash can never send a transaction twice:
//   prepare → (Signer signs messageBytes) → record TransactionSigned → submit → confirm,
// and a resumed saga asks status() before it ever submits again. Solana itself refuses a
// signature it has already processed, but only while it remembers it; the ledger is the proof.

export const VENUE = Symbol('VENUE');

/** The registered venues (declared with the settings, src/config/config.ts, since VENUE names them): a new venue is its folder, its name there and its case in venueFromConfig (execution.config.ts). */
export { VENUE_NAMES, type VenueName } from '../config/config.js';
import type { VenueName } from '../config/config.js';

/** What to trade, as the trading saga decided it from a quote. Amounts are base units. */
export interface TradeIntent {
  /** Ties the transaction to its opportunity in every event. */
  opportunityId: string;
  inputMint: string;
  outputMint: string;
  /** Base units of inputMint spent; > 0. */
  inAmount: bigint;
  /** Base units of outputMint the quote promised; ≥ 0. */
  expectedOut: bigint;
  /** Jupiter's quote JSON, kept for audit and for adapters that build the swap themselves. */
  quoteRaw?: unknown;
  /** Base64 of the unsigned VersionedTransaction Jupiter's POST /swap returned for the quote. */
  swapTransactionBase64?: string;
  /** Both legs' instructions (A → B, B → A, same taker): the venue composes ONE atomic transaction with a profit guard. */
  roundTrip?: RoundTripIntent;
  /**
   * One leg's instructions (an inventory sale B → base): the venue composes one v0 transaction of
   * it with its own compute budget. Jupiter's swap instruction carries the leg's minimum out.
   */
  swap?: RouteLegJson;
}

/** One instruction as plain JSON: program and accounts base58, data base64. */
export interface PlainInstructionJson {
  programId: string;
  accounts: { pubkey: string; isSigner: boolean; isWritable: boolean }[];
  data: string;
}

/** One leg's instruction groups as a route API built them (Jupiter's shape); its own compute budget is not used. */
export interface RouteLegJson {
  api: string;
  setupInstructions: PlainInstructionJson[];
  swapInstruction: PlainInstructionJson;
  cleanupInstruction: PlainInstructionJson | null;
  otherInstructions: PlainInstructionJson[];
  addressLookupTableAddresses: string[];
  /** Tables with their addresses when the answer carried them (v2): nothing to fetch. */
  addressesByLookupTableAddress: Record<string, string[]> | null;
  /** The route API's answer as parsed, kept whole for the event. */
  raw: unknown;
}

export interface RoundTripIntent {
  legs: [RouteLegJson, RouteLegJson];
  /** The guard fails the whole transaction unless the input token account gains at least this (base units of inputMint). */
  minProfitBaseUnits: bigint;
}

/**
 * What each instruction of a composed round trip is, in message order: our compute-budget pair,
 * each leg's groups (a setup both legs carry is kept once, under leg 1), the profit guard last.
 * A failed transaction names an instruction index; this says which part of the round trip it was.
 */
export const INSTRUCTION_ROLES = [
  'compute-budget',
  'leg-1:setup',
  'leg-1:swap',
  'leg-1:cleanup',
  'leg-1:other',
  'leg-2:setup',
  'leg-2:swap',
  'leg-2:cleanup',
  'leg-2:other',
  'guard',
  'memo',
] as const;
export type InstructionRole = (typeof INSTRUCTION_ROLES)[number];
export const ROUND_TRIP_PARTS = ['compute-budget', 'leg-1', 'leg-2', 'guard', 'memo'] as const;
export type RoundTripPart = (typeof ROUND_TRIP_PARTS)[number];

/**
 * Why a transaction failed, decoded from the node's TransactionError and the prepared layout
 * (plain data: the venue decodes, the saga records it in FillFailed).
 */
export interface TransactionFailure {
  /** Refused by the node's preflight simulation (never landed, no fee) or landed with the error (fee charged). */
  stage: 'preflight' | 'on-chain';
  /** The TransactionError as the node wrote it, e.g. {"InstructionError":[8,{"Custom":1}]}; for a preflight refusal, read back from the node's message. */
  transactionError: unknown;
  /** The failing instruction's index in the message, when the error names one. */
  instructionIndex: number | null;
  /** Which part of the round trip that instruction is (null: not a round trip, its layout was not recorded, or no instruction failed). */
  part: RoundTripPart | null;
  /** The instruction's group within its leg: setup, swap, cleanup or other (null for the budget, the guard, or unknown). */
  group: 'setup' | 'swap' | 'cleanup' | 'other' | null;
  /** Base58 of the failing instruction's program, when known. */
  programId: string | null;
  /** The program's name when it is one we know (Jupiter v6, SPL Token, …). */
  program: string | null;
  /** The program's custom error code ({"Custom": n}), when it is one. */
  code: number | null;
  /** The error's name: SlippageToleranceExceeded, InsufficientFunds, BlockhashNotFound, … (Custom6001 when the program's table is unknown). */
  error: string;
  /** The error in words, with what it means for a round trip where we know. */
  message: string;
}

/** What the venue composed for a round trip: recorded with the prepared transaction. */
export interface PreparedRoundTrip {
  /** The payer's token account of the input mint that the guard checks. */
  guardAccount: string;
  /** Its balance when the transaction was prepared, base units. */
  balanceAtPrepareBaseUnits: bigint;
  minProfitBaseUnits: bigint;
  /** balanceAtPrepare + minProfit: the guard's TransferChecked amount. */
  guardAmountBaseUnits: bigint;
  /** Units the simulation (at the runtime maximum) consumed, and the limit asked for (× margin). */
  simulatedUnits: bigint;
  computeUnitLimit: number;
  lookupTables: string[];
  serializedBytes: number;
  /** Each instruction's role, in message order (null when read from an event written before roles were recorded). */
  instructionRoles: InstructionRole[] | null;
  /** Each leg's route API and raw answer. */
  legs: { api: string; raw: unknown }[];
}

/**
 * A transaction ready to be signed. Plain data, so the saga can keep it (e.g. in an event) and
 * a resumed saga can submit exactly the same bytes again.
 */
export interface PreparedTransaction {
  venue: VenueName;
  opportunityId: string;
  inputMint: string;
  outputMint: string;
  inAmount: bigint;
  expectedOut: bigint;
  /** Base58 address of the fee payer and only signer. */
  signerPublicKey: string;
  /** Base64 of the serialized VersionedTransaction with an empty (all-zero) signature slot. */
  unsignedTx: string;
  /** The exact bytes the signer signs (the serialized message). */
  messageBytes: Uint8Array;
  blockhash: string;
  /** The transaction can land only while the chain's block height is ≤ this. */
  lastValidBlockHeight: bigint;
  /** Compute unit price the transaction pays; 0 when it sets none. */
  priorityFeeMicroLamports: bigint;
  /** Set when the transaction is a composed round trip (Solana venue with route instructions). */
  roundTrip?: PreparedRoundTrip;
}

export type SubmitOutcome =
  | {
      status: 'submitted';
      /** Base58 transaction signature (the transaction id). */
      signature: string;
      submittedAt: string;
      /**
       * True when the venue already had this signature (a repeated submit): nothing new was
       * filled, and submittedAt is the first submit's time when the venue still remembers it.
       */
      alreadyProcessed: boolean;
    }
  /** Refused before it could land (bad signature, simulation failure): it never will land. */
  | { status: 'failed'; signature: string; reason: string; failure?: TransactionFailure }
  /** Its blockhash was already too old when it was sent: it can never land. */
  | { status: 'expired'; signature: string; reason: string };

/** What confirm() needs: a prepared transaction plus its signature is enough (`{ ...prepared, signature }`). */
export interface FillQuery {
  signature: string;
  opportunityId: string;
  inputMint: string;
  outputMint: string;
  inAmount: bigint;
  expectedOut: bigint;
  signerPublicKey: string;
  lastValidBlockHeight: bigint;
  /**
   * A round trip's intermediate mint (B of A → B → A): confirm() also reads the signer's change
   * of it from the confirmed balances (what leg 1 delivered beyond what leg 2 spent: inventory).
   */
  intermediateMint?: string;
  /** Base units of the intermediate leg 2 was quoted to spend (a venue that simulates fills uses it). */
  intermediateSpentByNextLeg?: bigint;
  /** A composed round trip's layout, so a failure names the part that failed (`{ ...prepared, signature }` carries it). */
  roundTrip?: Pick<PreparedRoundTrip, 'instructionRoles'>;
}

export type ConfirmOutcome =
  | {
      status: 'confirmed';
      signature: string;
      slot: bigint;
      /** Network fee in lamports (base fee + priority fee), as the chain charged it. */
      fee: bigint;
      /** Base units of inputMint the signer spent, read from the confirmed balances. */
      amountIn: bigint;
      /** Base units of outputMint the signer received, read from the confirmed balances. */
      amountOut: bigint;
      /**
       * amountOut − amountIn in base units of the input mint when the trade is a round trip
       * (inputMint = outputMint), gross of `fee`; null when the mints differ (no common unit).
       */
      realisedPnl: bigint | null;
      /** Signed change of the query's intermediateMint for the signer, base units (absent without one). */
      intermediateChangeBaseUnits?: bigint;
      confirmedAt: string;
    }
  /** Landed with an error (fee charged, nothing traded) or was refused. */
  | { status: 'failed'; signature: string; reason: string; slot?: bigint; fee?: bigint; failure?: TransactionFailure }
  | { status: 'expired'; signature: string; reason: string; lastValidBlockHeight: bigint };

/**
 * - unknown: the venue has no trace of it (never sent, or dropped before landing).
 * - pending: sent and not final yet; it may still land.
 * - expired: not landed and the block height is past its lastValidBlockHeight: it never will.
 *   Only reported when the venue knows lastValidBlockHeight (passed in, or it sent it itself).
 */
export type TransactionStatus = 'unknown' | 'pending' | 'confirmed' | 'failed' | 'expired';

export interface ConfirmOptions {
  /** Stops waiting (rejects with VenueError CONFIRM_ABORTED); the transaction may still land. */
  signal?: AbortSignal;
}

export interface Venue {
  readonly name: VenueName;
  /** Builds the transaction for `intent`, paid for and signed by `signerPublicKey` (32 bytes). */
  prepare(intent: TradeIntent, signerPublicKey: Uint8Array): Promise<PreparedTransaction>;
  /**
   * Sends `prepared` with the signer's 64-byte Ed25519 signature over prepared.messageBytes.
   * Idempotent on the signature: a second call never makes a second fill.
   * Rejects with VenueError only when the venue could not be asked (retry after status()).
   */
  submit(prepared: PreparedTransaction, signature: Uint8Array): Promise<SubmitOutcome>;
  /** Waits until the transaction is final, failed, or can no longer land. */
  confirm(query: FillQuery, opts?: ConfirmOptions): Promise<ConfirmOutcome>;
  /** Where a signature stands, without sending anything: what a resumed saga asks first. */
  status(signature: string, lastValidBlockHeight?: bigint): Promise<TransactionStatus>;
}
