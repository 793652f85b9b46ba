import { describe, expect, it } from 'vitest';
import { EventTypeRegistry, newEvent } from '../../../src/ledger/event-types.js';
import { InvalidEventError } from '../../../src/ledger/errors.js';
import {
  executionEvents,
  FillConfirmed,
  FillFailed,
  fillFailedPayload,
  type FillFailedPayload,
  outcomeEvent,
  submitOutcomeEvent,
  TransactionExpired,
  TransactionSubmitted,
  transactionSubmittedPayload,
} from '../../../src/execution/events.js';
import { decodeTransactionFailure, describeFailure } from '../../../src/execution/solana/transaction-error.js';
import type { FillQuery, PreparedTransaction } from '../../../src/execution/venue.port.js';

const SIG = '5'.repeat(87);
const SOL = 'So11111111111111111111111111111111111111112';
const USDC = 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v';
const meta = { correlationId: 'c', causationId: null, actor: 'engine', tenant: 'default' };
const registry = new EventTypeRegistry(false).register(...executionEvents);
const valid = (def: Parameters<typeof newEvent>[0], payload: unknown) => registry.validate(newEvent(def, payload, meta));
const query: FillQuery = {
  signature: SIG,
  opportunityId: 'opp-1',
  inputMint: SOL,
  outputMint: SOL,
  inAmount: 1_000n,
  expectedOut: 1_010n,
  signerPublicKey: 'x',
  lastValidBlockHeight: 1_150n,
};
const at = '2026-01-31T12:00:00.000Z';

