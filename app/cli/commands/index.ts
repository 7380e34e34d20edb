// Every `kiln` command, one file (or group) each; add a command with one line here.
import type { Command } from '../command.ts';
import { lsCommand, newCommand, renameCommand, rmCommand, showCommand, templatesCommand } from './library.ts';
import { serveCommand } from './serve.ts';

export const commands: Command[] = [
  templatesCommand,
  newCommand,
  lsCommand,
  showCommand,
  renameCommand,
  rmCommand,
  serveCommand,
];
