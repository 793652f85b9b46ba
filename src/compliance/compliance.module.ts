// The compliance context's wiring. ComplianceService is the adapter of the Screening port: it
// holds the compliance configuration, the sanctions list in force (reloadable from its file; a bad
// file keeps the previous list and is logged) and its own screening memory, a fold of the
// ComplianceScreened events of the last day that follows the log (the velocity and structuring
// rules read it). The flag-case command handlers are registered here too.
import { Inject, Injectable, Logger, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { RecordedEvent } from '../ledger/envelope.js';
import { EVENT_STORE, type EventStore } from '../ledger/event-store.port.js';
import { LogFollower } from '../ledger/log-follower.js';
import { SQL_CLIENT, type SqlClient } from '../shared/sql/sql-client.js';
import { SnapshotStore } from '../shared/sql/snapshots.js';
import { flagCommandHandlers } from './commands/flag-commands.js';
import { ARBITER_CONFIG } from '../config/config.module.js';
import type { ArbiterConfig } from '../config/config.js';
import type { ComplianceConfig } from './compliance.config.js';
import type { ScreeningContext } from './decisions.js';
import { ComplianceScreened, historyFromScreened } from './events.js';
import type { SanctionsLookup } from './rules.js';
import { SanctionsList } from './sanctions-list.js';
import { SCREENING, type Screening } from './screening.port.js';

/** What the screening memory keeps of a ComplianceScreened event. */
interface ScreeningMemo {
  type: string;
  payload: unknown;
  recordedAt: string;
}

/** Screenings kept for the velocity and structuring rules: a day, at most 10,000. */
const SCREENING_MEMORY_MS = 24 * 3600_000;
const SCREENING_MEMORY_MAX = 10_000;

@Injectable()
export class ComplianceService implements Screening, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Compliance');
  readonly config: ComplianceConfig;
  private list: SanctionsList = SanctionsList.fromAddresses([]);
  private unwatch: (() => void) | null = null;
  private screenings: ScreeningMemo[] = [];
  private readonly follower: LogFollower<ScreeningMemo[]>;
  private started: Promise<void> | null = null;

  constructor(@Inject(EVENT_STORE) store: EventStore, @Inject(SQL_CLIENT) sql: SqlClient, @Inject(ARBITER_CONFIG) config: ArbiterConfig) {
    this.config = config.compliance;
    this.follower = new LogFollower<ScreeningMemo[]>(
      store,
      new SnapshotStore(sql),
      {
        name: 'compliance-screenings',
        snapshotVersion: 1,
        eventTypes: [ComplianceScreened.type],
        apply: (events) => {
          for (const e of events) this.remember(e);
        },
        snapshot: () => this.screenings,
        restore: (memos) => {
          if (!Array.isArray(memos)) throw new TypeError('the screening memory snapshot is not a list');
          this.screenings = memos;
        },
      },
      this.logger,
    );
  }

  onApplicationBootstrap(): Promise<void> {
    return this.ready();
  }

  /** Loads the sanctions list (if configured) and the screening memory before the engine trades; idempotent. */
  ready(): Promise<void> {
    this.started ??= Promise.all([this.loadSanctions(), this.follower.start()]).then(() => undefined);
    return this.started;
  }

  private async loadSanctions(): Promise<void> {
    if (!this.config.sanctionsFile) {
      this.logger.warn('no sanctions list configured (COMPLIANCE_SANCTIONS_FILE): no address is screened as sanctioned');
      return;
    }
    this.list = await SanctionsList.load(this.config.sanctionsFile);
    this.logger.log(`sanctions list ${this.config.sanctionsFile}: ${this.list.size} addresses`);
    if (this.config.watchSanctionsFile) {
      this.unwatch = this.list.watch({
        onReload: () => this.logger.log(`sanctions list reloaded: ${this.list.size} addresses`),
        onError: (e) => this.logger.error(`sanctions list reload failed, the previous list stays in force: ${e.message}`),
      });
    }
  }

  sanctions(): SanctionsLookup {
    return this.list;
  }

  context(): ScreeningContext {
    return { history: historyFromScreened(this.screenings), rules: this.config.rules, sanctions: this.list };
  }

  caughtUpThrough(head: bigint, timeoutMs = 10_000): Promise<void> {
    return this.follower.caughtUpThrough(head, timeoutMs);
  }

  caughtUp(position: bigint, timeoutMs = 10_000): Promise<void> {
    return this.follower.caughtUp(position, timeoutMs);
  }

  private remember(e: RecordedEvent): void {
    this.screenings.push({ type: e.type, payload: e.payload, recordedAt: e.recordedAt });
    const cutoff = Date.parse(e.recordedAt) - SCREENING_MEMORY_MS;
    if (this.screenings.length > SCREENING_MEMORY_MAX || Date.parse(this.screenings[0].recordedAt) < cutoff) {
      this.screenings = this.screenings.filter((s) => Date.parse(s.recordedAt) >= cutoff).slice(-SCREENING_MEMORY_MAX);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.unwatch?.();
    this.list.close();
    await this.follower.stop();
  }
}

@Module({
  providers: [ComplianceService, { provide: SCREENING, useExisting: ComplianceService }, ...flagCommandHandlers],
  exports: [SCREENING],
})
export class ComplianceModule {}
