/** Looks up a deployment's replica URLs; undefined when its predictions must go through the ML Service. */
export type ReplicaTargetLookup = (tenantId: string, modelId: string) => Promise<string[] | undefined>;

interface Entry {
  /** performance.now() after which the entry is looked up again */
  expiresAt: number;
  urls: string[] | undefined;
  /** round-robin position over `urls` */
  next: number;
  /** the lookup under way, shared by the calls that arrive meanwhile */
  pending?: Promise<string[] | undefined>;
}

/**
 * The replica URLs each tenant's deployments may be called at directly (Ray Serve's direct ingress,
 * `GET /api/v1/serving/{id}/targets`), kept for `ttlMs` per tenant and deployment, the answer
 * "none" included, so the ML Service is asked at most once per `ttlMs` per deployment, however many
 * predictions arrive; an older answer serves until the next one is in. Calls spread over the replicas in turn. Keyed by tenant too: a deployment id is
 * only unique within its tenant, and one tenant's entry never answers another's call.
 */
export class ReplicaTargetCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly lookup: ReplicaTargetLookup,
    private readonly ttlMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * The URL the next call of the tenant's deployment goes to, or undefined: through the ML Service.
   * Only a deployment's first call waits for the lookup. Once the answer is older than the time to
   * live, calls keep it while one lookup runs in the background (stale while revalidate): waiting
   * for it held every call arriving meanwhile, each second, for as long as the ML Service took to
   * ask Serve's controller, and set the AI Service's p99 (bench/serving).
   */
  async pick(tenantId: string, modelId: string): Promise<string | undefined> {
    const key = `${tenantId}/${modelId}`;
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = { expiresAt: 0, urls: undefined, next: -1 };
      this.entries.set(key, entry);
      await this.refresh(entry, tenantId, modelId);
    } else if (entry.expiresAt === 0) {
      await entry.pending; // the first lookup, under way
    } else if (this.now() >= entry.expiresAt && entry.pending === undefined) {
      void this.refresh(entry, tenantId, modelId);
    }
    const urls = entry.urls;
    if (urls === undefined || urls.length === 0) {
      return undefined;
    }
    entry.next = (entry.next + 1) % urls.length;
    return urls[entry.next];
  }

  /** Drops what is known of the deployment (its routing changed): the next call looks it up again. */
  forget(tenantId: string, modelId: string): void {
    this.entries.delete(`${tenantId}/${modelId}`);
  }

  /**
   * Sends the deployment's calls through the ML Service until the time to live has passed (a
   * replica did not answer): looking it up again at once would, where replicas cannot be reached
   * at all, cost a lookup and a failed connection on every call.
   */
  avoid(tenantId: string, modelId: string): void {
    this.entries.set(`${tenantId}/${modelId}`, { expiresAt: this.now() + this.ttlMs, urls: undefined, next: -1 });
  }

  /** Looks the deployment up into `entry` (a failed lookup is "none"); never rejects. */
  private async refresh(entry: Entry, tenantId: string, modelId: string): Promise<void> {
    entry.pending = this.lookup(tenantId, modelId).catch(() => undefined);
    try {
      entry.urls = await entry.pending;
    } finally {
      entry.pending = undefined;
      entry.expiresAt = this.now() + this.ttlMs;
    }
  }
}
