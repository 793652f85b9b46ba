import { describe, expect, it } from 'vitest';
import { decodeTransactionFailure, describeFailure, transactionErrorFromMessage } from '../../../src/execution/solana/transaction-error.js';
import type { InstructionRole } from '../../../src/execution/venue.port.js';

const JUPITER = 'JUP6LkbZbjS1jKKwapdHNy74zcZ3tLUZoi5QNyVTaV4';
const TOKEN = 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA';
const BUDGET = 'ComputeBudget111111111111111111111111111111';
const ATA = 'ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL';
const UNKNOWN = 'Dex1111111111111111111111111111111111111111';

/** A real Jupiter round trip's layout: budget pair, each leg setup + route (the swap), the guard. */
const roles: InstructionRole[] = ['compute-budget', 'compute-budget', 'leg-1:setup', 'leg-1:swap', 'leg-2:setup', 'leg-2:swap', 'leg-2:other', 'guard'];
const programIds = [BUDGET, BUDGET, ATA, JUPITER, ATA, JUPITER, UNKNOWN, TOKEN];
const onChain = { stage: 'on-chain' as const, roles, programIds };

describe('decodeTransactionFailure', () => {
  it("Jupiter's 6001 on leg 1's swap: SlippageToleranceExceeded, leg 1, the whole round trip reverted", () => {
    const f = decodeTransactionFailure({ InstructionError: [3, { Custom: 6001 }] }, onChain);
    expect(f).toEqual({
      stage: 'on-chain',
      transactionError: { InstructionError: [3, { Custom: 6001 }] },
      instructionIndex: 3,
      part: 'leg-1',
      group: 'swap',
      programId: JUPITER,
      program: 'Jupiter v6',
      code: 6001,
      error: 'SlippageToleranceExceeded',
      message: expect.stringMatching(/^Slippage tolerance exceeded: .*minimum out/),
    });
    expect(describeFailure(f)).toMatch(/^leg 1 swap \(instruction 3, Jupiter v6\) failed: SlippageToleranceExceeded \(custom program error 0x1771\)/);
  });

  it("SPL Token InsufficientFunds (custom 1) at the guard: the profit did not arrive", () => {
    const f = decodeTransactionFailure({ InstructionError: [7, { Custom: 1 }] }, onChain);
    expect(f).toMatchObject({ instructionIndex: 7, part: 'guard', group: null, program: 'SPL Token', code: 1, error: 'InsufficientFunds' });
    expect(f.message).toMatch(/profit did not arrive/);
    expect(describeFailure(f)).toMatch(/^the profit guard \(instruction 7, SPL Token\) failed: InsufficientFunds \(custom program error 0x1\)/);
  });

  it('a non-custom instruction error on the compute budget, and one of a program we do not know', () => {
    const budget = decodeTransactionFailure({ InstructionError: [0, 'InvalidInstructionData'] }, onChain);
    expect(budget).toMatchObject({ part: 'compute-budget', group: null, program: 'Compute Budget', code: null, error: 'InvalidInstructionData', message: 'invalid instruction data' });
    const other = decodeTransactionFailure({ InstructionError: [6, { Custom: 42 }] }, onChain);
    expect(other).toMatchObject({ part: 'leg-2', group: 'other', programId: UNKNOWN, program: null, code: 42, error: 'Custom42' });
    expect(describeFailure(other)).toContain(`leg 2 other (instruction 6, program ${UNKNOWN}) failed: Custom42 (custom program error 0x2a)`);
    const borsh = decodeTransactionFailure({ InstructionError: [5, { BorshIoError: 'Unknown' }] }, onChain);
    expect(borsh).toMatchObject({ part: 'leg-2', group: 'swap', error: 'BorshIoError', code: null });
  });

  it('without a recorded layout (a plain transaction, or one prepared before roles were recorded) the part is null, the program still named', () => {
    const f = decodeTransactionFailure({ InstructionError: [3, { Custom: 6001 }] }, { stage: 'on-chain', roles: null, programIds });
    expect(f).toMatchObject({ part: null, group: null, program: 'Jupiter v6', error: 'SlippageToleranceExceeded' });
    expect(describeFailure(f)).toMatch(/^instruction 3 \(Jupiter v6\) failed: SlippageToleranceExceeded/);
    const bare = decodeTransactionFailure({ InstructionError: [9, { Custom: 1 }] }, { stage: 'on-chain', roles, programIds });
    expect(bare).toMatchObject({ instructionIndex: 9, part: null, programId: null, program: null, error: 'Custom1' });
  });

  it('transaction-level errors: a string or an object with its variant name', () => {
    expect(decodeTransactionFailure('BlockhashNotFound', onChain)).toMatchObject({ instructionIndex: null, part: null, error: 'BlockhashNotFound', message: 'Blockhash not found' });
    const rent = decodeTransactionFailure({ InsufficientFundsForRent: { account_index: 2 } }, onChain);
    expect(rent).toMatchObject({ error: 'InsufficientFundsForRent', transactionError: { InsufficientFundsForRent: { account_index: 2 } } });
    expect(describeFailure(rent)).toMatch(/^the transaction failed: InsufficientFundsForRent/);
    expect(decodeTransactionFailure({ InstructionError: ['x', 1] }, onChain)).toMatchObject({ instructionIndex: null, error: 'InstructionError' });
  });

  it('a preflight failure says it never landed', () => {
    const f = decodeTransactionFailure({ InstructionError: [7, { Custom: 1 }] }, { ...onChain, stage: 'preflight' });
    expect(describeFailure(f)).toMatch(/^refused by preflight \(never landed, no fee\): the profit guard/);
  });
});

describe('transactionErrorFromMessage (a preflight refusal as the node words it)', () => {
  it('reads the instruction index and the custom code back', () => {
    expect(transactionErrorFromMessage('Transaction simulation failed: Error processing Instruction 8: custom program error: 0x1')).toEqual({ InstructionError: [8, { Custom: 1 }] });
    expect(transactionErrorFromMessage('Transaction simulation failed: Error processing Instruction 3: custom program error: 0x1771')).toEqual({ InstructionError: [3, { Custom: 6001 }] });
  });

  it('names instruction errors from their words (Agave) or their quoted variant (the stand-in)', () => {
    expect(transactionErrorFromMessage('Transaction simulation failed: Error processing Instruction 4: insufficient funds for instruction')).toEqual({ InstructionError: [4, 'InsufficientFunds'] });
    expect(transactionErrorFromMessage('Transaction simulation failed: Error processing Instruction 2: "InvalidAccountData"')).toEqual({ InstructionError: [2, 'InvalidAccountData'] });
    expect(transactionErrorFromMessage('Transaction simulation failed: Error processing Instruction 2: something new')).toEqual({ InstructionError: [2, 'something new'] });
  });

  it('transaction-level words, and null for words it does not know', () => {
    expect(transactionErrorFromMessage('Transaction simulation failed: Blockhash not found')).toBe('BlockhashNotFound');
    expect(transactionErrorFromMessage('Transaction simulation failed: Insufficient funds for fee')).toBe('InsufficientFundsForFee');
    expect(transactionErrorFromMessage('node is behind by 42 slots')).toBeNull();
  });
});
