import type { OutputDefinition } from '../src/router/output.ts';
import { slackOutput } from './slack.ts';
import { webhookOutput } from './webhook.ts';
import { natsOutput } from './nats.ts';
import { snsOutput } from './sns.ts';
import { kafkaOutput } from './kafka.ts';
import { uiOutput } from './ui.ts';

/** Every output type Peregrine can deliver to. Adding one = a module in outputs/ + one line here. */
export const outputRegistry: readonly OutputDefinition[] = [
  slackOutput,
  webhookOutput,
  natsOutput,
  snsOutput,
  kafkaOutput,
  uiOutput,
] as OutputDefinition[];
