// A Solana RPC node for tests: JSON-RPC 2.0 over HTTP (node:http on 127.0.0.1, random port),
// backed by LiteSVM, an in-process Solana VM that really executes the transactions (signature
// checks, fees, System and SPL Token programs). The real @solana/web3.js Connection talks to it.
//
// What it adds around LiteSVM, the way a node does it:
// - blocks: a block height (= slot) that moves one block per landed transaction and when a test
//   calls advanceBlocks(); blockhashes valid for 150 blocks (then LiteSVM's blockhash is
//   expired and a new one handed out);
// - preflight: sendTransaction without skipPreflight first simulates in LiteSVM and answers a
//   JSON-RPC error as a node does (-32003 signature verification failure, -32002 simulation
//   failed: blockhash not found / already processed / instruction error) without landing;
//   with skipPreflight a transaction that cannot land is silently dropped, one that fails in a
//   program lands with its error and pays its fee;
// - the ledger a node keeps: signature statuses, getTransaction with meta (fee, pre/post
//   lamport balances, pre/post token balances parsed from SPL Token accounts, logs);
// - address lookup tables: createLookupTable() makes a real table with the Address Lookup Table
//   program LiteSVM ships (CreateLookupTable + ExtendLookupTable, then one block so the new
//   entries are usable, as on mainnet). getAccountInfo/getMultipleAccounts serve the table
//   account as a node does (owner AddressLookupTab1e…, the on-chain layout in base64). LiteSVM
//   resolves a v0 message's lookups itself; the stand-in resolves them too, when the transaction
//   arrives, for what a node records: `transaction.message.addressTableLookups`,
//   `meta.loadedAddresses`, and pre/post (token) balances over every account in mainnet's order
//   — static keys, then loaded writable, then loaded readonly (accountIndex counts across all).
// - a wallet's balances: getBalance, getTokenAccountsByOwner (base64 and jsonParsed).
// Test levers: dropSubmissions (the node answers but the transaction is lost), processedPolls
// (statuses stay 'processed' for a while), autoAdvanceBlocks (the chain moves while polled),
// beforeNextLanding (the chain moves after a transaction passed preflight and before it lands:
// what happens on a real cluster when a pool trades between the node's simulation and the slot).
// DISTORTION: LiteSVM's SlotHashes sysvar does not follow warpToSlot, so the stand-in sets it to
// the one slot a CreateLookupTable names; a deactivated table therefore stops resolving at the
// next slot, where mainnet keeps resolving it for its ~512-slot cool-down (and then lets it be
// closed). To a cached table the effect is the same as a closed one: its lookups fail.
// Not modelled: forks, finalization, closing a table.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { address, getTransactionDecoder, lamports as toLamports, type Signature } from '@solana/kit';
import { FailedTransactionMetadata, LiteSVM, TransactionMetadata } from 'litesvm';
import {
  AddressLookupTableAccount,
  AddressLookupTableProgram,
  Keypair,
  PublicKey,
  TransactionMessage,
  VersionedTransaction,
} from '@solana/web3.js';
import { AccountLayout, MintLayout, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID, getAssociatedTokenAddressSync } from '@solana/spl-token';
import bs58 from 'bs58';

const LAMPORTS_PER_SIGNATURE = 5000n;
const COMPUTE_BUDGET = 'ComputeBudget111111111111111111111111111111';
const ALT_PROGRAM = AddressLookupTableProgram.programId.toBase58();
/** Addresses one ExtendLookupTable carries here (32 bytes each: 20 keep the transaction well under 1232 bytes). */
const ALT_EXTEND_CHUNK = 20;
/** A table holds at most 256 addresses (its index is one byte). */
const ALT_MAX_ADDRESSES = 256;
/** What mainnet writes as an account's rentEpoch once it is rent-exempt (u64::MAX). */
const RENT_EPOCH_EXEMPT = 18446744073709551615;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

interface TokenBalanceJson {
  accountIndex: number;
  mint: string;
  owner: string;
  programId: string;
  uiTokenAmount: { amount: string; decimals: number; uiAmount: number | null; uiAmountString: string };
}

interface Landed {
  slot: number;
  err: Json;
  tx: VersionedTransaction;
  fee: bigint;
  preBalances: bigint[];
  postBalances: bigint[];
  preTokenBalances: TokenBalanceJson[];
  postTokenBalances: TokenBalanceJson[];
  logs: string[];
  computeUnits: bigint;
  /** Status queries left that answer 'processed' before 'confirmed'. */
  processedLeft: number;
  /** Addresses the message's lookups resolved to when it arrived (a table may change later). */
  loaded: LoadedAddresses;
}

interface LoadedAddresses {
  writable: PublicKey[];
  readonly: PublicKey[];
}

