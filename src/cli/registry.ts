// The command table of `talstream`: one line per command, `export { default as <name> } from './<file>';`
// where the file's default export is a CliCommand (./command.ts). The name is what users type.
export { default as inspect } from './inspect';
export { default as encode } from './encode';
export { default as ask } from './ask';
export { default as serve } from './serve';
