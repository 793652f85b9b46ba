// The audit context's point-in-time read models in the app: one PointInTimeReadModels shared by GraphQL and REST, sweeping
// expired point-in-time generations in the background and dropping its own on shutdown.
import { Inject, Injectable, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '../ledger/event-store.port.js';
import { SQL_CLIENT } from '../ledger/ledger.module.js';
import type { SqlClient } from '../shared/sql/sql-client.js';
import { ARBITER_CONFIG } from '../config/config.module.js';
import type { ArbiterConfig } from '../config/config.js';
import { PointInTimeReadModels } from './point-in-time.js';

@Injectable()
export class AuditService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly pointInTime: PointInTimeReadModels;

  constructor(
    @Inject(EVENT_STORE) readonly store: EventStore,
    @Inject(SQL_CLIENT) readonly sql: SqlClient,
    @Inject(ARBITER_CONFIG) arbiter: ArbiterConfig,
  ) {
    const config = arbiter.audit;
    this.pointInTime = new PointInTimeReadModels(store, sql, { ttlMs: config.pointInTimeTtlMs, maxGenerations: config.pointInTimeMax });
  }

  onApplicationBootstrap(): void {
    this.pointInTime.startSweeping();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pointInTime.close();
  }
}

@Module({ providers: [AuditService], exports: [AuditService] })
export class PointInTimeModule {}