export interface SolanaRpcStandIn {
  url: string;
  svm: LiteSVM;
  /** While true, sendTransaction answers with the signature but nothing reaches the VM. */
  dropSubmissions: boolean;
  /** Landed transactions are reported 'processed' for this many status queries first. */
  processedPolls: number;
  /** Every getBlockHeight call moves the chain on by this many blocks. */
  autoAdvanceBlocks: number;
  /**
   * Runs once, for the next transaction that passed preflight (or skipped it), just before it
   * executes; then clears itself. A test moves a pool here: preflight saw the old state, the
   * transaction lands on the new one.
   */
  beforeNextLanding: (() => void) | null;
  /** Calls per JSON-RPC method. */
  calls: Map<string, number>;
  /** Every sendTransaction that carried a transaction, in order: its signature and when (Date.now()). */
  submissions: { signature: string; atMs: number }[];
  /** Signatures refused or dropped, with why (for assertions). */
  rejected: Map<string, string>;
  blockHeight(): bigint;
  advanceBlocks(n: number | bigint): void;
  airdrop(to: PublicKey, lamports: bigint): void;
  lamports(of: PublicKey): bigint;
  /** Writes an initialized SPL Token mint account; returns its address. */
  createMint(decimals: number, mint?: PublicKey): PublicKey;
  /** Writes the owner's associated token account for mint; optionally delegates all of it. */
  setTokenAccount(args: { mint: PublicKey; owner: PublicKey; amount: bigint; delegate?: PublicKey }): PublicKey;
  tokenAmount(account: PublicKey): bigint;
  /**
   * A real address lookup table holding `addresses` (at most 256), created and extended by the
   * Address Lookup Table program with the stand-in's own authority; the chain then moves one
   * block so the entries can be used. Returns the table's address.
   */
  createLookupTable(addresses: PublicKey[]): PublicKey;
  /** The addresses a lookup table holds, read from its account on the chain. */
  lookupTableAddresses(table: PublicKey): PublicKey[];
  /** DeactivateLookupTable by the stand-in's authority; from the next slot the table no longer resolves (see the header). */
  deactivateLookupTable(table: PublicKey): void;
  close(): Promise<void>;
}

class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: Json,
  ) {
    super(message);
  }
}

const TX_ERRORS = [
  'AccountInUse', 'AccountLoadedTwice', 'AccountNotFound', 'ProgramAccountNotFound', 'InsufficientFundsForFee',
  'InvalidAccountForFee', 'AlreadyProcessed', 'BlockhashNotFound', 'CallChainTooDeep', 'MissingSignatureForFee',
  'InvalidAccountIndex', 'SignatureFailure', 'InvalidProgramForExecution', 'SanitizeFailure', 'ClusterMaintenance',
  'AccountBorrowOutstanding', 'WouldExceedMaxBlockCostLimit', 'UnsupportedVersion', 'InvalidWritableAccount',
  'WouldExceedMaxAccountCostLimit', 'WouldExceedAccountDataBlockLimit', 'TooManyAccountLocks',
  'AddressLookupTableNotFound', 'InvalidAddressLookupTableOwner', 'InvalidAddressLookupTableData',
  'InvalidAddressLookupTableIndex', 'InvalidRentPayingAccount', 'WouldExceedMaxVoteCostLimit',
  'WouldExceedAccountDataTotalLimit', 'MaxLoadedAccountsDataSizeExceeded', 'ResanitizationNeeded',
  'InvalidLoadedAccountsDataSizeLimit', 'UnbalancedTransaction', 'ProgramCacheHitMaxLimit', 'CommitCancelled',
];
const INSTRUCTION_ERRORS = [
  'GenericError', 'InvalidArgument', 'InvalidInstructionData', 'InvalidAccountData', 'AccountDataTooSmall',
  'InsufficientFunds', 'IncorrectProgramId', 'MissingRequiredSignature', 'AccountAlreadyInitialized',
  'UninitializedAccount', 'UnbalancedInstruction', 'ModifiedProgramId', 'ExternalAccountLamportSpend',
  'ExternalAccountDataModified', 'ReadonlyLamportChange', 'ReadonlyDataModified', 'DuplicateAccountIndex',
  'ExecutableModified', 'RentEpochModified', 'NotEnoughAccountKeys', 'AccountDataSizeChanged',
  'AccountNotExecutable', 'AccountBorrowFailed', 'AccountBorrowOutstanding', 'DuplicateAccountOutOfSync',
  'InvalidError', 'ExecutableDataModified', 'ExecutableLamportChange', 'ExecutableAccountNotRentExempt',
  'UnsupportedProgramId', 'CallDepth', 'MissingAccount', 'ReentrancyNotAllowed', 'MaxSeedLengthExceeded',
];

