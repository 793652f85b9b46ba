// Query cost limit: a GraphQL validation rule that estimates how many values a query can make the
// server produce and refuses it before any resolver runs. Each field costs 1, times the size of
// the lists above it: a field with `first` (or `limit`) multiplies everything under it by that
// number (the largest allowed when it comes from a variable, since validation cannot see
// variables), a connection's `items` adds no factor of its own (its `first` already did), and
// other object lists count as DEFAULT_LIST_SIZE. Fields with a known heavy cost (`report`) add it.
// Introspection is costed like any field, its lists by the real size of this schema (how many
// types, the most fields of one type, ...), so the same introspection repeated under aliases adds
// up. Each fragment is costed once (memoised) and costs saturate: nested fragments that expand to
// billions of fields cost a bounded walk, not an exponential one (query-limits.ts refuses them
// even earlier, before validation).
import {
  GraphQLError,
  Kind,
  getNamedType,
  isListType,
  isNonNullType,
  isObjectType,
  isInterfaceType,
  isInputObjectType,
  isEnumType,
  isAbstractType,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  type GraphQLSchema,
  type GraphQLField,
  type ASTVisitor,
  type FieldNode,
  type GraphQLOutputType,
  type GraphQLNamedType,
  type SelectionSetNode,
  type ValidationContext,
  type ValueNode,
} from 'graphql';

export const MAX_QUERY_COMPLEXITY = 50_000;
/**
 * Depth limit passed to mercurius (`queryDepth`). The data schema has no cycles (its deepest query
 * is 4 levels: engine → history → items → field), so in practice this bounds introspection, whose
 * standard query (GraphiQL, codegen) is 15 deep; anything deeper is refused.
 */
export const MAX_QUERY_DEPTH = 15;
export const DEFAULT_LIST_SIZE = 100;
const FIELD_COST: Record<string, number> = { report: 5_000 };
const PAGE_ARGS: Record<string, number> = { first: 500, limit: 10_000 };

function isList(t: GraphQLOutputType): boolean {
  return isNonNullType(t) ? isListType(t.ofType) : isListType(t);
}

function argValue(v: ValueNode, fallback: number): number {
  if (v.kind === Kind.INT) return Math.max(0, Number(v.value));
  return fallback; // a variable: assume the largest page
}

/** Costs above this are all "too much": sums stop growing, so no walk builds a huge number. */
const SATURATE = 1e15;
const add = (a: number, b: number) => Math.min(SATURATE, a + b);
const mul = (a: number, b: number) => Math.min(SATURATE, a * b);

const introspectionSizes = new WeakMap<GraphQLSchema, Record<string, number>>();

/**
 * List sizes of the introspection types, from this schema: the average per parent, so that a full
 * introspection costs what it returns (types × fields per type = every field of the schema).
 */
export function introspectionListSizes(schema: GraphQLSchema): Record<string, number> {
  const known = introspectionSizes.get(schema);
  if (known) return known;
  const types = Object.values(schema.getTypeMap());
  let fields = 0;
  let inputFields = 0;
  let args = 0;
  let interfaces = 0;
  let possible = 0;
  let enumValues = 0;
  for (const t of types) {
    if (isObjectType(t) || isInterfaceType(t)) {
      const fs = Object.values(t.getFields());
      fields += fs.length;
      for (const f of fs) args += f.args.length;
      interfaces += t.getInterfaces().length;
    }
    if (isInputObjectType(t)) inputFields += Object.keys(t.getFields()).length;
    if (isEnumType(t)) enumValues += t.getValues().length;
    if (isAbstractType(t)) possible += schema.getPossibleTypes(t).length;
  }
  const directives = schema.getDirectives();
  const directiveArgs = directives.reduce((n, d) => n + d.args.length, 0);
  const per = (total: number, over: number) => Math.max(1, Math.ceil(total / Math.max(1, over)));
  const sizes = {
    '__Schema.types': types.length,
    '__Schema.directives': directives.length,
    '__Type.fields': per(fields, types.length),
    '__Type.inputFields': per(inputFields, types.length),
    '__Type.interfaces': per(interfaces, types.length),
    '__Type.possibleTypes': per(possible, types.length),
    '__Type.enumValues': per(enumValues, types.length),
    '__Field.args': per(args, fields),
    '__Directive.args': per(directiveArgs, directives.length),
  };
  introspectionSizes.set(schema, sizes);
  return sizes;
}

