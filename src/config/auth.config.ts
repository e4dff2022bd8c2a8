import { registerAs } from '@nestjs/config';
import { readEnvironment } from '@app/config/environment';

/** API keys of the standalone service: key → tenant id. */
export const authConfig = registerAs('auth', () => {
  const env = readEnvironment();
  const tenantByApiKey = new Map<string, string>();
  for (const entry of env.API_KEYS) {
    const separator = entry.indexOf(':');
    tenantByApiKey.set(entry.slice(0, separator), entry.slice(separator + 1));
  }
  return { tenantByApiKey };
});