describe('execution events', () => {
  it('exports its events, past tense: TransactionPrepared at version 3 (roundTrip, instruction roles), FillConfirmed at 2 (inventory), FillFailed at 2 (decoded failure), the rest at 1', () => {
    expect(executionEvents.map((e) => [e.type, e.version])).toEqual([
      ['TransactionPrepared', 3],
      ['TransactionSubmitted', 1],
      ['FillConfirmed', 2],
      ['FillFailed', 2],
      ['TransactionExpired', 1],
    ]);
  });

  it('TransactionSubmitted from a prepared transaction and its submit outcome', () => {
    const prepared = { ...query, venue: 'solana', priorityFeeMicroLamports: 1000n } as unknown as PreparedTransaction;
    const payload = transactionSubmittedPayload(prepared, { status: 'submitted', signature: SIG, submittedAt: at, alreadyProcessed: false });
    expect(payload).toEqual({ opportunityId: 'opp-1', signature: SIG, venue: 'solana', lastValidBlockHeight: '1150', priorityFeeMicroLamports: '1000', submittedAt: at });
    valid(TransactionSubmitted, payload);
    expect(() => valid(TransactionSubmitted, { ...payload, venue: 'binance' })).toThrow(InvalidEventError);
  });

  it('FillConfirmed carries a signed PnL for a round trip and none when the mints differ', () => {
    const out = { status: 'confirmed', signature: SIG, slot: 99n, fee: 5200n, amountIn: 1_000n, amountOut: 990n, realisedPnl: -10n, confirmedAt: at } as const;
    const { event, payload } = outcomeEvent(query, out, at);
    expect(event).toBe(FillConfirmed);
    expect(payload).toMatchObject({ slot: '99', amountIn: '1000', amountOut: '990', feeLamports: '5200', realisedPnl: '-10' });
    valid(FillConfirmed, payload);
    const cross = outcomeEvent({ ...query, outputMint: USDC }, { ...out, realisedPnl: null }, at);
    expect('realisedPnl' in cross.payload).toBe(false);
    valid(FillConfirmed, cross.payload);
    expect(() => valid(FillConfirmed, { ...payload, amountIn: '1.5' })).toThrow(/base units/);
    expect(() => valid(FillConfirmed, { ...payload, amountIn: -3 })).toThrow(InvalidEventError);
  });

  it('FillFailed with and without the fee of a transaction that landed', () => {
    const landed = outcomeEvent(query, { status: 'failed', signature: SIG, reason: 'instruction 3 failed', slot: 7n, fee: 5200n }, at);
    expect(landed.event).toBe(FillFailed);
    expect(landed.payload).toEqual({ opportunityId: 'opp-1', signature: SIG, reason: 'instruction 3 failed', slot: '7', feeLamports: '5200', failure: null, failedAt: at });
    valid(FillFailed, landed.payload);
    const refused = fillFailedPayload('opp-1', { signature: SIG, reason: 'signature verification failed' }, at);
    expect(refused).toEqual({ opportunityId: 'opp-1', signature: SIG, reason: 'signature verification failed', failure: null, failedAt: at });
    valid(FillFailed, refused);
    expect(fillFailedPayload('o', { signature: SIG, reason: 'x'.repeat(5000) }).reason).toHaveLength(2000);
  });

  it('FillFailed v2 carries the decoded failure: part, program, error, and the TransactionError as written', () => {
    const failure = decodeTransactionFailure({ InstructionError: [8, { Custom: 1 }] }, {
      stage: 'on-chain',
      roles: ['compute-budget', 'compute-budget', 'leg-1:setup', 'leg-1:swap', 'leg-1:cleanup', 'leg-2:setup', 'leg-2:swap', 'leg-2:cleanup', 'guard'],
      programIds: [null, null, null, null, null, null, null, null, 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA'] as unknown as string[],
    });
    const { payload } = outcomeEvent(query, { status: 'failed', signature: SIG, reason: describeFailure(failure), slot: 7n, fee: 5200n, failure }, at);
    expect(payload).toMatchObject({
      feeLamports: '5200',
      reason: expect.stringMatching(/^the profit guard \(instruction 8, SPL Token\) failed: InsufficientFunds/),
      failure: { stage: 'on-chain', transactionError: { InstructionError: [8, { Custom: 1 }] }, instructionIndex: 8, part: 'guard', program: 'SPL Token', code: 1, error: 'InsufficientFunds' },
    });
    valid(FillFailed, JSON.parse(JSON.stringify(payload)));
    expect(() => valid(FillFailed, { ...payload, failure: { ...(payload as FillFailedPayload).failure, part: 'leg-3' } })).toThrow(InvalidEventError);
  });

  it('a FillFailed v1 row upcasts to failure: null, its reason kept; a log of v1 and v2 rows reads as v2', () => {
    const v1 = { opportunityId: 'opp-1', signature: SIG, reason: 'instruction 3 failed: custom program error 0x1771', slot: '7', feeLamports: '5200', failedAt: at };
    const row = (version: number, payload: unknown, n: number) => ({ ...newEvent(FillFailed, payload as never, meta), version, streamId: 's', revision: BigInt(n), position: BigInt(n) }) as never;
    const v2 = { ...v1, failure: null };
    const read = [row(1, v1, 1), row(2, v2, 2)].map((e) => registry.upcast(e));
    expect(read.map((e) => [e.version, e.payload])).toEqual([
      [2, { ...v1, failure: null }],
      [2, v2],
    ]);
  });

  it('TransactionExpired', () => {
    const { event, payload } = outcomeEvent(query, { status: 'expired', signature: SIG, reason: 'not landed', lastValidBlockHeight: 1_150n }, at);
    expect(event).toBe(TransactionExpired);
    expect(payload).toEqual({ opportunityId: 'opp-1', signature: SIG, lastValidBlockHeight: '1150', reason: 'not landed', expiredAt: at });
    valid(TransactionExpired, payload);
    expect(() => valid(TransactionExpired, { ...payload, signature: 'not base58 0OIl' })).toThrow(InvalidEventError);
  });
});

describe('submitOutcomeEvent', () => {
  const prepared = { ...query, venue: 'paper', priorityFeeMicroLamports: 0n } as unknown as PreparedTransaction;
  it('maps each submit outcome to its event, and a repeated submit to none', () => {
    expect(submitOutcomeEvent(prepared, { status: 'submitted', signature: SIG, submittedAt: at, alreadyProcessed: false })?.event).toBe(TransactionSubmitted);
    expect(submitOutcomeEvent(prepared, { status: 'submitted', signature: SIG, submittedAt: at, alreadyProcessed: true })).toBeNull();
    const failed = submitOutcomeEvent(prepared, { status: 'failed', signature: SIG, reason: 'signature verification failed' }, at)!;
    expect(failed.event).toBe(FillFailed);
    valid(failed.event, failed.payload);
    const expired = submitOutcomeEvent(prepared, { status: 'expired', signature: SIG, reason: 'blockhash not found' }, at)!;
    expect(expired).toEqual({
      event: TransactionExpired,
      payload: { opportunityId: 'opp-1', signature: SIG, lastValidBlockHeight: '1150', reason: 'blockhash not found', expiredAt: at },
    });
  });
});
