// The notifications context: webhook subscriptions (admin commands) and their delivery from the
// event log. The REST controller and GraphQL resolver live in src/api and dispatch its commands.
import { Module } from '@nestjs/common';
import { subscriptionCommandHandlers } from './commands/subscription-commands.js';
import { WebhookDeliveryService } from './delivery.service.js';
import { ARBITER_CONFIG } from '../config/config.module.js';
import type { ArbiterConfig } from '../config/config.js';
import { NOTIFICATIONS_CONFIG } from './notifications.config.js';

@Module({
  providers: [{ provide: NOTIFICATIONS_CONFIG, inject: [ARBITER_CONFIG], useFactory: (c: ArbiterConfig) => c.notifications }, WebhookDeliveryService, ...subscriptionCommandHandlers],
  exports: [NOTIFICATIONS_CONFIG, WebhookDeliveryService],
})
export class NotificationsModule {}
