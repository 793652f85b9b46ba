// Composes a two-leg round trip A → B → A into ONE v0 transaction, the way arbitrage bots do it:
// one compute-budget pair of our own (the legs' own are dropped), leg 1 setup/swap/cleanup, leg 2
// the same (a setup instruction both legs carry is kept once), other instructions, and a profit
// guard LAST: an SPL Token TransferChecked of the input token account to itself for (balance at
// prepare + minimum profit). A self-transfer moves nothing, but the token program still refuses
// an amount above the balance (InsufficientFunds), so the whole transaction — leg 1 included —
// reverts unless the profit arrived; after it only a memo naming the trade (so two trades of the same
// legs, guard and blockhash are not one signature). The guard reads the balance at prepare, so only one round trip
// may be in flight per input token account (the venue enforces it). Instructions arrive as plain
// JSON (the saga hands them over from the market port); Solana types stay in this folder.
import {
  ComputeBudgetProgram,
  PublicKey,
  TransactionInstruction,
  TransactionMessage,
  VersionedTransaction,
  type AddressLookupTableAccount,
} from '@solana/web3.js';
import { createTransferCheckedInstruction } from '@solana/spl-token';
import { VenueError } from '../errors.js';
import { MEMO_PROGRAM_ID } from '../transaction.js';
import type { InstructionRole } from '../venue.port.js';

/** Solana's packet limit for a serialized transaction. */
export const MAX_TRANSACTION_BYTES = 1232;
/** The compute unit limit a simulation runs with (the runtime's maximum). */
export const SIMULATION_UNIT_LIMIT = 1_400_000;

export interface PlainInstruction {
  programId: string;
  accounts: { pubkey: string; isSigner: boolean; isWritable: boolean }[];
  data: string;
}

export interface PlainLeg {
  setupInstructions: PlainInstruction[];
  swapInstruction: PlainInstruction;
  cleanupInstruction: PlainInstruction | null;
  otherInstructions: PlainInstruction[];
}

export interface ProfitGuard {
  /** The payer's token account of the input mint. */
  account: PublicKey;
  mint: PublicKey;
  decimals: number;
  /** Balance at prepare + minimum profit, base units. */
  amount: bigint;
}

export interface RoundTripParts {
  payer: PublicKey;
  blockhash: string;
  legs: [PlainLeg, PlainLeg];
  computeUnitLimit: number;
  computeUnitPriceMicroLamports: bigint;
  guard: ProfitGuard;
  lookupTables: AddressLookupTableAccount[];
  /**
   * Names the trade (e.g. `arbiter:<opportunity id>`), in a memo after the guard: without it two
   * round trips with the same legs, guard amount and blockhash would be the same bytes, one
   * signature, and the second would be reported as already processed with the first's outcome.
   */
  memo: string;
}

export function toInstruction(ix: PlainInstruction): TransactionInstruction {
  return new TransactionInstruction({
    programId: new PublicKey(ix.programId),
    keys: ix.accounts.map((a) => ({ pubkey: new PublicKey(a.pubkey), isSigner: a.isSigner, isWritable: a.isWritable })),
    data: Buffer.from(ix.data, 'base64'),
  });
}

const keyOf = (ix: PlainInstruction) => JSON.stringify([ix.programId, ix.accounts, ix.data]);

/** The memo text of a trade: the same as the plain route transaction's (../transaction.ts). */
export const tradeMemo = (opportunityId: string): string => `arbiter:${opportunityId}`;

/** A memo that only names the trade (it checks nothing; its bytes make the transaction unique). */
function memoInstruction(text: string): TransactionInstruction {
  return new TransactionInstruction({ programId: MEMO_PROGRAM_ID, keys: [], data: Buffer.from(text, 'utf8') });
}

/**
 * The instructions in order — budget pair, leg 1, leg 2 (setup deduplicated), others, guard, memo — and
 * each one's role, which the prepared transaction records so a failure names the part that failed.
 */
export function roundTripInstructions(p: Omit<RoundTripParts, 'blockhash' | 'lookupTables' | 'payer'>): { instructions: TransactionInstruction[]; roles: InstructionRole[] } {
  const seen = new Set<string>();
  const out: TransactionInstruction[] = [
    ComputeBudgetProgram.setComputeUnitLimit({ units: p.computeUnitLimit }),
    ComputeBudgetProgram.setComputeUnitPrice({ microLamports: p.computeUnitPriceMicroLamports }),
  ];
  const roles: InstructionRole[] = ['compute-budget', 'compute-budget'];
  const others: { ix: PlainInstruction; role: InstructionRole }[] = [];
  p.legs.forEach((leg, i) => {
    const n = i === 0 ? 'leg-1' : 'leg-2';
    for (const s of leg.setupInstructions) {
      // A setup both legs carry (e.g. the same idempotent account creation) runs once, as leg 1's.
      if (seen.has(keyOf(s))) continue;
      seen.add(keyOf(s));
      out.push(toInstruction(s));
      roles.push(`${n}:setup`);
    }
    out.push(toInstruction(leg.swapInstruction));
    roles.push(`${n}:swap`);
    if (leg.cleanupInstruction) {
      out.push(toInstruction(leg.cleanupInstruction));
      roles.push(`${n}:cleanup`);
    }
    others.push(...leg.otherInstructions.map((ix) => ({ ix, role: `${n}:other` as const })));
  });
  for (const o of others) {
    out.push(toInstruction(o.ix));
    roles.push(o.role);
  }
  const g = p.guard;
  // The taker owns the account: a self-transfer signed by the payer, for more than it held at prepare.
  out.push(createTransferCheckedInstruction(g.account, g.mint, g.account, ownerOf(p), g.amount, g.decimals));
  roles.push('guard');
  out.push(memoInstruction(p.memo));
  roles.push('memo');
  return { instructions: out, roles };
}

