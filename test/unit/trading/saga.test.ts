// The saga workflow as a decider: every transition of its table, every refused (phase, event)
// pair, and every input the shell can feed it, given events / when input / then events or error.
// The logs are made by the decider itself from realistic inputs, so they are the logs the engine
// writes.
import { PublicKey, SystemProgram, TransactionMessage, VersionedTransaction } from '@solana/web3.js';
import { describe, expect, it } from 'vitest';
import { ComplianceScreened } from '../../../src/compliance/events.js';
import type { ScreeningContext } from '../../../src/compliance/decisions.js';
import type { InstructionRole, PreparedTransaction } from '../../../src/execution/venue.port.js';
import { executionEvents, preparedFromPayload, TransactionPrepared, transactionPreparedPayload, type TransactionPreparedPayload } from '../../../src/execution/events.js';
import { EventTypeRegistry, newEvent } from '../../../src/ledger/event-types.js';
import type { RecordedEvent } from '../../../src/ledger/envelope.js';
import { OpportunityDetected, opportunityDetectedPayload } from '../../../src/market/events.js';
import type { PriceObservation } from '../../../src/market/price-feed.port.js';
import type { Quote, RouteQuote } from '../../../src/market/quote-source.port.js';
import { initialEngineState } from '../../../src/risk/engine-state.js';
import { defaultRiskLimits } from '../../../src/risk/limits.js';
import bs58 from 'bs58';
import { SAGA_ENDING_EVENT_TYPES, SAGA_OUTCOMES, sagaOutcomeOf } from '../../../src/trading/outcomes.js';
import {
  allowedEventTypes,
  decide,
  evolve,
  fillQuery,
  foldSaga,
  IllegalSagaTransitionError,
  initialSagaState,
  nextStep,
  RetryableStepError,
  SAGA_PHASES,
  SagaInputError,
  submitAction,
  type SagaDecision,
  type SagaEventLike,
  type SagaInput,
  type SagaPhase,
  type SagaState,
} from '../../../src/trading/saga.js';
import { spec } from '../../support/decider.js';

