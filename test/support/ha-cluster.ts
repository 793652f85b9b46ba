// Engine processes for the high-availability tests (test/e2e/engine-ha*.test.ts): a Solana chain
// (the JSON-RPC stand-in over litesvm) with a funded keystore, the environment every engine node
// shares, starting and stopping nodes (test/support/engine-child.ts, optionally behind a command
// prefix such as `ip netns exec <ns>`), what the lease and the log say, and the fold of the log
// that every HA run must pass.
import { PublicKey } from '@solana/web3.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { buildEventRegistry } from '../../src/event-catalog.js';
import type { RecordedEvent } from '../../src/ledger/envelope.js';
import { ENGINE_LEADER_STREAM } from '../../src/ledger/leadership/events.js';
import { tokenOfActor } from '../../src/ledger/leadership/fencing.js';
import { PostgresEventStore } from '../../src/ledger/postgres/postgres-event-store.js';
import { evolve as evolveEngine, initialEngineState } from '../../src/risk/engine-state.js';
import { loadConfig } from '../../src/config/config.js';
import { USDC } from '../../src/shared/tokens.js';
import { createKeystore } from '../../src/signing/keystore/keystore-signer.js';
import { SAGA_STREAM_PREFIX } from '../../src/trading/events.js';
import type { TestDatabase } from './db.js';
import type { SolanaRpcStandIn } from '../stand-ins/solana-rpc-server.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface EngineNode {
  id: string;
  child: ChildProcess;
  log: () => string;
}

/** The lease timings of the HA tests: a takeover within TTL + one attempt, a deadline at TTL − margin. */
export const HA_TIMINGS = { ENGINE_LEASE_TTL_MS: '3000', ENGINE_LEASE_RENEW_MS: '500', ENGINE_LEASE_ACQUIRE_MS: '500', ENGINE_LEASE_MARGIN_MS: '1000' };

/**
 * Funds a keystore's owner on the chain and returns the environment every engine node shares
 * (Solana venue, simulated market at 10 opportunities a second, HA on with HA_TIMINGS).
 */
export async function haEnvironment(db: TestDatabase, rpc: SolanaRpcStandIn, risk: Record<string, string>): Promise<{ env: Record<string, string>; owner: PublicKey }> {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-ha-'));
  const keystore = join(dir, 'keystore.json');
  const { publicKey } = await createKeystore(keystore, 'ha test passphrase', { scryptN: 1024 });
  const owner = new PublicKey(publicKey);
  rpc.processedPolls = 10;
  rpc.airdrop(owner, 1_000_000_000_000n);
  rpc.createMint(USDC.decimals, new PublicKey(USDC.mint));
  rpc.setTokenAccount({ mint: new PublicKey(USDC.mint), owner, amount: 10_000_000_000_000n });
  const env = {
    ...(process.env as Record<string, string>),
    DATABASE_URL: db.url,
    ARBITER_DATA_DIR: dir,
    KEYSTORE_PATH: keystore,
    KEYSTORE_PASSPHRASE: 'ha test passphrase',
    VENUE: 'solana',
    SOLANA_RPC_URL: rpc.url,
    SOLANA_CONFIRM_POLL_MS: '10',
    SIM_SEED: '9',
    SIM_OPPORTUNITIES_PER_MINUTE: '600',
    RISK_MAX_ORDERS_PER_MINUTE: '100000',
    RISK_MIN_PROFIT_BASE_UNITS: '0',
    ENGINE_MAX_SAGA_AGE_MS: '600000',
    ENGINE_CONCURRENCY: '4',
    ENGINE_HA: 'on',
    ...HA_TIMINGS,
    ENGINE_CHILD_LOG: 'warn',
    LOG_LEVEL: 'warn',
    SEALING: 'off',
    ...risk,
  };
  return { env, owner };
}

/** Engine nodes on one database, by id; what the lease and the log say about them. */
export class EngineCluster {
  readonly nodes = new Map<string, EngineNode>();
  readonly store: PostgresEventStore;

  constructor(
    private readonly db: TestDatabase,
    private readonly env: Record<string, string>,
  ) {
    this.store = new PostgresEventStore(db.sql, buildEventRegistry());
  }

