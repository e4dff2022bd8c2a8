import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { appConfig } from '@app/config/app.config';
import { authConfig } from '@app/config/auth.config';
import { validateEnvironment } from '@app/config/environment';
import { mlConfig } from '@app/config/ml.config';

/**
 * Global, validated configuration. `validate` runs before any provider is built, so a bad
 * variable stops start-up with its name instead of failing later on first use.
 */
@Module({
  imports: [
    ConfigModule.forRoot({
      isGlobal: true,
      ignoreEnvFile: true,
      validate: validateEnvironment,
      load: [appConfig, mlConfig, authConfig],
    }),
  ],
})
export class AppConfigModule {}
