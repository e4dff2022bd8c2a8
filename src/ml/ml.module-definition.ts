import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { MlModuleOptions } from '@app/ml/ml-module-options';

/**
 * forRoot / forRootAsync for MlModule. The module is always global: its feature modules
 * (training, tracking, registry, later tuning, serving, …) and a host's own modules share the one MLServiceClient.
 */
export const {
  ConfigurableModuleClass: ConfigurableMlModule,
  MODULE_OPTIONS_TOKEN: ML_MODULE_OPTIONS,
  OPTIONS_TYPE: ML_MODULE_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: ML_MODULE_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<MlModuleOptions>({ moduleName: 'Ml' })
  .setClassMethodName('forRoot')
  .setExtras({}, (definition) => ({ ...definition, global: true }))
  .build();
