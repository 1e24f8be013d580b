import type { CommandDefinition } from '../src/core/command-context.ts';
import { bridgeCommand } from './bridge.ts';
import { cancelCommand } from './cancel.ts';
import { cutCommand } from './cut.ts';
import { extendCommand } from './extend.ts';
import { finalizeCommand } from './finalize.ts';
import { helpCommand } from './help.ts';
import { historyCommand } from './history.ts';
import { refineCommand } from './refine.ts';
import { statusCommand } from './status.ts';
import { storyboardCommand } from './storyboard.ts';
import { varyCommand } from './vary.ts';
import { videoCommand } from './video.ts';
import { whyCommand } from './why.ts';
import { infoCommand } from './info.ts';
import { quotaCommand } from './quota.ts';
import { galleryCommand } from './gallery.ts';
import { modelsCommand } from './models.ts';
import { settingsCommand } from './settings.ts';
import { policyCommand } from './policy.ts';
import { removeCommand } from './remove.ts';
import { blockCommand } from './block.ts';
import { unblockCommand } from './unblock.ts';

/** Every chat command, in the order help lists them; adapters register these names with their platform. */
export const commands: readonly CommandDefinition[] = [
  videoCommand,
  refineCommand,
  varyCommand,
  extendCommand,
  bridgeCommand,
  storyboardCommand,
  cutCommand,
  finalizeCommand,
  statusCommand,
  cancelCommand,
  historyCommand,
  quotaCommand,
  galleryCommand,
  modelsCommand,
  settingsCommand,
  policyCommand,
  removeCommand,
  blockCommand,
  unblockCommand,
  whyCommand,
  infoCommand,
  helpCommand,
];
