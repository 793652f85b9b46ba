// Query cost limit: a GraphQL validation rule that estimates how many values a query can make the
// server produce and refuses it before any resolver runs. Each field costs 1, times the size of
// the lists above it: a field with `first` (or `limit`) multiplies everything under it by that
// number (the largest allowed when it comes from a variable, since validation cannot see
// variables), a connection's `items` adds no factor of its own (its `first` already did), and
// other object lists count as DEFAULT_LIST_SIZE. Fields with a known heavy cost (`report`) add it.
// Introspection (__schema, __type) is not counted: the depth limit bounds it.
import {
  GraphQLError,
  Kind,
  getNamedType,
  isListType,
  isNonNullType,
  isObjectType,
  isInterfaceType,
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

export function queryComplexity(context: ValidationContext, selectionSet: SelectionSetNode, parent: GraphQLNamedType, seen = new Set<string>()): number {
  let cost = 0;
  for (const sel of selectionSet.selections) {
    if (sel.kind === Kind.FIELD) {
      cost += fieldCost(context, sel, parent, seen);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      const t = sel.typeCondition ? context.getSchema().getType(sel.typeCondition.name.value) : parent;
      if (t) cost += queryComplexity(context, sel.selectionSet, t, seen);
    } else {
      const name = sel.name.value;
      const frag = context.getFragment(name);
      if (!frag || seen.has(name)) continue; // unknown or cyclic fragments are reported by the standard rules
      const t = context.getSchema().getType(frag.typeCondition.name.value);
      if (t) cost += queryComplexity(context, frag.selectionSet, t, new Set([...seen, name]));
    }
  }
  return cost;
}

function fieldCost(context: ValidationContext, field: FieldNode, parent: GraphQLNamedType, seen: Set<string>): number {
  const name = field.name.value;
  if (name.startsWith('__')) return 0;
  let cost = FIELD_COST[name] ?? 1;
  if (!field.selectionSet || !(isObjectType(parent) || isInterfaceType(parent))) return cost;
  const def = parent.getFields()[name];
  if (!def) return cost; // unknown fields are reported by the standard rules
  let factor = 1;
  const page = field.arguments?.find((a) => a.name.value in PAGE_ARGS);
  if (page) factor = argValue(page.value, PAGE_ARGS[page.name.value]);
  else if (isList(def.type) && name !== 'items') factor = DEFAULT_LIST_SIZE;
  cost += factor * queryComplexity(context, field.selectionSet, getNamedType(def.type), seen);
  return cost;
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
        context.reportError(
          new GraphQLError(
            `query is too complex: its estimated cost is ${cost}, above the limit of ${max}. ` +
              'Ask for fewer items (a smaller first), fewer fields, or split it into several requests.',
            { nodes: [node], extensions: { code: 'QUERY_TOO_COMPLEX', cost, limit: max } },
          ),
        );
      }
    },
  });
}
