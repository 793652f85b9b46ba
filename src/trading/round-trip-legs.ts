// Asks the route-instructions port for both legs of a round trip (A → B, B → A) for one taker and
// hands them to the venue as plain JSON: the saga sees no Solana type. Leg 2 was quoted for leg 1's
// minimum out (otherAmountThreshold), so leg 2 is funded whatever leg 1 delivers within slippage.
import type { RoundTripIntent } from '../execution/venue.port.js';
import type { JsonValue } from '../market/quote-source.port.js';
import type { RouteInstructionsSource } from '../market/route-instructions.port.js';

/**
 * maxAccounts tried in turn when the composed transaction is over 1232 bytes. Only Swap API v2
 * re-quotes with it (GET /build quotes and builds in one call); a v1 leg's route is fixed by its
 * quote, so v1 has one try and an oversize round trip is refused, not re-quoted.
 */
export const MAX_ACCOUNTS_STEPS: Record<'v1' | 'v2', readonly (number | undefined)[]> = {
  v1: [undefined],
  v2: [undefined, 40, 28, 20],
};

/** Whether the saga composes round trips: a venue that takes route instructions, and a market that builds them. */
export function composesRoundTrips(venueName: string, routes: Pick<RouteInstructionsSource, 'api'>): routes is RouteInstructionsSource & { api: 'v1' | 'v2' } {
  return venueName === 'solana' && routes.api !== 'none';
}

export async function roundTripLegs(
  routes: RouteInstructionsSource,
  req: { quoteRaws: readonly JsonValue[]; taker: string; minProfitBaseUnits: bigint; maxAccounts?: number },
): Promise<RoundTripIntent> {
  if (req.quoteRaws.length !== 2) throw new Error(`a composed round trip has two legs (the quote has ${req.quoteRaws.length})`);
  if (req.minProfitBaseUnits < 0n) throw new Error(`the minimum profit cannot be negative (got ${req.minProfitBaseUnits})`);
  const [one, two] = await Promise.all(
    req.quoteRaws.map((quoteRaw) => routes.legInstructions({ quoteRaw, taker: req.taker, ...(req.maxAccounts ? { maxAccounts: req.maxAccounts } : {}) })),
  );
  return { legs: [one!, two!], minProfitBaseUnits: req.minProfitBaseUnits };
}
