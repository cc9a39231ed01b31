import ArgumentParser
import RecurTensor

/// Options every compute-heavy command shares.
struct RuntimeOptions: ParsableArguments {
    @Option(
        help:
            "Worker threads, the calling thread included (default: the cores this process may use, shared among the processes mpirun started on this host)."
    )
    var threads: Int?
    @Flag(
        help:
            "Bind worker threads to CPUs (a few percent faster on an otherwise idle machine; slower beside other work)."
    )
    var pinThreads = false

    func validate() throws {
        if let threads, threads < 1 || threads > 256 {
            throw CLIError("--threads must be between 1 and 256, got \(threads)")
        }
        if pinThreads && Job.localProcesses() > 1 {
            throw CLIError(
                "--pin-threads binds every process's workers to the same CPUs; with several processes per host use mpirun's --bind-to / --map-by instead"
            )
        }
    }

    /// Applies the thread count (`defaultThreads` when --threads is not given) and the pinning
    /// choice to the shared pool and prepares OpenBLAS.
    func apply(defaultThreads: Int? = nil) {
        ThreadPool.shared.setThreadCount(threads ?? defaultThreads ?? Job.defaultThreads)
        ThreadPool.shared.setPinning(pinThreads)
        // With pinned workers (bound to CPUs 1, 2, …) the CLI binds its main thread to CPU 0 so
        // they never share a CPU; without pinning this does nothing.
        ThreadPool.shared.bindCallingThread()
        BLAS.prepare()
    }

    var threadCount: Int { threads ?? Job.defaultThreads }
}
