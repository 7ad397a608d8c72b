/**
 * The lab's error hierarchy. Every error carries a stable `code` and the process exit code
 * the CLI maps it to:
 *   2  bad input (config, usage, no lab running): names the field and the fix
 *   1  a verdict failed (an assertion about the network did not hold)
 *   70 breakage: the lab could not do what it had to (a bug or a broken host)
 */

export abstract class LabError extends Error {
  abstract readonly code: string;
  abstract readonly exitCode: number;
}

/** A config value is wrong. Raised before anything is created. */
export class ConfigError extends LabError {
  readonly code = 'E_CONFIG';
  readonly exitCode = 2;
  readonly field: string;
  readonly value: unknown;
  readonly fix: string;
  constructor(field: string, value: unknown, problem: string, fix: string) {
    super(`${field}: ${problem} (got ${JSON.stringify(value)}). Fix: ${fix}`);
    this.name = 'ConfigError';
    this.field = field;
    this.value = value;
    this.fix = fix;
  }
}

/** The command line itself is wrong (unknown verb, flag or node). */
export class UsageError extends LabError {
  readonly code = 'E_USAGE';
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The lab is not in the state the verb needs (e.g. `test` with no lab up). */
export class LabStateError extends LabError {
  readonly code = 'E_STATE';
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'LabStateError';
  }
}

/** The host cannot run the lab (not root, a package missing and not installable, …). */
export class HostError extends LabError {
  readonly code = 'E_HOST';
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'HostError';
  }
}

/** The plan would touch the machine's own network: refused before anything is created. */
export class SafetyError extends LabError {
  readonly code = 'E_SAFETY';
  readonly exitCode = 2;
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Refusing a topology that could reach the machine's real network:\n${problems.map((p) => `- ${p}`).join('\n')}\nFix: keep every link inside the lab's namespaces (names and lab.name as documented).`);
    this.name = 'SafetyError';
    this.problems = problems;
  }
}

/** An assertion about the network did not hold: a failed verdict, not a broken lab. */
export class VerdictError extends LabError {
  readonly code = 'E_VERDICT';
  readonly exitCode = 1;
  readonly expected: string;
  readonly seen: string;
  constructor(what: string, expected: string, seen: string) {
    super(`${what}: expected ${expected}, saw ${seen}`);
    this.name = 'VerdictError';
    this.expected = expected;
    this.seen = seen;
  }
}

/** A subprocess failed, timed out or was killed. */
export class CommandError extends LabError {
  readonly code = 'E_COMMAND';
  readonly exitCode = 70;
  readonly command: string;
  readonly commandExitCode: number | undefined;
  readonly signal: string | undefined;
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
  constructor(fields: {
    command: string;
    exitCode: number | undefined;
    signal: string | undefined;
    timedOut: boolean;
    timeoutMs?: number;
    stdout: string;
    stderr: string;
    durationMs: number;
  }) {
    const what = fields.timedOut
      ? `timed out after ${fields.timeoutMs ?? fields.durationMs} ms`
      : fields.signal
        ? `killed by ${fields.signal}`
        : `exit code ${fields.exitCode}`;
    const tail = stderrTail(fields.stderr || fields.stdout);
    super(`Command failed with ${what}: ${fields.command}${tail ? `\n${tail}` : ''}`);
    this.name = 'CommandError';
    this.command = fields.command;
    this.commandExitCode = fields.exitCode;
    this.signal = fields.signal;
    this.timedOut = fields.timedOut;
    this.stdout = fields.stdout;
    this.stderr = fields.stderr;
    this.durationMs = fields.durationMs;
  }
}

/** Something the lab waited for did not happen in time; says what it saw last. */
export class WaitTimeoutError extends LabError {
  readonly code = 'E_WAIT';
  readonly exitCode = 70;
  constructor(what: string, timeoutMs: number, lastSeen: string) {
    super(`Timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${lastSeen}`);
    this.name = 'WaitTimeoutError';
  }
}

/** Teardown kept going past failures; this reports them together. */
export class TeardownError extends LabError {
  readonly code = 'E_TEARDOWN';
  readonly exitCode = 70;
  readonly failures: readonly Error[];
  constructor(failures: readonly Error[]) {
    super(`Teardown finished with ${failures.length} failure(s):\n` + failures.map((f) => `- ${f.message}`).join('\n'));
    this.name = 'TeardownError';
    this.failures = failures;
  }
}

/** Any other breakage the lab detects itself. */
export class LabBrokenError extends LabError {
  readonly code = 'E_BROKEN';
  readonly exitCode = 70;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LabBrokenError';
  }
}

/** The user stopped the run (Ctrl-C, SIGTERM); what it had started was cleaned up. */
export class InterruptedError extends LabError {
  readonly code = 'E_INTERRUPTED';
  readonly exitCode = 130;
  constructor(message: string) {
    super(message);
    this.name = 'InterruptedError';
  }
}

export function stderrTail(text: string, lines = 8): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

/** Maps any thrown value to the exit code the CLI should use. */
export function exitCodeOf(error: unknown): number {
  return error instanceof LabError ? error.exitCode : 70;
}

/** The first line of an error's message (for one-line notes). */
export function errorLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}
