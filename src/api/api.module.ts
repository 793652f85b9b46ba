// The control plane over HTTP: REST command endpoints (the commands' handlers are registered by
// the contexts that own them), API key authentication for everything (REST and GraphQL) with roles, idempotency, the error shape,
// request metrics, the OpenAPI document, and the first-run admin key on the embedded database;
// at the edge, rate limits and the log of failed authentications (edge-guard.ts).
import { Module } from '@nestjs/common';
import { NOTIFICATIONS_CONFIG } from '../notifications/notifications.config.js';
import { APP_FILTER, APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { ProjectionsModule } from '../projections/projections.module.js';
import { PointInTimeModule } from '../audit/point-in-time.module.js';
import { AuditController } from './http/audit.controller.js';
import { ARBITER_CONFIG } from '../config/config.module.js';
import type { ArbiterConfig } from '../config/config.js';
import { API_CONFIG } from './api.tokens.js';
import { ApiKeyGuard } from './auth/api-key.guard.js';
import { FirstRunAdminKey } from './auth/first-run.js';
import { CommandsController } from './http/commands.controller.js';
import { ConsoleController } from './http/console.controller.js';
import { DocsController } from './http/docs.controller.js';
import { EdgeGuard } from './http/edge-guard.js';
import { ApiExceptionFilter } from './http/errors.js';
import { HttpHooks } from './http/http-hooks.js';
import { IdempotencyService } from './http/idempotency.js';
import { KeysController } from './http/keys.controller.js';
import { ProjectionsController } from './http/projections.controller.js';
import { WebhooksController } from './http/webhooks.controller.js';

@Module({
  // DiscoveryModule: the OpenAPI document is generated from the registered controllers (DocsController).
  imports: [ProjectionsModule, PointInTimeModule, DiscoveryModule],
  controllers: [AuditController, CommandsController, ProjectionsController, KeysController, DocsController, ConsoleController, WebhooksController],
  providers: [
    // The webhook URL checks need the notifications settings (their section of the configuration).
    { provide: NOTIFICATIONS_CONFIG, inject: [ARBITER_CONFIG], useFactory: (c: ArbiterConfig) => c.notifications },
    { provide: APP_GUARD, useClass: ApiKeyGuard },
    { provide: APP_FILTER, useClass: ApiExceptionFilter },
    { provide: API_CONFIG, inject: [ARBITER_CONFIG], useFactory: (c: ArbiterConfig) => c.api },
    EdgeGuard,
    HttpHooks,
    IdempotencyService,
    FirstRunAdminKey,
  ],
})
export class ApiModule {}
