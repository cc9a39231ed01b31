// Open MPI, loaded at run time.
//
// Recur never links libmpi: a process started by `mpirun` with more than one rank loads Open
// MPI's libmpi.so.40 with dlopen (as MLX does), so one binary runs alone without MPI installed
// and as one rank of a job where it is. Only the handful of calls data-parallel training needs
// are exposed; Swift sees plain functions (Open MPI's MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ... are
// macros over addresses of globals, which Swift cannot import).
#ifndef RECUR_MPI_H
#define RECUR_MPI_H

#include <stddef.h>

/// Loads libmpi (`library`, or Open MPI's libmpi.so.40 when NULL) and initializes MPI. Returns 0
/// on success; otherwise writes one line saying why into `error` (at most `capacity` bytes,
/// NUL-terminated) and returns -1.
int recur_mpi_start(const char *library, char *error, size_t capacity);

/// This process's rank in MPI_COMM_WORLD (after a successful start).
int recur_mpi_rank(void);

/// The number of processes in MPI_COMM_WORLD (after a successful start).
int recur_mpi_size(void);

/// In-place sum over every process of `count` floats. Returns MPI's error code (0 on success).
int recur_mpi_allreduce_sum_float(float *values, int count);

/// In-place sum over every process of `count` doubles. Returns MPI's error code (0 on success).
int recur_mpi_allreduce_sum_double(double *values, int count);

/// In-place maximum over every process of `count` doubles. Returns MPI's error code.
int recur_mpi_allreduce_max_double(double *values, int count);

/// Copies `count` bytes from process `root` to every process. Returns MPI's error code.
int recur_mpi_broadcast_bytes(void *bytes, int count, int root);

/// Waits until every process has called it. Returns MPI's error code.
int recur_mpi_barrier(void);

/// Ends MPI (every process must call it before exiting normally).
void recur_mpi_finish(void);

/// Ends the whole job with `code` (a process that cannot go on and must not leave others waiting).
void recur_mpi_abort(int code);

#endif
