// bs58 (the base58 codec of Solana addresses and 64-byte signatures) as this project imports it
// (an ESM default import of a CommonJS package): known vectors and @solana/web3.js's PublicKey.
import { Keypair, PublicKey } from '@solana/web3.js';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import bs58 from 'bs58';

describe('base58', () => {
  it.each([
    ['', ''],
    ['00', '1'],
    ['0000', '11'],
    ['61', '2g'],
    ['626262', 'a3gV'],
    ['636363', 'aPEr'],
    ['516b6fcd0f', 'ABnLTmg'],
    ['00eb15231dfceb60925886b67d065299925915aeb172c06647', '1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L'],
  ])('encodes and decodes %s', (hex, text) => {
    const bytes = Buffer.from(hex!, 'hex');
    expect(bs58.encode(bytes)).toBe(text);
    expect(Buffer.from(bs58.decode(text!))).toEqual(bytes);
  });

  it('matches PublicKey.toBase58 for random keys, including the all-zero system program id', () => {
    expect(bs58.encode(new Uint8Array(32))).toBe('11111111111111111111111111111111');
    for (let i = 0; i < 50; i++) {
      const pk = Keypair.generate().publicKey;
      expect(bs58.encode(pk.toBytes())).toBe(pk.toBase58());
      expect(new PublicKey(bs58.decode(pk.toBase58())).equals(pk)).toBe(true);
    }
  });

  it('round-trips 64-byte signatures, leading zero bytes included', () => {
    for (let i = 0; i < 50; i++) {
      const sig = randomBytes(64);
      if (i % 5 === 0) sig.fill(0, 0, i % 3);
      expect(Buffer.from(bs58.decode(bs58.encode(sig)))).toEqual(sig);
    }
  });

  it('rejects characters outside the alphabet', () => {
    expect(() => bs58.decode('abc0')).toThrow(/Non-base58 character/);
    expect(() => bs58.decode('Il')).toThrow(/Non-base58 character/);
  });
});
