// Which inventory sales a flatten starts: a pure decision over the trading state (its inventory
// and the sales already open) and the request. One sale per held mint, for everything no open
// sale holds, back to the base token the inventory came from. Nothing to sell is an answer, not
// an error; a PAUSED engine sells nothing (REDUCING or ACTIVE may).
import type { OpportunityDetectedPayload, ReductionPayload } from '../market/events.js';
import { sellableInventory, type EngineState } from '../risk/decisions.js';
import { deterministicUuid } from '../shared/ids.js';
import type { TokenInfo } from '../shared/tokens.js';

export interface PlannedSale {
  opportunityId: string;
  route: OpportunityDetectedPayload['route'];
  /** Base units of route.mintA sold. */
  amountIn: string;
}

export interface SalePlan {
  sales: PlannedSale[];
  skipped: { mint: string; amountBaseUnits: string; reason: string }[];
}

export class FlattenRefusedError extends Error {
  readonly code = 'FLATTEN_REFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'FlattenRefusedError';
  }
}

/** At most this many sales per request (one per mint; the event's bound). */
export const MAX_SALES_PER_REQUEST = 64;

export function planInventorySales(
  state: EngineState,
  req: { trigger: ReductionPayload['trigger']; requestId: string },
  tokenByMint: (mint: string) => TokenInfo | undefined,
): SalePlan | FlattenRefusedError {
  if (state.mode === 'PAUSED') {
    return new FlattenRefusedError(
      `engine is PAUSED since ${state.since ?? 'start'}${state.actor ? ` by ${state.actor}` : ''}: nothing trades, not even an inventory sale; ` +
        'set REDUCING (POST /engine/reduce) to sell inventory while no round trip may trade, or resume',
    );
  }
  const plan: SalePlan = { sales: [], skipped: [] };
  const held = Object.values(state.inventory).sort((a, b) => (a.mint < b.mint ? -1 : 1));
  for (const h of held) {
    const amount = sellableInventory(state, h.mint);
    if (amount <= 0n) continue; // every unit is being sold by an open sale already
    const token = tokenByMint(h.mint);
    const base = tokenByMint(h.baseMint);
    if (!token || !base) {
      plan.skipped.push({ mint: h.mint, amountBaseUnits: amount.toString(), reason: `no token information (decimals, price feed) for ${!token ? h.mint : h.baseMint}: it cannot be priced or sold here` });
      continue;
    }
    if (plan.sales.length >= MAX_SALES_PER_REQUEST) {
      plan.skipped.push({ mint: h.mint, amountBaseUnits: amount.toString(), reason: `more than ${MAX_SALES_PER_REQUEST} mints held: flatten again for the rest` });
      continue;
    }
    plan.sales.push({
      // Fixed by the request and the mint: a retried request names the same sagas.
      opportunityId: deterministicUuid('inventory-sale', req.trigger, req.requestId, h.mint),
      route: { mintA: token.mint, mintB: base.mint, symbolA: token.symbol, symbolB: base.symbol, decimalsA: token.decimals, decimalsB: base.decimals },
      amountIn: amount.toString(),
    });
  }
  return plan;
}

/** The OpportunityDetected that starts a planned sale's saga. */
export function saleDetectedPayload(sale: PlannedSale, reduction: ReductionPayload, at: string): OpportunityDetectedPayload {
  return { opportunityId: sale.opportunityId, route: { ...sale.route }, amountIn: sale.amountIn, source: 'inventory', detectedAt: at, reduction };
}
