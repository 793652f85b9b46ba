// Why a Solana transaction failed, in words a trader can act on: the node's TransactionError
// ({"InstructionError":[3,{"Custom":6001}]}, "BlockhashNotFound", …) plus what the venue knows of
// the message — each instruction's program and, for a composed round trip, its role (budget, leg 1,
// leg 2, guard) as recorded at prepare — decoded into a TransactionFailure: which part failed,
// which program, which error (Jupiter's 6001 SlippageToleranceExceeded, SPL Token's InsufficientFunds
// at the guard: the profit did not arrive). Pure: no I/O, tested on its own.
//
// A preflight refusal reaches us only as the node's message (web3.js 1.x keeps `error.message` of
// sendTransaction and drops `error.data.err`), so it is read back into the same shape from the
// words the node prints for it ("Error processing Instruction 8: custom program error: 0x1").
import type { InstructionRole, RoundTripPart, TransactionFailure } from '../venue.port.js';

type ErrorTable = Readonly<Record<number, readonly [name: string, text: string]>>;

const JUPITER_V6: ErrorTable = {
  6000: ['EmptyRoute', 'Empty route'],
  6001: ['SlippageToleranceExceeded', 'Slippage tolerance exceeded'],
  6002: ['InvalidCalculation', 'Invalid calculation'],
  6003: ['MissingPlatformFeeAccount', 'Missing platform fee account'],
  6004: ['InvalidSlippage', 'Invalid slippage'],
  6005: ['NotEnoughPercent', 'Not enough percent to 100'],
  6006: ['InvalidInputIndex', 'Token input index is invalid'],
  6007: ['InvalidOutputIndex', 'Token output index is invalid'],
  6008: ['NotEnoughAccountKeys', 'Not Enough Account keys'],
  6009: ['NonZeroMinimumOutAmountNotSupported', 'Non zero minimum out amount not supported'],
  6010: ['InvalidRoutePlan', 'Invalid route plan'],
  6011: ['InvalidReferralAuthority', 'Invalid referral authority'],
  6012: ['LedgerTokenAccountDoesNotMatch', "Token account doesn't match the ledger"],
  6013: ['InvalidTokenLedger', 'Invalid token ledger'],
  6014: ['IncorrectTokenProgramID', 'Token program ID is invalid'],
  6015: ['TokenProgramNotProvided', 'Token program not provided'],
  6016: ['SwapNotSupported', 'Swap not supported'],
  6017: ['ExactOutAmountNotMatched', "Exact out amount doesn't match"],
  6018: ['SourceAndDestinationMintCannotBeTheSame', 'Source mint and destination mint cannot the same'],
};

/** SPL Token's TokenError (Token-2022 starts with the same codes). */
const SPL_TOKEN: ErrorTable = {
  0: ['NotRentExempt', 'Lamport balance below rent-exempt threshold'],
  1: ['InsufficientFunds', 'Insufficient funds'],
  2: ['InvalidMint', 'Invalid Mint'],
  3: ['MintMismatch', 'Account not associated with this Mint'],
  4: ['OwnerMismatch', 'Owner does not match'],
  5: ['FixedSupply', 'Fixed supply'],
  6: ['AlreadyInUse', 'Already in use'],
  7: ['InvalidNumberOfProvidedSigners', 'Invalid number of provided signers'],
  8: ['InvalidNumberOfRequiredSigners', 'Invalid number of required signers'],
  9: ['UninitializedState', 'State is uninitialized'],
  10: ['NativeNotSupported', 'Instruction does not support native tokens'],
  11: ['NonNativeHasBalance', 'Non-native account can only be closed if its balance is zero'],
  12: ['InvalidInstruction', 'Invalid instruction'],
  13: ['InvalidState', 'State is invalid for requested operation'],
  14: ['Overflow', 'Operation overflowed'],
  15: ['AuthorityTypeNotSupported', 'Account does not support specified authority type'],
  16: ['MintCannotFreeze', 'This token mint cannot freeze accounts'],
  17: ['AccountFrozen', 'Account is frozen'],
  18: ['MintDecimalsMismatch', 'The provided decimals value different from the Mint decimals'],
  19: ['NonNativeNotSupported', 'Instruction does not support non-native tokens'],
};

