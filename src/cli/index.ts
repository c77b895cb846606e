/** CLI: the `tributary` command (bin/tributary.js calls main). */
export { main } from './main.js';
