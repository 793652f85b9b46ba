// One typed configuration object, read from the environment once at start and validated as a
// whole: every setting of every context is declared here (ENV_SCHEMA, one zod schema per
// variable, with its default), `loadConfig` reports every problem at once, each naming its
// variable, and the app (main.ts) and the CLI both go through it. Modules never read
// process.env: they get their section (ARBITER_CONFIG, or their own token) injected.
// README's configuration tables list exactly these variables with these defaults; a test
// (test/unit/config/readme-tables.test.ts) holds the two together.
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import bs58 from 'bs58';
import { z } from 'zod';
import { DEFAULT_PAIRS, FEED_ID_RE, normaliseFeedId, type TradingPair } from '../shared/tokens.js';
import { CIRCUIT_BREAKER_FIELDS, RISK_LIMIT_FIELDS, type RiskLimitField } from './risk-limit-fields.js';
import { bigint, bool, decimal, httpUrl, httpUrlOr, int, list, oneOf, secret, text, textOr } from './settings.js';

export { redactUrl } from './settings.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** The registered venues: a new venue is its folder, its name here and its case in createVenue (execution.config.ts). */
export const VENUE_NAMES = ['paper', 'solana'] as const;
export type VenueName = (typeof VENUE_NAMES)[number];

export const HERMES_PUBLIC_URL = 'https://hermes.pyth.network';
export const JUPITER_PUBLIC_URL = 'https://lite-api.jup.ag/swap/v1';
export const JUPITER_BUILD_PUBLIC_URL = 'https://api.jup.ag/swap/v2';

/** TRUST_PROXY: unset = none; "1".."10" = hops; else addresses or CIDR ranges, comma-separated. */
function trustProxySetting(raw: string | null, problems: string[]): false | string[] | number {
  if (raw === null || raw.trim() === '') return false;
  if (/^\d+$/.test(raw.trim())) {
    const hops = Number(raw.trim());
    if (hops < 1 || hops > 10) problems.push(`TRUST_PROXY as a number of proxy hops must be 1–10 (got ${raw.trim()})`);
    return hops;
  }
  const parts = raw.split(',').map((p) => p.trim()).filter(Boolean);
  const bad = parts.filter((p) => {
    const [addr, bits, extra] = p.split('/');
    const family = isIP(addr);
    if (!family || extra !== undefined) return true;
    if (bits === undefined) return false;
    return !/^\d{1,3}$/.test(bits) || Number(bits) > (family === 4 ? 32 : 128);
  });
  if (!parts.length || bad.length) {
    problems.push(
      `TRUST_PROXY must be the proxies' addresses or CIDR ranges, comma-separated (e.g. 10.0.0.5,10.1.0.0/16), or a number of hops 1–10${bad.length ? `; not an address or range: ${bad.slice(0, 5).map((b) => `"${b.slice(0, 60)}"`).join(', ')}` : ''}`,
    );
  }
  return parts;
}

const riskSetting = (f: RiskLimitField) => bigint(f.default, f.min, f.max);

