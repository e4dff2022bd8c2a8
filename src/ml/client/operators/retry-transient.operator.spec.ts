import { describe, expect, it } from '@jest/globals';
import { AxiosError, AxiosHeaders } from 'axios';
import { backoffMs, retryAfterMs } from '@app/ml/client/operators/retry-transient.operator';

function tooManyRequests(retryAfter: string): AxiosError {
  const headers = new AxiosHeaders({ 'retry-after': retryAfter });
  return new AxiosError('429', 'ERR_BAD_RESPONSE', undefined, undefined, {
    status: 429,
    statusText: 'Too Many Requests',
    headers,
    config: { headers },
    data: {},
  });
}

describe('retryAfterMs', () => {
  it('reads seconds', () => {
    expect(retryAfterMs(tooManyRequests('3'))).toBe(3000);
  });

  it('reads an HTTP-date relative to now', () => {
    const now = Date.parse('Wed, 21 Oct 2026 07:28:00 GMT');
    expect(retryAfterMs(tooManyRequests('Wed, 21 Oct 2026 07:28:02 GMT'), now)).toBe(2000);
  });

  it('ignores an unreadable value', () => {
    expect(retryAfterMs(tooManyRequests('soon'))).toBeUndefined();
  });
});

describe('backoffMs', () => {
  it('doubles per retry, keeps at least half of each step, and stops at the cap', () => {
    const policy = { baseDelayMs: 100, maxDelayMs: 300 };
    for (let sample = 0; sample < 50; sample += 1) {
      expect(backoffMs(1, policy)).toBeGreaterThanOrEqual(50);
      expect(backoffMs(1, policy)).toBeLessThanOrEqual(100);
      expect(backoffMs(2, policy)).toBeGreaterThanOrEqual(100);
      expect(backoffMs(2, policy)).toBeLessThanOrEqual(200);
      expect(backoffMs(5, policy)).toBeLessThanOrEqual(300);
    }
  });
});