/** LiteSVM's error object → the JSON a node writes (`"BlockhashNotFound"`, `{"InstructionError":[2,{"Custom":1}]}`). */
function errorJson(err: unknown): Json {
  if (typeof err === 'number') return TX_ERRORS[err] ?? `TransactionError${err}`;
  const e = err as { constructor: { name: string }; index?: number; accountIndex?: number; err?: () => unknown };
  switch (e.constructor.name) {
    case 'TransactionErrorInstructionError': {
      const inner = e.err!() as number | { constructor: { name: string }; code?: number; msg?: string };
      let detail: Json;
      if (typeof inner === 'number') detail = INSTRUCTION_ERRORS[inner] ?? `InstructionError${inner}`;
      else if (inner.constructor.name === 'InstructionErrorCustom') detail = { Custom: inner.code! };
      else detail = { BorshIoError: inner.msg ?? '' };
      return { InstructionError: [e.index!, detail] };
    }
    case 'TransactionErrorDuplicateInstruction':
      return { DuplicateInstruction: e.index! };
    case 'TransactionErrorInsufficientFundsForRent':
      return { InsufficientFundsForRent: { account_index: e.accountIndex! } };
    case 'TransactionErrorProgramExecutionTemporarilyRestricted':
      return { ProgramExecutionTemporarilyRestricted: { account_index: e.accountIndex! } };
    default:
      return String(err);
  }
}

/** The words a node uses for an error (Display of TransactionError). */
function errorText(json: Json): string {
  switch (json) {
    case 'SignatureFailure':
      return 'Transaction did not pass signature verification';
    case 'AlreadyProcessed':
      return 'This transaction has already been processed';
    case 'BlockhashNotFound':
      return 'Blockhash not found';
    case 'InsufficientFundsForFee':
      return 'Insufficient funds for fee';
    case 'AccountNotFound':
      return 'Attempt to debit an account but found no record of a prior credit.';
  }
  if (json && typeof json === 'object' && !Array.isArray(json) && Array.isArray(json.InstructionError)) {
    const [index, detail] = json.InstructionError as [number, Json];
    const custom = detail && typeof detail === 'object' && !Array.isArray(detail) ? detail.Custom : undefined;
    const what = typeof custom === 'number' ? `custom program error: 0x${custom.toString(16)}` : JSON.stringify(detail);
    return `Error processing Instruction ${index}: ${what}`;
  }
  return typeof json === 'string' ? json : JSON.stringify(json);
}

