// Round-trip benchmark: what the engine spends between having both legs' instructions and holding
// a signed transaction, per two-leg round trip on the Solana venue — compose (balance and mint read
// with getMultipleAccounts, blockhash, lookup tables, one v0 transaction with the guard), simulate
// (simulateTransaction for the units), compose again with the units, and sign (the keystore
// signer, Ed25519). Against the stand-ins on loopback: Jupiter's HTTP shapes (v1
// /swap-instructions) and litesvm behind Solana JSON-RPC, in this process. The legs are fetched
// before the clock starts (quotes and instructions are the market's I/O, shown on their own row).
// Prints figures; asserts nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PublicKey } from '@solana/web3.js';
import { SolanaVenue } from '../src/execution/solana/solana-venue.js';
import { JupiterQuoteSource } from '../src/market/jupiter/jupiter-quote-source.js';
import { roundTripQuote } from '../src/market/quote-source.port.js';
import { createKeystore, KeystoreSigner } from '../src/signing/keystore/keystore-signer.js';
import { roundTripLegs } from '../src/trading/round-trip-legs.js';
import { startJupiterStandIn } from '../test/stand-ins/jupiter-server.js';
import { setUpRoundTripMarket } from '../test/stand-ins/round-trip-market.js';
import { startSolanaRpcStandIn } from '../test/stand-ins/solana-rpc-server.js';

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

export async function roundTripBench(runs: number): Promise<{ rows: string[][]; note: string }> {
  const [jup, rpc] = await Promise.all([startJupiterStandIn(), startSolanaRpcStandIn()]);
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-bench-rt-'));
  try {
    await createKeystore(join(dir, 'trader.json'), 'bench', { scryptN: 1024, keyId: 'bench-trader' });
    const signer = await KeystoreSigner.open(join(dir, 'trader.json'), 'bench');
    const pub = await signer.publicKey();
    const m = setUpRoundTripMarket(jup, rpc, new PublicKey(pub));
    const retry = { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 };
    const jupiter = new JupiterQuoteSource({ basePath: jup.url, retry });
    const venue = new SolanaVenue({ rpcUrl: rpc.url, priorityFeeMicroLamports: 1_000n, computeUnitLimit: 200_000, computeUnitMarginPct: 20 });
    const taken = { legs: [] as number[], prepare: [] as number[], sign: [] as number[], total: [] as number[] };
    let bytes = 0;
    let units = 0n;
    for (let i = 0; i < runs + 5; i++) {
      const t0 = performance.now();
      const quote = await roundTripQuote(jupiter, { mintA: m.mintA.toBase58(), mintB: m.mintB.toBase58(), amount: 1_000_000_000n, slippageBps: 50, nextLegSpends: 'minimumOut' });
      const roundTrip = await roundTripLegs(jupiter, { quoteRaws: quote.legs.map((l) => l.raw), taker: new PublicKey(pub).toBase58(), minProfitBaseUnits: 1n });
      const t1 = performance.now();
      const opportunityId = `bench-rt-${i}`;
      const prepared = await venue.prepare(
        { opportunityId, inputMint: m.mintA.toBase58(), outputMint: m.mintA.toBase58(), inAmount: 1_000_000_000n, expectedOut: quote.legs[1]!.outAmount, roundTrip },
        pub,
      );
      const t2 = performance.now();
      await signer.sign(prepared.messageBytes);
      const t3 = performance.now();
      // Nothing is sent: the hold on the input account is released for the next run.
      venue.inFlight.releaseAll(opportunityId);
      bytes = prepared.roundTrip!.serializedBytes;
      units = prepared.roundTrip!.simulatedUnits;
      if (i < 5) continue; // warm-up: JIT, connection pool, first table reads
      taken.legs.push(t1 - t0);
      taken.prepare.push(t2 - t1);
      taken.sign.push(t3 - t2);
      taken.total.push(t3 - t1);
    }
    const row = (name: string, list: number[]) => {
      const sorted = [...list].sort((a, b) => a - b);
      return [name, String(list.length), pct(sorted, 50).toFixed(2), pct(sorted, 99).toFixed(2)];
    };
    return {
      rows: [
        row('compose + simulate + sign, per round trip', taken.total),
        row('of which prepare: read balance, blockhash, compose, simulate, compose again', taken.prepare),
        row('of which sign (keystore Ed25519)', taken.sign),
        row('(before it, not in the total) legs: 2 quotes + 2 /swap-instructions', taken.legs),
      ],
      note: `transaction ${bytes} bytes, ${units} units simulated, no lookup tables`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await Promise.all([jup.close(), rpc.close()]);
  }
}
