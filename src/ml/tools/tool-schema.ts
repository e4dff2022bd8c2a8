import type { Type } from '@nestjs/common';
import { DECORATORS } from '@nestjs/swagger';
import { defaultMetadataStorage } from 'class-transformer/cjs/storage.js';
import { getMetadataStorage } from 'class-validator';
import { targetConstructorToSchema, validationMetadatasToSchemas } from 'class-validator-jsonschema';

/** A JSON Schema (2020-12) object, as MCP's `inputSchema` and a model's tool definition take it. */
export type JsonSchema = { [keyword: string]: unknown };

/** Where the definitions of nested DTOs live inside one tool's schema. */
const DEFS_PREFIX = '#/$defs/';

const SCHEMA_OPTIONS = { classTransformerMetadataStorage: defaultMetadataStorage, refPointerPrefix: DEFS_PREFIX };

/**
 * Every DTO class known to class-validator, as JSON Schema, by class name.
 *
 * Why class-validator-jsonschema rather than @nestjs/swagger's schemas: the tool's schema must say
 * what the ValidationPipe accepts, and this library reads the very decorators the pipe runs
 * (IsIn → enum, Min/Max, MaxLength, Matches, ArrayNotEmpty, ValidateNested + @Type), while the
 * Swagger schema comes from the separate @ApiProperty declarations, which can drift from the
 * validation (and @nestjs/swagger exposes its schema factory only through a whole application).
 * ValidateIf (a field required only with another's value, e.g. `dataset.query` for `sql`) counts as
 * optional, which is right for a schema that cannot say "required when". The people-facing
 * `description`, `example` and `default` of each field are taken from its @ApiProperty, so the three
 * faces (REST, MCP, chat) describe a field in the same words.
 */
let definitions: Record<string, JsonSchema> | undefined;

function allDefinitions(): Record<string, JsonSchema> {
  if (definitions !== undefined) {
    return definitions;
  }
  const generated = validationMetadatasToSchemas(SCHEMA_OPTIONS) as Record<string, JsonSchema>;
  // class-validator keeps its metadata in a Map keyed by class; its typings hide the field.
  const storage = getMetadataStorage() as unknown as { validationMetadatas: Map<Type<unknown>, unknown[]> };
  const classes = new Map([...storage.validationMetadatas.keys()].map((dto) => [dto.name, dto]));
  definitions = Object.fromEntries(
    Object.entries(generated).map(([name, schema]) => [name, withSwaggerWords(schema, classes.get(name))]),
  );
  return definitions;
}

/**
 * The field's @ApiProperty description, example and default added; unknown fields refused (the
 * pipe's forbidNonWhitelisted). A field documented optional is not required even when a custom
 * validator of it runs always: such validators decide "exactly one of job_id and run_id", which a
 * plain `required` list cannot say either.
 */
function withSwaggerWords(schema: JsonSchema, dto: Type<unknown> | undefined): JsonSchema {
  const documentation = (property: string): { description?: string; example?: unknown; default?: unknown; required?: boolean } | undefined =>
    dto === undefined ? undefined : (Reflect.getMetadata(DECORATORS.API_MODEL_PROPERTIES, dto.prototype as object, property) as ReturnType<typeof documentation>);
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const described = Object.fromEntries(
    Object.entries(properties).map(([property, propertySchema]) => {
      const documented = documentation(property);
      const words: JsonSchema = {};
      if (documented?.description !== undefined) words.description = documented.description;
      if (documented?.example !== undefined) words.examples = [documented.example];
      if (documented?.default !== undefined) words.default = documented.default;
      return [property, { ...propertySchema, ...words }];
    }),
  );
  const required = ((schema.required ?? []) as string[]).filter((property) => documentation(property)?.required !== false);
  const { required: _generated, ...rest } = schema;
  return { ...rest, properties: described, ...(required.length > 0 ? { required } : {}), additionalProperties: false };
}

/** The JSON Schema of one DTO class, with the definitions of the nested DTOs it refers to. */
export function schemaOf(dto: Type<unknown>): JsonSchema {
  // By the class itself, not by name: a subclass without fields of its own (ReleaseVersionDto) has
  // no entry of its own among the definitions.
  const schema = targetConstructorToSchema(dto, SCHEMA_OPTIONS) as JsonSchema;
  if (schema.properties === undefined) {
    throw new Error(`${dto.name} has no class-validator decorators, so it has no schema`);
  }
  return withSwaggerWords(schema, dto);
}

/** The definitions (`$defs`) that a schema refers to, followed transitively. */
export function referencedDefinitions(schema: JsonSchema): Record<string, JsonSchema> {
  const found: Record<string, JsonSchema> = {};
  const pending: unknown[] = [schema];
  while (pending.length > 0) {
    const node = pending.pop();
    if (node === null || typeof node !== 'object') {
      continue;
    }
    const ref = (node as { $ref?: unknown }).$ref;
    if (typeof ref === 'string' && ref.startsWith(DEFS_PREFIX)) {
      const name = ref.slice(DEFS_PREFIX.length);
      if (found[name] === undefined) {
        found[name] = allDefinitions()[name] ?? {};
        pending.push(found[name]);
      }
    }
    pending.push(...Object.values(node as Record<string, unknown>));
  }
  return found;
}