  /** Starts a node; `prefix` runs it through another command (e.g. ['ip', 'netns', 'exec', ns]), which must exec it (same pid). */
  start(id: string, extra: Record<string, string> = {}, prefix: string[] = []): Promise<EngineNode> {
    const args = ['--import', './test/support/ts-loader.mjs', 'test/support/engine-child.ts'];
    const [cmd, ...rest] = prefix.length ? [...prefix, process.execPath, ...args] : [process.execPath, ...args];
    const child = spawn(cmd, rest, {
      cwd: root,
      env: { ...this.env, ENGINE_NODE_ID: id, ...extra },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stderr!.on('data', (d) => (out += d));
    child.stdout!.on('data', (d) => (out += d));
    const node: EngineNode = { id, child, log: () => out };
    this.nodes.set(id, node);
    return new Promise((resolve, reject) => {
      child.stdout!.on('data', (d) => String(d).includes('started') && resolve(node));
      child.on('exit', (code, signal) => {
        this.nodes.delete(id);
        reject(new Error(`engine ${id} exited early (${code ?? signal}): ${out.slice(-2000)}`));
      });
    });
  }

  stop(n: EngineNode, signal: NodeJS.Signals): Promise<void> {
    return new Promise<void>((resolve) => {
      if (n.child.exitCode !== null || n.child.signalCode !== null) return resolve();
      n.child.removeAllListeners('exit');
      n.child.on('exit', () => resolve());
      this.nodes.delete(n.id);
      n.child.kill(signal);
    });
  }

  /** SIGCONT + SIGKILL to every node still running, by its pid (afterAll, even after a failure). */
  killAll(): void {
    for (const n of this.nodes.values()) {
      n.child.kill('SIGCONT');
      n.child.kill('SIGKILL');
    }
  }

  async lease(): Promise<{ holder: string; epoch: bigint }> {
    const { rows } = await this.db.sql.query<{ holder: string; epoch: string }>('SELECT holder, epoch::text AS epoch FROM engine_lease WHERE id = 1');
    return { holder: rows[0].holder, epoch: BigInt(rows[0].epoch) };
  }

  /** The node holding the lease now. */
  async leader(): Promise<EngineNode> {
    const n = this.nodes.get((await this.lease()).holder);
    expect(n, 'the lease is held by a running node').toBeDefined();
    return n!;
  }

  async leaderToken(): Promise<bigint> {
    const [last] = await this.store.readStream(ENGINE_LEADER_STREAM, { direction: 'backward', maxCount: 1 });
    return last ? last.revision : -1n;
  }

  /** The first saga event written under a token greater than `after`, waited for up to `ms`. */
  async tradingUnder(after: bigint, ms: number): Promise<{ token: bigint; at: number } | null> {
    const deadline = Date.now() + ms;
    let from = await this.store.headPosition();
    while (Date.now() < deadline) {
      const page = await this.store.readAll({ after: from, maxCount: 1000, filter: { streamPrefix: SAGA_STREAM_PREFIX } });
      for (const e of page) {
        const token = tokenOfActor(e.metadata.actor);
        if (token !== null && token > after) return { token, at: Date.now() };
      }
      if (page.length) from = page[page.length - 1].position;
      await sleep(50);
    }
    return null;
  }

  /** Waits until node `n` wrote that it stepped down, and returns the line. */
  async steppedDown(n: EngineNode, ms = 5_000): Promise<string | null> {
    for (let i = 0; i * 50 < ms; i++) {
      const m = /\S+ steps down: [^\n]*/.exec(n.log());
      if (m) return m[0];
      await sleep(50);
    }
    return null;
  }

  async readLog(): Promise<RecordedEvent[]> {
    const all: RecordedEvent[] = [];
    for (let after = 0n; ; ) {
      const page = await this.store.readAll({ after, maxCount: 5000 });
      if (!page.length) return all;
      all.push(...page);
      after = page[page.length - 1].position;
    }
  }
}

export function sagaStreams(log: RecordedEvent[]): Map<string, RecordedEvent[]> {
  const byStream = new Map<string, RecordedEvent[]>();
  for (const e of log) if (e.streamId.startsWith(SAGA_STREAM_PREFIX)) byStream.set(e.streamId, [...(byStream.get(e.streamId) ?? []), e]);
  return byStream;
}

/**
 * The fold every HA run must pass: each engine event carries the token of the leadership in force
 * where it stands in the log (none written by a deposed leader), the engine's exposure never went
 * above `maxExposure` at any prefix, and no saga has two signatures or two submissions. Returns
 * the last token and how many engine events there were.
 */
export function assertLeadershipInvariants(log: RecordedEvent[], env: Record<string, string>, maxExposure: bigint): { token: bigint; engineEvents: number } {
  let token = -1n;
  let engineEvents = 0;
  let engine = initialEngineState(loadConfig(env).risk.defaultLimits);
  for (const e of log) {
    if (e.streamId === ENGINE_LEADER_STREAM) token = e.revision;
    const carried = tokenOfActor(e.metadata.actor);
    if (carried !== null) {
      engineEvents++;
      expect(carried, `${e.type} at ${e.position}`).toBe(token);
    }
    engine = evolveEngine(engine, e);
    for (const [mint, usd] of Object.entries(engine.exposureByToken)) expect(usd, `exposure of ${mint} after ${e.position}`).toBeLessThanOrEqual(maxExposure);
  }
  for (const [stream, events] of sagaStreams(log)) {
    const count = (t: string) => events.filter((e) => e.type === t).length;
    expect(count('TransactionSigned'), stream).toBeLessThanOrEqual(1);
    expect(count('TransactionSubmitted'), stream).toBeLessThanOrEqual(1);
  }
  return { token, engineEvents };
}