// ---------------------------------------------------------------------------------------------
// The declaration: every environment variable Arbiter reads, by section (README's tables).
// ---------------------------------------------------------------------------------------------
export const ENV_SECTIONS = {
  core: {
    DATABASE_URL: text(),
    EVENTSTORE_URL: text(),
    ARBITER_DATA_DIR: textOr('./data'),
    PORT: int(3000, 0, 65535),
    HOST: textOr('0.0.0.0'),
    ARBITER_CONSOLE_DIR: text(),
    LOG_LEVEL: oneOf(['debug', 'info', 'warn', 'error'], 'info'),
    LOG_FORMAT: oneOf(['auto', 'json', 'pretty'], 'auto'),
    NODE_ENV: text(),
    ARBITER_ADMIN_KEY_FILE: text(),
    DATABASE_STARTUP_TIMEOUT_MS: int(60_000, 0, 3_600_000),
    DATABASE_CONNECT_TIMEOUT_MS: int(5_000, 100, 600_000),
    DATABASE_QUERY_TIMEOUT_MS: int(30_000, 100, 3_600_000),
    DATABASE_HEALTH_TIMEOUT_MS: int(2_000, 50, 60_000),
    SHUTDOWN_TIMEOUT_MS: int(30_000, 100, 3_600_000),
  },
  api: {
    RATE_LIMIT_PER_KEY_PER_MINUTE: int(600, 0, 1_000_000),
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: int(120, 0, 1_000_000),
    REDIS_URL: text(),
    REDIS_KEY_PREFIX: textOr('arbiter:rate-limit:'),
    METRICS_TOKEN: secret(),
    IDEMPOTENCY_MAX_RECORDS_PER_KEY: int(1000, 1, 1_000_000),
    GRAPHQL_TIME_BUDGET_MS: int(10_000, 10, 600_000),
    GRAPHQL_MAX_RESPONSE_BYTES: int(16 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    TRUST_PROXY: text(),
  },
  engine: {
    ENGINE_AUTOSTART: bool(true),
    ENGINE_CONCURRENCY: int(4, 1, 64),
    ENGINE_REDUCING_SALE_EVERY_MS: int(5_000, 100, 3_600_000),
    ENGINE_MAX_SAGA_AGE_MS: int(30_000, 100, 3_600_000),
    ENGINE_CONFIRM_TIMEOUT_MS: int(90_000, 100, 3_600_000),
    ENGINE_DRAIN_TIMEOUT_MS: int(10_000, 0, 3_600_000),
  },
  ha: {
    ENGINE_HA: oneOf(['auto', 'on', 'off'], 'auto'),
    ENGINE_HA_ALLOW_UNFENCED: bool(false),
    ENGINE_NODE_ID: text(),
    ENGINE_LEASE_TTL_MS: int(5_000, 500, 600_000),
    ENGINE_LEASE_RENEW_MS: int(1_000, 50, 600_000),
    ENGINE_LEASE_ACQUIRE_MS: int(1_000, 50, 600_000),
    ENGINE_LEASE_MARGIN_MS: int(1_000, 0, 600_000),
  },
  market: {
    MARKET: oneOf(['simulated', 'live'], 'simulated'),
    SIM_SEED: int(42, 0, 2 ** 32 - 1),
    SIM_OPPORTUNITIES_PER_MINUTE: decimal(30, 0, 6_000),
    HERMES_URL: httpUrlOr(HERMES_PUBLIC_URL),
    PYTH_FEED_IDS: list(),
    JUPITER_URL: httpUrlOr(JUPITER_PUBLIC_URL),
    JUPITER_API_KEY: text({ secret: true }),
    JUPITER_BUILD_URL: httpUrlOr(JUPITER_BUILD_PUBLIC_URL),
    MARKET_SCANS_PER_MINUTE: decimal(6, 0, 600),
    MARKET_SLIPPAGE_BPS: int(50, 0, 10_000),
    MARKET_HTTP_TIMEOUT_MS: int(5_000, 100, 120_000),
    MARKET_HTTP_RETRIES: int(2, 0, 10),
  },
  risk: Object.fromEntries(
    [...Object.values(RISK_LIMIT_FIELDS), ...Object.values(CIRCUIT_BREAKER_FIELDS)].map((f) => [f.env, riskSetting(f)]),
  ) as Record<string, ReturnType<typeof riskSetting>>,
  compliance: {
    COMPLIANCE_SANCTIONS_FILE: text(),
    COMPLIANCE_SANCTIONS_WATCH: bool(false),
    COMPLIANCE_LARGE_TX_THRESHOLD_USD_MICROS: bigint(10_000_000_000n, 1n),
    COMPLIANCE_VELOCITY_WINDOW_SECONDS: bigint(60n, 1n, 30n * 86_400n),
    COMPLIANCE_VELOCITY_MAX_COUNT: bigint(120n, 1n, 1_000_000n),
    COMPLIANCE_VELOCITY_MAX_NOTIONAL_USD_MICROS: bigint(100_000_000_000n, 1n),
    COMPLIANCE_STRUCTURING_WINDOW_SECONDS: bigint(86_400n, 1n, 30n * 86_400n),
    COMPLIANCE_STRUCTURING_BAND_BPS: bigint(1_000n, 1n, 10_000n),
    // One trade is not a pattern.
    COMPLIANCE_STRUCTURING_MIN_COUNT: bigint(3n, 2n, 1_000_000n),
  },
  audits: {
    AUDIT_POINT_IN_TIME_TTL_SECONDS: int(600, 10, 86_400),
    AUDIT_POINT_IN_TIME_MAX: int(12, 1, 200),
  },
  signing: {
    SIGNER: oneOf(['keystore', 'aws-kms'], 'keystore', { kms: 'aws-kms' }),
    KEYSTORE_PATH: text(),
    KEYSTORE_PASSPHRASE: secret(),
    KMS_KEY_ID: text(),
    AWS_REGION: text(),
    KMS_ENDPOINT: httpUrl(),
    AWS_ACCESS_KEY_ID: text(),
    AWS_SECRET_ACCESS_KEY: secret(),
    AWS_SESSION_TOKEN: secret(),
  },
  sealing: {
    SEALING: oneOf(['on', 'off'], 'on'),
    SEAL_EVERY_EVENTS: int(1000, 1, 10_000_000),
    SEAL_EVERY_SECONDS: int(60, 1, 86_400),
    SEAL_CHECK_MS: int(1000, 10, 600_000),
    SEAL_SIGNER: oneOf(['keystore', 'aws-kms'], 'keystore', { kms: 'aws-kms' }),
    SEAL_KEYSTORE_PATH: text(),
    SEAL_KEYSTORE_PASSPHRASE: secret(),
    SEAL_KMS_KEY_ID: text(),
    SEAL_ANCHOR: oneOf(['none', 'solana'], 'none'),
    SEAL_ANCHOR_RPC_URL: httpUrl(),
  },
  execution: {
    VENUE: oneOf(VENUE_NAMES, 'paper'),
    SOLANA_RPC_URL: httpUrl(),
    SOLANA_PRIORITY_FEE_MICROLAMPORTS: bigint(1000n, 0n, 18_446_744_073_709_551_615n),
    SOLANA_COMPUTE_UNIT_LIMIT: int(200_000, 1, 1_400_000),
    SOLANA_SETTLEMENT_ADDRESS: text(),
    SOLANA_RPC_TIMEOUT_MS: int(10_000, 100, 120_000),
    SOLANA_CONFIRM_POLL_MS: int(400, 0, 10_000),
    SOLANA_COMPUTE_UNIT_MARGIN_PCT: int(20, 0, 500),
    SOLANA_LOOKUP_TABLE_TTL_MS: int(60_000, 0, 3_600_000),
    RECONCILE_INTERVAL_SECONDS: int(300, 0, 86_400),
    RECONCILE_TOLERANCE_LAMPORTS: bigint(10_000_000n, 0n, 18_446_744_073_709_551_615n),
    RECONCILE_TOLERANCE_BASE_UNITS: bigint(0n, 0n, 18_446_744_073_709_551_615n),
    RECONCILE_TOLERANCES: list(),
    PAPER_SEED: textOr('arbiter-paper'),
    PAPER_MAX_SLIPPAGE_BPS: int(30, 0, 10_000),
    PAPER_LEG1_SURPLUS_BPS: int(0, 0, 10_000),
  },
  notifications: {
    WEBHOOK_DELIVERY: bool(true),
    WEBHOOK_ALLOWED_HOSTS: list(),
    WEBHOOK_TIMEOUT_MS: int(5_000, 100, 60_000),
    WEBHOOK_MAX_ATTEMPTS: int(8, 1, 1000),
    WEBHOOK_RETRY_BASE_MS: int(1000, 1, 3_600_000),
    WEBHOOK_RETRY_MAX_MS: int(300_000, 1, 86_400_000),
  },
};

type Sections = typeof ENV_SECTIONS;
// The RISK_* settings come from a table (one shape for all of them) and are read by name below.
type Flat = { [S in Exclude<keyof Sections, 'risk'>]: { [K in keyof Sections[S]]: Sections[S][K] extends z.ZodType ? z.output<Sections[S][K]> : never } }[Exclude<keyof Sections, 'risk'>];
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
type EnvValues = UnionToIntersection<Flat>;

/** Every variable of the declaration, flat: name → schema. */
export const ENV_SCHEMA: Record<string, z.ZodType> = Object.assign({}, ...Object.values(ENV_SECTIONS));

// ---------------------------------------------------------------------------------------------
// The typed object the modules see, section by section.
// ---------------------------------------------------------------------------------------------
export interface ApiSettings {
  /** redis:// URL of the shared rate-limit store; null = in-memory (per process). */
  redisUrl: string | null;
  /** Prefix of the rate-limit keys in Redis (several deployments may share one server). */
  redisKeyPrefix: string;
  /** Requests per minute per API key; 0 = no limit. */
  rateLimitPerKeyPerMinute: number;
  /** Requests per minute per client address for requests without a valid key; 0 = no limit. */
  rateLimitAnonymousPerMinute: number;
  /** Bearer token /metrics asks for; null = open (with a warning when bound to a public address). */
  metricsToken: string | null;
  /** Replayable Idempotency-Key answers kept per API key (older ones are dropped first). */
  idempotencyMaxRecordsPerKey: number;
  /** Wall-clock budget of one GraphQL request. */
  graphqlTimeBudgetMs: number;
  /** Largest GraphQL response body sent. */
  graphqlMaxResponseBytes: number;
  /**
   * Reverse proxies whose X-Forwarded-For is believed (Fastify's trustProxy): their addresses or
   * CIDR ranges, or a number of hops; false = the peer's address is the client's.
   */
  trustProxy: false | string[] | number;
}

export interface MarketSettings {
  mode: 'simulated' | 'live';
  hermesUrl: string;
  jupiterUrl: string;
  jupiterApiKey: string | null;
  /** Swap API v2 base (GET /build), used when jupiterApiKey is set. */
  jupiterBuildUrl: string;
  pythFeedIds: string[];
  pairs: readonly TradingPair[];
  simSeed: number;
  simOpportunitiesPerMinute: number;
  scansPerMinute: number;
  slippageBps: number;
  httpTimeoutMs: number;
  httpRetries: number;
}

/** The risk limits in force before any RiskLimitsChanged event (risk's RiskLimits, structurally). */
export interface RiskLimitSettings {
  maxPriceAgeSeconds: number;
  maxConfidenceBps: number;
  maxPriceDeviationBps: number;
  maxSlippageBps: number;
  minProfitBaseUnits: bigint;
  maxNotionalPerTradeUsdMicros: bigint;
  maxExposurePerTokenUsdMicros: bigint;
  dailyLossLimitUsdMicros: bigint;
  maxOrdersPerMinute: number;
  circuitBreaker: { consecutiveFailedFills: number; deviationSpikeBps: number };
}

export interface ComplianceSettings {
  /** Absolute path of the sanctions list; null = no list configured (nothing is sanctioned). */
  sanctionsFile: string | null;
  /** Reload the list when the file changes (COMPLIANCE_SANCTIONS_WATCH=true). */
  watchSanctionsFile: boolean;
  /** The screening rules' thresholds (compliance's ComplianceRulesConfig); money in USD micro-units. */
  rules: {
    largeTxThresholdUsdMicros: bigint;
    velocityWindowSeconds: number;
    velocityMaxCount: number;
    velocityMaxNotionalUsdMicros: bigint;
    structuringWindowSeconds: number;
    structuringBandBps: number;
    structuringMinCount: number;
  };
}

export interface ExecutionSettings {
  venue: VenueName;
  solana: {
    rpcUrl: string | null;
    priorityFeeMicroLamports: bigint;
    computeUnitLimit: number;
    settlementAddress: string | null;
    rpcTimeoutMs: number;
    confirmPollMs: number;
    /** A round trip asks for its simulated units plus this percentage (SOLANA_COMPUTE_UNIT_MARGIN_PCT). */
    computeUnitMarginPct: number;
    /** How long a fetched address lookup table is reused (SOLANA_LOOKUP_TABLE_TTL_MS). */
    lookupTableTtlMs: number;
  };
  /** leg1SurplusBps: what a paper round trip's leg 1 delivers beyond what leg 2 spends (inventory), in bps of leg 2's input. */
  paper: { seed: string; maxSlippageBps: number; leg1SurplusBps: number };
  /** Comparing the ledger's balances with the chain (RECONCILE_*; docs/decisions/0018). */
  reconciliation: {
    /** At start and then this often; 0 = never (RECONCILE_INTERVAL_SECONDS). */
    intervalSeconds: number;
    /** For SOL: the owner's lamports plus its wrapped SOL (RECONCILE_TOLERANCE_LAMPORTS). */
    toleranceLamports: bigint;
    /** For every other mint (RECONCILE_TOLERANCE_BASE_UNITS). */
    toleranceBaseUnits: bigint;
    /** Per mint, overriding both (RECONCILE_TOLERANCES=mint:units,…). */
    toleranceByMint: ReadonlyMap<string, bigint>;
  };
}

export interface TradingSettings {
  /** Run the engine loop at start (ENGINE_AUTOSTART, default true). */
  autostart: boolean;
  /** Sagas not yet signed are closed when older than this (ENGINE_MAX_SAGA_AGE_MS). */
  maxSagaAgeMs: number;
  /** How long confirm() waits before the saga is left for a later attempt (ENGINE_CONFIRM_TIMEOUT_MS). */
  confirmTimeoutMs: number;
  /** On SIGTERM, how long sagas in flight may go on towards their end before they stop at the next safe point (ENGINE_DRAIN_TIMEOUT_MS). */
  drainTimeoutMs: number;
  /** Sagas run at once (ENGINE_CONCURRENCY). */
  concurrency: number;
  /** While REDUCING, how often the engine starts sales of inventory no open sale holds (ENGINE_REDUCING_SALE_EVERY_MS). */
  reducingSaleEveryMs: number;
  /** From the execution settings (SOLANA_PRIORITY_FEE_MICROLAMPORTS, SOLANA_COMPUTE_UNIT_LIMIT): what risk prices fees at. */
  priorityFeeMicroLamports: bigint;
  computeUnitLimit: bigint;
}

export interface AuditSettings {
  /** How long a point-in-time read model is kept for further questions (AUDIT_POINT_IN_TIME_TTL_SECONDS). */
  pointInTimeTtlMs: number;
  /** Point-in-time generations kept at once (AUDIT_POINT_IN_TIME_MAX). */
  pointInTimeMax: number;
}

/** Which signer to open and with what (SIGNER, KEYSTORE_*, KMS_*, AWS_*; or SEAL_* for the seal key). */
export type SignerSettings =
  | {
      kind: 'keystore';
      /** Where the development keystore goes when no path is given. */
      dataDir: string;
      /** An explicit keystore path (must exist), or null for <dataDir>/keystore.json. */
      keystorePath: string | null;
      passphrase: string | null;
      /** Set but unused (SIGNER=keystore with KMS_KEY_ID): the start-up log says so. */
      kmsKeyId: string | null;
    }
  | {
      kind: 'aws-kms';
      keyId: string;
      region: string;
      endpoint: string | null;
      credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string | null } | null;
      /** Set but unused (KEYSTORE_PATH or KEYSTORE_PASSPHRASE with SIGNER=aws-kms). */
      keystoreIgnored: boolean;
    };

