/**
 * The lab's one waiting primitive, as scenarios use it (lab/wait.ts). Pure re-export.
 */
export { pause, waitUntil, type WaitOptions } from '../wait.ts';
