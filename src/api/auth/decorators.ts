// Route metadata read by the API key guard: @Public() opens a route to anyone (health, metrics,
// docs); @Roles('operator') names the role a command needs. Everything else needs a valid key of
// any role (viewer = read). routeRole says which applies to a route, for the guard and for the
// OpenAPI document alike.
import { SetMetadata } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import type { Role } from './api-keys.js';

export const PUBLIC_ROUTE = 'arbiter:public';
export const REQUIRED_ROLE = 'arbiter:role';

export const Public = () => SetMetadata(PUBLIC_ROUTE, true);
export const Roles = (role: Role) => SetMetadata(REQUIRED_ROLE, role);

/** Who may call a route: null = anyone (@Public), else the role its key needs (a handler's mark before its class's). */
export function routeRole(reflector: Reflector, targets: [handler: Function, controller: Function]): Role | null {
  if (reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return null;
  return reflector.getAllAndOverride<Role | undefined>(REQUIRED_ROLE, targets) ?? 'viewer';
}
