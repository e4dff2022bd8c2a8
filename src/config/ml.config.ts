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
    predictMaxInFlight: env.ML_PREDICT_MAX_IN_FLIGHT,
    predictDirect: env.ML_PREDICT_DIRECT,
    maxDatasetSizeGb: env.ML_MAX_DATASET_SIZE_GB,
    llm: env.LLM_BASE_URL === '' ? null : { baseUrl: env.LLM_BASE_URL, model: env.LLM_MODEL, apiKey: env.LLM_API_KEY, timeoutMs: env.LLM_TIMEOUT * 1000 },
  };
});
