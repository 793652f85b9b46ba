// Compliance settings: the sanctions list file and the thresholds of the screening rules (see
// rules.ts for semantics), its section of the one configuration (src/config/config.ts,
// COMPLIANCE_* in README). Money is in USD micro-units (1 USD = 1_000_000), written as integers.
import type { ComplianceSettings } from '../config/config.js';
import type { ComplianceRulesConfig } from './rules.js';

export interface ComplianceConfig extends ComplianceSettings {
  rules: ComplianceRulesConfig;
}

export const COMPLIANCE_CONFIG = Symbol('COMPLIANCE_CONFIG');
