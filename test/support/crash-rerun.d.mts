export interface ModuleRecord { project: string; file: string; state: string; passed: number; failed: number; skipped: number; retried: string[] }
export interface RunRecord { modules: ModuleRecord[]; errors: string[] }
export function groupOf(project: string): string;
export function isCrash(msg: string): boolean;
export function afterCrash(rec: RunRecord, engine: string, pending: string[], root: string): { crashed: string[]; rerun: string[]; record: RunRecord };
