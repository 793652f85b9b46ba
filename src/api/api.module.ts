// The control plane over HTTP: REST command endpoints (the commands' handlers are registered by
// the contexts that own them), API key authentication for everything (REST and GraphQL) with roles, idempotency, the error shape,
// request metrics, the OpenAPI document, and the first-run admin key on the embedded database.
import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { ProjectionsModule } from '../projections/projections.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { AuditController } from './http/audit.controller.js';
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
  imports: [ProjectionsModule, AuditModule],
  controllers: [AuditController, CommandsController, ProjectionsController, KeysController, DocsController],
  providers: [
    { provide: APP_GUARD, useClass: ApiKeyGuard },
    { provide: APP_FILTER, useClass: ApiExceptionFilter },
    HttpHooks,
    IdempotencyService,
    FirstRunAdminKey,
  ],
})
export class ApiModule {}
