import { registerAs } from '@nestjs/config';
import { readEnvironment } from '@app/config/environment';

/** The ML Integration module and how it reaches the ML Service. */
export const mlConfig = registerAs('ml', () => {
  const env = readEnvironment();
  return {
    enabled: env.MODULE_ML_ENABLED,
    serviceUrl: env.ML_SERVICE_URL,
    serviceToken: env.ML_SERVICE_TOKEN,
    timeoutMs: env.ML_SERVICE_TIMEOUT * 1000,
    maxAttempts: env.ML_SERVICE_RETRIES,
    maxDatasetSizeGb: env.ML_MAX_DATASET_SIZE_GB,
  };
});
