// A helper process the primary forks for a moment (shared-listeners.ts): it sends back every handle it
// receives. Passing a handle over a process's IPC channel duplicates its file descriptor, which is the only way
// a Node program can dup() one.
process.on('message', (message, handle) => process.send?.(message, handle as never));
