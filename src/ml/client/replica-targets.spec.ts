import { describe, expect, it } from '@jest/globals';
import { ReplicaTargetCache } from '@app/ml/client/replica-targets';

/** Lets lookups started in the background settle. */
function backgroundLookups(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('ReplicaTargetCache', () => {
  function cacheWith(answers: Array<string[] | undefined | Error>) {
    let clock = 0;
    const lookups: string[] = [];
    const cache = new ReplicaTargetCache(
      (tenantId, modelId) => {
        lookups.push(`${tenantId}/${modelId}`);
        const answer = answers.shift();
        return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
      },
      1000,
      () => clock,
    );
    return { cache, lookups, advance: (ms: number) => (clock += ms) };
  }

  it('spreads calls over the replicas in turn, with one lookup for calls that arrive together', async () => {
    const { cache, lookups } = cacheWith([['http://a', 'http://b']]);

    const picked = await Promise.all([1, 2, 3, 4].map(() => cache.pick('acme', 'churn')));

    expect(picked.sort()).toEqual(['http://a', 'http://a', 'http://b', 'http://b']);
    expect(lookups).toEqual(['acme/churn']);
  });

  it('keeps an answer, "none" included, for the time to live, then asks again without holding calls', async () => {
    const { cache, lookups, advance } = cacheWith([undefined, ['http://a']]);

    await expect(cache.pick('acme', 'churn')).resolves.toBeUndefined();
    advance(999);
    await expect(cache.pick('acme', 'churn')).resolves.toBeUndefined();
    expect(lookups).toHaveLength(1);
    advance(1);
    // the old answer serves the call that finds it expired, and the calls while the lookup runs
    const [expired, meanwhile] = await Promise.all([cache.pick('acme', 'churn'), cache.pick('acme', 'churn')]);
    expect([expired, meanwhile]).toEqual([undefined, undefined]);
    await backgroundLookups();
    await expect(cache.pick('acme', 'churn')).resolves.toBe('http://a');
    expect(lookups).toHaveLength(2);
  });

  it('holds only the first calls of a deployment for its lookup', async () => {
    let answer: (urls: string[]) => void = () => undefined;
    const cache = new ReplicaTargetCache(() => new Promise<string[]>((resolve) => (answer = resolve)), 1000);
    const first = cache.pick('acme', 'churn');
    const second = cache.pick('acme', 'churn');
    answer(['http://a']);
    await expect(Promise.all([first, second])).resolves.toEqual(['http://a', 'http://a']);
  });

  it('treats a failed lookup as no targets, and asks again after forget', async () => {
    const { cache, lookups } = cacheWith([new Error('ML Service unreachable'), ['http://a']]);

    await expect(cache.pick('acme', 'churn')).resolves.toBeUndefined();
    cache.forget('acme', 'churn');
    await expect(cache.pick('acme', 'churn')).resolves.toBe('http://a');
    expect(lookups).toEqual(['acme/churn', 'acme/churn']);
  });

  it('avoids a deployment whose replica failed until the time to live has passed', async () => {
    const { cache, lookups, advance } = cacheWith([['http://a'], ['http://a']]);

    await expect(cache.pick('acme', 'churn')).resolves.toBe('http://a');
    cache.avoid('acme', 'churn');
    await expect(cache.pick('acme', 'churn')).resolves.toBeUndefined();
    advance(1000);
    await cache.pick('acme', 'churn'); // starts the lookup
    await backgroundLookups();
    await expect(cache.pick('acme', 'churn')).resolves.toBe('http://a');
    expect(lookups).toHaveLength(2);
  });

  it("never answers one tenant's call with another tenant's targets", async () => {
    const { cache } = cacheWith([['http://acme-replica'], undefined]);

    await expect(cache.pick('acme', 'churn')).resolves.toBe('http://acme-replica');
    await expect(cache.pick('globex', 'churn')).resolves.toBeUndefined();
  });
});
