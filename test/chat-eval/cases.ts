import type { ChatAgent, ConversationEntities } from '@app/ml/chat/chat-types';

/**
 * One evaluation query: the message, the conversation it arrives in (`given`), and what must come
 * out: the agent, the tool among the planned calls (`ASK` when the right answer is a question, null
 * for no call), and key arguments of that call by dotted path (`*` = present, any value).
 */
export interface EvalCase {
  q: string;
  agent: ChatAgent;
  tool: string | null;
  args?: Record<string, unknown>;
  given?: ConversationEntities;
  seed?: boolean;
}

const CHURN = { 'dataset.table': 'ml_features.customer_churn', target_column: 'churned' };

/** A conversation that has just trained seed 000's churn model (job train-0000000000ff, not registered). */
const AFTER_TRAIN: ConversationEntities = {
  job_id: 'train-0000000000ff',
  topic: 'churn',
  dataset: 'ml_features.customer_churn',
  target_column: 'churned',
  task_type: 'classification',
  last_intent: 'train',
  last_arguments: { name: 'churn-xgboost', algorithm: 'xgboost', task_type: 'classification', dataset: { source: 'table', table: 'ml_features.customer_churn' }, target_column: 'churned' },
};
const AFTER_DEPLOY: ConversationEntities = { deployment: 'churn-prod', model: { name: 'churn-xgboost', version: '2' }, last_intent: 'deploy' };

const T = 'TrainingController_submitTrainingJob';
const STATUS = 'TrainingController_getTrainingJob';
const SWEEP = 'TuningController_submitTuningSweepFromBase';
const DEPLOY = 'ServingController_createDeployment';
const METRICS = 'ServingController_getServingMetrics';
const VERSION = 'RegistryController_getModelVersion';
const PROFILE = 'EdaController_createProfile';
const ASK = 'ASK';

