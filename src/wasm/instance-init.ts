// The export, in every module our back end compiles (compile.ts), that places an instance's plan data, scratch
// space and heap in a region. A module of its own: the primary, which only checks modules for it, does not
// load the back end (and through it every builtin).
export const INSTANCE_INIT = 'verdict_instance_init';
