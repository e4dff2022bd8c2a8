import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import { HttpException, NotAcceptableException } from '@nestjs/common';
import { FieldErrorsException } from '@app/common/filters/field-errors.exception';
import type { TenantContext } from '@app/common/tenant/tenant-context';
import type { MLServiceClient } from '@app/ml/client/ml-service.client';
import type { TrainingJob } from '@app/ml/client/ml-service.types';
import { ML_MODULE_DEFAULTS } from '@app/ml/ml-module-options';
import type { CreateTrainingJobDto } from '@app/ml/training/dto/create-training-job.dto';
import {
  QUEUED_JOB,
  revenueForecastConfig,
  seedTrainingConfig,
  VALIDATED_CHURN_CONFIG,
  XGBOOST_CATALOG,
} from '@app/ml/training/training.fixtures';
import { TrainingService } from '@app/ml/training/training.service';
import { chartMediaType } from '@app/ml/charts/chart-media-type';

const caller: TenantContext = { tenantId: 'acme-corp', requestId: 'req-1' };

function mockClient() {
  return {
    validateTrainingConfig: jest.fn<MLServiceClient['validateTrainingConfig']>().mockResolvedValue(VALIDATED_CHURN_CONFIG),
    listAlgorithms: jest.fn<MLServiceClient['listAlgorithms']>().mockResolvedValue(XGBOOST_CATALOG),
    submitTrainingJob: jest.fn<MLServiceClient['submitTrainingJob']>().mockResolvedValue(QUEUED_JOB),
    getTrainingJob: jest.fn<MLServiceClient['getTrainingJob']>(),
    listTrainingJobs: jest.fn<MLServiceClient['listTrainingJobs']>(),
    cancelTrainingJob: jest.fn<MLServiceClient['cancelTrainingJob']>(),
    listTrainingCharts: jest.fn<MLServiceClient['listTrainingCharts']>(),
    getTrainingChart: jest.fn<MLServiceClient['getTrainingChart']>(),
  };
}

