// Cursor pagination and input checks shared by the read-model queries. Every list query returns
// the same connection shape, `{ items, nextCursor }`: nextCursor is null on the last page, and
// passing it back as `after` gives the next page. Cursors are opaque (base64url of the query's
// name and its sort key), keyset based, so pages never skip or repeat rows while new rows arrive.
import type { Type } from '@nestjs/common';
import { Field, ObjectType } from '@nestjs/graphql';
import { GraphQLError } from 'graphql';

export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 50;

export function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
  /** Set when the page was read as of a point in time: the global position it reflects. */
  asOfPosition?: string | null;
}

/** The connection object type of `item`, named `<name>Connection`. */
export function Connection<T>(item: Type<T>, name: string) {
  @ObjectType(`${name}Connection`, { description: `A page of ${name} items; pass nextCursor as \`after\` for the next one` })
  class ConnectionType implements Page<T> {
    @Field(() => [item]) items!: T[];
    @Field(() => String, { nullable: true, description: 'Cursor of the next page; null on the last page' }) nextCursor!: string | null;
    @Field(() => String, { nullable: true, description: 'Set when asked asOf: the global position the answer reflects (null: the live read model)' }) asOfPosition!: string | null;
  }
  return ConnectionType;
}

export function checkFirst(first: number | null | undefined): number {
  const n = first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE) {
    throw badInput(`first must be between 1 and ${MAX_PAGE_SIZE} (got ${first}); walk larger results page by page with after`);
  }
  return n;
}

/** Checks an optional [from, to) range; both ends are optional, but from must be before to. */
export function checkRange(from: Date | null | undefined, to: Date | null | undefined): { from: string | null; to: string | null } {
  for (const [name, v] of [['from', from], ['to', to]] as const) {
    if (v !== null && v !== undefined && Number.isNaN(v.getTime())) throw badInput(`${name} is not a valid time (use ISO-8601, e.g. 2026-01-31T00:00:00Z)`);
  }
  if (from && to && from.getTime() >= to.getTime()) {
    throw badInput(`from (${from.toISOString()}) must be before to (${to.toISOString()}); the range is [from, to)`);
  }
  return { from: from ? from.toISOString() : null, to: to ? to.toISOString() : null };
}

export function encodeCursor(query: string, key: (string | number)[]): string {
  return Buffer.from(JSON.stringify({ q: query, k: key.map(String) }), 'utf8').toString('base64url');
}

/** The sort key in a cursor of `query`, checked against `shape` (one regex per key part). */
export function decodeCursor(query: string, cursor: string | null | undefined, shape: RegExp[]): string[] | null {
  if (cursor === null || cursor === undefined) return null;
  const bad = () => badInput(`after is not a valid cursor for ${query}: pass the nextCursor of an earlier ${query} page, unchanged`);
  if (!/^[A-Za-z0-9_-]{1,2000}$/.test(cursor)) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  const p = parsed as { q?: unknown; k?: unknown };
  if (typeof p !== 'object' || p === null || p.q !== query || !Array.isArray(p.k) || p.k.length !== shape.length) throw bad();
  const key = p.k as unknown[];
  if (!key.every((v, i) => typeof v === 'string' && shape[i].test(v))) throw bad();
  return key as string[];
}

/** Fetches first + 1 rows to know whether another page exists; makes the page and its cursor. */
export function toPage<R, T>(rows: R[], first: number, map: (r: R) => T, cursorOf: (r: R) => string): Page<T> {
  const more = rows.length > first;
  const kept = more ? rows.slice(0, first) : rows;
  return { items: kept.map(map), nextCursor: more ? cursorOf(kept[kept.length - 1]) : null };
}

export const INT_KEY = /^-?\d{1,30}$/;
export const TEXT_KEY = /^.{0,200}$/s;
export const DATE_KEY = /^\d{4}-\d{2}-\d{2}$/;

/** Collects SQL conditions and their parameters, numbering placeholders as they are added. */
export class Where {
  readonly params: unknown[] = [];
  private readonly parts: string[] = [];

  /** Adds a condition; `?` marks stand for the values, in order. */
  add(condition: string, ...values: unknown[]): this {
    let i = 0;
    this.parts.push(
      condition.replace(/\?/g, () => {
        this.params.push(values[i++]);
        return `$${this.params.length}`;
      }),
    );
    return this;
  }

  /** A placeholder for a value used outside WHERE (e.g. LIMIT). */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  toString(): string {
    return this.parts.length ? `WHERE ${this.parts.map((p) => `(${p})`).join(' AND ')}` : '';
  }
}

export const iso = (v: unknown): Date | null => (v === null || v === undefined ? null : v instanceof Date ? v : new Date(String(v)));
