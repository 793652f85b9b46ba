// Anchors seals on Solana: one transaction per seal with a single SPL Memo instruction whose
// text is the seal's memo (`arbiter-seal:v1:<position>:<hash>`), paid and signed by the seal
// signer's own key through the Signer port (fund that address with a little SOL: ~5,000
// lamports a seal). Once confirmed, the memo sits in the chain's history where a database
// writer cannot change it; `check` reads it back by signature.
import { Connection, PublicKey, Transaction, TransactionInstruction, type Commitment, type Finality } from '@solana/web3.js';
import type { Signer } from '../../signing/signer.port.js';
import bs58 from 'bs58';
import type { SealAnchorPort } from '../anchor.port.js';
import type { SealAnchor } from '../../ledger/sealing/seal.js';
import { setTimeout as sleep } from 'node:timers/promises';

export const MEMO_PROGRAM_ID = new PublicKey('MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr');
const COMMITMENT = 'confirmed' satisfies Commitment & Finality;

export interface SolanaMemoAnchorOptions {
  rpcUrl: string;
  /** Pays and signs anchors; not needed to check them. */
  signer?: Signer;
  /** Per-request timeout (default 10 s). */
  rpcTimeoutMs?: number;
  /** How long to wait for confirmation (default 60 s) and how often to ask (default 400 ms). */
  confirmTimeoutMs?: number;
  pollMs?: number;
}

export class SolanaMemoAnchor implements SealAnchorPort {
  readonly name = 'solana-memo';
  readonly connection: Connection;

  constructor(private readonly opts: SolanaMemoAnchorOptions) {
    const timeout = opts.rpcTimeoutMs ?? 10_000;
    this.connection = new Connection(opts.rpcUrl, {
      commitment: COMMITMENT,
      disableRetryOnRateLimit: true,
      fetchMiddleware: (info, init, next) => next(info, { ...init, signal: AbortSignal.timeout(timeout) } as typeof init),
    });
  }

  async anchor(memo: string): Promise<SealAnchor> {
    const signer = this.opts.signer;
    if (!signer) throw new Error('this Solana anchor has no signer: it can check anchors, not write them');
    const payer = new PublicKey(await signer.publicKey());
    const { blockhash, lastValidBlockHeight } = await this.connection.getLatestBlockhash(COMMITMENT);
    const tx = new Transaction({ feePayer: payer, blockhash, lastValidBlockHeight }).add(
      new TransactionInstruction({
        programId: MEMO_PROGRAM_ID,
        keys: [{ pubkey: payer, isSigner: true, isWritable: false }],
        data: Buffer.from(memo, 'utf8'),
      }),
    );
    const signature = await signer.sign(tx.serializeMessage());
    tx.addSignature(payer, Buffer.from(signature));
    const sig = bs58.encode(signature);
    await this.connection.sendRawTransaction(tx.serialize(), { skipPreflight: false, preflightCommitment: COMMITMENT, maxRetries: 0 });
    const deadline = Date.now() + (this.opts.confirmTimeoutMs ?? 60_000);
    for (;;) {
      const { value } = await this.connection.getSignatureStatuses([sig]);
      const status = value[0];
      if (status?.err) throw new Error(`the anchor transaction ${sig} failed on chain: ${JSON.stringify(status.err)}`);
      if (status && (status.confirmationStatus === 'confirmed' || status.confirmationStatus === 'finalized')) break;
      if (Date.now() > deadline || (await this.connection.getBlockHeight(COMMITMENT)) > lastValidBlockHeight) {
        throw new Error(`the anchor transaction ${sig} was not confirmed in time`);
      }
      await sleep(this.opts.pollMs ?? 400);
    }
    return { chain: 'solana', transaction: sig, memo };
  }

  async check(anchor: SealAnchor): Promise<string | null> {
    const tx = await this.connection.getTransaction(anchor.transaction, { commitment: COMMITMENT, maxSupportedTransactionVersion: 0 });
    if (!tx) return `anchor transaction ${anchor.transaction} is not on chain`;
    if (tx.meta?.err) return `anchor transaction ${anchor.transaction} failed on chain`;
    const message = tx.transaction.message;
    const keys = message.staticAccountKeys;
    const memos = message.compiledInstructions
      .filter((ix) => keys[ix.programIdIndex]?.equals(MEMO_PROGRAM_ID))
      .map((ix) => Buffer.from(ix.data).toString('utf8'));
    if (!memos.includes(anchor.memo)) return `anchor transaction ${anchor.transaction} does not carry the memo "${anchor.memo}"`;
    return null;
  }
}
