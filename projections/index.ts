// Every read model the application maintains. The runner follows these; `arbiter rebuild` takes their names.
import type { ProjectionDefinition } from '../src/projections/projection.js';
import { auditIndex } from './audit-index.js';
import { complianceFlags } from './compliance-flags.js';
import { executions } from './executions.js';
import { pnl } from './pnl.js';
import { reports } from './reports.js';
import { riskDecisions } from './risk-decisions.js';
import { webhookDeliveries } from './webhook-deliveries.js';

export const allProjections: ProjectionDefinition[] = [auditIndex, executions, pnl, riskDecisions, complianceFlags, reports, webhookDeliveries];

export function findProjection(name: string): ProjectionDefinition | undefined {
  return allProjections.find((p) => p.name === name);
}