export interface SealSettings {
  enabled: boolean;
  everyEvents: number;
  everySeconds: number;
  checkMs: number;
  anchor: 'none' | 'solana';
  /** SEAL_ANCHOR_RPC_URL, else SOLANA_RPC_URL (also what `verify --digest` checks anchors with). */
  anchorRpcUrl: string | null;
  /** The seal key's own signer; its development keystore lives under <data dir>/seal. */
  signer: SignerSettings;
}

export interface NotificationSettings {
  /** Run the delivery worker in this process (WEBHOOK_DELIVERY, default true). */
  delivery: boolean;
  /** Hosts subscriptions may point at (WEBHOOK_ALLOWED_HOSTS); null = any host, refused when production. */
  allowedHosts: string[] | null;
  /** NODE_ENV=production: an allow-list is required before a subscription is accepted. */
  production: boolean;
  /** Per request (WEBHOOK_TIMEOUT_MS). */
  timeoutMs: number;
  retry: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number };
}

/** High availability: one active engine, hot standbys (README: High availability). */
export interface HaSettings {
  /** Whether this node competes for the engine lease (ENGINE_HA: auto = on with the PostgreSQL event store). */
  enabled: boolean;
  /** The lease and fencing token hold, but the event store cannot check the fence (EventStoreDB, opted in). */
  unfenced: boolean;
  /** This node's name in the lease and in EngineLeadershipAcquired (ENGINE_NODE_ID, else host:pid). */
  nodeId: string;
  leaseTtlMs: number;
  renewMs: number;
  acquireMs: number;
  /** The leader stops acting this long before its lease would expire (clock rate drift, pauses). */
  marginMs: number;
}

