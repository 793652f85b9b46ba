// The global guard: every REST route and GraphQL operation needs a valid API key unless marked
// @Public(); a route marked @Roles(r) also needs a key whose role allows r. A refused command
// stops here, before its body is read or anything is written.
import { ForbiddenException, Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GqlExecutionContext } from '@nestjs/graphql';
import { SQL_CLIENT } from '../../ledger/ledger.module.js';
import type { SqlClient } from '../../shared/sql/sql-client.js';
import { roleAllows } from './api-keys.js';
import { routeRole } from './decorators.js';
import { principalOf, UNAUTHENTICATED_MESSAGE } from './principal.js';

@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const need = routeRole(this.reflector, [context.getHandler(), context.getClass()]);
    if (need === null) return true;
    const req = this.requestOf(context);
    if (!req) throw new UnauthorizedException(UNAUTHENTICATED_MESSAGE);
    const principal = await principalOf(this.sql, req);
    if (!principal) throw new UnauthorizedException(UNAUTHENTICATED_MESSAGE);
    if (!roleAllows(principal.role, need)) {
      throw new ForbiddenException(`this needs a key with the ${need} role (or admin); key ${principal.keyId} has the ${principal.role} role`);
    }
    return true;
  }

  private requestOf(context: ExecutionContext): object | null {
    if (context.getType() === 'http') return context.switchToHttp().getRequest();
    if (context.getType<string>() === 'graphql') {
      // mercurius' context is { req, reply, app } under @nestjs/mercurius.
      const ctx = GqlExecutionContext.create(context).getContext<{ req?: object; reply?: { request?: object } }>();
      return ctx.req ?? ctx.reply?.request ?? null;
    }
    return null;
  }
}
