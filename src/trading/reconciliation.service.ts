// Reconciles the ledger's balances of the trading wallet with the chain: when this node starts
// leading (before the engine loop takes its first opportunity) and then every
// RECONCILE_INTERVAL_SECONDS. The shell of execution's pure decision (decideReconciliation):
//
//   1. the log's head H, with the trading state folded through it: a trade approved and without
//      an outcome (in flight) could land while the chain is read, so the run is postponed;
//   2. the wallet's last reconciliation (stream reconciliation-<owner>): its chain figures are
//      the basis, and the fills recorded after the position it folded through, up to H, are folded
//      onto it (none at the opening);
//   3. the chain's figures (the WalletBalances port: getBalance + getTokenAccountsByOwner);
//   4. no transaction event after H (a trade prepared, signed, sent or settled meanwhile would be
//      on one side only): else postponed;
//   5. decide and append at the stream's revision, fenced by the leadership (HA: only the leader
//      reconciles). A discrepancy beyond tolerance is paused on by risk's circuit breaker, which
//      follows the log; here the run waits until that pause is folded, so at start no trade
//      begins on figures nobody can vouch for.
// Failures (node unreachable) are logged and counted, never thrown at the engine; the next run
// tries again. VENUE=paper has no chain: logged once, nothing recorded.
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ARBITER_CONFIG } from '../config/config.module.js';
import type { ArbiterConfig } from '../config/config.js';
import { EVENT_STORE, type EventStore } from '../ledger/event-store.port.js';
import { newEvent } from '../ledger/event-types.js';
import type { RecordedEvent } from '../ledger/envelope.js';
import { ConcurrentCommandError, decideAndAppend } from '../ledger/decide-and-append.js';
import { LeadershipService } from '../ledger/leadership/leadership.service.js';
import { ENGINE_STATE, type EngineStateView } from '../risk/engine-state.port.js';
import { SIGNER, type Signer } from '../signing/signer.port.js';
import { Metrics } from '../shared/metrics/metrics.js';
import {
  BALANCE_EVENT_TYPES,
  basisOf,
  decideReconciliation,
  ledgerBalances,
  rowsBeyondTolerance,
  type ReconciliationTolerances,
} from '../execution/decisions.js';
import { reconciliationStreamId, type BalancesReconciledPayload } from '../execution/events.js';
import { WALLET_BALANCES, type WalletBalances } from '../execution/wallet-balances.port.js';

/** Transactions approved longer ago than this can no longer land (a blockhash lives ~60–90 s). */
const IN_FLIGHT_MS = 120_000;
/** After a postponement the next try comes this soon (or at the interval, if sooner). */
const POSTPONED_RETRY_MS = 5_000;
const PAGE = 1_000;
const MAX_PAGES = 10_000;
/** Events after the head read that mean a transaction moved (or may move) while the chain was read. */
const TRANSACTION_EVENT_TYPES = ['TransactionPrepared', 'TransactionSigned', 'TransactionSubmitted', 'FillConfirmed', 'FillFailed', 'TransactionExpired'];
export const RECONCILIATION_ACTOR = 'engine:reconciliation';

export type ReconciliationOutcome =
  | { outcome: 'opening' | 'reconciled' | 'discrepancy' | 'discrepancy_beyond_tolerance'; position: bigint; eventType: string; payload: BalancesReconciledPayload | Record<string, unknown> }
  | { outcome: 'postponed' | 'no_chain' | 'off' | 'standby' | 'failed'; reason: string };

