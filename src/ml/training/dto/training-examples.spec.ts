import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { SEED_001_TRAINING_REQUEST } from '@app/ml/training/dto/training-examples';

describe('SEED_001_TRAINING_REQUEST', () => {
  it('is the request the README sends with curl', () => {
    const readmeExample: unknown = JSON.parse(readFileSync(join(process.cwd(), 'docs/examples/train-churn.json'), 'utf8'));
    expect(SEED_001_TRAINING_REQUEST).toEqual(readmeExample);
  });
});
