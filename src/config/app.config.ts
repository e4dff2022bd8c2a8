import { registerAs } from '@nestjs/config';
import { readEnvironment } from '@app/config/environment';

/** Where the standalone AI Service listens. */
export const appConfig = registerAs('app', () => {
  const env = readEnvironment();
  return { port: env.PORT, host: env.HOST };
});
