import { HttpStatus, ParseArrayPipe, type Type, type ValidationPipe } from '@nestjs/common';
import { DECORATORS } from '@nestjs/swagger';
import { FieldErrorsException } from '@app/common/filters/field-errors.exception';
import type { TenantContext } from '@app/common/tenant/tenant-context';
import { refuseOtherTenant } from '@app/common/tenant/tenant.guard';
import { createValidationPipe, jsonDepth, MAX_BODY_DEPTH } from '@app/common/validation.pipe';
import { type JsonSchema, referencedDefinitions, schemaOf } from '@app/ml/tools/tool-schema';

/**
 * What a call may change: `read` changes nothing; `write` creates or starts something that can be
 * undone or left alone (a training job, a profile); `destructive` deletes, cancels, replaces what
 * serves predictions or moves a model's stage — a caller must confirm it (MCP: `"confirm": true`).
 */
export type ToolRisk = 'read' | 'write' | 'destructive';

/** A tool call's arguments split and validated as REST's ValidationPipe validates its parameters. */
export interface ToolInput<P = object, Q = object, B = unknown> {
  params: P;
  query: Q;
  body: B;
}

/**
 * A body that is not one DTO object, taken whole from one argument: a JSON object passed through
 * (predict's feature record), or with `items` a list validated as REST's ParseArrayPipe of that DTO
 * validates it (feedback's `[{prediction_id, actual}]`).
 */
export interface BodyArgument {
  name: string;
  description: string;
  items?: Type<unknown>;
}

/** How one operation of the ML API becomes a tool; see MlTool for what each part is for. */
export interface ToolSpec<P extends object, Q extends object, B> {
  /** The REST operation it is: its controller and method, whose Swagger operation id names the tool. */
  operation: [controller: Type<unknown>, method: string];
  risk: ToolRisk;
  /** The DTOs that validate the REST route's path parameters, query and body. */
  params?: Type<P>;
  query?: Type<Q>;
  body?: Type<B>;
  bodyArgument?: BodyArgument;
  /** Calls the concern's service, as the controller does. */
  run: (input: ToolInput<P, Q, B>, caller: TenantContext) => Promise<unknown>;
}

/** The ValidationPipe of REST (same options and errors), shared by every tool. */
const pipe: ValidationPipe = createValidationPipe();

/**
 * One operation of the ML API as a tool: named by its OpenAPI operation id, described by its Swagger
 * summary and description, its input schema generated from the same DTOs that validate REST, and its
 * arguments validated by the same pipe before the same service runs them for the caller's tenant.
 * A tool's arguments are the REST call's path parameters, query and body fields side by side (the
 * API's own field names: `job_id`, `algorithm`, `split.test_size`).
 */
export class MlTool {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly risk: ToolRisk;
  readonly inputSchema: JsonSchema;
  private readonly parts: { place: 'param' | 'query' | 'body'; dto: Type<unknown>; fields: Set<string> }[];

  constructor(private readonly spec: ToolSpec<object, object, unknown>) {
    const [controller, method] = spec.operation;
    const handler = (controller.prototype as Record<string, unknown>)[method];
    if (typeof handler !== 'function') {
      throw new Error(`${controller.name} has no method ${method}`);
    }
    // @nestjs/swagger's default operationIdFactory: `${controllerKey}_${methodKey}`.
    this.name = `${controller.name}_${method}`;
    const operation = (Reflect.getMetadata(DECORATORS.API_OPERATION, handler) ?? {}) as { summary?: string; description?: string };
    this.title = operation.summary ?? this.name;
    this.description = [operation.summary, operation.description].filter((text) => text !== undefined && text !== '').join('. ');
    this.risk = spec.risk;

    const parts = [
      { place: 'param' as const, dto: spec.params },
      { place: 'query' as const, dto: spec.query },
      { place: 'body' as const, dto: spec.body },
    ].flatMap(({ place, dto }) => (dto === undefined ? [] : [{ place, dto, schema: schemaOf(dto as Type<unknown>) }]));
    const properties: Record<string, unknown> = {};
    const required: string[] = [];
    for (const { schema } of parts) {
      for (const [field, fieldSchema] of Object.entries(schema.properties as Record<string, unknown>)) {
        if (field in properties) {
          throw new Error(`${this.name}: argument ${field} is both a path or query parameter and a body field`);
        }
        properties[field] = fieldSchema;
      }
      required.push(...((schema.required as string[] | undefined) ?? []));
    }
    const bodyArgument = spec.bodyArgument;
    if (bodyArgument !== undefined) {
      properties[bodyArgument.name] =
        bodyArgument.items === undefined
          ? { type: 'object', description: bodyArgument.description }
          : { type: 'array', minItems: 1, items: schemaOf(bodyArgument.items), description: bodyArgument.description };
      required.push(bodyArgument.name);
    }
    this.parts = parts.map(({ place, dto, schema }) => ({ place, dto, fields: new Set(Object.keys(schema.properties as object)) }));
    const inputSchema: JsonSchema = { type: 'object', properties, required, additionalProperties: false };
    const defs = referencedDefinitions(inputSchema);
    this.inputSchema = Object.keys(defs).length === 0 ? inputSchema : { ...inputSchema, $defs: defs };
  }

