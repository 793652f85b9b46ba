// The venue contract against the paper venue (no chain: fills simulated from the quote).
import { PaperVenue } from '../../../src/execution/paper/paper-venue.js';
import { NATIVE_MINT } from '../../../src/execution/transaction.js';
import { testSigner, venueContract } from '../../contract/venue.contract.js';

venueContract('paper', async () => {
  const venue = new PaperVenue({ seed: 'contract', maxSlippageBps: 50 });
  return {
    venue,
    signer: testSigner(),
    intent: (opportunityId) => ({
      opportunityId,
      inputMint: NATIVE_MINT,
      outputMint: NATIVE_MINT,
      inAmount: 1_000_000_000n,
      expectedOut: 1_004_000_000n,
    }),
    // The paper chain lands a transaction only when someone looks while its blockhash is valid;
    // moving the chain past it before anyone looks is exactly a lost submission.
    loseSubmissions: () => undefined,
    advancePast: async (height) => {
      if (venue.blockHeight() <= height) venue.advanceBlocks(height - venue.blockHeight() + 1n);
    },
    cleanup: async () => undefined,
  };
});
