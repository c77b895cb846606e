/** CLI: the `tributary` command. */
export { buildProgram, main } from './main.js';
