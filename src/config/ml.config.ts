import { registerAs } from '@nestjs/config';
import { readEnvironment } from '@app/config/environment';
import { parseTenantLimits } from '@app/config/training-limits';

/** The ML Integration module and how it reaches the ML Service. */
export const mlConfig = registerAs('ml', () => {
  const env = readEnvironment();
  return {
    enabled: env.MODULE_ML_ENABLED,
    serviceUrl: env.ML_SERVICE_URL,
    serviceToken: env.ML_SERVICE_TOKEN,
    timeoutMs: env.ML_SERVICE_TIMEOUT * 1000,
    maxAttempts: env.ML_SERVICE_RETRIES,
    maxTrainingJobs: env.ML_MAX_TRAINING_JOBS,
    maxTrainingDurationSeconds: env.ML_MAX_TRAINING_DURATION,
    maxDatasetSizeGb: env.ML_MAX_DATASET_SIZE_GB,
    maxCpusPerJob: env.ML_MAX_CPU_PER_JOB,
    maxMemoryPerJobGb: env.ML_MAX_MEMORY_PER_JOB_GB,
    maxGpusPerJob: env.ML_MAX_GPU_PER_JOB,
    tenantLimits: parseTenantLimits(env.ML_TENANT_LIMITS),
  };
});
