// The Nest module resolves SIGNER from the environment (here: a development keystore in a temp dir).
import { NestFactory } from '@nestjs/core';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SIGNER, type Signer } from '../../../src/signing/signer.port.js';
import { SigningModule } from '../../../src/signing/signing.module.js';
import { Module } from '@nestjs/common';
import { ConfigModule } from '../../../src/config/config.module.js';

/** The module as the app builds it: beside the global ConfigModule it takes its settings from. */
@Module({ imports: [ConfigModule, SigningModule] })
class WithConfig {}

let dir: string;
const saved = { ...process.env };
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'arbiter-mod-'));
  for (const k of ['SIGNER', 'KEYSTORE_PATH', 'KEYSTORE_PASSPHRASE', 'KMS_KEY_ID']) delete process.env[k];
  process.env.ARBITER_DATA_DIR = dir;
});
afterAll(async () => {
  process.env = saved;
  await rm(dir, { recursive: true, force: true });
});

it('provides a working keystore Signer under the SIGNER token', async () => {
  const mod = await NestFactory.createApplicationContext(WithConfig, { logger: false, abortOnError: false });
  const signer = mod.get<Signer>(SIGNER);
  expect(signer.kind).toBe('keystore');
  expect((await signer.sign(Buffer.from('hello'))).length).toBe(64);
  await stat(join(dir, 'keystore.json'));
  await mod.close();
});
