// The offline default of the wallet-balances port: the paper venue simulates fills from quotes
// and moves no balance anywhere, so there is no chain to compare the ledger with. It says so
// rather than inventing balances (a book of its own fills would only agree with the ledger by
// construction); the reconciler logs it once and records nothing (docs/decisions/0018).
import type { NoChain, WalletBalances } from '../wallet-balances.port.js';

export class PaperWalletBalances implements WalletBalances {
  async read(): Promise<NoChain> {
    return { kind: 'no_chain', reason: 'VENUE=paper simulates its fills: no balance moves on any chain, so there is nothing to reconcile the ledger with' };
  }
}
