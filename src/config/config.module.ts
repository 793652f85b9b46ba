// The configuration in Nest: the one typed object (config.ts) under ARBITER_CONFIG, global, so
// each module takes its section from it (`inject: [ARBITER_CONFIG]`). main.ts loads and checks it
// before Nest starts and hands it over with `useStartupConfig`, so the process reads the
// environment once; an app created without main.ts (the end-to-end tests) loads it here.
import { Global, Module } from '@nestjs/common';
import { loadConfig, type ArbiterConfig } from './config.js';

export const ARBITER_CONFIG = Symbol('ARBITER_CONFIG');

let startupConfig: ArbiterConfig | null = null;

/** main.ts: the configuration it already loaded and checked is the one the app uses. */
export function useStartupConfig(config: ArbiterConfig): void {
  startupConfig = config;
}

@Global()
@Module({
  providers: [{ provide: ARBITER_CONFIG, useFactory: (): ArbiterConfig => startupConfig ?? loadConfig(process.env) }],
  exports: [ARBITER_CONFIG],
})
export class ConfigModule {}
