#include "recur_mpi.h"

#include <dlfcn.h>
#include <stdio.h>

// Open MPI's handles are pointers to opaque structs; the predefined ones are the addresses of
// exported globals (ompi_mpi_comm_world, ompi_mpi_float, ...). MPI_IN_PLACE is (void *)1.
typedef void *Handle;
#define IN_PLACE ((void *)1)
#define THREAD_FUNNELED 1

static int (*mpi_init_thread)(int *, char ***, int, int *);
static int (*mpi_initialized)(int *);
static int (*mpi_finalized)(int *);
static int (*mpi_finalize)(void);
static int (*mpi_abort)(Handle, int);
static int (*mpi_comm_rank)(Handle, int *);
static int (*mpi_comm_size)(Handle, int *);
static int (*mpi_allreduce)(const void *, void *, int, Handle, Handle, Handle);
static int (*mpi_bcast)(void *, int, Handle, int, Handle);
static int (*mpi_barrier)(Handle);
static Handle comm_world, type_float, type_double, type_byte, op_sum, op_max;
static int world_rank, world_size = 1;

static int fail(char *error, size_t capacity, const char *what, const char *detail) {
    snprintf(error, capacity, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
    return -1;
}

int recur_mpi_start(const char *name, char *error, size_t capacity) {
    // RTLD_GLOBAL: Open MPI's own plugins (mca_*.so) resolve libmpi's symbols through it.
    void *library = dlopen(name ? name : "libmpi.so.40", RTLD_NOW | RTLD_GLOBAL);
    if (!library && name)
        return fail(error, capacity, "cannot load the MPI library", dlerror());
    if (!library)
        return fail(error, capacity,
                    "Open MPI's libmpi.so.40 is not installed (apt-get install openmpi-bin)", NULL);
#define LOAD(variable, symbol)                                                                     \
    do {                                                                                           \
        *(void **)&variable = dlsym(library, symbol);                                              \
        if (!variable)                                                                             \
            return fail(error, capacity, "libmpi.so.40 is not Open MPI 4 or later (no " symbol ")", \
                        NULL);                                                                     \
    } while (0)
    LOAD(mpi_init_thread, "MPI_Init_thread");
    LOAD(mpi_initialized, "MPI_Initialized");
    LOAD(mpi_finalized, "MPI_Finalized");
    LOAD(mpi_finalize, "MPI_Finalize");
    LOAD(mpi_abort, "MPI_Abort");
    LOAD(mpi_comm_rank, "MPI_Comm_rank");
    LOAD(mpi_comm_size, "MPI_Comm_size");
    LOAD(mpi_allreduce, "MPI_Allreduce");
    LOAD(mpi_bcast, "MPI_Bcast");
    LOAD(mpi_barrier, "MPI_Barrier");
    LOAD(comm_world, "ompi_mpi_comm_world");
    LOAD(type_float, "ompi_mpi_float");
    LOAD(type_double, "ompi_mpi_double");
    LOAD(type_byte, "ompi_mpi_byte");
    LOAD(op_sum, "ompi_mpi_op_sum");
    LOAD(op_max, "ompi_mpi_op_max");
#undef LOAD
    int initialized = 0;
    mpi_initialized(&initialized);
    if (!initialized) {
        // Only the main thread calls MPI; the thread pool's workers never do.
        int provided = 0;
        if (mpi_init_thread(NULL, NULL, THREAD_FUNNELED, &provided) != 0)
            return fail(error, capacity, "MPI_Init_thread failed", NULL);
    }
    if (mpi_comm_rank(comm_world, &world_rank) != 0 || mpi_comm_size(comm_world, &world_size) != 0)
        return fail(error, capacity, "MPI could not tell this process's rank", NULL);
    return 0;
}

int recur_mpi_rank(void) { return world_rank; }
int recur_mpi_size(void) { return world_size; }

int recur_mpi_allreduce_sum_float(float *values, int count) {
    return mpi_allreduce(IN_PLACE, values, count, type_float, op_sum, comm_world);
}

int recur_mpi_allreduce_sum_double(double *values, int count) {
    return mpi_allreduce(IN_PLACE, values, count, type_double, op_sum, comm_world);
}

int recur_mpi_allreduce_max_double(double *values, int count) {
    return mpi_allreduce(IN_PLACE, values, count, type_double, op_max, comm_world);
}

int recur_mpi_broadcast_bytes(void *bytes, int count, int root) {
    return mpi_bcast(bytes, count, type_byte, root, comm_world);
}

int recur_mpi_barrier(void) { return mpi_barrier(comm_world); }

void recur_mpi_finish(void) {
    int finalized = 0;
    if (!mpi_finalize)
        return;
    mpi_finalized(&finalized);
    if (!finalized)
        mpi_finalize();
}

void recur_mpi_abort(int code) {
    if (mpi_abort)
        mpi_abort(comm_world, code);
}