export interface ArbiterConfig {
  /** PostgreSQL for the event store (unless EVENTSTORE_URL) and the read models; absent = embedded PGlite. */
  databaseUrl: string | null;
  /** esdb:// connection string; when set, events go to EventStoreDB, read models stay in PostgreSQL. */
  eventStoreUrl: string | null;
  /** Where the embedded PostgreSQL (PGlite) keeps its files. */
  dataDir: string;
  port: number;
  host: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** auto: JSON lines unless stdout is a terminal; json; pretty (LOG_FORMAT). */
  logFormat: 'auto' | 'json' | 'pretty';
  /** NODE_ENV=production. */
  production: boolean;
  /** ARBITER_CONSOLE_DIR, or null for dist/console beside the code. */
  consoleDir: string | null;
  /** Where the embedded default writes its first-run admin key. */
  adminKeyFile: string;
  /** How the PostgreSQL client bounds its waits (README: Configuration, Database loss). */
  database: {
    /** Opening a connection, or waiting for a free one (DATABASE_CONNECT_TIMEOUT_MS). */
    connectTimeoutMs: number;
    /** One query, client-side: a frozen server answers nothing (DATABASE_QUERY_TIMEOUT_MS). */
    queryTimeoutMs: number;
    /** One health check: /ready's checks and the availability probe (DATABASE_HEALTH_TIMEOUT_MS). */
    healthTimeoutMs: number;
    /** How long start-up waits for the database to answer (DATABASE_STARTUP_TIMEOUT_MS; 0 = not at all). */
    startupTimeoutMs: number;
  };
  /** After SIGTERM the process exits within this, whatever is still running (SHUTDOWN_TIMEOUT_MS). */
  shutdownTimeoutMs: number;
  api: ApiSettings;
  trading: TradingSettings;
  ha: HaSettings;
  market: MarketSettings;
  risk: { defaultLimits: RiskLimitSettings };
  compliance: ComplianceSettings;
  audit: AuditSettings;
  signer: SignerSettings;
  seal: SealSettings;
  execution: ExecutionSettings;
  notifications: NotificationSettings;
}

