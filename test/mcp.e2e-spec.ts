import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { App } from 'supertest/types';
import type { JobResponseDto } from '@app/ml/jobs/dto/job-response.dto';
import type { ModelVersionResponseDto } from '@app/ml/registry/dto/registry-responses.dto';
import type { TrainingJobListResponseDto, TrainingJobResponseDto } from '@app/ml/training/dto/training-job-response.dto';
import { seedTrainingConfig } from '@app/ml/training/training.fixtures';
import { ACME_KEY, GLOBEX_KEY, mlServiceUrl, startAiService } from '@test/support/ai-service';

const ENDED = new Set(['completed', 'failed', 'cancelled']);

/**
 * Issue 16's MCP server as an agent would use it: the official MCP client over Streamable HTTP at
 * /mcp of a listening AI Service, on the real ML Service. Lists the tools, reads, trains a model and
 * follows its job, promotes the model (refused without confirmation, done with it), and checks that
 * another tenant's key sees none of it and that no key is a 401.
 */
describe('MCP server at /mcp, with the official client, on the real stack', () => {
  let app: INestApplication<App>;
  let mcpUrl: URL;
  let acme: Client;
  let globex: Client;
  const modelName = `churn-mcp-e2e-${randomUUID().slice(0, 8)}`;
  let jobId = '';

  async function connect(apiKey: string): Promise<Client> {
    const client = new Client({ name: 'mcp-e2e', version: '1.0.0' });
    // MCP clients authenticate with a bearer token: the caller's API key.
    await client.connect(new StreamableHTTPClientTransport(mcpUrl, { requestInit: { headers: { Authorization: `Bearer ${apiKey}` } } }));
    return client;
  }

  async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
    return (await client.callTool({ name, arguments: args })) as CallToolResult;
  }

  function structured<T>(result: CallToolResult): T {
    expect(result.isError ?? false).toBe(false);
    return result.structuredContent as T;
  }

  beforeAll(async () => {
    app = await startAiService({ MODULE_ML_ENABLED: 'true', ML_SERVICE_URL: mlServiceUrl() });
    await app.listen(0, '127.0.0.1');
    mcpUrl = new URL('/mcp', await app.getUrl());
    acme = await connect(ACME_KEY);
    globex = await connect(GLOBEX_KEY);
  });

  afterAll(async () => {
    await acme?.close();
    await globex?.close();
    await app.close();
  });

  it('lists the tools with their schemas and MCP annotations', async () => {
    const { tools } = await acme.listTools();
    const byName = new Map(tools.map((tool) => [tool.name, tool]));
    const submit = byName.get('TrainingController_submitTrainingJob');
    expect(submit?.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: false });
    expect(submit?.inputSchema.required).toEqual(expect.arrayContaining(['algorithm', 'dataset', 'target_column']));
    expect(byName.get('JobsController_getJob')?.annotations).toMatchObject({ readOnlyHint: true, idempotentHint: true });
    const deploy = byName.get('ServingController_createDeployment');
    expect(deploy?.annotations?.destructiveHint).toBe(true);
    expect(deploy?.inputSchema.properties).toHaveProperty('confirm');
  });

  it('calls a read tool', async () => {
    const catalog = structured<{ algorithms: { name: string }[] }>(await call(acme, 'TrainingController_listTrainingAlgorithms'));
    expect(catalog.algorithms.map((algorithm) => algorithm.name)).toContain('xgboost');
  });

  it('answers bad arguments with an error result naming the field, as REST would', async () => {
    const result = await call(acme, 'TrainingController_submitTrainingJob', { ...seedTrainingConfig(), split: { test_size: 2 } });
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toMatchObject({ status: 400, errors: [{ field: 'split.test_size' }] });
  });

  it('trains a model through a tool and follows its job to the end', async () => {
    const config = { ...seedTrainingConfig(), name: modelName, hyperparameters: { n_estimators: 10, max_depth: 3 } };
    const submitted = structured<TrainingJobResponseDto>(await call(acme, 'TrainingController_submitTrainingJob', config));
    jobId = submitted.job_id;
    expect(submitted.status).toMatch(/queued|running/);
    const deadline = Date.now() + 240_000;
    let job: JobResponseDto;
    for (;;) {
      job = structured<JobResponseDto>(await call(acme, 'JobsController_getJob', { job_id: jobId }));
      if (ENDED.has(job.status) || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(job.status).toBe('completed');
    const listed = structured<TrainingJobListResponseDto>(await call(acme, 'TrainingController_listTrainingJobs', { limit: 50 }));
    expect(listed.jobs.map((each) => each.job_id)).toContain(jobId);
  });

  it('refuses a destructive tool without confirmation, changing nothing, and carries it out with it', async () => {
    const registered = structured<ModelVersionResponseDto>(await call(acme, 'RegistryController_registerModelVersion', { name: modelName, job_id: jobId }));
    const promote = { name: modelName, version: registered.version, stage: 'Production', reason: 'MCP e2e' };

    const refused = await call(acme, 'RegistryController_transitionModelVersionStage', promote);
    expect(refused.isError).toBe(true);
    expect(refused.structuredContent).toEqual({ needs_confirmation: true, plan: { tool: 'RegistryController_transitionModelVersionStage', arguments: promote } });
    const unchanged = structured<ModelVersionResponseDto>(await call(acme, 'RegistryController_getModelVersion', { name: modelName, version: registered.version }));
    expect(unchanged.stage).toBe('None');

    const done = structured<ModelVersionResponseDto>(await call(acme, 'RegistryController_transitionModelVersionStage', { ...promote, confirm: true }));
    expect(done.stage).toBe('Production');
    const after = structured<ModelVersionResponseDto>(await call(acme, 'RegistryController_getModelVersion', { name: modelName, version: registered.version }));
    expect(after.stage).toBe('Production');
  });

  it("shows another tenant's key none of the first tenant's things", async () => {
    const listed = structured<TrainingJobListResponseDto>(await call(globex, 'TrainingController_listTrainingJobs', { limit: 50 }));
    expect(listed.jobs.map((each) => each.job_id)).not.toContain(jobId);
    const job = await call(globex, 'JobsController_getJob', { job_id: jobId });
    expect(job.isError).toBe(true);
    expect(job.structuredContent).toMatchObject({ status: 404 });
    const models = structured<{ models: { name: string }[] }>(await call(globex, 'RegistryController_searchRegisteredModels'));
    expect(models.models.map((model) => model.name)).not.toContain(modelName);
    const foreign = await call(globex, 'TrainingController_submitTrainingJob', { ...seedTrainingConfig() });
    expect(foreign.structuredContent).toMatchObject({ status: 403, errors: [{ field: 'dataset.tenant_id' }] });
  });

  it('answers 401 without an API key, and the client cannot connect', async () => {
    const response = await fetch(mcpUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(response.status).toBe(401);
    const anonymous = new Client({ name: 'mcp-e2e', version: '1.0.0' });
    await expect(anonymous.connect(new StreamableHTTPClientTransport(mcpUrl))).rejects.toThrow();
    await expect(connect('stolen')).rejects.toThrow();
  });
});
