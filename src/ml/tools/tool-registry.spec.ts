import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { HttpException, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA } from '@nestjs/common/constants.js';
import { FieldErrorsException } from '@app/common/filters/field-errors.exception';
import type { TenantContext } from '@app/common/tenant/tenant-context';
import { toMcpTool } from '@app/ml/mcp/mcp-server.factory';
import type { MlTool } from '@app/ml/tools/ml-tool';
import { ToolRegistry } from '@app/ml/tools/tool-registry';

// The services are never called here: these tests cover names, schemas, validation and risk.
const unused = {} as never;
const registry = new ToolRegistry(unused, unused, unused, unused, unused, unused, unused, unused, unused);
const caller: TenantContext = { tenantId: 'acme-corp', requestId: 'req-1' };

function tool(name: string): MlTool {
  const found = registry.get(name);
  if (found === undefined) {
    throw new Error(`no tool ${name}`);
  }
  return found;
}

async function refusal(name: string, args: Record<string, unknown>): Promise<FieldErrorsException> {
  const error = await tool(name).prepare(args, caller).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof FieldErrorsException)) {
    throw new Error(`expected ${name} to refuse ${JSON.stringify(args)}`);
  }
  return error;
}

const TRAINING = {
  name: 'churn',
  algorithm: 'xgboost',
  task_type: 'classification',
  dataset: { source: 'sql', query: 'SELECT * FROM ml_features.customer_churn' },
  target_column: 'churned',
};

