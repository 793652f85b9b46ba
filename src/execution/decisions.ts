// The execution context's published decisions: reconciling the ledger's balances with the chain
// (./reconciliation.ts). Pure functions: the chain's figures, the ledger's events and the time
// come in as inputs; trading's ReconciliationService does the I/O.
export {
  BALANCE_EVENT_TYPES,
  basisOf,
  chainFigures,
  decideReconciliation,
  ledgerBalances,
  rowsBeyondTolerance,
  SOL_ROW_MINT,
  toleranceFor,
  type FillEventLike,
  type LedgerBalances,
  type LedgerBasis,
  type ReconciliationDecision,
  type ReconciliationInput,
  type ReconciliationTolerances,
} from './reconciliation.js';
