// Types of bs58 4.x (the version @solana/web3.js 1.x depends on, so one copy is installed): it is
// base-x over the Bitcoin alphabet and ships no declarations of its own.
declare module 'bs58' {
  const bs58: {
    encode(source: Uint8Array | readonly number[]): string;
    /** Throws on a character outside the alphabet. */
    decode(text: string): Uint8Array;
    decodeUnsafe(text: string): Uint8Array | undefined;
  };
  export default bs58;
}