@Injectable()
export class ReconciliationService implements OnApplicationShutdown {
  private readonly logger = new Logger('Reconciliation');
  private readonly intervalMs: number;
  private readonly tolerances: ReconciliationTolerances;
  private readonly trackedMints: string[];
  private timer: NodeJS.Timeout | null = null;
  private leading = false;
  private running: Promise<ReconciliationOutcome> | null = null;
  private saidNoChain = false;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ENGINE_STATE) private readonly engine: EngineStateView,
    @Inject(SIGNER) private readonly signer: Signer,
    @Inject(WALLET_BALANCES) private readonly wallet: WalletBalances,
    @Inject(ARBITER_CONFIG) private readonly config: ArbiterConfig,
    private readonly metrics: Metrics,
    private readonly leadership: LeadershipService,
  ) {
    const r = config.execution.reconciliation;
    this.intervalMs = r.intervalSeconds * 1000;
    this.tolerances = { lamports: r.toleranceLamports, baseUnits: r.toleranceBaseUnits, byMint: r.toleranceByMint };
    this.trackedMints = [...new Set(config.market.pairs.flatMap((p) => [p.a.mint, p.b.mint]))];
  }

  get enabled(): boolean {
    return this.intervalMs > 0;
  }

  /** This node leads: reconcile once now (awaited: the engine loop starts after it), then on the interval. Never throws. */
  async startLeading(): Promise<void> {
    if (!this.enabled) return;
    this.leading = true;
    const first = await this.reconcileNow();
    this.schedule(first.outcome === 'postponed' ? Math.min(POSTPONED_RETRY_MS, this.intervalMs) : this.intervalMs);
  }

  stopLeading(): void {
    this.leading = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  onApplicationShutdown(): void {
    this.stopLeading();
  }

  private schedule(delayMs: number): void {
    if (!this.leading || this.saidNoChain) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.reconcileNow().then((o) => this.schedule(o.outcome === 'postponed' ? Math.min(POSTPONED_RETRY_MS, this.intervalMs) : this.intervalMs));
    }, delayMs);
    this.timer.unref?.();
  }

  /** One reconciliation (a run already going is joined, not doubled). Never throws. */
  reconcileNow(now: () => Date = () => new Date()): Promise<ReconciliationOutcome> {
    this.running ??= this.attempt(now).finally(() => (this.running = null));
    return this.running;
  }

  private async attempt(now: () => Date): Promise<ReconciliationOutcome> {
    if (!this.enabled) return { outcome: 'off', reason: 'RECONCILE_INTERVAL_SECONDS=0' };
    if (!this.leadership.mayAct()) return { outcome: 'standby', reason: 'only the active engine reconciles' };
    try {
      const result = await this.leadership.run(() => this.reconcile(now));
      if (result.outcome !== 'no_chain') this.metrics.reconciliationsTotal.inc({ outcome: result.outcome });
      return result;
    } catch (err) {
      const reason = err instanceof ConcurrentCommandError ? 'another reconciliation was recorded meanwhile' : (err as Error).message;
      this.metrics.reconciliationsTotal.inc({ outcome: 'failed' });
      this.logger.warn(`reconciliation failed, tried again at the next run: ${reason}`);
      return { outcome: 'failed', reason };
    }
  }

  private async reconcile(now: () => Date): Promise<ReconciliationOutcome> {
    const owner = await this.signer.publicKeyBase58();
    const head = await this.store.headPosition();
    await this.engine.caughtUpThrough(head);
    const busy = this.inFlight(now().getTime());
    if (busy) return this.postponed(`trade ${busy} is in flight`);

    const streamId = reconciliationStreamId(owner);
    const last = (await this.store.readStream(streamId, { direction: 'backward', maxCount: 1 }))[0];
    let ledger = null;
    if (last) {
      const p = last.payload as BalancesReconciledPayload;
      ledger = ledgerBalances(basisOf(p, last.position), await this.fillsBetween(BigInt(p.ledgerThroughPosition), head));
    }

    const chain = await this.wallet.read(owner);
    if (chain.kind === 'no_chain') {
      if (!this.saidNoChain) this.logger.log(`reconciliation: nothing to reconcile (${chain.reason})`);
      this.saidNoChain = true;
      return { outcome: 'no_chain', reason: chain.reason };
    }
    const moved = await this.store.readAll({ after: head, maxCount: 1, filter: { eventTypes: TRANSACTION_EVENT_TYPES } });
    if (moved.length) return this.postponed(`${moved[0]!.type} was recorded while the chain was read`);

    const decision = decideReconciliation({
      owner,
      venue: this.config.execution.venue,
      chain,
      ledger,
      throughPosition: head,
      trackedMints: this.trackedMints,
      tolerances: this.tolerances,
      now: now(),
    });
    const event = newEvent(decision.event, decision.payload, {
      correlationId: `reconciliation-${owner}-${chain.slot}`,
      causationId: last?.id ?? null,
      actor: RECONCILIATION_ACTOR,
      tenant: 'default',
    });
    // The one append path, at the revision read (retries 0: a reconciliation recorded meanwhile stands).
    const { position } = await decideAndAppend(this.store, { streamId, known: { state: null, revision: last?.revision ?? -1n }, retries: 0, fold: () => null, decide: () => [event] });
    this.publish(decision.payload, now());
    const p = decision.payload as { opening?: boolean; beyondTolerance?: boolean };
    const outcome =
      decision.event.type === 'BalancesReconciled' ? (p.opening ? 'opening' : 'reconciled') : p.beyondTolerance ? 'discrepancy_beyond_tolerance' : 'discrepancy';
    if (outcome === 'discrepancy_beyond_tolerance') {
      const rows = rowsBeyondTolerance(decision.payload).map((b) => `${b.mint}: chain ${b.chainBaseUnits}, ledger ${b.ledgerBaseUnits} (tolerance ${b.toleranceBaseUnits})`);
      this.logger.warn(`balance discrepancy beyond tolerance at slot ${chain.slot}: ${rows.join('; ')}; the circuit breaker pauses the engine`);
      // The breaker appends its pause while folding this event; trade only once that pause is folded too.
      await this.engine.caughtUp(position);
      await this.engine.caughtUpThrough(await this.store.headPosition());
    } else if (outcome === 'discrepancy') {
      this.logger.log(`balance discrepancy within tolerance recorded at slot ${chain.slot}`);
    }
    return { outcome, position, eventType: decision.event.type, payload: decision.payload };
  }

  /** The opportunity id of a trade approved recently and without an outcome, if any. */
  private inFlight(nowMs: number): string | null {
    const f = Object.values(this.engine.current().inFlight).find((t) => t.approvedAtMs > nowMs - IN_FLIGHT_MS);
    return f ? f.opportunityId : null;
  }

  private postponed(reason: string): ReconciliationOutcome {
    this.logger.debug(`reconciliation postponed: ${reason}`);
    return { outcome: 'postponed', reason };
  }

  /** Fill outcomes with a position in (after, through], in log order. */
  private async fillsBetween(after: bigint, through: bigint): Promise<RecordedEvent[]> {
    const out: RecordedEvent[] = [];
    let from = after;
    for (let i = 0; i < MAX_PAGES && from < through; i++) {
      const page = await this.store.readAll({ after: from, maxCount: PAGE, filter: { eventTypes: [...BALANCE_EVENT_TYPES] } });
      for (const e of page) if (e.position <= through) out.push(e);
      if (page.length < PAGE) return out;
      from = page[page.length - 1]!.position;
    }
    if (from < through) throw new Error(`more than ${MAX_PAGES * PAGE} fills since the last reconciliation: reconcile more often`);
    return out;
  }

  private publish(payload: { balances: { mint: string; differenceBaseUnits: string }[] }, at: Date): void {
    this.metrics.reconciliationLastTimestampSeconds.set(at.getTime() / 1000);
    for (const b of payload.balances) this.metrics.reconciliationDifferenceBaseUnits.set({ mint: b.mint }, Number(b.differenceBaseUnits));
  }
}
