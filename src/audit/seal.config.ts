// Settings of the sealer and of its own signing key, read from the environment and validated
// at start (README lists every one):
//   SEALING                 on (default) | off
//   SEAL_EVERY_EVENTS       seal after this many new events (default 1000)
//   SEAL_EVERY_SECONDS      seal after this long if anything is new (default 60)
//   SEAL_CHECK_MS           how often the sealer looks (default 1000)
//   SEAL_SIGNER             keystore (default) | aws-kms — a key of its own, never the trading key
//   SEAL_KEYSTORE_PATH, SEAL_KEYSTORE_PASSPHRASE, SEAL_KMS_KEY_ID   as KEYSTORE_* / KMS_KEY_ID
//   SEAL_ANCHOR             none (default) | solana
//   SEAL_ANCHOR_RPC_URL     Solana RPC for anchors (default SOLANA_RPC_URL)
// Without SEAL_KEYSTORE_* a development seal keystore is created under <data dir>/seal.
import { join, resolve } from 'node:path';
import { ConfigError, integer } from '../config/config.js';

type Env = Record<string, string | undefined>;

export interface SealConfig {
  enabled: boolean;
  everyEvents: number;
  everySeconds: number;
  checkMs: number;
  anchor: 'none' | 'solana';
  anchorRpcUrl: string | null;
}

export function loadSealConfig(env: Env = process.env): SealConfig {
  const problems: string[] = [];
  const text = (name: string): string | null => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? null : v.trim();
  };
  const sealing = (text('SEALING') ?? 'on').toLowerCase();
  if (!['on', 'off'].includes(sealing)) problems.push(`SEALING must be on or off (got "${env.SEALING}")`);
  const everyEvents = integer(text('SEAL_EVERY_EVENTS') ?? '1000', 'SEAL_EVERY_EVENTS', 1, 10_000_000, problems);
  const everySeconds = integer(text('SEAL_EVERY_SECONDS') ?? '60', 'SEAL_EVERY_SECONDS', 1, 86_400, problems);
  const checkMs = integer(text('SEAL_CHECK_MS') ?? '1000', 'SEAL_CHECK_MS', 10, 600_000, problems);
  const anchor = (text('SEAL_ANCHOR') ?? 'none').toLowerCase();
  if (!['none', 'solana'].includes(anchor)) problems.push(`SEAL_ANCHOR must be none or solana (got "${env.SEAL_ANCHOR}")`);
  const anchorRpcUrl = text('SEAL_ANCHOR_RPC_URL') ?? text('SOLANA_RPC_URL');
  if (anchor === 'solana' && !anchorRpcUrl) problems.push('SEAL_ANCHOR=solana needs SEAL_ANCHOR_RPC_URL (or SOLANA_RPC_URL)');
  if (anchorRpcUrl && anchor === 'solana' && !/^https?:\/\/[^\s/]+/.test(anchorRpcUrl)) {
    problems.push(`SEAL_ANCHOR_RPC_URL must be an http(s) URL (got "${anchorRpcUrl}")`);
  }
  if (problems.length) throw new ConfigError(problems);
  return { enabled: sealing === 'on', everyEvents, everySeconds, checkMs, anchor: anchor as SealConfig['anchor'], anchorRpcUrl };
}

/**
 * The environment `createSigner` reads, for the seal key: SEAL_* in place of the trading key's
 * settings (AWS region, endpoint and credentials are shared), and its development keystore in
 * a directory of its own so it never opens the trading keystore.
 */
export function sealSignerEnv(env: Env = process.env): Env {
  const dataDir = resolve(env.ARBITER_DATA_DIR?.trim() || './data');
  return {
    SIGNER: env.SEAL_SIGNER,
    KEYSTORE_PATH: env.SEAL_KEYSTORE_PATH,
    KEYSTORE_PASSPHRASE: env.SEAL_KEYSTORE_PASSPHRASE,
    KMS_KEY_ID: env.SEAL_KMS_KEY_ID,
    AWS_REGION: env.AWS_REGION,
    KMS_ENDPOINT: env.KMS_ENDPOINT,
    AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY,
    AWS_SESSION_TOKEN: env.AWS_SESSION_TOKEN,
    ARBITER_DATA_DIR: join(dataDir, 'seal'),
  };
}
