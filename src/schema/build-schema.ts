// The executable schema, built from the type-graphql classes; schema.graphql is its printed form.
import 'reflect-metadata';
import { printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { InferenceResolver } from './resolvers/inference-resolver.js';
import { StatusResolver } from './resolvers/status-resolver.js';

export function buildGatewaySchema(): Promise<GraphQLSchema> {
  return buildSchema({ resolvers: [InferenceResolver, StatusResolver], validate: false });
}

/** The SDL as committed in schema.graphql, in declaration order (arguments read as documented). */
export function printGatewaySchema(schema: GraphQLSchema): string {
  return `${printSchema(schema)}\n`;
}
