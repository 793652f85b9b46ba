// The control plane over HTTP: REST command endpoints and their command handlers, API key
// authentication for everything (REST and GraphQL) with roles, idempotency, the error shape,
// request metrics, the OpenAPI document, and the first-run admin key on the embedded database.
import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { flagCommandHandlers } from '../compliance/commands/flag-commands.js';
import { RebuildProjectionHandler, RebuildTracker } from '../operations/rebuild-projection.js';
import { baseRiskLimitsProvider, engineCommandHandlers } from '../risk/commands/engine-commands.js';
import { ApiKeyGuard } from './auth/api-key.guard.js';
import { FirstRunAdminKey } from './auth/first-run.js';
import { CommandsController } from './http/commands.controller.js';
import { DocsController } from './http/docs.controller.js';
import { ApiExceptionFilter } from './http/errors.js';
import { HttpHooks } from './http/http-hooks.js';
import { IdempotencyService } from './http/idempotency.js';
import { KeysController } from './http/keys.controller.js';
import { ProjectionsController } from './http/projections.controller.js';

@Module({
  controllers: [CommandsController, ProjectionsController, KeysController, DocsController],
  providers: [
    { provide: APP_GUARD, useClass: ApiKeyGuard },
    { provide: APP_FILTER, useClass: ApiExceptionFilter },
    HttpHooks,
    IdempotencyService,
    FirstRunAdminKey,
    RebuildTracker,
    RebuildProjectionHandler,
    baseRiskLimitsProvider,
    ...engineCommandHandlers,
    ...flagCommandHandlers,
  ],
  exports: [RebuildTracker],
})
export class ApiModule {}