  /**
   * The arguments split into path parameters, query and body and validated as REST validates them:
   * the caller's tenant only (403 naming `tenant_id` / `dataset.tenant_id`), then the ValidationPipe
   * (400 naming each field; an unknown argument is "property x should not exist").
   */
  async prepare(args: Record<string, unknown>, caller: TenantContext): Promise<ToolInput> {
    if (jsonDepth(args) > MAX_BODY_DEPTH) {
      throw new FieldErrorsException(HttpStatus.BAD_REQUEST, [{ field: 'arguments', message: `the arguments are nested deeper than ${MAX_BODY_DEPTH} levels` }]);
    }
    refuseOtherTenant({ query: args, body: args }, caller.tenantId);
    const raw = { param: {} as Record<string, unknown>, query: {} as Record<string, unknown>, body: {} as Record<string, unknown> };
    const bodyArgument = this.spec.bodyArgument;
    // Unknown arguments go where the pipe refuses them: the body if there is one, else the last part.
    const fallback = this.parts.at(-1)?.place;
    for (const [field, value] of Object.entries(args)) {
      if (field === bodyArgument?.name) {
        continue;
      }
      const part = this.parts.find(({ fields }) => fields.has(field))?.place ?? fallback;
      if (part === undefined) {
        throw new FieldErrorsException(HttpStatus.BAD_REQUEST, [{ field, message: `property ${field} should not exist` }], `property ${field} should not exist`);
      }
      raw[part][field] = value;
    }
    const input: ToolInput = { params: {}, query: {}, body: undefined };
    for (const { place, dto } of this.parts) {
      const validated = (await pipe.transform(raw[place], { type: place, metatype: dto, data: undefined })) as object;
      if (place === 'param') input.params = validated;
      else if (place === 'query') input.query = validated;
      else input.body = validated;
    }
    if (bodyArgument !== undefined) {
      input.body = await validBodyArgument(bodyArgument, args[bodyArgument.name]);
    }
    return input;
  }

  /** Runs validated input through the concern's service for the caller. */
  run(input: ToolInput, caller: TenantContext): Promise<unknown> {
    return this.spec.run(input, caller);
  }
}

async function validBodyArgument({ name, items }: BodyArgument, value: unknown): Promise<unknown> {
  if (items !== undefined) {
    // The feedback route's own pipe and options; a missing list is refused naming the argument.
    if (!Array.isArray(value)) {
      throw new FieldErrorsException(HttpStatus.BAD_REQUEST, [{ field: name, message: `${name} must be an array` }], `${name} must be an array`);
    }
    return new ParseArrayPipe({ items, whitelist: true, forbidNonWhitelisted: true }).transform(value, { type: 'body', metatype: Array, data: undefined });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new FieldErrorsException(HttpStatus.BAD_REQUEST, [{ field: name, message: `${name} must be a JSON object` }], `${name} must be a JSON object`);
  }
  return value;
}

/** Keeps a tool's DTO types attached to its `run`, then erases them for the registry's list. */
export function defineTool<P extends object = object, Q extends object = object, B = unknown>(spec: ToolSpec<P, Q, B>): MlTool {
  return new MlTool(spec as unknown as ToolSpec<object, object, unknown>);
}
