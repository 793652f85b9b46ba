// Settings of the audit context (README: Configuration).
import { ConfigError, integer } from '../config/config.js';

export interface AuditConfig {
  /** How long a point-in-time read model is kept for further questions (AUDIT_POINT_IN_TIME_TTL_SECONDS). */
  pointInTimeTtlMs: number;
  /** Point-in-time generations kept at once (AUDIT_POINT_IN_TIME_MAX). */
  pointInTimeMax: number;
}

export function loadAuditConfig(env: Record<string, string | undefined> = process.env): AuditConfig {
  const problems: string[] = [];
  const ttl = integer(env.AUDIT_POINT_IN_TIME_TTL_SECONDS?.trim() || '600', 'AUDIT_POINT_IN_TIME_TTL_SECONDS', 10, 86_400, problems);
  const max = integer(env.AUDIT_POINT_IN_TIME_MAX?.trim() || '12', 'AUDIT_POINT_IN_TIME_MAX', 1, 200, problems);
  if (problems.length) throw new ConfigError(problems);
  return { pointInTimeTtlMs: ttl * 1000, pointInTimeMax: max };
}
