// Every read model the application maintains. The runner follows these; `arbiter rebuild` takes their names.
import type { ProjectionDefinition } from '../src/projections/projection.js';
import { auditIndex } from './audit-index.js';

export const allProjections: ProjectionDefinition[] = [auditIndex];

export function findProjection(name: string): ProjectionDefinition | undefined {
  return allProjections.find((p) => p.name === name);
}
