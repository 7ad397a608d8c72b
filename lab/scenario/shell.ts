/** Shell quoting for the commands a story builds (lab/shell.ts). Pure. */
export { shellQuote } from '../shell.ts';