function ownerOf(p: Omit<RoundTripParts, 'blockhash' | 'lookupTables' | 'payer'> & { payer?: PublicKey }): PublicKey {
  // The swap's signer is the taker (the same for both legs: the payer).
  const signer = p.legs[0].swapInstruction.accounts.find((a) => a.isSigner);
  if (!signer) throw new VenueError('INVALID_REQUEST', "leg 1's swap instruction names no signer (the taker)");
  return new PublicKey(signer.pubkey);
}

/** One v0 transaction of the round trip and its instructions' roles; refuses one over 1232 bytes (TRANSACTION_TOO_LARGE). */
export function composeRoundTrip(p: RoundTripParts): { tx: VersionedTransaction; bytes: number; roles: InstructionRole[] } {
  assertTaker(p.legs, p.payer);
  const { instructions, roles } = roundTripInstructions(p);
  return { ...compile(p.payer, p.blockhash, instructions, p.lookupTables, 'the round trip'), roles };
}

/** The parts of a single-leg swap (an inventory sale): no guard, the leg's minimum out is Jupiter's own check. */
export type SwapParts = Omit<RoundTripParts, 'legs' | 'guard'> & { leg: PlainLeg };

/** Budget pair, then the leg's setup, swap, cleanup and other instructions, and the memo naming the sale. */
export function swapInstructions(p: Pick<SwapParts, 'leg' | 'computeUnitLimit' | 'computeUnitPriceMicroLamports' | 'memo'>): TransactionInstruction[] {
  return [
    ComputeBudgetProgram.setComputeUnitLimit({ units: p.computeUnitLimit }),
    ComputeBudgetProgram.setComputeUnitPrice({ microLamports: p.computeUnitPriceMicroLamports }),
    ...p.leg.setupInstructions.map(toInstruction),
    toInstruction(p.leg.swapInstruction),
    ...(p.leg.cleanupInstruction ? [toInstruction(p.leg.cleanupInstruction)] : []),
    ...p.leg.otherInstructions.map(toInstruction),
    memoInstruction(p.memo),
  ];
}

/** One v0 transaction of a single leg; refuses one over 1232 bytes (TRANSACTION_TOO_LARGE). */
export function composeSwap(p: SwapParts): { tx: VersionedTransaction; bytes: number } {
  assertTaker([p.leg], p.payer);
  return compile(p.payer, p.blockhash, swapInstructions(p), p.lookupTables, 'the swap');
}

function assertTaker(legs: readonly PlainLeg[], payer: PublicKey): void {
  for (const leg of legs) {
    for (const ix of [leg.swapInstruction, ...leg.setupInstructions]) {
      const signers = ix.accounts.filter((a) => a.isSigner).map((a) => a.pubkey);
      if (signers.some((s) => s !== payer.toBase58())) {
        throw new VenueError('INVALID_REQUEST', `a leg instruction needs a signature of ${signers.join(', ')}; every leg must be built for the taker ${payer.toBase58()}`);
      }
    }
  }
}

function compile(payer: PublicKey, blockhash: string, instructions: TransactionInstruction[], tables: AddressLookupTableAccount[], what: string): { tx: VersionedTransaction; bytes: number } {
  const message = new TransactionMessage({ payerKey: payer, recentBlockhash: blockhash, instructions }).compileToV0Message(tables);
  const tx = new VersionedTransaction(message);
  let bytes: number;
  try {
    bytes = tx.serialize().length;
  } catch (err) {
    // web3.js refuses to serialize past its buffer; that is "too large" too.
    throw new VenueError('TRANSACTION_TOO_LARGE', `${what} does not serialize: ${(err as Error).message}; re-quote with a lower maxAccounts`, { cause: err });
  }
  if (bytes > MAX_TRANSACTION_BYTES) {
    throw new VenueError('TRANSACTION_TOO_LARGE', `${what} is ${bytes} bytes, over Solana's ${MAX_TRANSACTION_BYTES}; re-quote with a lower maxAccounts`);
  }
  return { tx, bytes };
}

/** Units the transaction asks for: what the simulation consumed × margin (e.g. 1.2 = 20 % more), capped at the maximum. */
export function unitsWithMargin(simulated: bigint, marginPct: number): number {
  const units = (simulated * BigInt(100 + marginPct) + 99n) / 100n;
  return Number(units > BigInt(SIMULATION_UNIT_LIMIT) ? BigInt(SIMULATION_UNIT_LIMIT) : units);
}

/**
 * One round trip in flight per input token account (the guard read its balance at prepare). Held
 * from prepare until the venue sees a final outcome, or until `untilMs` (past the blockhash's life
 * the transaction can no longer land). In-process memory: a restarted engine starts empty.
 */
export class InFlightAccounts {
  private readonly held = new Map<string, { opportunityId: string; untilMs: number }>();
  take(account: string, opportunityId: string, nowMs = 0, untilMs = Number.MAX_SAFE_INTEGER): void {
    const by = this.held.get(account);
    if (by !== undefined && by.opportunityId !== opportunityId && by.untilMs > nowMs) {
      throw new VenueError('ACCOUNT_BUSY', `round trip ${by.opportunityId} is in flight on token account ${account}; its guard read the balance, so ${opportunityId} waits`);
    }
    this.held.set(account, { opportunityId, untilMs });
  }
  release(account: string, opportunityId: string): void {
    if (this.held.get(account)?.opportunityId === opportunityId) this.held.delete(account);
  }
  /** Releases whatever `opportunityId` holds (confirm knows the opportunity, not the account). */
  releaseAll(opportunityId: string): void {
    for (const [account, by] of this.held) if (by.opportunityId === opportunityId) this.held.delete(account);
  }
}
