import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import { NotAcceptableException } from '@nestjs/common';
import { FieldErrorsException } from '@app/common/filters/field-errors.exception';
import type { TenantContext } from '@app/common/tenant/tenant-context';
import type { MLServiceClient } from '@app/ml/client/ml-service.client';
import type { TuningSweep } from '@app/ml/client/ml-service.types';
import { QUEUED_JOB, seedTrainingConfig } from '@app/ml/training/training.fixtures';
import { createValidationPipe } from '@app/common/validation.pipe';
import { CreateTuningSweepDto } from '@app/ml/tuning/dto/create-tuning-sweep.dto';
import { TuningService } from '@app/ml/tuning/tuning.service';

const caller: TenantContext = { tenantId: 'acme-corp', requestId: 'req-1' };

const TRIAL = {
  trial_id: 'a1b2c3d4_00001',
  status: 'stopped_early' as const,
  params: { learning_rate: 0.02, max_depth: 4 },
  metrics: { log_loss: 0.52 },
  rounds: 10,
  duration_seconds: 0.8,
  error: null,
  perturbations: [],
};

const RUNNING_SWEEP: TuningSweep = {
  sweep_id: 'sweep-0123456789ab',
  tenant_id: 'acme-corp',
  name: 'churn-sweep',
  algorithm: 'xgboost',
  task_type: 'classification',
  search: 'tpe',
  scheduler: 'asha',
  metric: 'log_loss',
  mode: 'min',
  status: 'running',
  created_at: '2026-09-01T12:00:00Z',
  started_at: '2026-09-01T12:00:01Z',
  finished_at: null,
  progress: {
    trials_total: 16,
    trials_started: 1,
    trials_running: 0,
    trials_completed: 0,
    trials_stopped_early: 1,
    trials_failed: 0,
    best_trial: TRIAL,
    elapsed_seconds: 3.1,
    time_left_seconds: 14396.9,
    last_event: { trial_id: TRIAL.trial_id, event: 'stopped_early', round: 10 },
  },
  trials: [TRIAL],
  best_trial: TRIAL,
  histories: null,
  error: null,
  duration_seconds: null,
  mlflow_run_id: 'run-1',
};

function sweepRequest(): CreateTuningSweepDto {
  return {
    ...seedTrainingConfig(),
    name: 'churn-sweep',
    hyperparameters: { n_estimators: 200 },
    search_space: { learning_rate: { type: 'loguniform', lower: 0.01, upper: 0.3 } },
    search: 'tpe',
    scheduler: { type: 'asha', grace_period: 10 },
    num_samples: 16,
  };
}

function mockClient() {
  return {
    submitTuningSweepFromBase: jest.fn<MLServiceClient['submitTuningSweepFromBase']>().mockResolvedValue({ ...RUNNING_SWEEP, base: { job_id: 'train-0123456789ab', model_name: 'churn', version: '2' } }),
    submitTuningSweep: jest.fn<MLServiceClient['submitTuningSweep']>().mockResolvedValue(RUNNING_SWEEP),
    getTuningSweep: jest.fn<MLServiceClient['getTuningSweep']>().mockResolvedValue(RUNNING_SWEEP),
    listTuningSweeps: jest.fn<MLServiceClient['listTuningSweeps']>().mockResolvedValue([RUNNING_SWEEP]),
    cancelTuningSweep: jest.fn<MLServiceClient['cancelTuningSweep']>(),
    updateTuningSweep: jest.fn<MLServiceClient['updateTuningSweep']>().mockResolvedValue({ ...RUNNING_SWEEP, progress: { ...RUNNING_SWEEP.progress!, max_concurrent_trials: 4 } }),
    listDefaultSearchSpaces: jest.fn<MLServiceClient['listDefaultSearchSpaces']>(),
    listTuningCharts: jest.fn<MLServiceClient['listTuningCharts']>().mockResolvedValue({
      sweep_id: 'sweep-0123456789ab',
      charts: [{ name: 'parameter_importance', title: 'Hyperparameter importance', media_types: ['image/png', 'application/vnd.vegalite.v5+json'] }],
    }),
    getTuningChart: jest.fn<MLServiceClient['getTuningChart']>().mockResolvedValue({ content: Buffer.from('png'), contentType: 'image/png' }),
    trainBestTrial: jest.fn<MLServiceClient['trainBestTrial']>().mockResolvedValue({ ...QUEUED_JOB, tuned_by: { sweep_id: 'sweep-0123456789ab', trial_id: TRIAL.trial_id } }),
  };
}