const SOL = 'So11111111111111111111111111111111111111112';
const USDC = 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v';
const SIGNER = '11111111111111111111111111111112';
const FEED = 'ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d';
const ID = '00000000-0000-4000-8000-000000000001';
const T0 = Date.parse('2026-03-02T12:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms);
const SIG = bs58.encode(new Uint8Array(64).fill(7));

const saga = spec({ initial: () => initialSagaState(ID), evolve, decide });

let seq = 0;
function recordedEvent(type: string, payload: unknown, revision: bigint, ms = 0): SagaEventLike {
  seq++;
  return {
    id: `00000000-0000-4000-9000-${seq.toString().padStart(12, '0')}`,
    type,
    payload,
    revision,
    recordedAt: at(ms).toISOString(),
    metadata: { correlationId: ID },
    streamId: `arbitrage-${ID}`,
    position: BigInt(seq),
  };
}

/** The events a decision appends, as the store would return them after `log`. */
function appended(log: SagaEventLike[], d: SagaDecision | RetryableStepError, ms = 0): SagaEventLike[] {
  if (d instanceof RetryableStepError) throw d;
  return d.events.map((x, i) => recordedEvent(x.def.type, x.payload, BigInt(log.length + i), ms));
}

const detected = recordedEvent(
  'OpportunityDetected',
  opportunityDetectedPayload({
    opportunityId: ID,
    route: { mintA: SOL, mintB: USDC, symbolA: 'SOL', symbolB: 'USDC', decimalsA: 9, decimalsB: 6 },
    amountIn: 1_000_000_000n,
    source: 'simulated',
    detectedAt: at(0).toISOString(),
    slippageBps: 30,
    priceFeedId: FEED,
  }),
  0n,
);

function leg(input: string, output: string, inAmount: bigint, outAmount: bigint): Quote {
  return {
    inputMint: input,
    outputMint: output,
    inAmount,
    outAmount,
    otherAmountThreshold: (outAmount * 995n) / 1000n,
    slippageBps: 30,
    swapMode: 'ExactIn',
    priceImpactPct: '0.0001',
    routePlan: [{ swapInfo: { ammKey: 'Pool1111111111111111111111111111111111111', label: 'Orca' }, percent: 100 }],
    contextSlot: 123_456n,
    timeTaken: '0.0123',
    quotedAt: at(30).toISOString(),
    raw: { inAmount: inAmount.toString(), outAmount: outAmount.toString() },
  };
}

const roundTrip = (profit: bigint): RouteQuote => ({
  legs: [leg(SOL, USDC, 1_000_000_000n, 150_000_000n), leg(USDC, SOL, 150_000_000n, 1_000_000_000n + profit)],
  expectedProfit: profit,
});
const solPrice: PriceObservation = { feedId: FEED, price: 15_000_000_000n, conf: 1_000_000n, expo: -8, publishTime: Math.floor(T0 / 1000) };

const quoted: SagaInput = { kind: 'QuoteObtained', at: at(50), quote: roundTrip(120_000n), price: solPrice };
const riskInputs = (engine = initialEngineState(defaultRiskLimits())): SagaInput => ({
  kind: 'RiskInputsObtained',
  at: at(100),
  priceB: { price: 100_000_000n, expo: -8 },
  solPrice: { price: solPrice.price, expo: solPrice.expo },
  solMint: SOL,
  engine,
  priorityFeeMicroLamports: 1_000n,
  computeUnitLimit: 200_000n,
});
const rules = {
  largeTxThresholdUsdMicros: 10_000_000_000n,
  velocityWindowSeconds: 60,
  velocityMaxCount: 1000,
  velocityMaxNotionalUsdMicros: 10n ** 15n,
  structuringWindowSeconds: 3600,
  structuringBandBps: 500,
  structuringMinCount: 50,
};
const screening = (sanctioned: string[] = []): SagaInput => {
  const list = new Set(sanctioned);
  const context: ScreeningContext = { history: [], rules, sanctions: { has: (a) => list.has(a), version: 'list-v1' } };
  return { kind: 'ScreeningInputsObtained', at: at(120), signerAddress: SIGNER, context };
};
const BLOCKHASH = 'GHtXQBsoZHVnNFa9YevAzFr17DJjgHXk3ycTKD5xD3Zi';
const payer = new PublicKey(SIGNER);
const message = new TransactionMessage({
  payerKey: payer,
  recentBlockhash: BLOCKHASH,
  instructions: [SystemProgram.transfer({ fromPubkey: payer, toPubkey: payer, lamports: 1 })],
}).compileToV0Message();
const prepared: PreparedTransaction = {
  venue: 'paper',
  opportunityId: ID,
  inputMint: SOL,
  outputMint: SOL,
  inAmount: 1_000_000_000n,
  expectedOut: 1_000_120_000n,
  signerPublicKey: SIGNER,
  unsignedTx: Buffer.from(new VersionedTransaction(message).serialize()).toString('base64'),
  messageBytes: message.serialize(),
  blockhash: BLOCKHASH,
  lastValidBlockHeight: 5_000n,
  priorityFeeMicroLamports: 1_000n,
};
const signedInput: SagaInput = {
  kind: 'TransactionSignedByVenueAndSigner',
  prepared,
  signed: { opportunityId: ID, signature: SIG, signerPublicKey: SIGNER, keyId: 'keystore:test', signerKind: 'keystore', messageHash: 'a'.repeat(64) },
};
const sent: SagaInput = {
  kind: 'SubmissionChecked',
  at: at(200),
  status: 'unknown',
  sent: { status: 'submitted', signature: SIG, submittedAt: at(200).toISOString(), alreadyProcessed: false },
};
const filled: SagaInput = {
  kind: 'FillObserved',
  at: at(900),
  outcome: { status: 'confirmed', signature: SIG, slot: 777n, fee: 6_000n, amountIn: 1_000_000_000n, amountOut: 1_000_110_000n, realisedPnl: 110_000n, confirmedAt: at(900).toISOString() },
};

/** The log after each input of the happy path, made by the decider itself. */
function happyLogs(): Record<Exclude<SagaPhase, 'new' | 'prepared'> | 'finished', SagaEventLike[]> {
  const out: Partial<Record<SagaPhase, SagaEventLike[]>> = {};
  let log = [detected];
  out.detected = log;
  for (const input of [quoted, riskInputs(), screening(), signedInput, sent, filled]) {
    const state = foldSaga(ID, log);
    log = [...log, ...appended(log, decide(input, state))];
    out[foldSaga(ID, log).phase] = log;
  }
  return out as never;
}
const logs = happyLogs();
const logAt = (phase: SagaPhase): SagaEventLike[] => {
  if (phase === 'new') return [];
  if (phase === 'prepared') return logs.signed.slice(0, -1);
  return logs[phase as keyof typeof logs];
};
const sample = (type: string): SagaEventLike => {
  const found = logs.finished.find((e) => e.type === type);
  if (found) return found;
  const variants: Record<string, unknown> = {
    QuoteFailed: { opportunityId: ID, source: 'jupiter', code: 'UPSTREAM_5XX', message: '503', failedAt: at(40).toISOString() },
    OpportunityAbandoned: { opportunityId: ID, step: 'quote', reason: 'stale', abandonedAt: at(40).toISOString() },
    FillFailed: { opportunityId: ID, signature: SIG, reason: 'custom program error: 0x1771', failedAt: at(900).toISOString() },
    TransactionExpired: { opportunityId: ID, signature: SIG, lastValidBlockHeight: '5000', reason: 'block height exceeded', expiredAt: at(900).toISOString() },
  };
  return recordedEvent(type, variants[type], 99n);
};
const SAGA_EVENT_TYPES = [...new Set(logs.finished.map((e) => e.type).concat(['QuoteFailed', 'OpportunityAbandoned', 'FillFailed', 'TransactionExpired']))];

describe('saga transition table', () => {
  // Written out here, independently of the table in saga.ts: phase → event → phase or outcome.
  const expected: Record<SagaPhase, Record<string, string>> = {
    new: { OpportunityDetected: 'detected' },
    detected: { QuoteReceived: 'quoted', QuoteFailed: 'quote_failed', OpportunityAbandoned: 'abandoned' },
    quoted: { RiskAssessed: 'approved', OpportunityAbandoned: 'abandoned' },
    approved: { ComplianceScreened: 'screened', OpportunityAbandoned: 'abandoned' },
    screened: { TransactionPrepared: 'prepared', OpportunityAbandoned: 'abandoned' },
    prepared: { TransactionSigned: 'signed', OpportunityAbandoned: 'abandoned' },
    signed: { TransactionSubmitted: 'submitted', FillConfirmed: 'filled', FillFailed: 'fill_failed', TransactionExpired: 'expired', OpportunityAbandoned: 'abandoned' },
    submitted: { FillConfirmed: 'filled', FillFailed: 'fill_failed', TransactionExpired: 'expired', OpportunityAbandoned: 'abandoned' },
    finished: {},
  };

  it('lists exactly the transitions written out here', () => {
    expect(SAGA_PHASES.sort()).toEqual(Object.keys(expected).sort());
    for (const phase of SAGA_PHASES) expect(allowedEventTypes(phase).sort()).toEqual(Object.keys(expected[phase]).sort());
  });

  for (const phase of Object.keys(expected) as SagaPhase[]) {
    for (const type of SAGA_EVENT_TYPES) {
      const to = expected[phase][type];
      if (to) {
        it(`given a ${phase} saga, when ${type}, then it is ${to}`, () => {
          const s = evolve(foldSaga(ID, logAt(phase)), sample(type));
          expect(s.phase === 'finished' ? s.outcome : s.phase).toBe(to);
        });
      } else {
        it(`given a ${phase} saga, when ${type}, then the transition is refused`, () => {
          saga.given([...logAt(phase), sample(type)]).thenFoldError(IllegalSagaTransitionError, new RegExp(`${type} is not a transition from phase "${phase}"`));
        });
      }
    }
  }

  it('ends on a refusal by risk or compliance, with the outcome named once in outcomes.ts', () => {
    const rejected = appended(logs.quoted, decide(riskInputs({ ...initialEngineState(defaultRiskLimits()), mode: 'PAUSED' }), foldSaga(ID, logs.quoted)));
    expect(saga.given([...logs.quoted, ...rejected]).state()).toMatchObject({ phase: 'finished', outcome: 'rejected_by_risk' });
    const blocked = appended(logs.approved, decide(screening([SIGNER]), foldSaga(ID, logs.approved)));
    expect(saga.given([...logs.approved, ...blocked]).state()).toMatchObject({ phase: 'finished', outcome: 'blocked_by_compliance' });
    // Every outcome the state machine can reach is one of outcomes.ts, and every ending type is known there.
    for (const e of [...rejected, ...blocked, ...SAGA_EVENT_TYPES.map(sample)]) {
      const o = sagaOutcomeOf(e);
      if (o) expect(SAGA_OUTCOMES).toContain(o);
    }
    expect(SAGA_ENDING_EVENT_TYPES).toEqual(expect.arrayContaining(['QuoteFailed', 'FillConfirmed', 'FillFailed', 'TransactionExpired', 'OpportunityAbandoned', 'RiskAssessed', 'ComplianceScreened']));
  });

  it('says where an impossible stored transition sits: stream and position', () => {
    const fill = sample('FillConfirmed');
    const err = saga.given([detected, fill]).thenFoldError(IllegalSagaTransitionError) as IllegalSagaTransitionError;
    expect(err).toMatchObject({ phase: 'detected', eventType: 'FillConfirmed', streamId: `arbitrage-${ID}`, position: fill.position });
    expect(err.message).toContain(`position ${fill.position}`);
  });

  it('keeps the stream bookkeeping: revision, last event id, correlation id', () => {
    const s = foldSaga(ID, logs.screened) as Extract<SagaState, { phase: 'screened' }>;
    const last = logs.screened[logs.screened.length - 1];
    expect(s).toMatchObject({ revision: last.revision, lastEventId: last.id, correlationId: ID, detectedAt: detected.recordedAt });
  });
});

describe('saga decisions', () => {
  it('given a detected saga, when the quote is obtained, then QuoteReceived', () => {
    saga.given(logs.detected).when(quoted).then((d) => {
      expect(d).toMatchObject({ events: [{ def: { type: 'QuoteReceived' }, payload: { opportunityId: ID, expectedProfit: '120000' } }], flags: [] });
    });
  });

  it('given a detected saga, when market data is unavailable, then QuoteFailed with the source, code and time', () => {
    saga
      .given(logs.detected)
      .when({ kind: 'QuoteUnavailable', at: at(40), source: 'jupiter', code: 'TIMEOUT', message: 'no answer in 5000 ms' })
      .then({
        events: [{ def: expect.objectContaining({ type: 'QuoteFailed' }), payload: { opportunityId: ID, source: 'jupiter', code: 'TIMEOUT', message: 'no answer in 5000 ms', failedAt: at(40).toISOString() } }],
        flags: [],
      });
  });

  it('given a quoted saga, when the risk inputs are obtained, then RiskAssessed with every check and the engine mode', () => {
    saga.given(logs.quoted).when(riskInputs()).then((d) => {
      const p = d.events[0].payload as { approved: boolean; checks: unknown[]; engineMode: string; assessedAt: string };
      expect(d.events.map((e) => e.def.type)).toEqual(['RiskAssessed']);
      expect(p).toMatchObject({ approved: true, engineMode: 'ACTIVE', assessedAt: at(100).toISOString() });
      expect(p.checks.length).toBeGreaterThan(5);
    });
  });

  it('given a quoted saga, when a paused engine is read, then RiskAssessed refuses it on engine_state', () => {
    saga.given(logs.quoted).when(riskInputs({ ...initialEngineState(defaultRiskLimits()), mode: 'PAUSED' })).then((d) => {
      expect(d.events[0].payload).toMatchObject({ approved: false, failedChecks: expect.arrayContaining(['engine_state']) });
    });
  });

  it('given a quoted saga, when the prices are unavailable, then it is abandoned at risk', () => {
    saga.given(logs.quoted).when({ kind: 'RiskInputsUnavailable', at: at(100), message: 'Hermes 503' }).then((d) => {
      expect(d.events[0]).toMatchObject({ def: { type: 'OpportunityAbandoned' }, payload: { step: 'risk', reason: 'prices for the risk checks are unavailable: Hermes 503' } });
    });
  });

  it('given an approved saga, when screened against a list naming the signer, then ComplianceScreened blocked and a blocking flag', () => {
    saga.given(logs.approved).when(screening([SIGNER])).then((d) => {
      expect(d.events.map((e) => [e.def.type, (e.payload as { decision: string }).decision])).toEqual([[ComplianceScreened.type, 'blocked']]);
      expect(d.flags).toEqual([expect.objectContaining({ rule: 'sanctioned_address', severity: 'blocking', opportunityId: ID })]);
      expect(d.flags[0].flagId).toBe((d.events[0].payload as { flags: string[] }).flags[0]);
    });
  });

  it('given a screened saga, when signed, then TransactionPrepared and TransactionSigned together', () => {
    saga.given(logs.screened).when(signedInput).then((d) => expect(d.events.map((e) => e.def.type)).toEqual(['TransactionPrepared', 'TransactionSigned']));
  });

  it('given a screened saga, when signing fails for a passing reason, then nothing is recorded and the step is retried', () => {
    saga.given(logs.screened).when({ kind: 'SigningFailed', at: at(150), message: 'venue unreachable', retryable: true }).thenError(RetryableStepError, /venue unreachable/);
  });

  it('given a screened saga, when signing fails for good, then it is abandoned at sign', () => {
    saga.given(logs.screened).when({ kind: 'SigningFailed', at: at(150), message: 'KMS AccessDenied', retryable: false }).then((d) => {
      expect(d.events[0].payload).toMatchObject({ step: 'sign', reason: 'could not prepare or sign the transaction: KMS AccessDenied' });
    });
  });

  it('given a signed saga, when the venue never saw it and it was sent, then TransactionSubmitted', () => {
    saga.given(logs.signed).when(sent).then((d) => expect(d.events[0]).toMatchObject({ def: { type: 'TransactionSubmitted' }, payload: { signature: SIG, venue: 'paper' } }));
  });

  it('given a signed saga, when the send was refused or too late, then FillFailed or TransactionExpired at once', () => {
    const refused: SagaInput = { ...sent, sent: { status: 'failed', signature: SIG, reason: 'signature verification failed' } } as SagaInput;
    saga.given(logs.signed).when(refused).then((d) => expect(d.events[0].def.type).toBe('FillFailed'));
    const late: SagaInput = { ...sent, sent: { status: 'expired', signature: SIG, reason: 'blockhash not found' } } as SagaInput;
    saga.given(logs.signed).when(late).then((d) => expect(d.events[0].def.type).toBe('TransactionExpired'));
  });

  it('given a signed saga the venue already has, then the submission that happened is recorded and nothing is sent', () => {
    expect(submitAction('pending')).toBe('record-existing');
    expect(submitAction('confirmed')).toBe('record-existing');
    expect(submitAction('unknown')).toBe('send');
    expect(submitAction('expired')).toBe('read-outcome');
    saga.given(logs.signed).when({ kind: 'SubmissionChecked', at: at(200), status: 'pending', sent: null }).then((d) => {
      expect(d.events[0]).toMatchObject({ def: { type: 'TransactionSubmitted' }, payload: { signature: SIG, submittedAt: at(200).toISOString() } });
    });
    // The venue answering "already processed" to the send is the same case.
    const again: SagaInput = { ...sent, sent: { status: 'submitted', signature: SIG, submittedAt: at(10).toISOString(), alreadyProcessed: true } } as SagaInput;
    saga.given(logs.signed).when(again).then((d) => expect(d.events[0].def.type).toBe('TransactionSubmitted'));
  });

  it('refuses a submission decision that contradicts what the venue said', () => {
    saga.given(logs.signed).when({ kind: 'SubmissionChecked', at: at(200), status: 'unknown', sent: null }).thenError(SagaInputError, /nothing was sent/);
    saga.given(logs.signed).when({ kind: 'SubmissionChecked', at: at(200), status: 'expired', sent: null }).thenError(SagaInputError, /FillObserved/);
  });

  it('given a submitted saga, when the fill is observed, then FillConfirmed with the amounts from the chain', () => {
    saga.given(logs.submitted).when(filled).then((d) => {
      expect(d.events[0]).toMatchObject({ def: { type: 'FillConfirmed' }, payload: { amountIn: '1000000000', amountOut: '1000110000', realisedPnl: '110000', feeLamports: '6000' } });
    });
  });

  it('given a submitted saga resumed after a restart whose transaction expired meanwhile, then it is abandoned as stale, not a failed fill', () => {
    const expired: SagaInput = {
      kind: 'FillObserved',
      at: at(3_600_000),
      outcome: { status: 'expired', signature: SIG, reason: 'block height exceeded', lastValidBlockHeight: 5_000n },
      resumed: { maxSagaAgeMs: 30_000 },
    };
    saga.given(logs.submitted).when(expired).then((d) => {
      expect(d.events[0]).toMatchObject({ def: { type: 'OpportunityAbandoned' }, payload: { step: 'confirm', signature: SIG, reason: expect.stringMatching(/expired while the engine was down .* not a failed fill/) } });
    });
    // While running (not resumed), or young enough, an expiry is a TransactionExpired as before.
    const { resumed: _, ...live } = expired as Extract<SagaInput, { kind: 'FillObserved' }>;
    saga.given(logs.submitted).when(live).then((d) => expect(d.events[0].def.type).toBe('TransactionExpired'));
    saga.given(logs.submitted).when({ ...expired, at: at(10_000) } as SagaInput).then((d) => expect(d.events[0].def.type).toBe('TransactionExpired'));
  });

  it('given a signed saga never recorded as sent, resumed after its blockhash expired, then it is abandoned as stale whatever its age', () => {
    const expired: SagaInput = {
      kind: 'FillObserved',
      at: at(10_000),
      outcome: { status: 'expired', signature: SIG, reason: 'block height exceeded', lastValidBlockHeight: 5_000n },
      resumed: { maxSagaAgeMs: 600_000 },
    };
    saga.given(logs.signed).when(expired).then((d) => {
      expect(d.events[0]).toMatchObject({ def: { type: 'OpportunityAbandoned' }, payload: { step: 'confirm', signature: SIG, reason: expect.stringMatching(/signed but not recorded as sent, and its blockhash expired while the engine was down/) } });
    });
    // Not resumed (the blockhash ran out while the engine itself was signing), it is an expiry.
    const { resumed: _, ...live } = expired as Extract<SagaInput, { kind: 'FillObserved' }>;
    saga.given(logs.signed).when(live).then((d) => expect(d.events[0].def.type).toBe('TransactionExpired'));
  });

  it('given a saga not yet signed that waited too long, when a step starts, then it is abandoned as stale', () => {
    for (const phase of ['detected', 'quoted', 'approved', 'screened'] as const) {
      saga.given(logAt(phase)).when({ kind: 'StepStarted', at: at(31_000), resumed: true, maxSagaAgeMs: 30_000 }).then((d) => {
        expect(d.events[0]).toMatchObject({ def: { type: 'OpportunityAbandoned' }, payload: { step: nextStep(foldSaga(ID, logAt(phase))), reason: 'opportunity is 31 s old when resumed after a restart; its quote and prices are stale' } });
      });
    }
    // Young enough, or already signed: go on.
    saga.given(logs.detected).when({ kind: 'StepStarted', at: at(1_000), resumed: false, maxSagaAgeMs: 30_000 }).then({ events: [], flags: [] });
    saga.given(logs.signed).when({ kind: 'StepStarted', at: at(3_600_000), resumed: true, maxSagaAgeMs: 30_000 }).then({ events: [], flags: [] });
  });

  it('refuses an input that does not belong to the phase, and any input to a finished saga', () => {
    saga.given(logs.detected).when(signedInput).thenError(SagaInputError, /phase detected/);
    saga.given(logs.approved).when(quoted).thenError(SagaInputError, /takes no QuoteObtained/);
    saga.given(logs.finished).when(filled).thenError(SagaInputError, /is finished/);
    saga.given([]).when(quoted).thenError(SagaInputError, /is new/);
  });

  it('decides the same events for the same inputs: no clock, no randomness', () => {
    const once = decide(riskInputs(), foldSaga(ID, logs.quoted));
    const twice = decide(riskInputs(), foldSaga(ID, logs.quoted));
    expect(twice).toEqual(once);
  });
});

describe('TransactionPrepared v3 (roundTrip with instruction roles) folds over a log that mixes v1, v2 and v3 rows', () => {
  const registry = new EventTypeRegistry(false).register(...executionEvents);
  /** The stored row of a build that wrote TransactionPrepared at version 1 (no roundTrip field). */
  const asStoredV1 = (e: SagaEventLike): RecordedEvent => {
    const { roundTrip: _dropped, ...v1 } = e.payload as Record<string, unknown>;
    return { ...(e as RecordedEvent), version: 1, payload: v1 };
  };
  const roundTrip = {
    guardAccount: SIGNER,
    balanceAtPrepareBaseUnits: 5_000_000_000n,
    minProfitBaseUnits: 1n,
    guardAmountBaseUnits: 5_000_000_001n,
    simulatedUnits: 41_000n,
    computeUnitLimit: 49_200,
    lookupTables: [],
    serializedBytes: 900,
    instructionRoles: ['compute-budget', 'compute-budget', 'leg-1:swap', 'leg-1:cleanup', 'leg-2:swap', 'leg-2:cleanup', 'guard'] as InstructionRole[],
    legs: [{ api: 'v1', raw: { swapInstruction: {} } }, { api: 'v1', raw: { swapInstruction: {} } }],
  };

  it('a v1 row upcasts to version 3 with roundTrip: null, and the saga folds to the same state as from the current row', () => {
    const log = logs.finished;
    const i = log.findIndex((e) => e.type === 'TransactionPrepared');
    const v1Row = asStoredV1(log[i]!);
    expect('roundTrip' in (v1Row.payload as object)).toBe(false);
    const upcast = registry.upcast<TransactionPreparedPayload>(v1Row);
    expect(upcast.version).toBe(3);
    expect(upcast.payload.roundTrip).toBeNull();
    registry.validate(newEvent(TransactionPrepared, upcast.payload, { correlationId: 'c', causationId: null, actor: 'engine', tenant: 'default' }));
    const mixed = [...log.slice(0, i), upcast, ...log.slice(i + 1)];
    expect(foldSaga(ID, mixed)).toEqual(foldSaga(ID, log));
    expect(preparedFromPayload(upcast.payload).roundTrip).toBeUndefined();
  });

  it('a v2 row with a round trip upcasts to instructionRoles: null; the fill query then carries no layout to decode with', () => {
    const payload = transactionPreparedPayload({ ...prepared, roundTrip });
    const { instructionRoles: _roles, ...v2RoundTrip } = JSON.parse(JSON.stringify(payload.roundTrip)) as Record<string, unknown>;
    const v2Row = { ...(logs.signed.find((e) => e.type === 'TransactionPrepared') as RecordedEvent), version: 2, payload: { ...JSON.parse(JSON.stringify(payload)), roundTrip: v2RoundTrip } };
    const upcast = registry.upcast<TransactionPreparedPayload>(v2Row);
    expect(upcast.version).toBe(3);
    expect(upcast.payload.roundTrip).toMatchObject({ guardAmountBaseUnits: '5000000001', instructionRoles: null });
    const s = foldSaga(ID, logs.signed.map((e) => (e.type === 'TransactionPrepared' ? upcast : e)));
    expect(s.phase === 'signed' && fillQuery(s).roundTrip).toEqual({ instructionRoles: null });
  });

  it('a v3 row with a round trip keeps it through payload and back (amounts as base-unit strings), and the fill query carries its layout', () => {
    const payload = transactionPreparedPayload({ ...prepared, roundTrip });
    expect(payload.roundTrip).toMatchObject({ guardAmountBaseUnits: '5000000001', simulatedUnits: '41000', computeUnitLimit: 49_200 });
    registry.validate(newEvent(TransactionPrepared, JSON.parse(JSON.stringify(payload)), { correlationId: 'c', causationId: null, actor: 'engine', tenant: 'default' }));
    expect(preparedFromPayload(payload).roundTrip).toEqual(roundTrip);
    // One saga whose prepare was v1, one whose prepare was v2, in one log: each folds on its own.
    const v2Log = logs.signed.map((e) => (e.type === 'TransactionPrepared' ? { ...e, payload } : e));
    const s = foldSaga(ID, v2Log);
    expect(s.phase).toBe('signed');
    expect(s.phase === 'signed' && s.prepared.roundTrip?.guardAmountBaseUnits).toBe('5000000001');
    expect(s.phase === 'signed' && fillQuery(s).roundTrip).toEqual({ instructionRoles: roundTrip.instructionRoles });
  });
});

// ---------------------------------------------------------------------------------------------
// Inventory: what a round trip leaves of its intermediate, and the inventory-sale kind of saga.

describe('inventory: a round trip whose leg 1 over-delivers', () => {
  const overDelivered: SagaInput = { ...filled, outcome: { ...(filled as Extract<SagaInput, { kind: 'FillObserved' }>).outcome, intermediateChangeBaseUnits: 750_000n } as never };

  it('records the intermediate left over as inventory, priced at leg 1 rate and the assessed USD value of the input', () => {
    const d = decide(overDelivered, foldSaga(ID, logs.submitted)) as SagaDecision;
    expect(d.events.map((e) => e.def.type)).toEqual(['FillConfirmed']);
    const p = d.events[0]!.payload as { inventory: { mint: string; changeBaseUnits: string; baseMint: string; price: { usdMicros: string; perBaseUnits: string } } };
    expect(p.inventory).toMatchObject({ mint: USDC, changeBaseUnits: '750000', baseMint: SOL });
    // 1 SOL assessed at 150 USD bought 150 USDC on leg 1: one USDC base unit is worth one USD micro.
    const { usdMicros, perBaseUnits } = p.inventory.price;
    expect((BigInt(usdMicros) * 1_000_000n) / BigInt(perBaseUnits)).toBe(1_000_000n);
  });

  it('asks the venue for the intermediate leg 2 was quoted to spend', () => {
    const s = foldSaga(ID, logs.submitted);
    if (s.phase !== 'submitted') throw new Error('expected submitted');
    expect(fillQuery(s)).toMatchObject({ intermediateMint: USDC, intermediateSpentByNextLeg: 150_000_000n });
  });

  it('records no inventory when the intermediate came out even', () => {
    const d = decide(filled, foldSaga(ID, logs.submitted)) as SagaDecision;
    expect((d.events[0]!.payload as { inventory: unknown }).inventory).toBeNull();
  });
});

describe('inventory sale: one leg back to the base token, the only trade REDUCING lets through', () => {
  const SALE = '00000000-0000-4000-8000-0000000000aa';
  const saleDetected: SagaEventLike = {
    ...recordedEvent(
      'OpportunityDetected',
      {
        opportunityId: SALE,
        route: { mintA: USDC, mintB: SOL, symbolA: 'USDC', symbolB: 'SOL', decimalsA: 6, decimalsB: 9 },
        amountIn: '750000',
        source: 'inventory',
        detectedAt: at(0).toISOString(),
        reduction: { trigger: 'flatten', requestId: '00000000-0000-4000-8000-0000000000bb', actor: 'operator:alice', reason: 'wind down' },
      },
      0n,
    ),
    metadata: { correlationId: SALE },
  };
  const usdcPrice: PriceObservation = { feedId: 'eaa020c61cc479712813461ce153894a96a6c00b21ed0cfc2798d1f9a9e9c94a', price: 100_000_000n, conf: 10_000n, expo: -8, publishTime: Math.floor(T0 / 1000) };
  const saleQuote: RouteQuote = { legs: [leg(USDC, SOL, 750_000n, 5_000_000n)], expectedProfit: 0n };
  const holding = (mode: 'ACTIVE' | 'REDUCING' | 'PAUSED', extra: Partial<ReturnType<typeof initialEngineState>> = {}) => ({
    ...initialEngineState(defaultRiskLimits()),
    mode,
    inventory: { [USDC]: { mint: USDC, amountBaseUnits: 750_000n, baseMint: SOL, price: { usdMicros: 1n, perBaseUnits: 1n } } },
    reductionsOpen: { [SALE]: { opportunityId: SALE, mint: USDC, amountBaseUnits: 750_000n } },
    ...extra,
  });
  const saleRisk = (engine: ReturnType<typeof holding>): SagaInput => ({ ...(riskInputs(engine) as object), priceB: { price: solPrice.price, expo: solPrice.expo } }) as SagaInput;
  const quotedSale = (): SagaEventLike[] => {
    const log = [saleDetected];
    return [...log, ...appended(log, decide({ kind: 'QuoteObtained', at: at(50), quote: saleQuote, price: usdcPrice }, foldSaga(SALE, log)))];
  };

  it('is approved by risk while REDUCING, with profit and the daily loss budget not applied to it', () => {
    const log = quotedSale();
    const d = decide(saleRisk(holding('REDUCING')), foldSaga(SALE, log)) as SagaDecision;
    const r = d.events[0]!.payload as { approved: boolean; checks: { name: string; passed: boolean; reason: string }[] };
    expect(r.checks.filter((c) => !c.passed)).toEqual([]);
    expect(r.approved).toBe(true);
    expect(r.checks.find((c) => c.name === 'engine_state')!.reason).toMatch(/REDUCING and the trade sells 750000 of 750000/);
    expect(r.checks.find((c) => c.name === 'min_profit')!.reason).toMatch(/not applied to an inventory sale/);
  });

  it('is refused when it would sell more than the inventory no other sale holds, and when the engine is PAUSED', () => {
    const log = quotedSale();
    const other = { other: { opportunityId: 'other', mint: USDC, amountBaseUnits: 1n } };
    const busy = holding('REDUCING', { reductionsOpen: { ...holding('REDUCING').reductionsOpen, ...other } });
    const r = (decide(saleRisk(busy), foldSaga(SALE, log)) as SagaDecision).events[0]!.payload as { approved: boolean; failedChecks: string[] };
    expect(r).toMatchObject({ approved: false, failedChecks: ['engine_state'] });
    const paused = (decide(saleRisk(holding('PAUSED')), foldSaga(SALE, log)) as SagaDecision).events[0]!.payload as { approved: boolean; checks: { name: string; reason: string }[] };
    expect(paused.approved).toBe(false);
    expect(paused.checks[0]!.reason).toMatch(/PAUSED.*set REDUCING to sell inventory/);
  });

  it('an arbitrage round trip is refused while REDUCING, and says why', () => {
    const d = decide(riskInputs(holding('REDUCING')), foldSaga(ID, logs.quoted)) as SagaDecision;
    const r = d.events[0]!.payload as { approved: boolean; checks: { name: string; passed: boolean; reason: string }[] };
    expect(r.approved).toBe(false);
    expect(r.checks.find((c) => c.name === 'engine_state')!.reason).toMatch(/REDUCING: only trades selling down a held position \(inventory sales\).*round trip reduces nothing/);
  });

  it('its fill takes what it sold out of inventory, and it asks the venue for no intermediate', () => {
    let log = quotedSale();
    const salePrepared = { ...prepared, opportunityId: SALE, inputMint: USDC, outputMint: SOL, inAmount: 750_000n, expectedOut: 5_000_000n };
    for (const input of [saleRisk(holding('REDUCING')), screening(), { ...signedInput, prepared: salePrepared, signed: { ...(signedInput as { signed: object }).signed, opportunityId: SALE } } as SagaInput, sent]) {
      log = [...log, ...appended(log, decide(input, foldSaga(SALE, log)))];
    }
    const s = foldSaga(SALE, log);
    expect(s.phase).toBe('submitted');
    if (s.phase !== 'submitted') return;
    expect(fillQuery(s).intermediateMint).toBeUndefined();
    const fill: SagaInput = { kind: 'FillObserved', at: at(900), outcome: { status: 'confirmed', signature: SIG, slot: 9n, fee: 5_000n, amountIn: 750_000n, amountOut: 4_990_000n, realisedPnl: null, confirmedAt: at(900).toISOString() } };
    const p = (decide(fill, s) as SagaDecision).events[0]!.payload as { inventory: unknown; inputMint: string; outputMint: string };
    expect(p).toMatchObject({ inputMint: USDC, outputMint: SOL, inventory: { mint: USDC, changeBaseUnits: '-750000', baseMint: SOL } });
  });
});

describe('FillConfirmed v2 and OpportunityDetected v2 over logs that mix versions', () => {
  const registry = new EventTypeRegistry(false).register(...executionEvents, OpportunityDetected);
  it('a v1 FillConfirmed upcasts with inventory: null, a v1 OpportunityDetected with reduction: null, and the saga folds the same', () => {
    const log = logs.finished;
    const asV1 = (e: SagaEventLike, field: string): RecordedEvent => {
      const { [field]: _gone, ...v1 } = e.payload as Record<string, unknown>;
      return { ...(e as RecordedEvent), version: 1, payload: v1 };
    };
    const fill = registry.upcast<{ inventory: unknown }>(asV1(log.at(-1)!, 'inventory'));
    expect(fill.version).toBe(2);
    expect(fill.payload.inventory).toBeNull();
    const det = registry.upcast<{ reduction: unknown }>(asV1(log[0]!, 'reduction'));
    expect(det.payload.reduction).toBeNull();
    expect(foldSaga(ID, [det, ...log.slice(1, -1), fill])).toEqual(foldSaga(ID, log));
  });
});
