// Every `kiln` command, one file (or group) each; add a command with one line here.
import type { Command } from '../command.ts';
import { lsCommand, newCommand, renameCommand, rmCommand, showCommand, templatesCommand } from './library.ts';
import { serveCommand } from './serve.ts';
import { buildCommand, importCommand } from './build.ts';
import { compileCommand } from './compile.ts';
import { captureCommand } from './capture.ts';
import {
  killCommand,
  logsCommand,
  pauseCommand,
  psCommand,
  restartCommand,
  resumeCommand,
  runCommand,
  statsCommand,
  stopCommand,
} from './machines.ts';

export const commands: Command[] = [
  templatesCommand,
  newCommand,
  lsCommand,
  showCommand,
  renameCommand,
  rmCommand,
  buildCommand,
  importCommand,
  compileCommand,
  serveCommand,
  runCommand,
  psCommand,
  logsCommand,
  statsCommand,
  stopCommand,
  killCommand,
  pauseCommand,
  resumeCommand,
  restartCommand,
  captureCommand,
];
