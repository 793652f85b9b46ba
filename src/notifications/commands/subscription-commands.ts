// Admin commands on webhook subscriptions: CreateWebhookSubscription, ChangeWebhookSubscription,
// RevokeWebhookSubscription. Each folds the subscription's stream, decides with the pure
// functions of ../subscription.ts and appends through the one read-fold-decide-append helper.
// The secret is stored before the creation is appended, so a created subscription always has
// one; a retried create (same Idempotency-Key → same subscription id) keeps the first secret.
import { randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { EVENT_STORE, type EventStore } from '../../ledger/event-store.port.js';
import { SQL_CLIENT } from '../../ledger/ledger.module.js';
import { commandMetadata, decideAndAppendOne, deterministicUuid, type CommandContext, type CommandReceipt } from '../../ledger/decide-and-append.js';
import type { SqlClient } from '../../shared/sql/sql-client.js';
import { subscriptionStreamId } from '../events.js';
import { fingerprintOf, newSecret, putInitialSecret } from '../secrets.js';
import { decideChange, decideCreate, decideRevoke, foldSubscription, type SubscriptionSpec } from '../decisions.js';

export interface CreatedSubscription {
  subscriptionId: string;
  /** Shown once: receivers verify signatures with it. */
  secret: string;
  event: CommandReceipt;
}

export class CreateWebhookSubscription extends Command<CreatedSubscription> {
  constructor(readonly ctx: CommandContext, readonly spec: SubscriptionSpec) {
    super();
  }
}

export class ChangeWebhookSubscription extends Command<CommandReceipt> {
  constructor(readonly ctx: CommandContext, readonly subscriptionId: string, readonly patch: Partial<SubscriptionSpec>, readonly reason: string) {
    super();
  }
}

export class RevokeWebhookSubscription extends Command<CommandReceipt> {
  constructor(readonly ctx: CommandContext, readonly subscriptionId: string, readonly reason: string) {
    super();
  }
}

@CommandHandler(CreateWebhookSubscription)
export class CreateWebhookSubscriptionHandler implements ICommandHandler<CreateWebhookSubscription> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
  ) {}

  async execute({ ctx, spec }: CreateWebhookSubscription): Promise<CreatedSubscription> {
    const subscriptionId = ctx.eventId ? deterministicUuid('arbiter-webhook-subscription', ctx.eventId) : randomUUID();
    const secret = await putInitialSecret(this.sql, subscriptionId, newSecret());
    const event = await decideAndAppendOne(this.store, {
      streamId: subscriptionStreamId(subscriptionId),
      eventId: ctx.eventId,
      fold: foldSubscription,
      decide: (s) => decideCreate(s, { subscriptionId, spec, secretFingerprint: fingerprintOf(secret), actor: ctx.actor }, commandMetadata(ctx)),
    });
    return { subscriptionId, secret, event };
  }
}

@CommandHandler(ChangeWebhookSubscription)
export class ChangeWebhookSubscriptionHandler implements ICommandHandler<ChangeWebhookSubscription> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  execute({ ctx, subscriptionId, patch, reason }: ChangeWebhookSubscription): Promise<CommandReceipt> {
    return decideAndAppendOne(this.store, {
      streamId: subscriptionStreamId(subscriptionId),
      eventId: ctx.eventId,
      fold: foldSubscription,
      decide: (s) => decideChange(s, { subscriptionId, patch, actor: ctx.actor, reason }, commandMetadata(ctx)),
    });
  }
}

@CommandHandler(RevokeWebhookSubscription)
export class RevokeWebhookSubscriptionHandler implements ICommandHandler<RevokeWebhookSubscription> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  execute({ ctx, subscriptionId, reason }: RevokeWebhookSubscription): Promise<CommandReceipt> {
    return decideAndAppendOne(this.store, {
      streamId: subscriptionStreamId(subscriptionId),
      eventId: ctx.eventId,
      fold: foldSubscription,
      decide: (s) => decideRevoke(s, { subscriptionId, actor: ctx.actor, reason }, commandMetadata(ctx)),
    });
  }
}

export const subscriptionCommandHandlers = [CreateWebhookSubscriptionHandler, ChangeWebhookSubscriptionHandler, RevokeWebhookSubscriptionHandler];
