// The trading context's port for finding sagas a previous run left unfinished without reading the
// whole history: an index that knows which opportunities were still open as of some position of
// the log. The executions read model is the adapter (src/projections/open-sagas.ts, wired by the
// app module); the saga scans only the log after that position itself.
export const OPEN_SAGAS = Symbol('OPEN_SAGAS');

export interface OpenSagaIndex {
  /**
   * Opportunity ids whose saga was open as of `asOf` (a log position; 0n when the index knows
   * nothing, and the caller scans the whole log).
   */
  openAsOf(openPhases: readonly string[]): Promise<{ ids: Set<string>; asOf: bigint }>;
}