type Env = Record<string, string | undefined>;

/**
 * Reads and checks every setting. Throws ConfigError listing every problem, each starting with
 * the variable's name; never a stack trace for the user to read.
 */
export function loadConfig(env: Env): ArbiterConfig {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(ENV_SCHEMA)) {
    const r = schema.safeParse(env[name]);
    if (r.success) values[name] = r.data;
    else for (const issue of r.error.issues) problems.push(`${name} ${issue.message}`);
  }
  const bad = (name: string) => problems.some((p) => p.startsWith(`${name} `));
  const v = values as EnvValues;

  // Checks across settings, and those a single schema cannot say.
  if (v.DATABASE_URL && !/^postgres(ql)?:\/\//.test(v.DATABASE_URL)) problems.push(`DATABASE_URL must be a postgres:// or postgresql:// URL (got "${redact(v.DATABASE_URL)}")`);
  if (v.EVENTSTORE_URL && !/^(esdb|esdb\+discover|kurrentdb|kdb):\/\//.test(v.EVENTSTORE_URL)) problems.push(`EVENTSTORE_URL must be an esdb:// connection string (got "${redact(v.EVENTSTORE_URL)}")`);
  if (v.EVENTSTORE_URL && !v.DATABASE_URL) problems.push('EVENTSTORE_URL is set but DATABASE_URL is not: read models need PostgreSQL (set DATABASE_URL)');
  const trustProxy = trustProxySetting(v.TRUST_PROXY, problems);
  if (v.REDIS_URL && !/^rediss?:\/\/[^\s]+$/.test(v.REDIS_URL)) problems.push(`REDIS_URL must be a redis:// or rediss:// URL (got "${redact(v.REDIS_URL)}")`);
  if (!bad('REDIS_KEY_PREFIX') && !/^[\x21-\x7e]{1,100}$/.test(v.REDIS_KEY_PREFIX)) problems.push('REDIS_KEY_PREFIX must be 1–100 visible ASCII characters');
  if (v.METRICS_TOKEN !== null && v.METRICS_TOKEN !== undefined && !/^[\x21-\x7e]{16,512}$/.test(v.METRICS_TOKEN)) {
    problems.push('METRICS_TOKEN must be 16–512 visible ASCII characters (e.g. `openssl rand -hex 32`)');
  }
  let pythFeedIds = [...new Set(DEFAULT_PAIRS.flatMap((p) => [p.a.pythFeedId, p.b.pythFeedId]))];
  if (v.PYTH_FEED_IDS) {
    const ids = v.PYTH_FEED_IDS;
    const wrong = ids.filter((id) => !FEED_ID_RE.test(id));
    if (ids.length === 0 || wrong.length) problems.push(`PYTH_FEED_IDS must be comma-separated Pyth feed ids of 64 hex digits (bad: ${wrong.join(', ') || 'none given'})`);
    pythFeedIds = [...new Set(ids.map(normaliseFeedId))];
  }
  if (v.COMPLIANCE_SANCTIONS_WATCH && !v.COMPLIANCE_SANCTIONS_FILE) problems.push('COMPLIANCE_SANCTIONS_WATCH is true but COMPLIANCE_SANCTIONS_FILE is not set: set the file to watch');
  if (v.VENUE === 'solana' && !v.SOLANA_RPC_URL && !bad('SOLANA_RPC_URL')) problems.push('VENUE=solana needs SOLANA_RPC_URL (the HTTP URL of a Solana RPC node)');
  if (v.SOLANA_SETTLEMENT_ADDRESS && !isSolanaAddress(v.SOLANA_SETTLEMENT_ADDRESS)) problems.push(`SOLANA_SETTLEMENT_ADDRESS must be a Solana address (base58) (got "${v.SOLANA_SETTLEMENT_ADDRESS}")`);
  for (const h of v.WEBHOOK_ALLOWED_HOSTS ?? []) {
    if (!/^(\*\.)?[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:]+\]$/.test(h)) problems.push(`WEBHOOK_ALLOWED_HOSTS: "${h}" is not a host name, *.domain pattern, IPv4 address or [IPv6] address`);
  }
  if (!bad('WEBHOOK_RETRY_MAX_MS') && !bad('WEBHOOK_RETRY_BASE_MS') && v.WEBHOOK_RETRY_MAX_MS < v.WEBHOOK_RETRY_BASE_MS) problems.push('WEBHOOK_RETRY_MAX_MS must be at least WEBHOOK_RETRY_BASE_MS');
  const spike = CIRCUIT_BREAKER_FIELDS.deviationSpikeBps.env;
  const deviation = RISK_LIMIT_FIELDS.maxPriceDeviationBps.env;
  if (!bad(spike) && !bad(deviation) && (values[spike] as bigint) < (values[deviation] as bigint)) {
    // A spike threshold below the ordinary limit would pause the engine on trades that the
    // deviation check already rejects as routine.
    problems.push(`${spike} (${values[spike]}) must be at least ${deviation} (${values[deviation]}): a spike is a deviation beyond the ordinary limit`);
  }
  // HA: the lease lives in PostgreSQL; the fence needs the event store there too.
  const haEnabled = v.ENGINE_HA === 'on' || (v.ENGINE_HA === 'auto' && !!v.DATABASE_URL && !v.EVENTSTORE_URL);
  if (v.ENGINE_HA === 'on' && !v.DATABASE_URL) problems.push('ENGINE_HA=on needs DATABASE_URL (the lease lives in PostgreSQL; the embedded PGlite serves one process only)');
  if (v.ENGINE_HA === 'on' && v.EVENTSTORE_URL && !v.ENGINE_HA_ALLOW_UNFENCED) {
    problems.push(
      'ENGINE_HA=on with EVENTSTORE_URL cannot fence a deposed leader (EventStoreDB has no cross-stream check): set ENGINE_HA_ALLOW_UNFENCED=true to run with the lease and self-fencing only (docs/decisions/0011), or ENGINE_HA=off',
    );
  }
  if (!bad('ENGINE_LEASE_TTL_MS') && !bad('ENGINE_LEASE_RENEW_MS') && !bad('ENGINE_LEASE_MARGIN_MS') && v.ENGINE_LEASE_RENEW_MS + v.ENGINE_LEASE_MARGIN_MS >= v.ENGINE_LEASE_TTL_MS) {
    problems.push(
      `ENGINE_LEASE_TTL_MS (${v.ENGINE_LEASE_TTL_MS}) must be more than ENGINE_LEASE_RENEW_MS (${v.ENGINE_LEASE_RENEW_MS}) + ENGINE_LEASE_MARGIN_MS (${v.ENGINE_LEASE_MARGIN_MS}): a leader must get to renew before it fences itself`,
    );
  }
  if (v.ENGINE_NODE_ID && !/^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,99}$/.test(v.ENGINE_NODE_ID)) problems.push('ENGINE_NODE_ID must be 1–100 letters, digits and _ . : @ -');
  const toleranceByMint = new Map<string, bigint>();
  for (const entry of v.RECONCILE_TOLERANCES ?? []) {
    const [mint, amount, extra] = entry.split(':').map((x) => x.trim());
    if (extra !== undefined || !mint || !isSolanaAddress(mint) || !amount || !/^\d+$/.test(amount) || BigInt(amount) > 18_446_744_073_709_551_615n) {
      problems.push(`RECONCILE_TOLERANCES must be comma-separated mint:base_units pairs (e.g. EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v:1000000); bad entry "${entry.slice(0, 120)}"`);
    } else if (toleranceByMint.has(mint)) {
      problems.push(`RECONCILE_TOLERANCES names mint ${mint} twice`);
    } else {
      toleranceByMint.set(mint, BigInt(amount));
    }
  }
  const anchorRpcUrl = v.SEAL_ANCHOR_RPC_URL ?? v.SOLANA_RPC_URL ?? null;
  if (v.SEALING === 'on' && v.SEAL_ANCHOR === 'solana' && !anchorRpcUrl && !bad('SEAL_ANCHOR_RPC_URL') && !bad('SOLANA_RPC_URL')) problems.push('SEAL_ANCHOR=solana needs SEAL_ANCHOR_RPC_URL (or SOLANA_RPC_URL)');

  const dataDir = resolve(v.ARBITER_DATA_DIR);
  const signer = signerSettings(
    'SIGNER',
    { kind: v.SIGNER, keystorePath: v.KEYSTORE_PATH, passphrase: v.KEYSTORE_PASSPHRASE, kmsKeyId: v.KMS_KEY_ID, dataDir, names: { path: 'KEYSTORE_PATH', passphrase: 'KEYSTORE_PASSPHRASE', keyId: 'KMS_KEY_ID' } },
    v,
    problems,
  );
  const sealSigner = signerSettings(
    'SEAL_SIGNER',
    { kind: v.SEAL_SIGNER, keystorePath: v.SEAL_KEYSTORE_PATH, passphrase: v.SEAL_KEYSTORE_PASSPHRASE, kmsKeyId: v.SEAL_KMS_KEY_ID, dataDir: join(dataDir, 'seal'), names: { path: 'SEAL_KEYSTORE_PATH', passphrase: 'SEAL_KEYSTORE_PASSPHRASE', keyId: 'SEAL_KMS_KEY_ID' } },
    v,
    v.SEALING === 'on' ? problems : [],
  );
  if (problems.length) throw new ConfigError([...new Set(problems)]);

  const risk = (f: RiskLimitField) => values[f.env] as bigint;
  return {
    databaseUrl: v.DATABASE_URL,
    eventStoreUrl: v.EVENTSTORE_URL,
    dataDir,
    port: v.PORT,
    host: v.HOST,
    logLevel: v.LOG_LEVEL,
    logFormat: v.LOG_FORMAT,
    production: v.NODE_ENV === 'production',
    consoleDir: v.ARBITER_CONSOLE_DIR ? resolve(v.ARBITER_CONSOLE_DIR) : null,
    adminKeyFile: v.ARBITER_ADMIN_KEY_FILE ? resolve(v.ARBITER_ADMIN_KEY_FILE) : join(dataDir, 'admin-api-key'),
    database: {
      connectTimeoutMs: v.DATABASE_CONNECT_TIMEOUT_MS,
      queryTimeoutMs: v.DATABASE_QUERY_TIMEOUT_MS,
      healthTimeoutMs: v.DATABASE_HEALTH_TIMEOUT_MS,
      startupTimeoutMs: v.DATABASE_STARTUP_TIMEOUT_MS,
    },
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
    api: {
      redisUrl: v.REDIS_URL,
      redisKeyPrefix: v.REDIS_KEY_PREFIX,
      rateLimitPerKeyPerMinute: v.RATE_LIMIT_PER_KEY_PER_MINUTE,
      rateLimitAnonymousPerMinute: v.RATE_LIMIT_ANONYMOUS_PER_MINUTE,
      metricsToken: v.METRICS_TOKEN,
      idempotencyMaxRecordsPerKey: v.IDEMPOTENCY_MAX_RECORDS_PER_KEY,
      graphqlTimeBudgetMs: v.GRAPHQL_TIME_BUDGET_MS,
      graphqlMaxResponseBytes: v.GRAPHQL_MAX_RESPONSE_BYTES,
      trustProxy,
    },
    trading: {
      autostart: v.ENGINE_AUTOSTART,
      maxSagaAgeMs: v.ENGINE_MAX_SAGA_AGE_MS,
      confirmTimeoutMs: v.ENGINE_CONFIRM_TIMEOUT_MS,
      drainTimeoutMs: v.ENGINE_DRAIN_TIMEOUT_MS,
      concurrency: v.ENGINE_CONCURRENCY,
      reducingSaleEveryMs: v.ENGINE_REDUCING_SALE_EVERY_MS,
      priorityFeeMicroLamports: v.SOLANA_PRIORITY_FEE_MICROLAMPORTS,
      computeUnitLimit: BigInt(v.SOLANA_COMPUTE_UNIT_LIMIT),
    },
    ha: {
      enabled: haEnabled,
      unfenced: haEnabled && !!v.EVENTSTORE_URL,
      nodeId: v.ENGINE_NODE_ID ?? `${hostname()}:${process.pid}`,
      leaseTtlMs: v.ENGINE_LEASE_TTL_MS,
      renewMs: v.ENGINE_LEASE_RENEW_MS,
      acquireMs: v.ENGINE_LEASE_ACQUIRE_MS,
      marginMs: v.ENGINE_LEASE_MARGIN_MS,
    },
    market: {
      mode: v.MARKET,
      hermesUrl: v.HERMES_URL,
      jupiterUrl: v.JUPITER_URL,
      jupiterApiKey: v.JUPITER_API_KEY,
      jupiterBuildUrl: v.JUPITER_BUILD_URL,
      pythFeedIds,
      pairs: DEFAULT_PAIRS,
      simSeed: v.SIM_SEED,
      simOpportunitiesPerMinute: v.SIM_OPPORTUNITIES_PER_MINUTE,
      scansPerMinute: v.MARKET_SCANS_PER_MINUTE,
      slippageBps: v.MARKET_SLIPPAGE_BPS,
      httpTimeoutMs: v.MARKET_HTTP_TIMEOUT_MS,
      httpRetries: v.MARKET_HTTP_RETRIES,
    },
    risk: {
      defaultLimits: {
        maxPriceAgeSeconds: Number(risk(RISK_LIMIT_FIELDS.maxPriceAgeSeconds)),
        maxConfidenceBps: Number(risk(RISK_LIMIT_FIELDS.maxConfidenceBps)),
        maxPriceDeviationBps: Number(risk(RISK_LIMIT_FIELDS.maxPriceDeviationBps)),
        maxSlippageBps: Number(risk(RISK_LIMIT_FIELDS.maxSlippageBps)),
        minProfitBaseUnits: risk(RISK_LIMIT_FIELDS.minProfitBaseUnits),
        maxNotionalPerTradeUsdMicros: risk(RISK_LIMIT_FIELDS.maxNotionalPerTradeUsdMicros),
        maxExposurePerTokenUsdMicros: risk(RISK_LIMIT_FIELDS.maxExposurePerTokenUsdMicros),
        dailyLossLimitUsdMicros: risk(RISK_LIMIT_FIELDS.dailyLossLimitUsdMicros),
        maxOrdersPerMinute: Number(risk(RISK_LIMIT_FIELDS.maxOrdersPerMinute)),
        circuitBreaker: {
          consecutiveFailedFills: Number(risk(CIRCUIT_BREAKER_FIELDS.consecutiveFailedFills)),
          deviationSpikeBps: Number(risk(CIRCUIT_BREAKER_FIELDS.deviationSpikeBps)),
        },
      },
    },
    compliance: {
      sanctionsFile: v.COMPLIANCE_SANCTIONS_FILE ? resolve(v.COMPLIANCE_SANCTIONS_FILE) : null,
      watchSanctionsFile: v.COMPLIANCE_SANCTIONS_WATCH,
      rules: {
        largeTxThresholdUsdMicros: v.COMPLIANCE_LARGE_TX_THRESHOLD_USD_MICROS,
        velocityWindowSeconds: Number(v.COMPLIANCE_VELOCITY_WINDOW_SECONDS),
        velocityMaxCount: Number(v.COMPLIANCE_VELOCITY_MAX_COUNT),
        velocityMaxNotionalUsdMicros: v.COMPLIANCE_VELOCITY_MAX_NOTIONAL_USD_MICROS,
        structuringWindowSeconds: Number(v.COMPLIANCE_STRUCTURING_WINDOW_SECONDS),
        structuringBandBps: Number(v.COMPLIANCE_STRUCTURING_BAND_BPS),
        structuringMinCount: Number(v.COMPLIANCE_STRUCTURING_MIN_COUNT),
      },
    },
    audit: { pointInTimeTtlMs: v.AUDIT_POINT_IN_TIME_TTL_SECONDS * 1000, pointInTimeMax: v.AUDIT_POINT_IN_TIME_MAX },
    signer: signer!,
    seal: {
      enabled: v.SEALING === 'on',
      everyEvents: v.SEAL_EVERY_EVENTS,
      everySeconds: v.SEAL_EVERY_SECONDS,
      checkMs: v.SEAL_CHECK_MS,
      anchor: v.SEAL_ANCHOR,
      anchorRpcUrl,
      signer: sealSigner ?? { kind: 'keystore', dataDir: join(dataDir, 'seal'), keystorePath: null, passphrase: null, kmsKeyId: null },
    },
    execution: {
      venue: v.VENUE,
      solana: {
        rpcUrl: v.SOLANA_RPC_URL,
        priorityFeeMicroLamports: v.SOLANA_PRIORITY_FEE_MICROLAMPORTS,
        computeUnitLimit: v.SOLANA_COMPUTE_UNIT_LIMIT,
        settlementAddress: v.SOLANA_SETTLEMENT_ADDRESS,
        rpcTimeoutMs: v.SOLANA_RPC_TIMEOUT_MS,
        confirmPollMs: v.SOLANA_CONFIRM_POLL_MS,
        computeUnitMarginPct: v.SOLANA_COMPUTE_UNIT_MARGIN_PCT,
        lookupTableTtlMs: v.SOLANA_LOOKUP_TABLE_TTL_MS,
      },
      paper: { seed: v.PAPER_SEED, maxSlippageBps: v.PAPER_MAX_SLIPPAGE_BPS, leg1SurplusBps: v.PAPER_LEG1_SURPLUS_BPS },
      reconciliation: {
        intervalSeconds: v.RECONCILE_INTERVAL_SECONDS,
        toleranceLamports: v.RECONCILE_TOLERANCE_LAMPORTS,
        toleranceBaseUnits: v.RECONCILE_TOLERANCE_BASE_UNITS,
        toleranceByMint,
      },
    },
    notifications: {
      delivery: v.WEBHOOK_DELIVERY,
      allowedHosts: v.WEBHOOK_ALLOWED_HOSTS,
      production: v.NODE_ENV === 'production',
      timeoutMs: v.WEBHOOK_TIMEOUT_MS,
      retry: { maxAttempts: v.WEBHOOK_MAX_ATTEMPTS, baseDelayMs: v.WEBHOOK_RETRY_BASE_MS, maxDelayMs: v.WEBHOOK_RETRY_MAX_MS },
    },
  };
}

