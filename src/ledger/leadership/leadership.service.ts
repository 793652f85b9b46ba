// Who runs the engine (README: High availability; docs/decisions/0011). With ENGINE_HA on, every
// node competes for the lease (lease.ts) every ENGINE_LEASE_ACQUIRE_MS; the one that takes it
// records EngineLeadershipAcquired in `engine-leader` at the revision it read (two candidates
// cannot both append there) and that event's revision becomes its fencing token. The leader
// renews every ENGINE_LEASE_RENEW_MS and fences itself at a deadline on its own monotonic clock:
// last successful renewal (the time the request was sent) + TTL − margin. Past it, or when an
// append comes back fenced, or a renewal is refused, it steps down and competes again as a
// standby. The engine (the saga service) reacts through the handlers given to start().
import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { ARBITER_CONFIG } from '../../config/config.module.js';
import type { ArbiterConfig, HaSettings } from '../../config/config.js';
import { decisionSettings, settingDifferences, type DecisionSettings, type SettingDifference } from '../../config/decision-settings.js';
import type { RecordedEvent } from '../envelope.js';
import { Metrics } from '../../shared/metrics/metrics.js';
import { SQL_CLIENT, type SqlClient } from '../../shared/sql/sql-client.js';
import { FencedError, WrongExpectedRevisionError } from '../errors.js';
import { newEvent } from '../event-types.js';
import { EVENT_STORE, type EventStore } from '../event-store.port.js';
import { ENGINE_LEADER_STREAM, EngineLeadershipAcquired, type EngineLeadershipAcquiredPayload } from './events.js';
import { engineFence, type EngineFenceContext } from './fencing.js';
import { EngineLease, type LeaseRow } from './lease.js';

export type EngineRole = 'single' | 'standby' | 'leader';

export interface LeadershipStatus {
  role: EngineRole;
  nodeId: string;
  /** The lease's holder as last seen (null before the first look, or with HA off). */
  holder: string | null;
  epoch: string | null;
  /** This node's fencing token while it leads (the revision of its EngineLeadershipAcquired). */
  token: string | null;
  leaseExpiresAt: string | null;
  /** Whether the event store checks the token (false on EventStoreDB: lease and self-fencing only). */
  fenced: boolean;
  /**
   * This node's decision settings against those the latest other leadership recorded (on a
   * standby: the current leader's; on the leader: the one before it; null when none was compared,
   * or with HA off): the leader they came from, and each setting that differs.
   */
  settings: SettingsComparison | null;
}

export interface SettingsComparison {
  /** This node's settings hash (src/config/decision-settings.ts). */
  version: string;
  /** The leader whose EngineLeadershipAcquired was compared, its epoch, and its hash (null: it recorded none). */
  leader: string;
  epoch: string;
  leaderVersion: string | null;
  differences: SettingDifference[];
}

export interface LeadershipHandlers {
  /** This node now leads: catch up, resume, start the loop. Appends made in `run` carry the token. */
  onLead(): Promise<void>;
  /** This node no longer leads: stop every step at once. */
  onStepDown(reason: string): Promise<void>;
}

