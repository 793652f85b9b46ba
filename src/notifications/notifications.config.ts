// Settings of webhook delivery (README: Configuration, Notifications): its section of the one
// configuration (src/config/config.ts).
import type { NotificationSettings } from '../config/config.js';

export const NOTIFICATIONS_CONFIG = Symbol('NOTIFICATIONS_CONFIG');

export type NotificationsConfig = NotificationSettings;

/** The allow-list in force for new subscriptions, or the reason none may be created. */
export function effectiveAllowList(c: NotificationsConfig): { hosts: string[] | null } | { refused: string } {
  if (c.allowedHosts) return { hosts: c.allowedHosts };
  if (c.production) return { refused: 'webhook subscriptions need WEBHOOK_ALLOWED_HOSTS when NODE_ENV=production: set it to the hosts receivers may run on' };
  return { hosts: null };
}