export async function startSolanaRpcStandIn(opts: { blockhashValidBlocks?: number; startBlockHeight?: bigint } = {}): Promise<SolanaRpcStandIn> {
  const validBlocks = BigInt(opts.blockhashValidBlocks ?? 150);
  const svm = new LiteSVM();
  let height = opts.startBlockHeight ?? 1000n;
  svm.warpToSlot(height);
  /** Blockhashes handed out, with the last block height at which each may land. */
  const blockhashes = new Map<string, bigint>();
  blockhashes.set(svm.latestBlockhash(), height + validBlocks);
  const landed = new Map<string, Landed>();
  const decoder = getTransactionDecoder();

  const currentBlockhash = (): { blockhash: string; lastValidBlockHeight: bigint } => {
    let blockhash = svm.latestBlockhash() as string;
    if (blockhashes.get(blockhash)! < height) {
      // LiteSVM accepts only its latest blockhash, so it changes only once the old one is dead.
      svm.expireBlockhash();
      blockhash = svm.latestBlockhash();
      blockhashes.set(blockhash, height + validBlocks);
    }
    return { blockhash, lastValidBlockHeight: blockhashes.get(blockhash)! };
  };

  const advance = (n: bigint) => {
    height += n;
    svm.warpToSlot(height);
  };

  /** The table as the chain holds it now, or null (missing, or not a lookup table account). */
  const lookupTable = (key: PublicKey): AddressLookupTableAccount | null => {
    const acc = svm.getAccount(address(key.toBase58()));
    if (!acc.exists || acc.programAddress !== ALT_PROGRAM) return null;
    try {
      return new AddressLookupTableAccount({ key, state: AddressLookupTableAccount.deserialize(acc.data) });
    } catch {
      return null;
    }
  };

  /**
   * What the message's lookups load, read from the tables now. A lookup the chain cannot resolve
   * (no table, index past its end) resolves to nothing here: LiteSVM refuses the transaction
   * with the same finding, and nothing is recorded for it.
   */
  const loadedOf = (tx: VersionedTransaction): LoadedAddresses => {
    const loaded: LoadedAddresses = { writable: [], readonly: [] };
    if (tx.message.version === 'legacy') return loaded;
    for (const l of tx.message.addressTableLookups) {
      const table = lookupTable(l.accountKey);
      const at = (i: number) => table?.state.addresses[i];
      if (!table || [...l.writableIndexes, ...l.readonlyIndexes].some((i) => at(i) === undefined)) return { writable: [], readonly: [] };
      loaded.writable.push(...l.writableIndexes.map((i) => at(i)!));
      loaded.readonly.push(...l.readonlyIndexes.map((i) => at(i)!));
    }
    return loaded;
  };

  /** Every account of the transaction, in the order accountIndex counts: static, loaded writable, loaded readonly. */
  const accountKeys = (tx: VersionedTransaction, loaded: LoadedAddresses) => [...tx.message.staticAccountKeys, ...loaded.writable, ...loaded.readonly];

  const tokenBalances = (tx: VersionedTransaction, loaded: LoadedAddresses): TokenBalanceJson[] => {
    const out: TokenBalanceJson[] = [];
    accountKeys(tx, loaded).forEach((key, accountIndex) => {
      const acc = svm.getAccount(address(key.toBase58()));
      if (!acc.exists) return;
      const program = acc.programAddress as string;
      if (program !== TOKEN_PROGRAM_ID.toBase58() && program !== TOKEN_2022_PROGRAM_ID.toBase58()) return;
      if (acc.data.length < AccountLayout.span) return; // a mint, not a token account
      const parsed = AccountLayout.decode(Buffer.from(acc.data));
      if (parsed.state === 0) return;
      const mintAcc = svm.getAccount(address(parsed.mint.toBase58()));
      const decimals = mintAcc.exists && mintAcc.data.length >= MintLayout.span ? MintLayout.decode(Buffer.from(mintAcc.data)).decimals : 0;
      const amount = parsed.amount.toString();
      const ui = Number(parsed.amount) / 10 ** decimals;
      out.push({
        accountIndex,
        mint: parsed.mint.toBase58(),
        owner: parsed.owner.toBase58(),
        programId: program,
        uiTokenAmount: { amount, decimals, uiAmount: ui, uiAmountString: String(ui) },
      });
    });
    return out;
  };

  const lamportsOf = (tx: VersionedTransaction, loaded: LoadedAddresses) =>
    accountKeys(tx, loaded).map((k) => BigInt(svm.getBalance(address(k.toBase58())) ?? 0n));

  /** What LiteSVM charges: 5000 per signature plus compute unit price × limit, rounded up. */
  const feeOf = (tx: VersionedTransaction): bigint => {
    let price = 0n;
    let limit: bigint | null = null;
    let others = 0n;
    for (const ix of tx.message.compiledInstructions) {
      const program = tx.message.staticAccountKeys[ix.programIdIndex]!.toBase58();
      const data = Buffer.from(ix.data);
      if (program === COMPUTE_BUDGET && data[0] === 3) price = data.readBigUInt64LE(1);
      else if (program === COMPUTE_BUDGET && data[0] === 2) limit = BigInt(data.readUInt32LE(1));
      else if (program !== COMPUTE_BUDGET) others++;
    }
    const units = limit ?? (others * 200_000n > 1_400_000n ? 1_400_000n : others * 200_000n);
    return LAMPORTS_PER_SIGNATURE * BigInt(tx.message.header.numRequiredSignatures) + (price * units + 999_999n) / 1_000_000n;
  };

  const sendTransaction = (params: Json[]): string => {
    const [encoded, config] = params as [string, { encoding?: string; skipPreflight?: boolean } | undefined];
    if (typeof encoded !== 'string') throw new RpcError(-32602, 'Invalid params: expected an encoded transaction string');
    const encoding = config?.encoding ?? 'base58';
    let bytes: Uint8Array;
    let tx: VersionedTransaction;
    try {
      bytes = encoding === 'base64' ? Buffer.from(encoded, 'base64') : bs58.decode(encoded);
      tx = VersionedTransaction.deserialize(bytes);
    } catch (err) {
      throw new RpcError(-32602, `invalid transaction: failed to deserialize VersionedTransaction: ${(err as Error).message}`);
    }
    const signature = bs58.encode(tx.signatures[0]!);
    handle.submissions.push({ signature, atMs: Date.now() });
    if (dropSubmissionsRef.value) {
      handle.rejected.set(signature, 'dropped (dropSubmissions)');
      return signature;
    }
    const kitTx = decoder.decode(bytes);
    const lastValid = blockhashes.get(tx.message.recentBlockhash);
    const blockhashOk = lastValid !== undefined && height <= lastValid;
    if (!config?.skipPreflight) {
      const simulated = blockhashOk ? svm.simulateTransaction(kitTx) : null;
      const errJson: Json = simulated === null ? 'BlockhashNotFound' : simulated instanceof FailedTransactionMetadata ? errorJson(simulated.err()) : null;
      if (errJson !== null) {
        handle.rejected.set(signature, `preflight: ${errorText(errJson)}`);
        if (errJson === 'SignatureFailure') throw new RpcError(-32003, 'Transaction signature verification failure');
        const logs = simulated instanceof FailedTransactionMetadata ? simulated.meta().logs() : [];
        throw new RpcError(-32002, `Transaction simulation failed: ${errorText(errJson)}`, {
          err: errJson,
          logs,
          accounts: null,
          unitsConsumed: 0,
          returnData: null,
        });
      }
    } else if (!blockhashOk) {
      handle.rejected.set(signature, 'dropped: blockhash not found');
      return signature;
    }
    const move = handle.beforeNextLanding;
    if (move) {
      handle.beforeNextLanding = null;
      move();
    }
    const loaded = loadedOf(tx);
    const preBalances = lamportsOf(tx, loaded);
    const preTokenBalances = tokenBalances(tx, loaded);
    const result = svm.sendTransaction(kitTx);
    if (result instanceof FailedTransactionMetadata && svm.getTransaction(signature as Signature) === null) {
      // Refused before execution (bad signature, already processed, cannot pay the fee): a
      // node drops it, and the sender sees nothing but a status that never appears.
      handle.rejected.set(signature, `dropped: ${errorText(errorJson(result.err()))}`);
      return signature;
    }
    if (result instanceof FailedTransactionMetadata && errorJson(result.err()) === 'AlreadyProcessed') return signature;
    const meta = result instanceof TransactionMetadata ? result : result.meta();
    landed.set(signature, {
      slot: Number(height),
      err: result instanceof FailedTransactionMetadata ? errorJson(result.err()) : null,
      tx,
      fee: feeOf(tx),
      preBalances,
      postBalances: lamportsOf(tx, loaded),
      preTokenBalances,
      postTokenBalances: tokenBalances(tx, loaded),
      logs: meta.logs(),
      computeUnits: meta.computeUnitsConsumed(),
      processedLeft: handle.processedPolls,
      loaded,
    });
    advance(1n);
    return signature;
  };

  const statusOf = (sig: string): Json => {
    const l = landed.get(sig);
    if (!l) return null;
    const processed = l.processedLeft > 0;
    if (processed) l.processedLeft--;
    return {
      slot: l.slot,
      confirmations: processed ? 0 : null,
      err: l.err,
      status: l.err === null ? { Ok: null } : { Err: l.err },
      confirmationStatus: processed ? 'processed' : 'confirmed',
    };
  };

  const transactionJson = (sig: string, config: { maxSupportedTransactionVersion?: number } | undefined): Json => {
    const l = landed.get(sig);
    if (!l || l.processedLeft > 0) return null; // not yet at 'confirmed'
    const m = l.tx.message;
    if (m.version !== 'legacy' && config?.maxSupportedTransactionVersion === undefined) {
      throw new RpcError(-32015, `Transaction version (${m.version}) is not supported by the requesting client. Please try the request again with the following configuration parameter: "maxSupportedTransactionVersion": 0`);
    }
    return {
      slot: l.slot,
      blockTime: Math.floor(Date.now() / 1000),
      version: m.version,
      transaction: {
        signatures: l.tx.signatures.map((s) => bs58.encode(s)),
        message: {
          header: { ...m.header },
          accountKeys: m.staticAccountKeys.map((k) => k.toBase58()),
          recentBlockhash: m.recentBlockhash,
          instructions: m.compiledInstructions.map((ix) => ({
            programIdIndex: ix.programIdIndex,
            accounts: [...ix.accountKeyIndexes],
            data: bs58.encode(ix.data),
            stackHeight: null,
          })),
          ...(m.version === 0
            ? {
                addressTableLookups: m.addressTableLookups.map((l) => ({
                  accountKey: l.accountKey.toBase58(),
                  writableIndexes: [...l.writableIndexes],
                  readonlyIndexes: [...l.readonlyIndexes],
                })),
              }
            : {}),
        },
      },
      meta: {
        err: l.err,
        status: l.err === null ? { Ok: null } : { Err: l.err },
        fee: Number(l.fee),
        preBalances: l.preBalances.map(Number),
        postBalances: l.postBalances.map(Number),
        innerInstructions: [],
        logMessages: l.logs,
        preTokenBalances: l.preTokenBalances as unknown as Json,
        postTokenBalances: l.postTokenBalances as unknown as Json,
        rewards: [],
        loadedAddresses: { writable: l.loaded.writable.map((k) => k.toBase58()), readonly: l.loaded.readonly.map((k) => k.toBase58()) },
        computeUnitsConsumed: Number(l.computeUnits),
      },
    };
  };

  const accountJson = (key: string): Json => {
    const acc = svm.getAccount(address(key));
    return acc.exists
      ? {
          data: [Buffer.from(acc.data).toString('base64'), 'base64'],
          executable: acc.executable,
          lamports: Number(acc.lamports),
          owner: acc.programAddress,
          rentEpoch: RENT_EPOCH_EXEMPT,
          space: acc.data.length,
        }
      : null;
  };

  /**
   * getTokenAccountsByOwner as a node answers it: the owner's token accounts of one program
   * ({ programId }) or one mint ({ mint }), base64 (what web3.js' getTokenAccountsByOwner asks
   * for) or jsonParsed (getParsedTokenAccountsByOwner), each { pubkey, account }. The accounts are
   * found by scanning the token program's accounts in LiteSVM (getProgramAccounts).
   */
  const tokenAccountsByOwner = (params: Json[]): Json => {
    const owner = pubkeyParam(params[0]);
    const filter = params[1] as { mint?: Json; programId?: Json } | null | undefined;
    const config = (params[2] ?? {}) as { encoding?: string };
    if (!filter || typeof filter !== 'object' || (filter.mint === undefined) === (filter.programId === undefined)) {
      throw new RpcError(-32602, 'Invalid params: expected exactly one of { "mint": <address> } or { "programId": <address> }');
    }
    const encoding = config.encoding ?? 'binary';
    if (encoding !== 'base64' && encoding !== 'jsonParsed') {
      throw new RpcError(-32602, `Invalid params: encoding ${encoding} is not supported for token accounts here (use base64 or jsonParsed)`);
    }
    const programs = [TOKEN_PROGRAM_ID.toBase58(), TOKEN_2022_PROGRAM_ID.toBase58()];
    let program: string;
    let mint: string | null = null;
    if (filter.programId !== undefined) {
      program = pubkeyParam(filter.programId);
      if (!programs.includes(program)) throw new RpcError(-32602, 'Invalid param: unrecognized Token program id');
    } else {
      mint = pubkeyParam(filter.mint);
      const mintAcc = svm.getAccount(address(mint));
      if (!mintAcc.exists || !programs.includes(mintAcc.programAddress as string)) throw new RpcError(-32602, 'Invalid param: could not find mint');
      program = mintAcc.programAddress as string;
    }
    const value: Json[] = [];
    for (const acc of svm.getProgramAccounts(address(program))) {
      // A token account is 165 bytes; Token-2022 ones with extensions are longer, marked Account (2) at byte 165.
      if (acc.data.length < AccountLayout.span || (acc.data.length > AccountLayout.span && (program === TOKEN_PROGRAM_ID.toBase58() || acc.data[AccountLayout.span] !== 2))) continue;
      const parsed = AccountLayout.decode(Buffer.from(acc.data));
      if (parsed.state === 0 || parsed.owner.toBase58() !== owner) continue;
      if (mint !== null && parsed.mint.toBase58() !== mint) continue;
      const key = acc.address as string;
      if (encoding === 'base64') {
        value.push({ pubkey: key, account: accountJson(key) });
        continue;
      }
      const mintAcc = svm.getAccount(address(parsed.mint.toBase58()));
      const decimals = mintAcc.exists && mintAcc.data.length >= MintLayout.span ? MintLayout.decode(Buffer.from(mintAcc.data)).decimals : 0;
      const ui = (n: bigint) => ({ amount: n.toString(), decimals, uiAmount: Number(n) / 10 ** decimals, uiAmountString: String(Number(n) / 10 ** decimals) });
      const info: { [k: string]: Json } = {
        isNative: parsed.isNativeOption === 1,
        mint: parsed.mint.toBase58(),
        owner: parsed.owner.toBase58(),
        state: parsed.state === 2 ? 'frozen' : 'initialized',
        tokenAmount: ui(parsed.amount),
      };
      if (parsed.delegateOption === 1) {
        info.delegate = parsed.delegate.toBase58();
        info.delegatedAmount = ui(parsed.delegatedAmount);
      }
      if (parsed.isNativeOption === 1) info.rentExemptReserve = ui(parsed.isNative);
      value.push({
        pubkey: key,
        account: {
          data: { program: program === TOKEN_PROGRAM_ID.toBase58() ? 'spl-token' : 'spl-token-2022', parsed: { info, type: 'account' }, space: acc.data.length },
          executable: false,
          lamports: Number(acc.lamports),
          owner: program,
          rentEpoch: 0,
          space: acc.data.length,
        },
      });
    }
    return { context: context(), value };
  };

  /**
   * simulateTransaction as a node answers it: err, logs and unitsConsumed; nothing changes. An
   * unsigned transaction (sigVerify false) is simulated with LiteSVM's signature check off for
   * that one call. replaceRecentBlockhash is not offered (the venue does not ask for it).
   */
  const simulate = (params: Json[]): Json => {
    const [encoded, config] = params as [string, { encoding?: string; sigVerify?: boolean } | undefined];
    let bytes: Uint8Array;
    try {
      bytes = config?.encoding === 'base64' ? Buffer.from(encoded, 'base64') : bs58.decode(encoded);
      VersionedTransaction.deserialize(bytes);
    } catch (err) {
      throw new RpcError(-32602, `invalid transaction: failed to deserialize VersionedTransaction: ${(err as Error).message}`);
    }
    const verify = config?.sigVerify !== false;
    if (!verify) svm.withSigverify(false);
    try {
      const result = svm.simulateTransaction(decoder.decode(bytes));
      const meta = result instanceof FailedTransactionMetadata ? result.meta() : result.meta();
      return {
        context: context(),
        value: {
          err: result instanceof FailedTransactionMetadata ? errorJson(result.err()) : null,
          logs: meta.logs(),
          accounts: null,
          unitsConsumed: Number(meta.computeUnitsConsumed()),
          returnData: null,
        },
      };
    } finally {
      if (!verify) svm.withSigverify(true);
    }
  };

  const context = () => ({ slot: Number(height) });

  /** The authority of the tables the stand-in creates (Jupiter's own, on mainnet). */
  const tableAuthority = Keypair.generate();
  /** One transaction of the ALT program, signed by the authority; throws with the program's logs when it fails. */
  const runAltTransaction = (what: string, instructions: TransactionMessage['instructions']) => {
    const message = new TransactionMessage({ payerKey: tableAuthority.publicKey, recentBlockhash: svm.latestBlockhash(), instructions }).compileToV0Message();
    const tx = new VersionedTransaction(message);
    tx.sign([tableAuthority]);
    const result = svm.sendTransaction(decoder.decode(tx.serialize()));
    if (result instanceof FailedTransactionMetadata) {
      throw new Error(`${what} failed: ${errorText(errorJson(result.err()))}\n${result.meta().logs().join('\n')}`);
    }
  };
  const createLookupTable = (addresses: PublicKey[]): PublicKey => {
    if (addresses.length === 0 || addresses.length > ALT_MAX_ADDRESSES) {
      throw new Error(`a lookup table holds 1 to ${ALT_MAX_ADDRESSES} addresses (got ${addresses.length})`);
    }
    if ((svm.getBalance(address(tableAuthority.publicKey.toBase58())) ?? 0n) < 1_000_000_000n) {
      handle.airdrop(tableAuthority.publicKey, 10_000_000_000n);
    }
    // CreateLookupTable derives the table from (authority, recent slot) and checks the slot is in
    // the SlotHashes sysvar, which LiteSVM does not move with warpToSlot: put the last slot there.
    const recentSlot = height - 1n;
    const [entry] = svm.getSlotHashes();
    if (!entry) throw new Error('LiteSVM has no SlotHashes entry to reuse');
    entry.slot = recentSlot;
    svm.setSlotHashes([entry]);
    const [create, table] = AddressLookupTableProgram.createLookupTable({ authority: tableAuthority.publicKey, payer: tableAuthority.publicKey, recentSlot });
    const extend = (chunk: PublicKey[]) =>
      AddressLookupTableProgram.extendLookupTable({ lookupTable: table, authority: tableAuthority.publicKey, payer: tableAuthority.publicKey, addresses: chunk });
    runAltTransaction('CreateLookupTable', [create, extend(addresses.slice(0, ALT_EXTEND_CHUNK))]);
    for (let i = ALT_EXTEND_CHUNK; i < addresses.length; i += ALT_EXTEND_CHUNK) {
      runAltTransaction('ExtendLookupTable', [extend(addresses.slice(i, i + ALT_EXTEND_CHUNK))]);
    }
    // Entries extended in a slot are usable from the next one (InvalidAddressLookupTableIndex before).
    advance(1n);
    return table;
  };

  const dispatch = (method: string, params: Json[]): Json => {
    switch (method) {
      case 'getLatestBlockhash': {
        const { blockhash, lastValidBlockHeight } = currentBlockhash();
        return { context: context(), value: { blockhash, lastValidBlockHeight: Number(lastValidBlockHeight) } };
      }
      case 'isBlockhashValid': {
        const lv = blockhashes.get(params[0] as string);
        return { context: context(), value: lv !== undefined && height <= lv };
      }
      case 'getBlockHeight':
        if (handle.autoAdvanceBlocks > 0) advance(BigInt(handle.autoAdvanceBlocks));
        return Number(height);
      case 'getSlot':
        return Number(height);
      case 'sendTransaction':
        return sendTransaction(params);
      case 'getSignatureStatuses': {
        const sigs = params[0];
        if (!Array.isArray(sigs)) throw new RpcError(-32602, 'Invalid params: expected an array of signatures');
        return { context: context(), value: sigs.map((s) => statusOf(String(s))) };
      }
      case 'getTransaction':
        return transactionJson(String(params[0]), params[1] as { maxSupportedTransactionVersion?: number } | undefined);
      case 'getBalance':
        return { context: context(), value: Number(svm.getBalance(address(pubkeyParam(params[0]))) ?? 0n) };
      case 'getAccountInfo':
        return { context: context(), value: accountJson(pubkeyParam(params[0])) };
      case 'getMultipleAccounts': {
        const keys = params[0];
        if (!Array.isArray(keys)) throw new RpcError(-32602, 'Invalid params: expected an array of addresses');
        return { context: context(), value: keys.map((k) => accountJson(pubkeyParam(k))) };
      }
      case 'simulateTransaction':
        return simulate(params);
      case 'getTokenAccountsByOwner':
        return tokenAccountsByOwner(params);
      case 'getMinimumBalanceForRentExemption':
        return Number(svm.minimumBalanceForRentExemption(BigInt(Number(params[0] ?? 0))));
      case 'getVersion':
        return { 'solana-core': '2.2.0-litesvm-stand-in', 'feature-set': 0 };
      case 'getHealth':
        return 'ok';
      default:
        throw new RpcError(-32601, 'Method not found');
    }
  };

  const answer = (req: unknown): Json => {
    const r = req as { jsonrpc?: unknown; id?: Json; method?: unknown; params?: unknown };
    const id = r && typeof r === 'object' && 'id' in r ? (r.id ?? null) : null;
    if (!r || typeof r !== 'object' || r.jsonrpc !== '2.0' || typeof r.method !== 'string') {
      return { jsonrpc: '2.0', id, error: { code: -32600, message: 'Invalid request' } };
    }
    handle.calls.set(r.method, (handle.calls.get(r.method) ?? 0) + 1);
    try {
      const params = Array.isArray(r.params) ? (r.params as Json[]) : [];
      return { jsonrpc: '2.0', id, result: dispatch(r.method, params) };
    } catch (err) {
      if (err instanceof RpcError) {
        return { jsonrpc: '2.0', id, error: { code: err.code, message: err.message, ...(err.data === undefined ? {} : { data: err.data }) } };
      }
      return { jsonrpc: '2.0', id, error: { code: -32603, message: `Internal error: ${(err as Error).message}` } };
    }
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Json;
      try {
        const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
        body = Array.isArray(parsed) ? parsed.map(answer) : answer(parsed);
      } catch {
        body = { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } };
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const dropSubmissionsRef = { value: false };
  const handle: SolanaRpcStandIn = {
    url: `http://127.0.0.1:${port}`,
    svm,
    get dropSubmissions() {
      return dropSubmissionsRef.value;
    },
    set dropSubmissions(v: boolean) {
      dropSubmissionsRef.value = v;
    },
    processedPolls: 0,
    autoAdvanceBlocks: 0,
    beforeNextLanding: null,
    calls: new Map(),
    submissions: [],
    rejected: new Map(),
    blockHeight: () => height,
    advanceBlocks: (n) => advance(BigInt(n)),
    airdrop: (to, lamports) => {
      const r = svm.airdrop(address(to.toBase58()), toLamports(lamports));
      if (!(r instanceof TransactionMetadata)) throw new Error(`airdrop to ${to.toBase58()} failed`);
    },
    lamports: (of) => BigInt(svm.getBalance(address(of.toBase58())) ?? 0n),
    createMint: (decimals, mint = PublicKey.unique()) => {
      const data = Buffer.alloc(MintLayout.span);
      MintLayout.encode(
        {
          mintAuthorityOption: 0,
          mintAuthority: PublicKey.default,
          supply: 0n,
          decimals,
          isInitialized: true,
          freezeAuthorityOption: 0,
          freezeAuthority: PublicKey.default,
        },
        data,
      );
      writeAccount(svm, mint, data, TOKEN_PROGRAM_ID);
      return mint;
    },
    setTokenAccount: ({ mint, owner, amount, delegate }) => {
      const ata = getAssociatedTokenAddressSync(mint, owner, true);
      const data = Buffer.alloc(AccountLayout.span);
      AccountLayout.encode(
        {
          mint,
          owner,
          amount,
          delegateOption: delegate ? 1 : 0,
          delegate: delegate ?? PublicKey.default,
          state: 1,
          isNativeOption: 0,
          isNative: 0n,
          delegatedAmount: delegate ? amount : 0n,
          closeAuthorityOption: 0,
          closeAuthority: PublicKey.default,
        },
        data,
      );
      writeAccount(svm, ata, data, TOKEN_PROGRAM_ID);
      return ata;
    },
    tokenAmount: (account) => {
      const acc = svm.getAccount(address(account.toBase58()));
      if (!acc.exists) throw new Error(`no account ${account.toBase58()}`);
      return AccountLayout.decode(Buffer.from(acc.data)).amount;
    },
    createLookupTable,
    deactivateLookupTable: (table) => {
      runAltTransaction('DeactivateLookupTable', [AddressLookupTableProgram.deactivateLookupTable({ lookupTable: table, authority: tableAuthority.publicKey })]);
      advance(1n);
    },
    lookupTableAddresses: (table) => {
      const t = lookupTable(table);
      if (!t) throw new Error(`no address lookup table ${table.toBase58()}`);
      return t.state.addresses;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return handle;
}

function writeAccount(svm: LiteSVM, at: PublicKey, data: Buffer, owner: PublicKey): void {
  svm.setAccount({
    address: address(at.toBase58()),
    data: new Uint8Array(data),
    executable: false,
    lamports: toLamports(svm.minimumBalanceForRentExemption(BigInt(data.length))),
    programAddress: address(owner.toBase58()),
    space: BigInt(data.length),
  });
}

function pubkeyParam(p: Json | undefined): string {
  if (typeof p !== 'string') throw new RpcError(-32602, 'Invalid params: expected a base58 address');
  try {
    return new PublicKey(p).toBase58();
  } catch {
    throw new RpcError(-32602, `Invalid param: "${p}" is not a base58 address`);
  }
}
