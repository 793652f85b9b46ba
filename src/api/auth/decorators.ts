// Route metadata read by the API key guard: @Public() opens a route to anyone (health, metrics,
// docs); @Roles('operator') names the role a command needs. Everything else needs a valid key of
// any role (viewer = read).
import { SetMetadata } from '@nestjs/common';
import type { Role } from './api-keys.js';

export const PUBLIC_ROUTE = 'arbiter:public';
export const REQUIRED_ROLE = 'arbiter:role';

export const Public = () => SetMetadata(PUBLIC_ROUTE, true);
export const Roles = (role: Role) => SetMetadata(REQUIRED_ROLE, role);
