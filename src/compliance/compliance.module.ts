// Provides the compliance configuration and the sanctions list in force (reloadable from its
// file; a bad file keeps the previous list and is logged).
import { Global, Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { loadComplianceConfig, type ComplianceConfig } from './compliance.config.js';
import type { SanctionsLookup } from './rules.js';
import { SanctionsList } from './sanctions-list.js';

@Injectable()
export class ComplianceService implements OnApplicationShutdown {
  private readonly logger = new Logger('Compliance');
  readonly config: ComplianceConfig;
  private list: SanctionsList = SanctionsList.fromAddresses([]);
  private unwatch: (() => void) | null = null;

  constructor() {
    this.config = loadComplianceConfig();
  }

  /** Loads the sanctions list (if configured) before the engine trades. */
  async init(): Promise<void> {
    if (!this.config.sanctionsFile) {
      this.logger.warn('no sanctions list configured (COMPLIANCE_SANCTIONS_FILE): no address is screened as sanctioned');
      return;
    }
    this.list = await SanctionsList.load(this.config.sanctionsFile);
    this.logger.log(`sanctions list ${this.config.sanctionsFile}: ${this.list.size} addresses`);
    if (this.config.watchSanctionsFile) {
      this.unwatch = this.list.watch({
        onReload: () => this.logger.log(`sanctions list reloaded: ${this.list.size} addresses`),
        onError: (e) => this.logger.error(`sanctions list reload failed, the previous list stays in force: ${e.message}`),
      });
    }
  }

  sanctions(): SanctionsLookup {
    return this.list;
  }

  onApplicationShutdown(): void {
    this.unwatch?.();
    this.list.close();
  }
}

@Global()
@Module({ providers: [ComplianceService], exports: [ComplianceService] })
export class ComplianceModule {}
