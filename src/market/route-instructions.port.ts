// The route-instructions port: the instructions of one swap leg as Jupiter builds them for a
// taker, as plain JSON (base58 keys, base64 data), so the saga can hand them to the venue without
// either of them seeing a Solana type. Adapters: Jupiter v1 POST /swap-instructions (keyless),
// Jupiter v2 GET /build (x-api-key) in ./jupiter, and "none" (simulated market: no routes to build).
import type { JsonValue } from './quote-source.port.js';

export const ROUTE_INSTRUCTIONS = Symbol('ROUTE_INSTRUCTIONS');

export interface RouteAccountMeta {
  pubkey: string;
  isSigner: boolean;
  isWritable: boolean;
}

/** One instruction: program and accounts as base58, data as base64 (Jupiter's Instruction model). */
export interface RouteInstruction {
  programId: string;
  accounts: RouteAccountMeta[];
  data: string;
}

export interface LegInstructions {
  /** Which API built them: v1 /swap-instructions or v2 /build. */
  api: 'v1' | 'v2';
  /** Jupiter's own compute-budget instructions (a round trip drops them and sets its own). */
  computeBudgetInstructions: RouteInstruction[];
  setupInstructions: RouteInstruction[];
  swapInstruction: RouteInstruction;
  cleanupInstruction: RouteInstruction | null;
  otherInstructions: RouteInstruction[];
  /** Lookup tables the leg needs (v1: addresses only; fetch them). */
  addressLookupTableAddresses: string[];
  /** v2 only: every table's addresses as the answer gave them (no fetch needed). */
  addressesByLookupTableAddress: Record<string, string[]> | null;
  /** v2 only: the blockhash the answer came with. */
  blockhash: { blockhash: string; lastValidBlockHeight: bigint } | null;
  /** v2 only: the leg's quote (v2 quotes and builds in one call); v1 took the quote as input. */
  quoteRaw: JsonValue;
  /** The response body exactly as parsed, for the event. */
  raw: JsonValue;
}

export interface LegRequest {
  /** Jupiter's quote of this leg (Quote.raw). v2 re-quotes with the same mints, amount and slippage. */
  quoteRaw: JsonValue;
  /** Base58 of the wallet that pays and signs. */
  taker: string;
  /** Caps the accounts the route may use (a smaller route fits a two-leg transaction). */
  maxAccounts?: number;
}

export interface RouteInstructionsSource {
  readonly api: 'v1' | 'v2' | 'none';
  /** The leg's instructions, wrapAndUnwrapSol=false (a standing WSOL account). Rejects with MarketDataError. */
  legInstructions(req: LegRequest): Promise<LegInstructions>;
}
