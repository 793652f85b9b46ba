// FlattenInventory: sells the inventory (intermediate tokens round trips left behind) back to its
// base tokens. The plan is the pure decision of inventory-sales.ts over the trading state; an
// operator's flatten is recorded first (FlattenRequested, its id fixed by the Idempotency-Key),
// then each sale's saga is started (OpportunityDetected with its reduction, a deterministic id)
// and driven by the engine like any saga: risk, compliance, prepare + sign, submit once, confirm.
// A retry of the same request finds its FlattenRequested and starts only the sales it names that
// are not started yet; nothing is sold twice (the engine state holds open sales' units).
import { randomUUID } from 'node:crypto';
import { Inject, Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { commandMetadata, decideAndAppend, type CommandReceipt } from '../ledger/decide-and-append.js';
import { EVENT_STORE, type EventStore } from '../ledger/event-store.port.js';
import { newEvent } from '../ledger/event-types.js';
import { OpportunityDetected, type ReductionPayload } from '../market/events.js';
import { ENGINE_STATE, type EngineStateView } from '../risk/engine-state.port.js';
import { Metrics } from '../shared/metrics/metrics.js';
import { tokenByMint } from '../shared/tokens.js';
import { ArbitrageSagaService } from './arbitrage-saga.service.js';
import { FlattenInventory, type FlattenResult } from './commands.js';
import { flattenStreamId, FlattenRequested, sagaStreamId, type FlattenRequestedPayload } from './events.js';
import { planInventorySales, saleDetectedPayload, type PlannedSale } from './inventory-sales.js';
import { foldSaga } from './saga.js';

@CommandHandler(FlattenInventory)
export class FlattenInventoryHandler implements ICommandHandler<FlattenInventory, FlattenResult> {
  private readonly logger = new Logger('Inventory');

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ENGINE_STATE) private readonly engine: EngineStateView,
    private readonly sagas: ArbitrageSagaService,
    private readonly metrics: Metrics,
  ) {}

  async execute({ ctx, reason, trigger }: FlattenInventory): Promise<FlattenResult> {
    const requestId = (ctx.eventId ?? randomUUID()).toLowerCase();
    const meta = commandMetadata(ctx);
    let request: CommandReceipt | null = null;
    let sales: PlannedSale[];
    let skipped: FlattenResult['skipped'] = [];
    if (trigger === 'flatten') {
      // Recorded once per request: a retry reads the sales it named instead of planning again.
      let planned: ReturnType<typeof planInventorySales> | null = null;
      const { receipts, state } = await decideAndAppend(this.store, {
        streamId: flattenStreamId(requestId),
        eventId: requestId,
        fold: (events) => (events[0]?.payload as FlattenRequestedPayload | undefined) ?? null,
        decide: (existing) => {
          if (existing) return [];
          planned = planInventorySales(this.engine.current(), { trigger, requestId }, tokenByMint);
          if (planned instanceof Error) return planned;
          if (!planned.sales.length) return [];
          const payload: FlattenRequestedPayload = { requestId, actor: ctx.actor, reason, sales: planned.sales, requestedAt: new Date().toISOString() };
          return [newEvent(FlattenRequested, payload, meta)];
        },
      });
      request = receipts[0] ?? null;
      const plan = planned as ReturnType<typeof planInventorySales> | null;
      sales = state ? state.sales : plan && !(plan instanceof Error) ? plan.sales : [];
      skipped = plan && !(plan instanceof Error) ? plan.skipped : [];
    } else {
      const plan = planInventorySales(this.engine.current(), { trigger, requestId }, tokenByMint);
      if (plan instanceof Error) return { request: null, sales: [], skipped: [], message: plan.message };
      ({ sales, skipped } = plan);
    }
    const reduction: ReductionPayload = { trigger, requestId: trigger === 'flatten' ? requestId : null, actor: ctx.actor, reason };
    for (const sale of sales) await this.start(sale, reduction, meta);
    for (const s of skipped) this.logger.warn(`inventory of ${s.mint} (${s.amountBaseUnits} base units) not sold: ${s.reason}`);
    const message = sales.length
      ? `started ${sales.length} inventory sale(s): ${sales.map((s) => `${s.amountIn} base units of ${s.route.symbolA} → ${s.route.symbolB}`).join(', ')}`
      : skipped.length
        ? `nothing could be sold: ${skipped.map((s) => `${s.mint}: ${s.reason}`).join('; ')}`
        : 'nothing to flatten: no inventory is held beyond what open sales are selling';
    if (sales.length) this.logger.log(`${trigger} by ${ctx.actor}: ${message} (${reason})`);
    return { request, sales, skipped, message };
  }

  /** Records the sale's OpportunityDetected unless it is there already, and lets the engine drive it. */
  private async start(sale: PlannedSale, reduction: ReductionPayload, meta: ReturnType<typeof commandMetadata>): Promise<void> {
    const { receipts } = await decideAndAppend(this.store, {
      streamId: sagaStreamId(sale.opportunityId),
      retries: 0,
      fold: (events) => foldSaga(sale.opportunityId, events),
      decide: (s) =>
        s.phase !== 'new' ? [] : [newEvent(OpportunityDetected, saleDetectedPayload(sale, reduction, new Date().toISOString()), { ...meta, correlationId: sale.opportunityId })],
    });
    if (receipts.length) this.metrics.sagasStartedTotal.inc();
    // Started now or by an earlier attempt that stopped: the engine drives it either way (a
    // finished saga returns at once; an open one goes on from its log).
    this.sagas.driveInBackground(sale.opportunityId);
  }
}
