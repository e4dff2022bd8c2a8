import { describe, expect, it } from '@jest/globals';
import { isMlModuleEnabled, validateEnvironment } from '@app/config/environment';

function failureOf(raw: Record<string, string>): string {
  try {
    validateEnvironment(raw);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('validateEnvironment', () => {
  it("takes the seed's defaults when nothing is set", () => {
    const env = validateEnvironment({});
    expect(env).toMatchObject({
      MODULE_ML_ENABLED: true,
      ML_SERVICE_URL: 'http://ml-service:8000',
      ML_SERVICE_TIMEOUT: 30,
      ML_SERVICE_RETRIES: 3,
      ML_PREDICT_MAX_IN_FLIGHT: 32,
      ML_PREDICT_DIRECT: true,
      PORT: 3000,
      HOST: '127.0.0.1',
      ML_MAX_DATASET_SIZE_GB: 10,
    });
  });

  it('parses set values', () => {
    const env = validateEnvironment({
      MODULE_ML_ENABLED: '0',
      ML_SERVICE_URL: 'http://127.0.0.1:8000',
      ML_SERVICE_TIMEOUT: '2.5',
      ML_MAX_DATASET_SIZE_GB: '0.5',
      API_KEYS: 'dev-acme-key:acme-corp, dev-globex-key:globex',
    });
    expect(env.MODULE_ML_ENABLED).toBe(false);
    expect(env.ML_SERVICE_TIMEOUT).toBe(2.5);
    expect(env.ML_MAX_DATASET_SIZE_GB).toBe(0.5);
    expect(env.API_KEYS).toEqual(['dev-acme-key:acme-corp', 'dev-globex-key:globex']);
  });

  it.each([
    ['MODULE_ML_ENABLED', 'yes', 'MODULE_ML_ENABLED must be one of true, false, 1, 0 (got "yes")'],
    ['ML_SERVICE_URL', 'ml-service:8000', 'ML_SERVICE_URL must be an http(s) URL such as http://127.0.0.1:8000 (got "ml-service:8000")'],
    ['ML_SERVICE_TIMEOUT', '30s', 'ML_SERVICE_TIMEOUT must be a number of seconds between 1 and 3600 (got "30s")'],
    ['ML_SERVICE_TIMEOUT', '0', 'ML_SERVICE_TIMEOUT must be a number of seconds between 1 and 3600 (got "0")'],
    ['ML_SERVICE_RETRIES', '0', 'ML_SERVICE_RETRIES must be an integer between 1 and 10 (got "0")'],
    ['ML_PREDICT_MAX_IN_FLIGHT', '0', 'ML_PREDICT_MAX_IN_FLIGHT must be an integer between 1 and 1024 (got "0")'],
    ['ML_PREDICT_DIRECT', 'maybe', 'ML_PREDICT_DIRECT must be one of true, false, 1, 0 (got "maybe")'],
    ['ML_MAX_DATASET_SIZE_GB', '0', 'ML_MAX_DATASET_SIZE_GB must be a number of GB greater than 0 (got "0")'],
    ['ML_MAX_DATASET_SIZE_GB', '10GB', 'ML_MAX_DATASET_SIZE_GB must be a number of GB greater than 0 (got "10GB")'],
    ['PORT', '70000', 'PORT must be an integer between 0 and 65535 (got "70000")'],
    // A secret is never echoed back, not even a wrong one.
    ['ML_SERVICE_TOKEN', 'short', 'ML_SERVICE_TOKEN must be at least 16 characters without spaces'],
    ['API_KEYS', 'just-a-key', 'API_KEYS must be a comma-separated list of key:tenant pairs (tenant: lowercase letters, digits, - and _)'],
  ])('refuses a bad %s, naming it', (name, value, expected) => {
    expect(failureOf({ [name]: value })).toBe(`Invalid configuration:\n  - ${expected}`);
  });

  it('names every bad variable at once', () => {
    const message = failureOf({ MODULE_ML_ENABLED: 'on', ML_SERVICE_TIMEOUT: 'x' });
    expect(message).toContain('MODULE_ML_ENABLED');
    expect(message).toContain('ML_SERVICE_TIMEOUT');
  });

  it('never prints API keys', () => {
    expect(failureOf({ API_KEYS: 'secret-key:Bad Tenant' })).not.toContain('secret-key');
  });
});

describe('isMlModuleEnabled', () => {
  it.each([
    ['true', true],
    ['1', true],
    ['false', false],
    ['0', false],
    ['FALSE', false],
  ])('reads MODULE_ML_ENABLED=%s as %s', (value, expected) => {
    expect(isMlModuleEnabled({ MODULE_ML_ENABLED: value })).toBe(expected);
  });
});
