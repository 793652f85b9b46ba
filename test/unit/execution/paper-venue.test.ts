// Paper-venue specifics beyond the port contract: deterministic fills, fees, the in-memory book.
import { describe, expect, it } from 'vitest';
import { PaperVenue } from '../../../src/execution/paper/paper-venue.js';
import type { TradeIntent } from '../../../src/execution/venue.port.js';
import { testSigner } from '../../contract/venue.contract.js';

const USDC = 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v';
const SOL = 'So11111111111111111111111111111111111111112';
const intent = (opportunityId: string, over: Partial<TradeIntent> = {}): TradeIntent => ({
  opportunityId,
  inputMint: USDC,
  outputMint: USDC,
  inAmount: 100_000_000n,
  expectedOut: 100_400_000n,
  ...over,
});

async function fill(venue: PaperVenue, signer: ReturnType<typeof testSigner>, i: TradeIntent) {
  const p = await venue.prepare(i, signer.publicKey);
  const sub = await venue.submit(p, signer.sign(p.messageBytes));
  return venue.confirm({ ...p, signature: sub.signature });
}

describe('PaperVenue', () => {
  it('fills within [expectedOut × (1 − maxSlippage), expectedOut], fee = 5000 + priority fee', async () => {
    const venue = new PaperVenue({ seed: 's', maxSlippageBps: 100, priorityFeeMicroLamports: 2500n, computeUnitLimit: 300_000 });
    const signer = testSigner();
    const outs = new Set<bigint>();
    for (let k = 0; k < 20; k++) {
      const out = await fill(venue, signer, intent(`o-${k}`));
      if (out.status !== 'confirmed') throw new Error(out.status);
      expect(out.amountOut).toBeGreaterThanOrEqual(99_396_000n);
      expect(out.amountOut).toBeLessThanOrEqual(100_400_000n);
      expect(out.fee).toBe(5000n + 750n);
      outs.add(out.amountOut);
    }
    expect(outs.size).toBeGreaterThan(1); // the draw does vary
  });

  it('is deterministic: same seed and transaction → same fill; another seed → another draw', async () => {
    const signer = testSigner();
    const a = new PaperVenue({ seed: 'one', maxSlippageBps: 10_000 });
    const b = new PaperVenue({ seed: 'one', maxSlippageBps: 10_000 });
    const c = new PaperVenue({ seed: 'two', maxSlippageBps: 10_000 });
    const fa = await fill(a, signer, intent('same'));
    const fb = await fill(b, signer, intent('same'));
    const fc = await fill(c, signer, intent('same'));
    expect(fa.status === 'confirmed' && fb.status === 'confirmed' && fa.amountOut === fb.amountOut).toBe(true);
    expect(fa.status === 'confirmed' && fc.status === 'confirmed' && fa.amountOut !== fc.amountOut).toBe(true);
  });

  it('with zero slippage a round trip realises exactly the quoted profit; across mints there is no PnL', async () => {
    const venue = new PaperVenue({ maxSlippageBps: 0 });
    const signer = testSigner();
    expect(await fill(venue, signer, intent('rt'))).toMatchObject({ amountIn: 100_000_000n, amountOut: 100_400_000n, realisedPnl: 400_000n });
    expect(await fill(venue, signer, intent('x', { inputMint: SOL, outputMint: USDC, expectedOut: 150_000_000n }))).toMatchObject({
      amountOut: 150_000_000n,
      realisedPnl: null,
    });
  });

  it('forgets everything on restart: a new paper venue fills nothing it did not receive', async () => {
    const signer = testSigner();
    const first = new PaperVenue();
    const p = await first.prepare(intent('r'), signer.publicKey);
    const sub = await first.submit(p, signer.sign(p.messageBytes));
    const fresh = new PaperVenue();
    expect(await fresh.status(sub.signature)).toBe('unknown');
    expect(await fresh.confirm({ ...p, signature: sub.signature })).toMatchObject({ status: 'expired' });
  });

  it('refuses bad options', () => {
    expect(() => new PaperVenue({ maxSlippageBps: 10_001 })).toThrow(RangeError);
    expect(() => new PaperVenue().advanceBlocks(-1)).toThrow(RangeError);
  });
});
