// Counts heap allocations in the benchmark process by interposing malloc and friends
// (the executable's definitions take precedence over glibc's for every shared library).
#ifndef ALLOCATION_COUNTER_H
#define ALLOCATION_COUNTER_H

/// Allocations (malloc, calloc, realloc, aligned allocations) since the process started.
long allocation_count(void);

/// Prints a backtrace to stderr for every allocation while on (to find stray allocations).
void allocation_trace(int on);

#endif
