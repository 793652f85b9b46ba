// A JSON scalar for event payloads and evidence (values as stored: amounts are strings).
import { GraphQLScalarType, Kind, type ValueNode } from 'graphql';

function literal(ast: ValueNode): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
      return Number(ast.value);
    case Kind.FLOAT:
      return ast.value; // never a float for money: keep the text
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, literal(f.value)]));
    case Kind.LIST:
      return ast.values.map(literal);
    default:
      return null;
  }
}

const GraphQLJSON = new GraphQLScalarType({
  name: 'JSON',
  description: 'Arbitrary JSON (amounts are decimal strings)',
  serialize: (v) => v,
  parseValue: (v) => v,
  parseLiteral: literal,
});

export default GraphQLJSON;
