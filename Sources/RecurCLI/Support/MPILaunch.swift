#if canImport(Glibc)
    import Glibc
#endif

/// What an MPI launcher (`mpirun`, `mpiexec`, `srun --mpi`) told this process about its job.
///
/// This `recur` has no MPI support, so several copies of it started by a launcher would each
/// train its own model over the same run directory. It refuses instead, with one line from the
/// first copy.
enum MPILaunch {
    /// The processes a launcher started for this job: Open MPI's `OMPI_COMM_WORLD_SIZE`, or
    /// `PMI_SIZE` (MPICH, Intel MPI, Slurm's PMI); 1 when no launcher says so.
    static func worldSize(_ variable: (String) -> String? = environment) -> Int {
        for name in ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE"] {
            if let text = variable(name), let size = Int(text), size > 0 { return size }
        }
        return 1
    }

    /// This process's rank in the launcher's job (0 when no launcher says so).
    static func rank(_ variable: (String) -> String? = environment) -> Int {
        for name in ["OMPI_COMM_WORLD_RANK", "PMI_RANK"] {
            if let text = variable(name), let rank = Int(text), rank >= 0 { return rank }
        }
        return 0
    }

    /// The error line for a job of `size` copies, or nil when this is the only process.
    static func refusal(size: Int) -> String? {
        guard size > 1 else { return nil }
        return
            "Error: this recur has no MPI support, but a launcher started \(size) copies of it, which would train \(size) separate models over the same files; run it as one process\n"
    }

    static func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
}