const SYSTEM: ErrorTable = {
  0: ['AccountAlreadyInUse', 'an account with the same address already exists'],
  1: ['ResultWithNegativeLamports', 'account does not have enough SOL to perform the operation'],
  2: ['InvalidProgramId', 'cannot assign account to this program id'],
  3: ['InvalidAccountDataLength', 'cannot allocate account data of this length'],
  4: ['MaxSeedLengthExceeded', 'length of requested seed is too long'],
  5: ['AddressWithSeedMismatch', 'provided address does not match addressed derived from seed'],
  6: ['NonceNoRecentBlockhashes', 'advancing stored nonce requires a populated RecentBlockhashes sysvar'],
  7: ['NonceBlockhashNotExpired', 'stored nonce is still in recent_blockhashes'],
  8: ['NonceUnexpectedBlockhashValue', 'specified nonce does not match stored nonce'],
};

/** The programs whose errors we name. */
export const KNOWN_PROGRAMS: Readonly<Record<string, { name: string; errors: ErrorTable }>> = {
  JUP6LkbZbjS1jKKwapdHNy74zcZ3tLUZoi5QNyVTaV4: { name: 'Jupiter v6', errors: JUPITER_V6 },
  TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA: { name: 'SPL Token', errors: SPL_TOKEN },
  TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb: { name: 'Token-2022', errors: SPL_TOKEN },
  ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL: { name: 'Associated Token Account', errors: { 0: ['InvalidOwner', 'Associated token account owner does not match address derivation'] } },
  ComputeBudget111111111111111111111111111111: { name: 'Compute Budget', errors: {} },
  '11111111111111111111111111111111': { name: 'System', errors: SYSTEM },
  MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr: { name: 'Memo', errors: {} },
};

/** The words Agave prints for the instruction errors a round trip meets most (Display of InstructionError). */
const INSTRUCTION_TEXT: Readonly<Record<string, string>> = {
  GenericError: 'generic instruction error',
  InvalidArgument: 'invalid program argument',
  InvalidInstructionData: 'invalid instruction data',
  InvalidAccountData: 'invalid account data for instruction',
  AccountDataTooSmall: 'account data too small for instruction',
  InsufficientFunds: 'insufficient funds for instruction',
  IncorrectProgramId: 'incorrect program id for instruction',
  MissingRequiredSignature: 'missing required signature for instruction',
  AccountAlreadyInitialized: 'instruction requires an uninitialized account',
  UninitializedAccount: 'instruction requires an initialized account',
  NotEnoughAccountKeys: 'insufficient account keys for instruction',
  AccountNotExecutable: 'instruction expected an executable account',
  ComputationalBudgetExceeded: 'Computational budget exceeded',
  ProgramFailedToComplete: 'Program failed to complete',
  UnsupportedProgramId: 'Unsupported program id',
};

/** The words Agave prints for transaction-level errors (Display of TransactionError). */
const TRANSACTION_TEXT: Readonly<Record<string, string>> = {
  AccountInUse: 'Account in use',
  AccountNotFound: 'Attempt to debit an account but found no record of a prior credit.',
  InsufficientFundsForFee: 'Insufficient funds for fee',
  AlreadyProcessed: 'This transaction has already been processed',
  BlockhashNotFound: 'Blockhash not found',
  SignatureFailure: 'Transaction did not pass signature verification',
  AddressLookupTableNotFound: 'Transaction loads an address table account that doesn\'t exist',
  WouldExceedMaxBlockCostLimit: 'Transaction would exceed max Block Cost Limit',
  InsufficientFundsForRent: 'Transaction results in an account with insufficient funds for rent',
};

