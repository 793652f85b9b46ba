// The audit context: runs the sealer inside the app (see sealer.ts): opens the seal key at start (a wrong key stops
// the app before it trades, and a seal key equal to the trading key is refused), then looks every
// SEAL_CHECK_MS and seals when due. SEALING=off leaves it out.
import { Inject, Injectable, Logger, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { createSigner } from '../signing/signer.factory.js';
import { SigningModule } from '../signing/signing.module.js';
import { SIGNER, SignerConfigError, type Signer } from '../signing/signer.port.js';
import { EVENT_STORE, type EventStore } from '../ledger/event-store.port.js';
import { SEAL_ANCHOR, type SealAnchorPort } from './anchor.port.js';
import { ARBITER_CONFIG } from '../config/config.module.js';
import type { ArbiterConfig } from '../config/config.js';
import type { SealConfig } from './seal.config.js';
import { LedgerSealer } from './sealer.js';
import { LeadershipService } from '../ledger/leadership/leadership.service.js';
import { SolanaMemoAnchor } from './solana/solana-memo-anchor.js';

export const SEAL_CONFIG = Symbol('SEAL_CONFIG');
export const SEAL_SIGNER = Symbol('SEAL_SIGNER');

@Injectable()
export class SealingService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Sealing');
  private readonly sealer: LedgerSealer | null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    @Inject(SEAL_CONFIG) private readonly config: SealConfig,
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(SEAL_SIGNER) private readonly signer: Signer | null,
    @Inject(SEAL_ANCHOR) anchor: SealAnchorPort | null,
    private readonly leadership: LeadershipService,
  ) {
    this.sealer = signer
      ? new LedgerSealer(store, signer, anchor, config, { log: (m) => this.logger.warn(m) })
      : null;
  }

  onApplicationBootstrap(): void {
    if (!this.sealer) return;
    this.logger.log(`sealing every ${this.config.everyEvents} events or ${this.config.everySeconds} s, key ${this.signer!.keyId}`);
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      // With several nodes, the engine's leader seals; a standby's seal would repeat it.
      if (!this.leadership.mayAct()) return this.schedule();
      this.running = this.sealer!
        .tick()
        .then((s) => {
          if (s) this.logger.debug?.(`sealed position ${s.payload.position} (event ${s.eventPosition})`);
        })
        .catch((err) => this.logger.warn(`sealing failed, retrying in ${this.config.checkMs} ms: ${(err as Error).message}`))
        .finally(() => {
          this.running = null;
          this.schedule();
        });
    }, this.config.checkMs);
    this.timer.unref?.();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    (this.signer as { destroy?: () => void } | null)?.destroy?.();
  }
}

@Module({
  // The trading signer, only to refuse a seal key equal to it.
  imports: [SigningModule],
  providers: [
    { provide: SEAL_CONFIG, inject: [ARBITER_CONFIG], useFactory: (c: ArbiterConfig): SealConfig => c.seal },
    {
      provide: SEAL_SIGNER,
      inject: [SEAL_CONFIG, SIGNER],
      useFactory: async (config: SealConfig, trading: Signer): Promise<Signer | null> => {
        if (!config.enabled) return null;
        const logger = new Logger('Sealing');
        const settings = config.signer;
        // The development seal keystore keeps its generated passphrase beside it, so scrypt's
        // cost protects nothing there: a cheaper one keeps start-up fast. A keystore created
        // from SEAL_KEYSTORE_PASSPHRASE gets the full cost.
        const development = settings.kind === 'keystore' && !settings.keystorePath && !settings.passphrase;
        const { signer } = await createSigner(settings, {
          keystoreOptions: development ? { scryptN: 2 ** 14 } : undefined,
          log: (n) => (n.startsWith('warning:') ? logger.warn(`seal key: ${n}`) : logger.log(`seal key: ${n}`)),
        });
        const [a, b] = await Promise.all([signer.publicKeyBase58(), trading.publicKeyBase58()]);
        if (a === b || signer.keyId === trading.keyId) {
          (signer as { destroy?: () => void }).destroy?.();
          throw new SignerConfigError(
            'INVALID_CONFIG',
            'the seal key is the trading key: give seals a key of their own (SEAL_KEYSTORE_PATH or SEAL_KMS_KEY_ID), so whoever can trade cannot also vouch for the log',
          );
        }
        return signer;
      },
    },
    {
      provide: SEAL_ANCHOR,
      inject: [SEAL_CONFIG, SEAL_SIGNER],
      useFactory: (config: SealConfig, signer: Signer | null): SealAnchorPort | null =>
        signer && config.anchor === 'solana' ? new SolanaMemoAnchor({ rpcUrl: config.anchorRpcUrl!, signer }) : null,
    },
    SealingService,
  ],
})
export class AuditModule {}
