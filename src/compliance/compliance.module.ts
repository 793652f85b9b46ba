// The compliance context's wiring. ComplianceService is the adapter of the Screening port: it
// holds the compliance configuration, the sanctions list in force and its own screening memory,
// both folds of the log (the latest SanctionsListActivated; the ComplianceScreened events of the
// last day, which the velocity and structuring rules read), so every node screens alike. The
// file (COMPLIANCE_SANCTIONS_FILE) only feeds the log: at start and on reload its content is
// activated when it differs from the list in force (a bad file changes nothing and is logged).
// The flag-case and sanctions-list command handlers are registered here too.
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
import { ComplianceScreened, historyFromScreened, SanctionsListActivated, type SanctionsListActivatedPayload } from './events.js';
import { ActivateSanctionsListHandler, activateSanctionsList } from './commands/sanctions-commands.js';
import type { SanctionsLookup } from './rules.js';
import { SanctionsList } from './sanctions-list.js';
import { SCREENING, type Screening } from './screening.port.js';

/** What the screening memory keeps of a ComplianceScreened event. */
interface ScreeningMemo {
  type: string;
  payload: unknown;
  recordedAt: string;
}

interface ComplianceSnapshot {
  screenings: ScreeningMemo[];
  sanctions: SanctionsListActivatedPayload | null;
}

/** Screenings kept for the velocity and structuring rules: a day, at most 10,000. */
const SCREENING_MEMORY_MS = 24 * 3600_000;
const SCREENING_MEMORY_MAX = 10_000;

@Injectable()
export class ComplianceService implements Screening, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Compliance');
  readonly config: ComplianceConfig;
  /** The list in force: the latest SanctionsListActivated in the log (empty before any). */
  private list: SanctionsList = SanctionsList.fromAddresses([]);
  private active: { contentHash: string; source: string; size: number } | null = null;
  /** This node's file, which feeds the log (never screened against directly). */
  private file: SanctionsList | null = null;
  private unwatch: (() => void) | null = null;
  private screenings: ScreeningMemo[] = [];
  private readonly follower: LogFollower<ComplianceSnapshot>;
  private started: Promise<void> | null = null;

  constructor(@Inject(EVENT_STORE) private readonly store: EventStore, @Inject(SQL_CLIENT) sql: SqlClient, @Inject(ARBITER_CONFIG) config: ArbiterConfig) {
    this.config = config.compliance;
    this.follower = new LogFollower<ComplianceSnapshot>(
      store,
      new SnapshotStore(sql),
      {
        name: 'compliance-screenings',
        // 2: the sanctions list in force is part of the fold.
        snapshotVersion: 2,
        eventTypes: [ComplianceScreened.type, SanctionsListActivated.type],
        apply: (events) => {
          for (const e of events) {
            if (e.type === SanctionsListActivated.type) this.activate(e.payload as SanctionsListActivatedPayload);
            else this.remember(e);
          }
        },
        snapshot: () => ({ screenings: this.screenings, sanctions: this.activeList }),
        restore: (snap) => {
          if (!snap || !Array.isArray(snap.screenings)) throw new TypeError('the compliance snapshot has no screening list');
          this.screenings = snap.screenings;
          if (snap.sanctions) this.activate(snap.sanctions);
        },
      },
      this.logger,
    );
  }

  private activeList: SanctionsListActivatedPayload | null = null;

  private activate(p: SanctionsListActivatedPayload): void {
    this.activeList = p;
    this.list = SanctionsList.fromAddresses(p.entries, p.contentHash.slice(0, 32));
    this.active = { contentHash: p.contentHash, source: p.source, size: p.entries.length };
  }

  /** The list in force as the log has it (null: none was ever activated). */
  sanctionsInForce(): { contentHash: string; source: string; size: number } | null {
    return this.active;
  }

  onApplicationBootstrap(): Promise<void> {
    return this.ready();
  }

  /** Loads the sanctions list (if configured) and the screening memory before the engine trades; idempotent. */
  ready(): Promise<void> {
    this.started ??= (async () => {
      await this.follower.start();
      await this.loadSanctions();
    })();
    return this.started;
  }

  private async loadSanctions(): Promise<void> {
    if (!this.config.sanctionsFile) {
      if (this.active) this.logger.log(`sanctions list in force from the log: ${this.active.size} addresses (${this.active.source}, ${this.active.contentHash.slice(0, 12)}…)`);
      else this.logger.warn('no sanctions list in the log and none configured (COMPLIANCE_SANCTIONS_FILE, or PUT /compliance/sanctions-list): no address is screened as sanctioned');
      return;
    }
    this.file = await SanctionsList.load(this.config.sanctionsFile);
    await this.activateFile();
    if (this.config.watchSanctionsFile) {
      this.unwatch = this.file.watch({
        onReload: (r) => {
          if (r.changed) void this.activateFile().catch((e) => this.logger.error(`sanctions list reload could not be recorded: ${(e as Error).message}`));
        },
        onError: (e) => this.logger.error(`sanctions list reload failed, the previous list stays in force: ${e.message}`),
      });
    }
  }

  /** Puts the file's content in force for every node, when it differs from the list in force. */
  private async activateFile(): Promise<void> {
    const file = this.file!;
    const before = this.active;
    const r = await activateSanctionsList(this.store, { actor: 'compliance:sanctions-file', correlationId: `sanctions-file-${file.version}` }, `file:${file.path}`, file.entries);
    if (r.changed) {
      await this.follower.caughtUp(r.position);
      if (before) this.logger.warn(`sanctions list ${file.path} differs from the list in force (${before.source}, ${before.contentHash.slice(0, 12)}…): activated it for every node (${r.size} addresses)`);
      else this.logger.log(`sanctions list ${file.path} activated for every node: ${r.size} addresses`);
    } else {
      this.logger.log(`sanctions list ${file.path}: ${r.size} addresses, the list already in force`);
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
    this.file?.close();
    await this.follower.stop();
  }
}

@Module({
  providers: [ComplianceService, { provide: SCREENING, useExisting: ComplianceService }, ...flagCommandHandlers, ActivateSanctionsListHandler],
  exports: [SCREENING],
})
export class ComplianceModule {}