describe('TrainingService', () => {
  let client: ReturnType<typeof mockClient>;
  let service: TrainingService;

  beforeEach(() => {
    client = mockClient();
    service = new TrainingService(client as unknown as MLServiceClient, ML_MODULE_DEFAULTS);
  });

  async function refusalOf(config: CreateTrainingJobDto): Promise<FieldErrorsException> {
    const error = await service.submit(config, caller, 'key-1').then(
      () => undefined,
      (caught: unknown) => caught,
    );
    if (!(error instanceof FieldErrorsException)) {
      throw new Error(`expected a refusal, got ${String(error)}`);
    }
    expect(client.submitTrainingJob).not.toHaveBeenCalled();
    return error;
  }

  describe('submit', () => {
    it("submits seed 001's config without the tenant or any limits in the body (limits are the ML Service's configuration)", async () => {
      const job = await service.submit(seedTrainingConfig(), caller, 'key-1');

      expect(job).toEqual(QUEUED_JOB);
      const [context, submission, key] = client.submitTrainingJob.mock.calls[0];
      expect(context).toBe(caller);
      expect(key).toBe('key-1');
      expect(submission.dataset).toEqual({ source: 'sql', query: 'SELECT * FROM ml_features.customer_churn' });
      expect(submission).not.toHaveProperty('limits');
      expect(submission.resources).toBeUndefined();
    });

    it("forwards a feature set dataset with its entity rows, never the body's tenant", async () => {
      const entities = { source: 'table' as const, table: 'crm.churn_labels' };
      const dataset = { source: 'feature_set' as const, name: 'customer', version: 2, entities, event_timestamp_column: 'as_of', tenant_id: 'acme-corp' };
      await service.submit({ ...seedTrainingConfig(), dataset }, caller, 'key-1');

      expect(client.submitTrainingJob.mock.calls[0][1].dataset).toEqual({ source: 'feature_set', name: 'customer', version: 2, entities, event_timestamp_column: 'as_of' });
    });

    it('forwards the requested resources', async () => {
      const resources = { cpus: 2, memory_gb: 4, gpus: 0 };
      await service.submit({ ...seedTrainingConfig(), resources }, { tenantId: 'initech', requestId: 'r' }, 'key-1');
      expect(client.submitTrainingJob.mock.calls[0][1].resources).toEqual(resources);
    });

    it('validates on the ML Service before submitting, with the same submission', async () => {
      await service.submit(seedTrainingConfig(), caller, 'key-1');
      expect(client.validateTrainingConfig).toHaveBeenCalledWith(caller, client.submitTrainingJob.mock.calls[0][1]);
      expect(client.validateTrainingConfig.mock.invocationCallOrder[0]).toBeLessThan(client.submitTrainingJob.mock.invocationCallOrder[0]);
    });

    it('sends an alias and a config without split or hyperparameters as they are: the catalog decides', async () => {
      const { split: _split, hyperparameters: _hyperparameters, ...rest } = seedTrainingConfig();
      await service.submit({ ...rest, algorithm: 'logistic' }, caller, 'key-1');
      const submission = client.submitTrainingJob.mock.calls[0][1];
      expect(submission).toMatchObject({ algorithm: 'logistic', split: undefined, hyperparameters: undefined });
    });

    it('forwards the forecasting fields of a forecasting job', async () => {
      await service.submit(revenueForecastConfig(), caller, 'key-1');
      const submission = client.submitTrainingJob.mock.calls[0][1];
      expect(submission).toMatchObject({ task_type: 'forecasting', time_column: 'date', horizon: 14, frequency: 'D' });
      expect(submission.hyperparameters).toEqual({ order: [2, 1, 1], seasonal_order: null });
    });

    it("passes every problem of the ML Service's 422 on, naming list items as this API does", async () => {
      client.validateTrainingConfig.mockRejectedValue(
        new FieldErrorsException(422, [
          { field: 'hyperparameters.max_depth', message: 'must be at most 20' },
          { field: 'feature_columns.1', message: 'the dataset has no column monthly_charge' },
          { field: 'dataset.query', message: 'table ml_features.nope does not exist' },
        ]),
      );
      const error = await refusalOf(seedTrainingConfig());
      expect(error.getStatus()).toBe(422);
      expect(error.fieldErrors).toEqual([
        { field: 'hyperparameters.max_depth', message: 'must be at most 20' },
        { field: 'feature_columns[1]', message: 'the dataset has no column monthly_charge' },
        { field: 'dataset.query', message: 'table ml_features.nope does not exist' },
      ]);
      expect(error.message).toBe(
        'hyperparameters.max_depth: must be at most 20; feature_columns[1]: the dataset has no column monthly_charge; dataset.query: table ml_features.nope does not exist',
      );
    });

    it('passes a 403 and an unreachable ML Service through unchanged', async () => {
      const forbidden = new FieldErrorsException(403, [], 'dataset.tenant_id names another tenant than the X-Tenant-ID header');
      client.validateTrainingConfig.mockRejectedValueOnce(forbidden);
      await expect(service.submit(seedTrainingConfig(), caller, 'key-1')).rejects.toBe(forbidden);
      const unreachable = new HttpException('ML Service unreachable: ECONNREFUSED', 503);
      client.validateTrainingConfig.mockRejectedValueOnce(unreachable);
      await expect(service.submit(seedTrainingConfig(), caller, 'key-1')).rejects.toBe(unreachable);
      expect(client.submitTrainingJob).not.toHaveBeenCalled();
    });
  });

  describe('algorithms', () => {
    it('reuses the algorithm catalog between calls, but not a failed fetch', async () => {
      client.listAlgorithms.mockRejectedValueOnce(new HttpException('down', 503));
      await expect(service.listAlgorithms(caller)).rejects.toThrow('down');
      await service.listAlgorithms(caller);
      const { algorithms } = await service.listAlgorithms(caller);
      expect(algorithms.map((algorithm) => algorithm.name)).toEqual(['xgboost']);
      expect(client.listAlgorithms).toHaveBeenCalledTimes(2);
    });
  });

  it('answers a completed job in the seed result shape', async () => {
    const completed: TrainingJob = {
      ...QUEUED_JOB,
      status: 'completed',
      progress: { iteration: 100, total_iterations: 100, metrics: { logloss: 0.3 }, elapsed_seconds: 11, estimated_remaining_seconds: 0 },
      metrics: {
        accuracy: 0.94,
        precision: 0.91,
        recall: 0.88,
        f1_score: 0.895,
        auc_roc: 0.96,
        confusion_matrix: [[450, 30], [25, 95]],
        log_loss: 0.21,
        per_class: { '0': { precision: 0.95, recall: 0.94, f1_score: 0.94, support: 480 }, '1': { precision: 0.76, recall: 0.79, f1_score: 0.78, support: 120 } },
      },
      feature_importance: { tenure: 0.35 },
      model_artifact_id: 'model-xyz789',
      training_duration_seconds: 12,
      data_summary: { total_samples: 5000, train_samples: 4000, test_samples: 1000 },
    };
    client.getTrainingJob.mockResolvedValue(completed);

    const job = await service.get(QUEUED_JOB.job_id, caller);

    expect(job).toEqual(completed);
  });

  it('lists with the status filter', async () => {
    client.listTrainingJobs.mockResolvedValue([QUEUED_JOB]);
    const list = await service.list({ status: 'queued', tenant_id: 'acme-corp' }, caller);
    expect(client.listTrainingJobs).toHaveBeenCalledWith(caller, { status: 'queued', limit: undefined });
    expect(list.jobs.map((job) => job.job_id)).toEqual([QUEUED_JOB.job_id]);
  });

  describe('charts', () => {
    it('lists what the ML Service lists', async () => {
      const list = { job_id: QUEUED_JOB.job_id, charts: [{ name: 'residuals', title: 'Residuals', media_types: ['image/png'] }] };
      client.listTrainingCharts.mockResolvedValue(list);
      await expect(service.listCharts(QUEUED_JOB.job_id, caller)).resolves.toEqual(list);
      expect(client.listTrainingCharts).toHaveBeenCalledWith(caller, QUEUED_JOB.job_id);
    });

    it('asks the ML Service for the negotiated representation', async () => {
      const chart = { content: Buffer.from('png'), contentType: 'image/png' };
      client.getTrainingChart.mockResolvedValue(chart);
      await expect(service.getChart(QUEUED_JOB.job_id, 'roc_curve', 'image/webp,image/*,*/*;q=0.8', caller)).resolves.toBe(chart);
      expect(client.getTrainingChart).toHaveBeenCalledWith(caller, QUEUED_JOB.job_id, 'roc_curve', 'image/png');
    });

    it('answers 406 without calling the ML Service when Accept allows neither PNG nor JSON', async () => {
      await expect(service.getChart(QUEUED_JOB.job_id, 'roc_curve', 'text/html', caller)).rejects.toThrow(NotAcceptableException);
      expect(client.getTrainingChart).not.toHaveBeenCalled();
    });

    it.each([
      [undefined, 'application/json'],
      ['*/*', 'application/json'],
      ['image/png', 'image/png'],
      ['application/vnd.vegalite.v5+json', 'application/vnd.vegalite.v5+json'],
      ['application/json;q=0.5, image/png', 'image/png'],
      ['text/html, image/png;q=0.2', 'image/png'],
    ])('answers Accept %s with %s', (accept, expected) => {
      expect(chartMediaType(accept)).toBe(expected);
    });

    it.each(['text/html', 'image/svg+xml', 'image/png;q=0'])('refuses Accept %s', (accept) => {
      expect(() => chartMediaType(accept)).toThrow(NotAcceptableException);
    });
  });
});
