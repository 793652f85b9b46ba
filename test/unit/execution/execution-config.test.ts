import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/config.js';
import { venueFromConfig } from '../../../src/execution/execution.config.js';
import { PaperVenue } from '../../../src/execution/paper/paper-venue.js';
import { SolanaVenue } from '../../../src/execution/solana/solana-venue.js';

/** The execution section of the one configuration, and the venue it builds. */
const loadExecutionConfig = (env: Record<string, string>) => loadConfig(env).execution;
const createVenue = (env: Record<string, string>) => venueFromConfig(loadExecutionConfig(env));
const ExecutionConfigError = ConfigError;
type ExecutionConfigError = ConfigError;

describe('execution config', () => {
  it('defaults to the paper venue with the documented Solana defaults', () => {
    const c = loadExecutionConfig({});
    expect(c.venue).toBe('paper');
    expect(c.solana).toMatchObject({ rpcUrl: null, priorityFeeMicroLamports: 1000n, computeUnitLimit: 200_000 });
    expect(createVenue({})).toBeInstanceOf(PaperVenue);
  });

  it('builds the Solana venue from VENUE=solana and an RPC URL', () => {
    const env = {
      VENUE: 'solana',
      SOLANA_RPC_URL: 'http://127.0.0.1:8899',
      SOLANA_PRIORITY_FEE_MICROLAMPORTS: '25000',
      SOLANA_COMPUTE_UNIT_LIMIT: '400000',
      SOLANA_SETTLEMENT_ADDRESS: 'So11111111111111111111111111111111111111112',
    };
    expect(loadExecutionConfig(env).solana).toMatchObject({ priorityFeeMicroLamports: 25_000n, computeUnitLimit: 400_000 });
    const v = createVenue(env);
    expect(v).toBeInstanceOf(SolanaVenue);
    expect(v.name).toBe('solana');
  });

  it('names every problem at once, and never prints an RPC URL’s path (API keys live there)', () => {
    let err: unknown;
    try {
      loadExecutionConfig({
        VENUE: 'binance',
        SOLANA_RPC_URL: 'ftp://rpc.example/secret-key',
        SOLANA_PRIORITY_FEE_MICROLAMPORTS: '1.5',
        SOLANA_COMPUTE_UNIT_LIMIT: '2000000',
        SOLANA_SETTLEMENT_ADDRESS: 'nope',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ExecutionConfigError);
    const problems = (err as ExecutionConfigError).problems.join('\n');
    expect((err as ExecutionConfigError).problems).toHaveLength(5);
    expect(problems).toMatch(/VENUE must be paper or solana/);
    expect(problems).toMatch(/SOLANA_RPC_URL must be an http/);
    expect(problems).not.toMatch(/secret-key/);
    expect(problems).toMatch(/SOLANA_PRIORITY_FEE_MICROLAMPORTS/);
    expect(problems).toMatch(/SOLANA_COMPUTE_UNIT_LIMIT must be between 1 and 1400000/);
    expect(problems).toMatch(/SOLANA_SETTLEMENT_ADDRESS/);
  });

  it('VENUE=solana without SOLANA_RPC_URL says what to set', () => {
    expect(() => loadExecutionConfig({ VENUE: 'solana' })).toThrow(/VENUE=solana needs SOLANA_RPC_URL/);
  });
});