describe('TuningService', () => {
  let client: ReturnType<typeof mockClient>;
  let service: TuningService;

  beforeEach(() => {
    client = mockClient();
    service = new TuningService(client as unknown as MLServiceClient);
  });

  it("sends the search without limits (the ML Service's configuration) and never the body's tenant", async () => {
    const sweep = await service.submit(sweepRequest(), caller, 'key-1');

    const [context, submission, key] = client.submitTuningSweep.mock.calls[0];
    expect(context).toBe(caller);
    expect(key).toBe('key-1');
    expect(submission.dataset).toEqual({ source: 'sql', query: 'SELECT * FROM ml_features.customer_churn' });
    expect(submission).not.toHaveProperty('limits');
    expect(submission).toMatchObject({ search: 'tpe', scheduler: { type: 'asha', grace_period: 10 }, num_samples: 16, hyperparameters: { n_estimators: 200 } });
    expect(sweep.progress?.trials_stopped_early).toBe(1);
    expect(sweep.trials).toEqual([TRIAL]);
  });

  it('accepts the pbt scheduler with its settings, refuses them out of range, and shows exploits in the trials table', async () => {
    const pipe = createValidationPipe();
    const metadata = { type: 'body' as const, metatype: CreateTuningSweepDto };
    const pbt = { type: 'pbt', perturbation_interval: 4, burn_in_period: 2, quantile_fraction: 0.5, resample_probability: 0.1, synch: false };
    const body = (await pipe.transform({ ...sweepRequest(), search: 'random', scheduler: pbt }, metadata)) as CreateTuningSweepDto;
    await service.submit(body, caller, 'key-2');
    expect(client.submitTuningSweep.mock.calls[0][1].scheduler).toEqual(pbt);
    const refused = await pipe.transform({ ...sweepRequest(), scheduler: { type: 'pbt', quantile_fraction: 0.7, synch: 'yes' } }, metadata).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(FieldErrorsException);
    expect((refused as FieldErrorsException).fieldErrors.map((each) => each.field).sort()).toEqual(['scheduler.quantile_fraction', 'scheduler.synch']);

    const exploited = { ...TRIAL, status: 'completed' as const, perturbations: [{ round: 4, cloned_trial_id: 'a1b2c3d4_00000', cloned_round: 4, params: { learning_rate: 0.4 } }] };
    client.getTuningSweep.mockResolvedValue({ ...RUNNING_SWEEP, scheduler: 'pbt', trials: [exploited] });
    const sweep = await service.get('sweep-0123456789ab', caller);
    expect(sweep.scheduler).toBe('pbt');
    expect(sweep.trials[0].perturbations).toEqual(exploited.perturbations);
  });

  it("passes the ML Service's refusal on, naming list items as this API does", async () => {
    client.submitTuningSweep.mockRejectedValue(
      new FieldErrorsException(422, [
        { field: 'search_space.max_depth', message: 'max_depth is an integer' },
        { field: 'feature_columns.1', message: 'no such column' },
      ]),
    );
    const error = await service.submit(sweepRequest(), caller, 'key-1').catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(FieldErrorsException);
    expect((error as FieldErrorsException).fieldErrors.map(({ field }) => field)).toEqual(['search_space.max_depth', 'feature_columns[1]']);
  });

  it('lists by status and maps every sweep', async () => {
    const listed = await service.list({ status: 'running', limit: 10 }, caller);

    expect(client.listTuningSweeps).toHaveBeenCalledWith(caller, { status: 'running', limit: 10 });
    expect(listed.sweeps.map(({ sweep_id }) => sweep_id)).toEqual(['sweep-0123456789ab']);
  });

  it('trains the best trial as a training job, registering when asked', async () => {
    const job = await service.trainBest('sweep-0123456789ab', { register: { model_name: 'churn' } }, caller, 'key-2');

    expect(client.trainBestTrial).toHaveBeenCalledWith(caller, 'sweep-0123456789ab', { trial_id: undefined, name: undefined, register: { model_name: 'churn' } }, 'key-2');
    expect(job.job_id).toBe(QUEUED_JOB.job_id);
    expect(job.tuned_by).toEqual({ sweep_id: 'sweep-0123456789ab', trial_id: TRIAL.trial_id });
  });

  it("lists a sweep's charts and fetches one as Accept asks, refusing an Accept it cannot answer before any call", async () => {
    const listed = await service.listCharts('sweep-0123456789ab', caller);
    expect(listed.charts.map(({ name }) => name)).toEqual(['parameter_importance']);

    await service.getChart('sweep-0123456789ab', 'parameter_importance', 'image/png', caller);
    expect(client.getTuningChart).toHaveBeenCalledWith(caller, 'sweep-0123456789ab', 'parameter_importance', 'image/png');

    await expect(service.getChart('sweep-0123456789ab', 'learning_curves', 'text/csv', caller)).rejects.toBeInstanceOf(NotAcceptableException);
    expect(client.getTuningChart).toHaveBeenCalledTimes(1);
  });

  it('starts a sweep from a registered version, forwarding the base and the search only', async () => {
    const sweep = await service.submitFromBase({ base_model: { model_name: 'churn', version: '2' }, search: 'tpe', num_samples: 8 }, caller, 'key-3');

    const [context, submission, key] = client.submitTuningSweepFromBase.mock.calls[0];
    expect(context).toBe(caller);
    expect(key).toBe('key-3');
    expect(submission).toMatchObject({ base_model: { model_name: 'churn', version: '2' }, search: 'tpe', num_samples: 8 });
    expect(submission.base_job_id).toBeUndefined();
    expect(sweep.base).toEqual({ job_id: 'train-0123456789ab', model_name: 'churn', version: '2' });
  });

  it('forwards a change of max_concurrent_trials and shows the value the sweep now allows', async () => {
    const sweep = await service.update('sweep-0123456789ab', { max_concurrent_trials: 4 }, caller);

    expect(client.updateTuningSweep).toHaveBeenCalledWith(caller, 'sweep-0123456789ab', { max_concurrent_trials: 4, num_samples: undefined });
    expect(sweep.progress?.max_concurrent_trials).toBe(4);
  });
});