describe('ToolRegistry', () => {
  it("names every tool by its REST operation's OpenAPI operation id, once", () => {
    const document = JSON.parse(readFileSync(join(process.cwd(), 'openapi', 'ai-service.json'), 'utf8')) as { paths: Record<string, Record<string, { operationId: string }>> };
    const operationIds = new Set(Object.values(document.paths).flatMap((operations) => Object.values(operations).map((operation) => operation.operationId)));
    const names = registry.tools.map((each) => each.name);
    expect(names.filter((name) => !operationIds.has(name))).toEqual([]);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(['TrainingController_submitTrainingJob', 'JobsController_getJob', 'ServingController_createDeployment', 'RegistryController_transitionModelVersionStage']));
  });

  it('describes a tool with its Swagger summary and description', () => {
    expect(tool('TrainingController_submitTrainingJob').description).toBe(
      "Submit a training job. Validated against the dataset's schema and the algorithm catalog, then queued on the ML Service.",
    );
  });

  it("generates the input schema from the DTOs' validation decorators, with their Swagger words", () => {
    const schema = tool('TrainingController_submitTrainingJob').inputSchema as {
      properties: Record<string, Record<string, unknown>>;
      required: string[];
      additionalProperties: boolean;
      $defs: Record<string, { properties: Record<string, Record<string, unknown>>; required?: string[]; additionalProperties: boolean }>;
    };
    expect(schema.required).toEqual(expect.arrayContaining(['name', 'algorithm', 'task_type', 'dataset', 'target_column']));
    expect(schema.required).not.toContain('split');
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.task_type.enum).toEqual(['classification', 'regression', 'forecasting']);
    expect(schema.properties.name).toMatchObject({ type: 'string', maxLength: 200, description: 'A name for the job and the model it produces.' });
    expect(schema.properties.dataset.$ref).toBe('#/$defs/TrainingDatasetDto');
    // ValidateIf: `query` is required only for source sql, which a schema cannot say, so it is optional.
    expect(schema.$defs.TrainingDatasetDto.required).toEqual(['source']);
    expect(schema.$defs.TrainingDatasetDto.properties.source.enum).toEqual(['sql', 'table', 'feature_set']);
    expect(Object.keys(schema.$defs.TrainingDatasetDto.properties)).toEqual(expect.arrayContaining(['query', 'table', 'name', 'version', 'entities', 'event_timestamp_column']));
    expect(schema.$defs.TrainingDatasetDto.additionalProperties).toBe(false);
    expect(schema.$defs.TrainingResourcesDto.properties.cpus).toMatchObject({ type: 'integer', minimum: 1, maximum: 1024 });
  });

  it('requires a field only when its validation and its documentation both do', () => {
    const schema = tool('RegistryController_registerModelVersion').inputSchema as { required: string[] };
    // job_id and run_id: exactly one, decided by a custom validator; neither is required on its own.
    expect(schema.required).toEqual(['name']);
  });

  it('puts path parameters and body fields side by side', () => {
    const schema = tool('RegistryController_transitionModelVersionStage').inputSchema as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(schema.properties).sort()).toEqual(['name', 'reason', 'stage', 'version']);
    expect([...schema.required].sort()).toEqual(['name', 'stage', 'version']);
  });

  it('validates as the REST ValidationPipe does, naming each field by its path', async () => {
    const error = await refusal('TrainingController_submitTrainingJob', { ...TRAINING, split: { test_size: 2 }, resources: { cpus: 0 } });
    expect(error.getStatus()).toBe(400);
    expect(error.fieldErrors.map((each) => each.field).sort()).toEqual(['resources.cpus', 'split.test_size']);
  });

  it('refuses an unknown argument as REST refuses an unknown body field', async () => {
    const error = await refusal('TrainingController_submitTrainingJob', { ...TRAINING, learning_rate: 0.1 });
    expect(error.fieldErrors).toEqual([{ field: 'learning_rate', message: 'property learning_rate should not exist' }]);
    const noArguments = await refusal('ServingController_listDeployments', { model_id: 'x' });
    expect(noArguments.fieldErrors).toEqual([{ field: 'model_id', message: 'property model_id should not exist' }]);
  });

  it('refuses a malformed path parameter naming it', async () => {
    const error = await refusal('TrainingController_getTrainingJob', { job_id: '../etc' });
    expect(error.fieldErrors).toEqual([{ field: 'job_id', message: 'job_id must look like train-<12 hex digits>' }]);
  });

  it("refuses another tenant's name with 403, as TenantGuard does", async () => {
    const error = await refusal('TrainingController_submitTrainingJob', { ...TRAINING, dataset: { ...TRAINING.dataset, tenant_id: 'globex' } });
    expect(error.getStatus()).toBe(403);
    expect(error.fieldErrors[0]?.field).toBe('dataset.tenant_id');
  });

  it('returns the parts transformed into their DTOs', async () => {
    const input = await tool('RegistryController_transitionModelVersionStage').prepare({ name: 'churn', version: '2', stage: 'Production' }, caller);
    expect(input.params).toMatchObject({ name: 'churn', version: '2' });
    expect(input.body).toMatchObject({ stage: 'Production' });
    const predict = await tool('ServingController_predict').prepare({ model_id: 'churn', input: { tenure: 3 } }, caller);
    expect(predict.body).toEqual({ tenure: 3 });
    await expect(tool('ServingController_predict').prepare({ model_id: 'churn', input: [1] }, caller)).rejects.toBeInstanceOf(HttpException);
    const feedback = await tool('ServingController_recordFeedback').prepare({ model_id: 'churn', entries: [{ prediction_id: 'p1', actual: 1 }] }, caller);
    expect(feedback.body).toEqual([expect.objectContaining({ prediction_id: 'p1', actual: 1 })]);
    await expect(tool('ServingController_recordFeedback').prepare({ model_id: 'churn', entries: [{ prediction_id: 'p1', actual: 1, extra: 2 }] }, caller)).rejects.toBeInstanceOf(HttpException);
  });

  it("offers what matters for a target as a read tool whose arguments are the REST query's fields", async () => {
    const importance = tool('FeaturesController_getFeatureImportance');
    expect(importance.risk).toBe('read');
    expect(Object.keys((importance.inputSchema as { properties: object }).properties).sort()).toEqual(['feature_set', 'feature_set_version', 'model_name', 'model_version', 'target']);
    const input = await importance.prepare({ target: 'churned', feature_set: 'customer', feature_set_version: 1 }, caller);
    expect(input.query).toMatchObject({ target: 'churned', feature_set: 'customer', feature_set_version: 1 });
    const error = await refusal('FeaturesController_getFeatureImportance', { model_name: 'churn', model_version: 'latest' });
    expect(error.fieldErrors).toEqual([{ field: 'model_version', message: 'model_version must be a version number (1, 2, ...)' }]);
  });

  it('labels reads read, deletions destructive, and deploy, promote and cancel destructive', () => {
    for (const each of registry.tools) {
      const [controller, method] = (each as unknown as { spec: { operation: [{ prototype: Record<string, unknown> }, string] } }).spec.operation;
      const httpMethod = Reflect.getMetadata(METHOD_METADATA, controller.prototype[method] as object) as RequestMethod;
      if (httpMethod === RequestMethod.GET) expect([each.name, each.risk]).toEqual([each.name, 'read']);
      if (httpMethod === RequestMethod.DELETE) expect([each.name, each.risk]).toEqual([each.name, 'destructive']);
    }
    for (const name of ['ServingController_createDeployment', 'RegistryController_transitionModelVersionStage', 'JobsController_cancelJob', 'ServingController_setTraffic', 'ServingController_rollbackDeployment']) {
      expect(tool(name).risk).toBe('destructive');
    }
    expect(tool('TrainingController_submitTrainingJob').risk).toBe('write');
  });

  it('gives MCP annotations from the risk, and destructive tools a confirm argument', () => {
    const deploy = toMcpTool(tool('ServingController_createDeployment'));
    expect(deploy.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true, idempotentHint: false });
    expect(deploy.inputSchema.properties).toHaveProperty('confirm');
    const list = toMcpTool(tool('TrainingController_listTrainingJobs'));
    expect(list.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false, idempotentHint: true });
    expect(list.inputSchema.properties).not.toHaveProperty('confirm');
  });
});
