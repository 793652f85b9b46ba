// Reads Jupiter's instruction answers (v1 POST /swap-instructions, v2 GET /build) into
// LegInstructions, checking every instruction's shape; the raw body is kept whole for the event.
// The v2 field names follow Jupiter's migration guide (Metis → /build): the same instruction
// groups as v1, the quote fields at the top level, addressesByLookupTableAddress and a blockhash.
import { MarketDataError } from '../errors.js';
import type { JsonValue } from '../quote-source.port.js';
import type { LegInstructions, RouteInstruction } from '../route-instructions.port.js';

const BASE58 = /^[1-9A-HJ-NP-Za-km-z]{32,44}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const isObj = (v: unknown): v is Record<string, JsonValue> => typeof v === 'object' && v !== null && !Array.isArray(v);

function instruction(v: unknown, where: string, problems: string[]): RouteInstruction {
  if (!isObj(v)) {
    problems.push(`${where} must be an instruction object`);
    return { programId: '', accounts: [], data: '' };
  }
  if (typeof v.programId !== 'string' || !BASE58.test(v.programId)) problems.push(`${where}.programId must be a base58 address`);
  if (typeof v.data !== 'string' || !BASE64.test(v.data)) problems.push(`${where}.data must be base64`);
  const accounts = Array.isArray(v.accounts) ? v.accounts : (problems.push(`${where}.accounts must be an array`), []);
  return {
    programId: String(v.programId),
    data: String(v.data),
    accounts: accounts.map((a, i) => {
      if (!isObj(a) || typeof a.pubkey !== 'string' || !BASE58.test(a.pubkey) || typeof a.isSigner !== 'boolean' || typeof a.isWritable !== 'boolean') {
        problems.push(`${where}.accounts[${i}] must be {pubkey, isSigner, isWritable}`);
        return { pubkey: '', isSigner: false, isWritable: false };
      }
      return { pubkey: a.pubkey, isSigner: a.isSigner, isWritable: a.isWritable };
    }),
  };
}

function list(body: Record<string, JsonValue>, key: string, problems: string[]): RouteInstruction[] {
  const v = body[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    problems.push(`${key} must be an array`);
    return [];
  }
  return v.map((x, i) => instruction(x, `${key}[${i}]`, problems));
}

export function parseInstructionsResponse(body: unknown, api: 'v1' | 'v2', quoteRaw: JsonValue): LegInstructions {
  if (!isObj(body)) throw malformed(api, ['the body is not a JSON object']);
  const problems: string[] = [];
  const swapInstruction = instruction(body.swapInstruction, 'swapInstruction', problems);
  const cleanupInstruction = body.cleanupInstruction == null ? null : instruction(body.cleanupInstruction, 'cleanupInstruction', problems);
  let alts: string[] = [];
  let byTable: Record<string, string[]> | null = null;
  let blockhash: LegInstructions['blockhash'] = null;
  if (api === 'v1') {
    const a = body.addressLookupTableAddresses ?? [];
    if (!Array.isArray(a) || a.some((x) => typeof x !== 'string' || !BASE58.test(x))) problems.push('addressLookupTableAddresses must be an array of addresses');
    else alts = a as string[];
  } else {
    const t = body.addressesByLookupTableAddress ?? {};
    if (!isObj(t) || Object.entries(t).some(([k, v]) => !BASE58.test(k) || !Array.isArray(v) || v.some((x) => typeof x !== 'string' || !BASE58.test(x)))) {
      problems.push('addressesByLookupTableAddress must map table addresses to address arrays');
    } else {
      byTable = t as Record<string, string[]>;
      alts = Object.keys(byTable);
    }
    const b = body.blockhashWithMetadata;
    if (isObj(b) && typeof b.blockhash === 'string' && typeof b.lastValidBlockHeight === 'number' && Number.isSafeInteger(b.lastValidBlockHeight)) {
      blockhash = { blockhash: b.blockhash, lastValidBlockHeight: BigInt(b.lastValidBlockHeight) };
    } else if (b !== undefined) problems.push('blockhashWithMetadata must be {blockhash, lastValidBlockHeight}');
  }
  const out: LegInstructions = {
    api,
    computeBudgetInstructions: list(body, 'computeBudgetInstructions', problems),
    setupInstructions: list(body, 'setupInstructions', problems),
    swapInstruction,
    cleanupInstruction,
    otherInstructions: list(body, 'otherInstructions', problems),
    addressLookupTableAddresses: alts,
    addressesByLookupTableAddress: byTable,
    blockhash,
    quoteRaw,
    raw: body,
  };
  if (problems.length) throw malformed(api, problems);
  return out;
}

function malformed(api: 'v1' | 'v2', problems: string[]): MarketDataError {
  const what = api === 'v1' ? 'swap-instructions' : 'build';
  return new MarketDataError('MALFORMED_RESPONSE', 'jupiter', `jupiter ${what} response has the wrong shape: ${problems.join('; ')}`);
}
