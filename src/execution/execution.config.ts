// Configuration of the execution context, read from the environment and validated at start,
// and the factory that builds the configured venue.
//
//   VENUE                              paper (default) | solana
//   SOLANA_RPC_URL                     http(s) URL of a Solana RPC node; required when VENUE=solana
//   SOLANA_PRIORITY_FEE_MICROLAMPORTS  compute unit price, integer ≥ 0 (default 1000)
//   SOLANA_COMPUTE_UNIT_LIMIT          integer 1..1400000 (default 200000)
//   SOLANA_SETTLEMENT_ADDRESS          optional: receiver of the built route transaction's transfer
//                                      (used only when no Jupiter swap transaction is given)
//   SOLANA_RPC_TIMEOUT_MS              per-request timeout, 100..120000 (default 10000)
//   SOLANA_CONFIRM_POLL_MS             confirm() poll interval, 0..10000 (default 400)
//   PAPER_SEED                         seed of the paper venue's slippage draw (default arbiter-paper)
//   PAPER_MAX_SLIPPAGE_BPS             paper fills give up 0..this many bps of the quote (default 30)
import { PublicKey } from '@solana/web3.js';
import { PaperVenue } from './paper/paper-venue.js';
import { SolanaVenue } from './solana/solana-venue.js';
import { VENUE_NAMES, type Venue, type VenueName } from './venue.port.js';

export class ExecutionConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid execution configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ExecutionConfigError';
  }
}

export interface ExecutionConfig {
  venue: VenueName;
  solana: {
    rpcUrl: string | null;
    priorityFeeMicroLamports: bigint;
    computeUnitLimit: number;
    settlementAddress: string | null;
    rpcTimeoutMs: number;
    confirmPollMs: number;
  };
  paper: { seed: string; maxSlippageBps: number };
}

type Env = Record<string, string | undefined>;

export function loadExecutionConfig(env: Env = process.env): ExecutionConfig {
  const problems: string[] = [];
  const text = (name: string): string | null => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? null : v.trim();
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = text(name);
    if (raw === null) return fallback;
    if (!/^\d+$/.test(raw)) {
      problems.push(`${name} must be a whole number (got "${raw}")`);
      return fallback;
    }
    const n = Number(raw);
    if (n < min || n > max) problems.push(`${name} must be between ${min} and ${max} (got ${raw})`);
    return n;
  };

  const venue = (text('VENUE') ?? 'paper').toLowerCase();
  if (!(VENUE_NAMES as readonly string[]).includes(venue)) problems.push(`VENUE must be ${VENUE_NAMES.join(' or ')} (got "${venue}")`);

  const rpcUrl = text('SOLANA_RPC_URL');
  if (rpcUrl !== null) {
    let ok = false;
    try {
      ok = ['http:', 'https:'].includes(new URL(rpcUrl).protocol);
    } catch {
      ok = false;
    }
    if (!ok) problems.push(`SOLANA_RPC_URL must be an http:// or https:// URL (got "${redactUrl(rpcUrl)}")`);
  } else if (venue === 'solana') {
    problems.push('VENUE=solana needs SOLANA_RPC_URL (the HTTP URL of a Solana RPC node)');
  }

  const feeRaw = text('SOLANA_PRIORITY_FEE_MICROLAMPORTS') ?? '1000';
  let priorityFee = 1000n;
  if (!/^\d+$/.test(feeRaw) || BigInt(feeRaw) > 18_446_744_073_709_551_615n) {
    problems.push(`SOLANA_PRIORITY_FEE_MICROLAMPORTS must be a whole number of micro-lamports per compute unit (got "${feeRaw}")`);
  } else {
    priorityFee = BigInt(feeRaw);
  }

  const settlement = text('SOLANA_SETTLEMENT_ADDRESS');
  if (settlement !== null) {
    try {
      new PublicKey(settlement);
    } catch {
      problems.push(`SOLANA_SETTLEMENT_ADDRESS must be a Solana address (base58) (got "${settlement}")`);
    }
  }

  const config: ExecutionConfig = {
    venue: venue as VenueName,
    solana: {
      rpcUrl,
      priorityFeeMicroLamports: priorityFee,
      computeUnitLimit: int('SOLANA_COMPUTE_UNIT_LIMIT', 200_000, 1, 1_400_000),
      settlementAddress: settlement,
      rpcTimeoutMs: int('SOLANA_RPC_TIMEOUT_MS', 10_000, 100, 120_000),
      confirmPollMs: int('SOLANA_CONFIRM_POLL_MS', 400, 0, 10_000),
    },
    paper: {
      seed: text('PAPER_SEED') ?? 'arbiter-paper',
      maxSlippageBps: int('PAPER_MAX_SLIPPAGE_BPS', 30, 0, 10_000),
    },
  };
  if (problems.length) throw new ExecutionConfigError(problems);
  return config;
}

/** Builds the venue the environment asks for; throws ExecutionConfigError naming every problem. */
export function createVenue(env: Env = process.env): Venue {
  return venueFromConfig(loadExecutionConfig(env));
}

export function venueFromConfig(config: ExecutionConfig): Venue {
  if (config.venue === 'solana') {
    return new SolanaVenue({
      rpcUrl: config.solana.rpcUrl!,
      priorityFeeMicroLamports: config.solana.priorityFeeMicroLamports,
      computeUnitLimit: config.solana.computeUnitLimit,
      settlementAddress: config.solana.settlementAddress ? new PublicKey(config.solana.settlementAddress) : undefined,
      rpcTimeoutMs: config.solana.rpcTimeoutMs,
      pollIntervalMs: config.solana.confirmPollMs,
    });
  }
  return new PaperVenue({
    seed: config.paper.seed,
    maxSlippageBps: config.paper.maxSlippageBps,
    priorityFeeMicroLamports: config.solana.priorityFeeMicroLamports,
    computeUnitLimit: config.solana.computeUnitLimit,
  });
}

/** RPC URLs often carry an API key in the path or query: keep only scheme and host. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return url.length > 12 ? `${url.slice(0, 12)}…` : url;
  }
}
