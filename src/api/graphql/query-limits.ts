// The first gate of every GraphQL request, before GraphQL's own validation and before the cost
// walk (complexity.ts): a few hundred bytes of nested fragments can describe billions of fields,
// and anything that expands them (a naive cost walk, validation) blocks the event loop. So the
// document is parsed here with a token limit, then measured in one pass with each fragment
// measured once (memoised, counts saturate): its size, depth, aliases, fragment spreads, the
// fields it expands to and how many introspection roots it asks for. Strings PostgreSQL cannot
// store (NUL, lone surrogates) in arguments or variables are refused here too, naming them.
import { GraphQLError, Kind, parse, visit, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';
import { unstorableReason, unstorableStrings } from '../../shared/text/storable.js';
import { MAX_QUERY_DEPTH } from './complexity.js';

export const QUERY_LIMITS = {
  /** Bytes of the query text. */
  maxDocumentBytes: 32 * 1024,
  /** Lexical tokens of the query text (graphql-js stops parsing past it). */
  maxTokens: 5_000,
  maxDepth: MAX_QUERY_DEPTH,
  /** Fields written with an alias (`a: executions`). */
  maxAliases: 30,
  /** `...Fragment` spreads written in the document. */
  maxFragmentSpreads: 50,
  /** Fields the operation has once every fragment is expanded. */
  maxExpandedFields: 5_000,
  /** `__schema` roots once expanded: one full introspection per request. */
  maxSchemaIntrospections: 1,
  /** `__type(name:)` roots once expanded. */
  maxTypeIntrospections: 10,
} as const;

export type QueryLimits = { -readonly [K in keyof typeof QUERY_LIMITS]: number };

export class QueryLimitError extends Error {
  constructor(
    message: string,
    readonly limit: string,
    readonly code = 'QUERY_LIMIT',
  ) {
    super(message);
    this.name = 'QueryLimitError';
  }

  toGraphQLError(): GraphQLError {
    return new GraphQLError(this.message, { extensions: { code: this.code, limit: this.limit } });
  }
}

interface Measure {
  depth: number;
  fields: number;
  schemas: number;
  types: number;
}

const SATURATE = 1e12;
const add = (a: number, b: number) => Math.min(SATURATE, a + b);

/** Measures the document; throws a QueryLimitError naming the first limit passed. */
export function checkQueryDocument(source: string, variables: unknown, limits: QueryLimits = QUERY_LIMITS): DocumentNode {
  const bytes = Buffer.byteLength(source, 'utf8');
  if (bytes > limits.maxDocumentBytes) {
    throw new QueryLimitError(`query is ${bytes} bytes, above the limit of ${limits.maxDocumentBytes}: split it into several requests`, 'maxDocumentBytes');
  }
  const unstorableQuery = unstorableReason(source);
  if (unstorableQuery) throw new QueryLimitError(`query text ${unstorableQuery}`, 'storableText', 'BAD_USER_INPUT');
  let doc: DocumentNode;
  try {
    doc = parse(source, { maxTokens: limits.maxTokens, noLocation: false });
  } catch (err) {
    const msg = (err as Error).message;
    if (/tokens\. Parsing aborted/.test(msg)) {
      throw new QueryLimitError(`query has more than ${limits.maxTokens} tokens: ask for fewer fields or split it into several requests`, 'maxTokens');
    }
    throw err; // a syntax error: mercurius reports it in its own words
  }

  const varProblems = variables && typeof variables === 'object' ? unstorableStrings(variables, '$') : [];
  if (varProblems.length) {
    throw new QueryLimitError(`variable ${varProblems[0].replace(/^\$\.?/, '$')}`, 'storableText', 'BAD_USER_INPUT');
  }

  // Written counts: one linear pass over the text as parsed.
  let aliases = 0;
  let spreads = 0;
  let badString: string | null = null;
  const argPath: string[] = [];
  visit(doc, {
    Field(node) {
      if (node.alias) aliases++;
    },
    FragmentSpread() {
      spreads++;
    },
    Argument: {
      enter(node) {
        argPath.push(node.name.value);
      },
      leave() {
        argPath.pop();
      },
    },
    StringValue(node) {
      const why = badString ? null : unstorableReason(node.value);
      if (why) badString = `argument ${argPath.join('.') || '(default value)'} ${why}`;
    },
  });
  if (badString) throw new QueryLimitError(badString, 'storableText', 'BAD_USER_INPUT');
  if (aliases > limits.maxAliases) {
    throw new QueryLimitError(`query has ${aliases} aliased fields, above the limit of ${limits.maxAliases}: split it into several requests`, 'maxAliases');
  }
  if (spreads > limits.maxFragmentSpreads) {
    throw new QueryLimitError(`query has ${spreads} fragment spreads, above the limit of ${limits.maxFragmentSpreads}`, 'maxFragmentSpreads');
  }

  // Expanded measures: each fragment measured once.
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const memo = new Map<string, Measure>();
  const visiting = new Set<string>();
  const zero = (): Measure => ({ depth: 0, fields: 0, schemas: 0, types: 0 });

  const measureFragment = (name: string): Measure => {
    const known = memo.get(name);
    if (known) return known;
    const frag = fragments.get(name);
    if (!frag || visiting.has(name)) return zero(); // unknown or cyclic: GraphQL's own rules report it
    visiting.add(name);
    const m = measureSet(frag.selectionSet);
    visiting.delete(name);
    memo.set(name, m);
    return m;
  };

  const measureSet = (set: SelectionSetNode): Measure => {
    const total = zero();
    for (const sel of set.selections) {
      let m: Measure;
      if (sel.kind === Kind.FIELD) {
        const child = sel.selectionSet ? measureSet(sel.selectionSet) : zero();
        const name = sel.name.value;
        m = {
          depth: child.depth + 1,
          fields: add(child.fields, 1),
          schemas: add(child.schemas, name === '__schema' ? 1 : 0),
          types: add(child.types, name === '__type' ? 1 : 0),
        };
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        m = measureSet(sel.selectionSet);
      } else {
        m = measureFragment(sel.name.value);
      }
      total.depth = Math.max(total.depth, m.depth);
      total.fields = add(total.fields, m.fields);
      total.schemas = add(total.schemas, m.schemas);
      total.types = add(total.types, m.types);
    }
    return total;
  };

  for (const d of doc.definitions) {
    if (d.kind !== Kind.OPERATION_DEFINITION) continue;
    const m = measureSet(d.selectionSet);
    const op = d.name ? `operation ${d.name.value}` : 'the operation';
    if (m.depth > limits.maxDepth) {
      throw new QueryLimitError(`query depth (${m.depth}) exceeds the query depth limit of ${limits.maxDepth} in ${op}`, 'maxDepth');
    }
    if (m.fields > limits.maxExpandedFields) {
      const n = m.fields >= SATURATE ? 'more than 10^12' : String(m.fields);
      throw new QueryLimitError(
        `${op} expands to ${n} fields once its fragments are spread, above the limit of ${limits.maxExpandedFields}`,
        'maxExpandedFields',
      );
    }
    if (m.schemas > limits.maxSchemaIntrospections) {
      throw new QueryLimitError(`${op} asks for __schema ${m.schemas} times; at most ${limits.maxSchemaIntrospections} per request`, 'maxSchemaIntrospections');
    }
    if (m.types > limits.maxTypeIntrospections) {
      throw new QueryLimitError(`${op} asks for __type ${m.types} times; at most ${limits.maxTypeIntrospections} per request`, 'maxTypeIntrospections');
    }
  }
  return doc;
}