/** What an error means for a round trip, where it is worth saying. */
function meaning(part: RoundTripPart | null, program: string | null, code: number | null): string {
  // The guard is an SPL Token TransferChecked: its InsufficientFunds (1) is the missing profit.
  if (part === 'guard' && code === 1) {
    return 'the profit did not arrive: the input token account holds less than its balance at prepare + the minimum profit, so the whole round trip reverted';
  }
  if (program === 'Jupiter v6' && code === 6001) return "the leg's output fell below its minimum out (the pool moved after the quote); the whole round trip reverted";
  if (part === 'leg-1' || part === 'leg-2') return 'the whole round trip reverted (one transaction: leg 1 is undone with it)';
  return '';
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function roleParts(role: InstructionRole | undefined): { part: RoundTripPart | null; group: TransactionFailure['group'] } {
  if (role === undefined) return { part: null, group: null };
  const [part, group] = role.split(':') as [RoundTripPart, TransactionFailure['group'] | undefined];
  return { part, group: group ?? null };
}

export interface FailureContext {
  stage: TransactionFailure['stage'];
  /** The program of each instruction of the message, in order (null when the message is not at hand). */
  programIds: readonly string[] | null;
  /** A composed round trip's recorded layout (null: not a round trip, or recorded before roles were). */
  roles: readonly InstructionRole[] | null;
}

/** Decodes a TransactionError as the RPC writes it, with what the message and the prepared layout say. */
export function decodeTransactionFailure(err: unknown, ctx: FailureContext): TransactionFailure {
  const ie = isObj(err) ? err.InstructionError : undefined;
  if (Array.isArray(ie) && ie.length === 2 && Number.isSafeInteger(ie[0]) && (ie[0] as number) >= 0) {
    const index = ie[0] as number;
    const detail: unknown = ie[1];
    const { part, group } = roleParts(ctx.roles?.[index]);
    const programId = ctx.programIds?.[index] ?? null;
    const known = programId ? KNOWN_PROGRAMS[programId] : undefined;
    const program = known?.name ?? null;
    const custom = isObj(detail) && Number.isSafeInteger(detail.Custom) ? (detail.Custom as number) : null;
    let error: string;
    let text: string;
    if (custom !== null) {
      const entry = known?.errors[custom];
      error = entry?.[0] ?? `Custom${custom}`;
      text = entry?.[1] ?? `custom program error 0x${custom.toString(16)}${program ? ` of ${program}` : ''}`;
    } else if (typeof detail === 'string') {
      error = detail;
      text = INSTRUCTION_TEXT[detail] ?? detail;
    } else {
      error = isObj(detail) ? (Object.keys(detail)[0] ?? 'UnknownInstructionError') : 'UnknownInstructionError';
      text = JSON.stringify(detail) ?? 'unknown';
    }
    const why = meaning(part, program, custom);
    return { stage: ctx.stage, transactionError: err, instructionIndex: index, part, group, programId, program, code: custom, error, message: why ? `${text}: ${why}` : text };
  }
  const error = typeof err === 'string' ? err : isObj(err) ? (Object.keys(err)[0] ?? 'UnknownTransactionError') : 'UnknownTransactionError';
  const text = TRANSACTION_TEXT[error] ?? (typeof err === 'string' ? err : JSON.stringify(err) ?? 'unknown');
  return { stage: ctx.stage, transactionError: err ?? null, instructionIndex: null, part: null, group: null, programId: null, program: null, code: null, error, message: text };
}

/**
 * The TransactionError a node's preflight message describes, or null when the words are not one's:
 * "Transaction simulation failed: Error processing Instruction 8: custom program error: 0x1" →
 * {"InstructionError":[8,{"Custom":1}]}; "… Blockhash not found" → "BlockhashNotFound".
 */
export function transactionErrorFromMessage(message: string): unknown {
  const m = /Error processing Instruction (\d+): ([^\n]+)/.exec(message);
  if (m) {
    const index = Number(m[1]);
    const rest = m[2]!.trim().replace(/\.$/, '');
    const custom = /^custom program error: 0x([0-9a-f]+)/i.exec(rest);
    if (custom) return { InstructionError: [index, { Custom: parseInt(custom[1]!, 16) }] };
    const quoted = /^"([A-Za-z]+)"$/.exec(rest);
    if (quoted) return { InstructionError: [index, quoted[1]] };
    const named = Object.entries(INSTRUCTION_TEXT).find(([, words]) => rest.toLowerCase().startsWith(words.toLowerCase()));
    return { InstructionError: [index, named ? named[0] : rest] };
  }
  const tx = Object.entries(TRANSACTION_TEXT).find(([, words]) => message.includes(words));
  return tx ? tx[0] : null;
}

const PART_WORDS: Record<RoundTripPart, string> = { 'compute-budget': 'the compute budget', 'leg-1': 'leg 1', 'leg-2': 'leg 2', guard: 'the profit guard', memo: 'the memo' };

/** One line for FillFailed's reason: where it failed, which program, which error, what it means. */
export function describeFailure(f: TransactionFailure): string {
  const prefix = f.stage === 'preflight' ? 'refused by preflight (never landed, no fee): ' : '';
  if (f.instructionIndex === null) return `${prefix}the transaction failed: ${f.error} (${f.message})`;
  const program = f.program ?? (f.programId ? `program ${f.programId}` : null);
  const where = f.part
    ? `${PART_WORDS[f.part]}${f.group ? ` ${f.group}` : ''} (instruction ${f.instructionIndex}${program ? `, ${program}` : ''})`
    : `instruction ${f.instructionIndex}${program ? ` (${program})` : ''}`;
  const code = f.code === null ? '' : ` (custom program error 0x${f.code.toString(16)})`;
  return `${prefix}${where} failed: ${f.error}${code}: ${f.message}`;
}
