// The base58 codec against known vectors and against @solana/web3.js's own PublicKey encoding.
import { Keypair, PublicKey } from '@solana/web3.js';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { base58Decode, base58Encode } from '../../../src/shared/base58.js';

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
    expect(base58Encode(bytes)).toBe(text);
    expect(Buffer.from(base58Decode(text!))).toEqual(bytes);
  });

  it('matches PublicKey.toBase58 for random keys, including the all-zero system program id', () => {
    expect(base58Encode(new Uint8Array(32))).toBe('11111111111111111111111111111111');
    for (let i = 0; i < 50; i++) {
      const pk = Keypair.generate().publicKey;
      expect(base58Encode(pk.toBytes())).toBe(pk.toBase58());
      expect(new PublicKey(base58Decode(pk.toBase58())).equals(pk)).toBe(true);
    }
  });

  it('round-trips 64-byte signatures, leading zero bytes included', () => {
    for (let i = 0; i < 50; i++) {
      const sig = randomBytes(64);
      if (i % 5 === 0) sig.fill(0, 0, i % 3);
      expect(Buffer.from(base58Decode(base58Encode(sig)))).toEqual(sig);
    }
  });

  it('rejects characters outside the alphabet', () => {
    expect(() => base58Decode('abc0')).toThrow(/"0" at position 3 is not a base58 character/);
    expect(() => base58Decode('Il')).toThrow(/not a base58 character/);
  });
});
