// Settings of the sealer and of its own signing key: its section of the one configuration
// (src/config/config.ts, SEAL_* in README). SEAL_SIGNER's key is never the trading key; without
// SEAL_KEYSTORE_* a development seal keystore is created under <data dir>/seal.
import type { SealSettings } from '../config/config.js';

export type SealConfig = SealSettings;
