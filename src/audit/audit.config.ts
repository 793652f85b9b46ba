// Settings of the audit context: its section of the one configuration (src/config/config.ts).
import type { AuditSettings } from '../config/config.js';

export type AuditConfig = AuditSettings;