/** The signer settings of SIGNER (or SEAL_SIGNER), with what a choice needs checked at start. */
function signerSettings(
  kindName: string,
  s: { kind: 'keystore' | 'aws-kms'; keystorePath: string | null; passphrase: string | null; kmsKeyId: string | null; dataDir: string; names: { path: string; passphrase: string; keyId: string } },
  v: EnvValues,
  problems: string[],
): SignerSettings | null {
  if (s.kind === undefined) return null; // SIGNER itself was bad: already reported
  if (s.kind === 'keystore') return { kind: 'keystore', dataDir: s.dataDir, keystorePath: s.keystorePath ? resolve(s.keystorePath) : null, passphrase: s.passphrase, kmsKeyId: s.kmsKeyId };
  const missing: string[] = [];
  if (!s.kmsKeyId) missing.push(`${s.names.keyId} (key id, key ARN or alias/name of an ECC_NIST_EDWARDS25519 key)`);
  if (!v.AWS_REGION) missing.push('AWS_REGION (e.g. us-east-1)');
  if (missing.length) problems.push(`${kindName}=aws-kms needs ${missing.join(' and ')}`);
  if (!!v.AWS_ACCESS_KEY_ID !== !!v.AWS_SECRET_ACCESS_KEY) problems.push('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together');
  if (missing.length) return null;
  return {
    kind: 'aws-kms',
    keyId: s.kmsKeyId!,
    region: v.AWS_REGION!,
    endpoint: v.KMS_ENDPOINT,
    credentials: v.AWS_ACCESS_KEY_ID && v.AWS_SECRET_ACCESS_KEY ? { accessKeyId: v.AWS_ACCESS_KEY_ID, secretAccessKey: v.AWS_SECRET_ACCESS_KEY, sessionToken: v.AWS_SESSION_TOKEN } : null,
    keystoreIgnored: !!(s.keystorePath || s.passphrase),
  };
}

/** A Solana address: base58 of 32 bytes. */
function isSolanaAddress(s: string): boolean {
  try {
    return bs58.decode(s).length === 32;
  } catch {
    return false;
  }
}

/** Hide passwords in URLs before they reach a message. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]*)@/, '//$1:***@');
}
