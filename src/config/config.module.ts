import { Global, Module } from '@nestjs/common';
import { loadConfig } from './config.js';

export const ARBITER_CONFIG = Symbol('ARBITER_CONFIG');

@Global()
@Module({
  providers: [{ provide: ARBITER_CONFIG, useFactory: () => loadConfig() }],
  exports: [ARBITER_CONFIG],
})
export class ConfigModule {}