@Injectable()
export class LeadershipService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Leadership');
  private readonly ha: HaSettings;
  private readonly lease: EngineLease | null;
  private role: EngineRole;
  private epoch: bigint | null = null;
  private token: bigint | null = null;
  /** performance.now() past which the leader does nothing. */
  private deadline = 0;
  private seen: LeaseRow | null = null;
  private handlers: LeadershipHandlers | null = null;
  private timer: NodeJS.Timeout | null = null;
  private deadlineTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private busy: Promise<void> = Promise.resolve();
  private context: EngineFenceContext | null = null;
  private readonly settings: DecisionSettings;
  private comparison: SettingsComparison | null = null;
  /** The lease epoch whose leadership event was last compared with this node's settings. */
  private comparedEpoch: bigint | null = null;
  /** The engine's reactions (onLead, onStepDown), in order, off the lease loop so renewals never wait for them. */
  private transitions: Promise<void> = Promise.resolve();

  constructor(
    @Inject(ARBITER_CONFIG) config: ArbiterConfig,
    @Inject(SQL_CLIENT) sql: SqlClient,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly metrics: Metrics,
  ) {
    this.ha = config.ha;
    this.settings = decisionSettings(config);
    this.role = this.ha.enabled ? 'standby' : 'single';
    this.lease = this.ha.enabled ? new EngineLease(sql, this.ha.nodeId, this.ha.leaseTtlMs) : null;
    this.metrics.engineLeader.set(this.ha.enabled ? 0 : 1);
  }

  get enabled(): boolean {
    return this.ha.enabled;
  }

  status(): LeadershipStatus {
    return {
      role: this.role,
      nodeId: this.ha.nodeId,
      holder: this.seen?.holder || null,
      epoch: this.seen ? this.seen.epoch.toString() : null,
      token: this.token?.toString() ?? null,
      leaseExpiresAt: this.seen?.expiresAt ?? null,
      fenced: this.ha.enabled && !this.ha.unfenced,
      settings: this.comparison,
    };
  }

  /** True with HA off; as the leader, until the local deadline. */
  mayAct(): boolean {
    if (!this.ha.enabled) return true;
    return this.role === 'leader' && performance.now() < this.deadline;
  }

  /** Runs engine work: with HA on, inside the fence context of the current leadership (refused as a standby). */
  run<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.ha.enabled) return fn();
    const ctx = this.context;
    if (!ctx || !ctx.mayAct()) return Promise.reject(new FencedError('engine', ctx?.fence ?? { stream: ENGINE_LEADER_STREAM, revision: -1n }, null));
    return engineFence.run(ctx, fn);
  }

  /**
   * Starts competing. The first attempt is awaited, so a lone node leads (and its engine has
   * started) when this resolves, as without HA.
   */
  async start(handlers: LeadershipHandlers): Promise<void> {
    this.handlers = handlers;
    if (!this.ha.enabled) {
      await handlers.onLead();
      return;
    }
    this.logger.log(
      `node ${this.ha.nodeId}: competing for the engine lease (TTL ${this.ha.leaseTtlMs} ms, renew ${this.ha.renewMs} ms, margin ${this.ha.marginMs} ms${this.ha.unfenced ? '; UNFENCED: the event store cannot check the token' : ''})`,
    );
    await this.tick();
    await this.transitions;
  }

  private schedule(): void {
    if (this.stopped) return;
    const every = this.role === 'leader' ? this.ha.renewMs : this.ha.acquireMs;
    this.timer = setTimeout(() => void this.tick(), every);
    this.timer.unref?.();
  }

  private tick(): Promise<void> {
    this.busy = this.busy.then(async () => {
      if (this.stopped) return;
      try {
        if (this.role === 'leader') await this.renew();
        else await this.tryAcquire();
      } catch (err) {
        this.logger.warn(`lease ${this.role === 'leader' ? 'renewal' : 'attempt'} failed: ${(err as Error).message}`);
        if (this.role === 'leader' && !this.mayAct()) await this.stepDown('the lease could not be renewed before the deadline');
      }
      this.schedule();
    });
    return this.busy;
  }

  private async tryAcquire(): Promise<void> {
    const sent = performance.now();
    const { acquired, lease } = await this.lease!.tryAcquire();
    this.seen = lease;
    if (!acquired) {
      if (lease.holder && lease.epoch !== this.comparedEpoch) await this.compareSettings(lease.epoch);
      return;
    }
    this.setDeadline(sent);
    // The token: EngineLeadershipAcquired at the revision read. Another node that took a later
    // epoch in between makes this append fail, and this node stays a standby.
    const head = (await this.store.readStream(ENGINE_LEADER_STREAM, { direction: 'backward', maxCount: 1 }))[0];
    const expected = head ? head.revision : 'no_stream';
    // A new leader that decides otherwise than the one before says so (it records its own below).
    if (head) this.compare(head);
    let revision: bigint;
    try {
      const r = await this.store.append(
        ENGINE_LEADER_STREAM,
        [newEvent(EngineLeadershipAcquired, { holder: this.ha.nodeId, epoch: lease.epoch.toString(), settings: this.settings }, { correlationId: `lease-${lease.epoch}`, causationId: null, actor: `engine:${this.ha.nodeId}`, tenant: 'default' })],
        expected,
      );
      revision = r.nextRevision;
    } catch (err) {
      if (err instanceof WrongExpectedRevisionError) {
        this.logger.warn(`took lease epoch ${lease.epoch} but another node recorded its leadership first; staying standby`);
        await this.lease!.release(lease.epoch).catch(() => undefined);
        return;
      }
      throw err;
    }
    if (performance.now() >= this.deadline) {
      this.logger.warn(`took lease epoch ${lease.epoch} but too late to act on it; staying standby`);
      return;
    }
    this.epoch = lease.epoch;
    this.token = revision;
    // The comparison shown stays the one with the leadership before this one (this node's own is what it recorded).
    this.comparedEpoch = lease.epoch;
    this.role = 'leader';
    const fence = { stream: ENGINE_LEADER_STREAM, revision };
    const ctx: EngineFenceContext = {
      fence,
      checkInStore: !this.ha.unfenced,
      mayAct: (): boolean => this.context === ctx && this.mayAct(),
      onFenced: (err) => void this.stepDown(`an append was fenced: ${err.message}`),
    };
    this.context = ctx;
    this.metrics.engineLeader.set(1);
    this.metrics.engineTakeoversTotal.inc();
    this.logger.log(`node ${this.ha.nodeId} leads: lease epoch ${lease.epoch}, fencing token ${fence.stream}@${revision}`);
    this.transitions = this.transitions.then(async () => {
      if (this.context !== ctx) return; // already deposed
      try {
        await this.handlers!.onLead();
      } catch (err) {
        this.logger.error(`starting the engine as leader failed: ${(err as Error).message}`);
        await this.stepDown('the engine could not start');
      }
    });
  }

  /** Compares this node's decision settings with those of the leadership at `epoch`, once its event is in the log. */
  private async compareSettings(epoch: bigint): Promise<void> {
    const head = (await this.store.readStream(ENGINE_LEADER_STREAM, { direction: 'backward', maxCount: 1 }))[0];
    // The holder records its leadership just after it takes the lease: until then, ask again next time.
    if (!head || BigInt((head.payload as EngineLeadershipAcquiredPayload).epoch) < epoch) return;
    this.compare(head);
  }

  private compare(e: RecordedEvent): void {
    const p = e.payload as EngineLeadershipAcquiredPayload;
    const epoch = BigInt(p.epoch);
    if (this.comparedEpoch === epoch) return;
    this.comparedEpoch = epoch;
    const differences = p.settings ? settingDifferences(this.settings.values, p.settings.values) : [];
    this.comparison = { version: this.settings.version, leader: p.holder, epoch: p.epoch, leaderVersion: p.settings?.version ?? null, differences };
    if (differences.length) {
      const list = differences.map((d) => `${d.name} (here ${d.here ?? 'unset'}, ${p.holder} ${d.there ?? 'unset'})`).join(', ');
      this.logger.warn(
        `node ${this.ha.nodeId}: decision settings differ from those leader ${p.holder} recorded at epoch ${p.epoch}: ${list}. Every node must decide alike: set them the same on every node (README: High availability)`,
      );
    }
  }

  private async renew(): Promise<void> {
    const sent = performance.now();
    if (sent >= this.deadline) {
      await this.stepDown('past the lease deadline');
      return;
    }
    const ok = await this.lease!.renew(this.epoch!);
    if (!ok) {
      await this.stepDown('the lease was lost (renewal refused: expired or taken)');
      return;
    }
    this.setDeadline(sent);
  }

  private setDeadline(sentAt: number): void {
    this.deadline = sentAt + this.ha.leaseTtlMs - this.ha.marginMs;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    // Fence at the deadline even when no renewal gets to run (a stuck database connection).
    this.deadlineTimer = setTimeout(() => {
      if (this.role === 'leader' && performance.now() >= this.deadline) void this.stepDown('past the lease deadline');
    }, Math.max(0, this.deadline - performance.now()) + 1);
    this.deadlineTimer.unref?.();
  }

  /** Falls back to standby: no step starts, nothing is signed or sent; competes again later. */
  async stepDown(reason: string): Promise<void> {
    if (this.role !== 'leader') return;
    this.role = 'standby';
    this.context = null;
    this.token = null;
    this.deadline = 0;
    this.metrics.engineLeader.set(0);
    this.logger.warn(`node ${this.ha.nodeId} steps down: ${reason}`);
    this.transitions = this.transitions.then(async () => {
      try {
        await this.handlers?.onStepDown(reason);
      } catch (err) {
        this.logger.error(`stopping the engine on step-down: ${(err as Error).message}`);
      }
    });
  }

  /** Resolves once the engine has reacted to every change of role so far. */
  settled(): Promise<void> {
    return this.transitions;
  }

  /** After the engine drained (onModuleDestroy), before the database closes (onApplicationShutdown). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    await this.busy.catch(() => undefined);
    if (this.role === 'leader' && this.epoch !== null) {
      const epoch = this.epoch;
      this.role = 'standby';
      this.context = null;
      await this.lease!.release(epoch).catch((err) => this.logger.warn(`could not release the lease: ${(err as Error).message}`));
      this.logger.log(`released the engine lease (epoch ${epoch})`);
    }
  }
}
