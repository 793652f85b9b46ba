// The Solana adapter of the wallet-balances port: the owner's lamports (getBalance) and every
// token account it owns under SPL Token and Token-2022 (getTokenAccountsByOwner, base64, decoded
// with spl-token's AccountLayout), summed per mint. The first read's slot is kept and the later
// reads ask for at least that slot (minContextSlot), so no answer comes from an older state.
import { AccountLayout, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID } from '@solana/spl-token';
import { Connection, PublicKey } from '@solana/web3.js';
import { VenueError } from '../errors.js';
import type { ChainBalances, WalletBalances } from '../wallet-balances.port.js';
import { mapRpcError } from './solana-venue.js';

const COMMITMENT = 'confirmed' as const;

export class SolanaWalletBalances implements WalletBalances {
  /** The venue's own Connection (its timeout and retry policy), so both read the same node. */
  constructor(readonly connection: Connection) {}

  async read(owner: string): Promise<ChainBalances> {
    let key: PublicKey;
    try {
      key = new PublicKey(owner);
    } catch {
      throw new VenueError('INVALID_REQUEST', `"${owner}" is not a Solana address`);
    }
    const balance = await this.rpc('getBalance', () => this.connection.getBalanceAndContext(key, { commitment: COMMITMENT }));
    const slot = balance.context.slot;
    if (!Number.isSafeInteger(balance.value) || balance.value < 0) throw new VenueError('MALFORMED_RESPONSE', `getBalance answered ${balance.value}, not a lamport amount`);
    const tokens = new Map<string, bigint>();
    let tokenAccounts = 0;
    for (const programId of [TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID]) {
      const res = await this.rpc('getTokenAccountsByOwner', () =>
        this.connection.getTokenAccountsByOwner(key, { programId }, { commitment: COMMITMENT, minContextSlot: slot }),
      );
      for (const { pubkey, account } of res.value) {
        if (account.data.length < AccountLayout.span) {
          throw new VenueError('MALFORMED_RESPONSE', `token account ${pubkey.toBase58()} has ${account.data.length} bytes, fewer than a token account's ${AccountLayout.span}`);
        }
        const parsed = AccountLayout.decode(account.data);
        if (!parsed.owner.equals(key)) throw new VenueError('MALFORMED_RESPONSE', `getTokenAccountsByOwner(${owner}) returned ${pubkey.toBase58()}, owned by ${parsed.owner.toBase58()}`);
        const mint = parsed.mint.toBase58();
        tokens.set(mint, (tokens.get(mint) ?? 0n) + parsed.amount);
        tokenAccounts++;
      }
    }
    return { kind: 'balances', slot: BigInt(slot), lamports: BigInt(balance.value), tokens, tokenAccounts };
  }

  private async rpc<T>(method: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw mapRpcError(method, err);
    }
  }
}
