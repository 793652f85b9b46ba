// Provides the Signer (token SIGNER) chosen by the configuration (see signer.factory.ts), opened
// once at start so a wrong key or passphrase stops the app before it trades.
import { Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { KmsSigner } from './aws-kms/kms-signer.js';
import { ARBITER_CONFIG } from '../config/config.module.js';
import type { ArbiterConfig } from '../config/config.js';
import { createSigner } from './signer.factory.js';
import { SIGNER, type Signer } from './signer.port.js';

@Module({
  providers: [
    {
      provide: SIGNER,
      inject: [ARBITER_CONFIG],
      useFactory: async (config: ArbiterConfig): Promise<Signer> => {
        const logger = new Logger('Signing');
        return (await createSigner(config.signer, { log: (n) => (n.startsWith('warning:') ? logger.warn(n) : logger.log(n)) })).signer;
      },
    },
  ],
  exports: [SIGNER],
})
export class SigningModule implements OnApplicationShutdown {
  constructor(@Inject(SIGNER) private readonly signer: Signer) {}

  onApplicationShutdown(): void {
    if (this.signer instanceof KmsSigner) this.signer.destroy();
  }
}