function fieldDef(context: ValidationContext, parent: GraphQLNamedType, name: string): GraphQLField<unknown, unknown> | undefined {
  const schema = context.getSchema();
  if (name === '__schema' && parent === schema.getQueryType()) return SchemaMetaFieldDef;
  if (name === '__type' && parent === schema.getQueryType()) return TypeMetaFieldDef;
  if (name === '__typename') return TypeNameMetaFieldDef;
  if (!(isObjectType(parent) || isInterfaceType(parent))) return undefined;
  return parent.getFields()[name];
}

export function queryComplexity(
  context: ValidationContext,
  selectionSet: SelectionSetNode,
  parent: GraphQLNamedType,
  memo = new Map<string, number>(),
  visiting = new Set<string>(),
): number {
  let cost = 0;
  for (const sel of selectionSet.selections) {
    if (sel.kind === Kind.FIELD) {
      cost = add(cost, fieldCost(context, sel, parent, memo, visiting));
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      const t = sel.typeCondition ? context.getSchema().getType(sel.typeCondition.name.value) : parent;
      if (t) cost = add(cost, queryComplexity(context, sel.selectionSet, t, memo, visiting));
    } else {
      const name = sel.name.value;
      const known = memo.get(name);
      if (known !== undefined) {
        cost = add(cost, known);
        continue;
      }
      const frag = context.getFragment(name);
      if (!frag || visiting.has(name)) continue; // unknown or cyclic fragments are reported by the standard rules
      const t = context.getSchema().getType(frag.typeCondition.name.value);
      if (!t) continue;
      visiting.add(name);
      const fragCost = queryComplexity(context, frag.selectionSet, t, memo, visiting);
      visiting.delete(name);
      memo.set(name, fragCost);
      cost = add(cost, fragCost);
    }
  }
  return cost;
}

function fieldCost(context: ValidationContext, field: FieldNode, parent: GraphQLNamedType, memo: Map<string, number>, visiting: Set<string>): number {
  const name = field.name.value;
  const cost = FIELD_COST[name] ?? 1;
  if (!field.selectionSet) return cost;
  const def = fieldDef(context, parent, name);
  if (!def) return cost; // unknown fields are reported by the standard rules
  let factor = 1;
  const page = field.arguments?.find((a) => a.name.value in PAGE_ARGS);
  if (page) factor = argValue(page.value, PAGE_ARGS[page.name.value]);
  else if (isList(def.type) && name !== 'items') {
    factor = introspectionListSizes(context.getSchema())[`${parent.name}.${name}`] ?? DEFAULT_LIST_SIZE;
  }
  return add(cost, mul(factor, queryComplexity(context, field.selectionSet, getNamedType(def.type), memo, visiting)));
}

/** The validation rule: rejects an operation whose estimated cost is above `max`. */
export function complexityLimitRule(max = MAX_QUERY_COMPLEXITY) {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(node) {
      const root =
        node.operation === 'query'
          ? context.getSchema().getQueryType()
          : node.operation === 'mutation'
            ? context.getSchema().getMutationType()
            : context.getSchema().getSubscriptionType();
      if (!root) return;
      const cost = queryComplexity(context, node.selectionSet, root);
      if (cost > max) {
        const shown = cost >= SATURATE ? `more than ${SATURATE}` : cost;
        context.reportError(
          new GraphQLError(
            `query is too complex: its estimated cost is ${shown}, above the limit of ${max}. ` +
              'Ask for fewer items (a smaller first), fewer fields, or split it into several requests.',
            { nodes: [node], extensions: { code: 'QUERY_TOO_COMPLEX', cost: shown, limit: max } },
          ),
        );
      }
    },
  });
}
