// The wallet-balances port's adapters: Solana (the real web3.js Connection against the litesvm RPC
// stand-in) sums every token account the owner holds per mint, under SPL Token and Token-2022,
// and maps a node it cannot reach or a bad address to VenueError; paper says it has no chain.
import { AccountLayout, TOKEN_2022_PROGRAM_ID } from '@solana/spl-token';
import { Connection, Keypair, PublicKey } from '@solana/web3.js';
import { address, lamports } from '@solana/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VenueError } from '../../../src/execution/errors.js';
import { PaperWalletBalances } from '../../../src/execution/paper/paper-wallet-balances.js';
import { SolanaWalletBalances } from '../../../src/execution/solana/solana-wallet-balances.js';
import { startSolanaRpcStandIn, type SolanaRpcStandIn } from '../../stand-ins/solana-rpc-server.js';

let rpc: SolanaRpcStandIn;
beforeAll(async () => {
  rpc = await startSolanaRpcStandIn();
});
afterAll(() => rpc.close());

/** A token account at a fresh address (not the associated one), owned by `program`. */
function tokenAccountAt(mint: PublicKey, owner: PublicKey, amount: bigint, program: PublicKey): PublicKey {
  const at = Keypair.generate().publicKey;
  const data = Buffer.alloc(AccountLayout.span);
  AccountLayout.encode(
    { mint, owner, amount, delegateOption: 0, delegate: PublicKey.default, state: 1, isNativeOption: 0, isNative: 0n, delegatedAmount: 0n, closeAuthorityOption: 0, closeAuthority: PublicKey.default },
    data,
  );
  rpc.svm.setAccount({ address: address(at.toBase58()), data: new Uint8Array(data), executable: false, lamports: lamports(2_039_280n), programAddress: address(program.toBase58()), space: BigInt(data.length) });
  return at;
}

describe('SolanaWalletBalances', () => {
  it('sums every token account of a mint, SPL Token and Token-2022 alike, and leaves other owners out', async () => {
    const owner = Keypair.generate().publicKey;
    rpc.airdrop(owner, 123_456_789n);
    const mint = rpc.createMint(6);
    const mint2022 = Keypair.generate().publicKey;
    rpc.setTokenAccount({ mint, owner, amount: 1_000n });
    tokenAccountAt(mint, owner, 234n, new PublicKey('TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA'));
    tokenAccountAt(mint2022, owner, 55n, TOKEN_2022_PROGRAM_ID);
    rpc.setTokenAccount({ mint, owner: Keypair.generate().publicKey, amount: 9_999n });
    const read = await new SolanaWalletBalances(new Connection(rpc.url, 'confirmed')).read(owner.toBase58());
    expect(read.kind).toBe('balances');
    expect(read).toMatchObject({ lamports: 123_456_789n, tokenAccounts: 3, slot: rpc.blockHeight() });
    expect(Object.fromEntries(read.tokens)).toEqual({ [mint.toBase58()]: 1_234n, [mint2022.toBase58()]: 55n });
  });

  it('an empty wallet: 0 lamports, no token', async () => {
    const read = await new SolanaWalletBalances(new Connection(rpc.url, 'confirmed')).read(Keypair.generate().publicKey.toBase58());
    expect(read).toMatchObject({ kind: 'balances', lamports: 0n, tokenAccounts: 0 });
  });

  it('a bad address is INVALID_REQUEST; a node that cannot be reached is RPC_UNAVAILABLE', async () => {
    await expect(new SolanaWalletBalances(new Connection(rpc.url, 'confirmed')).read('not-an-address')).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    const err = await new SolanaWalletBalances(new Connection('http://127.0.0.1:9', { commitment: 'confirmed', disableRetryOnRateLimit: true })).read(Keypair.generate().publicKey.toBase58()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VenueError);
    expect(err).toMatchObject({ code: 'RPC_UNAVAILABLE', retryable: true });
  });
});

describe('PaperWalletBalances (offline default)', () => {
  it('says there is no chain to reconcile with, for any owner', async () => {
    expect(await new PaperWalletBalances().read()).toEqual({ kind: 'no_chain', reason: expect.stringMatching(/VENUE=paper .*nothing to reconcile/) });
  });
});