export const CASES: EvalCase[] = [
  // Seed 000's six queries, word for word, in the conversation the seed walks through.
  { seed: true, q: 'Train a model to predict customer churn', agent: 'training', tool: T, args: { ...CHURN, algorithm: 'xgboost', task_type: 'classification' } },
  { seed: true, q: 'Tune the learning rate for my churn model', agent: 'tuning', tool: SWEEP, args: { base_job_id: 'train-0000000000ff', 'search_space.learning_rate': '*' }, given: AFTER_TRAIN },
  { seed: true, q: 'What features are most important for churn?', agent: 'analysis', tool: STATUS, args: { job_id: 'train-0000000000ff' }, given: AFTER_TRAIN },
  { seed: true, q: 'Deploy the best churn model to production', agent: 'serving', tool: DEPLOY, args: { model_name: 'churn-lightgbm', version: 1 } },
  { seed: true, q: 'How accurate is my deployed model?', agent: 'monitoring', tool: METRICS, args: { model_id: 'churn-prod' } },
  { seed: true, q: 'Profile the customer dataset', agent: 'eda', tool: PROFILE, args: { 'dataset.table': 'ml_features.customer_churn' }, given: AFTER_TRAIN },
  // The seed's queries in a new conversation.
  { q: 'Tune the learning rate for my churn model', agent: 'tuning', tool: SWEEP, args: { 'base_model.model_name': 'churn-xgboost', 'base_model.version': '2', 'search_space.learning_rate': '*' } },
  { q: 'What features are most important for churn?', agent: 'analysis', tool: STATUS, args: { job_id: 'train-00000000000b' } },
  { q: 'Profile the customer dataset', agent: 'eda', tool: ASK },
  { q: 'How accurate is my deployed model?', agent: 'monitoring', tool: METRICS, args: { model_id: 'churn-prod' }, given: AFTER_TRAIN },

  // Training: paraphrases, word order, capitals, typos, slots.
  { q: 'train a churn model', agent: 'training', tool: T, args: { ...CHURN, algorithm: 'xgboost' } },
  { q: 'Build a classifier for churn', agent: 'training', tool: T, args: { ...CHURN, task_type: 'classification' } },
  { q: 'I want a model that predicts whether customers churn', agent: 'training', tool: T, args: CHURN },
  { q: 'trian a modle to predcit churn', agent: 'training', tool: T, args: CHURN },
  { q: 'TRAIN A MODEL TO PREDICT CUSTOMER CHURN', agent: 'training', tool: T, args: CHURN },
  { q: 'customer churn: train a model for it', agent: 'training', tool: T, args: CHURN },
  { q: 'Can you fit an xgboost model on customer churn?', agent: 'training', tool: T, args: { ...CHURN, algorithm: 'xgboost' } },
  { q: 'train lightgbm to predict churn', agent: 'training', tool: T, args: { ...CHURN, algorithm: 'lightgbm' } },
  { q: 'Train a random forest for churn', agent: 'training', tool: T, args: { ...CHURN, algorithm: 'random_forest' } },
  { q: 'train a neural network to predict churned', agent: 'training', tool: T, args: { ...CHURN, algorithm: 'neural_network' } },
  { q: 'build a logistic regression model for churn', agent: 'training', tool: T, args: { ...CHURN, algorithm: 'linear', task_type: 'classification' } },
  { q: 'Train a model to predict lifetime value', agent: 'training', tool: T, args: { 'dataset.table': 'ml_features.customer_value', target_column: 'lifetime_value', task_type: 'regression' } },
  { q: 'train a lightgbm regressor for lifetime value', agent: 'training', tool: T, args: { target_column: 'lifetime_value', algorithm: 'lightgbm', task_type: 'regression' } },
  { q: 'Train a model to predict house prices', agent: 'training', tool: T, args: { 'dataset.table': 'uploads.house_prices', target_column: 'price', task_type: 'regression' } },
  { q: 'train a model on house_prices to predict price using area_sqft and bedrooms', agent: 'training', tool: T, args: { target_column: 'price', feature_columns: ['area_sqft', 'bedrooms'] } },
  { q: 'Train a churn model using tenure, monthly charges and contract type', agent: 'training', tool: T, args: { ...CHURN, feature_columns: ['tenure', 'monthly_charges', 'contract_type'] } },
  { q: 'train xgboost on churn with max depth 4', agent: 'training', tool: T, args: { ...CHURN, 'hyperparameters.max_depth': 4 } },
  { q: 'train a churn model with learning rate 0.05 and 200 trees', agent: 'training', tool: T, args: { 'hyperparameters.learning_rate': 0.05, 'hyperparameters.n_estimators': 200 } },
  { q: 'train a churn classifier with a 30% test split', agent: 'training', tool: T, args: { ...CHURN, 'split.test_size': 0.3 } },
  { q: 'train a churn model with test size 0.25', agent: 'training', tool: T, args: { 'split.test_size': 0.25 } },
  { q: 'train a churn model with an 80/20 split', agent: 'training', tool: T, args: { 'split.test_size': 0.2 } },
  { q: 'forecast daily revenue', agent: 'training', tool: T, args: { 'dataset.table': 'ml_features.daily_revenue', target_column: 'revenue', task_type: 'forecasting', algorithm: 'prophet', time_column: 'date' } },
  { q: 'train a forecaster for revenue for the next 30 days', agent: 'training', tool: T, args: { task_type: 'forecasting', horizon: 30 } },
  { q: 'forecast revenue with arima', agent: 'training', tool: T, args: { algorithm: 'arima', task_type: 'forecasting' } },
  { q: 'Create a model to predict churn', agent: 'training', tool: T, args: CHURN },
  { q: 'Could you train me a model that predicts churn?', agent: 'training', tool: T, args: CHURN },
  { q: 'train a model for customer_churn predicting churned', agent: 'training', tool: T, args: CHURN },
  { q: 'make a churn prediction model', agent: 'training', tool: T, args: CHURN },
  { q: 'retrain the churn model with lightgbm', agent: 'training', tool: T, args: { ...CHURN, algorithm: 'lightgbm' } },
  { q: 'train a classifier on customer_churn', agent: 'training', tool: T, args: CHURN },
  { q: 'Train a model on the house prices upload', agent: 'training', tool: T, args: { target_column: 'price' } },
  { q: 'train a model', agent: 'training', tool: ASK },
  { q: "I'd like to train a model that can predict if a customer will churn", agent: 'training', tool: T, args: CHURN },
  { q: 'Please train an XGBoost classifier on the churn data', agent: 'training', tool: T, args: { ...CHURN, algorithm: 'xgboost' } },
  { q: 'train LightGBM on customer_value to predict lifetime_value', agent: 'training', tool: T, args: { target_column: 'lifetime_value', algorithm: 'lightgbm' } },
  { q: 'churn model, train it with lightgbm please', agent: 'training', tool: T, args: { ...CHURN, algorithm: 'lightgbm' } },
  { q: 'forecast revenue for the next 14 days', agent: 'training', tool: T, args: { horizon: 14, task_type: 'forecasting' } },
  { q: 'train a model to predict price on house prices using bedrooms and neighborhood', agent: 'training', tool: T, args: { feature_columns: ['bedrooms', 'neighborhood'] } },
  { q: 'trainn a random forrest on churn', agent: 'training', tool: T, args: { ...CHURN, algorithm: 'random_forest' } },
  { q: 'predict churn: build a model with xgboost and max_depth=5', agent: 'training', tool: T, args: { ...CHURN, 'hyperparameters.max_depth': 5 } },
  // Training follow-ups.
  { q: 'what about lightgbm?', agent: 'training', tool: T, args: { ...CHURN, algorithm: 'lightgbm' }, given: AFTER_TRAIN },
  { q: 'and with random forest?', agent: 'training', tool: T, args: { ...CHURN, algorithm: 'random_forest' }, given: AFTER_TRAIN },
  { q: 'try xgboost with max depth 3 instead', agent: 'training', tool: T, args: { ...CHURN, 'hyperparameters.max_depth': 3 }, given: AFTER_TRAIN },
  { q: 'and the regression one?', agent: 'training', tool: T, args: { target_column: 'lifetime_value', task_type: 'regression' }, given: AFTER_TRAIN },
  { q: 'how about a neural net', agent: 'training', tool: T, args: { ...CHURN, algorithm: 'neural_network' }, given: AFTER_TRAIN },
  { q: 'What about LightGBM', agent: 'training', tool: T, args: { algorithm: 'lightgbm' }, given: AFTER_TRAIN },

  // Job status.
  { q: 'how is the last job?', agent: 'training', tool: STATUS, args: { job_id: 'train-0000000000ff' }, given: AFTER_TRAIN },
  { q: "what's the status of train-00000000000e?", agent: 'training', tool: STATUS, args: { job_id: 'train-00000000000e' } },
  { q: 'show my training jobs', agent: 'training', tool: 'TrainingController_listTrainingJobs' },
  { q: 'is it done yet?', agent: 'training', tool: STATUS, args: { job_id: 'train-0000000000ff' }, given: AFTER_TRAIN },
  { q: "how's the training going", agent: 'training', tool: STATUS, args: { job_id: 'train-0000000000ff' }, given: AFTER_TRAIN },
  { q: 'list all jobs', agent: 'training', tool: 'TrainingController_listTrainingJobs' },
  { q: 'progress of the last training job', agent: 'training', tool: STATUS, args: { job_id: 'train-0000000000ff' }, given: AFTER_TRAIN },
  { q: 'did the job finish?', agent: 'training', tool: STATUS, args: { job_id: 'train-0000000000ff' }, given: AFTER_TRAIN },
  { q: 'the last job', agent: 'training', tool: STATUS, args: { job_id: 'train-0000000000ff' } },
  { q: 'how is sweep-0000000000f1 going?', agent: 'tuning', tool: 'TuningController_getTuningSweep', args: { sweep_id: 'sweep-0000000000f1' } },
  { q: "how's the sweep doing", agent: 'tuning', tool: 'TuningController_getTuningSweep', args: { sweep_id: 'sweep-0000000000f1' } },
  { q: 'list my sweeps', agent: 'tuning', tool: 'TuningController_listTuningSweeps' },
  { q: "what's the status of the sweep", agent: 'tuning', tool: 'TuningController_getTuningSweep', args: { sweep_id: 'sweep-0000000000f1' } },
  { q: 'how many trials has the sweep finished', agent: 'tuning', tool: 'TuningController_getTuningSweep' },
  { q: 'stauts of the last job', agent: 'training', tool: STATUS, args: { job_id: 'train-0000000000ff' } },

  // Cancel (destructive).
  { q: 'cancel it', agent: 'training', tool: 'TrainingController_cancelTrainingJob', args: { job_id: 'train-0000000000ff' }, given: AFTER_TRAIN },
  { q: 'stop training job train-00000000000e', agent: 'training', tool: 'TrainingController_cancelTrainingJob', args: { job_id: 'train-00000000000e' } },
  { q: 'abort the sweep', agent: 'tuning', tool: 'TuningController_cancelTuningSweep', args: { sweep_id: 'sweep-0000000000f1' } },
  { q: 'cancel sweep-0000000000f1', agent: 'tuning', tool: 'TuningController_cancelTuningSweep', args: { sweep_id: 'sweep-0000000000f1' } },
  { q: 'kill the running job', agent: 'training', tool: 'TrainingController_cancelTrainingJob', args: { job_id: 'train-00000000000e' } },
  { q: 'canel the last job', agent: 'training', tool: 'TrainingController_cancelTrainingJob', args: { job_id: 'train-0000000000ff' }, given: AFTER_TRAIN },
  { q: 'cancle the training', agent: 'training', tool: 'TrainingController_cancelTrainingJob', args: { job_id: 'train-0000000000ff' }, given: AFTER_TRAIN },
  { q: 'stop the tuning sweep', agent: 'tuning', tool: 'TuningController_cancelTuningSweep', args: { sweep_id: 'sweep-0000000000f1' } },

  // Algorithms.
  { q: 'which algorithms can I use?', agent: 'training', tool: 'TrainingController_listTrainingAlgorithms' },
  { q: 'what algorithms are supported', agent: 'training', tool: 'TrainingController_listTrainingAlgorithms' },
  { q: 'list available algorithms', agent: 'training', tool: 'TrainingController_listTrainingAlgorithms' },

  // Tuning.
  { q: 'tune churn-lightgbm', agent: 'tuning', tool: SWEEP, args: { 'base_model.model_name': 'churn-lightgbm', 'base_model.version': '1' } },
  { q: 'optimize the hyperparameters of the best churn model', agent: 'tuning', tool: SWEEP, args: { 'base_model.model_name': 'churn-lightgbm' } },
  { q: 'run a hyperparameter sweep on churn-xgboost over max depth and learning rate', agent: 'tuning', tool: SWEEP, args: { 'base_model.model_name': 'churn-xgboost', 'search_space.max_depth': '*', 'search_space.learning_rate': '*' } },
  { q: 'tune max_depth of churn-xgboost with 40 trials', agent: 'tuning', tool: SWEEP, args: { num_samples: 40, 'search_space.max_depth': '*' } },
  { q: 'tune it', agent: 'tuning', tool: SWEEP, args: { base_job_id: 'train-0000000000ff' }, given: AFTER_TRAIN },
  { q: 'hpo on the learning rate please', agent: 'tuning', tool: SWEEP, args: { base_job_id: 'train-0000000000ff', 'search_space.learning_rate': '*' }, given: AFTER_TRAIN },
  { q: 'optimze the lerning rate of churn-lightgbm', agent: 'tuning', tool: SWEEP, args: { 'base_model.model_name': 'churn-lightgbm', 'search_space.learning_rate': '*' } },
  { q: 'tune learning_rate on my churn model', agent: 'tuning', tool: SWEEP, args: { base_job_id: 'train-0000000000ff' }, given: AFTER_TRAIN },
  { q: 'launch a tuning sweep for ltv-regressor', agent: 'tuning', tool: SWEEP, args: { 'base_model.model_name': 'ltv-regressor' } },
  { q: 'tnue the learning rate of churn-lightgbm', agent: 'tuning', tool: SWEEP, args: { 'base_model.model_name': 'churn-lightgbm', 'search_space.learning_rate': '*' } },
  { q: 'Tune the learning rate of my churn model with 20 trials', agent: 'tuning', tool: SWEEP, args: { num_samples: 20 }, given: AFTER_TRAIN },
  { q: 'hyperparameter tuning for the ltv model', agent: 'tuning', tool: SWEEP, args: { 'base_model.model_name': 'ltv-regressor' } },
  { q: 'tune the number of trees of churn-lightgbm', agent: 'tuning', tool: SWEEP, args: { 'search_space.n_estimators': '*' } },
  { q: 'tune a model', agent: 'tuning', tool: ASK },
  { q: 'sweep the learning rate of train-00000000000b', agent: 'tuning', tool: SWEEP, args: { 'base_model.model_name': 'churn-xgboost', 'base_model.version': '2' } },

  // Analysis: feature importance.
  { q: 'which features matter most for churn-xgboost?', agent: 'analysis', tool: STATUS, args: { job_id: 'train-00000000000b' } },
  { q: 'what drives churn?', agent: 'analysis', tool: STATUS, args: { job_id: 'train-00000000000b' } },
  { q: 'feature importance of train-00000000000a', agent: 'analysis', tool: STATUS, args: { job_id: 'train-00000000000a' } },
  { q: 'show the feature importance', agent: 'analysis', tool: STATUS, args: { job_id: 'train-0000000000ff' }, given: AFTER_TRAIN },
  { q: 'which features are the most predictive for ltv-regressor', agent: 'analysis', tool: STATUS, args: { job_id: 'train-00000000000d' } },
  { q: 'show the importance chart for the best churn model', agent: 'analysis', tool: STATUS, args: { job_id: 'train-00000000000c' } },
  { q: 'wich feautres matter most?', agent: 'analysis', tool: STATUS, args: { job_id: 'train-0000000000ff' }, given: AFTER_TRAIN },
  { q: 'and the regression one?', agent: 'analysis', tool: STATUS, args: { job_id: 'train-00000000000d' }, given: { last_intent: 'importance' } },
  { q: 'what about churn-lightgbm?', agent: 'analysis', tool: STATUS, args: { job_id: 'train-00000000000c' }, given: { last_intent: 'importance' } },
  { q: 'What features are most important?', agent: 'analysis', tool: STATUS, args: { job_id: 'train-0000000000ff' }, given: AFTER_TRAIN },
  { q: 'which columns influence churn the most', agent: 'analysis', tool: STATUS, args: { job_id: 'train-00000000000b' } },
  { q: 'explain the churn-xgboost model: which features are important', agent: 'analysis', tool: STATUS, args: { job_id: 'train-00000000000b' } },
  { q: 'top drivers of churn', agent: 'analysis', tool: STATUS, args: { job_id: 'train-00000000000c' } },

  // Serving: deploy (destructive), rollback, undeploy, traffic, predict.
  { q: 'now deploy it', agent: 'serving', tool: DEPLOY, args: { model_name: 'churn-xgboost' }, given: AFTER_TRAIN },
  { q: 'now deploy it', agent: 'serving', tool: 'RegistryController_registerModelVersion', args: { job_id: 'train-0000000000ff' }, given: AFTER_TRAIN },
  // churn-xgboost v2 is serving as churn-prod: another version is a release next to it, the same one nothing to do.
  { q: 'deploy churn-xgboost version 1', agent: 'serving', tool: 'ServingController_releaseVersion', args: { model_id: 'churn-prod', version: 1 } },
  { q: 'deploy churn-lightgbm', agent: 'serving', tool: DEPLOY, args: { model_name: 'churn-lightgbm', version: 1 } },
  { q: 'ship the best churn model', agent: 'serving', tool: DEPLOY, args: { model_name: 'churn-lightgbm' } },
  { q: 'put churn-xgboost into production', agent: 'serving', tool: 'ServingController_getDeployment', args: { model_id: 'churn-prod' } },
  { q: 'deply the best churn modle to prodution', agent: 'serving', tool: DEPLOY, args: { model_name: 'churn-lightgbm', version: 1 } },
  { q: 'serve the ltv-regressor', agent: 'serving', tool: DEPLOY, args: { model_name: 'ltv-regressor', version: 1 } },
  { q: 'go live with churn-lightgbm', agent: 'serving', tool: DEPLOY, args: { model_name: 'churn-lightgbm' } },
  { q: 'deploy the ltv model', agent: 'serving', tool: DEPLOY, args: { model_name: 'ltv-regressor' } },
  { q: 'Deploy the model with the best accuracy for churn', agent: 'serving', tool: DEPLOY, args: { model_name: 'churn-lightgbm' } },
  { q: 'DEPLOY THE BEST CHURN MODEL', agent: 'serving', tool: DEPLOY, args: { model_name: 'churn-lightgbm' } },
  { q: 'roll it back', agent: 'serving', tool: 'ServingController_rollbackDeployment', args: { model_id: 'churn-prod' }, given: AFTER_DEPLOY },
  { q: 'rollback churn-prod', agent: 'serving', tool: 'ServingController_rollbackDeployment', args: { model_id: 'churn-prod' } },
  { q: 'revert the churn deployment to the previous version', agent: 'serving', tool: 'ServingController_rollbackDeployment', args: { model_id: 'churn-prod' } },
  { q: 'undo the last deployment', agent: 'serving', tool: 'ServingController_rollbackDeployment', args: { model_id: 'churn-prod' }, given: AFTER_DEPLOY },
  { q: 'roll back churn-prod', agent: 'serving', tool: 'ServingController_rollbackDeployment', args: { model_id: 'churn-prod' } },
  { q: 'rollbak churn-prod', agent: 'serving', tool: 'ServingController_rollbackDeployment', args: { model_id: 'churn-prod' } },
  { q: 'Roll back my deployed model', agent: 'serving', tool: 'ServingController_rollbackDeployment', args: { model_id: 'churn-prod' } },
  { q: 'undeploy churn-prod', agent: 'serving', tool: 'ServingController_deleteDeployment', args: { model_id: 'churn-prod' } },
  { q: 'take down the churn deployment', agent: 'serving', tool: 'ServingController_deleteDeployment', args: { model_id: 'churn-prod' } },
  { q: 'stop serving churn-prod', agent: 'serving', tool: 'ServingController_deleteDeployment', args: { model_id: 'churn-prod' } },
  { q: 'delete the deployment churn-prod', agent: 'serving', tool: 'ServingController_deleteDeployment', args: { model_id: 'churn-prod' } },
  { q: 'send 20% of traffic to version 1 of churn-prod', agent: 'serving', tool: 'ServingController_setTraffic', args: { model_id: 'churn-prod' } },
  { q: 'split traffic 80/20 between version 2 and version 1 on churn-prod', agent: 'serving', tool: 'ServingController_setTraffic', args: { model_id: 'churn-prod' } },
  { q: 'what is deployed?', agent: 'serving', tool: 'ServingController_listDeployments' },
  { q: 'list deployments', agent: 'serving', tool: 'ServingController_listDeployments' },
  { q: 'show me the live endpoints', agent: 'serving', tool: 'ServingController_listDeployments' },
  { q: "what's deployed right now", agent: 'serving', tool: 'ServingController_listDeployments' },
  { q: 'predict churn for tenure=12, monthly_charges=80 on churn-prod', agent: 'serving', tool: 'ServingController_predict', args: { model_id: 'churn-prod', 'input.tenure': 12, 'input.monthly_charges': 80 } },
  { q: 'score a customer with tenure 5 and monthly_charges 99.5', agent: 'serving', tool: 'ServingController_predict', args: { 'input.tenure': 5, 'input.monthly_charges': 99.5 } },
  { q: 'make a prediction for tenure=3 contract_type=month-to-month', agent: 'serving', tool: 'ServingController_predict', args: { model_id: 'churn-prod', 'input.contract_type': 'month-to-month' }, given: AFTER_DEPLOY },

  // Monitoring.
  { q: 'how is churn-prod performing?', agent: 'monitoring', tool: METRICS, args: { model_id: 'churn-prod' } },
  { q: "what's the accuracy of churn-lightgbm?", agent: 'monitoring', tool: VERSION, args: { name: 'churn-lightgbm', version: '1' } },
  { q: 'how accurate is the best churn model', agent: 'monitoring', tool: VERSION, args: { name: 'churn-lightgbm' } },
  { q: 'show latency and error rate for churn-prod', agent: 'monitoring', tool: METRICS, args: { model_id: 'churn-prod' } },
  { q: 'how well is the live model doing', agent: 'monitoring', tool: METRICS, args: { model_id: 'churn-prod' } },
  { q: 'acuracy of my deployed model', agent: 'monitoring', tool: METRICS, args: { model_id: 'churn-prod' } },
  { q: 'how accurate is it?', agent: 'monitoring', tool: METRICS, args: { model_id: 'churn-prod' }, given: AFTER_DEPLOY },
  { q: 'and the regression one?', agent: 'monitoring', tool: VERSION, args: { name: 'ltv-regressor' }, given: { last_intent: 'accuracy' } },
  { q: "what's the rmse of ltv-regressor", agent: 'monitoring', tool: VERSION, args: { name: 'ltv-regressor', version: '1' } },
  { q: 'How accurate is my churn model?', agent: 'monitoring', tool: VERSION, args: { name: 'churn-xgboost', version: '2' } },
  { q: 'how is the deployed model performing in production', agent: 'monitoring', tool: METRICS, args: { model_id: 'churn-prod' } },
  { q: 'what is the accuracy of my deployed model', agent: 'monitoring', tool: VERSION, args: { name: 'churn-xgboost', version: '2' } },
  { q: 'is there drift on churn-prod?', agent: 'monitoring', tool: 'ServingController_getDrift', args: { model_id: 'churn-prod' } },
  { q: 'has the data shifted for my deployed model in the last 7 days', agent: 'monitoring', tool: 'ServingController_getDrift', args: { model_id: 'churn-prod', window: '7d' } },
  { q: 'check drift', agent: 'monitoring', tool: 'ServingController_getDrift', args: { model_id: 'churn-prod' } },
  { q: 'drfit report for churn-prod', agent: 'monitoring', tool: 'ServingController_getDrift', args: { model_id: 'churn-prod' } },
  { q: 'is the churn model drifting?', agent: 'monitoring', tool: 'ServingController_getDrift', args: { model_id: 'churn-prod' } },

  // EDA.
  { q: 'profile customer_value', agent: 'eda', tool: PROFILE, args: { 'dataset.table': 'ml_features.customer_value' } },
  { q: 'run eda on the churn table', agent: 'eda', tool: PROFILE, args: { 'dataset.table': 'ml_features.customer_churn' } },
  { q: 'explore the daily revenue data', agent: 'eda', tool: PROFILE, args: { 'dataset.table': 'ml_features.daily_revenue' } },
  { q: 'show me summary statistics for house_prices', agent: 'eda', tool: PROFILE, args: { 'dataset.table': 'uploads.house_prices' } },
  { q: 'data quality report for customer churn', agent: 'eda', tool: PROFILE, args: { 'dataset.table': 'ml_features.customer_churn' } },
  { q: 'proifle the churn data', agent: 'eda', tool: PROFILE, args: { 'dataset.table': 'ml_features.customer_churn' } },
  { q: 'are there missing values in customer_value?', agent: 'eda', tool: PROFILE, args: { 'dataset.table': 'ml_features.customer_value' } },
  { q: 'analyze the customer churn dataset', agent: 'eda', tool: PROFILE, args: { 'dataset.table': 'ml_features.customer_churn' } },
  { q: 'what does the revenue data look like', agent: 'eda', tool: PROFILE, args: { 'dataset.table': 'ml_features.daily_revenue' } },
  { q: 'show correlations in customer_churn', agent: 'eda', tool: PROFILE, args: { 'dataset.table': 'ml_features.customer_churn' } },
  { q: 'profile the churn table with target churned', agent: 'eda', tool: PROFILE, args: { 'dataset.table': 'ml_features.customer_churn', target_column: 'churned' } },
  { q: 'PROFILE THE HOUSE PRICES', agent: 'eda', tool: PROFILE, args: { 'dataset.table': 'uploads.house_prices' } },
  { q: 'profile the dataset', agent: 'eda', tool: PROFILE, args: { 'dataset.table': 'ml_features.customer_churn' }, given: AFTER_TRAIN },
  { q: 'distributions of the customer value table', agent: 'eda', tool: PROFILE, args: { 'dataset.table': 'ml_features.customer_value' } },
  { q: 'what datasets do I have?', agent: 'eda', tool: 'DatasetsController_listDatasets' },
  { q: 'list my tables', agent: 'eda', tool: 'DatasetsController_listDatasets' },
  { q: 'what columns does customer_value have?', agent: 'eda', tool: 'DatasetsController_getDataset', args: { table: 'ml_features.customer_value' } },
  { q: 'show the schema of daily_revenue', agent: 'eda', tool: 'DatasetsController_getDataset', args: { table: 'ml_features.daily_revenue' } },
  { q: 'which tables are in my warehouse', agent: 'eda', tool: 'DatasetsController_listDatasets' },

  // Registry.
  { q: 'list my models', agent: 'registry', tool: 'RegistryController_searchRegisteredModels' },
  { q: 'what models are registered?', agent: 'registry', tool: 'RegistryController_searchRegisteredModels' },
  { q: 'show production models', agent: 'registry', tool: 'RegistryController_searchRegisteredModels', args: { stage: 'Production' } },
  { q: 'show me the churn-lightgbm model in the registry', agent: 'registry', tool: 'RegistryController_getRegisteredModel', args: { name: 'churn-lightgbm' } },
  { q: 'versions of churn-xgboost', agent: 'registry', tool: 'RegistryController_getRegisteredModel', args: { name: 'churn-xgboost' } },
  { q: 'promote churn-lightgbm to production', agent: 'registry', tool: 'RegistryController_transitionModelVersionStage', args: { name: 'churn-lightgbm', version: '1', stage: 'Production' } },
  { q: 'move churn-xgboost version 1 to staging', agent: 'registry', tool: 'RegistryController_transitionModelVersionStage', args: { name: 'churn-xgboost', version: '1', stage: 'Staging' } },
  { q: 'archive version 1 of churn-xgboost', agent: 'registry', tool: 'RegistryController_transitionModelVersionStage', args: { name: 'churn-xgboost', version: '1', stage: 'Archived' } },
  { q: 'promte ltv-regressor to production', agent: 'registry', tool: 'RegistryController_transitionModelVersionStage', args: { name: 'ltv-regressor', stage: 'Production' } },
  { q: 'register the last job as churn-final', agent: 'registry', tool: 'RegistryController_registerModelVersion', args: { name: 'churn-final', job_id: 'train-0000000000ff' }, given: AFTER_TRAIN },
  { q: 'register train-00000000000e', agent: 'registry', tool: 'RegistryController_registerModelVersion', args: { job_id: 'train-00000000000e' } },
  { q: 'delete churn-lightgbm', agent: 'registry', tool: 'RegistryController_deleteRegisteredModel', args: { name: 'churn-lightgbm' } },
  { q: 'delete version 1 of churn-xgboost', agent: 'registry', tool: 'RegistryController_deleteModelVersion', args: { name: 'churn-xgboost', version: '1' } },
  { q: 'remove the ltv-regressor model', agent: 'registry', tool: 'RegistryController_deleteRegisteredModel', args: { name: 'ltv-regressor' } },
  { q: 'who promoted churn-xgboost?', agent: 'registry', tool: 'RegistryController_getModelAudit', args: { name: 'churn-xgboost' } },
  { q: 'show the audit trail of churn-xgboost', agent: 'registry', tool: 'RegistryController_getModelAudit', args: { name: 'churn-xgboost' } },
  { q: 'history of churn-lightgbm', agent: 'registry', tool: 'RegistryController_getModelAudit', args: { name: 'churn-lightgbm' } },
  { q: 'promote it to production', agent: 'registry', tool: 'RegistryController_transitionModelVersionStage', args: { name: 'churn-xgboost', version: '2', stage: 'Production' }, given: AFTER_DEPLOY },
  { q: 'register it', agent: 'registry', tool: 'RegistryController_registerModelVersion', args: { job_id: 'train-0000000000ff' }, given: AFTER_TRAIN },

  // Tracking.
  { q: 'list my experiments', agent: 'tracking', tool: 'TrackingController_listExperiments' },
  { q: 'show mlflow runs', agent: 'tracking', tool: 'TrackingController_searchRuns' },
  { q: 'compare runs 0123456789abcdef0123456789abcdef and fedcba9876543210fedcba9876543210', agent: 'tracking', tool: 'TrackingController_compareRuns' },
  { q: 'show experiment tracking', agent: 'tracking', tool: 'TrackingController_listExperiments' },
  { q: 'what experiments do I have', agent: 'tracking', tool: 'TrackingController_listExperiments' },
  { q: 'show run 0123456789abcdef0123456789abcdef', agent: 'tracking', tool: 'TrackingController_getRun', args: { run_id: '0123456789abcdef0123456789abcdef' } },

  // Feature sets.
  { q: 'list feature sets', agent: 'features', tool: 'FeaturesController_listFeatureSets' },
  { q: "what's in the feature store?", agent: 'features', tool: 'FeaturesController_listFeatureSets' },
  { q: 'show the customer_features feature set', agent: 'features', tool: 'FeaturesController_getFeatureSet', args: { name: 'customer_features' } },
  { q: 'lineage of customer_features version 2', agent: 'features', tool: 'FeaturesController_getFeatureSetLineage', args: { name: 'customer_features', version: 2 } },
  { q: 'show feature sets', agent: 'features', tool: 'FeaturesController_listFeatureSets' },
  { q: 'feast feature sets please', agent: 'features', tool: 'FeaturesController_listFeatureSets' },

  // Out of scope: an honest answer and no action.
  { q: "what's the weather like today?", agent: 'none', tool: null },
  { q: 'drop table customers', agent: 'none', tool: null },
  { q: 'DROP TABLE ml_features.customer_churn;', agent: 'none', tool: null },
  { q: 'tell me a joke', agent: 'none', tool: null },
  { q: 'delete from customers where 1=1', agent: 'none', tool: null },
  { q: 'send an email to my boss', agent: 'none', tool: null },
  { q: 'what is the capital of France', agent: 'none', tool: null },
  { q: 'book a flight to Paris', agent: 'none', tool: null },
  { q: 'truncate table customer_value', agent: 'none', tool: null },
  { q: 'write me a poem about churn', agent: 'none', tool: null },
  { q: 'hello', agent: 'none', tool: null },
  { q: 'asdfghjkl', agent: 'none', tool: null },
  { q: 'what can you do?', agent: 'none', tool: null },
  { q: 'update customers set churned = 0', agent: 'none', tool: null },
  { q: 'insert into customers values (1)', agent: 'none', tool: null },
  { q: 'drop table customer_churn please', agent: 'none', tool: null },
  { q: 'what will bitcoin do tomorrow', agent: 'none', tool: null },
];
